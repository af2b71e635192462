"""The wire: SSE decoding, the typed Datastar/Via events, and the feed every reader uses
(sans-IO)."""
