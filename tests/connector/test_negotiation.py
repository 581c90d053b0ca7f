"""The contract negotiation scenarios of the DSP compatibility kit, provider side (CN:01, CN:02, CN:03).

The kit plays the consumer and scripts the provider's decisions with a mock; here the consumer is
beta's own connector, driven step by step, and the provider is alpha's connector either deciding
by itself (`deciding`: real reasons — terms, the chain, the auditor) or moved by its operator
(`manual`: the same calls the kit's mock makes). Both servers check every message against the
official schemas; illegal messages are sent raw, as the kit sends them.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from client.chain.enums import GrantStatus, Right
from client.connector.negotiation import Negotiation, Role, State
from client.connector.odrl import AgreementTerms, agreement_of_grant, agreement_policy, read_agreement
from client.grants import Grants
from client.terms import Opening
from tests.connector.conftest import TERMS, Pair
from tests.contracts.factories import CORE as CORE_ROOT
from tests.contracts.factories import GENERAL, IMPORTANT


def counter_offer(pair: Pair, root: bytes, purpose: str = "benchmarking") -> dict[str, Any]:
    """The catalog's offer with another purpose (same @id: the consumer's counter-offer to it)."""
    offer = pair.offer(root)
    rules = [
        {
            **rule,
            "constraint": [
                {**c, "rightOperand": purpose} if c["leftOperand"] == "odrl:purpose" else c for c in rule["constraint"]
            ],
        }
        for rule in offer["permission"]
    ]
    return {**offer, "permission": rules}


def assert_licence(pair: Pair, negotiation: Negotiation) -> None:
    """The consumer's agreement is the grant on chain: its fields and committed terms, and back."""
    agreement = negotiation.agreement
    assert agreement is not None and negotiation.grant is not None
    terms = read_agreement(agreement)
    grant = Grants(pair.scene.registry).show(terms.root, pair.beta.org_id)
    assert (grant.serial, int(grant.permissions == ["read"])) == (negotiation.grant["serial"], 1)
    assert (grant.valid_from, grant.valid_until) == (terms.valid_from, terms.valid_from + TERMS.duration)
    assert grant.grantor.org_id == pair.alpha.org_id.lower()
    opening = Opening.from_dict(negotiation.grant)
    rebuilt = agreement_of_grant(
        terms.root,
        pair.alpha.org_id,
        pair.beta.org_id,
        terms.permissions,
        grant.valid_from,
        grant.valid_until,
        opening.terms,
    )
    assert rebuilt == agreement
    assert opening.terms.fields["purpose"] == TERMS.purpose


# ----- CN_01: contract request provider scenarios -----


def test_cn_01_01_offer_received_consumer_terminated(deciding: Pair) -> None:
    """Request (a counter-offer) → the provider offers its catalog's terms → the consumer terminates."""
    started = deciding.request(GENERAL, counter_offer(deciding, GENERAL))
    offered = deciding.wait_consumer(started.consumer_pid, State.OFFERED)
    assert offered.offer == deciding.offer(GENERAL)
    deciding.wait_provider(started, State.OFFERED)
    deciding.beta.consumer.terminate(started.consumer_pid, "not interested")
    assert deciding.provider_state(started) == State.TERMINATED


def test_cn_01_02_counter_offer_provider_terminated(deciding: Pair) -> None:
    """Request → offer → the consumer counter-offers again → the provider terminates."""
    started = deciding.request(GENERAL, counter_offer(deciding, GENERAL))
    deciding.wait_consumer(started.consumer_pid, State.OFFERED)
    deciding.beta.consumer.counter(started.consumer_pid, counter_offer(deciding, GENERAL, "resale"))
    ended = deciding.wait_consumer(started.consumer_pid, State.TERMINATED)
    assert "only the terms of its catalog's offer" in ended.reason
    assert deciding.provider_state(started) == State.TERMINATED


def test_cn_01_03_offer_accepted_agreed_verified_finalized(deciding: Pair) -> None:
    """Request → offer → accepted → agreement (the grant on chain) → verified → finalized."""
    started = deciding.request(GENERAL, counter_offer(deciding, GENERAL))
    deciding.wait_consumer(started.consumer_pid, State.OFFERED)
    deciding.beta.consumer.accept(started.consumer_pid)
    agreed = deciding.wait_consumer(started.consumer_pid, State.AGREED)
    deciding.wait_provider(started, State.AGREED)
    assert_licence(deciding, agreed)
    deciding.beta.consumer.verify(started.consumer_pid)
    deciding.wait_consumer(started.consumer_pid, State.FINALIZED)
    deciding.wait_provider(started, State.FINALIZED)


