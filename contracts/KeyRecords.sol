// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {
    ConsortiumCertificationExpired,
    ConsortiumKeyRevoked,
    ConsortiumMemberNotActive,
    ConsortiumUnknownKey,
    KeyRecord,
    KeyRole,
    MemberStatus
} from "./Common.sol";

/// @title KeyRecords
/// @notice The key records and the one check of "active key of an active, certified member",
/// shared by the Consortium (which owns the records) and MembershipMirror (each registry
/// contract's copy), so both refuse a key for the same reasons with the same errors.
abstract contract KeyRecords {
    mapping(address key => KeyRecord) internal _keys;

    /// @dev The member number `key` acts for, or the reason why it may not act.
    function _requireActiveKey(address key) internal view returns (uint32 orgNo) {
        KeyRecord memory record = _keys[key];
        orgNo = record.orgNo;
        if (orgNo == 0) revert ConsortiumUnknownKey(key);
        // The organisation's id is read only to explain a refusal.
        if (record.role == KeyRole.None) revert ConsortiumKeyRevoked(key, _refusedKeyOrgId(key));
        if (record.status != MemberStatus.Active) {
            revert ConsortiumMemberNotActive(_refusedKeyOrgId(key), record.status);
        }
        if (record.expiresAt <= block.timestamp) {
            revert ConsortiumCertificationExpired(_refusedKeyOrgId(key), record.expiresAt);
        }
    }

    /// @dev The id of organisation `orgNo`, which `key` belongs or belonged to, for a refusal's
    /// error; each side reads it from where it keeps it.
    function _refusedKeyOrgId(address key) internal view virtual returns (bytes32);
}
