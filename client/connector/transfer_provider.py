"""The provider side of the transfer process: take the consumer's messages, start, call back.

A TransferRequestMessage must name the agreement of a FINALIZED negotiation of the same
consumer organisation, in the format `HttpData-PULL`, for a dataset whose bytes this connector
holds (client/connector/sources.py). With `auto` (the default) the provider starts the transfer
at once; starting (and a consumer's resume) first checks on chain that the consumer is
authorised *now* (`AccessRegistry.isAuthorized`, read permission, at the chain's time): if it
is not, the transfer is terminated with the contract's reason. The start message hands the
consumer a data address (client/connector/dataplane.py) whose token names the connector key that
asked for the transfer.

The provider's own moves (start, suspend, complete, terminate) change its row first, so the
data plane follows at once, then tell the consumer at its `callbackAddress`; a move the
consumer refuses is undone, except a termination, which holds whatever the consumer answers.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from ..chain.enums import Permission
from ..chain.registry import Registry
from ..errors import IdsRegistryError
from ..grants import Grants
from .identity import Caller, normalise_url
from .negotiation import NegotiationStore, Role, State
from .odrl import parse_dataset
from .peer import Peer, PeerError, join, message
from .sources import DataSources
from .tokens import TransferTokens
from .transfer import (
    FORMAT,
    DataAddress,
    Transfer,
    TransferError,
    TransferState,
    TransferStore,
    next_transfer_state,
)
from .work import Background

log = logging.getLogger(__name__)


def new_pid() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def reasons(body: dict[str, Any]) -> str:
    """A message's `reason` list as one sentence ("" if none)."""
    found = body.get("reason") or []
    return "; ".join(str(r) for r in found) if isinstance(found, list) else str(found)


