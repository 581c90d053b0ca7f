"""The transfer process scenarios of the DSP compatibility kit, provider side (TP:01, TP:02, TP:03),
and every illegal message in every state on both sides.

As for negotiations, the kit's consumer is beta's own connector driven step by step, and the
provider is alpha's connector either starting by itself (`deciding`) or moved by its operator
(`manual`: the calls the kit's mock makes). Illegal messages are sent raw, as the kit sends them;
both servers check every message against the official schemas.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from client.connector.identity import issue_token
from client.connector.negotiation import Role
from client.connector.transfer import MESSAGE_TYPES, TRANSITIONS, Transfer, TransferState
from client.connector.transfer_consumer import TransferFailed
from tests.connector.conftest import Pair
from tests.connector.transfers import a_file, consumer, finalized, provider, provider_state, refused, wait_consumer
from tests.contracts.factories import key

CONTEXT = ["https://w3id.org/dspace/2025/1/context.jsonld"]
S = TransferState


def requested(pair: Pair, tmp_path: Path) -> Transfer:
    """A FINALIZED agreement on a real file, then beta's TransferRequestMessage for it."""
    dataset = a_file(pair, tmp_path)
    negotiation = finalized(pair, dataset.root)
    transfer = consumer(pair).request(negotiation.consumer_pid)
    assert transfer.provider_pid and transfer.state == S.REQUESTED
    return transfer


def both(pair: Pair, transfer: Transfer, state: TransferState) -> None:
    """Both sides agree the transfer is in `state`."""
    wait_consumer(pair, transfer, state)
    assert provider_state(pair, transfer) == state


def raw(pair: Pair, transfer: Transfer, move: str, *, to_consumer: bool = False, **fields: Any) -> httpx.Response:
    """A raw message `move` to the provider (as beta) or to beta's callback (as alpha)."""
    body = {
        "@context": CONTEXT,
        "@type": MESSAGE_TYPES[move],
        "providerPid": transfer.provider_pid,
        "consumerPid": transfer.consumer_pid,
        **fields,
    }
    if to_consumer:
        url = f"{pair.beta.url}/callback/transfers/{transfer.consumer_pid}/{move}"
        return pair.post_as(pair.alpha, url, body, pair.alpha.token(pair.beta.url + "/callback"))
    return pair.post_as(pair.beta, f"{pair.alpha.url}/transfers/{transfer.provider_pid}/{move}", body)


# ----- TP_01: the provider's moves -----


def test_tp_01_01_provider_started_provider_terminated(manual: Pair, tmp_path: Path) -> None:
    transfer = requested(manual, tmp_path)
    provider(manual).start(transfer.provider_pid)
    started = wait_consumer(manual, transfer, S.STARTED)
    assert started.address() is not None
    provider(manual).terminate(transfer.provider_pid, "maintenance window")
    ended = wait_consumer(manual, transfer, S.TERMINATED)
    assert ended.reason == "termination by the provider: maintenance window"
    assert provider_state(manual, transfer) == S.TERMINATED


def test_tp_01_02_provider_started_provider_completed(manual: Pair, tmp_path: Path) -> None:
    transfer = requested(manual, tmp_path)
    provider(manual).start(transfer.provider_pid)
    both(manual, transfer, S.STARTED)
    provider(manual).complete(transfer.provider_pid)
    both(manual, transfer, S.COMPLETED)


def test_tp_01_03_provider_started_suspended_terminated(manual: Pair, tmp_path: Path) -> None:
    transfer = requested(manual, tmp_path)
    provider(manual).start(transfer.provider_pid)
    both(manual, transfer, S.STARTED)
    provider(manual).suspend(transfer.provider_pid, "load shedding")
    both(manual, transfer, S.SUSPENDED)
    provider(manual).terminate(transfer.provider_pid, "gave up")
    both(manual, transfer, S.TERMINATED)