def test_cn_01_04_agreed_verified_finalized(deciding: Pair) -> None:
    """Request for the catalog's own offer → agreement at once → verified → finalized."""
    started = deciding.request(GENERAL)
    agreed = deciding.wait_consumer(started.consumer_pid, State.AGREED)
    assert_licence(deciding, agreed)
    deciding.beta.consumer.verify(started.consumer_pid)
    deciding.wait_consumer(started.consumer_pid, State.FINALIZED)
    deciding.wait_provider(started, State.FINALIZED)


# ----- CN_02: terminations -----


def test_cn_02_01_provider_terminated(manual: Pair) -> None:
    started = manual.request(GENERAL)
    manual.alpha.provider.terminate(started.provider_pid, "no capacity")
    ended = manual.wait_consumer(started.consumer_pid, State.TERMINATED)
    assert ended.reason == "terminated by the provider: no capacity"


def test_cn_02_02_consumer_terminated(manual: Pair) -> None:
    started = manual.request(GENERAL)
    manual.beta.consumer.terminate(started.consumer_pid, "changed my mind")
    assert manual.provider_state(started) == State.TERMINATED


def test_cn_02_03_agreed_consumer_terminated(manual: Pair) -> None:
    """Terminated after the agreement: the licence it issued is revoked (it never came into force)."""
    started = manual.request(GENERAL)
    manual.alpha.provider.agree(started.provider_pid)
    manual.wait_consumer(started.consumer_pid, State.AGREED)
    grants = Grants(manual.scene.registry)
    assert grants.show(GENERAL, manual.beta.org_id).status == GrantStatus.ACTIVE
    manual.beta.consumer.terminate(started.consumer_pid, "changed my mind")
    assert manual.provider_state(started) == State.TERMINATED
    manual.alpha.provider.wait_idle()
    assert grants.show(GENERAL, manual.beta.org_id).status == GrantStatus.REVOKED


def test_cn_02_04_offered_consumer_terminated(manual: Pair) -> None:
    started = manual.request(GENERAL)
    manual.alpha.provider.offer(started.provider_pid)
    manual.wait_consumer(started.consumer_pid, State.OFFERED)
    manual.beta.consumer.terminate(started.consumer_pid, "too expensive")
    assert manual.provider_state(started) == State.TERMINATED


def test_provider_termination_after_agreement_revokes_the_licence(manual: Pair) -> None:
    started = manual.request(IMPORTANT)
    manual.alpha.provider.agree(started.provider_pid)
    manual.wait_consumer(started.consumer_pid, State.AGREED)
    manual.alpha.provider.terminate(started.provider_pid, "withdrawn")
    manual.wait_consumer(started.consumer_pid, State.TERMINATED)
    assert Grants(manual.scene.registry).show(IMPORTANT, manual.beta.org_id).status == GrantStatus.REVOKED


def test_cn_02_05_offered_provider_terminated(manual: Pair) -> None:
    started = manual.request(GENERAL)
    manual.alpha.provider.offer(started.provider_pid)
    manual.wait_consumer(started.consumer_pid, State.OFFERED)
    manual.alpha.provider.terminate(started.provider_pid, "offer withdrawn")
    manual.wait_consumer(started.consumer_pid, State.TERMINATED)


def test_cn_02_06_accepted_provider_terminated(deciding: Pair) -> None:
    """Accepted, but the provider gave the operation right away meanwhile: the grant is refused
    on chain and the provider terminates with the contract's reason."""
    started = deciding.request(GENERAL, counter_offer(deciding, GENERAL))
    deciding.wait_consumer(started.consumer_pid, State.OFFERED)
    deciding.scene.move_right(GENERAL, Right.OPERATION, deciding.scene.alpha, deciding.scene.gamma)
    deciding.beta.consumer.accept(started.consumer_pid)
    ended = deciding.wait_consumer(started.consumer_pid, State.TERMINATED)
    assert "the licence could not be issued" in ended.reason
    assert deciding.provider_state(started) == State.TERMINATED


