// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Grade, Right} from "./Common.sol";

/// @title IDataRegistry
/// @notice Datasets registered by content root, with lineage and three separable rights.
/// Organisations appear by member number (`orgNo`, see IConsortium); the metadata document,
/// its URI and the lineage live in events, the contract stores one slot per dataset.
interface IDataRegistry {
    /// @notice A registered dataset as stored: one slot.
    /// @param registeredAt The dataset's priority time: the block time of its registration,
    /// or of its commitment when it was registered by commit and reveal (shown, never compared).
    /// @param priority The dataset's place in the registration order, `block << 16 | index`:
    /// the registration's (or its commitment's) block number and its index among the
    /// registrations and commitments of that block. It strictly increases, so it decides which
    /// of two registrations came first, and it identifies the registration (licences name it).
    /// @param disputed One bit per right (`1 << uint8(right)`) for which a dispute recorded a
    /// freeze; the freeze may have lapsed since (see {isFrozen}).
    struct Dataset {
        uint32 registrant;
        uint32 holding;
        uint32 processing;
        uint32 operation;
        uint64 registeredAt;
        Grade grade;
        uint48 priority;
        uint8 disputed;
    }

    /// @notice What a registration carries.
    /// @param root Content root (RFC 6962 tree hash of the data, see docs/hashing.md).
    /// @param grade Classification grade.
    /// @param metadataHash Salted commitment to the off-chain metadata document.
    /// @param metadataURI Where the metadata document can be fetched (event only).
    /// @param parents Datasets this one is derived from; each must be registered.
    struct RegistrationRequest {
        bytes32 root;
        Grade grade;
        bytes32 metadataHash;
        string metadataURI;
        bytes32[] parents;
    }

    /// @notice One dataset of a batch; the batch's manifest URI stands for the metadata URIs.
    struct BatchItem {
        bytes32 root;
        Grade grade;
        bytes32 metadataHash;
        bytes32[] parents;
    }

    /// @notice A commitment to register a root later (front-running protection).
    /// @param priority The commitment's place in the registration order (see {Dataset}).
    struct Commitment {
        uint32 orgNo;
        uint64 committedAt;
        uint64 blockNumber;
        uint48 priority;
    }

    /// @notice A dataset was registered, with all three rights to its registrant.
    event DatasetRegistered(
        bytes32 indexed root,
        uint32 indexed registrant,
        Grade grade,
        bytes32 metadataHash,
        uint64 registeredAt,
        bytes32[] parents
    );
    /// @notice A registration gave way to an earlier commitment to the same root; its offers,
    /// licences and disputes died with it.
    event RegistrationSuperseded(bytes32 indexed root, uint32 indexed previousRegistrant, uint64 previousRegisteredAt, uint32 indexed registrant);
    /// @notice Where a dataset's metadata document can be fetched.
    event MetadataPublished(bytes32 indexed root, string metadataURI);
    /// @notice A batch of datasets was registered, described by one manifest.
    event BatchRegistered(uint32 indexed registrant, uint256 count, string manifestURI);
    /// @notice An organisation committed to register a root later.
    event RegistrationCommitted(bytes32 indexed commitment, uint32 indexed orgNo, uint64 expiresAt);
    /// @notice A right's holder offered it to another member.
    event RightOffered(bytes32 indexed root, Right indexed right, uint32 indexed from, uint32 to);
    /// @notice The holder withdrew its open offer of a right.
    event RightOfferCancelled(bytes32 indexed root, Right indexed right, uint32 indexed from, uint32 to);
    /// @notice The organisation a right was offered to declined it.
    event RightOfferRejected(bytes32 indexed root, Right indexed right, uint32 indexed from, uint32 to);
    /// @notice A right moved to the member that accepted its offer.
    event RightTransferred(bytes32 indexed root, Right indexed right, uint32 indexed from, uint32 to);

    /// @notice The deployer bound the dispute court.
    event CourtBound(address court);
    /// @notice A dispute froze a right until `until` at the latest.
    event RightFrozen(bytes32 indexed root, Right indexed right, uint256 indexed disputeId, uint64 until);
    /// @notice A dispute closed and its right may move again.
    event RightUnfrozen(bytes32 indexed root, Right indexed right, uint256 indexed disputeId);
    /// @notice An upheld dispute moved a right to its claimant.
    event RightAwarded(bytes32 indexed root, Right indexed right, uint32 from, uint32 to, uint256 indexed disputeId);

