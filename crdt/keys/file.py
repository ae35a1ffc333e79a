"""A master key in a file: `file:///path/master.key`, made by `sinopia admin key create`.

The file is one line, `sinopia-master-key-v1 ` and 32 random bytes in base64, readable by
the server's user only. Keep a copy somewhere safe and apart from the backups: without it
nothing encrypted can be read, and with it (and a backup) everything can.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
import stat
from pathlib import Path
from urllib.parse import unquote, urlsplit

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from . import MasterKey, MasterKeyError

schemes = ("file",)

log = logging.getLogger("sinopia.keys")

PREFIX = "sinopia-master-key-v1 "
KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # AES-GCM's standard nonce


def fingerprint(key: bytes) -> str:
    """A name for a master key that tells nothing of it (a hash of a 256-bit random key)."""
    return "mk-" + hashlib.sha256(b"sinopia-master-key-id\0" + key).hexdigest()[:16]


class FileMasterKey(MasterKey):
    def __init__(self, key: bytes, path: Path | None = None) -> None:
        if len(key) != KEY_BYTES:
            raise MasterKeyError(f"a master key is {KEY_BYTES} bytes")
        self._aead = AESGCM(key)
        self.key_id = fingerprint(key)
        self.path = path

    def describe(self) -> str:
        return f"file:{self.path} ({self.key_id})"

    def wrap(self, data_key: bytes, context: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, data_key, b"sinopia-wrap-v1\0" + context)

    def unwrap(self, wrapped: bytes, context: bytes) -> bytes:
        nonce, sealed = wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:]
        try:
            return self._aead.decrypt(nonce, sealed, b"sinopia-wrap-v1\0" + context)
        except InvalidTag:
            raise MasterKeyError(f"master key {self.key_id} does not open this data key") from None


def create(path: Path) -> FileMasterKey:
    """Make a new master key file (mode 0600); never overwrites one."""
    key = os.urandom(KEY_BYTES)
    line = (PREFIX + base64.b64encode(key).decode() + "\n").encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: an existing file (perhaps the key the data needs) is never replaced.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(line)
        f.flush()
        os.fsync(f.fileno())
    return FileMasterKey(key, path)


def load(path: Path) -> FileMasterKey:
    try:
        text = path.read_text(encoding="ascii")
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise MasterKeyError(f"there is no master key file {path} (SINOPIA_KEY_URL)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MasterKeyError(f"cannot read the master key file {path}: {exc}") from None
    if not text.startswith(PREFIX):
        raise MasterKeyError(f"{path} is not a Sinopia master key file")
    try:
        key = base64.b64decode(text[len(PREFIX) :].strip(), validate=True)
    except (binascii.Error, ValueError):
        raise MasterKeyError(f"{path} is damaged: not a Sinopia master key") from None
    if len(key) != KEY_BYTES:
        raise MasterKeyError(f"{path} is damaged: not a Sinopia master key")
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("the master key file %s is readable by other users: chmod 600 it", path)
    return FileMasterKey(key, path)


def from_url(url: str) -> FileMasterKey:
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost") or not parts.path:
        raise MasterKeyError("a master key file URL is file:///absolute/path/master.key")
    return load(Path(unquote(parts.path)))
