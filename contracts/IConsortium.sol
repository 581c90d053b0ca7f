// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {KeyRole, MemberStatus} from "./Common.sol";

/// @title IConsortium
/// @notice Membership, certification and governance of an industrial data space. A council of
/// governors admits, suspends, reinstates and expels member organisations and appoints auditors
/// and arbiters; every change is a proposal that executes when approvals reach the threshold.
/// Each member organisation acts through keys: one admin key and any number of connector keys
/// (the software components that act for it). Other registry contracts ask this contract whether
/// a key is an active key of an active, certified member.
interface IConsortium {

    /// @notice Roles held by individual accounts rather than organisations.
    enum Role {
        Governor,
        Auditor,
        Arbiter
    }

    /// @notice The change a proposal makes when it executes. The proposal's `args` are the ABI
    /// encoding of the action's parameters:
    /// AdmitMember: (bytes32 orgId, string name, address admin, uint8 level, bytes32 evidenceHash, uint64 expiresAt);
    /// SuspendMember, ReinstateMember, ExpelMember: (bytes32 orgId);
    /// RecertifyMember: (bytes32 orgId, uint8 level, bytes32 evidenceHash, uint64 expiresAt);
    /// ReplaceAdmin: (bytes32 orgId, address newAdmin);
    /// AppointAuditor, RemoveAuditor, AppointArbiter, RemoveArbiter, AddGovernor, RemoveGovernor: (address account);
    /// SetThreshold, SetArbiterThreshold: (uint256 threshold);
    /// SetDisputePeriod: (uint256 seconds), between MIN_DISPUTE_PERIOD and MAX_DISPUTE_PERIOD;
    /// SetWitnessKey: (address governor, bytes32 witnessKey), the governor's Ed25519 public key
    /// for cosigning checkpoints (zero clears it).
    enum Action {
        AdmitMember,
        SuspendMember,
        ReinstateMember,
        ExpelMember,
        RecertifyMember,
        ReplaceAdmin,
        AppointAuditor,
        RemoveAuditor,
        AppointArbiter,
        RemoveArbiter,
        AddGovernor,
        RemoveGovernor,
        SetThreshold,
        SetArbiterThreshold,
        SetDisputePeriod,
        SetWitnessKey
    }

    enum ProposalStatus {
        None,
        Open,
        Executed,
        Cancelled
    }

    /// @notice A member organisation as stored on chain (name and evidence live in events).
    struct Member {
        bytes32 orgId;
        uint32 orgNo;
        address admin;
        uint64 expiresAt;
        uint8 level;
        MemberStatus status;
    }

    /// @notice A governance proposal.
    struct Proposal {
        Action action;
        ProposalStatus status;
        address proposer;
        uint64 createdAt;
        bytes args;
    }

    // ----- events: membership -----

    /// @notice The council admitted an organisation with its admin key.
    event MemberAdmitted(
        bytes32 indexed orgId,
        uint32 indexed orgNo,
        address indexed admin,
        string name,
        uint8 level,
        bytes32 evidenceHash,
        uint64 expiresAt
    );
    /// @notice The council suspended a member: its keys stop acting.
    event MemberSuspended(bytes32 indexed orgId);
    /// @notice The council reinstated a suspended member.
    event MemberReinstated(bytes32 indexed orgId);
    /// @notice The council expelled a member, for good.
    event MemberExpelled(bytes32 indexed orgId);
    /// @notice The council renewed a member's certification.
    event MemberRecertified(bytes32 indexed orgId, uint8 level, bytes32 evidenceHash, uint64 expiresAt);
    /// @notice An organisation's admin key was replaced (by itself or by governance).
    event AdminReplaced(bytes32 indexed orgId, address indexed previousAdmin, address indexed newAdmin);
    /// @notice An organisation's admin added a connector key.
    event ConnectorAdded(bytes32 indexed orgId, address indexed key, address indexed admin);
    /// @notice An organisation's admin removed a connector key.
    event ConnectorRemoved(bytes32 indexed orgId, address indexed key, address indexed admin);

    // ----- events: roles and governance -----

