// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IMembership, Right} from "./Common.sol";
import {IAnchorRegistry} from "./IAnchorRegistry.sol";
import {IConsortium} from "./IConsortium.sol";
import {IDataRegistry} from "./IDataRegistry.sol";
import {IDisputeCourt} from "./IDisputeCourt.sol";
import {MembershipMirror} from "./MembershipMirror.sol";

/// @title DisputeCourt
/// @notice Disputes over dataset rights, decided by the Consortium's arbiters. See {IDisputeCourt}.
contract DisputeCourt is IDisputeCourt, MembershipMirror {
    /// @notice Most disputes one claimant may have open at a time.
    uint256 public constant MAX_OPEN_DISPUTES = 5;

    /// An arbiter's vote, with the term (see IConsortium.roleTerm) it was cast in.
    struct Ballot {
        uint64 term;
        bool uphold;
    }

    IDataRegistry private immutable _dataRegistry;
    IAnchorRegistry private immutable _anchorRegistry;

    mapping(uint256 disputeId => Dispute) private _disputes;
    /// The open dispute per right of each dataset, indexed by `uint8(right)` (0: none).
    mapping(bytes32 root => uint256[3]) private _openDisputes;
    mapping(uint256 disputeId => mapping(address arbiter => Ballot)) private _ballots;
    mapping(uint32 claimant => uint256) private _openCounts;
    uint256 private _disputeCount;

    /// @param consortium_ The Consortium: membership (mirrored), arbiters, their threshold and
    /// the dispute period.
    /// @param dataRegistry_ The DataRegistry that binds this court (`bindCourt`).
    /// @param anchorRegistry_ The AnchorRegistry whose anchors prove prior anchoring.
    constructor(IMembership consortium_, IDataRegistry dataRegistry_, IAnchorRegistry anchorRegistry_)
        MembershipMirror(consortium_)
    {
        _dataRegistry = dataRegistry_;
        _anchorRegistry = anchorRegistry_;
    }

    // ----- writes -----

    /// @inheritdoc IDisputeCourt
    function open(bytes32 root, Right right, bytes32 evidenceHash) external returns (uint256 disputeId) {
        uint32 claimant = _requireActiveKey(msg.sender);
        IConsortium council = _council();
        uint256 arbiters = council.roleHolders(IConsortium.Role.Arbiter).length;
        uint256 needed = council.threshold(IConsortium.Role.Arbiter);
        if (arbiters < needed) revert DisputeCourtNoArbiters(arbiters, needed);
        // Reverts with DataRegistryUnknownDataset for a root that is not registered.
        uint32 holder = _dataRegistry.holderOf(root, right);
        if (holder == claimant) revert DisputeCourtAlreadyHolder(root, right, claimant);
        uint256 pending = _openDisputes[root][uint8(right)];
        if (pending != 0) {
            Dispute storage p = _disputes[pending];
            if (block.timestamp < p.expiresAt) revert DisputeCourtAlreadyDisputed(root, right, pending);
            // An expired dispute gives way: it is closed here rather than waiting for someone to.
            _lapse(pending, p);
        }
        uint256 openCount = _openCounts[claimant];
        if (openCount >= MAX_OPEN_DISPUTES) {
            revert DisputeCourtTooManyOpenDisputes(claimant, openCount, MAX_OPEN_DISPUTES);
        }
        _openCounts[claimant] = openCount + 1;

        disputeId = ++_disputeCount;
        uint64 expiresAt = uint64(block.timestamp) + council.disputePeriod();
        _disputes[disputeId] = Dispute({
            root: root,
            right: right,
            status: DisputeStatus.Open,
            claimant: claimant,
            respondent: holder,
            openedAt: uint64(block.timestamp),
            priorAnchoredAt: 0,
            upholdVotes: 0,
            dismissVotes: 0,
            expiresAt: expiresAt,
            priorAnchorBlock: 0
        });
        _openDisputes[root][uint8(right)] = disputeId;
        emit DisputeOpened(disputeId, root, right, claimant, holder, evidenceHash);
        _dataRegistry.freezeRight(root, right, disputeId, expiresAt);
    }

    /// @inheritdoc IDisputeCourt
    function proveAnchor(uint256 disputeId, bytes32 anchorRoot, uint256 leafIndex, bytes32[] calldata proof)
        external
    {
        uint32 orgNo = _requireActiveKey(msg.sender);
        Dispute storage d = _requireLive(disputeId);
        uint32 claimant = d.claimant;
        if (orgNo != claimant) revert DisputeCourtNotClaimant(disputeId, orgNo, claimant);
        // The claimant's own anchor of `anchorRoot`: another organisation's anchor of the same
        // root is another record. Reverts with the AnchorRegistry's reason when it does not verify.
        (uint64 anchoredAt, uint64 anchorBlock) =
            _anchorRegistry.verifyInclusion(anchorRoot, claimant, d.root, leafIndex, proof);
        // Read now rather than at opening: a reveal may have moved the priority since. Blocks,
        // not times: blocks can share a timestamp, and an anchor in the registration's own block
        // is not proven to be earlier (the EVM cannot see the order across two contracts).
        uint64 registrationBlock = uint64(_dataRegistry.dataset(d.root).priority >> 16);
        if (anchorBlock >= registrationBlock) {
            revert DisputeCourtAnchorNotBeforeRegistration(disputeId, anchorBlock, registrationBlock);
        }
        uint64 proven = d.priorAnchorBlock;
        // Only an earlier anchor adds anything; refusing the rest keeps the event log meaningful.
        if (proven != 0 && anchorBlock >= proven) revert DisputeCourtAnchorNotEarlier(disputeId, anchorBlock, proven);
        d.priorAnchoredAt = anchoredAt;
        d.priorAnchorBlock = anchorBlock;
        emit PriorAnchoringProven(disputeId, anchorRoot, anchoredAt);
    }

    /// @inheritdoc IDisputeCourt
    function vote(uint256 disputeId, bool uphold) external {
        IConsortium council = _council();
        (address[] memory arbiters, uint64[] memory terms) = council.roleTerms(IConsortium.Role.Arbiter);
        uint64 term = _termOf(arbiters, terms, msg.sender);
        if (term == 0) revert DisputeCourtNotArbiter(msg.sender);
        Dispute storage d = _requireLive(disputeId);
        // A right is never awarded to an organisation that is not an active, certified member.
        if (!council.isActiveOrg(d.claimant)) revert DisputeCourtClaimantNotActive(disputeId, d.claimant);
        Ballot storage ballot = _ballots[disputeId][msg.sender];
        if (ballot.term == term) revert DisputeCourtAlreadyVoted(disputeId, msg.sender);
        ballot.term = term;
        ballot.uphold = uphold;
        (uint16 upholdVotes, uint16 dismissVotes) = _count(disputeId, arbiters, terms);
        d.upholdVotes = upholdVotes;
        d.dismissVotes = dismissVotes;
        emit VoteCast(disputeId, msg.sender, uphold, upholdVotes, dismissVotes);

        // Read at every vote, so that a threshold changed by governance applies to open
        // disputes. Once lowered, both sides may be at it: the deciding vote's side wins.
        uint256 needed = council.threshold(IConsortium.Role.Arbiter);
        bool upheld = upholdVotes >= needed;
        bool dismissed = dismissVotes >= needed;
        if (upheld && (uphold || !dismissed)) _uphold(disputeId, d);
        else if (dismissed) _dismiss(disputeId, d);
    }

    /// @inheritdoc IDisputeCourt
    function close(uint256 disputeId) external {
        Dispute storage d = _requireOpen(disputeId);
        if (block.timestamp < d.expiresAt && _council().isActiveOrg(d.claimant)) {
            revert DisputeCourtNotClosable(disputeId, d.expiresAt);
        }
        _lapse(disputeId, d);
    }

    /// @inheritdoc IDisputeCourt
    function voidDisputes(bytes32 root) external {
        if (msg.sender != address(_dataRegistry)) revert DisputeCourtNotDataRegistry(msg.sender);
        for (uint256 r = 0; r < 3; r++) {
            uint256 disputeId = _openDisputes[root][r];
            // The registry cleared its own freezes: closing here unfreezes nothing.
            if (disputeId != 0) _close(disputeId, _disputes[disputeId], DisputeStatus.Voided);
        }
    }

    // ----- views -----

    /// @inheritdoc IDisputeCourt
    function dispute(uint256 disputeId) external view returns (Dispute memory d) {
        d = _requireDispute(disputeId);
        if (d.status == DisputeStatus.Open) {
            (address[] memory arbiters, uint64[] memory terms) = _council().roleTerms(IConsortium.Role.Arbiter);
            (d.upholdVotes, d.dismissVotes) = _count(disputeId, arbiters, terms);
        }
    }

    /// @inheritdoc IDisputeCourt
    function openDisputeOf(bytes32 root, Right right) external view returns (uint256) {
        return _openDisputes[root][uint8(right)];
    }

    /// @inheritdoc IDisputeCourt
    function openDisputesOf(uint32 claimant) external view returns (uint256) {
        return _openCounts[claimant];
    }

    /// @inheritdoc IDisputeCourt
    function hasVoted(uint256 disputeId, address arbiter) external view returns (bool) {
        uint64 term = _council().roleTerm(IConsortium.Role.Arbiter, arbiter);
        return term != 0 && _ballots[disputeId][arbiter].term == term;
    }

    /// @inheritdoc IDisputeCourt
    function disputeCount() external view returns (uint256) {
        return _disputeCount;
    }

    /// @inheritdoc IDisputeCourt
    function dataRegistry() external view returns (address) {
        return address(_dataRegistry);
    }

    /// @inheritdoc IDisputeCourt
    function anchorRegistry() external view returns (address) {
        return address(_anchorRegistry);
    }

    // ----- internals -----

    function _council() private view returns (IConsortium) {
        return IConsortium(address(consortium));
    }

    /// The live votes: those of current arbiters, cast in their current term.
    function _count(uint256 disputeId, address[] memory arbiters, uint64[] memory terms)
        private
        view
        returns (uint16 upholdVotes, uint16 dismissVotes)
    {
        for (uint256 i = 0; i < arbiters.length; i++) {
            Ballot memory ballot = _ballots[disputeId][arbiters[i]];
            if (ballot.term != terms[i]) continue;
            if (ballot.uphold) upholdVotes++;
            else dismissVotes++;
        }
    }

    function _termOf(address[] memory arbiters, uint64[] memory terms, address account) private pure returns (uint64) {
        for (uint256 i = 0; i < arbiters.length; i++) {
            if (arbiters[i] == account) return terms[i];
        }
        return 0;
    }

    function _uphold(uint256 disputeId, Dispute storage d) private {
        (bytes32 root, Right right, uint32 claimant) = (d.root, d.right, d.claimant);
        _close(disputeId, d, DisputeStatus.Upheld);
        // Read rather than taken from the dispute: what the registry moves is the current holding.
        uint32 from = _dataRegistry.holderOf(root, right);
        emit DisputeUpheld(disputeId, root, right, from, claimant);
        _dataRegistry.awardRight(root, right, claimant, disputeId);
        _dataRegistry.unfreezeRight(root, right, disputeId);
    }

    function _dismiss(uint256 disputeId, Dispute storage d) private {
        (bytes32 root, Right right) = (d.root, d.right);
        _close(disputeId, d, DisputeStatus.Dismissed);
        emit DisputeDismissed(disputeId, root, right, d.claimant, _dataRegistry.holderOf(root, right));
        _dataRegistry.unfreezeRight(root, right, disputeId);
    }

    function _lapse(uint256 disputeId, Dispute storage d) private {
        _close(disputeId, d, DisputeStatus.Lapsed);
        _dataRegistry.unfreezeRight(d.root, d.right, disputeId);
    }

    function _close(uint256 disputeId, Dispute storage d, DisputeStatus status) private {
        d.status = status;
        delete _openDisputes[d.root][uint8(d.right)];
        // Never below zero: every open dispute counted one when it was opened.
        _openCounts[d.claimant] -= 1;
        if (status == DisputeStatus.Lapsed || status == DisputeStatus.Voided) {
            emit DisputeClosed(disputeId, d.root, d.right, status);
        }
    }

    function _requireDispute(uint256 disputeId) private view returns (Dispute storage d) {
        d = _disputes[disputeId];
        if (d.status == DisputeStatus.None) revert DisputeCourtUnknownDispute(disputeId);
    }

    function _requireOpen(uint256 disputeId) private view returns (Dispute storage d) {
        d = _requireDispute(disputeId);
        if (d.status != DisputeStatus.Open) revert DisputeCourtDisputeNotOpen(disputeId, d.status);
    }

    /// An open dispute within its period: it may still take proofs and votes.
    function _requireLive(uint256 disputeId) private view returns (Dispute storage d) {
        d = _requireOpen(disputeId);
        if (block.timestamp >= d.expiresAt) revert DisputeCourtDisputeExpired(disputeId, d.expiresAt);
    }
}
