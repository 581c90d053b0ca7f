// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Right} from "./Common.sol";

/// @title IDisputeCourt
/// @notice Disputes over the rights on registered datasets. A member (the claimant) disputes
/// one right on one dataset with the hash of its off-chain evidence; the right is frozen in the
/// DataRegistry while the dispute is open, for the Consortium's dispute period at most. The
/// claimant may prove on chain that it anchored the dataset's content root (AnchorRegistry) in
/// a block before the dataset's registration; the Consortium's arbiters vote, and the first
/// side to reach the arbiters' threshold with live votes (current arbiters, current term)
/// decides: an upheld dispute moves the right to the claimant, a dismissed one leaves it where
/// it is. A dispute not decided within the period lapses; so does one whose claimant is no
/// longer an active, certified member; a dispute about a registration that a reveal
/// superseded is voided. Every step is an event. Organisations appear by member number
/// (`orgNo`, see IConsortium).
interface IDisputeCourt {
    /// @notice Lifecycle of a dispute; `None` marks an id that was never used. `Lapsed`: closed
    /// undecided (its period ended, or its claimant stopped being an active member); `Voided`:
    /// the registration it was about was superseded.
    enum DisputeStatus {
        None,
        Open,
        Upheld,
        Dismissed,
        Lapsed,
        Voided
    }

