"""`idsreg dataset|grant|receipt|dispute list` and `idsreg anchor list --org|--all`: the registry
API's lists, with its filters.

Each asks the configured registry API (`--api-url`, IDSREG_API_URL, default the local
`idsreg api serve`) and sends the token of `idsreg api login` when there is one for that API:
grants and receipts need it (the API shows them to the organisations involved, auditors and
governors only). The pages are followed up to `--limit` items (0: all). People get a table
with ISO UTC times; `--json` prints the API's items as they come (camelCase), as one JSON array.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from ..errors import ConfigError
from ..times import iso, parse_time
from .common import JsonOpt, console
from .session import ApiUrlOpt, client_for, org_text

if TYPE_CHECKING:
    from pydantic import BaseModel

    from ..api_models import OrgRef

    M = TypeVar("M", bound=BaseModel)

DEFAULT_LIMIT = 100

LimitOpt = Annotated[int, typer.Option("--limit", min=0, help="At most this many items, newest first (0: all).")]


def _org_option(name: str, what: str) -> Any:
    return typer.Option(f"--{name}", help=f"Only {what}: identifier (LEI:…), 0x org id or member number.")


DatasetFilterOpt = Annotated[
    str | None, typer.Option("--dataset", help="Only this dataset (content root, 0x + 64 hex digits).")
]


def _short(value: str | None, keep: int = 10) -> str:
    """A 0x value shortened for a table ("0x1a2b3c4d…9f"); the JSON has it whole."""
    if not value:
        return "-"
    return value if len(value) <= keep + 6 else f"{value[:keep]}…{value[-4:]}"


def _org(ref: OrgRef) -> str:
    return org_text(ref.model_dump())


def _show(
    items: Iterator[M],
    as_json: bool,
    limit: int,
    columns: list[str],
    row: Callable[[M], list[str]],
    what: tuple[str, str],
) -> None:
    """Print the items (all pages read first: nothing is printed if a page fails) as a JSON
    array of the API's items, or as a table."""
    found = list(items)
    if as_json:
        sys.stdout.write(json.dumps([item.model_dump(mode="json") for item in found], indent=2) + "\n")
        return
    if not found:
        console.print(f"no {what[1]} found")
        return
    from rich.table import Table

    table = Table(*columns, show_lines=False, highlight=False)
    for item in found:
        table.add_row(*row(item))
    console.print(table, soft_wrap=True)
    more = f"; more may exist (--limit {limit * 2} or --limit 0 for all)" if limit and len(found) == limit else ""
    console.print(f"{len(found)} {what[0] if len(found) == 1 else what[1]}{more}")


def _limit(limit: int) -> int | None:
    return None if limit == 0 else limit


