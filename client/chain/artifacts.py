"""Compiled contract artifacts, as committed under `contracts/artifacts/` (the wheel carries
them as package data; `client.locations` finds them). `scripts/compile` writes them."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from ..errors import ConfigError
from ..locations import artifacts_dir, checkout_root

#: Contracts that `idsreg deploy` deploys, in deployment order.
DEPLOYABLE = ("Consortium", "DataRegistry", "AnchorRegistry", "AccessRegistry", "ExchangeLedger", "DisputeCourt")
#: Benchmark baselines (contracts/bench/): compiled with the same settings, never deployed.
BENCHMARK = ("MinimalRegistry",)


@dataclass(frozen=True)
class Artifact:
    """One deployable contract: ABI, bytecode and what built it."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str
    compiler_version: str
    digest: str  # sha256 of the artifact file, recorded in deployment manifests
    #: Where the runtime code holds immutables: {AST id: [{"start", "length"}]} (client/chain/codecheck.py).
    immutable_references: dict[str, list[dict[str, int]]] = field(default_factory=dict)


@cache
def load_artifact(name: str) -> Artifact:
    """The committed artifact of contract `name`."""
    path = artifacts_dir() / f"{name}.json"
    try:
        text = path.read_text()
        raw = json.loads(text)
    except (OSError, ValueError) as exc:
        remedy = "run scripts/compile" if checkout_root() else "reinstall the ids-registry package"
        raise ConfigError(f"contract artifact {path} is unreadable ({exc}); {remedy}") from exc
    return Artifact(
        name=name,
        abi=raw["abi"],
        bytecode=raw["bytecode"],
        deployed_bytecode=raw["deployedBytecode"],
        compiler_version=raw["compiler"]["version"],
        digest=hashlib.sha256(text.encode()).hexdigest(),
        immutable_references=raw.get("immutableReferences", {}),
    )


def all_artifacts() -> dict[str, Artifact]:
    """Every deployable contract's artifact, by name."""
    return {name: load_artifact(name) for name in DEPLOYABLE}
