"""`idsreg checkpoint …`: governors' witness keys, cosigning checkpoints of the chain's block
hashes, the council file an auditor trusts, and verifying a checkpoint offline (docs/audit.md)."""

from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import ConfigError
from .common import JsonOpt, KeyOpt, PasswordFileOpt, RpcOpt, console, emit, password, registry, signer
from .session import ApiUrlOpt

app = typer.Typer(help="Cosigned checkpoints of the chain's block hashes (C2SP tlog-checkpoint).", no_args_is_help=True)
key_app = typer.Typer(help="Governors' Ed25519 witness keys.", no_args_is_help=True)
app.add_typer(key_app, name="key")

WitnessOpt = Annotated[
    str, typer.Option("--witness", "-w", help="Label of the witness key (idsreg checkpoint key new).")
]
GovernorOpt = Annotated[
    str, typer.Option("--governor", "-g", help="The governor's account: address or keystore label.")
]
SizeOpt = Annotated[
    int | None,
    typer.Option("--size", help="Cosign the tree of the first SIZE blocks (default: up to the head).", min=1),
]
NoSubmitOpt = Annotated[bool, typer.Option("--no-submit", help="Do not hand the cosignature to the registry API.")]
OutOpt = Annotated[Path | None, typer.Option("--out", "-o", help="Also write the cosigned note to this new file.")]


def _witness_store() -> Any:
    from ..settings import get_settings
    from ..witness_keys import WitnessKeystore

    return WitnessKeystore(get_settings().home / "witness")


