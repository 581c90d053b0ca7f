"""The registry API's settings, read once from the environment (prefix `IDSREG_API_`).

| variable | meaning | default |
|---|---|---|
| `IDSREG_API_DATABASE_URL` | SQLAlchemy URL of the index database (`sqlite:///…` or `postgresql+psycopg://…`) | `sqlite:///<IDSREG_HOME>/registry.db` |
| `IDSREG_API_RPC_URL` | JSON-RPC address of the chain node | the client's (`IDSREG_RPC_URL`, else `chain/local.toml`) |
| `IDSREG_API_DEPLOYMENTS` | folder of deployment manifests | the client's (`IDSREG_DEPLOYMENTS`) |
| `IDSREG_API_CONFIRMATIONS` | blocks behind the head the indexer stays (0: instant finality) | 0 |
| `IDSREG_API_INITIAL_RANGE` | blocks per `eth_getLogs` request at start | 500 |
| `IDSREG_API_MAX_RANGE` | the most blocks per request the range grows to | 5000 |
| `IDSREG_API_REORG_WINDOW` | recent block hashes kept to find a common ancestor after a reorg | 128 |
| `IDSREG_API_POLL_INTERVAL` | seconds between scans once the indexer has caught up | 2.0 |
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from client.chain.registry import default_rpc_url
from client.settings import get_settings


def _default_database_url() -> str:
    return f"sqlite:///{get_settings().home / 'registry.db'}"


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
    reorg_window: int = Field(default=128, ge=1)
    poll_interval: float = Field(default=2.0, gt=0)


@lru_cache(maxsize=1)
def get_api_settings() -> ApiSettings:
    """The process's API settings, read from the environment on first use."""
    return ApiSettings()
