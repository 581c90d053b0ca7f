"""The provider side of contract negotiation: take the consumer's messages, decide, call back.

Incoming messages move the state machine (client/connector/negotiation.py) and are
acknowledged; the provider's own moves (offer, agreement, finalisation, termination) are sent
afterwards to the consumer's `callbackAddress`, and the state changes when the consumer
acknowledges them. With `auto` (the default) the provider decides by itself:

- a request for exactly the catalog's offer: agree; a counter-offer: answer once with the
  catalog's offer, terminate at the second; an accepted offer: agree;
- agreeing issues the grant on chain (the agreement is the licence, client/connector/odrl.py);
  a contract refusal terminates with its sentence as the reason;
- a verified agreement is finalised once the grant is in force: at once for general data,
  after an auditor's approval for important data (`poll_pending`), terminated if rejected.

Without `auto` the operator calls `offer`, `agree`, `finalize` and `terminate` itself.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from eth_account.signers.local import LocalAccount

from ..chain.enums import GrantStatus
from ..chain.registry import Registry
from ..errors import ContractRevertError, IdsRegistryError
from ..grants import Grants
from ..terms import Opening
from .catalog import Catalog
from .identity import Caller
from .negotiation import Negotiation, NegotiationError, NegotiationStore, Role, State, new_pid, next_state
from .odrl import (
    AgreementTerms,
    PolicyError,
    agreement_policy,
    licence_terms,
    parse_dataset,
    read_offer,
)
from .peer import Peer, PeerError, join, message
from .work import Background

log = logging.getLogger(__name__)

#: The agreement message's extension: the salt that opens the grant's terms commitment, so the
#: consumer holds the opening of its licence (as `grant issue` hands over a licence terms file).
TERMS_SALT = "https://w3id.org/idsreg/terms#salt"


class Provider:
    """Negotiations this organisation's connector answers as provider."""

    def __init__(
        self,
        registry: Registry,
        signer: LocalAccount,
        org_id: str,
        catalog: Catalog,
        store: NegotiationStore,
        peer: Peer,
        *,
        auto: bool = True,
    ) -> None:
        self.registry = registry
        self.signer = signer
        self.org_id = org_id.lower()
        self.catalog = catalog
        self.store = store
        self.peer = peer
        self.auto = auto
        self.grants = Grants(registry)
        self._background = Background("dsp-provider")
        #: One transaction at a time from the connector key (each takes the next nonce).
        self._chain_lock = threading.Lock()

    def close(self) -> None:
        self._background.close()

    # ----- messages from consumers -----

    def get(self, caller: Caller, pid: str) -> Negotiation:
        """The negotiation `pid` if `caller` is its consumer; 404 otherwise (unknown and not yours look alike)."""
        found = self.store.by_pid(Role.PROVIDER, pid)
        if found is None or found.counterparty != caller.org_id:
            raise NegotiationError(404, f"there is no contract negotiation {pid} of yours here", "not-found")
        return found

    def request(self, caller: Caller, body: dict[str, Any], pid: str | None = None) -> Negotiation:
        """A ContractRequestMessage: opens a negotiation (no `pid`) or counter-offers in one."""
        offer = body.get("offer")
        if not isinstance(offer, dict):
            raise NegotiationError(400, "the request carries no offer", "bad-message")
        if pid is None:
            return self._open(caller, body, offer)
        with self.store.locked(pid):
            current = self.get(caller, pid)
            self._same_pids(current, body)
            state = next_state("request", Role.CONSUMER, current.state)
            target = self._target(offer, current.dataset)
            updated = self.store.update(
                current,
                state=state,
                offer={**offer, "target": target},
                offer_by=Role.CONSUMER,
                requests=current.requests + 1,
            )
        self._decide(updated.provider_pid)
        return updated

    def _open(self, caller: Caller, body: dict[str, Any], offer: dict[str, Any]) -> Negotiation:
        callback = body.get("callbackAddress")
        if not isinstance(callback, str) or not callback.startswith(("http://", "https://")):
            raise NegotiationError(400, f"the callbackAddress {callback!r} is not an http(s) URL", "bad-callback")
        if "providerPid" in body:
            raise NegotiationError(400, "an opening request has no providerPid (it is the provider's to choose)")
        next_state("request", Role.CONSUMER, None)
        target = self._target(offer, None)
        root = parse_dataset(target)
        if self.catalog.entry(root) is None:
            raise NegotiationError(400, f"dataset {target} is not in this connector's catalog", "unknown-dataset")
        if offer.get("@id") != self.catalog.offer_for(root)["@id"]:
            raise NegotiationError(
                400,
                f"offer {offer.get('@id')!r} is not an offer of this connector's catalog for {target}",
                "unknown-offer",
            )
        pid = new_pid()
        with self.store.locked(pid):
            created = self.store.insert(
                Negotiation(
                    role=Role.PROVIDER,
                    provider_pid=pid,
                    consumer_pid=str(body["consumerPid"]),
                    state=State.REQUESTED,
                    counterparty=caller.org_id,
                    peer_url=callback,
                    dataset="0x" + root.hex(),
                    offer={**offer, "target": target},
                    offer_by=Role.CONSUMER,
                    requests=1,
                )
            )
        self._decide(pid)
        return created

    def event(self, caller: Caller, pid: str, body: dict[str, Any]) -> Negotiation:
        """A ContractNegotiationEventMessage from the consumer: only ACCEPTED is its to send."""
        kind = body.get("eventType")
        with self.store.locked(pid):
            current = self.get(caller, pid)
            self._same_pids(current, body)
            if kind == "FINALIZED":
                next_state("finalized", Role.CONSUMER, current.state)  # raises: the provider's event
            if kind != "ACCEPTED":
                raise NegotiationError(400, f"event type {kind!r} is not ACCEPTED or FINALIZED", "bad-message")
            state = next_state("accepted", Role.CONSUMER, current.state)
            if current.offer_by != Role.PROVIDER:
                raise NegotiationError(
                    400, "the current offer is the consumer's own; only a provider offer is accepted"
                )
            updated = self.store.update(current, state=state)
        self._decide(pid)
        return updated

    def verification(self, caller: Caller, pid: str, body: dict[str, Any]) -> Negotiation:
        with self.store.locked(pid):
            current = self.get(caller, pid)
            self._same_pids(current, body)
            updated = self.store.update(current, state=next_state("verification", Role.CONSUMER, current.state))
        self._decide(pid)
        return updated

    def termination(self, caller: Caller, pid: str, body: dict[str, Any]) -> Negotiation:
        with self.store.locked(pid):
            current = self.get(caller, pid)
            self._same_pids(current, body)
            state = next_state("termination", Role.CONSUMER, current.state)
            reasons = body.get("reason") or []
            why = "; ".join(str(r) for r in reasons) if isinstance(reasons, list) else str(reasons)
            ended = self.store.update(current, state=state, reason=f"terminated by the consumer: {why or 'no reason'}")
        if ended.grant is not None:
            self._submit(self._revoke_after_termination, pid)
        return ended

    def _revoke_after_termination(self, pid: str) -> Negotiation:
        with self.store.locked(pid):
            return self._revoke_unfinished(self._own(pid))

    # ----- the provider's own moves -----

    def offer(self, pid: str) -> Negotiation:
        """Send the catalog's offer for the negotiation's dataset (REQUESTED → OFFERED)."""
        with self.store.locked(pid):
            current = self._own(pid)
            state = next_state("offer", Role.PROVIDER, current.state)
            offer = self.catalog.offer_for(bytes.fromhex(current.dataset[2:]))
            body = message(
                "ContractOfferMessage", providerPid=current.provider_pid, consumerPid=current.consumer_pid, offer=offer
            )
            self._send(current, f"negotiations/{current.consumer_pid}/offers", body)
            return self.store.update(current, state=state, offer=offer, offer_by=Role.PROVIDER)

    def agree(self, pid: str) -> Negotiation:
        """Agree to the latest offer: issue the grant on chain, send the agreement (→ AGREED).

        A contract refusal (the consumer suspended, the right moved…) terminates the negotiation
        with the contract's sentence as the reason."""
        with self.store.locked(pid):
            current = self._own(pid)
            state = next_state("agreement", Role.PROVIDER, current.state)
            try:
                terms = read_offer(current.offer)
            except PolicyError as exc:
                return self._terminate(current, f"the provider cannot grant these terms: {exc}")
            if terms != self.catalog.terms:
                return self._terminate(current, "the provider grants only the terms of its catalog's offer")
            start = self._chain_now()
            agreement = agreement_policy(
                AgreementTerms(
                    agreement_id=new_pid(),
                    root=bytes.fromhex(current.dataset[2:]),
                    assigner=self.org_id,
                    assignee=current.counterparty,
                    permissions=terms.permissions,
                    purpose=terms.purpose,
                    valid_from=start,
                    valid_until=start + terms.duration,
                )
            )
            opening = Opening.new(licence_terms(agreement))
            try:
                with self._chain_lock:
                    tx = self.grants.grant(
                        self.signer,
                        bytes.fromhex(current.dataset[2:]),
                        current.counterparty,
                        terms.permissions,
                        start,
                        start + terms.duration,
                        opening.commitment,
                    )
            except ContractRevertError as exc:
                return self._terminate(current, f"the licence could not be issued: {exc}")
            issued = tx.event("GrantIssued").args
            grant = {
                "serial": int(issued["serial"]),
                "transaction": tx.tx_hash,
                "blockNumber": tx.block_number,
                "termsCommitment": "0x" + opening.commitment.hex(),
                **opening.to_dict(),
            }
            current = self.store.update(current, agreement=agreement, grant=grant)
            body = message(
                "ContractAgreementMessage",
                providerPid=current.provider_pid,
                consumerPid=current.consumer_pid,
                agreement=agreement,
                **{TERMS_SALT: "0x" + opening.salt.hex()},
            )
            try:
                self._send(current, f"negotiations/{current.consumer_pid}/agreement", body)
            except PeerError as exc:
                return self._terminate(current, f"the consumer did not take the agreement: {exc.reason}")
            return self.store.update(current, state=state)

    def finalize(self, pid: str) -> Negotiation:
        """Send the FINALIZED event (VERIFIED → FINALIZED)."""
        with self.store.locked(pid):
            current = self._own(pid)
            state = next_state("finalized", Role.PROVIDER, current.state)
            body = message(
                "ContractNegotiationEventMessage",
                providerPid=current.provider_pid,
                consumerPid=current.consumer_pid,
                eventType="FINALIZED",
            )
            self._send(current, f"negotiations/{current.consumer_pid}/events", body)
            return self.store.update(current, state=state)

    def terminate(self, pid: str, reason: str) -> Negotiation:
        """Terminate the negotiation and tell the consumer (→ TERMINATED, even if it does not answer)."""
        with self.store.locked(pid):
            return self._terminate(self._own(pid), reason)

    def _terminate(self, current: Negotiation, reason: str) -> Negotiation:
        state = next_state("termination", Role.PROVIDER, current.state)
        body = message(
            "ContractNegotiationTerminationMessage",
            providerPid=current.provider_pid,
            consumerPid=current.consumer_pid,
            code="terminated",
            reason=[reason],
        )
        try:
            self._send(current, f"negotiations/{current.consumer_pid}/termination", body)
        except PeerError as exc:  # termination is one-sided: the consumer's answer does not matter
            log.warning("negotiation %s: termination not acknowledged: %s", current.provider_pid, exc)
        return self._revoke_unfinished(self.store.update(current, state=state, reason=reason))

    def _revoke_unfinished(self, ended: Negotiation) -> Negotiation:
        """A licence issued for a negotiation that ended TERMINATED is revoked: the agreement it
        stood for never came into force. A failure is recorded, not raised (the termination holds)."""
        if ended.grant is None or ended.grant.get("revoked"):
            return ended
        root = bytes.fromhex(ended.dataset[2:])
        try:
            grant = self.grants.show(root, ended.counterparty)
            if grant.serial != int(ended.grant["serial"]) or grant.status not in (
                GrantStatus.ACTIVE,
                GrantStatus.PENDING,
            ):
                return ended  # replaced by another licence, or no longer in force: nothing to revoke
            with self._chain_lock:
                tx = self.grants.revoke(self.signer, root, ended.counterparty)
        except IdsRegistryError as exc:
            log.warning("negotiation %s: its licence could not be revoked: %s", ended.provider_pid, exc)
            return self.store.update(ended, grant={**ended.grant, "revokeFailed": str(exc)})
        return self.store.update(ended, grant={**ended.grant, "revoked": tx.tx_hash})

    # ----- automatic decisions -----

    def _decide(self, pid: str) -> None:
        if self.auto:
            self._submit(self.decide, pid)

    def decide(self, pid: str) -> Negotiation:
        """What the automatic provider does next with negotiation `pid` (see the module's text)."""
        current = self._own(pid)
        if current.state == State.REQUESTED:
            try:
                matches = read_offer(current.offer) == self.catalog.terms
            except PolicyError:
                matches = False
            if matches:
                return self.agree(pid)
            if current.requests <= 1:
                return self.offer(pid)
            return self.terminate(pid, "the provider grants only the terms of its catalog's offer")
        if current.state == State.ACCEPTED:
            return self.agree(pid)
        if current.state == State.VERIFIED:
            return self.finalize_if_in_force(pid)
        return current

    def finalize_if_in_force(self, pid: str) -> Negotiation:
        """Finalise a verified agreement whose grant is in force; terminate it if an auditor rejected
        it; leave it VERIFIED while it waits for an auditor."""
        current = self._own(pid)
        if current.state != State.VERIFIED or current.grant is None:
            return current
        status = self._grant_status(current)
        if status == GrantStatus.ACTIVE:
            return self.finalize(pid)
        if status == GrantStatus.PENDING:
            return current
        return self.terminate(pid, f"the licence on chain is {status.name.lower()}, not in force")

    def poll_pending(self) -> list[Negotiation]:
        """Re-check every verified agreement waiting for an auditor; returns those that moved."""
        moved = []
        for waiting in self.store.in_state(Role.PROVIDER, State.VERIFIED):
            try:
                after = self.finalize_if_in_force(waiting.provider_pid)
            except IdsRegistryError as exc:
                log.warning("negotiation %s: %s", waiting.provider_pid, exc)
                continue
            if after.state != waiting.state:
                moved.append(after)
        return moved

    def wait_idle(self, timeout: float = 30.0) -> None:
        """Wait until the decisions scheduled so far are done (tests, shutdown)."""
        self._background.wait_idle(timeout)

    # ----- helpers -----

    def _submit(self, job: Callable[[str], Negotiation], pid: str) -> None:
        def run() -> None:
            try:
                job(pid)
            except (IdsRegistryError, NegotiationError) as exc:
                log.warning("negotiation %s: %s", pid, exc)
                try:
                    current = self._own(pid)
                    if current.state not in (State.FINALIZED, State.TERMINATED):
                        self.terminate(pid, f"the provider could not continue: {exc}")
                except IdsRegistryError as again:
                    log.warning("negotiation %s: %s", pid, again)

        self._background.submit(run)

    def _own(self, pid: str) -> Negotiation:
        found = self.store.by_pid(Role.PROVIDER, pid)
        if found is None:
            raise NegotiationError(404, f"there is no contract negotiation {pid} here", "not-found")
        return found

    def _send(self, current: Negotiation, path: str, body: dict[str, Any]) -> None:
        self.peer.post(current.peer_url, join(current.peer_url, path), body)

    def _target(self, offer: dict[str, Any], known: str | None) -> str:
        target = offer.get("target")
        if not isinstance(target, str):
            raise NegotiationError(400, "the offer names no target dataset", "bad-message")
        try:
            root = parse_dataset(target)
        except PolicyError as exc:
            raise NegotiationError(400, str(exc), "bad-message") from None
        if known is not None and "0x" + root.hex() != known:
            raise NegotiationError(400, f"the offer's target {target} is not this negotiation's dataset {known}")
        return target

    @staticmethod
    def _same_pids(current: Negotiation, body: dict[str, Any]) -> None:
        if body.get("consumerPid") != current.consumer_pid or body.get("providerPid", current.provider_pid) != (
            current.provider_pid
        ):
            raise NegotiationError(
                400,
                f"the message names consumerPid {body.get('consumerPid')!r} and providerPid "
                f"{body.get('providerPid')!r}, not this negotiation's",
                "bad-message",
            )

    def _grant_status(self, current: Negotiation) -> GrantStatus:
        assert current.grant is not None
        grant = self.grants.show(bytes.fromhex(current.dataset[2:]), current.counterparty)
        if grant.serial != int(current.grant["serial"]):
            return GrantStatus.REVOKED  # replaced since: the agreed licence is no longer the one in force
        return grant.status

    def _chain_now(self) -> int:
        return int(self.registry.w3.eth.get_block("latest")["timestamp"])
