"""Ed25519 key files: created on first start (in the data directory, or at a path from the
settings), then read by every instance and command that shares the file. The history's
sealing key (crdt.seals) and the server's token-signing key are such files.

With a master key (SINOPIA_KEY_URL, crdt.keyring) a key file holds the private key wrapped
by it (envelope encryption, as the data keys are): whoever copies the data directory
without the master key can neither forge seals nor sign sessions. The file is then JSON:

    {"format": "sinopia-wrapped-ed25519-v1", "key_id": ..., "master_id": ..., "wrapped": b64}

A plain PEM file found while a master key is set (a server that ran without one) is
wrapped in place on first start. Rotating the master key rewraps the files too (`rewrap`).
"""

from __future__ import annotations

import base64
import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
)

from .keys import MasterKeyError

if TYPE_CHECKING:
    from .keyring import Keyring

log = logging.getLogger("sinopia.keys")

FORMAT = "sinopia-wrapped-ed25519-v1"
# The scope a key file's private key is wrapped under (bound into the wrapping, so a
# wrapped key file cannot be passed off as a workspace's data key or the other way round).
SCOPE = "~key-file"


def load_or_create(path: Path, keyring: Keyring | None = None) -> Ed25519PrivateKey:
    """The key in `path`, made there if there is none; wrapped by `keyring`'s master key
    when one is given (a plain file is wrapped on the way)."""
    if not path.exists():
        key = Ed25519PrivateKey.generate()
        if _write_new(path, _file_bytes(key, keyring)):
            return key
    data = path.read_bytes()
    if _is_wrapped(data):
        if keyring is None:
            raise MasterKeyError(
                f"{path} is wrapped by master key {_master_of(data, path)}: set "
                "SINOPIA_KEY_URL to that key"
            )
        return _unwrap(data, path, keyring)
    key = _from_pem(data, path)
    if keyring is not None:
        # Migration: a key made before the server had a master key gets wrapped now.
        _replace(path, _file_bytes(key, keyring))
        log.warning("wrapped %s with master key %s", path, keyring.master_id)
    return key


def rewrap(path: Path, keyring: Keyring) -> bool:
    """Rewrap the key file under `keyring`'s master key (a rotation; `keyring` also holds
    the retired key); whether the file changed. A plain file is wrapped."""
    if not path.exists():
        return False
    data = path.read_bytes()
    if _is_wrapped(data):
        if json.loads(data)["master_id"] == keyring.master_id:
            return False
        key = _unwrap(data, path, keyring)
    else:
        key = _from_pem(data, path)
    _replace(path, _file_bytes(key, keyring))
    return True


def _from_pem(data: bytes, path: Path) -> Ed25519PrivateKey:
    key = load_pem_private_key(data, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return key


def _is_wrapped(data: bytes) -> bool:
    return data.lstrip().startswith(b"{")


def _master_of(data: bytes, path: Path) -> str:
    try:
        return str(json.loads(data)["master_id"])
    except (ValueError, KeyError, TypeError):
        raise ValueError(f"{path} is not a Sinopia key file") from None


def _key_id(public: bytes) -> str:
    from cryptography.hazmat.primitives.hashes import SHA256, Hash

    digest = Hash(SHA256())
    digest.update(public)
    return digest.finalize()[:8].hex()


def _file_bytes(key: Ed25519PrivateKey, keyring: Keyring | None) -> bytes:
    if keyring is None:
        return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    key_id = _key_id(public)
    wrapped = keyring.wrap_raw(SCOPE, key_id, raw)
    record = {
        "format": FORMAT,
        "key_id": key_id,
        "master_id": keyring.master_id,
        "wrapped": base64.b64encode(wrapped).decode(),
    }
    return json.dumps(record, indent=1).encode() + b"\n"


def _unwrap(data: bytes, path: Path, keyring: Keyring) -> Ed25519PrivateKey:
    try:
        record = json.loads(data)
        if record.get("format") != FORMAT:
            raise ValueError(f"{path}: unknown key file format {record.get('format')!r}")
        key_id, master_id = str(record["key_id"]), str(record["master_id"])
        wrapped = base64.b64decode(record["wrapped"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{path} is not a readable Sinopia key file: {exc}") from None
    raw = keyring.unwrap_raw(SCOPE, key_id, master_id, wrapped, what=str(path))
    return Ed25519PrivateKey.from_private_bytes(raw)


def _write_new(path: Path, content: bytes) -> bool:
    """Write `content` to `path` if it does not exist; False if another process did first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # Readable by the server's user only; written under a temporary name and linked so
    # two instances starting at once never read a half-written key.
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(content)
    try:
        os.link(tmp, path)
    except FileExistsError:
        return False
    finally:
        tmp.unlink()
    return True


def _replace(path: Path, content: bytes) -> None:
    """Overwrite `path` atomically (readers see the old file or the new one, whole)."""
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(content)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
