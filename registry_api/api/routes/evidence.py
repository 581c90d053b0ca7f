"""`/v1/anchors` and `/v1/disputes`: batch anchors and rights disputes (public to members and apps)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from sqlmodel import Session, col, select

from ...domain import Anchor, Dispute, RoleHolder, Vote
from ...errors import NotFound
from .. import params
from ..deps import SessionDep
from ..queries import chain_ref, org_refs, page, ref, resolve_org
from ..schemas import AnchorPublic, DisputeDetailPublic, DisputePublic, OrgRef, Page, VotePublic

router = APIRouter(prefix="/v1", tags=["anchors and disputes"])


def _anchors(session: Session, anchors: list[Anchor]) -> list[AnchorPublic]:
    refs = org_refs(session, (a.org_no for a in anchors))
    return [
        AnchorPublic(
            root=a.root,
            org=ref(refs, a.org_no),
            leaf_count=a.leaf_count,
            note_hash=a.note_hash,
            anchored_at=a.anchored_at,
            block_hash=a.block_hash,
            anchored=chain_ref(a),
        )
        for a in anchors
    ]


@router.get("/anchors", response_model=Page[AnchorPublic])
async def list_anchors(
    session: SessionDep, org: params.OrgQuery = None, limit: params.Limit = 50, cursor: params.Cursor2 = None
) -> Page[AnchorPublic]:
    """Batch anchors, newest first."""
    query = select(Anchor)
    if org is not None:
        query = query.where(col(Anchor.org_no) == resolve_org(session, "org", org))
    order = [col(Anchor.block_number), col(Anchor.log_index)]
    anchors, following = page(
        session, query, order, limit=limit, cursor=cursor, pattern=params.CURSOR_2, descending=True
    )
    return Page(data=_anchors(session, anchors), next_cursor=following)


@router.get("/anchors/{root}", response_model=AnchorPublic)
async def get_anchor(session: SessionDep, root: params.RootPath) -> AnchorPublic:
    """The earliest anchor of a tree root (several organisations may anchor the same root;
    `GET /v1/anchors?org=` lists one organisation's)."""
    query = select(Anchor).where(col(Anchor.root) == params.hex32("root", root))
    anchor = session.exec(query.order_by(col(Anchor.block_number), col(Anchor.log_index)).limit(1)).first()
    if anchor is None:
        raise NotFound(f"root {root.lower()} is not anchored (or not indexed yet)", "root")
    return _anchors(session, [anchor])[0]


def _arbiter_terms(session: Session) -> dict[str, tuple[int, int]]:
    """Each current arbiter's term start: where its RoleGranted event sits (block, log index)."""
    query = select(RoleHolder).where(col(RoleHolder.role) == "arbiter")
    return {r.account: (r.block_number, r.log_index) for r in session.exec(query)}


def _live(vote: Vote, terms: dict[str, tuple[int, int]]) -> bool:
    """Whether the vote counts now: its arbiter holds the role in the term it voted in."""
    start = terms.get(vote.arbiter)
    return start is not None and (vote.block_number, vote.log_index) > start


def _live_counts(session: Session, disputes: list[Dispute]) -> dict[int, tuple[int, int]]:
    """The open disputes' live (uphold, dismiss) counts, as the court's `dispute(id)` recounts them."""
    open_ids = [d.dispute_id for d in disputes if d.status == "open"]
    if not open_ids:
        return {}
    terms = _arbiter_terms(session)
    counts = {i: [0, 0] for i in open_ids}
    for vote in session.exec(select(Vote).where(col(Vote.dispute_id).in_(open_ids))):
        if _live(vote, terms):
            counts[vote.dispute_id][0 if vote.uphold else 1] += 1
    return {i: (c[0], c[1]) for i, c in counts.items()}


def _dispute(d: Dispute, refs: dict[int, OrgRef], live: dict[int, tuple[int, int]]) -> DisputePublic:
    # A decided dispute keeps the counts it was decided with (the last VoteCast's), as the court does.
    uphold_votes, dismiss_votes = live.get(d.dispute_id, (d.uphold_votes, d.dismiss_votes))
    return DisputePublic(
        dispute_id=d.dispute_id,
        dataset=d.root,
        right=d.right,
        claimant=ref(refs, d.claimant),
        respondent=ref(refs, d.respondent),
        evidence_hash=d.evidence_hash,
        status=d.status,
        prior_anchor_root=d.prior_anchor_root,
        prior_anchored_at=d.prior_anchored_at,
        uphold_votes=uphold_votes,
        dismiss_votes=dismiss_votes,
        opened_at=d.opened_at,
        closed_block=d.closed_block,
        opened=chain_ref(d),
    )


@router.get("/disputes", response_model=Page[DisputePublic])
async def list_disputes(
    session: SessionDep,
    dataset: params.Hex32Query = None,
    status: Annotated[Literal["open", "upheld", "dismissed", "lapsed", "voided"] | None, Query()] = None,
    claimant: params.OrgQuery = None,
    limit: params.Limit = 50,
    cursor: params.Cursor1 = None,
) -> Page[DisputePublic]:
    """Disputes, newest first."""
    query = select(Dispute)
    if dataset is not None:
        query = query.where(col(Dispute.root) == params.hex32("dataset", dataset))
    if status is not None:
        query = query.where(col(Dispute.status) == status)
    if claimant is not None:
        query = query.where(col(Dispute.claimant) == resolve_org(session, "claimant", claimant))
    disputes, following = page(
        session, query, [col(Dispute.dispute_id)], limit=limit, cursor=cursor, pattern=params.CURSOR_1, descending=True
    )
    refs = org_refs(session, (n for d in disputes for n in (d.claimant, d.respondent)))
    live = _live_counts(session, disputes)
    return Page(data=[_dispute(d, refs, live) for d in disputes], next_cursor=following)


@router.get("/disputes/{dispute_id}", response_model=DisputeDetailPublic)
async def get_dispute(
    session: SessionDep, dispute_id: Annotated[int, Path(ge=1, le=2**63 - 1, description="The dispute's number.")]
) -> DisputeDetailPublic:
    """One dispute with the arbiters' votes."""
    d = session.get(Dispute, dispute_id)
    if d is None:
        raise NotFound(f"dispute {dispute_id} does not exist (or is not indexed yet)", "dispute_id")
    votes = session.exec(
        select(Vote)
        .where(col(Vote.dispute_id) == dispute_id)
        .order_by(col(Vote.block_number), col(Vote.log_index), col(Vote.arbiter))
    ).all()
    refs = org_refs(session, [d.claimant, d.respondent])
    terms = _arbiter_terms(session)
    return DisputeDetailPublic(
        **_dispute(d, refs, _live_counts(session, [d])).model_dump(),
        votes=[
            VotePublic(
                arbiter=v.arbiter,
                uphold=v.uphold,
                live=_live(v, terms),
                block_time=v.block_time,
                cast=chain_ref(v),
            )
            for v in votes
        ],
    )
