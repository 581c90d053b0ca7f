// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Grade, IMembership, Right} from "./Common.sol";
import {DeployerBinding} from "./DeployerBinding.sol";
import {IDataRegistry} from "./IDataRegistry.sol";
import {IDisputeCourt} from "./IDisputeCourt.sol";
import {MembershipMirror} from "./MembershipMirror.sol";

/// @title DataRegistry
/// @notice Datasets by content root, lineage, and three rights moved by offer and acceptance.
/// See {IDataRegistry}.
contract DataRegistry is IDataRegistry, MembershipMirror, DeployerBinding {
    /// @notice Most datasets in one batch.
    uint256 public constant MAX_BATCH = 500;
    /// @notice Most parents one dataset may name.
    uint256 public constant MAX_PARENTS = 32;
    /// @notice How long a commitment can be revealed.
    uint64 public constant COMMITMENT_TTL = 1 days;

    mapping(bytes32 root => Dataset) private _datasets;
    mapping(bytes32 root => uint32[3]) private _offers;
    mapping(bytes32 commitment => Commitment) private _commitments;
    /// Until when a dispute freezes each right, indexed by `uint8(right)` (one slot per root).
    /// A dataset's `disputed` bits say which entries are set, so that the hot paths read no
    /// more than the dataset's own slot.
    mapping(bytes32 root => uint64[3]) private _frozenUntil;

    /// The order clock: the block of the last registration or commitment and how many were
    /// made in it. A priority is `block << 16 | index in block`, so it strictly increases.
    uint32 private _clockBlock;
    uint16 private _clockCount;

    /// The dispute court, bound once by the deployer; the only caller of the court hooks.
    address private _court;

    modifier onlyCourt() {
        if (msg.sender != _court || _court == address(0)) revert DataRegistryNotCourt(msg.sender);
        _;
    }

    constructor(IMembership consortium_) MembershipMirror(consortium_) {}

    /// @inheritdoc IDataRegistry
    function bindCourt(address disputeCourt) external bindsOnce {
        if (disputeCourt.code.length == 0) revert DataRegistryNotCourt(disputeCourt);
        _court = disputeCourt;
        emit CourtBound(disputeCourt);
    }

    function _refuseNotDeployer(address account) internal pure override {
        revert DataRegistryNotDeployer(account);
    }

    function _refuseIfBound() internal view override {
        if (_court != address(0)) revert DataRegistryCourtAlreadyBound(_court);
    }

    // ----- registration -----

    /// @inheritdoc IDataRegistry
    function register(RegistrationRequest calldata request) external {
        uint32 orgNo = _requireActiveKey(msg.sender);
        _register(
            orgNo, request.root, request.grade, request.metadataHash, request.parents, uint64(block.timestamp), _tick(1)
        );
        if (bytes(request.metadataURI).length != 0) emit MetadataPublished(request.root, request.metadataURI);
    }

    /// @inheritdoc IDataRegistry
    function registerBatch(BatchItem[] calldata items, string calldata manifestURI) external {
        if (items.length == 0 || items.length > MAX_BATCH) revert DataRegistryBatchSize(items.length, MAX_BATCH);
        uint32 orgNo = _requireActiveKey(msg.sender);
        uint64 now_ = uint64(block.timestamp);
        uint48 first = _tick(items.length);
        for (uint256 i = 0; i < items.length; i++) {
            BatchItem calldata item = items[i];
            // At most MAX_BATCH items, and _tick checked the whole range fits in the block.
            _register(orgNo, item.root, item.grade, item.metadataHash, item.parents, now_, first + uint48(i));
        }
        emit BatchRegistered(orgNo, items.length, manifestURI);
    }

    /// @inheritdoc IDataRegistry
    function commit(bytes32 commitment) external {
        uint32 orgNo = _requireActiveKey(msg.sender);
        Commitment memory existing = _commitments[commitment];
        if (existing.orgNo != 0) revert DataRegistryAlreadyCommitted(commitment, existing.orgNo);
        _commitments[commitment] = Commitment({
            orgNo: orgNo,
            committedAt: uint64(block.timestamp),
            blockNumber: uint64(block.number),
            priority: _tick(1)
        });
        emit RegistrationCommitted(commitment, orgNo, uint64(block.timestamp) + COMMITMENT_TTL);
    }

    /// @inheritdoc IDataRegistry
    function reveal(RegistrationRequest calldata request, bytes32 salt) external {
        uint32 orgNo = _requireActiveKey(msg.sender);
        // The commitment binds the organisation: another organisation revealing the same root
        // and salt computes a different commitment, which does not exist.
        bytes32 commitment = keccak256(abi.encode(request.root, consortium.orgIdOf(orgNo), salt));
        Commitment memory c = _commitments[commitment];
        if (c.orgNo == 0) revert DataRegistryUnknownCommitment(commitment);
        if (block.number <= c.blockNumber) revert DataRegistryRevealTooEarly(commitment, c.blockNumber);
        if (block.timestamp > c.committedAt + COMMITMENT_TTL) {
            revert DataRegistryCommitmentExpired(commitment, c.committedAt + COMMITMENT_TTL);
        }
        delete _commitments[commitment];
        Dataset storage existing = _datasets[request.root];
        // Priority is the commitment's place in the order: a registration made after the
        // commitment (for instance by someone who saw the reveal waiting to be mined), even in
        // the same block or second, gives way to it, whatever disputes about it are open.
        if (existing.registrant != 0 && existing.priority > c.priority) {
            emit RegistrationSuperseded(request.root, existing.registrant, existing.registeredAt, orgNo);
            uint8 disputed = existing.disputed;
            delete _datasets[request.root];
            delete _offers[request.root];
            if (disputed != 0) {
                // Disputes were about the superseded registration: the court voids them.
                delete _frozenUntil[request.root];
                IDisputeCourt(_court).voidDisputes(request.root);
            }
        }
        _register(orgNo, request.root, request.grade, request.metadataHash, request.parents, c.committedAt, c.priority);
        if (bytes(request.metadataURI).length != 0) emit MetadataPublished(request.root, request.metadataURI);
    }

    // ----- rights -----

    /// @inheritdoc IDataRegistry
    function offerRight(bytes32 root, Right right, bytes32 toOrgId) external {
        uint32 orgNo = _requireActiveKey(msg.sender);
        _requireHolder(root, right, orgNo);
        _requireNotFrozen(root, right);
        uint32 to = consortium.requireActiveOrg(toOrgId);
        if (to == orgNo) revert DataRegistryAlreadyHolder(root, right, to);
        // A new offer replaces an open one.
        _offers[root][uint8(right)] = to;
        emit RightOffered(root, right, orgNo, to);
    }

    /// @inheritdoc IDataRegistry
    function acceptRight(bytes32 root, Right right) external {
        uint32 orgNo = _requireActiveKey(msg.sender);
        uint32 offeredTo = _requireOffer(root, right);
        if (offeredTo != orgNo) revert DataRegistryNotOfferee(root, right, orgNo, offeredTo);
        _requireNotFrozen(root, right);
        uint32 from = _move(root, right, orgNo);
        emit RightTransferred(root, right, from, orgNo);
    }

    // ----- dispute court hooks -----

    /// @inheritdoc IDataRegistry
    function freezeRight(bytes32 root, Right right, uint256 disputeId, uint64 until) external onlyCourt {
        Dataset storage d = _requireDataset(root);
        d.disputed |= uint8(1 << uint8(right));
        _frozenUntil[root][uint8(right)] = until;
        emit RightFrozen(root, right, disputeId, until);
    }

    /// @inheritdoc IDataRegistry
    function unfreezeRight(bytes32 root, Right right, uint256 disputeId) external onlyCourt {
        Dataset storage d = _requireDataset(root);
        d.disputed &= ~uint8(1 << uint8(right));
        delete _frozenUntil[root][uint8(right)];
        emit RightUnfrozen(root, right, disputeId);
    }

    /// @inheritdoc IDataRegistry
    function awardRight(bytes32 root, Right right, uint32 toOrgNo, uint256 disputeId) external onlyCourt {
        _requireDataset(root);
        uint32 from = _move(root, right, toOrgNo);
        emit RightAwarded(root, right, from, toOrgNo, disputeId);
    }

    /// @inheritdoc IDataRegistry
    function cancelOffer(bytes32 root, Right right) external {
        uint32 orgNo = _requireActiveKey(msg.sender);
        uint32 offeredTo = _requireOffer(root, right);
        _requireHolder(root, right, orgNo);
        delete _offers[root][uint8(right)];
        emit RightOfferCancelled(root, right, orgNo, offeredTo);
    }

    /// @inheritdoc IDataRegistry
    function rejectOffer(bytes32 root, Right right) external {
        uint32 orgNo = _requireActiveKey(msg.sender);
        uint32 offeredTo = _requireOffer(root, right);
        if (offeredTo != orgNo) revert DataRegistryNotOfferee(root, right, orgNo, offeredTo);
        delete _offers[root][uint8(right)];
        emit RightOfferRejected(root, right, _holder(_datasets[root], right), orgNo);
    }

    // ----- views -----

    /// @inheritdoc IDataRegistry
    function dataset(bytes32 root) external view returns (Dataset memory) {
        return _requireDataset(root);
    }

    /// @inheritdoc IDataRegistry
    function isRegistered(bytes32 root) external view returns (bool) {
        return _datasets[root].registrant != 0;
    }

    /// @inheritdoc IDataRegistry
    function holderOf(bytes32 root, Right right) external view returns (uint32) {
        _requireDataset(root);
        return _holder(_datasets[root], right);
    }

    /// @inheritdoc IDataRegistry
    function offerOf(bytes32 root, Right right) external view returns (uint32) {
        return _offers[root][uint8(right)];
    }

    /// @inheritdoc IDataRegistry
    function isFrozen(bytes32 root, Right right) external view returns (bool) {
        return _isFrozen(root, right);
    }

    /// @inheritdoc IDataRegistry
    function frozenUntil(bytes32 root, Right right) external view returns (uint64) {
        return _datasets[root].disputed & uint8(1 << uint8(right)) != 0 ? _frozenUntil[root][uint8(right)] : 0;
    }

    /// @inheritdoc IDataRegistry
    function licensingOf(bytes32 root)
        external
        view
        returns (uint32 operator, Grade grade, uint48 registration, uint8 disputed)
    {
        Dataset storage d = _requireDataset(root);
        return (d.operation, d.grade, d.priority, d.disputed);
    }

    /// @inheritdoc IDataRegistry
    function operatorOf(bytes32 root) external view returns (uint32 operator, uint48 registration) {
        Dataset storage d = _requireDataset(root);
        return (d.operation, d.priority);
    }

    /// @inheritdoc IDataRegistry
    function court() external view returns (address) {
        return _court;
    }

    /// @inheritdoc IDataRegistry
    function commitmentOf(bytes32 commitment) external view returns (Commitment memory) {
        return _commitments[commitment];
    }

    // ----- internals -----

    function _register(
        uint32 orgNo,
        bytes32 root,
        Grade grade,
        bytes32 metadataHash,
        bytes32[] calldata parents,
        uint64 registeredAt,
        uint48 priority
    ) private {
        if (root == bytes32(0)) revert DataRegistryInvalidRoot(root);
        // Reading the slot first costs nothing extra: it makes the write below a warm one.
        Dataset storage d = _datasets[root];
        if (d.registrant != 0) revert DataRegistryAlreadyRegistered(root, d.registrant, d.registeredAt);
        if (parents.length > MAX_PARENTS) revert DataRegistryTooManyParents(root, parents.length, MAX_PARENTS);
        for (uint256 i = 0; i < parents.length; i++) {
            if (_datasets[parents[i]].registrant == 0) revert DataRegistryUnknownParent(root, parents[i]);
        }
        _datasets[root] = Dataset({
            registrant: orgNo,
            holding: orgNo,
            processing: orgNo,
            operation: orgNo,
            registeredAt: registeredAt,
            grade: grade,
            priority: priority,
            disputed: 0
        });
        emit DatasetRegistered(root, orgNo, grade, metadataHash, registeredAt, parents);
    }

    /// Moves a right (clearing any open offer of it) and returns who held it.
    function _move(bytes32 root, Right right, uint32 to) private returns (uint32 from) {
        Dataset storage d = _datasets[root];
        from = _holder(d, right);
        delete _offers[root][uint8(right)];
        if (right == Right.Holding) d.holding = to;
        else if (right == Right.Processing) d.processing = to;
        else d.operation = to;
    }

    /// Takes `count` consecutive priorities from the order clock and returns the first.
    function _tick(uint256 count) private returns (uint48 first) {
        uint256 blockNumber = block.number;
        if (blockNumber > type(uint32).max) revert DataRegistryOrderExhausted(blockNumber, 0);
        uint256 index = _clockBlock == blockNumber ? _clockCount : 0;
        // A block holds far fewer than 65,536 registrations (each costs over 20,000 gas), but
        // the index must never spill into the block number's bits.
        if (index + count > type(uint16).max) revert DataRegistryOrderExhausted(blockNumber, index + count);
        _clockBlock = uint32(blockNumber);
        _clockCount = uint16(index + count);
        return uint48(blockNumber << 16 | index);
    }

    function _isFrozen(bytes32 root, Right right) private view returns (bool) {
        return _datasets[root].disputed & uint8(1 << uint8(right)) != 0
            && block.timestamp < _frozenUntil[root][uint8(right)];
    }

    function _requireNotFrozen(bytes32 root, Right right) private view {
        if (_isFrozen(root, right)) revert DataRegistryRightFrozen(root, right, _frozenUntil[root][uint8(right)]);
    }

    function _requireDataset(bytes32 root) private view returns (Dataset storage d) {
        d = _datasets[root];
        if (d.registrant == 0) revert DataRegistryUnknownDataset(root);
    }

    function _requireHolder(bytes32 root, Right right, uint32 orgNo) private view {
        uint32 holder = _holder(_requireDataset(root), right);
        if (holder != orgNo) revert DataRegistryNotRightHolder(root, right, orgNo, holder);
    }

    function _requireOffer(bytes32 root, Right right) private view returns (uint32 offeredTo) {
        _requireDataset(root);
        offeredTo = _offers[root][uint8(right)];
        if (offeredTo == 0) revert DataRegistryNoOffer(root, right);
    }

    function _holder(Dataset storage d, Right right) private view returns (uint32) {
        if (right == Right.Holding) return d.holding;
        if (right == Right.Processing) return d.processing;
        return d.operation;
    }
}
