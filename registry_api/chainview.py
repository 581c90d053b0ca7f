"""The API's view of the chain node: head block and deployment, never blocking a request for long.

Requests that only read the index never touch the node. `/v1/status` and `/metrics` ask for
the head (cached for a second, so load does not become node traffic); `/v1/verify` asks for a
`Registry` to check evidence against contract state. When the node does not answer they get
None or `Unavailable`, and the rest of the API keeps serving the index.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from eth_typing import HexStr
from web3 import Web3

from client.chain.manifest import Manifest
from client.chain.node import NODE_ERRORS, NOT_FOUND_ERRORS
from client.chain.registry import Registry
from client.errors import DeploymentError

from .errors import Unavailable
from .settings import ApiSettings

log = logging.getLogger(__name__)

#: Seconds a head-block reading is reused.
HEAD_CACHE = 1.0


class ChainView:
    """One node connection shared by the API's requests."""

    def __init__(self, settings: ApiSettings, chain_id: int | None = None) -> None:
        self.settings = settings
        self.w3 = Web3(Web3.HTTPProvider(settings.rpc_url, request_kwargs={"timeout": settings.node_timeout}))
        self._chain_id = chain_id
        self._manifest: Manifest | None = None
        self._head: tuple[float, int | None] = (0.0, None)
        self._lock = threading.Lock()

    def head(self) -> int | None:
        """The node's head block, or None when it does not answer."""
        with self._lock:
            at, value = self._head
            if time.monotonic() - at < HEAD_CACHE:
                return value
            try:
                value = int(self.w3.eth.block_number)
            except NODE_ERRORS as exc:
                log.info("chain node at %s does not answer: %s", self.settings.rpc_url, type(exc).__name__)
                value = None
            self._head = (time.monotonic(), value)
            return value

    def recent_head(self) -> tuple[bool, int | None]:
        """(fresh, head): the last head reading and whether it is recent enough to reuse; never
        asks the node (so an async route may call it)."""
        at, value = self._head
        return time.monotonic() - at < HEAD_CACHE, value

    def chain_id(self) -> int | None:
        """The chain id: the index's, else the node's; None if neither is known yet."""
        if self._chain_id is None:
            try:
                self._chain_id = int(self.w3.eth.chain_id)
            except NODE_ERRORS:
                return None
        return self._chain_id

    def manifest(self) -> Manifest | None:
        """The deployment manifest of the served chain, if the chain and the manifest are known."""
        if self._manifest is None:
            chain_id = self.chain_id()
            if chain_id is None:
                return None
            try:
                self._manifest = Manifest.load(self.settings.deployments, chain_id)
            except DeploymentError:
                return None
        return self._manifest

    def registry(self) -> Registry:
        """Contract handles for checking evidence on the chain; Unavailable if the node is down."""
        manifest = self.manifest()
        if manifest is None or self.head() is None:
            raise Unavailable(f"the chain node at {self.settings.rpc_url} does not answer (or no deployment is known)")
        return Registry(self.w3, manifest)

    def transaction(self, tx_hash: str) -> dict[str, Any] | None:
        """A mined transaction as the explorer shows it (its block, sender, contract, status,
        gas, number of events); None if the node does not know it. Unavailable if the node is down."""
        try:
            tx = self.w3.eth.get_transaction(HexStr(tx_hash))
            receipt = self.w3.eth.get_transaction_receipt(HexStr(tx_hash))
        except NOT_FOUND_ERRORS:
            return None
        except NODE_ERRORS as exc:
            raise Unavailable(f"the chain node at {self.settings.rpc_url} does not answer") from exc
        return {
            "hash": tx_hash.lower(),
            "blockNumber": int(receipt["blockNumber"]),
            "blockHash": "0x" + bytes(receipt["blockHash"]).hex(),
            "from": str(tx["from"]),
            "to": str(tx.get("to") or ""),
            "status": int(receipt["status"]),
            "gasUsed": int(receipt["gasUsed"]),
            "logs": len(receipt["logs"]),
        }

    def block(self, number: int) -> dict[str, Any] | None:
        """A block's hash, parent, time and transaction hashes; None beyond the node's head."""
        try:
            block = self.w3.eth.get_block(number)
        except NOT_FOUND_ERRORS:
            return None
        except NODE_ERRORS as exc:
            raise Unavailable(f"the chain node at {self.settings.rpc_url} does not answer") from exc
        return {
            "number": int(block["number"]),
            "hash": "0x" + bytes(block["hash"]).hex(),
            "parentHash": "0x" + bytes(block["parentHash"]).hex(),
            "timestamp": int(block["timestamp"]),
            # Without full transactions asked for, the block lists their hashes.
            "transactions": ["0x" + bytes(t).hex() for t in block["transactions"] if isinstance(t, bytes)],
        }