@key_app.command("new")
def key_new(
    label: Annotated[str, typer.Argument(help="Label of the new witness key.")],
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create an Ed25519 witness key, stored encrypted in $IDSREG_HOME/witness/ (the private key
    is never printed); prints its public key, which governance registers with `key propose`."""
    entry = _witness_store().create(label, password(f"witness key {label!r}", password_file, confirm=True))
    public = base64.b64encode(entry.public_key).decode()
    emit(
        as_json,
        {"label": label, "publicKey": public, "file": str(entry.path)},
        lambda: console.print(f"witness key {label}: public key {public}\nkept in {entry.path}"),
    )


@key_app.command("propose")
def key_propose(
    governor: Annotated[str, typer.Argument(help="The governor: address or keystore label.")],
    witness: Annotated[str, typer.Argument(help="Witness key label, or its public key in base64 (32 bytes).")],
    key: KeyOpt = None,
    password_file: PasswordFileOpt = None,
    rpc_url: RpcOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Propose WITNESS as GOVERNOR's witness key (a governance proposal: SetWitnessKey)."""
    from ..consortium import Consortium
    from .common import account
    from .member import _show_outcome

    public = _public_key(witness)
    outcome = Consortium(registry(rpc_url)).propose_witness_key(signer(key, password_file), account(governor), public)
    _show_outcome(outcome, as_json, "set witness key")


def _public_key(value: str) -> bytes:
    from ..errors import KeystoreError

    try:
        return bytes(_witness_store().find(value).public_key)
    except KeystoreError:
        pass
    try:
        raw = base64.b64decode(value, validate=True)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise ConfigError(f"{value!r} is neither a witness key label nor a base64 Ed25519 public key (32 bytes)")
    return raw


def _cosign_once(
    witness: str, governor: str, seed: bytes, rpc_url: str | None, size: int | None, submit: bool, url: str | None
) -> dict[str, Any]:
    from ..checkpoint_witness import cosign_head
    from ..settings import get_settings
    from .common import account
    from .session import client_for

    store = _witness_store()
    entry = store.find(witness)
    state = get_settings().home / "witness" / f"{witness}.last"
    done = cosign_head(registry(rpc_url), account(governor), seed, entry.public_key, state, size=size)
    result: dict[str, Any] = {
        "origin": done.checkpoint.origin,
        "size": done.checkpoint.size,
        "root": base64.b64encode(done.checkpoint.root).decode(),
        "previousSize": done.previous_size,
        "note": done.note.decode(),
    }
    if submit:
        with client_for(url) as client:
            result["service"] = client.submit_cosignature(done.note)
    return result


def _show(result: dict[str, Any]) -> None:
    line = f"cosigned checkpoint {result['origin']} size {result['size']} root {result['root']}"
    if result["previousSize"]:
        line += f" (extends size {result['previousSize']})"
    console.print(line)
    service = result.get("service")
    if service is not None:
        state = "counts" if service.get("counted") else "waiting for more cosignatures"
        console.print(
            f"registry API: {len(service.get('cosigners', []))} of {service.get('threshold')} needed, {state}"
        )


@app.command("sign")
def sign(
    witness: WitnessOpt,
    governor: GovernorOpt,
    size: SizeOpt = None,
    out: OutOpt = None,
    no_submit: NoSubmitOpt = False,
    password_file: PasswordFileOpt = None,
    rpc_url: RpcOpt = None,
    url: ApiUrlOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Cosign the checkpoint of your own node's chain as GOVERNOR with its witness key: the tree
    over the node's block hashes, checked to extend the one this witness cosigned last; then hand
    it to the registry API."""
    from ..files import create_new

    seed = _witness_store().unlock(witness, password(f"witness key {witness!r}", password_file))
    result = _cosign_once(witness, governor, seed, rpc_url, size, not no_submit, url)
    if out is not None:
        create_new(out, result["note"], what="cosigned checkpoint")
    emit(as_json, result, lambda: _show(result))


@app.command("witness")
def witness_loop(
    witness: WitnessOpt,
    governor: GovernorOpt,
    interval: Annotated[float, typer.Option(help="Seconds between cosignatures.", min=0.1)] = 10.0,
    rounds: Annotated[int, typer.Option(help="Stop after this many cosignatures (0: never).", min=0)] = 0,
    password_file: PasswordFileOpt = None,
    rpc_url: RpcOpt = None,
    url: ApiUrlOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Cosign the head of your node's chain every INTERVAL seconds and hand each cosignature to
    the registry API (a long-running witness; Ctrl-C stops it). A tree that does not extend the
    last one cosigned stops it with the reason."""
    seed = _witness_store().unlock(witness, password(f"witness key {witness!r}", password_file))
    done = 0
    last_size = 0
    while True:
        result = _cosign_once(witness, governor, seed, rpc_url, None, True, url)
        if result["size"] != last_size:
            emit(as_json, result, lambda shown=result: _show(shown))  # type: ignore[misc]
            last_size = result["size"]
        done += 1
        if rounds and done >= rounds:
            return
        time.sleep(interval)


@app.command("council")
def council(
    out: Annotated[Path, typer.Option("--out", "-o", help="The council file to write (a new file).")],
    at: Annotated[
        int | None, typer.Option("--at", help="The council as of this block (default: the head).", min=0)
    ] = None,
    rpc_url: RpcOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Write the council file (docs/audit.md) of the council as your own node sees it at a block:
    what an auditor passes as --trust."""
    from ..checkpoint_council import TrustedCouncil, dump_council_file
    from ..checkpoint_node import node_council_history
    from ..files import create_new

    reg = registry(rpc_url)
    block = int(reg.w3.eth.block_number) if at is None else at
    history = node_council_history(reg)
    trusted = TrustedCouncil(history.start.origin, block, history.state_at(block))
    create_new(out, dump_council_file(trusted), what="council file")
    data = {"file": str(out), "origin": trusted.origin, "block": block, "threshold": trusted.state.threshold,
            "governors": sorted(trusted.state.governors)}  # fmt: skip
    emit(as_json, data, lambda: console.print(
        f"council file {out}: {len(trusted.state.governors)} governors, threshold {trusted.state.threshold}, "
        f"{len(trusted.state.keys)} witness keys, as of block {block}"))  # fmt: skip


@app.command("verify")
def verify(
    note: Annotated[Path, typer.Argument(help="A cosigned checkpoint note (text, C2SP signed note).")],
    trust: Annotated[Path, typer.Option("--trust", help="The council file you trust (idsreg checkpoint council).")],
    as_json: JsonOpt = False,
) -> None:
    """Check offline that NOTE is a checkpoint of the trusted council's registry that at least its
    threshold of governors cosigned (exit 4 if not, saying why)."""
    from ..checkpoint_council import CouncilHistory, counted_checkpoints, load_council_file

    trusted = load_council_file(_read(trust, "council file"))
    checkpoint = counted_checkpoints([_read(note, "checkpoint note")], CouncilHistory(trusted))[0]
    root = base64.b64encode(checkpoint.root).decode()
    data = {"origin": checkpoint.origin, "size": checkpoint.size, "root": root, "verified": True}
    emit(as_json, data, lambda: console.print(f"checkpoint {checkpoint.origin} size {checkpoint.size} root {root}: "
                                               f"cosigned by the trusted council"))  # fmt: skip


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc.strerror}") from None
