// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {
    ConsortiumCertificationExpired,
    ConsortiumKeyRevoked,
    ConsortiumMemberNotActive,
    ConsortiumUnknownKey,
    IMembership,
    KeyRole,
    MemberStatus
} from "./Common.sol";
import {IMembershipMirror} from "./IMembershipMirror.sol";

/// @title MembershipMirror
/// @notice Base of every registry contract: a copy of the Consortium's key records, written
/// only by the Consortium (which pushes each change to the contracts bound with
/// `Consortium.bindMirrors`), and the same checks and errors as `Consortium.requireActiveKey`.
abstract contract MembershipMirror is IMembershipMirror {
    /// One slot per key, as in the Consortium.
    struct KeyState {
        uint32 orgNo;
        KeyRole role;
        MemberStatus status;
        uint64 expiresAt;
    }

    IMembership public immutable consortium;

    mapping(address key => KeyState) private _keyStates;
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
        _keyStates[key] = KeyState({orgNo: orgNo, role: role, status: status, expiresAt: expiresAt});
        if (_keyOrgIds[key] != orgId) _keyOrgIds[key] = orgId;
    }

    /// @inheritdoc IMembershipMirror
    function mirroredKey(address key)
        external
        view
        returns (bytes32 orgId, uint32 orgNo, KeyRole role, MemberStatus status, uint64 expiresAt)
    {
        KeyState memory k = _keyStates[key];
        return (_keyOrgIds[key], k.orgNo, k.role, k.status, k.expiresAt);
    }

    /// @dev The member number `key` acts for, or the Consortium's reason why it may not act.
    function _requireActiveKey(address key) internal view returns (uint32 orgNo) {
        KeyState memory k = _keyStates[key];
        orgNo = k.orgNo;
        if (orgNo == 0) revert ConsortiumUnknownKey(key);
        // The organisation's id is read only to explain a refusal.
        if (k.role == KeyRole.None) revert ConsortiumKeyRevoked(key, _keyOrgIds[key]);
        if (k.status != MemberStatus.Active) revert ConsortiumMemberNotActive(_keyOrgIds[key], k.status);
        if (k.expiresAt <= block.timestamp) revert ConsortiumCertificationExpired(_keyOrgIds[key], k.expiresAt);
    }

    /// @dev The org id of the organisation `key` belongs or belonged to (zero: unknown key).
    function _orgIdOfKey(address key) internal view returns (bytes32) {
        return _keyOrgIds[key];
    }
}