    /// @notice An account was appointed to a role (a new term starts).
    event RoleGranted(Role indexed role, address indexed account);
    /// @notice An account was removed from a role.
    event RoleRevoked(Role indexed role, address indexed account);
    /// @notice The approvals a proposal, or the votes a ruling, needs changed.
    event ThresholdChanged(Role indexed role, uint256 previousThreshold, uint256 newThreshold);
    /// @notice The deployer bound the registry contracts that mirror the key records.
    event MirrorsBound(address[] registries);
    /// @notice A governor opened a proposal.
    event ProposalCreated(uint256 indexed proposalId, Action indexed action, address indexed proposer, bytes args);
    /// @notice A governor approved a proposal; `approvals` counts live approvals.
    event ProposalApproved(uint256 indexed proposalId, address indexed governor, uint256 approvals);
    /// @notice A proposal's action was carried out.
    event ProposalExecuted(uint256 indexed proposalId, Action indexed action);
    /// @notice Its proposer cancelled a proposal.
    event ProposalCancelled(uint256 indexed proposalId, address indexed governor);
    /// @notice The dispute period (seconds a dispute may freeze a right) changed.
    event DisputePeriodChanged(uint64 previousPeriod, uint64 newPeriod);
    /// @notice A governor's Ed25519 witness key, with which it cosigns checkpoints of the
    /// chain's block hashes, changed: set by governance (SetWitnessKey), or cleared (`newKey`
    /// zero) when the governor was removed.
    event WitnessKeyChanged(address indexed governor, bytes32 previousKey, bytes32 newKey);

    // ----- errors -----

    /// @notice The caller is not a governor.
    error ConsortiumNotGovernor(address account);
    /// @notice The caller is not the admin key of a member.
    error ConsortiumNotOrgAdmin(address account);
    /// @notice No proposal has this id.
    error ConsortiumUnknownProposal(uint256 proposalId);
    /// @notice The proposal was executed or cancelled.
    error ConsortiumProposalNotOpen(uint256 proposalId, ProposalStatus status);
    /// @notice The governor approved this proposal in its current term already.
    error ConsortiumAlreadyApproved(uint256 proposalId, address governor);
    /// @notice The proposal lacks approvals.
    error ConsortiumThresholdNotReached(uint256 proposalId, uint256 approvals, uint256 threshold);
    /// @notice Only its proposer cancels a proposal.
    error ConsortiumNotProposer(uint256 proposalId, address account);
    /// @notice The arguments are not the action's ABI encoding.
    error ConsortiumMalformedArguments(Action action, uint256 length);
    /// @notice The org id is zero.
    error ConsortiumInvalidOrgId(bytes32 orgId);
    /// @notice The account is zero or has no code where code is needed.
    error ConsortiumInvalidAccount(address account);
    /// @notice A certification level must be 1 or more.
    error ConsortiumInvalidLevel(uint8 level);
    /// @notice A certification must end in the future.
    error ConsortiumInvalidExpiry(uint64 expiresAt, uint64 currentTime);
    /// @notice The org id was admitted already.
    error ConsortiumOrgExists(bytes32 orgId, MemberStatus status);
    /// @notice No member has this org id.
    error ConsortiumUnknownOrg(bytes32 orgId);
    /// @notice The action does not apply to the member's status.
    error ConsortiumInvalidTransition(bytes32 orgId, MemberStatus status, Action action);
    /// @notice The key belongs, or belonged, to an organisation.
    error ConsortiumKeyInUse(address key, bytes32 orgId);
    /// @notice The key is not a connector of the caller's organisation.
    error ConsortiumUnknownConnector(bytes32 orgId, address key);
    /// @notice The account holds the role already (or a judging role excludes it).
    error ConsortiumRoleAlreadyHeld(Role role, address account);
    /// @notice The account does not hold the role.
    error ConsortiumRoleNotHeld(Role role, address account);
    /// @notice The council is full.
    error ConsortiumTooManyGovernors(uint256 maxGovernors);
    /// @notice The last governor cannot be removed.
    error ConsortiumLastGovernor(address governor);
    /// @notice A threshold must be between 1 and the number of holders.
    error ConsortiumInvalidThreshold(Role role, uint256 threshold, uint256 holders);
    /// @notice The removal would leave fewer holders than the threshold.
    error ConsortiumThresholdUnreachable(Role role, uint256 remaining, uint256 threshold);
    /// @notice The organisation has as many live keys as allowed.
    error ConsortiumTooManyKeys(bytes32 orgId, uint256 maxKeys);
    /// @notice Only the deployer binds the mirrors.
    error ConsortiumNotDeployer(address account);
    /// @notice Mirrors are bound once, before the first admission.
    error ConsortiumMirrorsAlreadyBound(uint256 mirrors, uint32 members);
    /// @notice The dispute period is outside the allowed bounds.
    error ConsortiumInvalidDisputePeriod(uint256 period, uint256 minPeriod, uint256 maxPeriod);
    /// @notice The witness key is another governor's already (one key counts once).
    error ConsortiumWitnessKeyInUse(bytes32 witnessKey, address governor);

    // ----- governance -----

    /// @notice Opens a proposal; the proposer's own approval is counted at once, so with a
    /// threshold of one the proposal executes in the same transaction.
    /// @param action The change to make.
    /// @param args The ABI encoding of the action's parameters (see {Action}).
    /// @return proposalId The new proposal's id.
    function propose(Action action, bytes calldata args) external returns (uint256 proposalId);

    /// @notice Approves an open proposal; executes it when approvals reach the threshold.
    function approve(uint256 proposalId) external;

