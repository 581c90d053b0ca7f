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

    constructor(IMembership consortium_) {
        consortium = consortium_;
    }

    /// @inheritdoc IMembershipMirror
    function syncKey(address key, uint32 orgNo, KeyRole role, MemberStatus status, uint64 expiresAt) external {
        if (msg.sender != address(consortium)) revert MembershipMirrorNotConsortium(msg.sender);
        _keyStates[key] = KeyState({orgNo: orgNo, role: role, status: status, expiresAt: expiresAt});
    }

    /// @inheritdoc IMembershipMirror
    function mirroredKey(address key)
        external
        view
        returns (uint32 orgNo, KeyRole role, MemberStatus status, uint64 expiresAt)
    {
        KeyState memory k = _keyStates[key];
        return (k.orgNo, k.role, k.status, k.expiresAt);
    }

    /// @dev The member number `key` acts for, or the Consortium's reason why it may not act.
    function _requireActiveKey(address key) internal view returns (uint32 orgNo) {
        KeyState memory k = _keyStates[key];
        orgNo = k.orgNo;
        if (orgNo == 0) revert ConsortiumUnknownKey(key);
        // The organisation's id is fetched only to explain a refusal.
        if (k.role == KeyRole.None) revert ConsortiumKeyRevoked(key, consortium.orgIdOf(orgNo));
        if (k.status != MemberStatus.Active) revert ConsortiumMemberNotActive(consortium.orgIdOf(orgNo), k.status);
        if (k.expiresAt <= block.timestamp) {
            revert ConsortiumCertificationExpired(consortium.orgIdOf(orgNo), k.expiresAt);
        }
    }
}
