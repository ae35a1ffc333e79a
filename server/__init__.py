"""The ASGI server: routes, websocket endpoint, settings, CLI and wiring."""
