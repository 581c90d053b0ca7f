// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title IAccessRegistry
/// @notice Licences ("grants") to use a dataset, issued by the organisation holding its
/// operation right: a permission set, a validity window and a salted commitment to the
/// confidential terms (purpose, usage policy, price: docs/licences.md), which only the parties
/// hold. Classification rules: core data cannot
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
    /// @param registration The priority of the dataset's registration it was issued under
    /// (IDataRegistry.Dataset.priority): when a reveal supersedes that registration, the grant
    /// authorises nothing any more.
    struct Grant {
        uint32 grantor;
        uint32 serial;
        uint8 permissions;
        GrantStatus status;
        uint64 validFrom;
        uint64 validUntil;
        uint48 registration;
    }

    /// @notice What a grant carries.
    /// @param grantee The licensee organisation's org id.
    /// @param permissions A bit set of READ, DERIVE, RESHARE, COMMERCIAL.
    /// @param validFrom First second the grant is valid.
    /// @param validUntil Last second the grant is valid.
    /// @param termsCommitment keccak256(salt ‖ RFC 8785 terms document): purpose, usage
    /// policy, price and any free text stay with the parties (event only).
    struct GrantRequest {
        bytes32 root;
        bytes32 grantee;
        uint8 permissions;
        uint64 validFrom;
        uint64 validUntil;
        bytes32 termsCommitment;
    }

    /// @notice The operation right's holder issued (or replaced) a licence.
    event GrantIssued(
        bytes32 indexed root,
        uint32 indexed grantee,
        uint32 indexed grantor,
        uint32 serial,
        uint8 permissions,
        uint64 validFrom,
        uint64 validUntil,
        bytes32 termsCommitment,
        GrantStatus status
    );
    /// @notice An auditor approved the pending grant with this serial.
    event GrantApproved(bytes32 indexed root, uint32 indexed grantee, uint32 serial, address indexed auditor);
    /// @notice An auditor rejected the pending grant with this serial.
    event GrantRejected(bytes32 indexed root, uint32 indexed grantee, uint32 serial, address indexed auditor);
    /// @notice The grantor revoked its grant.
    event GrantRevoked(bytes32 indexed root, uint32 indexed grantee, uint32 serial, uint32 indexed grantor);

    /// @notice Core data cannot be licensed out.
    error AccessRegistryCoreData(bytes32 root);
    /// @notice The caller's organisation does not hold the operation right.
    error AccessRegistryNotOperator(bytes32 root, uint32 orgNo, uint32 operator);
    /// @notice The permission set is empty or has unknown bits.
    error AccessRegistryInvalidPermissions(uint8 permissions);
    /// @notice The validity window is empty or already over.
    error AccessRegistryInvalidWindow(uint64 validFrom, uint64 validUntil);
    /// @notice An organisation cannot license itself.
    error AccessRegistrySelfGrant(bytes32 root, uint32 orgNo);
    /// @notice There is no grant on the dataset to that organisation.
    error AccessRegistryUnknownGrant(bytes32 root, uint32 grantee);
    /// @notice The grant is not pending.
    error AccessRegistryNotPending(bytes32 root, uint32 grantee, GrantStatus status);
    /// @notice The grant is neither active nor pending.
    error AccessRegistryNotActive(bytes32 root, uint32 grantee, GrantStatus status);
    /// @notice The caller is not an auditor.
    error AccessRegistryNotAuditor(address account);
    /// @notice Only the organisation that issued a grant revokes it.
    error AccessRegistryNotGrantor(bytes32 root, uint32 grantee, uint32 orgNo, uint32 grantor);
    /// @notice The auditor's decision names another serial than the current grant's.
    error AccessRegistryWrongSerial(bytes32 root, uint32 grantee, uint32 serial, uint32 currentSerial);
    /// @notice No new licence while a dispute freezes the dataset's operation right.
    error AccessRegistryOperationDisputed(bytes32 root);

    /// @notice Issues (or replaces) the caller's organisation's licence on `request.root` to
    /// `request.grantee`. The caller's organisation must hold the operation right, and no
    /// dispute may freeze it. The grant names the dataset's current registration.
    function grant(GrantRequest calldata request) external;

    /// @notice Approves the pending grant with serial `serial` on important data (auditors
    /// only): a grant replaced since the auditor read it has another serial and is refused.
    function approve(bytes32 root, bytes32 grantee, uint32 serial) external;

    /// @notice Rejects the pending grant with serial `serial` on important data (auditors only).
    function reject(bytes32 root, bytes32 grantee, uint32 serial) external;

    /// @notice Revokes a pending or active grant (a key of the granting organisation).
    function revoke(bytes32 root, bytes32 grantee) external;

    /// @notice The current grant on `root` to member number `grantee` (status None: none).
    function grantOf(bytes32 root, uint32 grantee) external view returns (Grant memory);

    /// @notice Whether organisation `org` may use dataset `root` with every permission in
    /// `permission` at `time`: an active grant issued under the dataset's current registration
    /// whose window covers `time`, held by an organisation that is an active, certified member
    /// now. Never true for core data.
    function isAuthorized(bytes32 root, bytes32 org, uint8 permission, uint64 time) external view returns (bool);

    /// @notice As {isAuthorized}, by member number, for the registration `registration` of
    /// `root` (the caller passes the current one, `IDataRegistry.operatorOf(root)`), without
    /// the membership check; also returns the serial of the grant that decides (0: none).
    function authorization(bytes32 root, uint48 registration, uint32 orgNo, uint8 permission, uint64 time)
        external
        view
        returns (bool authorized, uint32 serial);

    /// @notice For a delivery by a licensee: whether `consumer` may read `root` at `time` (and
    /// under which grant serial), and whether `provider` may reshare it then, both under the
    /// registration `registration` (the current one, passed by the caller).
    function resharedAuthorization(bytes32 root, uint48 registration, uint32 consumer, uint32 provider, uint64 time)
        external
        view
        returns (bool authorized, uint32 serial, bool reshare);
}