def test_cn_02_07_verified_provider_terminated(deciding: Pair) -> None:
    """Important data: the agreement is a pending grant; verified, it waits for the auditor, who
    rejects it, and the provider terminates."""
    started = deciding.request(IMPORTANT)
    deciding.wait_consumer(started.consumer_pid, State.AGREED)
    deciding.beta.consumer.verify(started.consumer_pid)
    deciding.alpha.provider.wait_idle()
    assert deciding.alpha.provider.poll_pending() == []
    assert deciding.provider_state(started) == State.VERIFIED  # waiting for the auditor
    deciding.scene.reject(IMPORTANT, deciding.scene.beta)
    [moved] = deciding.alpha.provider.poll_pending()
    assert moved.state == State.TERMINATED
    ended = deciding.wait_consumer(started.consumer_pid, State.TERMINATED)
    assert "rejected" in ended.reason
    assert Grants(deciding.scene.registry).show(IMPORTANT, deciding.beta.org_id).status == GrantStatus.REJECTED


def test_important_data_finalized_after_the_auditor_approves(deciding: Pair) -> None:
    started = deciding.request(IMPORTANT)
    agreed = deciding.wait_consumer(started.consumer_pid, State.AGREED)
    assert agreed.grant is not None
    grant = Grants(deciding.scene.registry).show(IMPORTANT, deciding.beta.org_id)
    assert grant.status == GrantStatus.PENDING
    deciding.beta.consumer.verify(started.consumer_pid)
    deciding.alpha.provider.wait_idle()
    assert deciding.provider_state(started) == State.VERIFIED
    deciding.scene.approve(IMPORTANT, deciding.scene.beta)
    [moved] = deciding.alpha.provider.poll_pending()
    assert moved.state == State.FINALIZED
    deciding.wait_consumer(started.consumer_pid, State.FINALIZED)


# ----- CN_03: illegal messages -----


def raw(pair: Pair, negotiation: Negotiation, message: str) -> Any:
    """Send one consumer message as the kit does (raw, schema-checked): returns the response."""
    context = ["https://w3id.org/dspace/2025/1/context.jsonld"]
    pids = {"providerPid": negotiation.provider_pid, "consumerPid": negotiation.consumer_pid}
    bodies = {
        "counter": ("request", {"@type": "ContractRequestMessage", **pids, "offer": pair.offer(GENERAL)}),
        "accepted": ("events", {"@type": "ContractNegotiationEventMessage", **pids, "eventType": "ACCEPTED"}),
        "finalized": ("events", {"@type": "ContractNegotiationEventMessage", **pids, "eventType": "FINALIZED"}),
        "verification": ("agreement/verification", {"@type": "ContractAgreementVerificationMessage", **pids}),
        "termination": (
            "termination",
            {"@type": "ContractNegotiationTerminationMessage", **pids, "code": "1", "reason": ["why not"]},
        ),
    }
    path, body = bodies[message]
    url = f"{pair.alpha.url}/negotiations/{negotiation.provider_pid}/{path}"
    return pair.post_as(pair.beta, url, {"@context": context, **body})


def assert_invalid_transition(pair: Pair, response: Any, negotiation: Negotiation) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    pair.schemas.validate(body, "ContractNegotiationError")
    assert (body["providerPid"], body["consumerPid"]) == (negotiation.provider_pid, negotiation.consumer_pid)


def test_cn_03_01_terminate_after_finalized(deciding: Pair) -> None:
    started = deciding.request(GENERAL)
    deciding.wait_consumer(started.consumer_pid, State.AGREED)
    deciding.beta.consumer.verify(started.consumer_pid)
    deciding.wait_provider(started, State.FINALIZED)
    assert_invalid_transition(deciding, raw(deciding, started, "termination"), started)
    assert deciding.provider_state(started) == State.FINALIZED


def test_cn_03_02_verified_while_offered(manual: Pair) -> None:
    started = manual.request(GENERAL)
    manual.alpha.provider.offer(started.provider_pid)
    assert_invalid_transition(manual, raw(manual, started, "verification"), started)
    assert manual.provider_state(started) == State.OFFERED


def test_cn_03_03_verified_while_accepted(manual: Pair) -> None:
    started = manual.request(GENERAL)
    manual.alpha.provider.offer(started.provider_pid)
    manual.wait_consumer(started.consumer_pid, State.OFFERED)
    manual.beta.consumer.accept(started.consumer_pid)
    assert_invalid_transition(manual, raw(manual, started, "verification"), started)
    assert manual.provider_state(started) == State.ACCEPTED


