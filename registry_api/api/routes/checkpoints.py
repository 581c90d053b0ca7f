"""Checkpoints of the chain's block hashes that governors cosign (docs/audit.md): governors hand
in cosignatures, the service checks each against the governor's witness key on chain and its own
tree over the node's block hashes, and serves the latest checkpoint that reached the threshold
(a C2SP signed note) and inclusion and consistency proofs for any tree size.

Block hashes come from the service's node, fetched when a request needs them (at most
`MAX_NEW_BLOCKS` per request) and kept in `checkpoint_block_hashes`; cosignatures are kept in
`checkpoint_cosignatures`. Neither is part of the index: a re-index keeps both.
"""

from __future__ import annotations

import base64
import time
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path
from fastapi.responses import PlainTextResponse
from pydantic import Field
from sqlmodel import Session, col, delete, select

from client.chain.enums import Role
from client.chain.node import NODE_ERRORS
from client.chain.registry import Registry
from client.checkpoint_node import node_block_hashes, registry_origin
from client.checkpoints import (
    Council,
    block_consistency_proof,
    block_inclusion_proof,
    check_cosignatures,
    parse_note,
    tree_root,
    verify_cosigned,
)
from client.consortium import Consortium
from client.errors import ChainError, CheckpointError

from ...errors import ApiError, NotFound, Unavailable
from ...models import CheckpointBlockHash, CheckpointCosignature
from ..deps import ChainDep, SessionDep
from ..limits import BODY_RESPONSES
from ..schemas import ErrorPublic, Public, Request

router = APIRouter(prefix="/v1/checkpoints", tags=["checkpoints"])

#: Block hashes one request may fetch from the node at most (the rest: a later request).
MAX_NEW_BLOCKS = 20_000
#: Tree sizes `GET /latest` looks back over for one that reaches the threshold.
LATEST_WINDOW = 64
#: Largest tree size a request may name (beyond any real chain; keeps integers in range).
MAX_SIZE = 1 << 48


#: How the routes document a refusal of a well-formed request.
_CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorPublic, "description": "The request does not fit the chain or the note does not verify."}
}


class _Refused(ApiError):
    """A well-formed request the chain's current state refuses (a note that does not verify, a
    size or block beyond the chain): 409, as its schema cannot say what the chain holds."""

    status = 409


class CosignatureRequest(Request):
    """A checkpoint note (c2sp.org/tlog-checkpoint) with one or more governors' cosignatures."""

    note: str = Field(max_length=16_384)


class CosignaturesPublic(Public):
    """The cosignatures the service holds for this checkpoint and whether they count."""

    origin: str
    size: int
    root: str
    cosigners: list[str]
    threshold: int
    counted: bool
    accepted: list[str]


class CheckpointPublic(Public):
    """The latest checkpoint that reached the threshold: its fields and the signed note."""

    origin: str
    size: int
    root: str
    note: str
    cosigners: list[str]
    threshold: int


class InclusionPublic(Public):
    """The RFC 6962 audit path (base64 hashes, leaf to root) of a block in a tree size."""

    size: int
    block: int
    block_hash: str
    root: str
    proof: list[str]


class ConsistencyPublic(Public):
    """The RFC 6962 consistency proof (base64 hashes) from an older tree size to a size."""

    old_size: int
    size: int
    old_root: str
    root: str
    proof: list[str]


SizePath = Annotated[int, Path(ge=1, le=MAX_SIZE, description="Tree size: blocks 0..size-1.")]


def _registry(chain: ChainDep) -> Registry:
    return chain.registry()


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def _block_hashes(session: Session, registry: Registry, size: int) -> list[bytes]:
    """Blocks 0..size-1 as the node reports them, from the kept hashes plus what is missing."""
    head = int(registry.w3.eth.block_number)
    if size > head + 1:
        raise _Refused(f"tree size {size} is beyond the chain: its head is block {head}", "size")
    rows = list(
        session.exec(
            select(CheckpointBlockHash.hash)
            .where(col(CheckpointBlockHash.number) < size)
            .order_by(col(CheckpointBlockHash.number))
        )
    )
    hashes = [bytes.fromhex(h[2:]) for h in rows]
    if hashes and node_block_hashes(registry, len(hashes) - 1, len(hashes))[0] != hashes[-1]:
        # The node reorganised below what was kept: start again from block 0.
        session.exec(delete(CheckpointBlockHash))
        session.commit()
        hashes = []
    missing = size - len(hashes)
    if missing > MAX_NEW_BLOCKS:
        raise Unavailable(
            f"tree size {size} needs {missing} block hashes the service has not fetched yet; it fetches at most "
            f"{MAX_NEW_BLOCKS} a request: ask for size {len(hashes) + MAX_NEW_BLOCKS} first"
        )
    if missing > 0:
        fetched = node_block_hashes(registry, len(hashes), size)
        session.add_all(CheckpointBlockHash(number=len(hashes) + i, hash="0x" + h.hex()) for i, h in enumerate(fetched))
        session.commit()
        hashes.extend(fetched)
    return hashes


