"""The sync API: the async classes run in a background event loop, one twin per member."""
