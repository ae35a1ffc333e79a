"""Bus backends, one module each, chosen by the URL's scheme (`memory:`, `redis://...`).

A backend module defines `schemes` and `from_url(url, instance) -> Bus`.
"""

from __future__ import annotations

import importlib
import pkgutil
from urllib.parse import urlsplit

from ..bus import Bus


def open_bus(url: str, instance: str) -> Bus:
    scheme = urlsplit(url).scheme
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        if scheme in getattr(module, "schemes", ()):
            return module.from_url(url, instance)
    raise ValueError(f"no bus backend for URL scheme {scheme!r}")
