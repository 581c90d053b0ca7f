"""The consumer side: read a provider's catalog, negotiate a contract, take the provider's callbacks.

`Consumer.negotiate(provider_url, dataset)` is the whole path: the catalog (following its
`Link: rel="next"` pages), the dataset's offer, a ContractRequestMessage, then the provider's
callbacks to this connector's `callbackAddress` (`<base>/callback`), each checked and
acknowledged: an offer is accepted when it can be a licence, an agreement is verified
only when the licence it describes is on the chain (the grant's terms commitment opens to the
agreement's terms with the salt the message carries), and FINALIZED ends it.

`Consumer.start_transfer(negotiation_pid)` then asks for the agreed dataset's transfer and
returns the provider's data address; `suspend_transfer`, `resume_transfer`, `complete_transfer`
and `terminate_transfer` are the consumer's other moves (client/connector/transfer_consumer.py).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from typing import Any

from hexbytes import HexBytes

from ..chain.registry import Registry
from ..errors import IdsRegistryError
from ..terms import Opening
from .catalog import CONTEXT
from .identity import Caller, normalise_url
from .negotiation import Negotiation, NegotiationError, NegotiationStore, Role, State, new_pid, next_state
from .odrl import PolicyError, dataset_iri, licence_terms, parse_dataset, parse_org, read_agreement, read_offer
from .peer import Peer, PeerError, join, message
from .provider import TERMS_SALT
from .transfer import DataAddress, Transfer
from .transfer_consumer import TransferConsumer, TransferFailed
from .work import Background

log = logging.getLogger(__name__)

_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


class NegotiationFailed(IdsRegistryError):
    """A negotiation that ended TERMINATED (message gives the reason) or did not end in time."""

    exit_code = 5


class Consumer:
    """Negotiations this organisation's connector opens as consumer."""

    def __init__(
        self,
        registry: Registry,
        org_id: str,
        base_url: str,
        store: NegotiationStore,
        peer: Peer,
        *,
        auto: bool = True,
    ) -> None:
        self.registry = registry
        self.org_id = org_id.lower()
        self.base_url = normalise_url(base_url)
        self.store = store
        self.peer = peer
        self.auto = auto
        self._background = Background("dsp-consumer")
        #: The transfer side (make_connector sets it).
        self.transfers: TransferConsumer | None = None

    @property
    def callback_url(self) -> str:
        return self.base_url + "/callback"

    def close(self) -> None:
        self._background.close()

    # ----- catalog -----

    def catalog_page(self, provider_url: str, url: str | None = None) -> tuple[dict[str, Any], str | None]:
        """One page of the provider's catalog and the URL of the next page (None at the last)."""
        body = {"@context": CONTEXT, "@type": "CatalogRequestMessage"}
        target = url or join(provider_url, "catalog/request")
        response = self.peer.post(provider_url, target, body)
        page = response.json()
        if self.peer.schemas is not None:
            self.peer.schemas.validate(page)
        links = ",".join(response.headers.get_list("link"))
        found = _NEXT.search(links)
        return page, found.group(1) if found else None

    def catalog(self, provider_url: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The provider's catalog (its first page) and every dataset over all pages."""
        first, url = self.catalog_page(provider_url)
        datasets = list(first.get("dataset", []))
        while url is not None:
            page, url = self.catalog_page(provider_url, url)
            datasets.extend(page.get("dataset", []))
        return first, datasets

    def dataset(self, provider_url: str, dataset_id: str) -> dict[str, Any]:
        response = self.peer.get(provider_url, join(provider_url, f"catalog/datasets/{dataset_id}"))
        body: dict[str, Any] = response.json()
        if self.peer.schemas is not None:
            self.peer.schemas.validate(body, "Dataset")
        return body

    # ----- negotiation, consumer's moves -----

    def negotiate(self, provider_url: str, root: bytes, *, timeout: float = 60.0) -> Negotiation:
        """Catalog → request the dataset's offer → … → FINALIZED; NegotiationFailed if it is terminated."""
        first, datasets = self.catalog(provider_url)
        wanted = dataset_iri(root)
        found = next((d for d in datasets if d.get("@id") == wanted), None)
        if found is None:
            raise NegotiationFailed(f"the catalog at {provider_url} does not offer dataset {wanted}")
        offer = {**found["hasPolicy"][0], "target": wanted}
        started = self.request(provider_url, parse_org(str(first["participantId"])), offer)
        return self.wait(started.consumer_pid, {State.FINALIZED}, timeout=timeout)

    def request(self, provider_url: str, provider_org: str, offer: dict[str, Any]) -> Negotiation:
        """Open a negotiation with a ContractRequestMessage for `offer` (which names its target)."""
        pid = new_pid()
        provider_url = normalise_url(provider_url)
        with self.store.locked(pid):
            row = self.store.insert(
                Negotiation(
                    role=Role.CONSUMER,
                    provider_pid="",
                    consumer_pid=pid,
                    state=State.REQUESTED,
                    counterparty=provider_org.lower(),
                    peer_url=provider_url,
                    dataset="0x" + parse_dataset(str(offer.get("target", ""))).hex(),
                    offer=offer,
                    offer_by=Role.CONSUMER,
                    requests=1,
                )
            )
            body = message("ContractRequestMessage", consumerPid=pid, offer=offer, callbackAddress=self.callback_url)
            try:
                response = self.peer.post(provider_url, join(provider_url, "negotiations/request"), body)
            except PeerError as exc:
                self.store.update(row, state=State.TERMINATED, reason=str(exc))
                raise
            ack = response.json()
            self._check_ack(ack, State.REQUESTED)
            return self.store.update(row, provider_pid=str(ack["providerPid"]))

    def counter(self, pid: str, offer: dict[str, Any]) -> Negotiation:
        """Counter-offer (OFFERED → REQUESTED)."""
        return self._send(pid, "request", "request", message("ContractRequestMessage", offer=offer), offer=offer)

    def accept(self, pid: str) -> Negotiation:
        """Accept the provider's offer (OFFERED → ACCEPTED)."""
        return self._send(pid, "accepted", "events", message("ContractNegotiationEventMessage", eventType="ACCEPTED"))

    def verify(self, pid: str) -> Negotiation:
        """Verify the agreement (AGREED → VERIFIED)."""
        return self._send(
            pid, "verification", "agreement/verification", message("ContractAgreementVerificationMessage")
        )

    def terminate(self, pid: str, reason: str) -> Negotiation:
        with self.store.locked(pid):
            current = self._own(pid)
            state = next_state("termination", Role.CONSUMER, current.state)
            body = message(
                "ContractNegotiationTerminationMessage",
                providerPid=current.provider_pid,
                consumerPid=current.consumer_pid,
                code="terminated",
                reason=[reason],
            )
            try:
                self.peer.post(current.peer_url, self._url(current, "termination"), body)
            except PeerError as exc:
                log.warning("negotiation %s: termination not acknowledged: %s", pid, exc)
            return self.store.update(current, state=state, reason=reason)

    def _send(self, pid: str, name: str, path: str, body: dict[str, Any], **changes: Any) -> Negotiation:
        with self.store.locked(pid):
            current = self._own(pid)
            state = next_state(name, Role.CONSUMER, current.state)
            body = {**body, "providerPid": current.provider_pid, "consumerPid": current.consumer_pid}
            self.peer.post(current.peer_url, self._url(current, path), body)
            return self.store.update(current, state=state, **changes)

    def wait(self, pid: str, states: set[State], *, timeout: float = 60.0) -> Negotiation:
        """The negotiation once it reaches one of `states`; NegotiationFailed if it is terminated
        (with the provider's reason) or not there within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            current = self._own(pid)
            if current.state in states:
                return current
            if current.state == State.TERMINATED:
                raise NegotiationFailed(f"negotiation {pid} was terminated: {current.reason}")
            if time.monotonic() > deadline:
                raise NegotiationFailed(f"negotiation {pid} is still {current.state.value} after {timeout:g} s")
            time.sleep(0.05)

    # ----- transfers of agreed datasets -----

    def start_transfer(self, negotiation_pid: str, *, timeout: float = 60.0) -> tuple[Transfer, DataAddress]:
        """Ask for the transfer of a FINALIZED negotiation's dataset (HttpData-PULL) and wait for the
        provider's start: the transfer and the data address to pull from; TransferFailed otherwise."""
        return self._transfers().start(negotiation_pid, timeout=timeout)

    def suspend_transfer(self, pid: str, reason: str) -> Transfer:
        return self._transfers().suspend(pid, reason)

    def resume_transfer(self, pid: str) -> Transfer:
        return self._transfers().resume(pid)

    def complete_transfer(self, pid: str) -> Transfer:
        """Tell the provider the bytes arrived (and were verified): STARTED → COMPLETED."""
        return self._transfers().complete(pid)

    def terminate_transfer(self, pid: str, reason: str) -> Transfer:
        return self._transfers().terminate(pid, reason)

    def _transfers(self) -> TransferConsumer:
        if self.transfers is None:
            raise TransferFailed("this consumer has no transfer side (build it with make_connector)")
        return self.transfers

    # ----- the provider's callbacks -----

    def get(self, caller: Caller, pid: str) -> Negotiation:
        found = self.store.by_pid(Role.CONSUMER, pid)
        if found is None or found.counterparty != caller.org_id:
            raise NegotiationError(404, f"there is no contract negotiation {pid} of yours here", "not-found")
        return found

    def on_offer(self, caller: Caller, pid: str, body: dict[str, Any]) -> Negotiation:
        with self.store.locked(pid):
            current = self._callback(caller, pid, body)
            state = next_state("offer", Role.PROVIDER, current.state)
            offer = body.get("offer")
            if not isinstance(offer, dict) or offer.get("target") != dataset_iri(bytes.fromhex(current.dataset[2:])):
                raise NegotiationError(400, "the offer does not name this negotiation's dataset as its target")
            updated = self.store.update(current, state=state, offer=offer, offer_by=Role.PROVIDER)
        if self.auto:
            self._submit(self._answer_offer, pid)
        return updated

    def _answer_offer(self, pid: str) -> Negotiation:
        """Accept an offer that can be a licence (client/connector/odrl.py); terminate otherwise."""
        try:
            read_offer(self._own(pid).offer)
        except PolicyError as exc:
            return self.terminate(pid, f"the consumer cannot take this offer as a licence: {exc}")
        return self.accept(pid)

    def on_agreement(self, caller: Caller, pid: str, body: dict[str, Any]) -> Negotiation:
        with self.store.locked(pid):
            current = self._callback(caller, pid, body)
            state = next_state("agreement", Role.PROVIDER, current.state)
            agreement = body.get("agreement")
            if not isinstance(agreement, dict):
                raise NegotiationError(400, "the agreement message carries no agreement")
            grant = self._check_agreement(current, agreement, body.get(TERMS_SALT))
            updated = self.store.update(current, state=state, agreement=agreement, grant=grant)
        if self.auto:
            self._submit(self.verify, pid)
        return updated

    def on_event(self, caller: Caller, pid: str, body: dict[str, Any]) -> Negotiation:
        with self.store.locked(pid):
            current = self._callback(caller, pid, body)
            kind = body.get("eventType")
            if kind == "ACCEPTED":
                next_state("accepted", Role.PROVIDER, current.state)  # raises: the consumer's event
            if kind != "FINALIZED":
                raise NegotiationError(400, f"event type {kind!r} is not FINALIZED or ACCEPTED")
            return self.store.update(current, state=next_state("finalized", Role.PROVIDER, current.state))

    def on_termination(self, caller: Caller, pid: str, body: dict[str, Any]) -> Negotiation:
        with self.store.locked(pid):
            current = self._callback(caller, pid, body)
            state = next_state("termination", Role.PROVIDER, current.state)
            reasons = body.get("reason") or []
            why = "; ".join(str(r) for r in reasons) if isinstance(reasons, list) else str(reasons)
            return self.store.update(current, state=state, reason=f"terminated by the provider: {why or 'no reason'}")

    def _check_agreement(self, current: Negotiation, agreement: dict[str, Any], salt: Any) -> dict[str, Any]:
        """The grant record of an agreement that is the licence on chain; NegotiationError (400) otherwise."""
        try:
            terms = read_agreement(agreement)
        except PolicyError as exc:
            raise NegotiationError(400, f"the agreement cannot be read as a licence: {exc}") from None
        if "0x" + terms.root.hex() != current.dataset:
            raise NegotiationError(400, f"the agreement's target is not this negotiation's dataset {current.dataset}")
        if terms.assignee != self.org_id or terms.assigner != current.counterparty:
            raise NegotiationError(400, "the agreement's assigner and assignee are not the provider and this consumer")
        if not isinstance(salt, str):
            raise NegotiationError(400, "the agreement message carries no terms salt, so its licence cannot be checked")
        try:
            opening = Opening(licence_terms(agreement), bytes.fromhex(salt.removeprefix("0x")))
            commitment = opening.commitment
        except (ValueError, IdsRegistryError) as exc:
            raise NegotiationError(400, f"the agreement's terms salt is unusable: {exc}") from None
        org_no = int(self.registry.call("Consortium", "orgNoOf", self.org_id))
        topic = "0x" + org_no.to_bytes(32, "big").hex()
        for args, log_entry in self.registry.events("AccessRegistry", "GrantIssued", "0x" + terms.root.hex(), topic):
            if bytes(HexBytes(args["termsCommitment"])) == commitment:
                return {
                    "serial": int(args["serial"]),
                    "transaction": log_entry["transactionHash"].to_0x_hex(),
                    "blockNumber": int(log_entry["blockNumber"]),
                    "termsCommitment": "0x" + commitment.hex(),
                    **opening.to_dict(),
                }
        raise NegotiationError(400, f"no licence on chain commits to this agreement (commitment 0x{commitment.hex()})")

    # ----- helpers -----

    def _callback(self, caller: Caller, pid: str, body: dict[str, Any]) -> Negotiation:
        current = self.get(caller, pid)
        if body.get("consumerPid") != current.consumer_pid or body.get("providerPid") != current.provider_pid:
            raise NegotiationError(400, "the message's consumerPid and providerPid are not this negotiation's")
        return current

    def _own(self, pid: str) -> Negotiation:
        found = self.store.by_pid(Role.CONSUMER, pid)
        if found is None:
            raise NegotiationError(404, f"there is no contract negotiation {pid} here", "not-found")
        return found

    @staticmethod
    def _url(current: Negotiation, path: str) -> str:
        return join(current.peer_url, f"negotiations/{current.provider_pid}/{path}")

    def _check_ack(self, ack: Any, state: State) -> None:
        if self.peer.schemas is not None:
            self.peer.schemas.validate(ack, "ContractNegotiation")
        if not isinstance(ack, dict) or ack.get("state") != state.value:
            raise NegotiationFailed(f"the provider acknowledged with {ack!r}, not state {state.value}")

    def _submit(self, job: Callable[[str], Negotiation], pid: str) -> None:
        def run() -> None:
            try:
                job(pid)
            except (IdsRegistryError, NegotiationError) as exc:
                log.warning("negotiation %s: %s", pid, exc)

        self._background.submit(run)

    def wait_idle(self, timeout: float = 30.0) -> None:
        """Wait until the moves scheduled so far are done (tests, shutdown)."""
        self._background.wait_idle(timeout)
