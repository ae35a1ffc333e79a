"""Envelope encryption of data at rest: one data key per workspace, wrapped by a master key.

Every stored payload (an update, a checkpoint, a spooled update, a directory secret) is
AES-256-GCM encrypted with its workspace's data key. The associated data binds each
ciphertext to where it belongs (what kind of record, which document, which sequence
number), so a block copied onto another row, document or position fails to decrypt
instead of being read as that row's content.

A ciphertext starts with a version byte and the id of the data key that sealed it, so a
reader knows which key opens it, and a block sealed by a destroyed key (a deleted
workspace) is told apart from damage. The data keys live beside the data they protect
(the store's `data_keys`), wrapped: whoever holds the database and not the master key
reads nothing. Rotating the master key rewraps those few records and rewrites no data;
deleting a workspace destroys its data key, and with it every copy of its data
(crypto-shredding: backups and free pages included).

Hashes and seals are computed over the plaintext, before encryption: a history verifies
the same encrypted or not, and bundles exported from it verify offline.
"""

from __future__ import annotations

import os
import struct
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .keys import MasterKey, MasterKeyError, open_master_key
from .store import StoreError

VERSION = 1
KEY_ID_BYTES = 8
NONCE_BYTES = 12
# What encryption adds to each payload: version, key id, nonce and the 16-byte GCM tag.
OVERHEAD = 1 + KEY_ID_BYTES + NONCE_BYTES + 16
# Nonces are random (96 bits): NIST's bound for one key is 2**32 encryptions, which a
# workspace typing 100 updates a second without pause reaches after 16 months. One key
# per workspace is far from it.


class Undecryptable(StoreError):
    """A stored payload does not decrypt: damaged, moved, or sealed by a destroyed key."""


@dataclass(frozen=True, slots=True)
class WrappedKey:
    """A data key as it is stored: encrypted by the master key `master_id`."""

    scope: str  # the workspace it protects (or "~directory", "~spool")
    key_id: str  # 16 hex digits, named in the header of every ciphertext it seals
    master_id: str
    wrapped: bytes
    created_ms: int