def _council(registry: Registry) -> Council:
    consortium = Consortium(registry)
    keys = {g.lower(): k for g, k in consortium.witness_keys().items() if k is not None}
    return Council(consortium.threshold(Role.GOVERNOR), keys)


def _note_of(rows: list[CheckpointCosignature], origin: str, size: int, root: bytes) -> bytes:
    body = f"{origin}\n{size}\n{_b64(root)}\n"
    return (body + "\n" + "".join(r.line + "\n" for r in rows)).encode()


def _node_errors(exc: Exception) -> Unavailable:
    return Unavailable(f"the chain node did not answer ({type(exc).__name__}); try again")


@router.post(
    "/cosignatures",
    response_model=CosignaturesPublic,
    responses={**BODY_RESPONSES, **_CONFLICT, 503: {"description": "The chain node does not answer."}},
)
def submit(body: CosignatureRequest, chain: ChainDep, session: SessionDep) -> CosignaturesPublic:
    """Hand in governors' cosignatures of a checkpoint. Each must verify with the governor's
    witness key on chain, and the checkpoint must be the service's own tree of that size;
    cosignatures of unknown keys are ignored, and at least one must be a governor's."""
    registry = _registry(chain)
    try:
        origin = registry_origin(registry)
        try:
            checkpoint, _signatures = parse_note(body.note.encode())
        except CheckpointError as exc:
            raise _Refused(str(exc), "note") from None
        if checkpoint.origin != origin:
            raise _Refused(f"checkpoint origin {checkpoint.origin} is not this registry's {origin}", "note")
        hashes = _block_hashes(session, registry, checkpoint.size) if checkpoint.size >= 1 else []
        if not hashes:
            raise _Refused("a checkpoint of the empty tree is not cosigned", "note")
        root = tree_root(hashes)
        if root != checkpoint.root:
            raise _Refused(
                f"the checkpoint's root {checkpoint.root.hex()} for size {checkpoint.size} is not the service's "
                f"{root.hex()}: the cosigner's node has another chain",
                "note",
            )
        council = _council(registry)
        try:
            _, cosignatures, _ignored = check_cosignatures(body.note.encode(), council)
        except CheckpointError as exc:
            raise _Refused(str(exc), "note") from None
        if not cosignatures:
            raise _Refused("the note carries no cosignature of a current governor's witness key", "note")
    except (ChainError, *NODE_ERRORS) as exc:
        raise _node_errors(exc) from None
    lines = dict(_signature_lines(body.note))
    accepted = []
    for c in cosignatures:
        if session.get(CheckpointCosignature, (checkpoint.size, c.governor)) is None:
            session.add(
                CheckpointCosignature(
                    size=checkpoint.size,
                    governor=c.governor,
                    root="0x" + checkpoint.root.hex(),
                    line=lines[c.line],
                    timestamp=c.timestamp,
                    submitted_at=int(time.time()),
                )
            )
            accepted.append(c.governor)
    session.commit()
    held = _held(session, checkpoint.size)
    counted = _counts(held, origin, checkpoint.size, checkpoint.root, council)
    return CosignaturesPublic(
        origin=origin,
        size=checkpoint.size,
        root=_b64(checkpoint.root),
        cosigners=[r.governor for r in held],
        threshold=council.threshold,
        counted=counted,
        accepted=accepted,
    )


def _signature_lines(note: str) -> list[tuple[int, str]]:
    """(line number, the line as written) of each signature of a note `parse_note` accepted."""
    _, signatures = parse_note(note.encode())
    raw = note.split("\n")
    return [(s.line, raw[s.line - 1]) for s in signatures]


