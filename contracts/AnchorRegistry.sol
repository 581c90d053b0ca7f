// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IMembership} from "./Common.sol";
import {IAnchorRegistry} from "./IAnchorRegistry.sol";
import {MembershipMirror} from "./MembershipMirror.sol";
import {RFC6962} from "./RFC6962.sol";

/// @title AnchorRegistry
/// @notice See {IAnchorRegistry}.
contract AnchorRegistry is IAnchorRegistry, MembershipMirror {
    mapping(bytes32 root => Anchor) private _anchors;

    constructor(IMembership consortium_) MembershipMirror(consortium_) {}

    /// @inheritdoc IAnchorRegistry
    function anchor(bytes32 root, uint64 leafCount, bytes32 noteHash) external {
        uint32 orgNo = _requireActiveKey(msg.sender);
        if (leafCount == 0) revert AnchorRegistryInvalidLeafCount(root, leafCount);
        Anchor storage existing = _anchors[root];
        if (existing.orgNo != 0) revert AnchorRegistryAlreadyAnchored(root, existing.orgNo, existing.anchoredAt);
        _anchors[root] = Anchor({
            orgNo: orgNo,
            anchoredAt: uint64(block.timestamp),
            blockNumber: uint64(block.number),
            leafCount: leafCount
        });
        emit Anchored(root, orgNo, leafCount, noteHash);
    }

    /// @inheritdoc IAnchorRegistry
    function verifyInclusion(bytes32 root, bytes32 leaf, uint256 leafIndex, bytes32[] calldata proof)
        external
        view
        returns (uint32 orgNo, uint64 anchoredAt)
    {
        Anchor memory a = _anchors[root];
        if (a.orgNo == 0) revert AnchorRegistryUnknownAnchor(root);
        if (leafIndex >= a.leafCount) revert AnchorRegistryIndexOutOfRange(root, leafIndex, a.leafCount);
        if (!RFC6962.verify(RFC6962.leafHash(leaf), leafIndex, a.leafCount, proof, root)) {
            revert AnchorRegistryInvalidProof(root, leaf, leafIndex);
        }
        return (a.orgNo, a.anchoredAt);
    }

    /// @inheritdoc IAnchorRegistry
    function anchorOf(bytes32 root) external view returns (Anchor memory) {
        return _anchors[root];
    }
}
