"""The page a tab would show: DOM, morph, patching, display attributes, signals, scripts
(sans-IO)."""
