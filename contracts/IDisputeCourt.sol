// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Right} from "./Common.sol";

/// @title IDisputeCourt
/// @notice Disputes over the rights on registered datasets. A member (the claimant) disputes
/// one right on one dataset with the hash of its off-chain evidence; the right is frozen in the
/// DataRegistry while the dispute is open. The claimant may prove on chain that it anchored the
/// dataset's content root (AnchorRegistry) before the dataset's registration; the Consortium's
/// arbiters vote, and the first side to reach the arbiters' threshold decides: an upheld
/// dispute moves the right to the claimant, a dismissed one leaves it where it is. Every step
/// is an event. Organisations appear by member number (`orgNo`, see IConsortium).
interface IDisputeCourt {
    /// @notice Lifecycle of a dispute; `None` marks an id that was never used.
    enum DisputeStatus {
        None,
        Open,
        Upheld,
        Dismissed
    }

    /// @notice A dispute as stored: the root, then one slot.
    /// @param respondent The holder of the right when the dispute was opened.
    /// @param priorAnchoredAt The earliest anchoring time the claimant proved (0: none proven).
    struct Dispute {
        bytes32 root;
        Right right;
        DisputeStatus status;
        uint32 claimant;
        uint32 respondent;
        uint64 openedAt;
        uint64 priorAnchoredAt;
        uint16 upholdVotes;
        uint16 dismissVotes;
    }

    event DisputeOpened(
        uint256 indexed disputeId,
        bytes32 indexed root,
        Right indexed right,
        uint32 claimant,
        uint32 respondent,
        bytes32 evidenceHash
    );
    event PriorAnchoringProven(uint256 indexed disputeId, bytes32 anchorRoot, uint64 anchoredAt);
    event VoteCast(
        uint256 indexed disputeId, address indexed arbiter, bool uphold, uint16 upholdVotes, uint16 dismissVotes
    );
    event DisputeUpheld(uint256 indexed disputeId, bytes32 indexed root, Right indexed right, uint32 from, uint32 to);
    event DisputeDismissed(
        uint256 indexed disputeId, bytes32 indexed root, Right indexed right, uint32 claimant, uint32 holder
    );

    error DisputeCourtUnknownDispute(uint256 disputeId);
    error DisputeCourtDisputeNotOpen(uint256 disputeId, DisputeStatus status);
    error DisputeCourtAlreadyHolder(bytes32 root, Right right, uint32 orgNo);
    error DisputeCourtAlreadyDisputed(bytes32 root, Right right, uint256 disputeId);
    error DisputeCourtNotClaimant(uint256 disputeId, uint32 orgNo, uint32 claimant);
    error DisputeCourtAnchorNotClaimants(uint256 disputeId, uint32 anchoredBy, uint32 claimant);
    error DisputeCourtAnchorNotBeforeRegistration(uint256 disputeId, uint64 anchoredAt, uint64 registeredAt);
    error DisputeCourtAnchorNotEarlier(uint256 disputeId, uint64 anchoredAt, uint64 priorAnchoredAt);
    error DisputeCourtNotArbiter(address account);
    error DisputeCourtAlreadyVoted(uint256 disputeId, address arbiter);

    /// @notice Opens a dispute over `right` on dataset `root` for the caller's organisation (the
    /// claimant) and freezes the right until the dispute is decided. The claimant must not hold
    /// the right, and no other dispute over the same right on the same dataset may be open.
    /// @param evidenceHash Hash of the claimant's off-chain evidence (event only).
    /// @return disputeId The new dispute's id (ids run from 1).
    function open(bytes32 root, Right right, bytes32 evidenceHash) external returns (uint256 disputeId);

    /// @notice Proves that the claimant anchored the disputed dataset's content root before the
    /// dataset's registration: `root` of the dispute must be leaf `leafIndex` of the tree
    /// anchored as `anchorRoot` by the claimant's organisation, at a time strictly before the
    /// dataset's priority time. Only a key of the claimant, while the dispute is open; a second
    /// proof is accepted only when its anchor is earlier than the one already proven. The
    /// AnchorRegistry's refusal of a proof that does not verify is passed on as is.
    /// @param proof The RFC 6962 audit path, leaf to root.
    function proveAnchor(uint256 disputeId, bytes32 anchorRoot, uint256 leafIndex, bytes32[] calldata proof) external;

    /// @notice Casts the caller's vote on an open dispute; only Consortium arbiters, once each.
    /// After the vote, if either side has reached the arbiters' threshold (read now), the
    /// dispute is decided: the voter's own side first. Upheld moves the right to the claimant;
    /// both outcomes unfreeze it.
    /// @param uphold True to uphold the claim, false to dismiss it.
    function vote(uint256 disputeId, bool uphold) external;

    /// @notice A dispute; reverts for an unknown id.
    function dispute(uint256 disputeId) external view returns (Dispute memory);

    /// @notice The open dispute over `right` on `root` (0: none).
    function openDisputeOf(bytes32 root, Right right) external view returns (uint256);

    /// @notice Whether `arbiter` voted on dispute `disputeId`.
    function hasVoted(uint256 disputeId, address arbiter) external view returns (bool);

    /// @notice Number of disputes ever opened (ids run from 1 to this).
    function disputeCount() external view returns (uint256);

    /// @notice The DataRegistry whose rights this court freezes and awards.
    function dataRegistry() external view returns (address);

    /// @notice The AnchorRegistry that proves prior anchoring.
    function anchorRegistry() external view returns (address);
}
