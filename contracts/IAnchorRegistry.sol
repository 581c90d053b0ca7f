// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title IAnchorRegistry
/// @notice Batch anchors: one RFC 6962 Merkle root (SHA-256) over many hashes per transaction,
/// OpenTimestamps-style. Each hash then proves its existence at the anchor's time with an
/// inclusion proof that any RFC 6962 tool can check.
interface IAnchorRegistry {
    /// @notice An anchor as stored: one slot.
    struct Anchor {
        uint32 orgNo;
        uint64 anchoredAt;
        uint64 blockNumber;
        uint64 leafCount;
    }

    event Anchored(bytes32 indexed root, uint32 orgNo, uint64 leafCount, bytes32 noteHash);

    error AnchorRegistryAlreadyAnchored(bytes32 root, uint32 orgNo, uint64 anchoredAt);
    error AnchorRegistryInvalidLeafCount(bytes32 root, uint64 leafCount);
    error AnchorRegistryUnknownAnchor(bytes32 root);
    error AnchorRegistryIndexOutOfRange(bytes32 root, uint256 leafIndex, uint64 leafCount);
    error AnchorRegistryInvalidProof(bytes32 root, bytes32 leaf, uint256 leafIndex);

    /// @notice Anchors `root`, the tree hash over `leafCount` leaves, for the caller's organisation.
    /// @param noteHash Optional hash of a note describing the batch (event only).
    function anchor(bytes32 root, uint64 leafCount, bytes32 noteHash) external;

    /// @notice Checks an RFC 6962 inclusion proof of `leaf` (the anchored hash itself; its
    /// leaf hash is SHA-256(0x00 || leaf)) at `leafIndex` against the anchored `root`, and
    /// returns who anchored it and when. Reverts with the reason when it does not verify.
    /// @param proof The audit path, leaf to root.
    function verifyInclusion(bytes32 root, bytes32 leaf, uint256 leafIndex, bytes32[] calldata proof)
        external
        view
        returns (uint32 orgNo, uint64 anchoredAt);

    /// @notice The anchor of `root` (orgNo 0: not anchored).
    function anchorOf(bytes32 root) external view returns (Anchor memory);
}
