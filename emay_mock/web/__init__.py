"""aiohttp: one module per endpoint family, plus the control API and the UI. Thin handlers."""
