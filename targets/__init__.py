"""vt's SDK targets: small servers built on the official Datastar SDKs (see targets/README.md)."""
