"""The consumer side of the transfer process: ask for a transfer, take the provider's callbacks.

`TransferConsumer.start(negotiation_pid)` is the whole path to the bytes' address: a
TransferRequestMessage for the agreement of a FINALIZED negotiation this connector opened,
then the provider's TransferStartMessage at `<base>/callback/transfers/<consumerPid>/start`,
whose data address it returns. `suspend`, `resume`, `complete` and `terminate` are the
consumer's moves; the provider's suspension, completion and termination arrive as callbacks.
"""

from __future__ import annotations

import time
from typing import Any

from ..errors import IdsRegistryError
from .identity import Caller, normalise_url
from .negotiation import NegotiationStore, Role, State
from .peer import Peer, join, message
from .transfer import (
    FORMAT,
    DataAddress,
    Transfer,
    TransferError,
    TransferState,
    TransferStore,
    next_transfer_state,
)
from .transfer_provider import new_pid, reasons


class TransferFailed(IdsRegistryError):
    """A transfer that cannot be asked for, ended TERMINATED (message gives the reason), or did
    not reach the expected state in time."""

    exit_code = 5


class TransferConsumer:
    """Transfer processes this organisation's connector asks for as consumer."""

    def __init__(
        self, org_id: str, base_url: str, store: TransferStore, negotiations: NegotiationStore, peer: Peer
    ) -> None:
        self.org_id = org_id.lower()
        self.base_url = normalise_url(base_url)
        self.store = store
        self.negotiations = negotiations
        self.peer = peer

    @property
    def callback_url(self) -> str:
        return self.base_url + "/callback"

    # ----- the consumer's moves -----

    def start(self, negotiation_pid: str, *, timeout: float = 60.0) -> tuple[Transfer, DataAddress]:
        """Ask for the transfer of negotiation `negotiation_pid`'s dataset and wait for the provider's
        start: the transfer and its data address; TransferFailed if it is terminated or times out."""
        requested = self.request(negotiation_pid)
        started = self.wait(requested.consumer_pid, {TransferState.STARTED}, timeout=timeout)
        address = started.address()
        assert address is not None  # a start callback always stores its address
        return started, address

    def request(self, negotiation_pid: str) -> Transfer:
        """Send a TransferRequestMessage (HttpData-PULL) for the agreement of a FINALIZED negotiation."""
        negotiation = self.negotiations.by_pid(Role.CONSUMER, negotiation_pid)
        if negotiation is None:
            raise TransferFailed(f"there is no contract negotiation {negotiation_pid} opened by this connector")
        if negotiation.state != State.FINALIZED or negotiation.agreement is None:
            raise TransferFailed(
                f"negotiation {negotiation_pid} is {negotiation.state.value}; only a FINALIZED agreement is transferred"
            )
        agreement_id = str(negotiation.agreement["@id"])
        pid = new_pid()
        with self.store.locked(pid):
            row = self.store.insert(
                Transfer(
                    role=Role.CONSUMER,
                    provider_pid="",
                    consumer_pid=pid,
                    state=TransferState.REQUESTED,
                    counterparty=negotiation.counterparty,
                    peer_url=negotiation.peer_url,
                    agreement_id=agreement_id,
                    dataset=negotiation.dataset,
                    negotiation=negotiation_pid,
                    consumer_key=self.peer.key.address,
                )
            )
            body = message(
                "TransferRequestMessage",
                consumerPid=pid,
                agreementId=agreement_id,
                format=FORMAT,
                callbackAddress=self.callback_url,
            )
            try:
                response = self.peer.post(row.peer_url, join(row.peer_url, "transfers/request"), body)
            except IdsRegistryError as exc:
                self.store.update(row, state=TransferState.TERMINATED, reason=str(exc))
                raise
            ack = response.json()
            if not isinstance(ack, dict) or ack.get("state") != TransferState.REQUESTED.value:
                self.store.update(row, state=TransferState.TERMINATED, reason=f"unexpected answer {ack!r}")
                raise TransferFailed(f"the provider acknowledged with {ack!r}, not state REQUESTED")
            return self.store.update(row, provider_pid=str(ack["providerPid"]))

    def suspend(self, pid: str, reason: str) -> Transfer:
        """Suspend (STARTED → SUSPENDED)."""
        return self._send(pid, "suspension", message("TransferSuspensionMessage", code="suspended", reason=[reason]))

    def resume(self, pid: str) -> Transfer:
        """Resume a suspended transfer (SUSPENDED → STARTED); the data address stays the one of the last start."""
        return self._send(pid, "start", message("TransferStartMessage"))

    def complete(self, pid: str) -> Transfer:
        """Tell the provider every byte arrived (STARTED → COMPLETED)."""
        return self._send(pid, "completion", message("TransferCompletionMessage"))

    def terminate(self, pid: str, reason: str) -> Transfer:
        """Terminate (any state but COMPLETED, TERMINATED); holds even if the provider does not answer."""
        with self.store.locked(pid):
            current = self._own(pid)
            state = next_transfer_state("termination", Role.CONSUMER, current.state)
            body = message(
                "TransferTerminationMessage",
                providerPid=current.provider_pid,
                consumerPid=current.consumer_pid,
                code="terminated",
                reason=[reason],
            )
            try:
                self.peer.post(current.peer_url, self._url(current, "termination"), body)
            except IdsRegistryError:
                pass  # one-sided: the termination holds here whatever the provider answers
            return self.store.update(current, state=state, reason=reason)

    def _send(self, pid: str, name: str, body: dict[str, Any]) -> Transfer:
        with self.store.locked(pid):
            current = self._own(pid)
            state = next_transfer_state(name, Role.CONSUMER, current.state)
            body = {**body, "providerPid": current.provider_pid, "consumerPid": current.consumer_pid}
            self.peer.post(current.peer_url, self._url(current, name), body)
            return self.store.update(current, state=state)

    def wait(self, pid: str, states: set[TransferState], *, timeout: float = 60.0) -> Transfer:
        """The transfer once it is in one of `states`; TransferFailed if it is terminated (with the
        provider's reason) or not there within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            current = self._own(pid)
            if current.state in states:
                return current
            if current.state == TransferState.TERMINATED:
                raise TransferFailed(f"transfer {pid} was terminated: {current.reason}")
            if time.monotonic() > deadline:
                raise TransferFailed(f"transfer {pid} is still {current.state.value} after {timeout:g} s")
            time.sleep(0.05)

    # ----- the provider's callbacks -----

    def get(self, caller: Caller, pid: str) -> Transfer:
        found = self.store.by_pid(Role.CONSUMER, pid)
        if found is None or found.counterparty != caller.org_id:
            raise TransferError(404, f"there is no transfer process {pid} of yours here", "not-found")
        return found

    def on_start(self, caller: Caller, pid: str, body: dict[str, Any]) -> Transfer:
        with self.store.locked(pid):
            current = self._callback(caller, pid, body)
            state = next_transfer_state("start", Role.PROVIDER, current.state)
            address = DataAddress.from_message(body.get("dataAddress"))
            return self.store.update(current, state=state, data_address=address.to_message())

    def on_suspension(self, caller: Caller, pid: str, body: dict[str, Any]) -> Transfer:
        return self._provider_move(caller, pid, body, "suspension")

    def on_completion(self, caller: Caller, pid: str, body: dict[str, Any]) -> Transfer:
        return self._provider_move(caller, pid, body, "completion")

    def on_termination(self, caller: Caller, pid: str, body: dict[str, Any]) -> Transfer:
        return self._provider_move(caller, pid, body, "termination")

    def _provider_move(self, caller: Caller, pid: str, body: dict[str, Any], name: str) -> Transfer:
        with self.store.locked(pid):
            current = self._callback(caller, pid, body)
            state = next_transfer_state(name, Role.PROVIDER, current.state)
            why = reasons(body)
            reason = f"{name} by the provider: {why}" if why else current.reason
            return self.store.update(current, state=state, reason=reason)

    # ----- helpers -----

    def _callback(self, caller: Caller, pid: str, body: dict[str, Any]) -> Transfer:
        current = self.get(caller, pid)
        if body.get("consumerPid") != current.consumer_pid or body.get("providerPid") != current.provider_pid:
            raise TransferError(400, "the message's consumerPid and providerPid are not this transfer's", "bad-message")
        return current

    def _own(self, pid: str) -> Transfer:
        found = self.store.by_pid(Role.CONSUMER, pid)
        if found is None:
            raise TransferFailed(f"there is no transfer process {pid} here")
        return found

    @staticmethod
    def _url(current: Transfer, name: str) -> str:
        return join(current.peer_url, f"transfers/{current.provider_pid}/{name}")
