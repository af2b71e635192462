"""The I/O shell: client, sessions, tabs, waits, recordings, HTTP, the live server."""
