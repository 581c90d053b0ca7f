"""`/v1/grants` and `/v1/receipts`: licences and deliveries, for those entitled to see them.

Both need a bearer token. A member key sees the grant serials its organisation issued or
received and the receipts it provided or consumed; auditors and governors see all of them.
What a caller may not see is answered 404 exactly as what does not exist, so that a member
cannot learn which other organisations deal with each other.

A party may disclose the opening of a grant's or receipt's terms commitment (`PUT …/terms`):
the service accepts it only if it opens the indexed commitment and keeps it apart from the
index (`disclosed_terms`, which a re-index keeps); those who may see the grant or receipt
(its parties, auditors, governors) then see its `terms`.
"""

from __future__ import annotations

import json
import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from sqlalchemy import ColumnElement, false, or_
from sqlmodel import Session, col, select

from client.chain.enums import Permission
from client.errors import ProofError
from client.terms import Opening

from ...auth import Caller
from ...domain import Grant, Receipt
from ...errors import ApiError, NotFound
from ...models import DisclosedTerms
from .. import params
from ..deps import SessionDep, SignedInDep
from ..limits import BODY_RESPONSES
from ..queries import chain_ref, org_refs, page, ref, resolve_org
from ..schemas import DiscloseRequest, GrantPublic, Page, ReceiptPublic

router = APIRouter(prefix="/v1", tags=["licences"])


def _permissions(bits: int) -> list[str]:
    return [p.name.lower() for p in Permission if p.name and bits & p]


class _NotAnOpening(ApiError):
    status = 422


def _disclosed(session: Session, commitments: list[str]) -> dict[str, dict[str, str]]:
    """The disclosed terms documents of these commitments."""
    if not commitments:
        return {}
    rows = session.exec(select(DisclosedTerms).where(col(DisclosedTerms.commitment).in_(set(commitments))))
    return {r.commitment: json.loads(r.document) for r in rows}


def _disclose(session: Session, caller: Caller, commitment: str, body: DiscloseRequest) -> dict[str, str]:
    """Keep the opening `body` of `commitment` once it is checked; 422 if it does not open it."""
    try:
        opening = Opening.from_dict({"terms": body.terms, "salt": body.salt})
        opened = "0x" + opening.commitment.hex()
    except ProofError as exc:
        raise _NotAnOpening(str(exc), "terms") from None
    if opened != commitment:
        raise _NotAnOpening(
            f"the terms and salt do not open commitment {commitment} (they give {opened}): "
            "the salt is wrong or the document is another",
            "salt",
        )
    if session.get(DisclosedTerms, commitment) is None:
        document = opening.terms.canonical().decode()
        session.add(DisclosedTerms(commitment=commitment, document=document, salt=body.salt.lower(),
                                   disclosed_by=caller.address, disclosed_at=int(time.time())))  # fmt: skip
        session.commit()
    return opening.terms.document()


def _grants(session: Session, grants: list[Grant]) -> list[GrantPublic]:
    refs = org_refs(session, (n for g in grants for n in (g.grantee, g.grantor)))
    disclosed = _disclosed(session, [g.terms_commitment for g in grants])
    return [
        GrantPublic(
            dataset=g.root,
            grantee=ref(refs, g.grantee),
            grantor=ref(refs, g.grantor),
            serial=g.serial,
            permissions=_permissions(g.permissions),
            valid_from=g.valid_from,
            valid_until=g.valid_until,
            terms_commitment=g.terms_commitment,
            terms=disclosed.get(g.terms_commitment),
            status=g.status,
            current=g.current,
            decided_by=g.decided_by,
            issued_at=g.issued_at,
            issued=chain_ref(g),
        )
        for g in grants
    ]


def _involving(caller: Caller, *columns: Any) -> ColumnElement[bool] | None:
    """The condition limiting a list to the caller's organisation (None: the caller sees all)."""
    if caller.sees_everything:
        return None
    if caller.org_no is None:
        return false()
    return or_(*(c == caller.org_no for c in columns))


@router.get("/grants", response_model=Page[GrantPublic])
async def list_grants(
    session: SessionDep,
    caller: SignedInDep,
    dataset: params.Hex32Query = None,
    grantee: params.OrgQuery = None,
    grantor: params.OrgQuery = None,
    status: Annotated[Literal["pending", "active", "rejected", "revoked"] | None, Query()] = None,
    current: Annotated[
        bool | None, Query(description="Only the current grants (true) or only replaced ones (false).")
    ] = None,
    limit: params.Limit = 50,
    cursor: params.GrantsCursor = None,
) -> Page[GrantPublic]:
    """Licences the caller may see, newest first."""
    query = select(Grant)
    limited = _involving(caller, col(Grant.grantee), col(Grant.grantor))
    if limited is not None:
        query = query.where(limited)
    if dataset is not None:
        query = query.where(col(Grant.root) == params.hex32("dataset", dataset))
    if grantee is not None:
        query = query.where(col(Grant.grantee) == resolve_org(session, "grantee", grantee))
    if grantor is not None:
        query = query.where(col(Grant.grantor) == resolve_org(session, "grantor", grantor))
    if status is not None:
        query = query.where(col(Grant.status) == status)
    if current is not None:
        query = query.where(col(Grant.current) == current)
    order = [col(Grant.block_number), col(Grant.root), col(Grant.grantee), col(Grant.serial)]
    grants, following = page(
        session, query, order, limit=limit, cursor=cursor, pattern=params.CURSOR_GRANTS, descending=True
    )
    return Page(data=_grants(session, grants), next_cursor=following)


