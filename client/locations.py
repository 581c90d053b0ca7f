"""Where the SDK finds the files it ships with, in a checkout and in an installed wheel alike.

The top-level `contracts/artifacts/` (compiled ABIs and bytecode) and `chain/` (`local.toml`,
`genesis.json`) folders of the repository are the source of truth. A checkout (the editable
install of `scripts/setup`) reads them in place; the wheel carries copies of them as package
data under `client/_data/` (pyproject.toml, `[tool.hatch.build.targets.wheel.force-include]`).
This module is the one place that knows both layouts; it imports nothing heavy, because the
settings (read by every command) ask it for their defaults.

Deployment manifests are written, not shipped: a checkout keeps today's `chain/deployments/`,
an installed SDK keeps them in `<IDSREG_HOME>/deployments/` (never inside site-packages).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
#: The wheel's package data; absent in a checkout.
_BUNDLED = _PACKAGE / "_data"


@cache
def checkout_root() -> Path | None:
    """The repository this package runs from, or None when it was installed from a wheel."""
    if _BUNDLED.is_dir():
        return None
    root = _PACKAGE.parent
    if (root / "pyproject.toml").is_file() and (root / "contracts" / "artifacts").is_dir():
        return root
    return None


def artifacts_dir() -> Path:
    """The folder of compiled contract artifacts (`<Name>.json`)."""
    root = checkout_root()
    return root / "contracts" / "artifacts" if root else _BUNDLED / "artifacts"


def chain_config_dir() -> Path:
    """The folder holding the local chain's `local.toml` and `genesis.json`."""
    root = checkout_root()
    return root / "chain" if root else _BUNDLED / "chain"


def default_deployments(home: Path) -> Path:
    """Where deployment manifests live unless IDSREG_DEPLOYMENTS says otherwise: the checkout's
    `chain/deployments/`, else `<home>/deployments/` (an installed package's folder is read-only
    for its users and replaced by every upgrade)."""
    root = checkout_root()
    return root / "chain" / "deployments" if root else home / "deployments"


def node_modules() -> Path | None:
    """The checkout's npm packages (the pinned anvil and solc), or None when installed."""
    root = checkout_root()
    return root / "node_modules" if root else None
