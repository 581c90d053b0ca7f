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
from ..hashing import content_root
from ..jsonable import jsonable
from ..proofs import ProofFile
from ..times import iso
from .common import JsonOpt, KeyOpt, PasswordFileOpt, RpcOpt, console, emit, err_console, registry, signer
from .progress import byte_progress, count_progress
from .session import ApiUrlOpt, client_for, org_text
from .source import SourceOpt, dataset_record, read_source
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
    from ..datasets import Datasets, hex32, parse_root

    chosen_grade = parse_grade(grade)
    check_suggested_grade(chosen_grade, meta, answers, force)
    parents = tuple(parse_root(p) for p in parent)
    if batch is not None:
        if path is not None or meta is not None or commit:
            raise ConfigError("--batch registers the listed paths; give no PATH, --meta or --commit with it")
        from ..batch import read_listing
        from .batch import register_batch  # it imports this module

        paths = read_listing(batch)
        register_batch(
            batch, paths, chosen_grade, parents, manifest_uri, chunk_size, key, password_file, rpc_url, as_json
        )
        return
    if path is None:
        raise ConfigError("give a PATH to register, or --batch LIST")
    root = hash_path(path, not as_json)
    document = None
    if meta is not None:
        try:
            document = meta.read_bytes()
        except OSError as exc:
            raise ConfigError(f"cannot read metadata file {meta}: {exc.strerror}") from None
    from ..registrations import Commitment, Registrar, SaltRecords
    from ..settings import get_settings

    reg = registry(rpc_url)
    registrar = Registrar(Datasets(reg), SaltRecords(get_settings().registrations_dir))
    committed: list[Commitment] = []
    try:
        done = registrar.register(
            signer(key, password_file),
            root,
            str(path),
            chosen_grade,
            metadata=document,
            metadata_file=str(meta) if meta else None,
            metadata_uri=meta_uri,
            parents=parents,
            commit=commit,
            on_committed=committed.append,
        )
    except IdsRegistryError:
        if committed:
            err_console.print(f"note: the salt of the commitment is kept in {committed[0].record}", soft_wrap=True)
        raise
    tx, saved, pending = done.tx, done.saved, done.commit_record
    data = {**done.record, "record": saved, **({"commitRecord": pending} if pending else {}), **tx_json(tx)}

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
        _print_dataset(jsonable(v.registration), indent="  ")


def _print_dataset(d: dict[str, Any], indent: str = "") -> None:
    """A dataset as `dataset show` prints it, from its JSON form (the chain's record, or the
    same record as the registry API gives it)."""
    console.print(
        f"{indent}registered by    {org_text(d['registrant'])} at {iso(d['registeredAt'])}, block {d['blockNumber']}"
    )
    console.print(f"{indent}transaction      {d['transaction']}")
    console.print(f"{indent}grade            {d['grade']}")
    for right, holder in d["holders"].items():
        offer = f"  (offered to {org_text(d['offers'][right])})" if right in d["offers"] else ""
        console.print(f"{indent}{right + ' right':<16} {org_text(holder)}{offer}")
    for parent in d["parents"]:
        console.print(f"{indent}derived from     {parent}")
    for child in d["children"]:
        console.print(f"{indent}derived into     {child}")
    if d["metadataUri"]:
        console.print(f"{indent}metadata         {d['metadataUri']} (hash {d['metadataHash']})")


# ----- dataset / right -----


@dataset_app.command("show")
def dataset_show(
    dataset: IdArg, rpc_url: RpcOpt = None, url: ApiUrlOpt = None, source: SourceOpt = "auto", as_json: JsonOpt = False
) -> None:
    """Show a dataset: registrant, time, grade, right holders, lineage, metadata. From the registry
    API when one is configured (--source), else from the chain."""
    from ..hashing import hex32, parse_root

    root = parse_root(dataset)
    api_url = read_source(source, url)
    if api_url is not None:
        with client_for(api_url) as api:
            info = dataset_record(api, hex32(root))
    else:
        from ..datasets import Datasets

        info = jsonable(Datasets(registry(rpc_url)).show(root))

    def human() -> None:
        console.print(f"[bold]dataset {info['root']}[/]")
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
