"""Deployment manifests: where the registry contracts live on a chain (`chain/deployments/<chainId>.json`)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DeploymentError
from ..files import replace


@dataclass(frozen=True)
class ContractDeployment:
    address: str
    transaction: str
    artifact_digest: str


@dataclass(frozen=True)
class Manifest:
    """The deployment of the registry contracts on one chain."""

    chain_id: int
    deployment_block: int
    deployment_block_hash: str
    deployed_at: int
    deployer: str
    compiler_version: str
    contracts: dict[str, ContractDeployment] = field(default_factory=dict)

    @staticmethod
    def path_for(directory: Path, chain_id: int) -> Path:
        return directory / f"{chain_id}.json"

    @classmethod
    def load(cls, directory: Path, chain_id: int) -> Manifest:
        """The manifest for `chain_id`; DeploymentError when there is none or it is unreadable."""
        path = cls.path_for(directory, chain_id)
        if not path.exists():
            raise DeploymentError(f"no deployment manifest for chain {chain_id} at {path}; run `idsreg deploy` first")
        try:
            raw: dict[str, Any] = json.loads(path.read_text())
            contracts = {name: ContractDeployment(**c) for name, c in raw.pop("contracts").items()}
            return cls(contracts=contracts, **raw)
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise DeploymentError(f"deployment manifest {path} is unreadable: {exc}") from exc

    def save(self, directory: Path) -> Path:
        """Write the manifest atomically (a crash leaves the old file or the new one, never half)."""
        text = json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"
        return replace(self.path_for(directory, self.chain_id), text, what="deployment manifest")

    def address(self, name: str) -> str:
        try:
            return self.contracts[name].address
        except KeyError:
            raise DeploymentError(f"the manifest for chain {self.chain_id} has no {name} contract; redeploy") from None
