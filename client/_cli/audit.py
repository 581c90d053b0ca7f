"""`idsreg audit DATASET` (export a dataset's audit bundle) and `idsreg audit verify BUNDLE`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from typer.core import TyperGroup

from ..errors import ConfigError, UnknownRecordError
from .common import JsonOpt, RpcOpt, console, emit, err_console
from .session import ApiUrlOpt

FormatOpt = Annotated[
    str | None,
    typer.Option("--format", help="The report's format, html or pdf (default: by the --report file's suffix)."),
]

if TYPE_CHECKING:
    from ..audit.bundle import Bundle
    from ..audit.evidence import Header
    from ..audit.verify import Verified


class _AuditGroup(TyperGroup):
    """`idsreg audit DATASET` exports: arguments that name no subcommand go to `export`."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = ["export", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=_AuditGroup,
    help="Audit bundles: a dataset's whole history as one file that verifies offline (`idsreg audit DATASET`).",
    no_args_is_help=True,
)


@app.command("export")
def export(
    dataset: Annotated[str, typer.Argument(help="Dataset id: its content root, 0x followed by 64 hex digits.")],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Bundle file to write (default: audit-<root>.json).")
    ] = None,
    depth: Annotated[int, typer.Option(min=0, max=16, help="Lineage generations up and down to include.")] = 1,
    terms: Annotated[
        list[Path] | None,
        typer.Option(
            "--terms",
            help="A licence terms file, receipt file or terms opening to disclose in the bundle (repeatable); "
            "those in $IDSREG_HOME/terms are added.",
        ),
    ] = None,
    to_block: Annotated[int | None, typer.Option(min=0, help="Last block to cover (default: the head).")] = None,
    checkpoint: Annotated[
        list[Path] | None,
        typer.Option(
            "--checkpoint",
            help="A cosigned checkpoint note (repeatable): the bundle ends at the largest's last block and "
            "carries them, so that it verifies with no node (`audit verify --trust`).",
        ),
    ] = None,
    no_checkpoint: Annotated[
        bool,
        typer.Option(
            "--no-checkpoint",
            help="Do not fetch the latest cosigned checkpoint from the registry API (the bundle then ends at "
            "the head, or --to-block, and verifies only against a node).",
        ),
    ] = False,
    report: Annotated[
        Path | None,
        typer.Option(
            "--report",
            help="Also verify the bundle (against the node) and write its report here: HTML or PDF, by the "
            "name's suffix (.html, .pdf) or --format.",
        ),
    ] = None,
    report_format: FormatOpt = None,
    prov: Annotated[
        Path | None,
        typer.Option("--prov", help="Also verify the bundle (against the node) and write its W3C PROV-JSON here."),
    ] = None,
    api: ApiUrlOpt = None,
    rpc_url: RpcOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Export every fact about a dataset, with its evidence down to the block, as one bundle file.

    The bundle holds every header from the registry's deployment to the last block, the complete
    receipts of every block whose logs bloom may hold a fact, each fact's receipt proof, and the
    terms openings you hold for its licences and receipts (docs/audit.md). It is never replaced.
    Without --checkpoint (and --no-checkpoint, --to-block) the latest cosigned checkpoint is
    fetched from the registry API, so that the bundle's last block is authenticated.
    With --report or --prov the written bundle is verified, its last block checked against the
    node, and the report or PROV-JSON made from it.
    """
    from ..audit.export import export_bundle
    from ..audit.openings import held_openings
    from ..files import create_new
    from ..hashing import parse_root
    from ..settings import get_settings
    from .common import registry

    root = parse_root(dataset)
    path = out or Path(f"audit-0x{root.hex()}.json")
    if path.exists():
        raise ConfigError(f"bundle file {path} already exists; it is kept as it is (choose another --out)")
    kind = _refuse_existing(prov=prov, report=report, report_format=report_format)
    openings = held_openings(terms or [], get_settings().terms_dir)
    notes = [_read(p, "checkpoint note") for p in checkpoint or []]
    fetched = ""
    if not notes and not no_checkpoint and to_block is None:
        notes, fetched = _latest_checkpoint(api)
    try:
        bundle = export_bundle(
            registry(rpc_url), root, depth, last_block=to_block, openings=openings, checkpoints=notes
        )
    except UnknownRecordError as exc:
        if not fetched or not notes:
            raise
        raise UnknownRecordError(
            f"{exc}, the last block of the registry API's latest cosigned checkpoint: a dataset registered "
            "since is in no checkpoint yet (export with --no-checkpoint to end at the head)"
        ) from None
    data = bundle.to_bytes()
    create_new(path, data, what="audit bundle")
    summary = {
        "bundle": str(path),
        "dataset": "0x" + root.hex(),
        "facts": len(bundle.facts),
        "firstBlock": bundle.first_block,
        "lastBlock": bundle.last_block,
        "blocksWithReceipts": len(bundle.blocks),
        "openings": len(bundle.openings),
        "checkpointed": bundle.checkpoint is not None,
        "bytes": len(data),
    }
    if report is not None or prov is not None:
        from ..audit.verify import verify_bytes

        verified = verify_bytes(data, authenticate=_online(rpc_url))
        summary.update(_write_outputs(verified, prov=prov, report=report, kind=kind))

    if fetched:
        err_console.print(fetched, soft_wrap=True, markup=False, highlight=False)

    def human() -> None:
        console.print(
            f"[green]✓[/] wrote {escape(str(path))}: {len(bundle.facts)} facts about dataset 0x{root.hex()}, "
            f"blocks {bundle.first_block}..{bundle.last_block} ({len(bundle.blocks)} with their receipts), "
            f"{len(bundle.openings)} terms opening(s), {len(data):,} bytes",
            soft_wrap=True,
        )
        for what in ("report", "prov"):
            if what in summary:
                console.print(f"  wrote the {_LABELS[what]} to {escape(str(summary[what]))}", soft_wrap=True)

    emit(as_json, summary, human)


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc.strerror}") from None


def _latest_checkpoint(api: str | None) -> tuple[list[bytes], str]:
    """The latest cosigned checkpoint of the configured registry API (--api-url, IDSREG_API_URL
    or `idsreg api login`), and the note to print once the bundle is written; no checkpoint when
    no API is configured or it has none yet (the note says so)."""
    from ..checkpoints import parse_note
    from ..registry_client import ApiRefusedError, RegistryClient
    from .source import read_source

    base = read_source("auto", api)
    if base is None:
        return [], (
            "note: no registry API is configured (--api-url, IDSREG_API_URL) to fetch a cosigned checkpoint from: "
            "the bundle's last block is authenticated only by a node (`audit verify --online`)"
        )
    try:
        with RegistryClient(base) as client:
            note = str(client.get("/v1/checkpoints/latest")["note"]).encode()
    except ApiRefusedError as exc:
        if exc.status != 404:
            raise
        return [], (
            f"note: the registry API at {base} has no cosigned checkpoint yet: the bundle's last block is "
            "authenticated only by a node (`audit verify --online`)"
        )
    size = parse_note(note)[0].size
    return [note], (
        f"note: the bundle ends at block {size - 1} and carries the latest cosigned checkpoint (size {size}) "
        f"from the registry API at {base} (--no-checkpoint to skip)"
    )


def _online(rpc_url: str | None) -> Any:
    """The bundle checked against a node (client/audit/online.py)."""
    from ..audit.online import by_node
    from ..chain.registry import connect

    return by_node(connect(rpc_url))


@app.command("verify")
def verify(
    bundle_path: Annotated[Path, typer.Argument(metavar="BUNDLE", help="The audit bundle file.")],
    trust: Annotated[
        Path | None,
        typer.Option("--trust", help="Council file: the governors' witness keys that authenticate checkpoints."),
    ] = None,
    online: Annotated[
        bool,
        typer.Option(
            "--online",
            help="Also check against a node: its chain id, every header's hash, the facts' receipts.",
        ),
    ] = False,
    prov: Annotated[
        Path | None,
        typer.Option("--prov", help="Also write the verified history as W3C PROV-JSON to this new file."),
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option(
            "--report",
            help="Also write a self-contained report of the verified bundle to this new file: HTML or PDF, by "
            "the name's suffix (.html, .pdf) or --format.",
        ),
    ] = None,
    report_format: FormatOpt = None,
    rpc_url: RpcOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Verify an audit bundle with no network access: headers, receipts, proofs, completeness of
    the fact list, terms openings; the last block's hash against a checkpoint (`--trust`) or a
    node (`--online`). Exit 4 naming the fact and field that fail.

    Only a bundle that verifies gives its report (--report) and its PROV export (--prov); see
    docs/audit.md."""
    from ..audit.bundle import BundleError
    from ..audit.verify import verify_bytes

    kind = _refuse_existing(prov=prov, report=report, report_format=report_format)
    data = _read(bundle_path, "bundle")
    checks = []
    if trust is not None:
        from ..audit.trust import by_checkpoint
        from ..checkpoint_council import load_council_file

        checks.append(by_checkpoint(load_council_file(_read(trust, "council file"))))
    if online:
        checks.append(_online(rpc_url))

    def authenticate(bundle: Bundle, head: Header, facts: Any) -> str | None:
        return "; ".join(check(bundle, head, facts) for check in checks) or None

    verified = verify_bytes(data, authenticate=authenticate)
    if verified.authenticated_by is None:
        raise BundleError(
            f"header of block {verified.head.number}",
            "(hash)",
            "nothing authenticates the last block's hash: give the council file you trust (--trust) "
            "to check the bundle's checkpoint, or check against a node you trust (--online)",
        )
    written = _write_outputs(verified, prov=prov, report=report, kind=kind)
    _report(verified, bundle_path, written, as_json)