@router.get("/grants/{dataset}/{grantee}", response_model=list[GrantPublic])
async def grants_of(
    session: SessionDep,
    caller: SignedInDep,
    dataset: params.Hex32Path,
    grantee: params.OrgPath,
) -> list[GrantPublic]:
    """Every grant on a dataset to one organisation that the caller may see (the grantee, the
    grantor of each serial, auditors and governors), newest serial first."""
    root = params.hex32("dataset", dataset)
    number = resolve_org(session, "grantee", grantee)
    query = (
        select(Grant).where(col(Grant.root) == root, col(Grant.grantee) == number).order_by(col(Grant.serial).desc())
    )
    grants = [g for g in session.exec(query) if caller.sees_everything or caller.involves(number, g.grantor)]
    if not grants:  # none at all, or none of the caller's: the same answer, so that it tells nothing
        raise NotFound(f"no grant on dataset {root} to {grantee} that you may see is indexed", "grantee")
    return _grants(session, grants)


def _receipts(session: Session, receipts: list[Receipt]) -> list[ReceiptPublic]:
    refs = org_refs(session, (n for r in receipts for n in (r.provider, r.consumer)))
    disclosed = _disclosed(session, [r.terms_commitment for r in receipts])
    return [
        ReceiptPublic(
            digest=r.digest,
            dataset=r.dataset,
            provider=ref(refs, r.provider),
            consumer=ref(refs, r.consumer),
            grant_serial=r.grant_serial,
            delivered_root=r.delivered_root,
            terms_commitment=r.terms_commitment,
            terms=disclosed.get(r.terms_commitment),
            delivered_at=r.delivered_at,
            nonce=str(r.nonce),
            provider_key=r.provider_key,
            consumer_key=r.consumer_key,
            recorded_at=r.block_time,
            recorded=chain_ref(r),
        )
        for r in receipts
    ]


@router.get("/receipts", response_model=Page[ReceiptPublic])
async def list_receipts(
    session: SessionDep,
    caller: SignedInDep,
    dataset: params.Hex32Query = None,
    provider: params.OrgQuery = None,
    consumer: params.OrgQuery = None,
    limit: params.Limit = 50,
    cursor: params.Cursor2 = None,
) -> Page[ReceiptPublic]:
    """Delivery receipts the caller may see, newest first."""
    query = select(Receipt)
    limited = _involving(caller, col(Receipt.provider), col(Receipt.consumer))
    if limited is not None:
        query = query.where(limited)
    if dataset is not None:
        query = query.where(col(Receipt.dataset) == params.hex32("dataset", dataset))
    if provider is not None:
        query = query.where(col(Receipt.provider) == resolve_org(session, "provider", provider))
    if consumer is not None:
        query = query.where(col(Receipt.consumer) == resolve_org(session, "consumer", consumer))
    order = [col(Receipt.block_number), col(Receipt.log_index)]
    receipts, following = page(
        session, query, order, limit=limit, cursor=cursor, pattern=params.CURSOR_2, descending=True
    )
    return Page(data=_receipts(session, receipts), next_cursor=following)


@router.get("/receipts/{digest}", response_model=ReceiptPublic)
async def get_receipt(session: SessionDep, caller: SignedInDep, digest: params.Hex32Path) -> ReceiptPublic:
    """One delivery receipt."""
    receipt = session.get(Receipt, params.hex32("digest", digest))
    if receipt is None or not (caller.sees_everything or caller.involves(receipt.provider, receipt.consumer)):
        # Another organisations' receipt is answered like a missing one: its existence is not shown.
        raise NotFound(f"no receipt {digest.lower()} that you may see is recorded (or it is not indexed yet)", "digest")
    return _receipts(session, [receipt])[0]


@router.put("/receipts/{digest}/terms", response_model=ReceiptPublic, responses=BODY_RESPONSES)
async def disclose_receipt_terms(
    session: SessionDep, caller: SignedInDep, digest: params.Hex32Path, body: DiscloseRequest
) -> ReceiptPublic:
    """Disclose a receipt's terms (its provider or consumer only): kept once they open its
    commitment, shown to its parties, auditors and governors."""
    receipt = session.get(Receipt, params.hex32("digest", digest))
    if receipt is None or not caller.involves(receipt.provider, receipt.consumer):
        raise NotFound(
            f"no receipt {digest.lower()} of your organisation is recorded (or it is not indexed yet)", "digest"
        )
    _disclose(session, caller, receipt.terms_commitment, body)
    return _receipts(session, [receipt])[0]


@router.put("/grants/{dataset}/{grantee}/{serial}/terms", response_model=GrantPublic, responses=BODY_RESPONSES)
async def disclose_grant_terms(
    session: SessionDep,
    caller: SignedInDep,
    dataset: params.Hex32Path,
    grantee: params.OrgPath,
    serial: Annotated[int, Path(ge=1, le=2**32 - 1)],
    body: DiscloseRequest,
) -> GrantPublic:
    """Disclose a grant's terms (its grantor or grantee only), for example to the auditors who
    review a pending grant on important data."""
    root = params.hex32("dataset", dataset)
    number = resolve_org(session, "grantee", grantee)
    grant = session.get(Grant, (root, number, serial))
    if grant is None or not caller.involves(grant.grantee, grant.grantor):
        raise NotFound(f"no grant {serial} on dataset {root} to {grantee} of your organisation is indexed", "serial")
    _disclose(session, caller, grant.terms_commitment, body)
    return _grants(session, [grant])[0]
