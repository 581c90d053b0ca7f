"""Readable sentences for the contracts' custom errors, filled with the error's values."""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from ..times import iso
from .enums import label

TEMPLATES: dict[str, str] = {
    # Consortium
    "ConsortiumNotGovernor": "{account} is not a governor of the consortium",
    "ConsortiumNotOrgAdmin": "{account} is not the admin key of an active member organisation",
    "ConsortiumUnknownProposal": "there is no proposal {proposalId}",
    "ConsortiumProposalNotOpen": "proposal {proposalId} is {status}, not open",
    "ConsortiumAlreadyApproved": "governor {governor} has already approved proposal {proposalId}",
    "ConsortiumThresholdNotReached": "proposal {proposalId} has {approvals} approval(s) but needs {threshold}",
    "ConsortiumNotProposer": "{account} did not open proposal {proposalId}; only its proposer can cancel it",
    "ConsortiumMalformedArguments": "the arguments for '{action}' are malformed ({length} bytes)",
    "ConsortiumInvalidOrgId": "org id {orgId} is not a valid organisation id",
    "ConsortiumInvalidAccount": "{account} is not a usable account",
    "ConsortiumInvalidLevel": "certification level {level} is not valid (it must be 1 or more)",
    "ConsortiumInvalidExpiry": "certification expiry {expiresAt} is not after the chain's current time {currentTime}",
    "ConsortiumOrgExists": "organisation {orgId} is already known to the consortium (status: {status})",
    "ConsortiumUnknownOrg": "organisation {orgId} is not a member of the consortium",
    "ConsortiumInvalidTransition": "cannot '{action}' organisation {orgId}: its status is {status}",
    "ConsortiumKeyInUse": "key {key} already belongs to organisation {orgId}",
    "ConsortiumUnknownConnector": "{key} is not a connector key of organisation {orgId}",
    "ConsortiumRoleAlreadyHeld": "{account} already holds the {role} role",
    "ConsortiumRoleNotHeld": "{account} does not hold the {role} role",
    "ConsortiumTooManyGovernors": "the council is full: at most {maxGovernors} governors",
    "ConsortiumLastGovernor": "{governor} is the last governor and cannot be removed",
    "ConsortiumInvalidThreshold": "a {role} threshold of {threshold} is not possible with {holders} {role}(s)",
    "ConsortiumThresholdUnreachable": (
        "that would leave {remaining} {role}(s), fewer than the {role} threshold of {threshold}; "
        "lower the threshold first"
    ),
    "ConsortiumUnknownKey": "key {key} does not belong to any member organisation",
    "ConsortiumKeyRevoked": "key {key} was removed from organisation {orgId}",
    "ConsortiumMemberNotActive": "organisation {orgId} is not active (status: {status})",
    "ConsortiumCertificationExpired": "the certification of organisation {orgId} expired at {expiresAt}",
    "ConsortiumTooManyKeys": (
        "organisation {orgId} already has the most live keys allowed ({maxKeys}); remove a connector first"
    ),
    "ConsortiumNotDeployer": "{account} did not deploy the Consortium; only the deployer binds the registry contracts",
    "ConsortiumMirrorsAlreadyBound": (
        "the registry contracts are already bound ({mirrors} bound, {members} member(s) admitted); "
        "they are bound once, before the first admission"
    ),
    "ConsortiumWitnessKeyInUse": "witness key {witnessKey} is governor {governor}'s already: one key counts once",
    "ConsortiumInvalidDisputePeriod": (
        "a dispute period of {period} seconds is not allowed: it must be between {minPeriod} and {maxPeriod} seconds"
    ),
    # OpenZeppelin's ShortStrings (the ExchangeLedger's EIP-712 domain; fixed at deployment)
    "InvalidShortString": "the EIP-712 domain's name or version is not a valid short string",
    "StringTooLong": "the string {str} is too long for the EIP-712 domain",
    # MembershipMirror
    "MembershipMirrorNotConsortium": "{caller} is not the Consortium; only it writes the mirrored key records",
    # DataRegistry
    "DataRegistryInvalidRoot": "{root} is not a valid content root",
    "DataRegistryAlreadyRegistered": "dataset {root} is already registered by {registrant} since {registeredAt}",
    "DataRegistryUnknownDataset": "dataset {root} is not registered",
    "DataRegistryUnknownParent": "parent dataset {parent} of {root} is not registered",
    "DataRegistryTooManyParents": "dataset {root} names {count} parents; at most {maxParents} are allowed",
    "DataRegistryBatchSize": "a batch of {count} datasets is not possible: 1 to {maxBatch} per batch",
    "DataRegistryAlreadyCommitted": "commitment {commitment} was already made by {orgNo}",
    "DataRegistryUnknownCommitment": (
        "no commitment {commitment} exists for this root, organisation and salt "
        "(only the committing organisation can reveal it)"
    ),
    "DataRegistryRevealTooEarly": (
        "commitment {commitment} was made in block {committedBlock}; reveal it in a later block"
    ),
    "DataRegistryCommitmentExpired": "commitment {commitment} expired at {expiredAt}",
    "DataRegistryNotRightHolder": "{orgNo} does not hold the {right} right on dataset {root} ({holder} does)",
    "DataRegistryAlreadyHolder": "{orgNo} already holds the {right} right on dataset {root}",
    "DataRegistryNoOffer": "there is no open offer of the {right} right on dataset {root}",
    "DataRegistryNotOfferee": "the {right} right on dataset {root} was offered to {offeredTo}, not to {orgNo}",
    "DataRegistryNotDeployer": "{account} did not deploy the DataRegistry",
    "DataRegistryNotCourt": "{account} is not the dispute court",
    "DataRegistryCourtAlreadyBound": "the dispute court {court} is already bound",
    "DataRegistryRightFrozen": (
        "the {right} right on dataset {root} cannot move while a dispute about it is open (until {frozenUntil} "
        "at the latest)"
    ),
    "DataRegistryOrderExhausted": (
        "block {blockNumber} cannot take more registrations or commitments ({index} needed); send it in a later block"
    ),
    # AccessRegistry
    "AccessRegistryCoreData": "dataset {root} is core data, which cannot be licensed out",
    "AccessRegistryNotOperator": "{orgNo} does not hold the operation right on dataset {root} ({operator} does)",
    "AccessRegistryInvalidPermissions": (
        "permission set {permissions} is not valid (read=1, derive=2, reshare=4, commercial=8)"
    ),
    "AccessRegistryInvalidWindow": "the validity window {validFrom} to {validUntil} is empty or already over",
    "AccessRegistrySelfGrant": "{orgNo} cannot grant dataset {root} to itself",
    "AccessRegistryUnknownGrant": "there is no grant on dataset {root} to {grantee}",
    "AccessRegistryNotPending": "the grant on dataset {root} to {grantee} is {status}, not pending",
    "AccessRegistryNotActive": "the grant on dataset {root} to {grantee} is already {status}",
    "AccessRegistryNotAuditor": "{account} is not an auditor",
    "AccessRegistryNotGrantor": "{orgNo} did not issue the grant on dataset {root} to {grantee} ({grantor} did)",
    "AccessRegistryWrongSerial": (
        "the grant on dataset {root} to {grantee} is now serial {currentSerial}, not {serial}: "
        "it was replaced since; review the current terms (`idsreg grant show`) before deciding"
    ),
    "AccessRegistryOperationDisputed": (
        "no new licence on dataset {root} while a dispute about its operation right is open; existing licences run on"
    ),
    # ExchangeLedger
    "ExchangeLedgerAlreadyRecorded": "receipt {digest} is already recorded",
    "ExchangeLedgerInvalidSignature": "the {party}'s signature is not a valid signature",
    "ExchangeLedgerWrongSigner": (
        "the {party}'s signature is by key {signer} of organisation {signerOrg}, not of {expectedOrg}"
    ),
    "ExchangeLedgerSameParty": "provider and consumer are the same organisation {org}",
    "ExchangeLedgerNotParty": "{submitter} acts for {orgNo}, which is neither the provider nor the consumer",
    "ExchangeLedgerFutureDelivery": "the delivery time {deliveredAt} is after the chain's current time {currentTime}",
    "ExchangeLedgerNotAuthorized": (
        "grant {grantSerial} does not let {consumer} read dataset {dataset} at {deliveredAt} "
        "(no such grant, not active, revoked, outside its window or without read)"
    ),
    "ExchangeLedgerProviderNotEntitled": (
        "{provider} neither holds the operation right on dataset {dataset} nor a reshare licence at {deliveredAt}"
    ),
    # AnchorRegistry
    "AnchorRegistryAlreadyAnchored": "root {root} was already anchored by {orgNo} at {anchoredAt}",
    "AnchorRegistryInvalidLeafCount": "an anchor needs at least one leaf (root {root}, leaf count {leafCount})",
    "AnchorRegistryUnknownAnchor": "root {root} is not anchored by {orgNo}",
    "AnchorRegistryIndexOutOfRange": (
        "leaf index {leafIndex} is outside the anchored tree of {leafCount} leaves (root {root})"
    ),
    "AnchorRegistryInvalidProof": (
        "the proof does not show leaf {leaf} at index {leafIndex} under the anchored root {root}"
    ),
    # DisputeCourt
    "DisputeCourtUnknownDispute": "there is no dispute {disputeId}",
    "DisputeCourtDisputeNotOpen": "dispute {disputeId} is {status}, not open",
    "DisputeCourtAlreadyHolder": (
        "{orgNo} already holds the {right} right on dataset {root}; there is nothing to dispute"
    ),
    "DisputeCourtAlreadyDisputed": (
        "the {right} right on dataset {root} is already disputed in open dispute {disputeId}"
    ),
    "DisputeCourtNotClaimant": (
        "{orgNo} did not open dispute {disputeId}; only its claimant {claimant} can prove anchoring"
    ),
    "DisputeCourtAnchorNotBeforeRegistration": (
        "the anchor (block {anchorBlock}) is not in a block before the dataset's registration (block "
        "{registrationBlock}) disputed in dispute {disputeId}; an anchor in the same block proves nothing"
    ),
    "DisputeCourtAnchorNotEarlier": (
        "dispute {disputeId} already has an anchor proven in block {priorAnchorBlock}; this one (block {anchorBlock}) "
        "is not earlier"
    ),
    "DisputeCourtNotArbiter": "{account} is not an arbiter of the consortium",
    "DisputeCourtAlreadyVoted": "arbiter {arbiter} has already voted on dispute {disputeId}",
    "DisputeCourtNoArbiters": (
        "no dispute can be opened: {arbiters} arbiter(s) sit, fewer than the {threshold} a ruling needs"
    ),
    "DisputeCourtTooManyOpenDisputes": (
        "{claimant} already has {openDisputes} open disputes, the most allowed ({maxOpen}); "
        "wait for one to be decided or close an expired one"
    ),
    "DisputeCourtDisputeExpired": "dispute {disputeId} expired at {expiresAt}; it takes no more proofs or votes",
    "DisputeCourtClaimantNotActive": (
        "the claimant {claimant} of dispute {disputeId} is no longer an active, certified member; "
        "the dispute can only be closed"
    ),
    "DisputeCourtNotClosable": (
        "dispute {disputeId} runs until {expiresAt} and its claimant is active; it cannot be closed yet"
    ),
    "DisputeCourtNotDataRegistry": "{account} is not the DataRegistry",
}

