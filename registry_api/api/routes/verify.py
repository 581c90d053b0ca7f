"""`/v1/verify`: a content root, a proof file or a receipt file, checked against the chain itself.

The index is not trusted here: every verdict comes from contract state, blocks and transaction
receipts read from the node (the client's verification code), so the API needs the node up.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter
from sqlalchemy import bindparam, select
from sqlmodel import col

from client.anchors import Anchors
from client.chain.node import NODE_ERRORS
from client.datasets import Datasets
from client.errors import ChainError, MalformedFileError, NotRegisteredError, ProofError
from client.jsonable import jsonable
from client.proofs import ProofFile
from client.receipts import ReceiptFile, Receipts
from client.verify import verify_root, verify_with_proof

from ...domain import Lineage
from ...errors import ApiError, Unavailable
from .. import params
from ..deps import ChainDep, SessionDep
from ..limits import BODY_RESPONSES
from ..schemas import Public, VerdictPublic, VerifyRequest

router = APIRouter(prefix="/v1", tags=["verify"])

_CHILDREN = (
    select(col(Lineage.child))
    .where(col(Lineage.parent) == bindparam("root"))
    .order_by(col(Lineage.block_number), col(Lineage.child))
    .limit(100)
)


class _Malformed(ApiError):
    status = 422


def _file(kind: type[ProofFile | ReceiptFile], body: Public) -> Any:
    """The file, or the error saying why a body the schema accepts is not a file that can verify
    (a receipt field beyond its uint width, for example): a verdict, not a malformed request."""
    try:
        return kind.from_json(json.dumps(body.model_dump(mode="json")))
    except (ProofError, MalformedFileError) as exc:
        return exc


@router.post(
    "/verify",
    response_model=VerdictPublic,
    responses={**BODY_RESPONSES, 503: {"description": "The chain node does not answer."}},
)
def verify(body: VerifyRequest, chain: ChainDep, session: SessionDep) -> VerdictPublic:
    """Check a content root, an inclusion-proof file or a receipt file against the chain: the
    verdict and the on-chain evidence (registration, anchor, ledger record)."""
    given = [name for name in ("content_root", "proof", "receipt") if getattr(body, name) is not None]
    if len(given) != 1:
        raise _Malformed(f"give exactly one of contentRoot, proof and receipt (got {len(given)})", "body")
    root = params.hex32("contentRoot", body.content_root) if body.content_root is not None else None
    proof = _file(ProofFile, body.proof) if body.proof is not None else None
    receipt = _file(ReceiptFile, body.receipt) if body.receipt is not None else None
    registry = chain.registry()
    head = chain.head()
    if isinstance(proof, ProofError | MalformedFileError):
        return VerdictPublic(
            verified=False, kind="proof", subject=body.proof.leaf.lower(), reason=str(proof), chain_head=head
        )
    if isinstance(receipt, ProofError | MalformedFileError):
        return VerdictPublic(verified=False, kind="receipt", subject=None, reason=str(receipt), chain_head=head)
    try:
        if receipt is not None:
            subject = "0x" + receipt.digest.hex()
            try:
                evidence = jsonable(Receipts(registry).verify_on_chain(receipt), drop_none=True)
            except ProofError as exc:
                return VerdictPublic(verified=False, kind="receipt", subject=subject, reason=str(exc), chain_head=head)
            return VerdictPublic(verified=True, kind="receipt", subject=subject, evidence=evidence, chain_head=head)
        datasets, anchors = Datasets(registry), Anchors(registry)
        if proof is not None:
            try:
                verdict = verify_with_proof(datasets, anchors, bytes.fromhex(proof.leaf[2:]), proof)
            except ProofError as exc:
                return VerdictPublic(
                    verified=False, kind="proof", subject=proof.leaf.lower(), reason=str(exc), chain_head=head
                )
            kind = "proof"
        else:
            assert root is not None
            try:
                verdict = verify_root(datasets, anchors, bytes.fromhex(root[2:]))
            except NotRegisteredError as exc:
                return VerdictPublic(
                    verified=False, kind="content-root", subject=root, reason=str(exc), chain_head=head
                )
            kind = "content-root"
        registration = jsonable(verdict.registration, drop_none=True)
        if registration is not None:
            # The children from the index (the first 100, as `/v1/datasets/{root}` lists them).
            registration["children"] = list(session.execute(_CHILDREN, {"root": verdict.content_root}).scalars())
        evidence = {"registration": registration, "anchor": jsonable(verdict.anchor, drop_none=True)}
        return VerdictPublic(
            verified=True,
            kind=kind,
            subject=verdict.content_root,
            evidence={k: v for k, v in evidence.items() if v is not None},
            chain_head=head,
        )
    except (ChainError, *NODE_ERRORS) as exc:
        raise Unavailable(f"the chain node did not answer the verification ({type(exc).__name__}); try again") from None
