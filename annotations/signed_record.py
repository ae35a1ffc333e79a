"""The signed record of an approved report: Ed25519 over the canonical JSON (RFC 8785) of
the record together with the head of the document's sealed history, as one readable JSON
file that verifies offline.

    {
      "format": "sinopia-signed-record/1",
      "document": "museum/report/r1",
      "record": {...the report as approved...},
      "history": {"seq": 42, "hash": "<hex SHA-256 of log entry 42>",
                  "seal": {"first_seq", "last_seq", "hash", "time_ms", "key_id", "signature"}},
      "signed": {"at": "...", "by": [{"name", "id", "role", "action", "at"}, ...]},
      "digests": {"record/title": "sha256:...", "record/damage/0": "sha256:...", ...},
      "signature": {"alg": "Ed25519", "key_id": "...", "public_key": "<base64url>",
                    "value": "<base64url>"}
    }

The signature covers the canonical JSON of everything but `signature` itself: the record,
the history head (so the record is tied to one point of the document's hash-chained log,
which the seal signs), who signed and when. `digests` (SHA-256 of each field and of each
list entry, also signed) let a verifier name which part of an altered record no longer
matches, instead of only saying that the signature fails.

The history seal's own signature is in the seal format of the history machinery
(`crdt/seals.py`); `verify` takes the function that checks it, so this module stays pure.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .canonical import NotCanonical, canonical

FORMAT = "sinopia-signed-record/1"
# Fields of a report that are not part of its record: when it was last touched says
# nothing about its content, and the signature is made over the record.
NOT_RECORDED = frozenset({"modified", "signature"})

# (seal as in the file, history seq, history hash hex, document, the record's public key)
# -> why the seal does not hold, or None. The seal is made with the same key.
SealCheck = Callable[[dict[str, Any], int, str, str, Ed25519PublicKey], str | None]


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def fingerprint(key: Ed25519PublicKey) -> str:
    """The key's id: the first 16 hex digits of the SHA-256 of its raw bytes (the same as
    the history's seals name their keys by)."""
    return hashlib.sha256(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).hexdigest()[:16]


def full_fingerprint(key: Ed25519PublicKey) -> str:
    """The whole SHA-256 of the key, grouped by four for reading aloud or on paper."""
    digest = hashlib.sha256(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).hexdigest()
    return " ".join(digest[i : i + 4] for i in range(0, len(digest), 4))


def record_of(report_view: dict[str, Any]) -> dict[str, Any]:
    """The record of a report: its plain view without what is not part of it."""
    return {k: v for k, v in report_view.items() if k not in NOT_RECORDED}


def _digest(value: Any) -> str:
    return "sha256:" + hashlib.sha256(canonical(value)).hexdigest()


def digests(record: dict[str, Any]) -> dict[str, str]:
    """A digest of each field of the record, and of each entry of its lists."""
    out: dict[str, str] = {}
    for key, value in record.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for index, item in enumerate(value):
                out[f"record/{key}/{index}"] = _digest(item)
            out[f"record/{key}"] = _digest(len(value))
        else:
            out[f"record/{key}"] = _digest(value)
    return out


def signing_input(signed: dict[str, Any]) -> bytes:
    """What the signature is over: the canonical JSON of the file without `signature`."""
    return canonical({k: v for k, v in signed.items() if k != "signature"})


def sign(
    *,
    document: str,
    record: dict[str, Any],
    history: dict[str, Any],
    signers: list[dict[str, Any]],
    signed_at: str,
    key: Ed25519PrivateKey,
) -> dict[str, Any]:
    """The signed record file: `history` is {"seq", "hash", "seal"} of the document's log
    head that the record is the state at."""
    public = key.public_key()
    body: dict[str, Any] = {
        "format": FORMAT,
        "document": document,
        "record": record,
        "history": history,
        "signed": {"at": signed_at, "by": signers},
        "digests": digests(record),
    }
    value = key.sign(signing_input(body))
    body["signature"] = {
        "alg": "Ed25519",
        "key_id": fingerprint(public),
        "public_key": b64(public.public_bytes(Encoding.Raw, PublicFormat.Raw)),
        "value": b64(value),
    }
    return body


