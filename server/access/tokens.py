"""Credential formats, and nothing else: making and checking them.

- Personal API tokens: `snp_<id>_<secret>`, the id (16 hex digits) to find the record,
  the secret (32 random bytes, base64url) checked against its stored SHA-256 with
  `hmac.compare_digest`. Only the hash is stored; the token is shown once.
- JWTs that Sinopia signs with its own Ed25519 key (`auth-key.pem` in the data
  directory): short-lived access tokens (audience `sinopia`), share links (audience
  `sinopia-share`), the session cookie (`sinopia-session`) and the sign-in flow cookie
  (`sinopia-signin`). Distinct audiences keep one kind from being used as another.
  The algorithm is EdDSA over Ed25519, named `Ed25519` as RFC 9864 has it (joserfc
  refuses the older name `EdDSA` by default).
- JWTs from an external issuer (an institution's portal), checked against its JWKS.

Every check fails with `BadCredential`, whose reason never includes the credential.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, OKPKey

PAT_PREFIX = "snp_"
ALGORITHM = "Ed25519"

AUDIENCE_ACCESS = "sinopia"
AUDIENCE_SHARE = "sinopia-share"
AUDIENCE_SESSION = "sinopia-session"
AUDIENCE_SIGNIN = "sinopia-signin"

# Clock skew tolerated on `exp`/`nbf`/`iat`, in seconds.
LEEWAY = 30


class BadCredential(Exception):
    """A credential that does not check out; `reason` is safe to show and to log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# -- personal API tokens ---------------------------------------------------------------


def new_api_token(token_id: str) -> tuple[str, str]:
    """(the token to show once, the hash to store)."""
    secret = secrets.token_urlsafe(32)
    return f"{PAT_PREFIX}{token_id}_{secret}", secret_hash(secret)


def secret_hash(secret: str) -> str:
    # The secret is 256 random bits: a plain SHA-256 cannot be brute-forced, and a
    # lookup by id then one constant-time comparison leaks nothing through timing.
    return hashlib.sha256(secret.encode()).hexdigest()


def split_api_token(token: str) -> tuple[str, str] | None:
    """(id, secret) of something shaped like an API token, else None."""
    if not token.startswith(PAT_PREFIX):
        return None
    token_id, _, secret = token[len(PAT_PREFIX) :].partition("_")
    if len(token_id) != 16 or not secret or len(secret) > 100:
        return None
    try:
        int(token_id, 16)
    except ValueError:
        return None
    return token_id, secret


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(secret_hash(secret), stored_hash)


# -- JWTs we sign ----------------------------------------------------------------------


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2


def unverified_claims(token: str) -> dict[str, Any]:
    """The payload of a compact JWS *without* checking it: only to pick the verifier."""
    try:
        payload = token.split(".")[1]
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, IndexError):
        raise BadCredential("malformed token") from None
    if not isinstance(data, dict):
        raise BadCredential("malformed token")
    return data


@dataclass(frozen=True)
class Signer:
    """Signs and checks Sinopia's own JWTs."""

    key: OKPKey
    issuer: str

    @classmethod
    def from_private_key(cls, private: Ed25519PrivateKey, issuer: str) -> Signer:
        return cls(OKPKey.import_key(private), issuer)

    @property
    def kid(self) -> str:
        return self.key.thumbprint()

    def jwks(self) -> dict[str, Any]:
        public = self.key.as_dict(private=False)
        return {"keys": [{**public, "kid": self.kid, "alg": ALGORITHM, "use": "sig"}]}

    def sign(self, audience: str, subject: str, seconds: float, **claims: Any) -> str:
        now = int(time.time())
        payload = {
            "iss": self.issuer,
            "aud": audience,
            "sub": subject,
            "iat": now,
            "nbf": now,
            "exp": now + int(seconds),
            "jti": secrets.token_hex(8),
            **claims,
        }
        return jwt.encode({"alg": ALGORITHM, "kid": self.kid}, payload, self.key, [ALGORITHM])

    def verify(self, token: str, audience: str) -> dict[str, Any]:
        return check_jwt(token, self.key, [ALGORITHM], self.issuer, audience)


def check_jwt(
    token: str, key: Any, algorithms: list[str], issuer: str, audience: str
) -> dict[str, Any]:
    """The claims of a JWT signed by `key` with one of `algorithms` (never `none`),
    issued by `issuer` for `audience`, and current."""
    try:
        decoded = jwt.decode(token, key, algorithms=algorithms)
    except JoseError as exc:
        raise BadCredential(f"invalid token signature or format ({exc.error})") from None
    except (ValueError, TypeError):
        raise BadCredential("malformed token") from None
    claims = dict(decoded.claims)
    registry = jwt.JWTClaimsRegistry(
        leeway=LEEWAY,
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": audience},
        exp={"essential": True},
        sub={"essential": True},
    )
    try:
        registry.validate(claims)
    except JoseError as exc:
        if exc.error == "expired_token":
            raise BadCredential("token expired") from None
        if "aud" in str(exc.description or ""):
            raise BadCredential("token is not for this audience") from None
        raise BadCredential(f"token claims refused ({exc.error})") from None
    return claims


# -- JWTs from an external issuer ------------------------------------------------------


class ExternalIssuer:
    """JWTs of an institution's own portal, checked against the keys it publishes."""

    # Refetch the key set at most this often when a token names a key we do not have.
    MIN_REFRESH_SECONDS = 30.0
    MAX_AGE_SECONDS = 600.0

    def __init__(
        self, issuer: str, jwks_url: str, audience: str, claim: str, algorithms: list[str]
    ) -> None:
        self.issuer = issuer
        self.jwks_url = jwks_url
        self.audience = audience
        self.claim = claim
        self.algorithms = [a for a in algorithms if a.lower() != "none"]
        self._keys: KeySet | None = None
        self._fetched = 0.0

    async def _key_set(self, kid: str | None) -> KeySet:
        now = time.monotonic()
        stale = now - self._fetched > self.MAX_AGE_SECONDS
        unknown = kid is not None and self._keys is not None and not _has_kid(self._keys, kid)
        if (
            self._keys is None
            or stale
            or (unknown and now - self._fetched > self.MIN_REFRESH_SECONDS)
        ):
            try:
                async with httpx.AsyncClient(timeout=5) as http:
                    response = await http.get(self.jwks_url)
                    response.raise_for_status()
                    self._keys = KeySet.import_key_set(response.json())
                    self._fetched = now
            except (httpx.HTTPError, ValueError, JoseError):
                if self._keys is None:
                    raise BadCredential("the token issuer's keys cannot be fetched") from None
        assert self._keys is not None
        return self._keys

    async def verify(self, token: str) -> tuple[str, dict[str, Any]]:
        """(the mapped claim's value, all claims)."""
        try:
            header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
        except (ValueError, IndexError):
            raise BadCredential("malformed token") from None
        keys = await self._key_set(header.get("kid") if isinstance(header, dict) else None)
        claims = check_jwt(token, keys, self.algorithms, self.issuer, self.audience)
        value = claims.get(self.claim)
        if not isinstance(value, str) or not value:
            raise BadCredential(f"token has no {self.claim!r} claim")
        return value, claims


def _has_kid(keys: KeySet, kid: str) -> bool:
    return any(k.kid == kid for k in keys.keys)