def test_cn_03_04_second_counter_offer(manual: Pair) -> None:
    started = manual.request(GENERAL)
    manual.alpha.provider.offer(started.provider_pid)
    manual.wait_consumer(started.consumer_pid, State.OFFERED)
    manual.beta.consumer.counter(started.consumer_pid, counter_offer(manual, GENERAL))
    assert manual.provider_state(started) == State.REQUESTED
    assert_invalid_transition(manual, raw(manual, started, "counter"), started)
    assert manual.provider_state(started) == State.REQUESTED


#: Where each consumer message may arrive at the provider (the specification's state machine).
ALLOWED = {
    "counter": {State.OFFERED},
    "accepted": {State.OFFERED},
    "finalized": set(),  # the provider's event: never the consumer's to send
    "verification": {State.AGREED},
    "termination": set(State) - {State.FINALIZED, State.TERMINATED},
}


def reach(pair: Pair, state: State) -> Negotiation:
    """A negotiation between beta and alpha (both moved by hand) in `state` on both sides."""
    started = pair.request(GENERAL)
    provider, consumer = pair.alpha.provider, pair.beta.consumer
    if state == State.TERMINATED:
        consumer.terminate(started.consumer_pid, "to reach TERMINATED")
    if state in (State.OFFERED, State.ACCEPTED):
        provider.offer(started.provider_pid)
        pair.wait_consumer(started.consumer_pid, State.OFFERED)
    if state == State.ACCEPTED:
        consumer.accept(started.consumer_pid)
    if state in (State.AGREED, State.VERIFIED, State.FINALIZED):
        provider.agree(started.provider_pid)
        pair.wait_consumer(started.consumer_pid, State.AGREED)
    if state in (State.VERIFIED, State.FINALIZED):
        consumer.verify(started.consumer_pid)
    if state == State.FINALIZED:
        provider.finalize(started.provider_pid)
    pair.wait_consumer(started.consumer_pid, state)
    assert pair.provider_state(started) == state
    return started


@pytest.mark.parametrize("state", list(State))
def test_every_illegal_consumer_message_in_every_state(manual: Pair, state: State) -> None:
    """Each consumer message the state machine does not allow in `state` is a 400
    ContractNegotiationError and leaves the negotiation as it was."""
    negotiation = reach(manual, state)
    illegal = [m for m, states in ALLOWED.items() if state not in states]
    assert illegal
    for message in illegal:
        assert_invalid_transition(manual, raw(manual, negotiation, message), negotiation)
        assert manual.provider_state(negotiation) == state, message


#: Where each provider message may arrive at the consumer's callback address.
ALLOWED_AT_CONSUMER = {
    "offer": {State.REQUESTED},
    "agreement": {State.REQUESTED, State.ACCEPTED},
    "finalized": {State.VERIFIED},
    "accepted": set(),  # the consumer's event: never the provider's to send
    "termination": set(State) - {State.FINALIZED, State.TERMINATED},
}


def raw_callback(pair: Pair, negotiation: Negotiation, message: str) -> Any:
    """One provider message sent raw to beta's callback address, signed by alpha's connector key."""
    context = ["https://w3id.org/dspace/2025/1/context.jsonld"]
    pids = {"providerPid": negotiation.provider_pid, "consumerPid": negotiation.consumer_pid}
    agreement = agreement_policy(
        AgreementTerms("urn:uuid:1", GENERAL, pair.alpha.org_id, pair.beta.org_id, TERMS.permissions, "x", 1, 2)
    )
    bodies = {
        "offer": ("offers", {"@type": "ContractOfferMessage", **pids, "offer": pair.offer(GENERAL)}),
        "agreement": ("agreement", {"@type": "ContractAgreementMessage", **pids, "agreement": agreement}),
        "finalized": ("events", {"@type": "ContractNegotiationEventMessage", **pids, "eventType": "FINALIZED"}),
        "accepted": ("events", {"@type": "ContractNegotiationEventMessage", **pids, "eventType": "ACCEPTED"}),
        "termination": ("termination", {"@type": "ContractNegotiationTerminationMessage", **pids, "code": "1"}),
    }
    path, body = bodies[message]
    callback = f"{pair.beta.url}/callback"
    url = f"{callback}/negotiations/{negotiation.consumer_pid}/{path}"
    return pair.post_as(pair.alpha, url, {"@context": context, **body}, token=pair.alpha.token(callback))