def test_tp_01_04_provider_started_suspended_started_completed(manual: Pair, tmp_path: Path) -> None:
    transfer = requested(manual, tmp_path)
    provider(manual).start(transfer.provider_pid)
    first = wait_consumer(manual, transfer, S.STARTED).address()
    provider(manual).suspend(transfer.provider_pid, "load shedding")
    both(manual, transfer, S.SUSPENDED)
    provider(manual).start(transfer.provider_pid)
    second = wait_consumer(manual, transfer, S.STARTED).address()
    assert first is not None and second is not None and first.token != second.token  # a fresh token each start
    assert first.endpoint == second.endpoint
    provider(manual).complete(transfer.provider_pid)
    both(manual, transfer, S.COMPLETED)
    row = provider(manual).store.by_pid(Role.PROVIDER, transfer.provider_pid)
    assert row is not None and row.history == ["REQUESTED", "STARTED", "SUSPENDED", "STARTED", "COMPLETED"]


def test_tp_01_05_provider_terminated(manual: Pair, tmp_path: Path) -> None:
    transfer = requested(manual, tmp_path)
    provider(manual).terminate(transfer.provider_pid, "no capacity")
    both(manual, transfer, S.TERMINATED)


# ----- TP_02: the consumer's moves, the provider starting by itself -----


def started(pair: Pair, tmp_path: Path) -> Transfer:
    transfer = requested(pair, tmp_path)
    both(pair, transfer, S.STARTED)
    return transfer


def test_tp_02_01_provider_started_consumer_terminated(deciding: Pair, tmp_path: Path) -> None:
    transfer = started(deciding, tmp_path)
    consumer(deciding).terminate(transfer.consumer_pid, "not needed")
    both(deciding, transfer, S.TERMINATED)


def test_tp_02_02_provider_started_consumer_completed(deciding: Pair, tmp_path: Path) -> None:
    transfer = started(deciding, tmp_path)
    consumer(deciding).complete(transfer.consumer_pid)
    both(deciding, transfer, S.COMPLETED)


def test_tp_02_03_consumer_suspended_consumer_terminated(deciding: Pair, tmp_path: Path) -> None:
    transfer = started(deciding, tmp_path)
    consumer(deciding).suspend(transfer.consumer_pid, "disk full")
    both(deciding, transfer, S.SUSPENDED)
    consumer(deciding).terminate(transfer.consumer_pid, "gave up")
    both(deciding, transfer, S.TERMINATED)


def test_tp_02_04_consumer_suspended_started_completed(deciding: Pair, tmp_path: Path) -> None:
    transfer = started(deciding, tmp_path)
    consumer(deciding).suspend(transfer.consumer_pid, "disk full")
    both(deciding, transfer, S.SUSPENDED)
    consumer(deciding).resume(transfer.consumer_pid)
    both(deciding, transfer, S.STARTED)
    consumer(deciding).complete(transfer.consumer_pid)
    both(deciding, transfer, S.COMPLETED)


def test_tp_02_05_consumer_terminated_while_requested(manual: Pair, tmp_path: Path) -> None:
    transfer = requested(manual, tmp_path)
    consumer(manual).terminate(transfer.consumer_pid, "changed my mind")
    both(manual, transfer, S.TERMINATED)


def test_the_sdk_returns_the_data_address_of_the_start(deciding: Pair, tmp_path: Path) -> None:
    dataset = a_file(deciding, tmp_path)
    negotiation = finalized(deciding, dataset.root)
    transfer, address = consumer(deciding).start(negotiation.consumer_pid)
    assert transfer.state == S.STARTED
    assert address.endpoint == f"{deciding.alpha.url}/data/{transfer.provider_pid}"
    deciding.schemas.validate({"@context": CONTEXT, **transfer.ack()}, "TransferProcess")


# ----- TP_03: illegal consumer messages -----


def test_tp_03_01_completion_while_requested(manual: Pair, tmp_path: Path) -> None:
    transfer = requested(manual, tmp_path)
    refused(manual, raw(manual, transfer, "completion"), 400, "cannot arrive in state REQUESTED")
    assert provider_state(manual, transfer) == S.REQUESTED


