"""`idsreg hash | register | verify | dataset | right`: datasets and rights."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..chain.enums import Grade, Right, label
from ..errors import ConfigError, HashingError, IdsRegistryError
from ..files import create_new, private_folder
from ..hashing import content_root
from ..jsonable import jsonable
from ..proofs import ProofFile
from ..times import iso
from .common import JsonOpt, KeyOpt, PasswordFileOpt, RpcOpt, console, emit, err_console, registry, signer
from .progress import byte_progress, count_progress
from .tx import print_tx, tx_json

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from ..chain.transact import TxResult
    from ..datasets import Datasets
    from ..verify import Verdict

dataset_app = typer.Typer(help="Show registered datasets.", no_args_is_help=True)
right_app = typer.Typer(
    help="Move a dataset's rights between organisations by offer and acceptance.", no_args_is_help=True
)

PathArg = Annotated[Path, typer.Argument(help="A file or a directory.")]
#: `client.datasets.BATCH_SIZE`, repeated so that `idsreg --help` need not load the chain
#: bindings (tests/cli/test_startup.py checks that the two agree).
_BATCH_SIZE = 100

IdArg = Annotated[str, typer.Argument(help="Dataset id: its content root, 0x followed by 64 hex digits.")]
RightArg = Annotated[str, typer.Argument(help="holding, processing or operation.")]


def parse_grade(value: str) -> Grade:
    try:
        return Grade[value.upper()]
    except KeyError:
        raise ConfigError(f"grade {value!r} is not one of general, important, core") from None


def check_suggested_grade(chosen: Grade, meta: Path | None, answers: Path | None, force: bool) -> None:
    """Refuse (or, with --force, warn about) a grade below the classification assistant's suggestion.

    The answers come from `--answers` or from the metadata document's `classification` object;
    with neither there is no suggestion to compare with.
    """
    from ..classify import check_grade, load_rules, suggest
    from .classify import gather_answers

    if answers is None and (meta is None or not _has_classification(meta)):
        return
    book = load_rules()
    warning = check_grade(chosen, suggest(gather_answers(meta, answers, [], book), book), force)
    if warning is not None:
        err_console.print(warning, soft_wrap=True)


def _has_classification(meta: Path) -> bool:
    try:
        document = json.loads(meta.read_bytes())
    except (OSError, ValueError):
        return False  # not JSON: a metadata document is any file; it simply carries no answers
    return isinstance(document, dict) and "classification" in document


def parse_right(value: str) -> Right:
    try:
        return Right[value.upper()]
    except KeyError:
        raise ConfigError(f"right {value!r} is not one of holding, processing, operation") from None


def total_size(path: Path) -> int:
    """Bytes a hash of `path` will read (for the progress bar)."""
    if path.is_file():
        return path.stat().st_size
    total = 0
    for folder, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += (Path(folder) / name).lstat().st_size
            except OSError:
                continue
    return total


def hash_path(path: Path, show_progress: bool = True) -> bytes:
    """The content root of `path`, with a progress bar for large inputs on a terminal."""
    if not path.exists() and not path.is_symlink():
        raise HashingError(f"{path}: no such file or directory")
    with byte_progress(f"hashing {path.name}", total_size(path), show_progress) as advance:
        return content_root(path, progress=advance)


def hash_all(paths: list[Path], show_progress: bool) -> list[bytes]:
    """The content roots of many paths, with a progress bar over their count."""
    roots = []
    with count_progress("hashing", len(paths), show_progress) as advance:
        for p in paths:
            roots.append(hash_path(p, show_progress=False))
            advance(1)
    return roots


# ----- hash -----


def hash_(paths: Annotated[list[Path], typer.Argument(help="Files or directories.")], as_json: JsonOpt = False) -> None:
    """Print the content root (dataset id) of files or directories."""
    from ..hashing import hex32

    roots = [(p, hash_path(p, not as_json)) for p in paths]

    def human() -> None:
        for p, r in roots:
            console.print(f"{hex32(r)}  {p}")

    emit(as_json, [{"path": str(p), "root": hex32(r)} for p, r in roots], human)


# ----- register -----


def _keep_record(name: str, record: dict[str, Any], what: str) -> Path:
    """Keep what only the registrant knows (salts) in $IDSREG_HOME/registrations/NAME.json:
    mode 0600 in a 0700 folder, never replacing another record."""
    from ..settings import get_settings

    folder = get_settings().registrations_dir
    private_folder(folder)
    return create_new(folder / f"{name}.json", json.dumps(record, indent=2) + "\n", what=what, mode=0o600)


def _read_list(path: Path) -> list[Path]:
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise ConfigError(f"cannot read batch list {path}: {exc.strerror}") from None
    entries = [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]
    if not entries:
        raise ConfigError(f"batch list {path} names no files")
    base = path.parent
    return [Path(e) if Path(e).is_absolute() else base / e for e in entries]


def register(
    path: Annotated[Path | None, typer.Argument(help="The file or directory to register.")] = None,
    grade: Annotated[str, typer.Option(help="Classification: general, important or core.")] = "general",
    meta: Annotated[
        Path | None, typer.Option(help="Metadata document (kept off chain; a salted hash goes on chain).")
    ] = None,
    meta_uri: Annotated[str, typer.Option(help="Where the metadata document can be fetched.")] = "",
    parent: Annotated[list[str], typer.Option(help="Dataset id this one is derived from (repeat).")] = [],  # noqa: B006
    commit: Annotated[
        bool, typer.Option("--commit", help="Commit first, then reveal: front-running-proof priority.")
    ] = False,
    batch: Annotated[
        Path | None, typer.Option(help="A file listing paths (one per line) to register in batches.")
    ] = None,
    manifest_uri: Annotated[str, typer.Option(help="With --batch: where the batch's metadata can be fetched.")] = "",
    chunk_size: Annotated[int, typer.Option(help="With --batch: datasets per transaction (1-500).")] = _BATCH_SIZE,
    answers: Annotated[
        Path | None,
        typer.Option(help="Classification answers (`idsreg classify --save`): refuse a grade below the suggested one."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Register even below the suggested grade.")] = False,
    key: KeyOpt = None,
    password_file: PasswordFileOpt = None,
    rpc_url: RpcOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Register a dataset by content root for your organisation (or many with --batch)."""
    from ..consortium import Consortium
    from ..datasets import (
        Datasets,
        Registration,
        hex32,
        metadata_commitment,
        new_salt,
        parse_root,
        registration_commitment,
    )

    chosen_grade = parse_grade(grade)
    check_suggested_grade(chosen_grade, meta, answers, force)
    parents = tuple(parse_root(p) for p in parent)
    if batch is not None:
        if path is not None or meta is not None or commit:
            raise ConfigError("--batch registers the listed paths; give no PATH, --meta or --commit with it")
        from .batch import register_batch  # it imports this module

        paths = _read_list(batch)
        register_batch(
            batch, paths, chosen_grade, parents, manifest_uri, chunk_size, key, password_file, rpc_url, as_json
        )
        return
    if path is None:
        raise ConfigError("give a PATH to register, or --batch LIST")
    root = hash_path(path, not as_json)
    metadata_hash, salt = bytes(32), b""
    if meta is not None:
        try:
            document = meta.read_bytes()
        except OSError as exc:
            raise ConfigError(f"cannot read metadata file {meta}: {exc.strerror}") from None
        salt = new_salt()
        metadata_hash = metadata_commitment(document, salt)
    registration = Registration(root, chosen_grade, metadata_hash, meta_uri, parents)
    reg = registry(rpc_url)
    datasets = Datasets(reg)
    account = signer(key, password_file)
    pending: Path | None = None  # the commitment's salt record
    if commit:
        org, _role = Consortium(reg).key_info(account.address)
        if org is None:
            raise ConfigError(f"key {account.address} does not belong to a member organisation")
        reveal_salt = new_salt()
        commitment = registration_commitment(root, org, reveal_salt)
        # Kept before the commitment is sent: if the reveal fails, only this salt can still
        # reveal the commitment and keep its priority.
        pending = _keep_record(
            f"{root.hex()}-commit-{commitment.hex()}",
            {
                "root": hex32(root),
                "path": str(path),
                "chainId": reg.chain_id,
                "org": org,
                "commitment": hex32(commitment),
                "revealSalt": hex32(reveal_salt),
                "grade": label(chosen_grade),
                "metadataHash": hex32(metadata_hash),
                "metadataURI": meta_uri,
                "parents": [hex32(p) for p in parents],
                "metadataSalt": hex32(salt) if salt else None,
                "metadataFile": str(meta) if meta else None,
            },
            "commitment salt record",
        )
        datasets.commit(account, commitment)
        try:
            # Sent after the commitment's receipt, the reveal lands in a later block, as it must.
            tx = datasets.reveal(account, registration, reveal_salt)
        except IdsRegistryError:
            err_console.print(f"note: the salt of the commitment is kept in {pending}", soft_wrap=True)
            raise
    else:
        tx = datasets.register(account, registration)
    record = {
        "root": hex32(root),
        "path": str(path),
        "transaction": tx.tx_hash,
        "block": tx.block_number,
        "chainId": reg.chain_id,
        "grade": label(chosen_grade),
        "metadataHash": hex32(metadata_hash),
        "metadataSalt": hex32(salt) if salt else None,
        "metadataFile": str(meta) if meta else None,
    }
    saved = None
    if meta is not None:
        saved = _keep_record(f"{root.hex()}-{tx.tx_hash.removeprefix('0x')}", record, "metadata salt record")
    data = {**record, "record": saved, **({"commitRecord": pending} if pending else {}), **tx_json(tx)}

    def human() -> None:
        print_tx(tx, f"registered {path} as dataset {hex32(root)} ({label(chosen_grade)})")
        if saved:
            console.print(f"  metadata salt kept in {saved} (needed to prove the metadata later)")

    emit(as_json, data, human)


