"""`/v1/datasets/{root}/audit/…`: a dataset's audit bundle (docs/audit.md) and its report, built
from the service's node, for those who may see every licence and delivery it holds.

Who may: auditors and governors (who see every grant and receipt), and a member key of an
organisation that is party to the dataset (its registrant or a holder of a right, a grantor or
grantee, a provider or consumer) and party to each of its grants and receipts, since the
bundle carries them all. Anyone else gets the 404 of a dataset that is not indexed, as for
grants and receipts (docs/api.md, "Who sees what").

The bundle ends at the latest cosigned checkpoint when one covers the dataset (then it verifies
with no node, `idsreg audit verify --trust`), else at the last indexed block. Building one
asks the node for every header since the deployment and takes seconds on a long chain: it runs
in a worker thread, and the bytes are kept per (dataset, depth, last block, checkpoint), so
that asking again before the chain moves costs nothing.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Header, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlmodel import Session, col, select

from client.chain.node import NODE_ERRORS
from client.errors import ChainError, IdsRegistryError
from client.terms import Opening

from ... import store
from ...auth import Caller
from ...chainview import ChainView
from ...domain import Dataset, Grant, Receipt
from ...errors import NotFound, Unavailable
from ...models import DisclosedTerms
from .. import params
from ..deps import ChainDep, SessionDep, SignedInDep
from . import checkpoints

if TYPE_CHECKING:  # the audit modules (and ReportLab) load on the first audit request, not at start
    from client.audit.bundle import Bundle
    from client.audit.verify import Verified

router = APIRouter(prefix="/v1/datasets", tags=["audit"])

#: Bundles kept in memory (each is the bytes of one file; a few MB on a long chain).
CACHE_SIZE = 16

Depth = Annotated[int, Query(ge=0, le=16, description="Lineage generations up and down to include (0 to 16).")]

_cache: OrderedDict[tuple[str, int, int, str], bytes] = OrderedDict()
_building: dict[tuple[str, int, int, str], threading.Lock] = {}
_guard = threading.Lock()

_NOT_FOUND = "dataset {root} is not registered, not indexed yet, or not yours to audit"


def _may_audit(session: Session, caller: Caller, dataset: Dataset) -> bool:
    """Whether the caller may see the whole of the dataset's bundle (see the module's text)."""
    return may_audit(session, caller.sees_everything, caller.org_no, dataset)


def may_audit(session: Session, sees_everything: bool, org: int | None, dataset: Dataset) -> bool:
    """The rule of `_may_audit` for a caller given by its roles and organisation number (the
    explorer offers the report and bundle links by it, so that a link never answers 404)."""
    if sees_everything:
        return True
    if org is None:
        return False
    grants = session.exec(select(Grant).where(col(Grant.root) == dataset.root)).all()
    receipts = session.exec(select(Receipt).where(col(Receipt.dataset) == dataset.root)).all()
    if any(org not in (g.grantor, g.grantee) for g in grants):
        return False
    if any(org not in (r.provider, r.consumer) for r in receipts):
        return False
    holders = (dataset.registrant, dataset.holding, dataset.processing, dataset.operation)
    return org in holders or bool(grants) or bool(receipts)


def _openings(session: Session) -> list[Opening]:
    """Every terms opening disclosed to the service (the export keeps those of the dataset's facts)."""
    rows = session.exec(select(DisclosedTerms)).all()
    return [Opening.from_dict({"terms": json.loads(r.document), "salt": r.salt}) for r in rows]


def _checkpoint(chain: ChainView, session: Session, registered: int, indexed: int) -> bytes | None:
    """The latest cosigned checkpoint's note, if it ends at or after `registered` and is indexed."""
    try:
        latest = checkpoints.latest(chain, session, None)
    except (NotFound, Unavailable):
        return None
    if not registered <= latest.size - 1 <= indexed:
        return None
    return str(latest.note).encode()


def _build(chain: ChainView, session: Session, root: str, depth: int) -> bytes:
    """The bundle's bytes, from the cache or built now (blocking: call it in a worker thread)."""
    dataset = session.get(Dataset, root)
    indexed = store.get_checkpoint(session)
    if dataset is None or indexed is None:
        raise NotFound(_NOT_FOUND.format(root=root), "root")
    note = _checkpoint(chain, session, dataset.block_number, indexed.block_number)
    last = indexed.block_number if note is None else _note_size(note) - 1
    key = (root, depth, last, "" if note is None else note.decode())
    with _guard:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
        lock = _building.setdefault(key, threading.Lock())
    with lock:  # one build per key; the others wait for it
        with _guard:
            if key in _cache:
                return _cache[key]
        try:
            data = _export(chain, session, root, depth, last, note)
        finally:
            with _guard:
                _building.pop(key, None)
        with _guard:
            _cache[key] = data
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
        return data


def _export(chain: ChainView, session: Session, root: str, depth: int, last: int, note: bytes | None) -> bytes:
    from client.audit.export import export_bundle

    try:
        bundle = export_bundle(
            chain.registry(),
            bytes.fromhex(root[2:]),
            depth,
            last_block=None if note is not None else last,
            openings=_openings(session),
            checkpoints=[note] if note is not None else [],
        )
    except NODE_ERRORS as exc:
        raise Unavailable(f"the chain node does not answer ({type(exc).__name__}); try again later") from None
    except (ChainError, IdsRegistryError) as exc:
        raise Unavailable(f"the audit bundle cannot be built from the node now: {exc}") from None
    return bundle.to_bytes()


def _note_size(note: bytes) -> int:
    from client.checkpoints import parse_note

    return parse_note(note)[0].size


async def _bundle_for(session: Session, chain: ChainView, caller: Caller, root: str, depth: int) -> bytes:
    key = params.hex32("root", root)
    dataset = session.get(Dataset, key)
    if dataset is None or not _may_audit(session, caller, dataset):
        raise NotFound(_NOT_FOUND.format(root=key), "root")
    return await run_in_threadpool(_build, chain, session, key, depth)


_BUNDLE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/json": {"schema": {"type": "object"}}}, "description": "The bundle file."},
    404: {"description": "No such dataset is indexed, or the caller may not audit it."},
    503: {"description": "The chain node does not answer."},
}


