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
    /// or of its commitment when it was registered by commit and reveal.
    struct Dataset {
        uint32 registrant;
        uint32 holding;
        uint32 processing;
        uint32 operation;
        uint64 registeredAt;
        Grade grade;
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
    struct Commitment {
        uint32 orgNo;
        uint64 committedAt;
        uint64 blockNumber;
    }

    event DatasetRegistered(
        bytes32 indexed root,
        uint32 indexed registrant,
        Grade grade,
        bytes32 metadataHash,
        uint64 registeredAt,
        bytes32[] parents
    );
    /// @notice A registration gave way to an earlier commitment to the same root.
    event RegistrationSuperseded(bytes32 indexed root, uint32 indexed previousRegistrant, uint64 previousRegisteredAt, uint32 indexed registrant);
    event MetadataPublished(bytes32 indexed root, string metadataURI);
    event BatchRegistered(uint32 indexed registrant, uint256 count, string manifestURI);
    event RegistrationCommitted(bytes32 indexed commitment, uint32 indexed orgNo, uint64 expiresAt);
    event RightOffered(bytes32 indexed root, Right indexed right, uint32 indexed from, uint32 to);
    event RightOfferCancelled(bytes32 indexed root, Right indexed right, uint32 indexed from, uint32 to);
    event RightOfferRejected(bytes32 indexed root, Right indexed right, uint32 indexed from, uint32 to);
    event RightTransferred(bytes32 indexed root, Right indexed right, uint32 indexed from, uint32 to);

    event CourtBound(address court);
    event RightFrozen(bytes32 indexed root, Right indexed right, uint256 indexed disputeId);
    event RightUnfrozen(bytes32 indexed root, Right indexed right, uint256 indexed disputeId);
    event RightAwarded(bytes32 indexed root, Right indexed right, uint32 from, uint32 to, uint256 indexed disputeId);

    error DataRegistryInvalidRoot(bytes32 root);
    error DataRegistryNotDeployer(address account);
    error DataRegistryNotCourt(address account);
    error DataRegistryCourtAlreadyBound(address court);
    error DataRegistryRightFrozen(bytes32 root, Right right);
    error DataRegistryAlreadyRegistered(bytes32 root, uint32 registrant, uint64 registeredAt);
    error DataRegistryUnknownDataset(bytes32 root);
    error DataRegistryUnknownParent(bytes32 root, bytes32 parent);
    error DataRegistryTooManyParents(bytes32 root, uint256 count, uint256 maxParents);
    error DataRegistryBatchSize(uint256 count, uint256 maxBatch);
    error DataRegistryAlreadyCommitted(bytes32 commitment, uint32 orgNo);
    error DataRegistryUnknownCommitment(bytes32 commitment);
    error DataRegistryRevealTooEarly(bytes32 commitment, uint64 committedBlock);
    error DataRegistryCommitmentExpired(bytes32 commitment, uint64 expiredAt);
    error DataRegistryNotRightHolder(bytes32 root, Right right, uint32 orgNo, uint32 holder);
    error DataRegistryAlreadyHolder(bytes32 root, Right right, uint32 orgNo);
    error DataRegistryNoOffer(bytes32 root, Right right);
    error DataRegistryNotOfferee(bytes32 root, Right right, uint32 orgNo, uint32 offeredTo);

    /// @notice Registers a dataset for the caller's organisation, which receives all three rights.
    function register(RegistrationRequest calldata request) external;

    /// @notice Registers many datasets in one transaction (bulk onboarding).
    /// @param manifestURI Where the batch's metadata documents can be fetched.
    function registerBatch(BatchItem[] calldata items, string calldata manifestURI) external;

    /// @notice Commits to `keccak256(abi.encode(root, orgId, salt))` now, to register later
    /// with the commitment's block time as priority.
    function commit(bytes32 commitment) external;

    /// @notice Registers a committed dataset: at least one block after the commitment, before
    /// it expires, by a key of the committing organisation. Its priority time is the
    /// commitment's: a registration of the same root made after the commitment is superseded
    /// (RegistrationSuperseded), one made before it wins; while a dispute about the
    /// registration is open, the reveal waits (DataRegistryRightFrozen).
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

    /// @notice Stops `right` on `root` from moving while dispute `disputeId` is open (court only).
    function freezeRight(bytes32 root, Right right, uint256 disputeId) external;

    /// @notice Lets `right` on `root` move again when dispute `disputeId` closes (court only).
    function unfreezeRight(bytes32 root, Right right, uint256 disputeId) external;

    /// @notice Moves `right` on `root` to the claimant of an upheld dispute (court only).
    function awardRight(bytes32 root, Right right, uint32 toOrgNo, uint256 disputeId) external;

    /// @notice Whether an open dispute freezes `right` on `root`.
    function isFrozen(bytes32 root, Right right) external view returns (bool);

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