def test_tp_03_02_suspension_while_requested(manual: Pair, tmp_path: Path) -> None:
    transfer = requested(manual, tmp_path)
    refused(manual, raw(manual, transfer, "suspension", code="1"), 400, "cannot arrive in state REQUESTED")
    assert provider_state(manual, transfer) == S.REQUESTED


def test_tp_03_03_completion_while_suspended(deciding: Pair, tmp_path: Path) -> None:
    transfer = started(deciding, tmp_path)
    consumer(deciding).suspend(transfer.consumer_pid, "pause")
    both(deciding, transfer, S.SUSPENDED)
    refused(deciding, raw(deciding, transfer, "completion"), 400, "cannot arrive in state SUSPENDED")
    assert provider_state(deciding, transfer) == S.SUSPENDED


@pytest.mark.parametrize(("tp", "move"), [("03-04", "start"), ("03-05", "suspension"), ("03-06", "completion")])
def test_tp_03_04_to_06_after_consumer_terminated(deciding: Pair, tmp_path: Path, tp: str, move: str) -> None:
    transfer = started(deciding, tmp_path)
    consumer(deciding).terminate(transfer.consumer_pid, "done")
    both(deciding, transfer, S.TERMINATED)
    refused(deciding, raw(deciding, transfer, move), 400, "cannot arrive in state TERMINATED")
    assert provider_state(deciding, transfer) == S.TERMINATED


# ----- every illegal message in every state, both sides -----


def reach(pair: Pair, tmp_path: Path, state: TransferState) -> Transfer:
    """A transfer in `state`, moved there by alpha's operator (the `manual` pair)."""
    transfer = requested(pair, tmp_path)
    pid = transfer.provider_pid
    if state == S.TERMINATED:
        provider(pair).terminate(pid, "ended")
    elif state != S.REQUESTED:
        provider(pair).start(pid)
        if state == S.SUSPENDED:
            provider(pair).suspend(pid, "paused")
        elif state == S.COMPLETED:
            provider(pair).complete(pid)
    both(pair, transfer, state)
    return wait_consumer(pair, transfer, state)


def illegal(sender: Role, state: TransferState) -> list[str]:
    return [m for m, (senders, _) in TRANSITIONS.items() if m != "request" and state not in senders.get(sender, ())]


@pytest.mark.parametrize("state", list(S))
def test_every_illegal_consumer_message_in_every_state(manual: Pair, tmp_path: Path, state: TransferState) -> None:
    transfer = reach(manual, tmp_path, state)
    moves = illegal(Role.CONSUMER, state)
    assert moves  # every state refuses something
    for move in moves:
        extra: dict[str, Any] = {"code": "1", "reason": ["test"]} if move in ("suspension", "termination") else {}
        refused(manual, raw(manual, transfer, move, **extra), 400, "cannot arrive in state")
        assert provider_state(manual, transfer) == state


@pytest.mark.parametrize("state", list(S))
def test_every_illegal_provider_message_in_every_state(manual: Pair, tmp_path: Path, state: TransferState) -> None:
    transfer = reach(manual, tmp_path, state)
    address = {
        "@type": "DataAddress",
        "endpointType": "https://w3id.org/idsa/v4.1/HTTP",
        "endpoint": f"{manual.alpha.url}/data/{transfer.provider_pid}",
        "endpointProperties": [{"@type": "EndpointProperty", "name": "authorization", "value": "x.y"}],
    }
    for move in illegal(Role.PROVIDER, state):
        extra: dict[str, Any] = {"dataAddress": address} if move == "start" else {}
        response = raw(manual, transfer, move, to_consumer=True, **extra)
        refused(manual, response, 400, "cannot arrive in state")
        assert wait_consumer(manual, transfer, state).state == state


# ----- requests that cannot open a transfer -----


