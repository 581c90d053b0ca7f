"""Deploying the registry contracts and writing the chain's manifest."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from eth_account.signers.local import LocalAccount
from web3 import Web3

from ..errors import ConfigError, DeploymentError
from .abi import deployment_data
from .artifacts import DEPLOYABLE, load_artifact
from .manifest import ContractDeployment, Manifest
from .registry import Registry
from .transact import TxResult, send_transaction


def existing_deployment(w3: Web3, directory: Path) -> Manifest | None:
    """The chain's manifest if one exists, was deployed from the current artifacts, and its
    contracts are still on the chain."""
    try:
        manifest = Manifest.load(directory, int(w3.eth.chain_id))
    except DeploymentError:
        return None
    registry = Registry(w3, manifest)
    if registry.stale_contracts() or registry.missing_contracts():
        return None
    return manifest


def _deploy(w3: Web3, deployer: LocalAccount, name: str, *args: object) -> TxResult:
    return send_transaction(w3, deployer, {"data": deployment_data(load_artifact(name), *args)})


#: What each registry contract's constructor takes, in order (all after the Consortium).
DEPENDENCIES: dict[str, tuple[str, ...]] = {
    "DataRegistry": ("Consortium",),
    "AnchorRegistry": ("Consortium",),
    "AccessRegistry": ("Consortium", "DataRegistry"),
    "ExchangeLedger": ("Consortium", "DataRegistry", "AccessRegistry"),
    "DisputeCourt": ("Consortium", "DataRegistry", "AnchorRegistry"),
}


def _call(
    w3: Web3, deployer: LocalAccount, addresses: dict[str, str], contract: str, function: str, *args: object
) -> None:
    data = w3.eth.contract(abi=load_artifact(contract).abi).encode_abi(function, args=list(args))
    send_transaction(w3, deployer, {"to": addresses[contract], "data": data})


def deploy_registry(
    w3: Web3,
    deployer: LocalAccount,
    governors: Sequence[str],
    threshold: int,
    directory: Path,
    *,
    force: bool = False,
) -> Manifest:
    """Deploy every registry contract and write `<directory>/<chainId>.json`.

    Refuses (ConfigError: bad input, exit 2) when a manifest exists for this chain and its contracts are
    still there, unless `force`; the manifest is written only after every deployment succeeded.
    """
    chain_id = int(w3.eth.chain_id)
    if not force and existing_deployment(w3, directory) is not None:
        raise ConfigError(
            f"the registry is already deployed on chain {chain_id} ({Manifest.path_for(directory, chain_id)}); "
            "pass --force to deploy a new one"
        )
    if not governors:
        raise ConfigError("at least one governor is needed")
    consortium = _deploy(w3, deployer, "Consortium", [Web3.to_checksum_address(g) for g in governors], threshold)
    deployments = {"Consortium": consortium}
    for name in DEPLOYABLE[1:]:
        # Constructor arguments: the addresses of the contracts it depends on, in order.
        deployments[name] = _deploy(w3, deployer, name, *(deployments[d].contract_address for d in DEPENDENCIES[name]))
    addresses = {name: str(result.contract_address) for name, result in deployments.items()}
    _call(w3, deployer, addresses, "Consortium", "bindMirrors", [addresses[n] for n in DEPLOYABLE[1:]])
    if "DisputeCourt" in addresses:
        _call(w3, deployer, addresses, "DataRegistry", "bindCourt", addresses["DisputeCourt"])
    first = consortium
    block = w3.eth.get_block(first.block_number)
    manifest = Manifest(
        chain_id=chain_id,
        deployment_block=first.block_number,
        deployment_block_hash=first.block_hash,
        deployed_at=int(block["timestamp"]),
        deployer=deployer.address,
        compiler_version=load_artifact("Consortium").compiler_version,
        contracts={
            name: ContractDeployment(
                address=str(result.contract_address),
                transaction=result.tx_hash,
                artifact_digest=load_artifact(name).digest,
            )
            for name, result in deployments.items()
        },
    )
    manifest.save(directory)
    return manifest
