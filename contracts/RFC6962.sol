// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title RFC6962
/// @notice Merkle tree hashing of RFC 6962 (Certificate Transparency) with SHA-256: a leaf hash
/// is SHA-256(0x00 || data), an inner node SHA-256(0x01 || left || right). Inclusion proofs are
/// verified with the algorithm of RFC 9162, section 2.1.3.2.
library RFC6962 {
    function leafHash(bytes32 data) internal pure returns (bytes32) {
        return sha256(abi.encodePacked(bytes1(0x00), data));
    }

    function nodeHash(bytes32 left, bytes32 right) internal pure returns (bytes32) {
        return sha256(abi.encodePacked(bytes1(0x01), left, right));
    }

    /// @notice Whether `proof` (leaf to root) shows `leaf` (a leaf hash) at `index` in the tree
    /// of `treeSize` leaves whose root is `root`.
    function verify(bytes32 leaf, uint256 index, uint256 treeSize, bytes32[] calldata proof, bytes32 root)
        internal
        pure
        returns (bool)
    {
        if (index >= treeSize) return false;
        uint256 fn = index;
        uint256 sn = treeSize - 1;
        bytes32 r = leaf;
        for (uint256 i = 0; i < proof.length; i++) {
            if (sn == 0) return false;
            if ((fn & 1) == 1 || fn == sn) {
                r = nodeHash(proof[i], r);
                // A left child here: climb while this node is a right child.
                while ((fn & 1) == 0 && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
            } else {
                r = nodeHash(r, proof[i]);
            }
            fn >>= 1;
            sn >>= 1;
        }
        return sn == 0 && r == root;
    }
}