@dataclass
class Verification:
    """What a verifier found: `ok` only when nothing is wrong; each problem names where."""

    problems: list[str] = field(default_factory=list)
    key_id: str | None = None
    document: str | None = None
    seq: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(
    data: Any,
    *,
    trusted: Collection[str] | None = None,
    check_seal: SealCheck | None = None,
) -> Verification:
    """Check a signed record offline: the key matches its fingerprint (and is one of
    `trusted`, when given), the record matches its signed digests field by field, the
    history head matches its seal, and the signature holds over it all."""
    result = Verification()
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        result.problems.append(f"format: not a signed record ({FORMAT} expected)")
        return result
    missing = [
        k
        for k in ("document", "record", "history", "signed", "digests", "signature")
        if k not in data
    ]
    if missing:
        result.problems.append(f"missing: {', '.join(missing)}")
        return result
    result.document = str(data["document"])
    signature = data["signature"] if isinstance(data["signature"], dict) else {}
    key = _public_key(signature, result)
    if key is None:
        return result
    result.key_id = str(signature.get("key_id"))
    if trusted is not None and result.key_id not in trusted:
        result.problems.append(f"signature/key_id: {result.key_id} is not a key you trust")
    record = data["record"]
    if not isinstance(record, dict):
        result.problems.append("record: must be a JSON object")
        return result
    _compare_digests(record, data["digests"], result)
    history = data["history"] if isinstance(data["history"], dict) else {}
    _check_history(history, result, check_seal, key)
    try:
        message = signing_input(data)
    except NotCanonical as error:
        result.problems.append(f"the file holds a value JSON cannot sign: {error}")
        return result
    try:
        key.verify(unb64(str(signature.get("value", ""))), message)
    except (InvalidSignature, ValueError):
        where = "; see above for what was changed" if result.problems else ""
        result.problems.append(
            f"signature: does not verify over the record and its history head{where}"
        )
    return result


def _public_key(signature: dict[str, Any], result: Verification) -> Ed25519PublicKey | None:
    if signature.get("alg") != "Ed25519":
        result.problems.append("signature/alg: only Ed25519 is used")
        return None
    try:
        raw = unb64(str(signature.get("public_key", "")))
        key = Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        result.problems.append("signature/public_key: not an Ed25519 public key")
        return None
    if fingerprint(key) != signature.get("key_id"):
        result.problems.append(
            f"signature/key_id: {signature.get('key_id')} is not the fingerprint of the "
            f"public key ({fingerprint(key)})"
        )
    return key


def _compare_digests(record: dict[str, Any], stated: Any, result: Verification) -> None:
    if not isinstance(stated, dict):
        result.problems.append("digests: must be a JSON object")
        return
    try:
        actual = digests(record)
    except NotCanonical as error:
        result.problems.append(f"record: holds a value JSON cannot sign: {error}")
        return
    for path in sorted(set(stated) | set(actual), key=_path_order):
        if path not in actual:
            result.problems.append(f"{path}: was signed but is missing from the record")
        elif path not in stated:
            result.problems.append(f"{path}: was added after signing")
        elif stated[path] != actual[path]:
            result.problems.append(f"{path}: differs from what was signed")


def _path_order(path: str) -> tuple[str, int]:
    head, _, tail = path.rpartition("/")
    return (head, int(tail)) if tail.isdigit() else (path, -1)


def _check_history(
    history: dict[str, Any],
    result: Verification,
    check_seal: SealCheck | None,
    key: Ed25519PublicKey,
) -> None:
    seq, digest, seal = history.get("seq"), history.get("hash"), history.get("seal")
    if not isinstance(seq, int) or not isinstance(digest, str):
        result.problems.append("history: needs the log head's seq and hash")
        return
    result.seq = seq
    if not isinstance(seal, dict):
        result.problems.append("history/seal: missing")
        return
    if seal.get("last_seq") != seq or seal.get("hash") != digest:
        result.problems.append("history: the head does not match its seal")
        return
    if check_seal is not None:
        reason = check_seal(seal, seq, digest, str(result.document), key)
        if reason:
            result.problems.append(f"history/seal: {reason}")
