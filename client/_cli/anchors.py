"""`idsreg anchor [new] PATH...` and `idsreg anchor list [PATH|ROOT]`: batch anchors and their proofs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from typer.core import TyperGroup

from ..errors import ConfigError, NotAnchoredError
from ..times import iso
from .common import JsonOpt, KeyOpt, PasswordFileOpt, RpcOpt, console, emit, err_console, registry, signer
from .datasets import hash_all, hash_path
from .lists import DEFAULT_LIMIT, LimitOpt, anchor_list
from .session import ApiUrlOpt
from .tx import print_tx, tx_json

if TYPE_CHECKING:
    from ..proof_store import IndexedAnchor


class _AnchorGroup(TyperGroup):
    """`idsreg anchor PATH...` stays the way to anchor: arguments that name no subcommand go to `new`."""

    # `Any`: Typer's Context type lives in its private, vendored copy of Click.
    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = ["new", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=_AnchorGroup,
    help="Anchor files in one transaction (`idsreg anchor PATH...`) and find their proofs again.",
    no_args_is_help=True,
)


@app.command("new")
def anchor(
    paths: Annotated[list[Path], typer.Argument(help="Files or directories to anchor together.")],
    out: Annotated[
        Path, typer.Option(help="Folder for the proofs (one sub-folder per anchor, named by its root).")
    ] = Path("idsreg-proofs"),
    note: Annotated[str, typer.Option(help="A note about the batch (its hash goes on chain).")] = "",
    key: KeyOpt = None,
    password_file: PasswordFileOpt = None,
    rpc_url: RpcOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Anchor the content roots of many files in one transaction; write one proof file each.

    `idsreg anchor PATH...` does the same. Proof files never replace a file: they go to
    OUT/<root>/, and each anchor is recorded in $IDSREG_HOME/anchors.jsonl (`idsreg anchor list`).
    """
    from eth_utils import keccak

    from ..anchors import Anchors
    from ..hashing import hex32
    from ..proof_store import AnchorIndex, planned_files, save_proofs
    from ..settings import get_settings

    roots = hash_all(paths, not as_json)
    labels = [str(p) for p in paths]
    files = planned_files(out, roots, labels)  # refuses a taken name before anything is sent
    anchors = Anchors(registry(rpc_url))
    batch = anchors.anchor(signer(key, password_file), roots, labels, keccak(text=note) if note else bytes(32))
    written = save_proofs(batch, files, AnchorIndex(get_settings().anchor_index))
    data = {"root": hex32(batch.root), "count": len(roots), "proofs": [str(p) for p in written], **tx_json(batch.tx)}

    def human() -> None:
        print_tx(batch.tx, f"anchored {len(roots)} item(s) under root {hex32(batch.root)}")
        console.print(f"  {len(written)} proof file(s) in {escape(str(written[0].parent))}/", soft_wrap=True)

    emit(as_json, data, human)


@app.command("list")
def list_(
    what: Annotated[
        str | None,
        typer.Argument(
            help="A file or folder (its content root), an anchored item's content root, or an anchor's root."
        ),
    ] = None,
    org: Annotated[
        str | None, typer.Option("--org", help="Instead: this organisation's anchors, from the registry API.")
    ] = None,
    everyone: Annotated[
        bool, typer.Option("--all", help="Instead: every organisation's anchors, from the API.")
    ] = False,
    limit: LimitOpt = DEFAULT_LIMIT,
    url: ApiUrlOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List your anchors and their proof files, from the anchor index. Exit 6 if none holds WHAT.
    With --org or --all: anchors on the chain, from the registry API."""
    from ..hashing import hex32
    from ..proof_store import AnchorIndex, matching
    from ..settings import get_settings

    if org is not None or everyone:
        if what is not None or (org is not None and everyone):
            raise ConfigError("anchor list takes WHAT (your anchor index), --org ORG or --all (the API): one of them")
        return anchor_list(org, limit, url, as_json)
    index = AnchorIndex(get_settings().anchor_index)
    anchors, unreadable = index.read()
    for bad in unreadable:
        err_console.print(
            f"[red]error:[/] line {bad.line} of anchor index {index.path} is unreadable: {bad.reason}", soft_wrap=True
        )
    if what is not None:
        wanted = what if _is_root(what) else hex32(hash_path(Path(what), not as_json))
        anchors = matching(anchors, wanted)
        if not anchors:
            missing = NotAnchoredError(wanted, index.path, "" if wanted == what else what)
            if not unreadable:
                raise missing
            err_console.print(f"[red]error:[/] {missing}", soft_wrap=True)
            raise typer.Exit(2)  # the answer may be on the damaged line

    def human() -> None:
        if not anchors:
            console.print(f"no anchors recorded in {index.path}")
        for a in anchors:
            _print_anchor(a)

    emit(as_json, [_anchor_json(a) for a in anchors], human)
    if unreadable:
        raise typer.Exit(2)


def _is_root(value: str) -> bool:
    text = value.lower()
    return len(text) == 66 and text.startswith("0x") and all(c in "0123456789abcdef" for c in text[2:])


def _anchor_json(a: IndexedAnchor) -> dict[str, Any]:
    return {
        "root": a.root,
        "chainId": a.chain_id,
        "contract": a.contract,
        "transaction": a.transaction,
        "blockNumber": a.block_number,
        "blockHash": a.block_hash,
        "anchoredAt": a.anchored_at,
        "anchoredBy": a.anchored_by,
        "treeSize": a.tree_size,
        "proofs": [
            {"item": p.item, "leaf": p.leaf, "leafIndex": p.leaf_index, "file": p.file, "exists": p.exists}
            for p in a.proofs
        ],
    }


def _print_anchor(a: IndexedAnchor) -> None:
    console.print(
        f"[bold]{a.root}[/]  {a.tree_size} item(s), chain {a.chain_id} block {a.block_number}, {iso(a.anchored_at)}",
        soft_wrap=True,
    )
    console.print(f"  transaction {a.transaction}", soft_wrap=True)
    for p in a.proofs:
        missing = "" if p.exists else "  [red](missing)[/]"
        console.print(f"  {p.leaf_index:>5}  {escape(p.item)}  →  {escape(p.file)}{missing}", soft_wrap=True)


@app.command("proof")
def proof_export(
    proof: Annotated[Path, typer.Argument(help="An anchor's proof file (idsreg-inclusion-proof/1 JSON).")],
    format: Annotated[
        str, typer.Option("--format", help="Output form: tlog-proof (c2sp.org/tlog-proof@v1) or json.")
    ] = "tlog-proof",
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write it to this new file (default: stdout).")
    ] = None,
) -> None:
    """Print an anchor's proof file in another form: the C2SP tlog-proof that transparency-log
    tooling reads (docs/proofs.md), or the JSON file itself. The proof is checked offline first."""
    from ..files import create_new
    from ..proofs import ProofFile
    from ..tlog_proof import to_tlog_proof

    if format not in ("tlog-proof", "json"):
        raise ConfigError(f"proof format {format!r} is not one of tlog-proof, json")
    loaded = ProofFile.read(proof)
    text = to_tlog_proof(loaded) if format == "tlog-proof" else loaded.to_json()
    if out is None:
        console.out(text, end="", highlight=False)
    else:
        create_new(out, text, what="proof file")
