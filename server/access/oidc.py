"""OpenID Connect sign-in as a client of any standard provider: the authorization code flow
with PKCE (S256) and a nonce, built with authlib; the ID token checked with joserfc
against the provider's published keys."""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.client import OAuth2Client
from authlib.oauth2.rfc6749.parameters import prepare_token_request
from joserfc.jwk import KeySet

from server.access.tokens import BadCredential, check_jwt

# Signature algorithms accepted on ID tokens (never `none`, never HMAC with the secret).
ID_TOKEN_ALGORITHMS = ["RS256", "PS256", "ES256", "Ed25519", "EdDSA"]


@dataclass(frozen=True)
class Flow:
    """What the callback needs to finish one sign-in: kept in a signed, short-lived
    HttpOnly cookie between the redirect to the provider and the way back."""

    state: str
    nonce: str
    verifier: str


class OIDCClient:
    METADATA_MAX_AGE = 3600.0

    def __init__(self, issuer: str, client_id: str, client_secret: str, scopes: str) -> None:
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.scopes = scopes
        self._metadata: dict[str, Any] | None = None
        self._keys: KeySet | None = None
        self._fetched = 0.0

    async def metadata(self) -> dict[str, Any]:
        if self._metadata is None or time.monotonic() - self._fetched > self.METADATA_MAX_AGE:
            url = f"{self.issuer}/.well-known/openid-configuration"
            async with httpx.AsyncClient(timeout=10) as http:
                response = await http.get(url)
                response.raise_for_status()
                metadata = response.json()
                if metadata.get("issuer", "").rstrip("/") != self.issuer:
                    raise BadCredential("the provider's metadata names another issuer")
                keys = await http.get(metadata["jwks_uri"])
                keys.raise_for_status()
            self._keys = KeySet.import_key_set(keys.json())
            self._metadata = metadata
            self._fetched = time.monotonic()
        return self._metadata

    async def begin(self, redirect_uri: str) -> tuple[str, Flow]:
        """(the provider URL to send the browser to, the flow to keep until it returns)."""
        metadata = await self.metadata()
        flow = Flow(generate_token(32), generate_token(32), generate_token(64))
        client = OAuth2Client(
            None,
            client_id=self.client_id,
            scope=self.scopes,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
        )
        url, _ = client.create_authorization_url(
            metadata["authorization_endpoint"],
            state=flow.state,
            code_verifier=flow.verifier,
            nonce=flow.nonce,
        )
        return url, flow

    async def finish(self, flow: Flow, state: str, code: str, redirect_uri: str) -> dict[str, Any]:
        """The signed-in user's claims (ID token, completed from userinfo)."""
        if not hmac.compare_digest(state.encode(), flow.state.encode()):
            raise BadCredential("sign-in state does not match")
        metadata = await self.metadata()
        body = prepare_token_request(
            "authorization_code", code=code, redirect_uri=redirect_uri, code_verifier=flow.verifier
        )
        # client_secret_basic: id and secret are form-encoded first (RFC 6749 §2.3.1).
        auth = (quote(self.client_id, safe=""), quote(self.client_secret, safe=""))
        async with httpx.AsyncClient(timeout=10) as http:
            response = await http.post(
                metadata["token_endpoint"],
                content=body,
                auth=auth,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            if response.status_code != 200:
                raise BadCredential(f"the provider refused the code ({response.status_code})")
            tokens = response.json()
            id_token = tokens.get("id_token")
            if not isinstance(id_token, str):
                raise BadCredential("the provider sent no ID token")
            assert self._keys is not None
            claims = check_jwt(
                id_token, self._keys, ID_TOKEN_ALGORITHMS, self.issuer, self.client_id
            )
            nonce = str(claims.get("nonce", ""))
            if not hmac.compare_digest(nonce.encode(), flow.nonce.encode()):
                raise BadCredential("sign-in nonce does not match")
            userinfo_url = metadata.get("userinfo_endpoint")
            if userinfo_url and tokens.get("access_token"):
                info = await http.get(
                    userinfo_url, headers={"Authorization": f"Bearer {tokens['access_token']}"}
                )
                if info.status_code == 200:
                    extra = info.json()
                    # Userinfo only completes the ID token; it must be about the same user.
                    if extra.get("sub") == claims.get("sub"):
                        claims = {**extra, **claims}
        return claims
