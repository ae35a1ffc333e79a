"""History bundles: a document's whole log, its seals and the public keys that signed them,
in one self-contained JSON file that verifies offline with no server and no database."""

from __future__ import annotations

import base64
import time
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .seals import Problem, Report, key_id, public_bytes, verify
from .store import Store
from .types import Entry, Seal

FORMAT = "sinopia-history-bundle/1"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


async def export(store: Store, doc: str, keys: Mapping[str, Ed25519PublicKey]) -> dict[str, Any]:
    entries = await store.read(doc)
    if not entries:
        raise LookupError(f"{doc} has no history")
    seals = await store.seals(doc)
    used = {s.key_id for s in seals}
    return {
        "format": FORMAT,
        "doc": doc,
        "exported_ms": time.time_ns() // 1_000_000,
        "public_keys": {k: _b64(public_bytes(keys[k])) for k in sorted(used) if k in keys},
        "entries": [
            {
                "seq": e.seq,
                "time_ms": e.time_ms,
                "client_id": e.client_id,
                "principal": e.principal,
                "prev_hash": e.prev_hash.hex(),
                "hash": e.hash.hex(),
                "update": _b64(e.update),
            }
            for e in entries
        ],
        "seals": [
            {
                "first_seq": s.first_seq,
                "last_seq": s.last_seq,
                "last_hash": s.last_hash.hex(),
                "time_ms": s.time_ms,
                "key_id": s.key_id,
                "signature": _b64(s.signature),
            }
            for s in seals
        ],
    }


def verify_bundle(bundle: Mapping[str, Any], trusted: set[str] | None = None) -> Report:
    """Verify a bundle on its own. `trusted` limits which key ids may have signed it (the
    fingerprints an institution publishes); otherwise the bundle's own keys are used and
    reported in `Report.signed_by` for the reader to compare."""
    doc = str(bundle.get("doc", "?"))
    try:
        if bundle.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} file")
        keys = {
            k: Ed25519PublicKey.from_public_bytes(_unb64(v))
            for k, v in bundle["public_keys"].items()
        }
        for k, key in keys.items():
            if key_id(key) != k:
                raise ValueError(f"public key {k} does not match its fingerprint")
        if trusted is not None:
            keys = {k: v for k, v in keys.items() if k in trusted}
        entries = [
            Entry(
                doc,
                int(e["seq"]),
                _unb64(e["update"]),
                int(e["time_ms"]),
                str(e["client_id"]),
                str(e["principal"]),
                bytes.fromhex(e["prev_hash"]),
                bytes.fromhex(e["hash"]),
            )
            for e in bundle["entries"]
        ]
        seals = [
            Seal(
                doc,
                int(s["first_seq"]),
                int(s["last_seq"]),
                bytes.fromhex(s["last_hash"]),
                int(s["time_ms"]),
                str(s["key_id"]),
                _unb64(s["signature"]),
            )
            for s in bundle["seals"]
        ]
    except (KeyError, TypeError, ValueError) as exc:
        return Report(doc, problem=Problem(doc, 0, f"unreadable bundle: {exc}"))
    report = verify(doc, entries, seals, keys)
    if report.ok and not seals:
        report.problem = Problem(doc, 0, "no seals: nothing vouches for this history")
    elif report.ok and report.sealed_upto < len(entries):
        report.problem = Problem(
            doc, report.sealed_upto + 1, "entries after the last seal are not vouched for"
        )
    return report
