"""What a page does: its profile (Via or plain Datastar), its seed and streams, bindings, gesture
flows, requests, navigations (sans-IO)."""
