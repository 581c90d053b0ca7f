// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";
import {ConsortiumCertificationExpired, ConsortiumMemberNotActive, KeyRecord, KeyRole, MemberStatus} from "./Common.sol";
import {DeployerBinding} from "./DeployerBinding.sol";
import {IConsortium} from "./IConsortium.sol";
import {IMembershipMirror} from "./IMembershipMirror.sol";
import {KeyRecords} from "./KeyRecords.sol";

/// @title Consortium
/// @notice Membership and governance of the data space. See {IConsortium}.
contract Consortium is IConsortium, KeyRecords, DeployerBinding {
    using EnumerableSet for EnumerableSet.AddressSet;

    /// @notice Upper bound on governors, so that counting live approvals stays cheap.
    uint256 public constant MAX_GOVERNORS = 32;

    /// @notice Upper bound on an organisation's live keys (admin and connectors; removed keys
    /// do not count), so that a status change can update all of them.
    uint256 public constant MAX_KEYS_PER_ORG = 64;

    /// @notice The dispute period set at deployment, and the bounds governance may set it within.
    uint64 public constant DEFAULT_DISPUTE_PERIOD = 30 days;
    uint64 public constant MIN_DISPUTE_PERIOD = 1 days;
    uint64 public constant MAX_DISPUTE_PERIOD = 365 days;

    /// Slot 1 is the id; slot 2 packs everything `requireActiveKey` needs.
    struct OrgRecord {
        bytes32 id;
        address admin;
        uint64 expiresAt;
        uint8 level;
        MemberStatus status;
    }

    mapping(uint32 orgNo => OrgRecord) private _orgs;
    mapping(bytes32 orgId => uint32) private _orgNos;
    /// Each organisation's live keys; `_keyIndex` is a key's position there plus one (0: not live).
    mapping(uint32 orgNo => address[]) private _orgKeys;
    mapping(address key => uint256) private _keyIndex;
    uint32 private _memberCount;

    mapping(Role role => EnumerableSet.AddressSet) private _roles;
    mapping(Role role => uint256) private _thresholds;
    /// The term each role holder serves now (0: does not hold the role). Every appointment
    /// starts a new term, so approvals and votes of an earlier term never count again.
    mapping(Role role => mapping(address account => uint64)) private _terms;
    uint64 private _termCount;
    uint64 private _disputePeriod;

    /// Registry contracts that keep a copy of every key record (see MembershipMirror), bound
    /// once by the deployer before the first member is admitted.
    address[] private _mirrors;

    /// Each governor's Ed25519 witness key, and the governor each key belongs to.
    mapping(address governor => bytes32) private _witnessKeys;
    mapping(bytes32 witnessKey => address) private _witnessKeyOwners;

    mapping(uint256 proposalId => Proposal) private _proposals;
    /// The term in which each governor approved (0: never).
    mapping(uint256 proposalId => mapping(address governor => uint64)) private _approved;
    uint256 private _proposalCount;

    modifier onlyGovernor() {
        if (!_roles[Role.Governor].contains(msg.sender)) revert ConsortiumNotGovernor(msg.sender);
        _;
    }

    /// @param governors The founding council.
    /// @param governorThreshold Approvals a proposal needs, between 1 and `governors.length`.
    constructor(address[] memory governors, uint256 governorThreshold) {
        if (governors.length > MAX_GOVERNORS) revert ConsortiumTooManyGovernors(MAX_GOVERNORS);
        for (uint256 i = 0; i < governors.length; i++) {
            _grantRole(Role.Governor, governors[i]);
        }
        _setThreshold(Role.Governor, governorThreshold);
        // Arbiters are appointed later; a ruling needs one arbiter until governance says otherwise.
        _thresholds[Role.Arbiter] = 1;
        emit ThresholdChanged(Role.Arbiter, 0, 1);
        _setDisputePeriod(DEFAULT_DISPUTE_PERIOD);
    }

    // ----- governance -----

    /// @inheritdoc IConsortium
    function propose(Action action, bytes calldata args) external onlyGovernor returns (uint256 proposalId) {
        // Validate now so that a proposal that could never execute is refused with its reason.
        _apply(action, args, false);
        proposalId = ++_proposalCount;
        _proposals[proposalId] = Proposal({
            action: action,
            status: ProposalStatus.Open,
            proposer: msg.sender,
            createdAt: uint64(block.timestamp),
            args: args
        });
        emit ProposalCreated(proposalId, action, msg.sender, args);
        _approve(proposalId);
    }

    /// @inheritdoc IConsortium
    function approve(uint256 proposalId) external onlyGovernor {
        _requireOpen(proposalId);
        _approve(proposalId);
    }

    /// @inheritdoc IConsortium
    function execute(uint256 proposalId) external onlyGovernor {
        _requireOpen(proposalId);
        uint256 approvals = _liveApprovals(proposalId);
        uint256 needed = _thresholds[Role.Governor];
        if (approvals < needed) revert ConsortiumThresholdNotReached(proposalId, approvals, needed);
        _execute(proposalId);
    }

    /// @inheritdoc IConsortium
    function cancel(uint256 proposalId) external onlyGovernor {
        _requireOpen(proposalId);
        if (_proposals[proposalId].proposer != msg.sender) revert ConsortiumNotProposer(proposalId, msg.sender);
        _proposals[proposalId].status = ProposalStatus.Cancelled;
        emit ProposalCancelled(proposalId, msg.sender);
    }

    /// @inheritdoc IConsortium
    function bindMirrors(address[] calldata registries) external bindsOnce {
        for (uint256 i = 0; i < registries.length; i++) {
            if (registries[i].code.length == 0) revert ConsortiumInvalidAccount(registries[i]);
            _mirrors.push(registries[i]);
        }
        emit MirrorsBound(registries);
    }

    // ----- organisation keys -----

    /// @inheritdoc IConsortium
    function addConnector(address key) external {
        uint32 orgNo = _requireAdmin(msg.sender);
        if (key == address(0)) revert ConsortiumInvalidAccount(key);
        KeyRecord memory record = _keys[key];
        // A key stays tied to the organisation it first served, so that signatures it made
        // remain attributable; it may come back to that organisation only.
        if (record.role != KeyRole.None || (record.orgNo != 0 && record.orgNo != orgNo)) {
            revert ConsortiumKeyInUse(key, _orgs[record.orgNo].id);
        }
        _checkNotJudge(key);
        _trackKey(orgNo, key);
        _setKey(key, orgNo, KeyRole.Connector);
        emit ConnectorAdded(_orgs[orgNo].id, key, msg.sender);
    }

    /// @inheritdoc IConsortium
    function removeConnector(address key) external {
        uint32 orgNo = _requireAdmin(msg.sender);
        KeyRecord memory record = _keys[key];
        if (record.orgNo != orgNo || record.role != KeyRole.Connector) {
            revert ConsortiumUnknownConnector(_orgs[orgNo].id, key);
        }
        _revokeKey(key);
        _untrackKey(orgNo, key);
        emit ConnectorRemoved(_orgs[orgNo].id, key, msg.sender);
    }

    /// @inheritdoc IConsortium
    function transferAdmin(address newAdmin) external {
        uint32 orgNo = _requireAdmin(msg.sender);
        _replaceAdmin(orgNo, newAdmin);
    }

    // ----- views -----

    /// @inheritdoc IConsortium
    function requireActiveKey(address key) external view returns (uint32 orgNo) {
        return _requireActiveKey(key);
    }

    /// @inheritdoc IConsortium
    function requireActiveOrg(bytes32 orgId) external view returns (uint32 orgNo) {
        orgNo = _requireKnownOrg(orgId);
        OrgRecord storage org = _orgs[orgNo];
        if (org.status != MemberStatus.Active) revert ConsortiumMemberNotActive(orgId, org.status);
        if (org.expiresAt <= block.timestamp) revert ConsortiumCertificationExpired(orgId, org.expiresAt);
    }

    /// @inheritdoc IConsortium
    function isActiveKey(address key) public view returns (bool) {
        KeyRecord memory record = _keys[key];
        return record.role != KeyRole.None && record.status == MemberStatus.Active
            && record.expiresAt > block.timestamp;
    }

    /// @inheritdoc IConsortium
    function orgIdOf(uint32 orgNo) external view returns (bytes32) {
        return _orgs[orgNo].id;
    }

    /// @inheritdoc IConsortium
    function orgNoOf(bytes32 orgId) external view returns (uint32) {
        return _orgNos[orgId];
    }

    /// @inheritdoc IConsortium
    function isActiveOrg(uint32 orgNo) public view returns (bool) {
        OrgRecord storage org = _orgs[orgNo];
        return org.status == MemberStatus.Active && org.expiresAt > block.timestamp;
    }

    /// @inheritdoc IConsortium
    function member(bytes32 orgId) external view returns (Member memory) {
        uint32 orgNo = _orgNos[orgId];
        if (orgNo == 0) revert ConsortiumUnknownOrg(orgId);
        return _member(orgNo);
    }

    /// @inheritdoc IConsortium
    function memberByNo(uint32 orgNo) external view returns (Member memory) {
        if (orgNo == 0 || orgNo > _memberCount) revert ConsortiumUnknownOrg(bytes32(uint256(orgNo)));
        return _member(orgNo);
    }

    /// @inheritdoc IConsortium
    function memberCount() external view returns (uint32) {
        return _memberCount;
    }

    /// @inheritdoc IConsortium
    function keyInfo(address key) external view returns (bytes32 orgId, KeyRole role) {
        KeyRecord memory record = _keys[key];
        return (_orgs[record.orgNo].id, record.role);
    }

    /// @inheritdoc IConsortium
    function hasRole(Role role, address account) public view returns (bool) {
        return _roles[role].contains(account);
    }

    /// @inheritdoc IConsortium
    function roleHolders(Role role) external view returns (address[] memory) {
        return _roles[role].values();
    }

    /// @inheritdoc IConsortium
    function threshold(Role role) external view returns (uint256) {
        return _thresholds[role];
    }

    /// @inheritdoc IConsortium
    function proposal(uint256 proposalId) external view returns (Proposal memory, uint256 approvals) {
        if (_proposals[proposalId].status == ProposalStatus.None) revert ConsortiumUnknownProposal(proposalId);
        return (_proposals[proposalId], _liveApprovals(proposalId));
    }

    /// @inheritdoc IConsortium
    function hasApproved(uint256 proposalId, address governor) external view returns (bool) {
        uint64 term = _terms[Role.Governor][governor];
        return term != 0 && _approved[proposalId][governor] == term;
    }

    /// @inheritdoc IConsortium
    function roleTerm(Role role, address account) external view returns (uint64) {
        return _terms[role][account];
    }

    /// @inheritdoc IConsortium
    function roleTerms(Role role) external view returns (address[] memory holders, uint64[] memory terms) {
        holders = _roles[role].values();
        terms = new uint64[](holders.length);
        for (uint256 i = 0; i < holders.length; i++) {
            terms[i] = _terms[role][holders[i]];
        }
    }

    /// @inheritdoc IConsortium
    function disputePeriod() external view returns (uint64) {
        return _disputePeriod;
    }

    /// @inheritdoc IConsortium
    function witnessKey(address governor) external view returns (bytes32) {
        return _witnessKeys[governor];
    }

    /// @inheritdoc IConsortium
    function witnessKeys() external view returns (address[] memory governors, bytes32[] memory keys) {
        governors = _roles[Role.Governor].values();
        keys = new bytes32[](governors.length);
        for (uint256 i = 0; i < governors.length; i++) {
            keys[i] = _witnessKeys[governors[i]];
        }
    }

    /// @inheritdoc IConsortium
    function mirrors() external view returns (address[] memory) {
        return _mirrors;
    }

    /// @inheritdoc IConsortium
    function proposalCount() external view returns (uint256) {
        return _proposalCount;
    }

    /// @inheritdoc IConsortium
    function transactionAllowed(
        address sender,
        address, /* target */
        uint256, /* value */
        uint256, /* gasPrice */
        uint256, /* gasLimit */
        bytes calldata /* payload */
    ) external view returns (bool) {
        return isActiveKey(sender) || hasRole(Role.Governor, sender) || hasRole(Role.Auditor, sender)
            || hasRole(Role.Arbiter, sender);
    }

    // ----- internals: proposals -----

    function _requireOpen(uint256 proposalId) private view {
        ProposalStatus status = _proposals[proposalId].status;
        if (status == ProposalStatus.None) revert ConsortiumUnknownProposal(proposalId);
        if (status != ProposalStatus.Open) revert ConsortiumProposalNotOpen(proposalId, status);
    }

    function _approve(uint256 proposalId) private {
        uint64 term = _terms[Role.Governor][msg.sender];
        if (_approved[proposalId][msg.sender] == term) revert ConsortiumAlreadyApproved(proposalId, msg.sender);
        _approved[proposalId][msg.sender] = term;
        uint256 approvals = _liveApprovals(proposalId);
        emit ProposalApproved(proposalId, msg.sender, approvals);
        if (approvals >= _thresholds[Role.Governor]) _execute(proposalId);
    }

    function _execute(uint256 proposalId) private {
        Proposal storage p = _proposals[proposalId];
        p.status = ProposalStatus.Executed;
        // Re-validated against current state: members or roles may have changed since proposal.
        _apply(p.action, p.args, true);
        emit ProposalExecuted(proposalId, p.action);
    }

    /// Approvals are counted over current governors, in their current term only: a removed
    /// governor's approval no longer counts, and does not come back if it is added again.
    function _liveApprovals(uint256 proposalId) private view returns (uint256 approvals) {
        address[] memory governors = _roles[Role.Governor].values();
        for (uint256 i = 0; i < governors.length; i++) {
            if (_approved[proposalId][governors[i]] == _terms[Role.Governor][governors[i]]) approvals++;
        }
    }

    /// Validates an action against current state and, when `commit` is true, carries it out.
    /// One function for both, so that what is checked at proposal time is what runs.
    function _apply(Action action, bytes memory args, bool commit) private {
        if (action == Action.AdmitMember) {
            (bytes32 orgId, string memory name, address admin, uint8 level, bytes32 evidence, uint64 expiresAt) =
                abi.decode(args, (bytes32, string, address, uint8, bytes32, uint64));
            _checkAdmission(orgId, admin, level, expiresAt);
            if (commit) _admit(orgId, name, admin, level, evidence, expiresAt);
        } else if (action == Action.SuspendMember || action == Action.ReinstateMember || action == Action.ExpelMember) {
            _requireLength(action, args, 32);
            _transition(abi.decode(args, (bytes32)), action, commit);
        } else if (action == Action.RecertifyMember) {
            _requireLength(action, args, 128);
            (bytes32 orgId, uint8 level, bytes32 evidence, uint64 expiresAt) =
                abi.decode(args, (bytes32, uint8, bytes32, uint64));
            _recertify(orgId, level, evidence, expiresAt, commit);
        } else if (action == Action.ReplaceAdmin) {
            _requireLength(action, args, 64);
            (bytes32 orgId, address newAdmin) = abi.decode(args, (bytes32, address));
            uint32 orgNo = _requireKnownOrg(orgId);
            MemberStatus status = _orgs[orgNo].status;
            if (status == MemberStatus.Expelled) revert ConsortiumInvalidTransition(orgId, status, action);
            _checkNewKey(newAdmin);
            if (commit) _replaceAdmin(orgNo, newAdmin);
        } else if (action == Action.SetThreshold || action == Action.SetArbiterThreshold) {
            _requireLength(action, args, 32);
            Role role = action == Action.SetThreshold ? Role.Governor : Role.Arbiter;
            uint256 newThreshold = abi.decode(args, (uint256));
            _checkThreshold(role, newThreshold);
            if (commit) _setThreshold(role, newThreshold);
        } else if (action == Action.SetDisputePeriod) {
            _requireLength(action, args, 32);
            uint256 period = abi.decode(args, (uint256));
            if (period < MIN_DISPUTE_PERIOD || period > MAX_DISPUTE_PERIOD) {
                revert ConsortiumInvalidDisputePeriod(period, MIN_DISPUTE_PERIOD, MAX_DISPUTE_PERIOD);
            }
            // Within the bounds just checked, so it fits.
            if (commit) _setDisputePeriod(uint64(period));
        } else if (action == Action.SetWitnessKey) {
            _requireLength(action, args, 64);
            (address governor, bytes32 key) = abi.decode(args, (address, bytes32));
            if (!_roles[Role.Governor].contains(governor)) revert ConsortiumRoleNotHeld(Role.Governor, governor);
            address owner = _witnessKeyOwners[key];
            if (key != bytes32(0) && owner != address(0) && owner != governor) {
                revert ConsortiumWitnessKeyInUse(key, owner);
            }
            if (commit) _setWitnessKey(governor, key);
        } else {
            _requireLength(action, args, 32);
            _changeRole(action, abi.decode(args, (address)), commit);
        }
    }

    function _requireLength(Action action, bytes memory args, uint256 length) private pure {
        if (args.length != length) revert ConsortiumMalformedArguments(action, args.length);
    }

    // ----- internals: members -----

    function _refuseNotDeployer(address account) internal pure override {
        revert ConsortiumNotDeployer(account);
    }

    function _refuseIfBound() internal view override {
        if (_mirrors.length != 0 || _memberCount != 0) revert ConsortiumMirrorsAlreadyBound(_mirrors.length, _memberCount);
    }

    function _refusedKeyOrgId(address key) internal view override returns (bytes32) {
        return _orgs[_keys[key].orgNo].id;
    }

    function _checkAdmission(bytes32 orgId, address admin, uint8 level, uint64 expiresAt) private view {
        if (orgId == bytes32(0)) revert ConsortiumInvalidOrgId(orgId);
        uint32 existing = _orgNos[orgId];
        if (existing != 0) revert ConsortiumOrgExists(orgId, _orgs[existing].status);
        _checkNewKey(admin);
        _checkCertification(level, expiresAt);
    }

    function _checkCertification(uint8 level, uint64 expiresAt) private view {
        if (level == 0) revert ConsortiumInvalidLevel(level);
        if (expiresAt <= block.timestamp) revert ConsortiumInvalidExpiry(expiresAt, uint64(block.timestamp));
    }

    function _checkNewKey(address key) private view {
        if (key == address(0)) revert ConsortiumInvalidAccount(key);
        uint32 holder = _keys[key].orgNo;
        if (holder != 0) revert ConsortiumKeyInUse(key, _orgs[holder].id);
        _checkNotJudge(key);
    }

    function _checkNotJudge(address key) private view {
        if (_roles[Role.Auditor].contains(key)) revert ConsortiumRoleAlreadyHeld(Role.Auditor, key);
        if (_roles[Role.Arbiter].contains(key)) revert ConsortiumRoleAlreadyHeld(Role.Arbiter, key);
    }

    function _admit(
        bytes32 orgId,
        string memory name,
        address admin,
        uint8 level,
        bytes32 evidenceHash,
        uint64 expiresAt
    ) private {
        uint32 orgNo = ++_memberCount;
        _orgNos[orgId] = orgNo;
        _orgs[orgNo] = OrgRecord({
            id: orgId,
            admin: admin,
            expiresAt: expiresAt,
            level: level,
            status: MemberStatus.Active
        });
        _trackKey(orgNo, admin);
        _setKey(admin, orgNo, KeyRole.Admin);
        emit MemberAdmitted(orgId, orgNo, admin, name, level, evidenceHash, expiresAt);
    }

    function _transition(bytes32 orgId, Action action, bool commit) private {
        uint32 orgNo = _requireKnownOrg(orgId);
        OrgRecord storage org = _orgs[orgNo];
        MemberStatus status = org.status;
        MemberStatus next;
        if (action == Action.SuspendMember && status == MemberStatus.Active) {
            next = MemberStatus.Suspended;
        } else if (action == Action.ReinstateMember && status == MemberStatus.Suspended) {
            next = MemberStatus.Active;
        } else if (action == Action.ExpelMember && status != MemberStatus.Expelled) {
            next = MemberStatus.Expelled;
        } else {
            revert ConsortiumInvalidTransition(orgId, status, action);
        }
        if (!commit) return;
        org.status = next;
        _syncKeys(orgNo);
        if (next == MemberStatus.Suspended) emit MemberSuspended(orgId);
        else if (next == MemberStatus.Active) emit MemberReinstated(orgId);
        else emit MemberExpelled(orgId);
    }

    function _recertify(bytes32 orgId, uint8 level, bytes32 evidenceHash, uint64 expiresAt, bool commit) private {
        uint32 orgNo = _requireKnownOrg(orgId);
        OrgRecord storage org = _orgs[orgNo];
        if (org.status == MemberStatus.Expelled) {
            revert ConsortiumInvalidTransition(orgId, org.status, Action.RecertifyMember);
        }
        _checkCertification(level, expiresAt);
        if (!commit) return;
        org.level = level;
        org.expiresAt = expiresAt;
        _syncKeys(orgNo);
        emit MemberRecertified(orgId, level, evidenceHash, expiresAt);
    }

    function _replaceAdmin(uint32 orgNo, address newAdmin) private {
        _checkNewKey(newAdmin);
        OrgRecord storage org = _orgs[orgNo];
        address previous = org.admin;
        // The old key leaves the live set before the new one joins: a replacement always fits.
        _revokeKey(previous);
        _untrackKey(orgNo, previous);
        _trackKey(orgNo, newAdmin);
        _setKey(newAdmin, orgNo, KeyRole.Admin);
        org.admin = newAdmin;
        emit AdminReplaced(org.id, previous, newAdmin);
    }

    function _setKey(address key, uint32 orgNo, KeyRole role) private {
        OrgRecord storage org = _orgs[orgNo];
        _writeKey(key, KeyRecord({orgNo: orgNo, role: role, status: org.status, expiresAt: org.expiresAt}));
    }

    function _revokeKey(address key) private {
        KeyRecord memory record = _keys[key];
        record.role = KeyRole.None;
        _writeKey(key, record);
    }

    /// Every key record is written here, so the mirrors never miss a change.
    function _writeKey(address key, KeyRecord memory record) private {
        _keys[key] = record;
        for (uint256 i = 0; i < _mirrors.length; i++) {
            IMembershipMirror(_mirrors[i]).syncKey(
                key, _orgs[record.orgNo].id, record.orgNo, record.role, record.status, record.expiresAt
            );
        }
    }

    function _trackKey(uint32 orgNo, address key) private {
        address[] storage keys = _orgKeys[orgNo];
        if (keys.length >= MAX_KEYS_PER_ORG) revert ConsortiumTooManyKeys(_orgs[orgNo].id, MAX_KEYS_PER_ORG);
        keys.push(key);
        _keyIndex[key] = keys.length;
    }

    /// Takes a removed key out of its organisation's live keys (swap with the last, pop).
    function _untrackKey(uint32 orgNo, address key) private {
        address[] storage keys = _orgKeys[orgNo];
        uint256 index = _keyIndex[key] - 1;
        address last = keys[keys.length - 1];
        keys[index] = last;
        _keyIndex[last] = index + 1;
        keys.pop();
        delete _keyIndex[key];
    }

    /// Copies the organisation's status and expiry into each of its live keys' records (a
    /// removed key gets them again when it is added back, see _setKey).
    function _syncKeys(uint32 orgNo) private {
        OrgRecord storage org = _orgs[orgNo];
        address[] storage keys = _orgKeys[orgNo];
        for (uint256 i = 0; i < keys.length; i++) {
            KeyRecord memory record = _keys[keys[i]];
            record.status = org.status;
            record.expiresAt = org.expiresAt;
            _writeKey(keys[i], record);
        }
    }

    function _requireKnownOrg(bytes32 orgId) private view returns (uint32 orgNo) {
        orgNo = _orgNos[orgId];
        if (orgNo == 0) revert ConsortiumUnknownOrg(orgId);
    }

    /// The admin's organisation, which must be active and certified, as for every other
    /// key's action (requireActiveKey).
    function _requireAdmin(address account) private view returns (uint32 orgNo) {
        KeyRecord memory record = _keys[account];
        if (record.role != KeyRole.Admin) revert ConsortiumNotOrgAdmin(account);
        OrgRecord storage org = _orgs[record.orgNo];
        if (org.status != MemberStatus.Active) revert ConsortiumMemberNotActive(org.id, org.status);
        if (org.expiresAt <= block.timestamp) revert ConsortiumCertificationExpired(org.id, org.expiresAt);
        return record.orgNo;
    }

    function _member(uint32 orgNo) private view returns (Member memory) {
        OrgRecord storage org = _orgs[orgNo];
        return Member({
            orgId: org.id,
            orgNo: orgNo,
            admin: org.admin,
            expiresAt: org.expiresAt,
            level: org.level,
            status: org.status
        });
    }

    // ----- internals: roles -----

    function _changeRole(Action action, address account, bool commit) private {
        Role role;
        bool grant;
        if (action == Action.AppointAuditor || action == Action.RemoveAuditor) {
            (role, grant) = (Role.Auditor, action == Action.AppointAuditor);
        } else if (action == Action.AppointArbiter || action == Action.RemoveArbiter) {
            (role, grant) = (Role.Arbiter, action == Action.AppointArbiter);
        } else {
            (role, grant) = (Role.Governor, action == Action.AddGovernor);
        }
        if (grant) {
            if (account == address(0)) revert ConsortiumInvalidAccount(account);
            if (_roles[role].contains(account)) revert ConsortiumRoleAlreadyHeld(role, account);
            // Separation of duties: auditors and arbiters judge members, so they are never a
            // member's key (and a member key never becomes one; see _checkNewKey).
            uint32 holder = _keys[account].orgNo;
            if (role != Role.Governor && holder != 0) revert ConsortiumKeyInUse(account, _orgs[holder].id);
            if (role == Role.Governor && _roles[role].length() >= MAX_GOVERNORS) {
                revert ConsortiumTooManyGovernors(MAX_GOVERNORS);
            }
            if (commit) _grantRole(role, account);
        } else {
            if (!_roles[role].contains(account)) revert ConsortiumRoleNotHeld(role, account);
            uint256 remaining = _roles[role].length() - 1;
            if (role == Role.Governor && remaining == 0) revert ConsortiumLastGovernor(account);
            if (remaining < _thresholds[role]) {
                revert ConsortiumThresholdUnreachable(role, remaining, _thresholds[role]);
            }
            if (commit) {
                _roles[role].remove(account);
                delete _terms[role][account];
                emit RoleRevoked(role, account);
                // A removed governor's witness key stops counting with it.
                if (role == Role.Governor && _witnessKeys[account] != bytes32(0)) _setWitnessKey(account, bytes32(0));
            }
        }
    }

    function _grantRole(Role role, address account) private {
        if (account == address(0)) revert ConsortiumInvalidAccount(account);
        if (!_roles[role].add(account)) revert ConsortiumRoleAlreadyHeld(role, account);
        _terms[role][account] = ++_termCount;
        emit RoleGranted(role, account);
    }

    function _setWitnessKey(address governor, bytes32 key) private {
        bytes32 previous = _witnessKeys[governor];
        if (previous != bytes32(0)) delete _witnessKeyOwners[previous];
        _witnessKeys[governor] = key;
        if (key != bytes32(0)) _witnessKeyOwners[key] = governor;
        emit WitnessKeyChanged(governor, previous, key);
    }

    function _setDisputePeriod(uint64 period) private {
        emit DisputePeriodChanged(_disputePeriod, period);
        _disputePeriod = period;
    }

    function _checkThreshold(Role role, uint256 newThreshold) private view {
        uint256 holders = _roles[role].length();
        if (newThreshold == 0 || newThreshold > holders) revert ConsortiumInvalidThreshold(role, newThreshold, holders);
    }

    function _setThreshold(Role role, uint256 newThreshold) private {
        _checkThreshold(role, newThreshold);
        emit ThresholdChanged(role, _thresholds[role], newThreshold);
        _thresholds[role] = newThreshold;
    }
}
