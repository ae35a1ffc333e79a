"""Every setting, read from `SINOPIA_*` environment variables (and CLI flags on top). The
bottom of server/: every part may read it, it imports nothing of server/."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from crdt import Limits

MiB = 1024 * 1024


class AuthSettings(BaseSettings):
    """Access control: sign-in, tokens, rate limits (mixed into `Settings`)."""

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
    # One-time sign-in links (`sinopia admin login-link`, the first start's link): how
    # long one works if unused.
    login_link_seconds: float = Field(900.0, gt=0)

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


# Access-control settings (sign-in, tokens, rate limits) live in AuthSettings.
class Settings(AuthSettings, BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SINOPIA_", frozen=True)

    host: str = "127.0.0.1"
    port: int = 8080
    # Where the embedded store (and later keys) live.
    data_dir: Path = Path("data")

    # The master key that encrypts data at rest (`file:///path/master.key`, made by
    # `sinopia admin key create`); unset: data at rest is not encrypted.
    key_url: str | None = None
    # With a key: where decrypted working copies of uploads (what libvips reads) and
    # conversion scratch files go; default a private directory in memory (/dev/shm).
    media_work_dir: Path | None = None

    # The store: SQLite in the data directory unless MongoDB is configured.
    store_url: str = "sqlite:"
    mongo_url: str | None = None
    # The bus: in-process unless Redis is configured.
    redis_url: str | None = None
    bus_url: str = "memory:"

    # Limits (see crdt.types.Limits for what each one guards).
    max_message_bytes: int = Field(8 * MiB, gt=0)
    max_document_bytes: int = Field(64 * MiB, gt=0)
    # Sockets that can write in one document's room, and read-only ones (viewers, share
    # links) apart from them: an exhibition's audience never locks the staff out.
    max_clients_per_room: int = Field(200, gt=0)
    max_watchers_per_room: int = Field(10_000, gt=0)
    max_send_queue_bytes: int = Field(16 * MiB, gt=0)

    # Rooms with no client for this long are flushed and dropped from memory.
    room_idle_seconds: float = Field(30.0, ge=0)
    # A checkpoint every this many updates: loading never replays more than this many.
    checkpoint_every: int = Field(500, gt=0)

    # While a remote store (MongoDB) is unreachable, accepted updates wait in a spool file
    # in the data directory, up to this size; beyond it, updates are refused.
    spool_max_bytes: int = Field(256 * MiB, gt=0)

    # Annotations per page of a W3C annotation container.
    annotation_page_size: int = Field(100, gt=0, le=1000)
    # IIIF import from a URL: the largest manifest fetched, and how long fetching may take.
    # Addresses on private networks (and loopback) are refused unless allowed here, so an
    # import cannot be used to read the server's own network.
    iiif_fetch_max_bytes: int = Field(16 * MiB, gt=0)
    iiif_fetch_timeout_seconds: float = Field(20.0, gt=0)
    iiif_fetch_private: bool = False

    # Uploads (`POST /api/media/{workspace}`, `sinopia media add`). The largest file taken,
    # stopped while it streams: a museum's largest scans are a few GB.
    media_max_upload_bytes: int = Field(4 * 1024 * MiB, gt=0)
    # Pixels per image (page), read from the header before anything is decoded: a
    # gigapixel is a 40,000 x 25,000 scan; a 100,000 x 100,000 image (10 gigapixels) is
    # refused, whatever its file size (a decompression bomb can be a few KB).
    media_max_pixels: int = Field(1_000_000_000, gt=0)
    # Pages of one multi-page file, each a subject of its own.
    media_max_pages: int = Field(1000, gt=0)
    # Converting one upload into pyramids, in a child process: its time and its address
    # space (libvips streams, so a few hundred MB of it are used; the rest is a guard).
    media_convert_seconds: float = Field(3600.0, gt=0)
    media_convert_memory_bytes: int = Field(8 * 1024 * MiB, ge=0)
    # Encoded IIIF tiles kept in memory (0: none): a viewer's pans and zooms, and many
    # viewers of one image, ask for the same tiles again.
    image_tile_cache_bytes: int = Field(64 * MiB, ge=0)
    # The IIIF Image API's largest answer (maxArea in info.json): a full-size region of a
    # huge image is not rendered in one response (viewers ask for tiles).
    image_max_area: int = Field(10_000 * 10_000, gt=0)

    # History seals: an Ed25519 signature over each changed document's log this often.
    seal_interval_seconds: float = Field(60.0, gt=0)
    # The sealing key; default `seal-key.pem` in the data directory, created on first start.
    seal_key_path: Path | None = None

    # Websocket ping frames find dead sockets: no pong within the timeout closes them.
    ping_interval: float = Field(20.0, gt=0)
    ping_timeout: float = Field(20.0, gt=0)
    # A socket we have sent nothing to for this long gets a no-op message: npm y-websocket
    # drops a connection that hears nothing for 30 s, even a lone idle client's.
    keepalive_seconds: float = Field(10.0, gt=0)
    # permessage-deflate, offered by every browser: off by default, as in the Node
    # reference server. Yjs updates are small binary deltas that compress little, and
    # compressing costs CPU per message per client (and rules out direct writes, see
    # server/wire.py). Worth it on slow links with large documents.
    ws_compression: bool = False

    # Security headers (server/http/security_headers.py): HSTS's max-age when served over
    # https (0: none; raise it once https works for good, as browsers remember it), and
    # the Referrer-Policy (URLs may carry share-link tokens).
    hsts_seconds: int = Field(180 * 86400, ge=0)
    referrer_policy: Literal[
        "no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"
    ] = "same-origin"

    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["json", "text"] = "json"

    @property
    def store_location(self) -> str:
        return self.mongo_url or self.store_url

    @property
    def bus_location(self) -> str:
        return self.redis_url or self.bus_url

    @property
    def own_url(self) -> str:
        """Where people reach this server, for the links we print (sign-in links)."""
        if self.public_url:
            return self.public_url.rstrip("/")
        # Listening on every address: this machine's own is one of them.
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}"

    @property
    def seal_key_file(self) -> Path:
        return self.seal_key_path or self.data_dir / "seal-key.pem"

    @property
    def auth_key_file(self) -> Path:
        return self.auth_key_path or self.data_dir / "auth-key.pem"

    @property
    def limits(self) -> Limits:
        return Limits(
            max_message_bytes=self.max_message_bytes,
            max_document_bytes=self.max_document_bytes,
            max_clients_per_room=self.max_clients_per_room,
            max_watchers_per_room=self.max_watchers_per_room,
            max_send_queue_bytes=self.max_send_queue_bytes,
        )