def test_transfer_requests_refused(manual: Pair, tmp_path: Path) -> None:
    dataset = a_file(manual, tmp_path)
    negotiation = finalized(manual, dataset.root)
    assert negotiation.agreement is not None
    url = f"{manual.alpha.url}/transfers/request"

    def request(token: str | None = None, **changes: Any) -> httpx.Response:
        body = {
            "@context": CONTEXT,
            "@type": "TransferRequestMessage",
            "consumerPid": "urn:uuid:0e0e0e0e-0000-4000-8000-000000000009",
            "agreementId": negotiation.agreement["@id"],  # type: ignore[index]
            "format": "HttpData-PULL",
            "callbackAddress": f"{manual.beta.url}/callback",
            **changes,
        }
        return manual.post_as(manual.beta, url, body, token)

    refused(manual, request(format="HttpData-PUSH"), 400, "not offered (only HttpData-PULL)")
    refused(manual, request(agreementId="urn:uuid:nope"), 400, "not a finalized agreement of yours")
    refused(manual, request(callbackAddress="ftp://x"), 400, "not an http(s) URL")
    gamma = issue_token(key(manual.scene.gamma), manual.scene.gamma.org_id, manual.alpha.url)
    refused(manual, request(token=gamma), 400, "not a finalized agreement of yours")  # another org's
    refused(manual, request(token="IDSREG-DSP1 x.y"), 401, "not <base64url claims>")
    ok = request()
    assert ok.status_code == 201, ok.text
    assert ok.headers["location"].endswith(ok.json()["providerPid"])
    manual.schemas.validate(ok.json(), "TransferProcess")


def test_another_organisations_transfer_is_404(manual: Pair, tmp_path: Path) -> None:
    transfer = requested(manual, tmp_path)
    gamma = issue_token(key(manual.scene.gamma), manual.scene.gamma.org_id, manual.alpha.url)
    response = httpx.get(f"{manual.alpha.url}/transfers/{transfer.provider_pid}", headers={"Authorization": gamma})
    refused(manual, response, 404, "no transfer process")
    gamma = issue_token(key(manual.scene.gamma), manual.scene.gamma.org_id, manual.alpha.url)
    body = {
        "@context": CONTEXT,
        "@type": "TransferTerminationMessage",
        "providerPid": transfer.provider_pid,
        "consumerPid": transfer.consumer_pid,
        "code": "1",
    }
    response = manual.post_as(
        manual.beta, f"{manual.alpha.url}/transfers/{transfer.provider_pid}/termination", body, gamma
    )
    refused(manual, response, 404, "no transfer process")
    assert provider_state(manual, transfer) == S.REQUESTED
    unknown = httpx.get(
        f"{manual.alpha.url}/transfers/urn:uuid:00000000-0000-4000-8000-000000000000",
        headers={"Authorization": manual.beta.token(manual.alpha.url)},
    )
    assert unknown.status_code == 404


def test_a_transfer_needs_a_finalized_negotiation(manual: Pair, tmp_path: Path) -> None:
    dataset = a_file(manual, tmp_path)
    started = manual.request(dataset.root)
    with pytest.raises(TransferFailed, match="only a FINALIZED agreement is transferred"):
        consumer(manual).request(started.consumer_pid)


def test_transfers_survive_a_restart(manual: Pair, tmp_path: Path) -> None:
    """The rows are in SQLite: a new store on the same file sees the same transfer and token secret."""
    transfer = requested(manual, tmp_path)
    provider(manual).start(transfer.provider_pid)
    wait_consumer(manual, transfer, S.STARTED)
    from client.connector.transfer import TransferStore

    again = TransferStore(provider(manual).store.path)
    row = again.by_pid(Role.PROVIDER, transfer.provider_pid)
    assert row is not None and row.state == S.STARTED and row.token_id
    assert again.secret("transfer-token", b"\0" * 32) == provider(manual).store.secret("transfer-token", b"\1" * 32)
    again.close()
