"""Settings for access control (sign-in, tokens, limits), mixed into `Settings`; each is a
`SINOPIA_*` variable like every other setting."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class AuthSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SINOPIA_", frozen=True)

    # Where browsers reach this server, e.g. `https://sinopia.example.org`: the sign-in
    # redirect URI, the issuer of Sinopia's JWTs, and Secure cookies when it is https.
    public_url: str | None = None
    # The key that signs Sinopia's JWTs (access tokens, share links, session cookies);
    # default `auth-key.pem` in the data directory, created on first start. Instances
    # behind one load balancer share it.
    auth_key_path: Path | None = None
    access_token_seconds: float = Field(600.0, gt=0)
    session_seconds: float = Field(12 * 3600.0, gt=0)
    share_link_days: float = Field(30.0, gt=0)

    # OpenID Connect sign-in (authorization code with PKCE); off unless all three are set.
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_scopes: str = "openid email profile"

    # JWTs from an external issuer (an institution's portal): off unless issuer and JWKS
    # URL are set. `jwt_user_claim` names the claim that identifies the user.
    jwt_issuer: str | None = None
    jwt_jwks_url: str | None = None
    jwt_audience: str = "sinopia"
    jwt_user_claim: str = "sub"
    jwt_algorithms: str = "RS256,PS256,ES256,Ed25519"

    # Origins (scheme://host[:port]) whose pages may call the API with credentials and
    # open cookie-authenticated websockets; comma-separated.
    cors_origins: str = ""

    # A websocket must have authenticated within this long (credentials come with the
    # handshake, so this bounds our own lookups: a slow or unreachable directory).
    auth_timeout_seconds: float = Field(10.0, gt=0)
    # Sockets from one address still authenticating at once.
    max_unauthenticated_per_address: int = Field(256, gt=0)
    # How often open sockets' access is re-checked against the directory's changes.
    access_poll_seconds: float = Field(0.25, gt=0)

    # Rate limits (token buckets): per minute ones allow a minute's worth at once, per
    # second ones a burst of twice the rate.
    rate_signin_per_minute: float = Field(30.0, gt=0)  # per address
    rate_auth_failures_per_minute: float = Field(120.0, gt=0)  # per address
    rate_requests_per_second: float = Field(100.0, gt=0)  # REST calls per principal
    # Websocket connections per principal (a burst of ten times this: pages open many).
    rate_connections_per_second: float = Field(200.0, gt=0)
    rate_updates_per_second: float = Field(2000.0, gt=0)  # per principal and per address

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.strip().rstrip("/") for o in self.cors_origins.split(",") if o.strip()]

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id and self.oidc_client_secret)