    /// @notice Executes an open proposal whose approvals already reach the (possibly lowered)
    /// threshold.
    function execute(uint256 proposalId) external;

    /// @notice Cancels an open proposal; only its proposer may.
    function cancel(uint256 proposalId) external;

    /// @notice Names the registry contracts that keep a copy of the key records
    /// (MembershipMirror), so their writes check membership with one local storage read.
    /// Only the deployer, once, before the first member is admitted.
    function bindMirrors(address[] calldata registries) external;

    // ----- organisation keys -----

    /// @notice Adds a connector key to the caller's organisation; the caller must be the admin
    /// key of an active, certified member, and the organisation have fewer than
    /// MAX_KEYS_PER_ORG live keys.
    function addConnector(address key) external;

    /// @notice Removes a connector key from the caller's organisation.
    function removeConnector(address key) external;

    /// @notice Hands the caller's admin role to a new key; the old admin key stops acting. The
    /// caller's organisation must be active and certified (governance's ReplaceAdmin is not).
    function transferAdmin(address newAdmin) external;

    // ----- views -----

    /// @notice The member number of the organisation `key` acts for; reverts with the reason
    /// when the key is unknown or removed, or its organisation is not active or its
    /// certification has expired. Other registry contracts call this on every write.
    function requireActiveKey(address key) external view returns (uint32 orgNo);

    /// @notice The member number of an organisation that is active and certified; reverts with
    /// the reason otherwise.
    function requireActiveOrg(bytes32 orgId) external view returns (uint32 orgNo);

    /// @notice The org id of member number `orgNo` (zero if there is none).
    function orgIdOf(uint32 orgNo) external view returns (bytes32);

    /// @notice The member number of `orgId` (zero if it was never admitted).
    function orgNoOf(bytes32 orgId) external view returns (uint32);

    /// @notice Whether `key` is an active key of an active, certified member.
    function isActiveKey(address key) external view returns (bool);

    /// @notice Whether the organisation with member number `orgNo` is active and certified.
    function isActiveOrg(uint32 orgNo) external view returns (bool);

    /// @notice The organisation with the given id; reverts for an unknown id.
    function member(bytes32 orgId) external view returns (Member memory);

    /// @notice The organisation with the given member number; reverts for an unknown number.
    function memberByNo(uint32 orgNo) external view returns (Member memory);

    /// @notice Number of organisations ever admitted (member numbers run from 1 to this).
    function memberCount() external view returns (uint32);

    /// @notice The organisation a key belongs or belonged to, and its current role there.
    function keyInfo(address key) external view returns (bytes32 orgId, KeyRole role);

    /// @notice Whether `account` holds `role`.
    function hasRole(Role role, address account) external view returns (bool);

    /// @notice The accounts holding `role`.
    function roleHolders(Role role) external view returns (address[] memory);

    /// @notice Approvals needed for a governance proposal (`Role.Governor`) or an arbiters'
    /// ruling (`Role.Arbiter`).
    function threshold(Role role) external view returns (uint256);

    /// @notice A proposal and its approvals from current governors.
    function proposal(uint256 proposalId) external view returns (Proposal memory, uint256 approvals);

    /// @notice Whether `governor` approved the proposal in its current term (an approval of an
    /// earlier term, before a removal, does not count).
    function hasApproved(uint256 proposalId, address governor) external view returns (bool);

    /// @notice The term `account` serves in `role` (0: does not hold it). Each appointment
    /// starts a new term; votes and approvals count only in the term they were given in.
    function roleTerm(Role role, address account) external view returns (uint64);

    /// @notice The holders of `role` and the term each serves, in the same order.
    function roleTerms(Role role) external view returns (address[] memory holders, uint64[] memory terms);

    /// @notice How long (seconds) a dispute may freeze a right; set by governance
    /// (SetDisputePeriod), read by the DisputeCourt when a dispute opens.
    function disputePeriod() external view returns (uint64);

    /// @notice The Ed25519 witness key of `governor` (zero: none).
    function witnessKey(address governor) external view returns (bytes32);

    /// @notice The current governors and their witness keys (zero: none), in the same order.
    function witnessKeys() external view returns (address[] memory governors, bytes32[] memory keys);

    /// @notice The registry contracts bound with {bindMirrors}.
    function mirrors() external view returns (address[] memory);

    /// @notice Number of proposals ever opened (ids run from 1 to this).
    function proposalCount() external view returns (uint256);

    /// @notice Hyperledger Besu's legacy transaction-permissioning hook: true when `sender` is
    /// an active member key or holds a consortium role.
    function transactionAllowed(
        address sender,
        address target,
        uint256 value,
        uint256 gasPrice,
        uint256 gasLimit,
        bytes calldata payload
    ) external view returns (bool);
}
