// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title IAccessRegistry
/// @notice Licences ("grants") to use a dataset, issued by the organisation holding its
/// operation right: a permission set, a purpose code, a validity window and the hash of the
/// full usage-policy document (ODRL-style, off chain). Classification rules: core data cannot
/// be licensed out; a grant on important data waits for an auditor's approval; a grant on
/// general data is active at once. One grant per (dataset, grantee): a new grant replaces the
/// previous one and gets the next serial number.
interface IAccessRegistry {
    enum GrantStatus {
        None,
        Pending,
        Active,
        Rejected,
        Revoked
    }

    /// @notice A grant as stored: one slot.
    struct Grant {
        uint32 grantor;
        uint32 serial;
        uint8 permissions;
        GrantStatus status;
        uint64 validFrom;
        uint64 validUntil;
    }

    /// @notice What a grant carries.
    /// @param grantee The licensee organisation's org id.
    /// @param permissions A bit set of READ, DERIVE, RESHARE, COMMERCIAL.
    /// @param purpose The purpose code (event only).
    /// @param validFrom First second the grant is valid.
    /// @param validUntil Last second the grant is valid.
    /// @param policyHash Hash of the full usage-policy document (event only).
    struct GrantRequest {
        bytes32 root;
        bytes32 grantee;
        uint8 permissions;
        bytes32 purpose;
        uint64 validFrom;
        uint64 validUntil;
        bytes32 policyHash;
    }

    event GrantIssued(
        bytes32 indexed root,
        uint32 indexed grantee,
        uint32 indexed grantor,
        uint32 serial,
        uint8 permissions,
        bytes32 purpose,
        uint64 validFrom,
        uint64 validUntil,
        bytes32 policyHash,
        GrantStatus status
    );
    event GrantApproved(bytes32 indexed root, uint32 indexed grantee, uint32 serial, address indexed auditor);
    event GrantRejected(bytes32 indexed root, uint32 indexed grantee, uint32 serial, address indexed auditor);
    event GrantRevoked(bytes32 indexed root, uint32 indexed grantee, uint32 serial, uint32 indexed grantor);

    error AccessRegistryCoreData(bytes32 root);
    error AccessRegistryNotOperator(bytes32 root, uint32 orgNo, uint32 operator);
    error AccessRegistryInvalidPermissions(uint8 permissions);
    error AccessRegistryInvalidWindow(uint64 validFrom, uint64 validUntil);
    error AccessRegistrySelfGrant(bytes32 root, uint32 orgNo);
    error AccessRegistryUnknownGrant(bytes32 root, uint32 grantee);
    error AccessRegistryNotPending(bytes32 root, uint32 grantee, GrantStatus status);
    error AccessRegistryNotActive(bytes32 root, uint32 grantee, GrantStatus status);
    error AccessRegistryNotAuditor(address account);
    error AccessRegistryNotGrantor(bytes32 root, uint32 grantee, uint32 orgNo, uint32 grantor);

    /// @notice Issues (or replaces) the caller's organisation's licence on `request.root` to
    /// `request.grantee`. The caller's organisation must hold the operation right.
    function grant(GrantRequest calldata request) external;

    /// @notice Approves a pending grant on important data (auditors only).
    function approve(bytes32 root, bytes32 grantee) external;

    /// @notice Rejects a pending grant on important data (auditors only).
    function reject(bytes32 root, bytes32 grantee) external;

    /// @notice Revokes a pending or active grant (a key of the granting organisation).
    function revoke(bytes32 root, bytes32 grantee) external;

    /// @notice The current grant on `root` to member number `grantee` (status None: none).
    function grantOf(bytes32 root, uint32 grantee) external view returns (Grant memory);

    /// @notice Whether organisation `org` may use dataset `root` with every permission in
    /// `permission` at `time`: an active grant whose window covers `time`, held by an
    /// organisation that is an active, certified member now.
    function isAuthorized(bytes32 root, bytes32 org, uint8 permission, uint64 time) external view returns (bool);

    /// @notice As {isAuthorized}, by member number, also returning the serial of the grant
    /// that decides (0 when there is none).
    function authorization(bytes32 root, uint32 orgNo, uint8 permission, uint64 time)
        external
        view
        returns (bool authorized, uint32 serial);

    /// @notice For a delivery by a licensee: whether `consumer` may read `root` at `time` (and
    /// under which grant serial), and whether `provider` may reshare it then.
    function resharedAuthorization(bytes32 root, uint32 consumer, uint32 provider, uint64 time)
        external
        view
        returns (bool authorized, uint32 serial, bool reshare);
}
