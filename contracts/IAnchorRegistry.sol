// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title IAnchorRegistry
/// @notice Batch anchors: one RFC 6962 Merkle root (SHA-256) over many hashes per transaction,
/// OpenTimestamps-style. Each hash then proves its existence at the anchor's time with an
/// inclusion proof that any RFC 6962 tool can check. Anchors are kept per (root, anchoring
/// organisation): two organisations anchoring the same root each get their own anchor, so
/// anchoring a root that someone else prepared takes nothing from it.
interface IAnchorRegistry {
    /// @notice An anchor as stored: one slot (`leafCount` 0: none).
    struct Anchor {
        uint64 anchoredAt;
        uint64 blockNumber;
        uint64 leafCount;
    }

    /// @notice Organisation `orgNo` anchored `root`, the tree hash over `leafCount` leaves.
    event Anchored(bytes32 indexed root, uint32 orgNo, uint64 leafCount, bytes32 noteHash);

    /// @notice The organisation already anchored this root.
    error AnchorRegistryAlreadyAnchored(bytes32 root, uint32 orgNo, uint64 anchoredAt);
    /// @notice An anchor needs at least one leaf.
    error AnchorRegistryInvalidLeafCount(bytes32 root, uint64 leafCount);
    /// @notice The organisation did not anchor this root.
    error AnchorRegistryUnknownAnchor(bytes32 root, uint32 orgNo);
    /// @notice The leaf index is outside the anchored tree.
    error AnchorRegistryIndexOutOfRange(bytes32 root, uint256 leafIndex, uint64 leafCount);
    /// @notice The audit path does not lead from the leaf to the anchored root.
    error AnchorRegistryInvalidProof(bytes32 root, bytes32 leaf, uint256 leafIndex);

    /// @notice Anchors `root`, the tree hash over `leafCount` leaves, for the caller's organisation.
    /// @param noteHash Optional hash of a note describing the batch (event only).
    function anchor(bytes32 root, uint64 leafCount, bytes32 noteHash) external;

    /// @notice Checks an RFC 6962 inclusion proof of `leaf` (the anchored hash itself; its
    /// leaf hash is SHA-256(0x00 || leaf)) at `leafIndex` against `root` as anchored by
    /// organisation `orgNo`, and returns when (block time and number). Reverts with the reason
    /// when that organisation did not anchor `root` or the proof does not verify.
    /// @param proof The audit path, leaf to root.
    function verifyInclusion(bytes32 root, uint32 orgNo, bytes32 leaf, uint256 leafIndex, bytes32[] calldata proof)
        external
        view
        returns (uint64 anchoredAt, uint64 blockNumber);

    /// @notice Organisation `orgNo`'s anchor of `root` (leafCount 0: not anchored by it).
    function anchorOf(bytes32 root, uint32 orgNo) external view returns (Anchor memory);
}