@router.get("/{root}/audit/bundle", response_class=Response, responses=_BUNDLE_RESPONSES)
async def audit_bundle(
    session: SessionDep, chain: ChainDep, caller: SignedInDep, root: params.RootPath, depth: Depth = 1
) -> Response:
    """The dataset's audit bundle: canonical JSON bytes to save and verify offline (`idsreg audit verify`)."""
    data = await _bundle_for(session, chain, caller, root, depth)
    name = f"audit-{root.lower()}.json"
    return Response(
        data,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _render(data: bytes, chain: ChainView, kind: str) -> str | bytes:
    """The verified bundle's report, HTML (text) or PDF (bytes)."""
    from client.audit.report import render
    from client.audit.report_pdf import render_pdf

    renderer: Callable[[Verified], str | bytes] = render_pdf if kind == "pdf" else render
    return renderer(_verify(data, chain))


def _verify(data: bytes, chain: ChainView) -> Verified:
    """The bundle verified as `audit verify` does; its last block is vouched for by this service,
    which built it from its node (each header checked against the node's block hash)."""
    from client.audit.verify import verify_bytes

    def vouch(bundle: Bundle, head: Any, facts: Any) -> str:
        carried = "" if bundle.checkpoint is None else ", and the cosigned checkpoint the bundle carries"
        return f"the registry service that built the bundle from its node{carried}"

    return verify_bytes(data, authenticate=vouch)


@router.get(
    "/{root}/audit/report",
    response_class=Response,
    responses={
        200: {
            "content": {"text/html": {"schema": {"type": "string"}}, "application/pdf": {"schema": {"type": "string"}}},
            "description": "The report (HTML, or PDF with `?format=pdf` or `Accept: application/pdf`).",
        },
        404: _BUNDLE_RESPONSES[404],
        503: _BUNDLE_RESPONSES[503],
    },
)
async def audit_report(
    session: SessionDep,
    chain: ChainDep,
    caller: SignedInDep,
    root: params.RootPath,
    depth: Depth = 1,
    report_format: Annotated[
        Literal["html", "pdf"] | None,
        Query(alias="format", description="html or pdf (default: by the Accept header, else html)."),
    ] = None,
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    """The report of the dataset's audit bundle, verified: HTML, or PDF (`?format=pdf`)."""
    data = await _bundle_for(session, chain, caller, root, depth)
    kind = report_format or ("pdf" if accept and "application/pdf" in accept and "text/html" not in accept else "html")
    body = await run_in_threadpool(_render, data, chain, kind)
    name = f"audit-{root.lower()}.{kind}"
    return Response(
        body,
        media_type="application/pdf" if kind == "pdf" else "text/html; charset=utf-8",
        headers={"Content-Disposition": f'{"attachment" if kind == "pdf" else "inline"}; filename="{name}"'},
    )
