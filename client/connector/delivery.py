"""The consumer's whole exchange: catalog → contract → transfer → verified bytes → receipt on chain.

`fetch_dataset` is what `idsreg connector fetch` runs, and the demo and the benchmark with it:

1. the dataset must be registered on chain: its id *is* the content root the bytes are checked
   against (the provider's manifest is never trusted for it);
2. negotiate (client/connector/client.py) until FINALIZED — the licence is on chain;
3. ask for a transfer of the agreement (HttpData-PULL) and wait for the provider's start;
4. pull the bytes through the data plane, verifying them while they stream
   (client/connector/fetch.py); a mismatch stops here, nothing signed;
5. send the TransferCompletionMessage, sign the receipt (only a `Verified` delivery can be
   signed), have the provider countersign it (`POST /transfers/<providerPid>/receipt`), check
   both signatures, and submit it to the ExchangeLedger.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn

from ..chain.enums import Party
from ..datasets import Datasets
from ..errors import ConfigError, NotRegisteredError, ProofError
from ..receipts import ReceiptFile, Receipts
from .app import Connector
from .client import NegotiationFailed
from .fetch import DataPlaneClient, Progress, RootMismatch, Verified, check_destination
from .negotiation import Negotiation
from .odrl import dataset_iri
from .peer import join
from .receipt import draft_receipt


@dataclass(frozen=True)
class Delivery:
    """A finished exchange: where the verified bytes are and the receipt recorded on chain."""

    verified: Verified
    negotiation: Negotiation
    transfer: str  # the provider's pid of the transfer process
    receipt: ReceiptFile
    receipt_transaction: str
    #: Seconds spent in each step, in order (negotiation, transfer start, download, receipt).
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": "0x" + self.verified.root.hex(),
            "kind": self.verified.kind,
            "path": str(self.verified.path),
            "size": self.verified.size,
            "files": len(self.verified.files),
            "agreement": (self.negotiation.agreement or {}).get("@id"),
            "grantSerial": (self.negotiation.grant or {}).get("serial"),
            "transfer": self.transfer,
            "receipt": "0x" + self.receipt.digest.hex(),
            "receiptTransaction": self.receipt_transaction,
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
        }


def fetch_dataset(
    connector: Connector,
    provider_url: str,
    root: bytes,
    out: Path | None,
    *,
    purpose: str | None = None,
    progress: Progress | None = None,
    on_total: Progress | None = None,
    on_step: Callable[[str], None] | None = None,
    timeout: float = 120.0,
) -> Delivery:
    """Get dataset `root` from the connector at `provider_url` into `out`, as `connector`'s
    organisation (the consumer), with a receipt on chain at the end."""
    consumer = connector.consumer
    registry = consumer.registry
    peer = consumer.peer
    say = on_step or (lambda _text: None)
    timings: dict[str, float] = {}
    clock = time.monotonic()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.monotonic()
        timings[name] = now - clock
        clock = now

    if out is not None:
        check_destination(out)  # before anything is agreed
    if not Datasets(registry).is_registered(root):
        raise NotRegisteredError(f"dataset 0x{root.hex()} is not registered on chain: there is no root to check it by")
    if purpose is not None:
        offered = offered_purposes(consumer.dataset(provider_url, dataset_iri(root)))
        if purpose not in offered:
            shown = ", ".join(repr(p) for p in offered) or "none"
            raise NegotiationFailed(
                f"the provider offers dataset 0x{root.hex()} for purpose {shown}, not for {purpose!r}; nothing agreed"
            )
    say("negotiating a contract")
    negotiation = consumer.negotiate(provider_url, root, timeout=timeout)
    lap("negotiation")
    agreement, grant = (negotiation.agreement or {}).get("@id"), (negotiation.grant or {}).get("serial")
    say(f"agreement {agreement} is licence grant {grant}")
    started, address = consumer.start_transfer(negotiation.consumer_pid, timeout=timeout)
    lap("transfer start")
    say(f"transfer {started.provider_pid} started; downloading and verifying")
    try:
        verified = DataPlaneClient(peer.key, consumer.org_id).fetch(
            address, root, out, progress=progress, on_total=on_total
        )
    except RootMismatch as exc:
        consumer.terminate_transfer(started.consumer_pid, f"the bytes do not match the dataset's root: {exc}")
        raise
    lap("download")
    consumer.complete_transfer(started.consumer_pid)
    receipts = Receipts(registry)
    delivered_at = int(registry.w3.eth.get_block("latest")["timestamp"])
    mine = draft_receipt(receipts, verified, negotiation, peer.key, consumer.org_id, delivered_at)
    url = join(negotiation.peer_url, f"transfers/{started.provider_pid}/receipt")
    answer = peer.post_document(negotiation.peer_url, url, mine.to_json())
    both = ReceiptFile.from_json(answer.text)
    if both.digest != mine.digest or both.signatures.get("consumer") != mine.signatures["consumer"]:
        raise ProofError("the provider returned another receipt than the one this connector signed")
    signers = both.verify_offline(receipts.key_owner)
    owner = receipts.key_owner(signers[Party.PROVIDER.name.lower()])
    provider_org = registry.org_label(int(registry.call("Consortium", "orgNoOf", both.receipt.provider)))
    if owner != provider_org:
        raise ProofError(f"the provider's signature is by a key of {owner}, not of {provider_org}")
    result = receipts.submit(peer.key, both)
    lap("receipt")
    return Delivery(verified, negotiation, started.provider_pid, both, result.tx_hash, timings)


def offered_purposes(dataset: dict[str, Any]) -> list[str]:
    """The purposes (`odrl:purpose eq …`) the offers of a catalog's dataset name."""
    found = []
    for offer in dataset.get("hasPolicy", []):
        for rule in offer.get("permission", []):
            for constraint in rule.get("constraint", []):
                if constraint.get("leftOperand") == "odrl:purpose":
                    found.append(str(constraint.get("rightOperand")))
    return found


class BackgroundServer:
    """A connector's app served by uvicorn in a thread (for the callbacks of a one-off fetch)."""

    def __init__(self, app: Any, host: str, port: int) -> None:
        config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="connector-http", daemon=True)

    def start(self, timeout: float = 30.0) -> None:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise ConfigError(
                    f"the connector could not listen on {self.server.config.host}:{self.server.config.port}"
                )
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
