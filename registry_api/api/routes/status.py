"""`/v1/status`: how far the index reaches and whether the chain node answers."""

from __future__ import annotations

from fastapi import APIRouter

from ... import store
from ...leader import indexing_service
from ..deps import ChainDep, SessionDep, SettingsDep
from ..schemas import StatusPublic

router = APIRouter(prefix="/v1", tags=["status"])


@router.get("/status", response_model=StatusPublic)
def status(session: SessionDep, chain: ChainDep, settings: SettingsDep) -> StatusPublic:
    """Chain id, chain head, indexed head, lag, contract addresses, and which service indexes;
    works with the node down."""
    checkpoint = store.get_checkpoint(session)
    head = chain.head()
    manifest = chain.manifest()
    indexed = checkpoint.block_number if checkpoint is not None else None
    return StatusPublic(
        chain_id=checkpoint.chain_id if checkpoint is not None else chain.chain_id(),
        node_reachable=head is not None,
        chain_head=head,
        indexed_block=indexed,
        indexed_block_hash=checkpoint.block_hash if checkpoint is not None else None,
        indexed_block_time=checkpoint.block_time if checkpoint is not None else None,
        lag=max(head - indexed, 0) if head is not None and indexed is not None else None,
        confirmations=settings.confirmations,
        deployment_block=manifest.deployment_block if manifest is not None else None,
        contracts={name: c.address for name, c in manifest.contracts.items()} if manifest is not None else {},
        indexed_at=int(checkpoint.updated_at.timestamp()) if checkpoint is not None else None,
        service=settings.service,
        indexing_service=indexing_service(session.connection()),
    )
