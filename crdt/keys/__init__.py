"""Master keys: what wraps the per-workspace data keys (envelope encryption, crdt.keyring).

A provider is one module here defining `schemes` (the URL schemes it serves) and
`from_url(url) -> MasterKey`: `file:///path/master.key` today; a KMS or a Vault transit
engine is one more module. The master key never encrypts data itself, only the small data
keys, so a remote provider is called when a data key is made, first loaded or rewrapped,
never per update. Calls are synchronous: callers on the event loop run them in a thread.
"""

from __future__ import annotations

import importlib
import pkgutil
from abc import ABC, abstractmethod
from urllib.parse import urlsplit

from ..store import StoreError


class MasterKeyError(StoreError):
    """The master key is missing or unreadable, or is not the one the data was wrapped
    with. The message names keys by fingerprint only, never by their bytes."""


class MasterKey(ABC):
    """One master key: wraps and unwraps data keys, bound to a context."""

    # A fingerprint that names the key in stored records, errors and logs (never the key).
    key_id: str

    @abstractmethod
    def wrap(self, data_key: bytes, context: bytes) -> bytes:
        """`data_key` encrypted so that only this master key, given `context`, opens it."""

    @abstractmethod
    def unwrap(self, wrapped: bytes, context: bytes) -> bytes:
        """The data key; `MasterKeyError` if this key (or the context) does not open it."""

    def describe(self) -> str:
        """Where the key is, for logs (never the key)."""
        return f"{type(self).__name__} {self.key_id}"


def open_master_key(url: str) -> MasterKey:
    """The master key named by `url` (SINOPIA_KEY_URL), e.g. `file:///etc/sinopia/master.key`."""
    scheme = urlsplit(url).scheme
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        if scheme in getattr(module, "schemes", ()):
            key: MasterKey = module.from_url(url)
            return key
    raise MasterKeyError(
        f"no key provider for {scheme or url!r}: SINOPIA_KEY_URL is file:///path/master.key "
        "(make one with `sinopia admin key create FILE`)"
    )


__all__ = ["MasterKey", "MasterKeyError", "open_master_key"]
