// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IMembership} from "./Common.sol";
import {IAnchorRegistry} from "./IAnchorRegistry.sol";
import {MembershipMirror} from "./MembershipMirror.sol";
import {RFC6962} from "./RFC6962.sol";

/// @title AnchorRegistry
/// @notice See {IAnchorRegistry}.
contract AnchorRegistry is IAnchorRegistry, MembershipMirror {
    /// One anchor per (root, anchoring organisation): a root one organisation anchored first
    /// does not keep another from anchoring it too.
    mapping(bytes32 root => mapping(uint32 orgNo => Anchor)) private _anchors;

    constructor(IMembership consortium_) MembershipMirror(consortium_) {}

    /// @inheritdoc IAnchorRegistry
    function anchor(bytes32 root, uint64 leafCount, bytes32 noteHash) external {
        uint32 orgNo = _requireActiveKey(msg.sender);
        if (leafCount == 0) revert AnchorRegistryInvalidLeafCount(root, leafCount);
        Anchor storage existing = _anchors[root][orgNo];
        if (existing.leafCount != 0) revert AnchorRegistryAlreadyAnchored(root, orgNo, existing.anchoredAt);
        existing.anchoredAt = uint64(block.timestamp);
        existing.blockNumber = uint64(block.number);
        existing.leafCount = leafCount;
        emit Anchored(root, orgNo, leafCount, noteHash);
    }

    /// @inheritdoc IAnchorRegistry
    function verifyInclusion(bytes32 root, uint32 orgNo, bytes32 leaf, uint256 leafIndex, bytes32[] calldata proof)
        external
        view
        returns (uint64 anchoredAt, uint64 blockNumber)
    {
        Anchor memory a = _anchors[root][orgNo];
        if (a.leafCount == 0) revert AnchorRegistryUnknownAnchor(root, orgNo);
        if (leafIndex >= a.leafCount) revert AnchorRegistryIndexOutOfRange(root, leafIndex, a.leafCount);
        if (!RFC6962.verify(RFC6962.leafHash(leaf), leafIndex, a.leafCount, proof, root)) {
            revert AnchorRegistryInvalidProof(root, leaf, leafIndex);
        }
        return (a.anchoredAt, a.blockNumber);
    }

    /// @inheritdoc IAnchorRegistry
    function anchorOf(bytes32 root, uint32 orgNo) external view returns (Anchor memory) {
        return _anchors[root][orgNo];
    }
}
