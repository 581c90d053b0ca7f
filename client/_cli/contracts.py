"""`idsreg chain verify-contracts`: is the code at the manifest's addresses the committed artifacts?"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from ..chain.manifest import Manifest
from ..errors import IdsRegistryError
from .common import JsonOpt, RpcOpt, console, emit

if TYPE_CHECKING:
    from ..chain.codecheck import CodeCheck


class ContractsDifferError(IdsRegistryError):
    """Code at a manifest address that is not the committed artifact's."""

    exit_code = 4


def verify_contracts(
    ignore_metadata: Annotated[
        bool,
        typer.Option(
            "--ignore-metadata", help="Accept code that differs from the artifact only in solc's metadata hash."
        ),
    ] = False,
    rpc_url: RpcOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Compare the code at the manifest's addresses with the committed artifacts (immutables masked).

    Exit 0 when every contract is the artifact's, 4 naming those that are not, 3 without a node or manifest.
    """
    from ..chain.codecheck import check_deployment
    from ..chain.registry import connect
    from ..locations import artifacts_dir
    from ..settings import get_settings

    w3 = connect(rpc_url)
    directory = get_settings().deployments
    manifest = Manifest.load(directory, int(w3.eth.chain_id))
    checks = check_deployment(w3, manifest)
    failed = [c for c in checks if not c.passes(ignore_metadata)]
    data = {
        "chainId": manifest.chain_id,
        "manifest": str(Manifest.path_for(directory, manifest.chain_id)),
        "verified": not failed,
        "contracts": [_json(c, manifest, ignore_metadata) for c in checks],
    }

    def human() -> None:
        console.print(f"contracts on chain {manifest.chain_id} against {artifacts_dir()}:", soft_wrap=True)
        for c in checks:
            mark = "[green]✓[/]" if c.passes(ignore_metadata) else "[red]✗[/]"
            wiring = f" (immutables: {', '.join(c.immutables)})" if c.immutables else ""
            console.print(f"  {mark} {c.name:<15} {c.address or '-'}  {c.detail}{wiring}", soft_wrap=True)

    emit(as_json, data, human)
    if failed:
        named = "; ".join(f"{c.name} at {c.address or '(none)'}: {c.detail}" for c in failed)
        raise ContractsDifferError(
            f"{len(failed)} contract(s) of the manifest are not the committed artifacts: {named}"
        )


def _json(check: CodeCheck, manifest: Manifest, ignore_metadata: bool) -> dict[str, object]:
    from ..chain.artifacts import load_artifact

    recorded = manifest.contracts.get(check.name)
    return {
        "name": check.name,
        "address": check.address,
        "status": check.status.value,
        "passes": check.passes(ignore_metadata),
        "detail": check.detail,
        "immutables": list(check.immutables),
        "manifestArtifactDigestMatches": recorded is not None
        and recorded.artifact_digest == load_artifact(check.name).digest,
    }