    /// @notice The content root is zero.
    error DataRegistryInvalidRoot(bytes32 root);
    /// @notice Only the deployer may bind the court.
    error DataRegistryNotDeployer(address account);
    /// @notice Only the bound dispute court may call a court hook.
    error DataRegistryNotCourt(address account);
    /// @notice The court was bound already.
    error DataRegistryCourtAlreadyBound(address court);
    /// @notice The right is frozen by an open dispute until `frozenUntil`.
    error DataRegistryRightFrozen(bytes32 root, Right right, uint64 frozenUntil);
    /// @notice The root is registered already.
    error DataRegistryAlreadyRegistered(bytes32 root, uint32 registrant, uint64 registeredAt);
    /// @notice No dataset has this root.
    error DataRegistryUnknownDataset(bytes32 root);
    /// @notice A named parent is not registered.
    error DataRegistryUnknownParent(bytes32 root, bytes32 parent);
    /// @notice The dataset names more parents than allowed.
    error DataRegistryTooManyParents(bytes32 root, uint256 count, uint256 maxParents);
    /// @notice A batch is empty or larger than allowed.
    error DataRegistryBatchSize(uint256 count, uint256 maxBatch);
    /// @notice The commitment exists already.
    error DataRegistryAlreadyCommitted(bytes32 commitment, uint32 orgNo);
    /// @notice No such commitment (for this root, organisation and salt).
    error DataRegistryUnknownCommitment(bytes32 commitment);
    /// @notice A commitment is revealed in its own block.
    error DataRegistryRevealTooEarly(bytes32 commitment, uint64 committedBlock);
    /// @notice The commitment expired.
    error DataRegistryCommitmentExpired(bytes32 commitment, uint64 expiredAt);
    /// @notice The caller's organisation does not hold the right.
    error DataRegistryNotRightHolder(bytes32 root, Right right, uint32 orgNo, uint32 holder);
    /// @notice The right is offered to its own holder.
    error DataRegistryAlreadyHolder(bytes32 root, Right right, uint32 orgNo);
    /// @notice There is no open offer of the right.
    error DataRegistryNoOffer(bytes32 root, Right right);
    /// @notice The offer was made to another organisation.
    error DataRegistryNotOfferee(bytes32 root, Right right, uint32 orgNo, uint32 offeredTo);
    /// @notice The registration order cannot number more in this block (`index` needed, at
    /// most 65,535 per block, blocks up to 2^32).
    error DataRegistryOrderExhausted(uint256 blockNumber, uint256 index);

    /// @notice Registers a dataset for the caller's organisation, which receives all three rights.
    function register(RegistrationRequest calldata request) external;

    /// @notice Registers many datasets in one transaction (bulk onboarding).
    /// @param manifestURI Where the batch's metadata documents can be fetched.
    function registerBatch(BatchItem[] calldata items, string calldata manifestURI) external;

    /// @notice Commits to `keccak256(abi.encode(root, orgId, salt))` now, to register later
    /// with the commitment's place in the registration order as priority.
    function commit(bytes32 commitment) external;

    /// @notice Registers a committed dataset: at least one block after the commitment, before
    /// it expires, by a key of the committing organisation. Its priority is the commitment's:
    /// a registration of the same root made after the commitment (even in the same block) is
    /// superseded (RegistrationSuperseded), one made before it wins. Supersession ends the
    /// loser's offers, licences (they name the superseded registration) and disputes, which
    /// the court voids in the same transaction.
    function reveal(RegistrationRequest calldata request, bytes32 salt) external;

    /// @notice Offers one right on a dataset to another member; the caller's organisation must hold it.
    function offerRight(bytes32 root, Right right, bytes32 toOrgId) external;

    /// @notice Accepts an offered right for the caller's organisation.
    function acceptRight(bytes32 root, Right right) external;

    /// @notice Withdraws an open offer (by the holder).
    function cancelOffer(bytes32 root, Right right) external;

    /// @notice Declines an open offer (by the organisation it was made to).
    function rejectOffer(bytes32 root, Right right) external;

    /// @notice Names the dispute court; only the deployer, once.
    function bindCourt(address disputeCourt) external;

    /// @notice Stops `right` on `root` from moving while dispute `disputeId` is open, until
    /// `until` at the latest (court only).
    function freezeRight(bytes32 root, Right right, uint256 disputeId, uint64 until) external;

    /// @notice Lets `right` on `root` move again when dispute `disputeId` closes (court only).
    function unfreezeRight(bytes32 root, Right right, uint256 disputeId) external;

    /// @notice Moves `right` on `root` to the claimant of an upheld dispute (court only).
    function awardRight(bytes32 root, Right right, uint32 toOrgNo, uint256 disputeId) external;

    /// @notice Whether an open dispute freezes `right` on `root` now: a freeze lapses by itself
    /// at the end of the dispute period, whether or not anyone closes the dispute.
    function isFrozen(bytes32 root, Right right) external view returns (bool);

    /// @notice Until when a dispute's freeze of `right` on `root` runs (0: no freeze recorded;
    /// a time in the past: lapsed).
    function frozenUntil(bytes32 root, Right right) external view returns (uint64);

    /// @notice What issuing a licence needs, from the dataset's one slot: the operation right's
    /// holder, the grade, the registration's priority and the disputed bits; reverts for an
    /// unknown root.
    function licensingOf(bytes32 root)
        external
        view
        returns (uint32 operator, Grade grade, uint48 registration, uint8 disputed);

    /// @notice The operation right's holder and the registration's priority (which licences
    /// name); reverts for an unknown root. One slot, for the licence checks of other contracts.
    function operatorOf(bytes32 root) external view returns (uint32 operator, uint48 registration);

    /// @notice The bound dispute court (zero before binding).
    function court() external view returns (address);

    /// @notice A registered dataset; reverts for an unknown root.
    function dataset(bytes32 root) external view returns (Dataset memory);

    /// @notice Whether `root` is registered.
    function isRegistered(bytes32 root) external view returns (bool);

    /// @notice The member number holding `right` on `root` (reverts for an unknown root).
    function holderOf(bytes32 root, Right right) external view returns (uint32);

    /// @notice The member number an open offer of `right` on `root` was made to (0: none).
    function offerOf(bytes32 root, Right right) external view returns (uint32);

    /// @notice A commitment's record (orgNo 0: none).
    function commitmentOf(bytes32 commitment) external view returns (Commitment memory);
}
