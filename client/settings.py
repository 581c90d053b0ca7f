"""The client's settings, read once from the environment (prefix `IDSREG_`).

| variable | meaning | default |
|---|---|---|
| `IDSREG_HOME` | data folder: keystore, anchor index, metadata-salt records, licence terms, local chain state and logs | `~/.idsreg` |
| `IDSREG_RPC_URL` | JSON-RPC address of the chain node | the local chain's (`chain/local.toml`) |
| `IDSREG_CHAIN_CONFIG` | the local chain's configuration file | `chain/local.toml` in a checkout; the copy the installed package carries |
| `IDSREG_DEPLOYMENTS` | folder of deployment manifests | `chain/deployments` in a checkout; `<IDSREG_HOME>/deployments` when installed from a wheel |
| `IDSREG_ANVIL` | the anvil executable `idsreg chain up` runs | the checkout's npm anvil (`node_modules`), else `anvil` on `PATH` |
| `IDSREG_KEY` | keystore label (or address) of the key that signs | none: `--key` is then required |
| `IDSREG_PASSWORD` | keystore password, for scripts | prompt |
| `IDSREG_PASSWORD_FILE` | file whose first line is the keystore password | prompt |
| `IDSREG_API_HOST`, `IDSREG_API_PORT` | where the registry API listens (`idsreg api …`; the server reads the same variables) | 127.0.0.1, 8600 |
| `IDSREG_API_URL` | the registry API the CLI asks (`api login`, the `list` commands, `api status`) | `http://IDSREG_API_HOST:IDSREG_API_PORT` |
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from .locations import chain_config_dir, default_deployments


class ClientSettings(BaseSettings):
    """Everything the client reads from its environment, in one place."""

    model_config = SettingsConfigDict(env_prefix="IDSREG_", extra="ignore", env_ignore_empty=True)

    home: Path = Path.home() / ".idsreg"
    rpc_url: str | None = None
    chain_config: Path = Field(default_factory=lambda: chain_config_dir() / "local.toml")
    #: Follows `home` when installed (its default needs the home already read, declared above).
    deployments: Path = Field(default_factory=lambda data: default_deployments(data["home"]))
    anvil: Path | None = None
    key: str | None = None
    password: SecretStr | None = None
    password_file: Path | None = None
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8600, ge=1, le=65535)
    #: IDSREG_API_URL: a registry API elsewhere than the local one (`api_url`).
    api_base: str | None = Field(default=None, validation_alias="IDSREG_API_URL")

    @property
    def keystore_dir(self) -> Path:
        return self.home / "keystore"

    @property
    def anchor_index(self) -> Path:
        """The member's append-only index of its anchors and their proof files (docs/proofs.md)."""
        return self.home / "anchors.jsonl"

    @property
    def registrations_dir(self) -> Path:
        """Records of what only the registrant knows (metadata salts), one file per registration."""
        return self.home / "registrations"

    @property
    def terms_dir(self) -> Path:
        """Licence terms files (the openings of grants' terms commitments) `grant issue` keeps."""
        return self.home / "terms"

    @property
    def chain_dir(self) -> Path:
        return self.home / "chain"

    @property
    def api_dir(self) -> Path:
        """Where a background API keeps its pid file and log."""
        return self.home / "api"

    @property
    def api_url(self) -> str:
        """The registry API the client asks: IDSREG_API_URL, else the local `idsreg api serve` address."""
        if self.api_base:
            return self.api_base.rstrip("/")
        return f"http://{self.api_host}:{self.api_port}"

    @property
    def api_session(self) -> Path:
        """The bearer token of `idsreg api login` (mode 0600), for the CLI's later API calls."""
        return self.home / "api-session.json"


@lru_cache(maxsize=1)
def get_settings() -> ClientSettings:
    """The process's settings, read from the environment on first use."""
    return ClientSettings()