# ----- verify -----


def verify(
    path: PathArg,
    proof: Annotated[Path | None, typer.Option(help="An inclusion-proof file from `idsreg anchor`.")] = None,
    offline: Annotated[
        bool, typer.Option("--offline", help="With --proof: check the proof alone, contacting no node.")
    ] = False,
    rpc_url: RpcOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Verify a file against the chain. Exit 0 verified, 6 not registered, 4 proof does not match."""
    from ..anchors import Anchors
    from ..datasets import Datasets
    from ..verify import verify_root, verify_with_proof

    if offline:
        from .offline import verify_offline

        return verify_offline(path, proof, as_json)
    root = hash_path(path, not as_json)
    proof_file = ProofFile.read(proof) if proof is not None else None
    if proof_file is not None:
        proof_file.verify_offline()  # fails fast, without a node, on a tampered proof
    reg = registry(rpc_url)
    datasets, anchors = Datasets(reg), Anchors(reg)
    verdict = (
        verify_with_proof(datasets, anchors, root, proof_file, str(path))
        if proof_file is not None
        else verify_root(datasets, anchors, root, str(path))
    )
    emit(as_json, {"verified": True, **_verdict_json(verdict)}, lambda: print_verdict(verdict))


def _verdict_json(verdict: Verdict) -> dict[str, Any]:
    return {
        "path": verdict.path,
        "contentRoot": verdict.content_root,
        "registration": jsonable(verdict.registration),
        "anchor": jsonable(verdict.anchor),
    }


def print_verdict(v: Verdict) -> None:
    console.print(f"[green]✓ verified[/] {v.path}  (content root {v.content_root})")
    if v.anchor is not None:
        a = v.anchor
        console.print(f"  anchored by      {a.org} at {iso(a.anchored_at)}, block {a.block_number} ({a.block_hash})")
    if v.registration is not None:
        _print_dataset(v.registration, indent="  ")


def _print_dataset(d: Any, indent: str = "") -> None:
    console.print(f"{indent}registered by    {d.registrant} at {iso(d.registered_at)}, block {d.block_number}")
    console.print(f"{indent}transaction      {d.transaction}")
    console.print(f"{indent}grade            {label(d.grade)}")
    for right, holder in d.holders.items():
        offer = f"  (offered to {d.offers[right]})" if right in d.offers else ""
        console.print(f"{indent}{right + ' right':<16} {holder}{offer}")
    for parent in d.parents:
        console.print(f"{indent}derived from     {parent}")
    for child in d.children:
        console.print(f"{indent}derived into     {child}")
    if d.metadata_uri:
        console.print(f"{indent}metadata         {d.metadata_uri} (hash {d.metadata_hash})")


# ----- dataset / right -----


@dataset_app.command("show")
def dataset_show(dataset: IdArg, rpc_url: RpcOpt = None, as_json: JsonOpt = False) -> None:
    """Show a dataset: registrant, time, grade, right holders, lineage, metadata."""
    from ..datasets import Datasets, parse_root

    info = Datasets(registry(rpc_url)).show(parse_root(dataset))

    def human() -> None:
        console.print(f"[bold]dataset {info.root}[/]")
        _print_dataset(info, indent="  ")

    emit(as_json, info, human)


@right_app.command("offer")
def right_offer(
    dataset: IdArg,
    right: RightArg,
    org: Annotated[str, typer.Argument(help="The receiving organisation (identifier or 0x org id).")],
    key: KeyOpt = None,
    password_file: PasswordFileOpt = None,
    rpc_url: RpcOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Offer one right on a dataset your organisation holds to another organisation."""
    from ..datasets import Datasets, hex32, parse_root

    root, which = parse_root(dataset), parse_right(right)
    tx = Datasets(registry(rpc_url)).offer(signer(key, password_file), root, which, org)
    emit(as_json, tx_json(tx), lambda: print_tx(tx, f"offered the {label(which)} right on {hex32(root)} to {org}"))


def _answer_command(name: str, method: str, done: str, help: str) -> None:
    """Register `idsreg right NAME DATASET RIGHT`: answer an offer with the `Datasets` method
    named `method`; `done` says how in the report, `help` is the command's help text."""

    def answer(
        dataset: IdArg,
        right: RightArg,
        key: KeyOpt = None,
        password_file: PasswordFileOpt = None,
        rpc_url: RpcOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        from ..datasets import Datasets
        from ..hashing import hex32, parse_root

        root, which = parse_root(dataset), parse_right(right)
        change: Callable[[Datasets, LocalAccount, bytes, Right], TxResult] = getattr(Datasets, method)
        tx = change(Datasets(registry(rpc_url)), signer(key, password_file), root, which)
        emit(as_json, tx_json(tx), lambda: print_tx(tx, f"{done} the {label(which)} right on {hex32(root)}"))

    right_app.command(name, help=help)(answer)


_answer_command("accept", "accept", "accepted", "Accept a right offered to your organisation.")
_answer_command("cancel", "cancel", "withdrew the offer of", "Withdraw an offer your organisation made.")
_answer_command("reject", "reject", "rejected", "Decline a right offered to your organisation.")
