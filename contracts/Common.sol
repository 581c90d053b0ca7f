// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @notice Classification grades after MIIT's 2022 data-security measures for the industrial
/// and IT sector: core data cannot be licensed out, grants on important data need an auditor's
/// approval, grants on general data take effect at once.
enum Grade {
    General,
    Important,
    Core
}

/// @notice The three separable data rights of China's data-property framework ("Data 20
/// Articles"): resource holding, processing and use, and product operation (licensing).
enum Right {
    Holding,
    Processing,
    Operation
}

/// @notice Lifecycle of a member organisation.
enum MemberStatus {
    None,
    Active,
    Suspended,
    Expelled
}

/// @notice What a key does for its organisation. `None` marks a key that was removed.
enum KeyRole {
    None,
    Admin,
    Connector
}

/// @notice A key's record, in one slot: everything the check "active key of an active, certified
/// member" reads, which every write of every contract makes. `status` and `expiresAt` copy the
/// organisation's record; the Consortium rewrites them for all of its keys whenever the
/// organisation's status or certification changes, and pushes every record to the mirrors.
struct KeyRecord {
    uint32 orgNo;
    KeyRole role;
    MemberStatus status;
    uint64 expiresAt;
}

// Why a key may not act. The Consortium and every registry contract (through
// MembershipMirror) refuse with these same errors.

/// @notice The key belongs to no member organisation.
error ConsortiumUnknownKey(address key);
/// @notice The key was removed from its organisation.
error ConsortiumKeyRevoked(address key, bytes32 orgId);
/// @notice The key's organisation is suspended or expelled.
error ConsortiumMemberNotActive(bytes32 orgId, MemberStatus status);
/// @notice The key's organisation's certification expired.
error ConsortiumCertificationExpired(bytes32 orgId, uint64 expiresAt);

/// @notice What the registry contracts ask the Consortium.
interface IMembership {
    function requireActiveOrg(bytes32 orgId) external view returns (uint32 orgNo);
    function orgIdOf(uint32 orgNo) external view returns (bytes32);
}
