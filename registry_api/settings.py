"""The registry API's settings, read once from the environment (prefix `IDSREG_API_`).

| variable | meaning | default |
|---|---|---|
| `IDSREG_API_DATABASE_URL` | SQLAlchemy URL of the index database (`sqlite:///…` or `postgresql://…`) | `sqlite:///<IDSREG_HOME>/registry.db` |
| `IDSREG_API_RPC_URL` | JSON-RPC address of the chain node | the client's (`IDSREG_RPC_URL`, else `chain/local.toml`) |
| `IDSREG_API_DEPLOYMENTS` | folder of deployment manifests | the client's (`IDSREG_DEPLOYMENTS`) |
| `IDSREG_API_CONFIRMATIONS` | blocks behind the head the indexer stays (0: instant finality) | 0 |
| `IDSREG_API_INITIAL_RANGE` | blocks per `eth_getLogs` request at start | 500 |
| `IDSREG_API_MAX_RANGE` | the most blocks per request the range grows to | 5000 |
| `IDSREG_API_MAX_EVENTS` | events per database transaction: ranges are sized to about this many, a larger one is committed in parts | 10000 |
| `IDSREG_API_REORG_WINDOW` | recent block hashes kept to find a common ancestor after a reorg | 128 |
| `IDSREG_API_POLL_INTERVAL` | seconds between scans once the indexer has caught up | 2.0 |
| `IDSREG_API_HOST`, `IDSREG_API_PORT` | where `idsreg api serve` listens | 127.0.0.1, 8600 |
| `IDSREG_API_PUBLIC_URL` | the API's address as clients see it (in sign-in messages) | `http://HOST:PORT` |
| `IDSREG_API_TOKEN_SECRET` | key that signs bearer tokens | a random key kept in `<IDSREG_HOME>/api-token-secret` |
| `IDSREG_API_TOKEN_TTL` | seconds a bearer token is valid | 900 |
| `IDSREG_API_CHALLENGE_TTL` | seconds a sign-in challenge is valid | 300 |
| `IDSREG_API_CHALLENGES_PER_ADDRESS` | sign-in challenges one address may ask for per window (429 beyond) | 10 |
| `IDSREG_API_CHALLENGES_PER_CLIENT` | sign-in challenges one client (IP address) may ask for per window | 60 |
| `IDSREG_API_CHALLENGE_WINDOW` | seconds of the rate limits' window | 60 |
| `IDSREG_API_NODE_TIMEOUT` | seconds the API waits for the chain node (status, verify) | 3.0 |
| `IDSREG_API_WORKERS` | API worker processes of `idsreg api serve` (the indexer runs once, beside them) | the machine's cores |
| `IDSREG_API_SERVICE_NAME` | this service's name, in `GET /v1/status` (which of several services indexes) | `HOSTNAME:PORT` |
| `IDSREG_API_MAX_BODY_BYTES` | the largest request body the API reads (413 beyond) | 65536 |
| `IDSREG_API_MAX_BODY_DEPTH` | how deep a request body may nest arrays and objects (422 beyond) | 32 |
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from client.chain.registry import default_rpc_url
from client.errors import OverwriteRefusedError
from client.files import create_new
from client.settings import get_settings


def _default_database_url() -> str:
    return f"sqlite:///{get_settings().home / 'registry.db'}"


def _cores() -> int:
    """The cores this process may run on (its CPU affinity, which a container may narrow)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else (os.cpu_count() or 1)


def _default_deployments() -> Path:
    return get_settings().deployments


class ApiSettings(BaseSettings):
    """Everything the indexer and the API read from their environment, in one place."""

    model_config = SettingsConfigDict(env_prefix="IDSREG_API_", extra="ignore", env_ignore_empty=True)

    database_url: str = Field(default_factory=_default_database_url)
    rpc_url: str = Field(default_factory=default_rpc_url)
    deployments: Path = Field(default_factory=_default_deployments)
    confirmations: int = Field(default=0, ge=0)
    initial_range: int = Field(default=500, ge=1)
    max_range: int = Field(default=5000, ge=1)
    max_events: int = Field(default=10_000, ge=1)
    reorg_window: int = Field(default=128, ge=1)
    poll_interval: float = Field(default=2.0, gt=0)
    host: str = Field(default_factory=lambda: get_settings().api_host)
    port: int = Field(default_factory=lambda: get_settings().api_port, ge=1, le=65535)
    public_url: str | None = None
    token_secret: SecretStr | None = None
    token_ttl: int = Field(default=900, ge=10)
    challenge_ttl: int = Field(default=300, ge=10)
    challenges_per_address: int = Field(default=10, ge=1)
    challenges_per_client: int = Field(default=60, ge=1)
    challenge_window: int = Field(default=60, ge=1)
    node_timeout: float = Field(default=3.0, gt=0)
    workers: int = Field(default_factory=lambda: min(_cores(), 64), ge=1, le=64)
    service_name: str | None = Field(default=None, min_length=1, max_length=63)
    max_body_bytes: int = Field(default=65536, ge=1024)
    max_body_depth: int = Field(default=32, ge=4, le=1000)

    @property
    def base_url(self) -> str:
        """The API's address as clients see it."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def service(self) -> str:
        """This service's name among several on one database."""
        return self.service_name or f"{socket.gethostname()}:{self.port}"

    def signing_key(self) -> bytes:
        """The key that signs bearer tokens: the configured one, else one made once and kept
        (mode 0600) in the data folder, so that tokens survive a restart of the API."""
        if self.token_secret is not None:
            return self.token_secret.get_secret_value().encode()
        path = get_settings().home / "api-token-secret"
        if not path.exists():
            with contextlib.suppress(OverwriteRefusedError):  # another process made it first
                create_new(path, secrets.token_hex(32) + "\n", what="API token secret", mode=0o600)
        return path.read_text().strip().encode()


@lru_cache(maxsize=1)
def get_api_settings() -> ApiSettings:
    """The process's API settings, read from the environment on first use."""
    return ApiSettings()