    /// @notice A dispute as stored: the root, then two slots.
    /// @param respondent The holder of the right when the dispute was opened.
    /// @param priorAnchoredAt The time of the earliest anchor the claimant proved (0: none proven).
    /// @param upholdVotes Live votes to uphold (current arbiters, current term); {dispute}
    /// counts them anew for an open dispute.
    /// @param expiresAt End of the dispute period: no proof or vote from then on, the freeze
    /// lapses, anyone may close the dispute.
    /// @param priorAnchorBlock The block of the earliest anchor the claimant proved (0: none).
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
        uint64 expiresAt;
        uint64 priorAnchorBlock;
    }

    /// @notice A member disputed a right; the right is frozen until the dispute closes or its
    /// period ends.
    event DisputeOpened(
        uint256 indexed disputeId,
        bytes32 indexed root,
        Right indexed right,
        uint32 claimant,
        uint32 respondent,
        bytes32 evidenceHash
    );
    /// @notice The claimant proved that it anchored the dataset's root before its registration.
    event PriorAnchoringProven(uint256 indexed disputeId, bytes32 anchorRoot, uint64 anchoredAt);
    /// @notice An arbiter voted; the counts are the live votes after this one.
    event VoteCast(
        uint256 indexed disputeId, address indexed arbiter, bool uphold, uint16 upholdVotes, uint16 dismissVotes
    );
    /// @notice The arbiters upheld a dispute: the right moved to the claimant.
    event DisputeUpheld(uint256 indexed disputeId, bytes32 indexed root, Right indexed right, uint32 from, uint32 to);
    /// @notice The arbiters dismissed a dispute: the right stays with its holder.
    event DisputeDismissed(
        uint256 indexed disputeId, bytes32 indexed root, Right indexed right, uint32 claimant, uint32 holder
    );
    /// @notice A dispute closed undecided: `Lapsed` or `Voided`.
    event DisputeClosed(uint256 indexed disputeId, bytes32 indexed root, Right indexed right, DisputeStatus status);

    /// @notice No dispute has this id.
    error DisputeCourtUnknownDispute(uint256 disputeId);
    /// @notice The dispute is closed.
    error DisputeCourtDisputeNotOpen(uint256 disputeId, DisputeStatus status);
    /// @notice The claimant holds the right it disputes.
    error DisputeCourtAlreadyHolder(bytes32 root, Right right, uint32 orgNo);
    /// @notice A dispute over the same right is open (and within its period).
    error DisputeCourtAlreadyDisputed(bytes32 root, Right right, uint256 disputeId);
    /// @notice Only the claimant proves anchoring.
    error DisputeCourtNotClaimant(uint256 disputeId, uint32 orgNo, uint32 claimant);
    /// @notice The anchor's block is not before the registration's block.
    error DisputeCourtAnchorNotBeforeRegistration(uint256 disputeId, uint64 anchorBlock, uint64 registrationBlock);
    /// @notice The anchor's block is not before the anchor already proven.
    error DisputeCourtAnchorNotEarlier(uint256 disputeId, uint64 anchorBlock, uint64 priorAnchorBlock);
    /// @notice The caller is not an arbiter now.
    error DisputeCourtNotArbiter(address account);
    /// @notice The arbiter already voted on this dispute in its current term.
    error DisputeCourtAlreadyVoted(uint256 disputeId, address arbiter);
    /// @notice Fewer arbiters sit than the threshold needs: nobody could rule.
    error DisputeCourtNoArbiters(uint256 arbiters, uint256 threshold);
    /// @notice The claimant has as many open disputes as allowed.
    error DisputeCourtTooManyOpenDisputes(uint32 claimant, uint256 openDisputes, uint256 maxOpen);
    /// @notice The dispute's period ended at `expiresAt`: it takes no more proofs or votes.
    error DisputeCourtDisputeExpired(uint256 disputeId, uint64 expiresAt);
    /// @notice The claimant is no longer an active, certified member: its dispute can only be closed.
    error DisputeCourtClaimantNotActive(uint256 disputeId, uint32 claimant);
    /// @notice The dispute is within its period and its claimant active: it cannot be closed yet.
    error DisputeCourtNotClosable(uint256 disputeId, uint64 expiresAt);
    /// @notice Only the DataRegistry voids disputes.
    error DisputeCourtNotDataRegistry(address account);

    /// @notice Opens a dispute over `right` on dataset `root` for the caller's organisation (the
    /// claimant) and freezes the right until the dispute is decided or its period (the
    /// Consortium's `disputePeriod()`, read now) ends. The claimant must not hold the right;
    /// no other dispute over the same right may be open within its period (an expired one is
    /// closed here, `DisputeClosed`); the claimant may have at most MAX_OPEN_DISPUTES open; and
    /// enough arbiters must sit to reach their threshold.
    /// @param evidenceHash Hash of the claimant's off-chain evidence (event only).
    /// @return disputeId The new dispute's id (ids run from 1).
    function open(bytes32 root, Right right, bytes32 evidenceHash) external returns (uint256 disputeId);

    /// @notice Proves that the claimant anchored the disputed dataset's content root before the
    /// dataset's registration: `root` of the dispute must be leaf `leafIndex` of the tree the
    /// claimant's own organisation anchored as `anchorRoot`, in a block strictly before the
    /// dataset's priority block. Only a key of the claimant, while the dispute is open and
    /// within its period; a second proof is accepted only when its anchor's block is earlier.
    /// The AnchorRegistry's refusal of a proof that does not verify is passed on as is.
    /// @param proof The RFC 6962 audit path, leaf to root.
    function proveAnchor(uint256 disputeId, bytes32 anchorRoot, uint256 leafIndex, bytes32[] calldata proof) external;

    /// @notice Casts the caller's vote on an open dispute within its period; only current
    /// Consortium arbiters, once per term, and only while the claimant is an active, certified
    /// member. Votes are then counted over current arbiters in their current term (a removed
    /// arbiter's vote no longer counts). If either side has reached the arbiters' threshold
    /// (read now), the dispute is decided: the voter's own side first. Upheld moves the right
    /// to the claimant; both outcomes unfreeze it.
    /// @param uphold True to uphold the claim, false to dismiss it.
    function vote(uint256 disputeId, bool uphold) external;

    /// @notice Closes an open dispute as `Lapsed` and unfreezes its right; anyone may, once its
    /// period has ended or its claimant is no longer an active, certified member.
    function close(uint256 disputeId) external;

    /// @notice Closes the open disputes about `root` as `Voided` (DataRegistry only, when a
    /// reveal supersedes the registration they were about).
    function voidDisputes(bytes32 root) external;

    /// @notice A dispute, with the live vote counts when it is open; reverts for an unknown id.
    function dispute(uint256 disputeId) external view returns (Dispute memory);

    /// @notice The open dispute over `right` on `root` (0: none; it may have expired).
    function openDisputeOf(bytes32 root, Right right) external view returns (uint256);

    /// @notice How many disputes member `claimant` has open (expired ones count until closed).
    function openDisputesOf(uint32 claimant) external view returns (uint256);

    /// @notice Whether `arbiter` voted on dispute `disputeId` in its current term.
    function hasVoted(uint256 disputeId, address arbiter) external view returns (bool);

    /// @notice Number of disputes ever opened (ids run from 1 to this).
    function disputeCount() external view returns (uint256);

    /// @notice The DataRegistry whose rights this court freezes and awards.
    function dataRegistry() external view returns (address);

    /// @notice The AnchorRegistry that proves prior anchoring.
    function anchorRegistry() external view returns (address);
}