_LABELS = {"prov": "PROV-JSON export", "report": "report"}
#: Report formats by file name suffix.
REPORT_SUFFIXES = {".html": "html", ".htm": "html", ".pdf": "pdf"}


def report_kind(report: Path, given: str | None) -> str:
    """The report's format: `given` (--format), else by the file name's suffix; ConfigError
    naming the file for a suffix that says neither."""
    if given is not None:
        if given.lower() not in ("html", "pdf"):
            raise ConfigError(f"report format {given!r} is not one of html, pdf")
        return given.lower()
    kind = REPORT_SUFFIXES.get(report.suffix.lower())
    if kind is None:
        raise ConfigError(
            f"report {report}: cannot tell its format from the suffix {report.suffix or '(none)'!r}; "
            "name it .html or .pdf, or give --format html|pdf"
        )
    return kind


def _refuse_existing(*, prov: Path | None, report: Path | None, report_format: str | None = None) -> str:
    """Refuse an existing report or PROV file, or a report of no known format, before any work
    (they are never replaced); the report's format."""
    kind = report_kind(report, report_format) if report is not None else "html"
    for what, path in (("PROV file", prov), ("report", report)):
        if path is not None and path.exists():
            raise ConfigError(f"{what} {path} already exists; it is kept as it is (choose another name)")
    return kind


