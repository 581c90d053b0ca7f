"""`/v1/members`, `/v1/keys`, `/v1/roles`, `/v1/proposals`: the consortium as indexed."""

from __future__ import annotations

import time
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from sqlmodel import col, select

from client.chain.enums import Action
from client.consortium import decode_action

from ...domain import Org, OrgKey, Proposal, RoleHolder, Setting, Threshold
from ...errors import NotFound
from .. import params
from ..deps import SessionDep
from ..queries import chain_ref, page, resolve_org
from ..schemas import KeyPublic, MemberDetailPublic, MemberPublic, OrgRef, Page, ProposalPublic, RolesPublic

router = APIRouter(prefix="/v1", tags=["consortium"])


def _member(org: Org, now: int) -> MemberPublic:
    return MemberPublic(
        org_no=org.org_no,
        org_id=org.org_id,
        name=org.name,
        status=org.status,
        level=org.level,
        certified_until=org.expires_at,
        certified=org.status == "active" and org.expires_at > now,
        evidence_hash=org.evidence_hash,
        admin=org.admin,
        admitted_at=org.admitted_at,
        admitted=chain_ref(org),
    )


def _key(key: OrgKey, org: Org, now: int) -> KeyPublic:
    return KeyPublic(
        address=key.address,
        org=OrgRef(org_no=org.org_no, org_id=org.org_id, name=org.name),
        role=key.role,
        active=key.role != "none" and org.status == "active" and org.expires_at > now,
        added_block=key.block_number,
    )


@router.get("/members", response_model=Page[MemberPublic])
async def list_members(
    session: SessionDep,
    status: Annotated[
        Literal["active", "suspended", "expelled"] | None, Query(description="Only members in this state.")
    ] = None,
    limit: params.Limit = 50,
    cursor: params.Cursor1 = None,
) -> Page[MemberPublic]:
    """Member organisations by member number."""
    query = select(Org)
    if status is not None:
        query = query.where(col(Org.status) == status)
    orgs, following = page(
        session, query, [col(Org.org_no)], limit=limit, cursor=cursor, pattern=params.CURSOR_1, descending=False
    )
    now = int(time.time())
    return Page(data=[_member(org, now) for org in orgs], next_cursor=following)


@router.get("/members/{org}", response_model=MemberDetailPublic)
async def get_member(
    session: SessionDep,
    org: params.OrgPath,
) -> MemberDetailPublic:
    """One member organisation with every key that acts or acted for it."""
    number = resolve_org(session, "org", org)
    record = session.get(Org, number)
    assert record is not None  # resolve_org found it
    now = int(time.time())
    keys = session.exec(
        select(OrgKey).where(col(OrgKey.org_no) == number).order_by(col(OrgKey.block_number), col(OrgKey.address))
    )
    return MemberDetailPublic(**_member(record, now).model_dump(), keys=[_key(k, record, now) for k in keys])


@router.get("/keys/{address}", response_model=KeyPublic)
async def get_key(session: SessionDep, address: params.AddressPath) -> KeyPublic:
    """Which organisation a key acts for, in which role, and whether it may act now."""
    checked = params.address("address", address)
    key = session.get(OrgKey, checked)
    if key is None:
        raise NotFound(f"key {checked} has never acted for a member organisation", "address")
    org = session.get(Org, key.org_no)
    if org is None:
        raise NotFound(f"the organisation of key {checked} is not indexed", "address")
    return _key(key, org, int(time.time()))


@router.get("/roles", response_model=RolesPublic)
async def roles(session: SessionDep) -> RolesPublic:
    """Governors, auditors and arbiters, and the approval thresholds."""
    holders: dict[str, list[str]] = {"governor": [], "auditor": [], "arbiter": []}
    for holder in session.exec(select(RoleHolder).order_by(col(RoleHolder.block_number), col(RoleHolder.account))):
        holders[holder.role].append(holder.account)
    thresholds = {t.role: t.value for t in session.exec(select(Threshold))}
    period = session.get(Setting, "dispute_period")
    return RolesPublic(
        governors=holders["governor"],
        auditors=holders["auditor"],
        arbiters=holders["arbiter"],
        thresholds=thresholds,
        dispute_period=period.value if period is not None else None,
    )


@router.get("/proposals", response_model=Page[ProposalPublic])
async def list_proposals(
    session: SessionDep,
    status: Annotated[Literal["open", "executed", "cancelled"] | None, Query()] = None,
    limit: params.Limit = 50,
    cursor: params.Cursor1 = None,
) -> Page[ProposalPublic]:
    """Governance proposals, newest first."""
    query = select(Proposal)
    if status is not None:
        query = query.where(col(Proposal.status) == status)
    found, following = page(
        session,
        query,
        [col(Proposal.proposal_id)],
        limit=limit,
        cursor=cursor,
        pattern=params.CURSOR_1,
        descending=True,
    )
    return Page(data=[_proposal(p) for p in found], next_cursor=following)


def _proposal(p: Proposal) -> ProposalPublic:
    action = Action[p.action.upper()]
    args = decode_action(action, bytes.fromhex(p.args[2:]))
    return ProposalPublic(
        proposal_id=p.proposal_id,
        action=p.action,
        args=args,
        proposer=p.proposer,
        status=p.status,
        approvals=p.approvals,
        created_at=p.created_at,
        created=chain_ref(p),
    )