@pytest.mark.parametrize("state", list(State))
def test_every_illegal_provider_message_in_every_state(manual: Pair, state: State) -> None:
    """The consumer's callbacks refuse, with a 400 ContractNegotiationError, every provider message
    the state machine does not allow in `state`, and the negotiation stays as it was."""
    negotiation = reach(manual, state)
    for message in [m for m, states in ALLOWED_AT_CONSUMER.items() if state not in states]:
        assert_invalid_transition(manual, raw_callback(manual, negotiation, message), negotiation)
        assert manual.wait_consumer(negotiation.consumer_pid, state).state == state, message


def test_an_agreement_that_is_not_on_chain_is_refused(manual: Pair) -> None:
    """The consumer verifies only a licence that exists: an agreement message whose terms no grant
    commits to is a 400, and the negotiation stays REQUESTED."""
    negotiation = reach(manual, State.REQUESTED)
    response = raw_callback(manual, negotiation, "agreement")
    assert_invalid_transition(manual, response, negotiation)
    assert "terms salt" in response.json()["reason"][0]
    assert manual.wait_consumer(negotiation.consumer_pid, State.REQUESTED)


def test_malformed_messages_are_400_with_the_reason(manual: Pair) -> None:
    """Not JSON, another @type, a message the schema refuses, an unknown offer: 400 naming why,
    and no negotiation is opened."""
    url = f"{manual.alpha.url}/negotiations/request"
    context = ["https://w3id.org/dspace/2025/1/context.jsonld"]
    base = {
        "@context": context,
        "@type": "ContractRequestMessage",
        "consumerPid": "urn:uuid:c1",
        "callbackAddress": f"{manual.beta.url}/callback",
    }
    cases: list[tuple[Any, str]] = [
        (b"{not json", "not JSON"),
        ({**base, "@type": "CatalogRequestMessage", "offer": manual.offer(GENERAL)}, "not ContractRequestMessage"),
        (base, "does not follow the DSP 2025-1 schema"),
        ({**base, "offer": {**manual.offer(GENERAL), "@id": "urn:uuid:not-ours"}}, "is not an offer of this"),
        ({**base, "offer": manual.offer(CORE_ROOT)}, "not in this connector's catalog"),
        ({**base, "offer": manual.offer(GENERAL), "callbackAddress": "ftp://x"}, "not an http(s) URL"),
    ]
    with manual.http() as client:
        for body, words in cases:
            token = manual.beta.token(manual.alpha.url)
            content = body if isinstance(body, bytes) else json.dumps(body).encode()
            response = client.post(
                url, content=content, headers={"Authorization": token, "Content-Type": "application/json"}
            )
            assert response.status_code == 400, (words, response.text)
            reply = response.json()
            manual.schemas.validate(reply, "ContractNegotiationError")
            assert words in reply["reason"][0], (words, reply["reason"])
    assert manual.alpha.provider.store.in_state(Role.PROVIDER, State.REQUESTED) == []


def test_both_sides_deciding_reach_finalized(pair: Pair) -> None:
    """The whole path with no hand on either side: from the catalog to FINALIZED, and a counter-offer
    that the provider answers with its offer, which the consumer accepts."""
    done = pair.beta.consumer.negotiate(pair.alpha.url, GENERAL, timeout=180)
    assert done.state == State.FINALIZED
    assert_licence(pair, pair.beta.consumer.wait(done.consumer_pid, {State.FINALIZED}, timeout=180))
    countered = pair.request(IMPORTANT, counter_offer(pair, IMPORTANT))
    agreed = pair.beta.consumer.wait(countered.consumer_pid, {State.VERIFIED}, timeout=180)
    assert agreed.offer == pair.offer(IMPORTANT) and agreed.agreement is not None
    pair.wait_provider(countered, State.VERIFIED)  # important data: waiting for the auditor
    pair.scene.approve(IMPORTANT, pair.scene.beta)
    pair.alpha.provider.poll_pending()
    pair.beta.consumer.wait(countered.consumer_pid, {State.FINALIZED}, timeout=180)
