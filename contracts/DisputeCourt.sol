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
    IDataRegistry private immutable _dataRegistry;
    IAnchorRegistry private immutable _anchorRegistry;

    mapping(uint256 disputeId => Dispute) private _disputes;
    /// The open dispute per right of each dataset, indexed by `uint8(right)` (0: none).
    mapping(bytes32 root => uint256[3]) private _openDisputes;
    mapping(uint256 disputeId => mapping(address arbiter => bool)) private _voted;
    uint256 private _disputeCount;

    /// @param consortium_ The Consortium: membership (mirrored), arbiters and their threshold.
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
        // Reverts with DataRegistryUnknownDataset for a root that is not registered.
        uint32 holder = _dataRegistry.holderOf(root, right);
        if (holder == claimant) revert DisputeCourtAlreadyHolder(root, right, claimant);
        uint256 pending = _openDisputes[root][uint8(right)];
        if (pending != 0) revert DisputeCourtAlreadyDisputed(root, right, pending);

        disputeId = ++_disputeCount;
        _disputes[disputeId] = Dispute({
            root: root,
            right: right,
            status: DisputeStatus.Open,
            claimant: claimant,
            respondent: holder,
            openedAt: uint64(block.timestamp),
            priorAnchoredAt: 0,
            upholdVotes: 0,
            dismissVotes: 0
        });
        _openDisputes[root][uint8(right)] = disputeId;
        emit DisputeOpened(disputeId, root, right, claimant, holder, evidenceHash);
        _dataRegistry.freezeRight(root, right, disputeId);
    }

    /// @inheritdoc IDisputeCourt
    function proveAnchor(uint256 disputeId, bytes32 anchorRoot, uint256 leafIndex, bytes32[] calldata proof)
        external
    {
        uint32 orgNo = _requireActiveKey(msg.sender);
        Dispute storage d = _requireOpen(disputeId);
        uint32 claimant = d.claimant;
        if (orgNo != claimant) revert DisputeCourtNotClaimant(disputeId, orgNo, claimant);
        // Reverts with the AnchorRegistry's reason when the proof does not verify.
        (uint32 anchoredBy, uint64 anchoredAt) = _anchorRegistry.verifyInclusion(anchorRoot, d.root, leafIndex, proof);
        if (anchoredBy != claimant) revert DisputeCourtAnchorNotClaimants(disputeId, anchoredBy, claimant);
        // Read now rather than at opening: a reveal may have moved the priority time since.
        uint64 registeredAt = _dataRegistry.dataset(d.root).registeredAt;
        if (anchoredAt >= registeredAt) {
            revert DisputeCourtAnchorNotBeforeRegistration(disputeId, anchoredAt, registeredAt);
        }
        uint64 proven = d.priorAnchoredAt;
        // Only an earlier anchor adds anything; refusing the rest keeps the event log meaningful.
        if (proven != 0 && anchoredAt >= proven) revert DisputeCourtAnchorNotEarlier(disputeId, anchoredAt, proven);
        d.priorAnchoredAt = anchoredAt;
        emit PriorAnchoringProven(disputeId, anchorRoot, anchoredAt);
    }

    /// @inheritdoc IDisputeCourt
    function vote(uint256 disputeId, bool uphold) external {
        IConsortium council = IConsortium(address(consortium));
        if (!council.hasRole(IConsortium.Role.Arbiter, msg.sender)) revert DisputeCourtNotArbiter(msg.sender);
        Dispute storage d = _requireOpen(disputeId);
        if (_voted[disputeId][msg.sender]) revert DisputeCourtAlreadyVoted(disputeId, msg.sender);
        _voted[disputeId][msg.sender] = true;
        if (uphold) d.upholdVotes += 1;
        else d.dismissVotes += 1;
        uint16 upholdVotes = d.upholdVotes;
        uint16 dismissVotes = d.dismissVotes;
        emit VoteCast(disputeId, msg.sender, uphold, upholdVotes, dismissVotes);

        // Read at every vote, so that a threshold changed by governance applies to open
        // disputes. Once lowered, both sides may be at it: the deciding vote's side wins.
        uint256 needed = council.threshold(IConsortium.Role.Arbiter);
        bool upheld = upholdVotes >= needed;
        bool dismissed = dismissVotes >= needed;
        if (upheld && (uphold || !dismissed)) _uphold(disputeId, d);
        else if (dismissed) _dismiss(disputeId, d);
    }

    // ----- views -----

    /// @inheritdoc IDisputeCourt
    function dispute(uint256 disputeId) external view returns (Dispute memory) {
        return _requireDispute(disputeId);
    }

    /// @inheritdoc IDisputeCourt
    function openDisputeOf(bytes32 root, Right right) external view returns (uint256) {
        return _openDisputes[root][uint8(right)];
    }

    /// @inheritdoc IDisputeCourt
    function hasVoted(uint256 disputeId, address arbiter) external view returns (bool) {
        return _voted[disputeId][arbiter];
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

    function _uphold(uint256 disputeId, Dispute storage d) private {
        (bytes32 root, Right right, uint32 claimant) = (d.root, d.right, d.claimant);
        _close(d, DisputeStatus.Upheld);
        // Read rather than taken from the dispute: what the registry moves is the current holding.
        uint32 from = _dataRegistry.holderOf(root, right);
        emit DisputeUpheld(disputeId, root, right, from, claimant);
        _dataRegistry.awardRight(root, right, claimant, disputeId);
        _dataRegistry.unfreezeRight(root, right, disputeId);
    }

    function _dismiss(uint256 disputeId, Dispute storage d) private {
        (bytes32 root, Right right) = (d.root, d.right);
        _close(d, DisputeStatus.Dismissed);
        emit DisputeDismissed(disputeId, root, right, d.claimant, _dataRegistry.holderOf(root, right));
        _dataRegistry.unfreezeRight(root, right, disputeId);
    }

    function _close(Dispute storage d, DisputeStatus status) private {
        d.status = status;
        delete _openDisputes[d.root][uint8(d.right)];
    }

    function _requireDispute(uint256 disputeId) private view returns (Dispute storage d) {
        d = _disputes[disputeId];
        if (d.status == DisputeStatus.None) revert DisputeCourtUnknownDispute(disputeId);
    }

    function _requireOpen(uint256 disputeId) private view returns (Dispute storage d) {
        d = _requireDispute(disputeId);
        if (d.status != DisputeStatus.Open) revert DisputeCourtDisputeNotOpen(disputeId, d.status);
    }
}
