// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IMembership, KeyRecord, KeyRole, MemberStatus} from "./Common.sol";
import {IMembershipMirror} from "./IMembershipMirror.sol";
import {KeyRecords} from "./KeyRecords.sol";

/// @title MembershipMirror
/// @notice Base of every registry contract: a copy of the Consortium's key records, written
/// only by the Consortium (which pushes each change to the contracts bound with
/// `Consortium.bindMirrors`), checked as the Consortium checks them (KeyRecords).
abstract contract MembershipMirror is IMembershipMirror, KeyRecords {
    IMembership public immutable consortium;

    /// A key's organisation never changes; kept apart so the hot check reads one slot.
    mapping(address key => bytes32) private _keyOrgIds;

    constructor(IMembership consortium_) {
        consortium = consortium_;
    }

    /// @inheritdoc IMembershipMirror
    function syncKey(address key, bytes32 orgId, uint32 orgNo, KeyRole role, MemberStatus status, uint64 expiresAt)
        external
    {
        if (msg.sender != address(consortium)) revert MembershipMirrorNotConsortium(msg.sender);
        _keys[key] = KeyRecord({orgNo: orgNo, role: role, status: status, expiresAt: expiresAt});
        if (_keyOrgIds[key] != orgId) _keyOrgIds[key] = orgId;
    }

    /// @inheritdoc IMembershipMirror
    function mirroredKey(address key)
        external
        view
        returns (bytes32 orgId, uint32 orgNo, KeyRole role, MemberStatus status, uint64 expiresAt)
    {
        KeyRecord memory k = _keys[key];
        return (_keyOrgIds[key], k.orgNo, k.role, k.status, k.expiresAt);
    }

    /// @dev The org id of the organisation `key` belongs or belonged to (zero: unknown key).
    function _orgIdOfKey(address key) internal view returns (bytes32) {
        return _keyOrgIds[key];
    }

    function _refusedKeyOrgId(address key) internal view override returns (bytes32) {
        return _keyOrgIds[key];
    }
}