def _field(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def context(kind: str, doc: str, seq: int = 0, extra: str = "") -> bytes:
    """The associated data of one payload: where it belongs (length-prefixed fields, so no
    two places encode alike)."""
    return (
        b"sinopia-at-rest-v1"
        + _field(kind.encode())
        + _field(doc.encode())
        + struct.pack(">Q", seq)
        + _field(extra.encode())
    )


def workspace_of(doc: str) -> str:
    return doc.split("/", 1)[0]


def _wrap_context(scope: str, key_id: str) -> bytes:
    return _field(scope.encode()) + _field(key_id.encode())


class Keyring:
    """The data keys a process has unwrapped, by id and by scope.

    Encryption and decryption are synchronous and cheap (stores call them on their
    threads); making, loading and rewrapping keys call the master key provider.
    """

    def __init__(self, master: MasterKey, retired: Iterable[MasterKey] = ()) -> None:
        """`master` wraps new data keys; `retired` ones (during a rotation) still open
        the keys they wrapped."""
        self.master = master
        self._masters = {m.key_id: m for m in (*retired, master)}
        self._keys: dict[bytes, AESGCM] = {}
        self._scopes: dict[bytes, str] = {}
        self._current: dict[str, bytes] = {}
        self._lock = threading.Lock()

    @property
    def master_id(self) -> str:
        return self.master.key_id

    def new_key(self, scope: str) -> WrappedKey:
        """A fresh data key for `scope`, wrapped, to be stored (then `add`ed)."""
        key_id = os.urandom(KEY_ID_BYTES).hex()
        data_key = AESGCM.generate_key(bit_length=256)
        wrapped = self.master.wrap(data_key, _wrap_context(scope, key_id))
        return WrappedKey(scope, key_id, self.master_id, wrapped, time.time_ns() // 1_000_000)

    def add(self, key: WrappedKey) -> None:
        """Unwrap a stored data key and use it for its scope."""
        data_key = self._unwrap(key)
        raw = bytes.fromhex(key.key_id)
        with self._lock:
            self._keys[raw] = AESGCM(data_key)
            self._scopes[raw] = key.scope
            self._current[key.scope] = raw

    def add_all(self, keys: Iterable[WrappedKey]) -> None:
        for key in keys:
            self.add(key)

    def has(self, scope: str) -> bool:
        return scope in self._current

    def knows(self, blob: bytes) -> bool:
        """Whether the key that sealed `blob` is loaded here."""
        return blob[1 : 1 + KEY_ID_BYTES] in self._keys

    def forget(self, scope: str) -> None:
        """Drop every data key of `scope` from memory (the workspace was deleted)."""
        with self._lock:
            self._current.pop(scope, None)
            for raw in [r for r, s in self._scopes.items() if s == scope]:
                del self._keys[raw]
                del self._scopes[raw]

    def encrypt(self, scope: str, aad: bytes, plaintext: bytes) -> bytes:
        raw = self._current.get(scope)
        if raw is None:
            raise StoreError(f"no data key for {scope!r} (the store did not make one)")
        nonce = os.urandom(NONCE_BYTES)
        header = bytes((VERSION,)) + raw + nonce
        return header + self._keys[raw].encrypt(nonce, plaintext, aad)

    def decrypt(self, aad: bytes, blob: bytes) -> bytes:
        if len(blob) < OVERHEAD or blob[0] != VERSION:
            raise Undecryptable("not an encrypted record (unencrypted data, or damaged)")
        raw = blob[1 : 1 + KEY_ID_BYTES]
        aead = self._keys.get(raw)
        if aead is None:
            raise Undecryptable(
                f"sealed by data key {raw.hex()}, which is not in the store "
                "(its workspace was deleted)"
            )
        nonce = blob[1 + KEY_ID_BYTES : 1 + KEY_ID_BYTES + NONCE_BYTES]
        try:
            return aead.decrypt(nonce, blob[1 + KEY_ID_BYTES + NONCE_BYTES :], aad)
        except InvalidTag:
            raise Undecryptable("a stored record failed authentication: damaged or moved") from None

    def _unwrap(self, key: WrappedKey) -> bytes:
        master = self._masters.get(key.master_id)
        if master is None:
            raise MasterKeyError(
                f"the data is encrypted with master key {key.master_id}; SINOPIA_KEY_URL "
                f"gives {self.master_id}: point it at the file of key {key.master_id}"
            )
        try:
            return master.unwrap(key.wrapped, _wrap_context(key.scope, key.key_id))
        except MasterKeyError:
            raise MasterKeyError(
                f"master key {master.key_id} does not open the data key of {key.scope!r} "
                "(the key record is damaged, or the key file is not the one it claims)"
            ) from None

    def wrap_raw(self, scope: str, key_id: str, secret: bytes) -> bytes:
        """A small secret other than a data key (a signing key file, crdt.keyfiles)
        wrapped by the master key, bound to `scope` and `key_id`."""
        return self.master.wrap(secret, _wrap_context(scope, key_id))

    def unwrap_raw(
        self, scope: str, key_id: str, master_id: str, wrapped: bytes, what: str
    ) -> bytes:
        """What `wrap_raw` wrapped (by this master key or a retired one); `what` names
        it in the error."""
        master = self._masters.get(master_id)
        if master is None:
            raise MasterKeyError(
                f"{what} is wrapped by master key {master_id}; SINOPIA_KEY_URL gives "
                f"{self.master_id}: point it at the file of key {master_id}"
            )
        try:
            return master.unwrap(wrapped, _wrap_context(scope, key_id))
        except MasterKeyError:
            raise MasterKeyError(
                f"master key {master.key_id} does not open {what} (damaged, or the key "
                "file is not the one it claims)"
            ) from None

    def rewrap(self, key: WrappedKey) -> WrappedKey:
        """The same data key, wrapped by this keyring's master key (a rotation)."""
        if key.master_id == self.master_id:
            return key
        context = _wrap_context(key.scope, key.key_id)
        wrapped = self.master.wrap(self._unwrap(key), context)
        return WrappedKey(key.scope, key.key_id, self.master_id, wrapped, key.created_ms)


# The kinds of record a payload can be, named in its associated data.
ENTRY = "entry"
CHECKPOINT = "checkpoint"
VERSION_NOTE = "version-note"
SPOOLED = "spooled"


def seal(
    keyring: Keyring | None, kind: str, doc: str, seq: int, data: bytes, extra: str = ""
) -> bytes:
    """`data` as stored: encrypted with its workspace's key, or as it is without a keyring."""
    if keyring is None:
        return data
    return keyring.encrypt(workspace_of(doc), context(kind, doc, seq, extra), data)


def unseal(
    keyring: Keyring | None, kind: str, doc: str, seq: int, blob: bytes, extra: str = ""
) -> bytes:
    if keyring is None:
        return blob
    return keyring.decrypt(context(kind, doc, seq, extra), blob)


def rotate(keyring: Keyring, keys: Iterable[WrappedKey]) -> list[WrappedKey]:
    """The keys not yet under the keyring's master key, rewrapped by it."""
    return [keyring.rewrap(k) for k in keys if k.master_id != keyring.master_id]


def open_keyring(url: str | None) -> Keyring | None:
    """The keyring of SINOPIA_KEY_URL, or None: data at rest is then not encrypted."""
    return Keyring(open_master_key(url)) if url else None
