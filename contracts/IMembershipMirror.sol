// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {KeyRole, MemberStatus} from "./Common.sol";

/// @title IMembershipMirror
/// @notice A registry contract's copy of the Consortium's key records, kept current by the
/// Consortium itself, so that checking "active key of an active, certified member" on every
/// write is one local storage read instead of a call to another contract.
interface IMembershipMirror {
    /// @notice Only the Consortium writes the mirrored key records.
    error MembershipMirrorNotConsortium(address caller);

    /// @notice Records the current state of `key`; only the Consortium may call it.
    function syncKey(address key, bytes32 orgId, uint32 orgNo, KeyRole role, MemberStatus status, uint64 expiresAt)
        external;

    /// @notice This contract's copy of `key`'s record.
    function mirroredKey(address key)
        external
        view
        returns (bytes32 orgId, uint32 orgNo, KeyRole role, MemberStatus status, uint64 expiresAt);
}