def _held(session: Session, size: int) -> list[CheckpointCosignature]:
    return list(
        session.exec(
            select(CheckpointCosignature)
            .where(CheckpointCosignature.size == size)
            .order_by(col(CheckpointCosignature.governor))
        )
    )


def _counts(held: list[CheckpointCosignature], origin: str, size: int, root: bytes, council: Council) -> bool:
    if not held:
        return False
    try:
        verify_cosigned(_note_of(held, origin, size, root), council, origin)
    except CheckpointError:
        return False
    return True


@router.get(
    "/latest",
    response_model=CheckpointPublic,
    responses={
        200: {"content": {"text/plain": {"schema": {"type": "string"}}}},
        404: {"description": "No checkpoint reached the threshold yet."},
        503: {"description": "The chain node does not answer."},
    },
)
def latest(chain: ChainDep, session: SessionDep, accept: Annotated[str | None, Header()] = None) -> Any:
    """The latest checkpoint that at least the threshold of the current governors cosigned, as
    JSON or, asked for `text/plain`, as the C2SP signed note itself."""
    registry = _registry(chain)
    try:
        origin = registry_origin(registry)
        council = _council(registry)
    except (ChainError, *NODE_ERRORS) as exc:
        raise _node_errors(exc) from None
    sizes = session.exec(
        select(CheckpointCosignature.size)
        .distinct()
        .order_by(col(CheckpointCosignature.size).desc())
        .limit(LATEST_WINDOW)
    )
    for size in list(sizes):
        held = _held(session, size)
        roots = {r.root for r in held}
        if len(roots) != 1:
            continue
        root = bytes.fromhex(held[0].root[2:])
        # Only current governors' cosignatures with their current keys count.
        note = _note_of(held, origin, size, root)
        try:
            _checkpoint, cosignatures, _ = check_cosignatures(note, council)
            verify_cosigned(note, council, origin)
        except CheckpointError:
            continue
        counted = [c.governor for c in cosignatures]
        lines = [r for r in held if r.governor in counted]
        signed = _note_of(lines, origin, size, root)
        if accept and "text/plain" in accept and "application/json" not in accept:
            return PlainTextResponse(signed.decode())
        return CheckpointPublic(
            origin=origin,
            size=size,
            root=_b64(root),
            note=signed.decode(),
            cosigners=counted,
            threshold=council.threshold,
        )
    raise NotFound("no checkpoint has reached the threshold of the current governors' cosignatures yet")


@router.get(
    "/{size}/blocks/{block}",
    response_model=InclusionPublic,
    responses={**_CONFLICT, 503: {"description": "The chain node does not answer."}},
)
def block_proof(
    size: SizePath,
    block: Annotated[int, Path(ge=0, le=MAX_SIZE, description="Block number.")],
    chain: ChainDep,
    session: SessionDep,
) -> InclusionPublic:
    """The inclusion proof of a block in the tree of `size` blocks."""
    if block >= size:
        raise _Refused(f"block {block} is not in a tree of {size} blocks", "block")
    registry = _registry(chain)
    try:
        hashes = _block_hashes(session, registry, size)
    except (ChainError, *NODE_ERRORS) as exc:
        raise _node_errors(exc) from None
    return InclusionPublic(
        size=size,
        block=block,
        block_hash="0x" + hashes[block].hex(),
        root=_b64(tree_root(hashes)),
        proof=[_b64(p) for p in block_inclusion_proof(hashes, block)],
    )


@router.get(
    "/{size}/consistency/{old}",
    response_model=ConsistencyPublic,
    responses={**_CONFLICT, 503: {"description": "The chain node does not answer."}},
)
def consistency(
    size: SizePath,
    old: Annotated[int, Path(ge=1, le=MAX_SIZE, description="The older tree size.")],
    chain: ChainDep,
    session: SessionDep,
) -> ConsistencyPublic:
    """The consistency proof from the tree of `old` blocks to the tree of `size` blocks."""
    if old > size:
        raise _Refused(f"tree size {old} is larger than {size}", "old")
    registry = _registry(chain)
    try:
        hashes = _block_hashes(session, registry, size)
    except (ChainError, *NODE_ERRORS) as exc:
        raise _node_errors(exc) from None
    return ConsistencyPublic(
        old_size=old,
        size=size,
        old_root=_b64(tree_root(hashes[:old])),
        root=_b64(tree_root(hashes)),
        proof=[_b64(p) for p in block_consistency_proof(hashes, old)],
    )
