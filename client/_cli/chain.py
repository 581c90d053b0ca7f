"""`idsreg chain …` and `idsreg deploy`: the local node and the contracts on it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Annotated

import typer

from ..chain.deploy import deploy_registry, existing_deployment
from ..chain.enums import Role
from ..chain.node import ChainConfig, LocalChain
from ..chain.registry import connect, default_rpc_url
from ..consortium import Consortium
from ..errors import ConfigError
from ..files import replace
from ..jsonable import jsonable
from ..settings import get_settings
from .common import JsonOpt, KeyOpt, PasswordFileOpt, RpcOpt, account, console, emit, registry, signer

app = typer.Typer(help="Run the local permissioned chain and configure permissioned networks.", no_args_is_help=True)


def local_chain() -> LocalChain:
    return LocalChain(get_settings().chain_dir, ChainConfig.load(get_settings().chain_config))


@app.command("up")
def up(as_json: JsonOpt = False) -> None:
    """Start the local chain node in the background (its state survives restarts)."""
    chain = local_chain()
    was_running = chain.pid() is not None
    status = chain.up()
    emit(
        as_json,
        {"started": not was_running, **jsonable(status)},
        lambda: console.print(
            f"{'chain already running' if was_running else 'chain started'}: chain id {status.chain_id}, "
            f"block {status.head_block}, {status.rpc_url} (pid {status.pid}; data in {chain.data_dir})"
        ),
    )


@app.command("down")
def down(as_json: JsonOpt = False) -> None:
    """Stop the local chain node; its state is kept for the next `chain up`."""
    stopped = local_chain().down()
    emit(as_json, {"stopped": stopped}, lambda: console.print("chain stopped" if stopped else "chain was not running"))


@app.command("status")
def status(rpc_url: RpcOpt = None, as_json: JsonOpt = False) -> None:
    """Show chain id, head block and whether the registry is deployed there. Exit 3 if no node answers."""
    chain = local_chain()
    url = rpc_url or default_rpc_url()
    w3 = connect(url)
    deployment = existing_deployment(w3, get_settings().deployments)
    data = {
        "rpcUrl": url,
        "chainId": int(w3.eth.chain_id),
        "headBlock": int(w3.eth.block_number),
        "localNodePid": chain.pid(),
        "deployed": deployment is not None,
        "contracts": {n: c.address for n, c in deployment.contracts.items()} if deployment else {},
        "deploymentBlock": deployment.deployment_block if deployment else None,
    }

    def human() -> None:
        console.print(f"chain id {data['chainId']} at {url}, head block {data['headBlock']}")
        if deployment:
            console.print(f"registry deployed at block {deployment.deployment_block}:")
            for name, address in data["contracts"].items():  # type: ignore[attr-defined]
                console.print(f"  {name:<12} {address}")
        else:
            console.print("registry not deployed on this chain (run `idsreg deploy`)")

    emit(as_json, data, human)


@app.command("besu-allowlist")
def besu_allowlist(
    output: Annotated[Path, typer.Option("--output", "-o", help="permissions_config.toml to write.")],
    extra: Annotated[list[str], typer.Option("--extra", help="Also allow this address or key label.")] = [],  # noqa: B006
    rpc_url: RpcOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Write Besu's accounts allowlist from the on-chain membership (keeps any nodes-allowlist)."""
    consortium = Consortium(registry(rpc_url))
    allowed = dict.fromkeys(consortium.active_keys())
    for role in Role:
        allowed.update(dict.fromkeys(consortium.role_holders(role)))
    allowed.update(dict.fromkeys(account(e) for e in extra))
    accounts = sorted(allowed, key=str.lower)
    write_allowlist(output, accounts)
    emit(
        as_json,
        {"output": output, "accounts": accounts},
        lambda: console.print(f"wrote {len(accounts)} account(s) to {output}"),
    )


ALLOWLIST_HEADER = "# accounts-allowlist written by `idsreg chain besu-allowlist` from the on-chain membership"


def write_allowlist(path: Path, accounts: list[str]) -> None:
    """Replace `accounts-allowlist` in Besu's permissions file, keeping its other entries.

    Besu refuses to start when either allowlist key is missing, so an absent
    `nodes-allowlist` is written empty.
    """
    kept: list[str] = []
    if path.exists():
        text = path.read_text()
        try:
            existing = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} is not a valid TOML file: {exc}") from None
        # Drop the old accounts-allowlist entry (it may span several lines) and our header.
        text = re.sub(r"(?ms)^accounts-allowlist\s*=\s*\[.*?\]\s*\n?", "", text)
        kept = [line for line in text.splitlines() if line.strip() and line != ALLOWLIST_HEADER]
        if "nodes-allowlist" not in existing:
            kept.append("nodes-allowlist=[]")
    else:
        kept = ["nodes-allowlist=[]"]
    listed = ",\n".join(f'  "{a.lower()}"' for a in accounts)
    body = "\n".join([ALLOWLIST_HEADER, f"accounts-allowlist=[\n{listed}\n]", *kept]) + "\n"
    replace(path, body, what="Besu permissions file")


def deploy(
    key: KeyOpt = None,
    governor: Annotated[
        list[str],
        typer.Option("--governor", "-g", help="Governor address or key label (repeat; default: the signing key)."),
    ] = [],  # noqa: B006
    threshold: Annotated[int, typer.Option(help="Governor approvals a proposal needs.")] = 1,
    force: Annotated[
        bool, typer.Option("--force", help="Deploy anew even if the chain already has the registry.")
    ] = False,
    rpc_url: RpcOpt = None,
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Deploy the registry contracts and write the chain's deployment manifest."""
    w3 = connect(rpc_url)
    governors = [account(g) for g in governor]
    deployer = signer(key, password_file)
    manifest = deploy_registry(
        w3, deployer, governors or [deployer.address], threshold, get_settings().deployments, force=force
    )
    path = manifest.path_for(get_settings().deployments, manifest.chain_id)

    def human() -> None:
        console.print(
            f"[green]✓[/] registry deployed on chain {manifest.chain_id} at block {manifest.deployment_block}"
        )
        for name, deployment in manifest.contracts.items():
            console.print(f"  {name:<12} {deployment.address}")
        console.print(f"  manifest     {path}")

    emit(as_json, {"manifest": path, **jsonable(manifest)}, human)