def _write_outputs(verified: Verified, *, prov: Path | None, report: Path | None, kind: str) -> dict[str, str]:
    """The files made from a verified bundle, by what they are."""
    import json

    from ..files import create_new

    written = {}
    if prov is not None:
        from ..audit.prov import to_prov

        document = json.dumps(to_prov(verified), indent=2, sort_keys=True) + "\n"
        written["prov"] = str(create_new(prov, document, what="PROV file"))
    if report is not None:
        if kind == "pdf":
            from ..audit.report_pdf import render_pdf

            written["report"] = str(create_new(report, render_pdf(verified), what="report"))
        else:
            from ..audit.report import render

            written["report"] = str(create_new(report, render(verified), what="report"))
    return written


def _report(verified: Verified, path: Path, written: dict[str, str], as_json: bool) -> None:
    bundle = verified.bundle
    data = {
        "verified": True,
        "bundle": str(path),
        "dataset": "0x" + bundle.dataset.hex(),
        "chainId": bundle.chain_id,
        "firstBlock": bundle.first_block,
        "lastBlock": bundle.last_block,
        "lastBlockHash": "0x" + verified.head.hash.hex(),
        "authenticatedBy": verified.authenticated_by,
        "headersChecked": verified.blocks_checked,
        "receiptsChecked": verified.receipts_checked,
        "facts": [
            {"block": f.block, "tx": f.tx, "log": f.index, "contract": f.contract, "event": f.event, "about": f.about}
            for f in verified.facts
        ],
        "undisclosedTerms": [
            {"event": f.event, "block": f.block, "termsCommitment": c} for f, c in verified.undisclosed
        ],
        **written,
    }

    def human() -> None:
        console.print(
            f"[green]✓ verified[/] {escape(str(path))}: {len(verified.facts)} facts about dataset "
            f"0x{bundle.dataset.hex()} on chain {bundle.chain_id}, blocks {bundle.first_block}..{bundle.last_block} "
            f"({verified.blocks_checked} headers, {verified.receipts_checked} receipts checked)",
            soft_wrap=True,
        )
        console.print(f"  last block {bundle.last_block} 0x{verified.head.hash.hex()}: {verified.authenticated_by}")
        for fact in verified.facts:
            console.print(f"  {fact.about:<8} {fact.contract}.{fact}")
        for fact, commitment in verified.undisclosed:
            err_console.print(
                f"note: the terms of {fact} (commitment {commitment}) are not disclosed in the bundle", soft_wrap=True
            )
        for what, written_path in written.items():
            console.print(f"  wrote the {_LABELS[what]} to {escape(written_path)}", soft_wrap=True)

    emit(as_json, data, human)
