"""Store backends, one module each, chosen by the URL's scheme.

A backend module defines `schemes` (the URL schemes it serves) and
`from_url(url, data_dir, keyring) -> Store`. Adding a backend is adding a module here.
With a keyring (crdt.keyring), a backend encrypts every payload it stores.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from urllib.parse import urlsplit

from ..keyring import Keyring
from ..store import Store


def open_store(url: str, data_dir: Path, keyring: Keyring | None = None) -> Store:
    """The (not yet opened) store for `url`, e.g. `sqlite:` or `mongodb://host/db`."""
    scheme = urlsplit(url).scheme
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        if scheme in getattr(module, "schemes", ()):
            store: Store = module.from_url(url, data_dir, keyring)
            return store
    raise ValueError(
        f"no store for {url.split('?')[0]!r}: the store URL is sqlite: (or "
        "sqlite:///path/file.db) or mongodb://host/db"
    )
