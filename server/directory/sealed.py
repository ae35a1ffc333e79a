"""The directory's secrets encrypted at rest: a wrapper around any backend.

What is personal or secret in a record is sealed (AES-256-GCM, the directory's own data
key, crdt.keyring) into one `sealed` field: a user's e-mail address, display name and
external identity (OpenID Connect subject), a session's CSRF secret, and an audit event's
target, details and network address. The fields looked up by value (e-mail, subject) keep
a keyed hash (HMAC-SHA256, a "blind index") in their place, so lookups still go to an
index but the database holds no address. Token and sign-in link secrets were only ever
kept as hashes; share links are signed tokens that are never stored. User names, roles,
workspace names and titles stay readable: they name things in URLs and history.

Without a keyring the wrapper only checks that the directory is not an encrypted one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from dataclasses import replace
from typing import Any

from crdt.keyring import Keyring, WrappedKey, context
from crdt.keys import MasterKeyError
from server.directory import AuditEvent, Directory, Exists

# A scope no workspace can have (workspace names start with a letter or digit).
SCOPE = "~directory"
KEY_KIND, KEY_ID = "data_key", SCOPE
RECORD, EVENT, BLIND = "directory-record", "directory-event", "directory-blind-index"

# Per kind of record: the fields sealed, and of those, the ones looked up by value.
SEALED: dict[str, tuple[str, ...]] = {
    "user": ("email", "display_name", "subject"),
    "session": ("csrf",),
}
LOOKED_UP: dict[str, tuple[str, ...]] = {"user": ("email", "subject")}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class SealedDirectory(Directory):
    def __init__(self, inner: Directory, keyring: Keyring | None) -> None:
        self.inner = inner
        self.keyring = keyring
        self._blind_key = b""

    def __getattr__(self, name: str) -> Any:
        # Whatever else the backend offers (its path, its database), as it is.
        if name == "inner":  # not set yet (a copy being made): no recursion
            raise AttributeError(name)
        return getattr(self.inner, name)

    def describe(self) -> str:
        return self.inner.describe()

    async def open(self) -> None:
        await self.inner.open()
        try:
            await self._open_key()
        except BaseException:
            await self.inner.close()
            raise

    async def _open_key(self) -> None:
        record = await self.inner._get(KEY_KIND, KEY_ID)
        keyring = self.keyring
        if keyring is None:
            if record is not None:
                raise MasterKeyError(
                    f"the directory {self.inner.describe()} is encrypted (master key "
                    f"{record['master_id']}): set SINOPIA_KEY_URL to that key's file"
                )
            return
        if record is None:
            key = keyring.new_key(SCOPE)
            keyring.add(key)
            blind = keyring.encrypt(SCOPE, context(BLIND, SCOPE), os.urandom(32))
            record = {
                "scope": key.scope,
                "key_id": key.key_id,
                "master_id": key.master_id,
                "wrapped": _b64(key.wrapped),
                "created_ms": key.created_ms,
                "blind": _b64(blind),
            }
            try:
                await self.inner._insert(KEY_KIND, KEY_ID, record)
            except Exists:  # another process made it first: use theirs
                record = await self.inner._get(KEY_KIND, KEY_ID) or record
        wrapped = _wrapped(record)
        keyring.add(wrapped)
        self._blind_key = keyring.decrypt(context(BLIND, SCOPE), base64.b64decode(record["blind"]))
        await self._seal_plain_records()

    async def _seal_plain_records(self) -> None:
        # A directory made before the key was set (`sinopia admin user add` run without
        # SINOPIA_KEY_URL): its few users and sessions are sealed now, so that lookups by
        # blind index find them.
        for kind in SEALED:
            for data in await self.inner._all(kind):
                if "sealed" not in data:
                    await self.inner._put(kind, data["id"], self._seal(kind, data))

    async def close(self) -> None:
        await self.inner.close()

    # -- key record (rotation) ---------------------------------------------------------

    async def data_keys(self) -> list[WrappedKey]:
        record = await self.inner._get(KEY_KIND, KEY_ID)
        return [_wrapped(record)] if record else []

    async def put_data_keys(self, keys: list[WrappedKey]) -> None:
        record = await self.inner._get(KEY_KIND, KEY_ID)
        for key in keys:
            if record and key.key_id == record["key_id"]:
                changed = {**record, "master_id": key.master_id, "wrapped": _b64(key.wrapped)}
                await self.inner._put(KEY_KIND, KEY_ID, changed)

    # -- sealing -----------------------------------------------------------------------

    def _blind(self, kind: str, key: str, value: Any) -> Any:
        if value is None or self.keyring is None or key not in LOOKED_UP.get(kind, ()):
            return value
        message = f"{kind}\0{key}\0{value}".encode()
        return "h:" + hmac.new(self._blind_key, message, hashlib.sha256).hexdigest()[:40]

    def _seal(self, kind: str, data: dict[str, Any]) -> dict[str, Any]:
        fields = SEALED.get(kind)
        if self.keyring is None or not fields:
            return data
        secret = {f: data.get(f) for f in fields}
        out = {**data, **{f: self._blind(kind, f, data.get(f)) for f in fields}}
        for f in fields:
            if f not in LOOKED_UP.get(kind, ()):
                out[f] = None
        aad = context(RECORD, kind, 0, str(data.get("id", "")))
        sealed = self.keyring.encrypt(SCOPE, aad, json.dumps(secret).encode())
        out["sealed"] = _b64(sealed)
        return out

    def _unseal(self, kind: str, data: dict[str, Any] | None) -> dict[str, Any] | None:
        if data is None or self.keyring is None or "sealed" not in data:
            return data
        aad = context(RECORD, kind, 0, str(data.get("id", "")))
        secret = json.loads(self.keyring.decrypt(aad, base64.b64decode(data["sealed"])))
        out = {k: v for k, v in data.items() if k != "sealed"}
        out.update(secret)
        return out

    # -- the primitives, through the seal ----------------------------------------------

    async def generation(self) -> int:
        return await self.inner.generation()

    async def _get(self, kind: str, id: str) -> dict[str, Any] | None:
        return self._unseal(kind, await self.inner._get(kind, id))

    async def _find(self, kind: str, key: str, value: Any) -> list[dict[str, Any]]:
        found = await self.inner._find(kind, key, self._blind(kind, key, value))
        return [d for d in (self._unseal(kind, d) for d in found) if d is not None]

    async def _all(self, kind: str) -> list[dict[str, Any]]:
        found = await self.inner._all(kind)
        return [d for d in (self._unseal(kind, d) for d in found) if d is not None]

    async def _insert(self, kind: str, id: str, data: dict[str, Any]) -> None:
        await self.inner._insert(kind, id, self._seal(kind, data))

    async def _put(self, kind: str, id: str, data: dict[str, Any]) -> dict[str, Any] | None:
        return self._unseal(kind, await self.inner._put(kind, id, self._seal(kind, data)))

    async def _claim(self, kind: str, id: str, unset: str, data: dict[str, Any]) -> bool:
        return await self.inner._claim(kind, id, unset, self._seal(kind, data))

    async def _delete(self, kind: str, id: str) -> dict[str, Any] | None:
        return self._unseal(kind, await self.inner._delete(kind, id))

    async def add_event(self, event: AuditEvent) -> AuditEvent:
        if self.keyring is None:
            return await self.inner.add_event(event)
        secret = {"target": event.target, "detail": event.detail, "address": event.address}
        aad = context(EVENT, event.action, event.time_ms, event.actor)
        sealed = self.keyring.encrypt(SCOPE, aad, json.dumps(secret).encode())
        stored = await self.inner.add_event(
            replace(event, target="", detail={"sealed": _b64(sealed)}, address=None)
        )
        return replace(event, seq=stored.seq)

    async def events(
        self, workspace: str | None, *, limit: int = 100, before: int | None = None
    ) -> list[AuditEvent]:
        found = await self.inner.events(workspace, limit=limit, before=before)
        return [self._unseal_event(e) for e in found]

    def _unseal_event(self, event: AuditEvent) -> AuditEvent:
        sealed = event.detail.get("sealed") if isinstance(event.detail, dict) else None
        if self.keyring is None or not isinstance(sealed, str):
            return event
        aad = context(EVENT, event.action, event.time_ms, event.actor)
        secret = json.loads(self.keyring.decrypt(aad, base64.b64decode(sealed)))
        return replace(event, **secret)


def _wrapped(record: dict[str, Any]) -> WrappedKey:
    return WrappedKey(
        record["scope"],
        record["key_id"],
        record["master_id"],
        base64.b64decode(record["wrapped"]),
        int(record["created_ms"]),
    )
