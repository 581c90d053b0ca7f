"""`idsreg dispute open|prove|vote|close|show`: rights disputes settled by the arbiters."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..chain.enums import label
from ..datasets import parse_root
from ..disputes import Disputes
from ..errors import ConfigError
from ..proofs import ProofFile
from ..times import iso
from .common import JsonOpt, KeyOpt, PasswordFileOpt, RpcOpt, console, emit, evidence_hash, registry, signer
from .datasets import parse_right
from .tx import print_tx, tx_json

app = typer.Typer(help="Dispute a right on a dataset; arbiters rule.", no_args_is_help=True)

DisputeArg = Annotated[int, typer.Argument(help="Dispute number.", min=1)]


@app.command("open")
def open_(
    dataset: Annotated[str, typer.Argument(help="Dataset id (0x + 64 hex digits).")],
    right: Annotated[str, typer.Argument(help="holding, processing or operation.")],
    evidence: Annotated[str, typer.Option(help="Evidence document (its SHA-256 is recorded) or a 0x hash.")],
    key: KeyOpt = None,
    password_file: PasswordFileOpt = None,
    rpc_url: RpcOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Claim a right on a dataset for your organisation; the right is frozen while the dispute is open,
    for the council's dispute period at most."""
    root, which = parse_root(dataset), parse_right(right)
    dispute_id, tx = Disputes(registry(rpc_url)).open(signer(key, password_file), root, which, evidence_hash(evidence))
    until = int(tx.event("RightFrozen").args["until"])
    emit(
        as_json,
        {"disputeId": dispute_id, "frozenUntil": until, **tx_json(tx)},
        lambda: print_tx(
            tx,
            f"dispute {dispute_id} opened on the {label(which)} right of {dataset}; "
            f"the right is frozen until {iso(until)} at the latest",
        ),
    )


@app.command("prove")
def prove(
    dispute: DisputeArg,
    proof: Annotated[
        Path, typer.Option(help="Proof file of an anchor your organisation made before the registration.")
    ],
    key: KeyOpt = None,
    password_file: PasswordFileOpt = None,
    rpc_url: RpcOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Prove on chain that your organisation anchored the dataset before it was registered."""
    tx = Disputes(registry(rpc_url)).prove(signer(key, password_file), dispute, ProofFile.read(proof))
    emit(as_json, tx_json(tx), lambda: print_tx(tx, f"prior anchoring proven for dispute {dispute}"))


@app.command("vote")
def vote(
    dispute: DisputeArg,
    ruling: Annotated[str, typer.Argument(help="uphold or dismiss.")],
    key: KeyOpt = None,
    password_file: PasswordFileOpt = None,
    rpc_url: RpcOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Vote on a dispute as an arbiter; at the arbiters' threshold it is upheld or dismissed."""
    if ruling not in ("uphold", "dismiss"):
        raise ConfigError(f"ruling {ruling!r} is neither uphold nor dismiss")
    disputes = Disputes(registry(rpc_url))
    tx = disputes.vote(signer(key, password_file), dispute, ruling == "uphold")
    status = label(disputes.show(dispute).status)
    emit(
        as_json,
        {"status": status, **tx_json(tx)},
        lambda: print_tx(tx, f"voted {ruling} on dispute {dispute}: {status}"),
    )


@app.command("close")
def close(
    dispute: DisputeArg,
    key: KeyOpt = None,
    password_file: PasswordFileOpt = None,
    rpc_url: RpcOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Close a dispute whose period has ended or whose claimant is no longer an active member (anyone)."""
    tx = Disputes(registry(rpc_url)).close(signer(key, password_file), dispute)
    emit(as_json, tx_json(tx), lambda: print_tx(tx, f"dispute {dispute} closed undecided (lapsed); the right is free"))


@app.command("show")
def show(dispute: DisputeArg, rpc_url: RpcOpt = None, as_json: JsonOpt = False) -> None:
    """Show a dispute: the claim, the evidence, proven prior anchoring and the votes."""
    info = Disputes(registry(rpc_url)).show(dispute)

    def human() -> None:
        console.print(f"[bold]dispute {info.dispute_id}[/]: {label(info.status)}")
        console.print(f"  dataset          {info.root}, {label(info.right)} right (now held by {info.holder})")
        console.print(f"  claimant         {info.claimant} against {info.respondent}, opened {iso(info.opened_at)}")
        console.print(f"  period ends      {iso(info.expires_at)} (the freeze lapses then)")
        console.print(f"  registered       {iso(info.registered_at)}")
        console.print(f"  evidence         {info.evidence_hash}")
        if info.prior_anchored_at is not None:
            console.print(
                f"  prior anchoring  proven: anchored {iso(info.prior_anchored_at)} (root {info.prior_anchor_root})"
            )
        console.print(
            f"  votes            {info.uphold_votes} uphold, {info.dismiss_votes} dismiss (threshold {info.threshold})"
        )

    emit(as_json, info, human)