def dataset_list(
    registrant: Annotated[str | None, _org_option("registrant", "datasets this organisation registered")] = None,
    holder: Annotated[str | None, _org_option("holder", "datasets of which this organisation holds a right")] = None,
    right: Annotated[
        str | None, typer.Option("--right", help="With --holder: only this right (holding, processing, operation).")
    ] = None,
    grade: Annotated[str | None, typer.Option("--grade", help="general, important or core.")] = None,
    since: Annotated[
        str | None, typer.Option("--from", help="Registered on or after this UTC date (or date-time).")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--to", help="Registered on or before this UTC date (the whole day) or date-time.")
    ] = None,
    text: Annotated[str | None, typer.Option("--text", "-q", help="Text in the metadata or manifest URI.")] = None,
    limit: LimitOpt = DEFAULT_LIMIT,
    url: ApiUrlOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List registered datasets, newest first, from the registry API."""
    if right is not None and right.lower() not in ("holding", "processing", "operation"):
        raise ConfigError(f"right {right!r} is not one of holding, processing, operation")
    if grade is not None and grade.lower() not in ("general", "important", "core"):
        raise ConfigError(f"grade {grade!r} is not one of general, important, core")
    filters = {
        "registrant": registrant,
        "holder": holder,
        "right": right.lower() if right else None,
        "grade": grade.lower() if grade else None,
        "registered_from": parse_time(since) if since else None,
        "registered_to": parse_time(until, end_of_day=True) if until else None,
        "q": text,
    }
    with client_for(url) as api:
        _show(
            api.datasets(_limit(limit), **filters),
            as_json,
            limit,
            ["dataset", "grade", "registrant", "holding", "processing", "operation", "registered (UTC)"],
            lambda d: [
                d.root,
                d.grade,
                _org(d.registrant),
                _org(d.holders.holding),
                _org(d.holders.processing),
                _org(d.holders.operation),
                iso(d.registered_at),
            ],
            ("dataset", "datasets"),
        )


def grant_list(
    dataset: DatasetFilterOpt = None,
    grantee: Annotated[str | None, _org_option("grantee", "licences to this organisation")] = None,
    grantor: Annotated[str | None, _org_option("grantor", "licences from this organisation")] = None,
    status: Annotated[str | None, typer.Option("--status", help="pending, active, rejected or revoked.")] = None,
    current: Annotated[
        bool | None,
        typer.Option("--current/--replaced", help="Only current grants, or only ones a newer grant replaced."),
    ] = None,
    limit: LimitOpt = DEFAULT_LIMIT,
    url: ApiUrlOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List the licences you may see (your organisation's; all for auditors and governors), newest
    first, from the registry API. Needs `idsreg api login`."""
    if status is not None and status.lower() not in ("pending", "active", "rejected", "revoked"):
        raise ConfigError(f"status {status!r} is not one of pending, active, rejected, revoked")
    filters = {
        "dataset": dataset,
        "grantee": grantee,
        "grantor": grantor,
        "status": status.lower() if status else None,
        "current": current,
    }
    with client_for(url, token_required=True) as api:
        _show(
            api.grants(_limit(limit), **filters),
            as_json,
            limit,
            ["dataset", "grantee", "grantor", "serial", "permissions", "status", "valid from", "valid until"],
            lambda g: [
                _short(g.dataset),
                _org(g.grantee),
                _org(g.grantor),
                str(g.serial),
                ",".join(g.permissions) or "-",
                g.status + ("" if g.current else " (replaced)"),
                iso(g.valid_from),
                iso(g.valid_until),
            ],
            ("grant", "grants"),
        )


def receipt_list(
    dataset: DatasetFilterOpt = None,
    provider: Annotated[str | None, _org_option("provider", "deliveries by this organisation")] = None,
    consumer: Annotated[str | None, _org_option("consumer", "deliveries to this organisation")] = None,
    limit: LimitOpt = DEFAULT_LIMIT,
    url: ApiUrlOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List the delivery receipts you may see, newest first, from the registry API. Needs
    `idsreg api login`."""
    filters = {"dataset": dataset, "provider": provider, "consumer": consumer}
    with client_for(url, token_required=True) as api:
        _show(
            api.receipts(_limit(limit), **filters),
            as_json,
            limit,
            ["digest", "dataset", "provider", "consumer", "serial", "terms", "delivered (UTC)"],
            lambda r: [
                _short(r.digest),
                _short(r.dataset),
                _org(r.provider),
                _org(r.consumer),
                str(r.grant_serial),
                _short(r.terms_commitment),
                iso(r.delivered_at),
            ],
            ("receipt", "receipts"),
        )


def dispute_list(
    dataset: DatasetFilterOpt = None,
    status: Annotated[str | None, typer.Option("--status", help="open, upheld, dismissed, lapsed or voided.")] = None,
    claimant: Annotated[str | None, _org_option("claimant", "disputes this organisation opened")] = None,
    limit: LimitOpt = DEFAULT_LIMIT,
    url: ApiUrlOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List rights disputes, newest first, from the registry API."""
    if status is not None and status.lower() not in ("open", "upheld", "dismissed", "lapsed", "voided"):
        raise ConfigError(f"status {status!r} is not one of open, upheld, dismissed, lapsed, voided")
    filters = {"dataset": dataset, "status": status.lower() if status else None, "claimant": claimant}
    with client_for(url) as api:
        _show(
            api.disputes(_limit(limit), **filters),
            as_json,
            limit,
            ["id", "dataset", "right", "claimant", "respondent", "status", "votes (uphold/dismiss)", "opened (UTC)"],
            lambda d: [
                str(d.dispute_id),
                _short(d.dataset),
                d.right,
                _org(d.claimant),
                _org(d.respondent),
                d.status,
                f"{d.uphold_votes}/{d.dismiss_votes}",
                iso(d.opened_at),
            ],
            ("dispute", "disputes"),
        )


def anchor_list(org: str | None, limit: int, url: str | None, as_json: bool) -> None:
    """Batch anchors from the registry API (`anchor list --org ORG` or `--all`)."""
    with client_for(url) as api:
        _show(
            api.anchors(_limit(limit), org=org),
            as_json,
            limit,
            ["root", "organisation", "items", "anchored (UTC)", "block"],
            lambda a: [
                a.root,
                _org(a.org),
                str(a.leaf_count),
                iso(a.anchored_at),
                str(a.anchored.block_number),
            ],
            ("anchor", "anchors"),
        )
