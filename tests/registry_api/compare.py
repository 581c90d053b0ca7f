"""Comparing an index database with another one and with the contracts' state on the chain."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Engine, select
from sqlmodel import Session
from web3 import Web3

from client.chain.enums import Action, DisputeStatus, GrantStatus, MemberStatus, Right, Role
from client.chain.registry import Registry
from registry_api.changes import tables
from registry_api.models import RawEvent


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every domain row and every raw event (without surrogate ids), sorted: what two indexes of
    the same chain must agree on."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    with Session(engine) as session:
        connection = session.connection()
        for name, info in tables().items():
            columns = sorted(info.columns)
            rows = connection.execute(select(*(info.table.c[c] for c in columns))).all()
            found[name] = sorted((tuple(r) for r in rows), key=repr)
        raw = RawEvent.__table__  # type: ignore[attr-defined]
        columns = sorted(c.name for c in raw.columns if c.name != "id")
        found["rawevent"] = sorted(
            (tuple(r) for r in connection.execute(select(*(raw.c[c] for c in columns)))), key=repr
        )
    return found


def rows(engine: Engine, name: str) -> list[dict[str, Any]]:
    info = tables()[name]
    with Session(engine) as session:
        return [dict(r._mapping) for r in session.connection().execute(select(info.table))]


def _hex(value: bytes) -> str:
    return "0x" + bytes(value).hex()


def assert_matches_chain(engine: Engine, registry: Registry) -> None:
    """Every domain row says what the contracts say now, and nothing the contracts hold is missing."""
    call = registry.call
    # Organisations and their keys.
    orgs = {r["org_no"]: r for r in rows(engine, "org")}
    assert sorted(orgs) == list(range(1, int(call("Consortium", "memberCount")) + 1))
    for org_no, org in orgs.items():
        org_id, _no, admin, expires_at, level, status = call("Consortium", "memberByNo", org_no)
        assert (org["org_id"], org["admin"], org["expires_at"], org["level"], org["status"]) == (
            _hex(org_id),
            admin,
            expires_at,
            level,
            MemberStatus(status).name.lower(),
        ), org
    for key in rows(engine, "orgkey"):
        org_id, role = call("Consortium", "keyInfo", key["address"])
        assert (_hex(org_id), role) == (
            orgs[key["org_no"]]["org_id"],
            {"none": 0, "admin": 1, "connector": 2}[key["role"]],
        )
    for org in orgs.values():
        assert any(k["address"] == org["admin"] and k["role"] == "admin" for k in rows(engine, "orgkey"))
    # Roles, thresholds, proposals.
    holders = {(r["role"], r["account"]) for r in rows(engine, "roleholder")}
    on_chain = {(role.name.lower(), a) for role in Role for a in call("Consortium", "roleHolders", int(role))}
    assert holders == on_chain
    thresholds = {r["role"]: r["value"] for r in rows(engine, "threshold")}
    assert thresholds == {
        role.name.lower(): int(call("Consortium", "threshold", int(role))) for role in (Role.GOVERNOR, Role.ARBITER)
    }
    proposals = {r["proposal_id"]: r for r in rows(engine, "proposal")}
    assert sorted(proposals) == list(range(1, int(call("Consortium", "proposalCount")) + 1))
    for number, proposal in proposals.items():
        (action, status, proposer, created_at, args), approvals = call("Consortium", "proposal", number)
        assert (
            proposal["action"],
            proposal["status"],
            proposal["proposer"],
            proposal["created_at"],
            proposal["args"],
            proposal["approvals"],
        ) == (
            Action(action).name.lower(),
            ["none", "open", "executed", "cancelled"][status],
            proposer,
            created_at,
            _hex(args),
            approvals,
        ), proposal
    # Datasets, lineage, rights.
    datasets = {r["root"]: r for r in rows(engine, "dataset")}
    registered = {json.loads(e)["root"] for e in _raw_args(engine, "DatasetRegistered")}
    assert set(datasets) == registered
    for root, d in datasets.items():
        raw = bytes.fromhex(root[2:])
        registrant, holding, processing, operation, registered_at, grade, _, disputed = call(
            "DataRegistry", "dataset", raw
        )
        assert (d["registrant"], d["holding"], d["processing"], d["operation"], d["registered_at"], d["grade"]) == (
            registrant,
            holding,
            processing,
            operation,
            registered_at,
            ["general", "important", "core"][grade],
        ), d
        for right in Right:
            offered = int(call("DataRegistry", "offerOf", raw, int(right)))
            assert d[f"offer_{right.name.lower()}"] == (offered or None), (root, right)
            # The index records the freezes disputes made (the dataset's `disputed` bits); a freeze
            # also lapses by itself at its dispute's end, which isFrozen applies and the index does not.
            assert bool(d["frozen"] & (1 << right)) == bool(disputed & (1 << right))
            if call("DataRegistry", "isFrozen", raw, int(right)):
                assert d["frozen"] & (1 << right)
    edges = {(r["child"], r["parent"]) for r in rows(engine, "lineage")}
    assert edges == {(root, p) for root, d in datasets.items() for p in json.loads(d["parents"])}
    # Grants: the current one of each (dataset, grantee) is what the contract holds.
    for grant in rows(engine, "grant"):
        grantor, serial, permissions, status, valid_from, valid_until, _ = call(
            "AccessRegistry", "grantOf", bytes.fromhex(grant["root"][2:]), grant["grantee"]
        )
        if grant["current"]:
            assert (
                grant["grantor"],
                grant["serial"],
                grant["permissions"],
                grant["status"],
                grant["valid_from"],
                grant["valid_until"],
            ) == (grantor, serial, permissions, GrantStatus(status).name.lower(), valid_from, valid_until), grant
        else:
            assert serial > grant["serial"]
    # Receipts, anchors, disputes and votes.
    for receipt in rows(engine, "receipt"):
        assert call("ExchangeLedger", "isRecorded", bytes.fromhex(receipt["digest"][2:]))
    assert len(rows(engine, "receipt")) == len(_raw_args(engine, "ReceiptRecorded"))
    for anchor in rows(engine, "anchor"):
        anchored_at, block_number, leaf_count = call(
            "AnchorRegistry", "anchorOf", bytes.fromhex(anchor["root"][2:]), anchor["org_no"]
        )
        assert (anchor["anchored_at"], anchor["block_number"], anchor["leaf_count"]) == (
            anchored_at,
            block_number,
            leaf_count,
        )
        block = registry.w3.eth.get_block(block_number)
        assert anchor["block_hash"] == _hex(block["hash"])
    disputes = {r["dispute_id"]: r for r in rows(engine, "dispute")}
    assert sorted(disputes) == list(range(1, int(call("DisputeCourt", "disputeCount")) + 1))
    for number, dispute in disputes.items():
        root, right, status, claimant, respondent, opened_at, prior_at, uphold, dismiss, _, _ = call(
            "DisputeCourt", "dispute", number
        )
        assert (
            dispute["root"],
            dispute["right"],
            dispute["status"],
            dispute["claimant"],
            dispute["respondent"],
            dispute["opened_at"],
            dispute["prior_anchored_at"] or 0,
            dispute["uphold_votes"],
            dispute["dismiss_votes"],
        ) == (
            _hex(root),
            Right(right).name.lower(),
            DisputeStatus(status).name.lower(),
            claimant,
            respondent,
            opened_at,
            prior_at,
            uphold,
            dismiss,
        ), dispute
    for vote in rows(engine, "vote"):
        assert call("DisputeCourt", "hasVoted", vote["dispute_id"], Web3.to_checksum_address(vote["arbiter"]))


def _raw_args(engine: Engine, name: str) -> list[str]:
    with Session(engine) as session:
        return [str(a) for (a,) in session.connection().execute(select(RawEvent.args).where(RawEvent.name == name))]  # type: ignore[arg-type]