#: Error arguments that hold a time (Unix seconds): shown as ISO 8601 UTC. A test checks that
#: every such argument of the contracts' errors is here.
TIME_ARGS = frozenset(
    {
        "validFrom",
        "validUntil",
        "frozenUntil",
        "expiresAt",
        "expiredAt",
        "currentTime",
        "registeredAt",
        "anchoredAt",
        "deliveredAt",
    }
)

#: Readable names for 32-byte ids this process has seen (org identifiers the user typed), so a
#: message can say "DEMO:ACME (0x5e59…)" instead of a bare hash.
_NAMES: dict[str, str] = {}


def remember_name(hex_id: str, name: str) -> None:
    """Let messages show `name` next to the 0x-hex id `hex_id`."""
    _NAMES[hex_id.lower()] = name


def is_named(hex_id: str) -> bool:
    """Whether messages already have a name for `hex_id`."""
    return hex_id.lower() in _NAMES


def format_value(name: str, value: Any) -> str:
    """One value as it reads in a sentence: enum names, ISO times, plain hex and numbers."""
    if isinstance(value, IntEnum):
        return label(value)
    if isinstance(value, int) and name in TIME_ARGS:
        return iso(value)
    if isinstance(value, str) and value.lower() in _NAMES:
        return f"{_NAMES[value.lower()]} ({value})"
    return str(value)


def render(error_name: str, values: dict[str, Any]) -> str:
    """The sentence for a decoded custom error."""
    shown = {k: format_value(k, v) for k, v in values.items()}
    template = TEMPLATES.get(error_name)
    if template is None:
        args = ", ".join(f"{k}={v}" for k, v in shown.items())
        return f"the contract refused: {error_name}({args})"
    return template.format(**shown)