class TransferProvider:
    """Transfer processes this organisation's connector answers as provider."""

    def __init__(
        self,
        registry: Registry,
        org_id: str,
        base_url: str,
        store: TransferStore,
        negotiations: NegotiationStore,
        peer: Peer,
        sources: DataSources,
        tokens: TransferTokens,
        *,
        auto: bool = True,
    ) -> None:
        self.registry = registry
        self.org_id = org_id.lower()
        self.base_url = normalise_url(base_url)
        self.store = store
        self.negotiations = negotiations
        self.peer = peer
        self.sources = sources
        self.tokens = tokens
        self.auto = auto
        self.grants = Grants(registry)
        self._background = Background("dsp-transfer")

    def close(self) -> None:
        self._background.close()

    def endpoint(self, pid: str) -> str:
        """The data plane address of transfer `pid` (the data address's `endpoint`)."""
        return f"{self.base_url}/data/{quote(pid, safe=':')}"

    # ----- messages from consumers -----

    def get(self, caller: Caller, pid: str) -> Transfer:
        """The transfer `pid` if `caller` is its consumer; 404 otherwise (unknown and not yours look alike)."""
        found = self.store.by_pid(Role.PROVIDER, pid)
        if found is None or found.counterparty != caller.org_id:
            raise TransferError(404, f"there is no transfer process {pid} of yours here", "not-found")
        return found

    def request(self, caller: Caller, body: dict[str, Any]) -> Transfer:
        """A TransferRequestMessage: 201 with the transfer (REQUESTED), started afterwards."""
        next_transfer_state("request", Role.CONSUMER, None)
        if "providerPid" in body:
            raise TransferError(400, "a transfer request has no providerPid (it is the provider's to choose)")
        if body.get("format") != FORMAT:
            raise TransferError(400, f"format {body.get('format')!r} is not offered (only {FORMAT})", "bad-format")
        callback = body.get("callbackAddress")
        if not isinstance(callback, str) or not callback.startswith(("http://", "https://")):
            raise TransferError(400, f"the callbackAddress {callback!r} is not an http(s) URL", "bad-callback")
        agreement_id = str(body.get("agreementId"))
        negotiation = next(
            (
                n
                for n in self.negotiations.in_state(Role.PROVIDER, State.FINALIZED)
                if n.counterparty == caller.org_id and (n.agreement or {}).get("@id") == agreement_id
            ),
            None,
        )
        if negotiation is None:
            raise TransferError(
                400,
                f"agreement {agreement_id!r} is not a finalized agreement of yours with this connector",
                "no-agreement",
            )
        root = parse_dataset(str((negotiation.agreement or {}).get("target", "")))
        if self.sources.get(root) is None:
            raise TransferError(400, f"this connector holds no bytes of dataset 0x{root.hex()}", "no-data")
        pid = new_pid()
        with self.store.locked(pid):
            created = self.store.insert(
                Transfer(
                    role=Role.PROVIDER,
                    provider_pid=pid,
                    consumer_pid=str(body["consumerPid"]),
                    state=TransferState.REQUESTED,
                    counterparty=caller.org_id,
                    peer_url=callback,
                    agreement_id=agreement_id,
                    dataset="0x" + root.hex(),
                    negotiation=negotiation.provider_pid,
                    consumer_key=caller.key,
                )
            )
        if self.auto:
            self._submit(self.start, pid)
        return created

    def on_start(self, caller: Caller, pid: str, body: dict[str, Any]) -> Transfer:
        """The consumer resumes a suspended transfer (SUSPENDED → STARTED), if it is authorised now."""
        with self.store.locked(pid):
            current = self._message(caller, pid, body)
            state = next_transfer_state("start", Role.CONSUMER, current.state)
            refusal = self.refusal(current)
            if refusal is not None:
                self._submit(lambda p: self.terminate(p, refusal), pid)
                raise TransferError(403, refusal, "not-authorized")
            return self.store.update(current, state=state)

    def on_suspension(self, caller: Caller, pid: str, body: dict[str, Any]) -> Transfer:
        return self._consumer_move(caller, pid, body, "suspension")

    def on_completion(self, caller: Caller, pid: str, body: dict[str, Any]) -> Transfer:
        return self._consumer_move(caller, pid, body, "completion")

    def on_termination(self, caller: Caller, pid: str, body: dict[str, Any]) -> Transfer:
        return self._consumer_move(caller, pid, body, "termination")

    def _consumer_move(self, caller: Caller, pid: str, body: dict[str, Any], name: str) -> Transfer:
        with self.store.locked(pid):
            current = self._message(caller, pid, body)
            state = next_transfer_state(name, Role.CONSUMER, current.state)
            why = reasons(body)
            reason = f"{name} by the consumer: {why}" if why else current.reason
            return self.store.update(current, state=state, reason=reason)

    # ----- the provider's own moves -----

    def start(self, pid: str) -> Transfer:
        """Start (REQUESTED or SUSPENDED → STARTED) with a fresh data address, if the consumer is
        authorised on chain now; terminate the transfer, saying why, if it is not."""
        with self.store.locked(pid):
            current = self._own(pid)
            state = next_transfer_state("start", Role.PROVIDER, current.state)
            refusal = self.refusal(current)
            if refusal is not None:
                return self._terminate(current, refusal)
            token_id = uuid.uuid4().hex
            token = self.tokens.issue(pid, current.consumer_key, current.counterparty, token_id)
            address = DataAddress(self.endpoint(pid), token)
            body = message(
                "TransferStartMessage",
                providerPid=current.provider_pid,
                consumerPid=current.consumer_pid,
                dataAddress=address.to_message(),
            )
            return self._tell(current, "start", body, state=state, token_id=token_id)

    def suspend(self, pid: str, reason: str) -> Transfer:
        """Suspend a started transfer (STARTED → SUSPENDED): the data plane stops serving it."""
        with self.store.locked(pid):
            current = self._own(pid)
            state = next_transfer_state("suspension", Role.PROVIDER, current.state)
            body = message(
                "TransferSuspensionMessage",
                providerPid=current.provider_pid,
                consumerPid=current.consumer_pid,
                code="suspended",
                reason=[reason],
            )
            return self._tell(current, "suspension", body, state=state, reason=reason)

    def complete(self, pid: str) -> Transfer:
        """Complete a started transfer (STARTED → COMPLETED)."""
        with self.store.locked(pid):
            current = self._own(pid)
            state = next_transfer_state("completion", Role.PROVIDER, current.state)
            body = message(
                "TransferCompletionMessage", providerPid=current.provider_pid, consumerPid=current.consumer_pid
            )
            return self._tell(current, "completion", body, state=state)

    def terminate(self, pid: str, reason: str) -> Transfer:
        """Terminate the transfer and tell the consumer (→ TERMINATED, even if it does not answer)."""
        with self.store.locked(pid):
            return self._terminate(self._own(pid), reason)

    def _terminate(self, current: Transfer, reason: str) -> Transfer:
        state = next_transfer_state("termination", Role.PROVIDER, current.state)
        ended = self.store.update(current, state=state, reason=reason)
        body = message(
            "TransferTerminationMessage",
            providerPid=current.provider_pid,
            consumerPid=current.consumer_pid,
            code="terminated",
            reason=[reason],
        )
        try:
            self.peer.post(current.peer_url, self._callback(current, "termination"), body)
        except PeerError as exc:  # termination is one-sided: the consumer's answer does not matter
            log.warning("transfer %s: termination not acknowledged: %s", current.provider_pid, exc)
        return ended

    def _tell(self, current: Transfer, path: str, body: dict[str, Any], **changes: Any) -> Transfer:
        """Record the move, then send it; undo the record if the consumer refuses it."""
        moved = self.store.update(current, **changes)
        try:
            self.peer.post(current.peer_url, self._callback(current, path), body)
        except PeerError:
            self.store.update(moved, state=current.state, token_id=current.token_id, reason=current.reason)
            raise
        return moved

    # ----- the chain -----

    def refusal(self, transfer: Transfer) -> str | None:
        """Why the consumer may not have the dataset's bytes now (None: it may), from the chain."""
        root = bytes.fromhex(transfer.dataset[2:])
        now = int(self.registry.w3.eth.get_block("latest")["timestamp"])
        if self.grants.is_authorized(root, transfer.counterparty, Permission.READ, now):
            return None  # the common case: one call; the reason is read only for a refusal
        verdict = self.grants.check(root, transfer.counterparty, Permission.READ, now)
        if verdict.authorized:  # authorised by the time the reason was read
            return None
        return (
            f"the consumer {transfer.counterparty} is not authorised to read dataset {transfer.dataset} "
            f"now ({verdict.reason})"
        )

    # ----- helpers -----

    def wait_idle(self, timeout: float = 30.0) -> None:
        """Wait until the moves scheduled so far are done (tests, shutdown)."""
        self._background.wait_idle(timeout)

    def _submit(self, job: Callable[[str], Transfer], pid: str) -> None:
        def run() -> None:
            try:
                job(pid)
            except (IdsRegistryError, TransferError) as exc:
                log.warning("transfer %s: %s", pid, exc)
                try:
                    current = self._own(pid)
                    if current.state not in (TransferState.COMPLETED, TransferState.TERMINATED):
                        self.terminate(pid, f"the provider could not continue: {exc}")
                except (IdsRegistryError, TransferError) as again:
                    log.warning("transfer %s: %s", pid, again)

        self._background.submit(run)

    def _own(self, pid: str) -> Transfer:
        found = self.store.by_pid(Role.PROVIDER, pid)
        if found is None:
            raise TransferError(404, f"there is no transfer process {pid} here", "not-found")
        return found

    def _message(self, caller: Caller, pid: str, body: dict[str, Any]) -> Transfer:
        current = self.get(caller, pid)
        if body.get("consumerPid") != current.consumer_pid or body.get("providerPid") != current.provider_pid:
            raise TransferError(
                400,
                f"the message names consumerPid {body.get('consumerPid')!r} and providerPid "
                f"{body.get('providerPid')!r}, not this transfer's",
                "bad-message",
            )
        return current

    @staticmethod
    def _callback(current: Transfer, path: str) -> str:
        return join(current.peer_url, f"transfers/{current.consumer_pid}/{path}")
