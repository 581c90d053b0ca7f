// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Grade, IMembership, Right} from "./Common.sol";
import {IAccessRegistry} from "./IAccessRegistry.sol";
import {IConsortium} from "./IConsortium.sol";
import {IDataRegistry} from "./IDataRegistry.sol";
import {MembershipMirror} from "./MembershipMirror.sol";

/// @title AccessRegistry
/// @notice See {IAccessRegistry}.
contract AccessRegistry is IAccessRegistry, MembershipMirror {
    uint8 public constant READ = 1;
    uint8 public constant DERIVE = 2;
    uint8 public constant RESHARE = 4;
    uint8 public constant COMMERCIAL = 8;
    uint8 private constant _ALL = READ | DERIVE | RESHARE | COMMERCIAL;
    uint8 private constant _OPERATION_BIT = uint8(1 << uint8(Right.Operation));

    IDataRegistry public immutable dataRegistry;

    mapping(bytes32 root => mapping(uint32 grantee => Grant)) private _grants;

    constructor(IMembership consortium_, IDataRegistry dataRegistry_) MembershipMirror(consortium_) {
        dataRegistry = dataRegistry_;
    }

    /// @inheritdoc IAccessRegistry
    function grant(GrantRequest calldata request) external {
        uint32 orgNo = _requireActiveKey(msg.sender);
        (uint32 operator, Grade grade, uint48 registration, uint8 disputed) = dataRegistry.licensingOf(request.root);
        if (operator != orgNo) revert AccessRegistryNotOperator(request.root, orgNo, operator);
        if (grade == Grade.Core) revert AccessRegistryCoreData(request.root);
        // No new licence while the operation right itself is disputed (existing ones run on).
        // The dataset's own slot says whether a freeze was ever recorded: only then is it read.
        if (disputed & _OPERATION_BIT != 0 && dataRegistry.isFrozen(request.root, Right.Operation)) {
            revert AccessRegistryOperationDisputed(request.root);
        }
        if (request.permissions == 0 || request.permissions & ~_ALL != 0) {
            revert AccessRegistryInvalidPermissions(request.permissions);
        }
        if (request.validUntil < request.validFrom || request.validUntil < block.timestamp) {
            revert AccessRegistryInvalidWindow(request.validFrom, request.validUntil);
        }
        uint32 grantee = consortium.requireActiveOrg(request.grantee);
        if (grantee == orgNo) revert AccessRegistrySelfGrant(request.root, orgNo);
        Grant storage previous = _grants[request.root][grantee];
        GrantStatus status = grade == Grade.Important ? GrantStatus.Pending : GrantStatus.Active;
        uint32 serial = previous.serial + 1;
        _grants[request.root][grantee] = Grant({
            grantor: orgNo,
            serial: serial,
            permissions: request.permissions,
            status: status,
            validFrom: request.validFrom,
            validUntil: request.validUntil,
            registration: registration
        });
        emit GrantIssued(
            request.root,
            grantee,
            orgNo,
            serial,
            request.permissions,
            request.validFrom,
            request.validUntil,
            request.termsCommitment,
            status
        );
    }

    /// @inheritdoc IAccessRegistry
    function approve(bytes32 root, bytes32 grantee, uint32 serial) external {
        (Grant storage g, uint32 granteeNo) = _pendingForAuditor(root, grantee, serial);
        g.status = GrantStatus.Active;
        emit GrantApproved(root, granteeNo, g.serial, msg.sender);
    }

    /// @inheritdoc IAccessRegistry
    function reject(bytes32 root, bytes32 grantee, uint32 serial) external {
        (Grant storage g, uint32 granteeNo) = _pendingForAuditor(root, grantee, serial);
        g.status = GrantStatus.Rejected;
        emit GrantRejected(root, granteeNo, g.serial, msg.sender);
    }

    /// @inheritdoc IAccessRegistry
    function revoke(bytes32 root, bytes32 grantee) external {
        uint32 orgNo = _requireActiveKey(msg.sender);
        uint32 granteeNo = _granteeNo(grantee);
        Grant storage g = _requireGrant(root, granteeNo);
        if (g.grantor != orgNo) revert AccessRegistryNotGrantor(root, granteeNo, orgNo, g.grantor);
        if (g.status != GrantStatus.Active && g.status != GrantStatus.Pending) {
            revert AccessRegistryNotActive(root, granteeNo, g.status);
        }
        g.status = GrantStatus.Revoked;
        emit GrantRevoked(root, granteeNo, g.serial, orgNo);
    }

    /// @inheritdoc IAccessRegistry
    function grantOf(bytes32 root, uint32 grantee) external view returns (Grant memory) {
        return _grants[root][grantee];
    }

    /// @inheritdoc IAccessRegistry
    function isAuthorized(bytes32 root, bytes32 org, uint8 permission, uint64 time) external view returns (bool) {
        IConsortium members = IConsortium(address(consortium));
        uint32 orgNo = members.orgNoOf(org);
        // A suspended or expelled organisation may use nothing, whatever its licences say.
        if (orgNo == 0 || !members.isActiveOrg(orgNo)) return false;
        Grant memory g = _grants[root][orgNo];
        // A grant exists only for a registered root; it counts for the registration it names.
        if (g.status == GrantStatus.None) return false;
        (, uint48 registration) = dataRegistry.operatorOf(root);
        return _authorizes(g, registration, permission, time);
    }

    /// @inheritdoc IAccessRegistry
    function authorization(bytes32 root, uint48 registration, uint32 orgNo, uint8 permission, uint64 time)
        external
        view
        returns (bool authorized, uint32 serial)
    {
        Grant memory g = _grants[root][orgNo];
        return (_authorizes(g, registration, permission, time), g.serial);
    }

    /// @inheritdoc IAccessRegistry
    function resharedAuthorization(bytes32 root, uint48 registration, uint32 consumer, uint32 provider, uint64 time)
        external
        view
        returns (bool authorized, uint32 serial, bool reshare)
    {
        Grant memory g = _grants[root][consumer];
        return (
            _authorizes(g, registration, READ, time),
            g.serial,
            _authorizes(_grants[root][provider], registration, RESHARE, time)
        );
    }

    /// Active, with every permission asked, within its window, and issued for `registration`:
    /// a licence of a superseded registration authorises nothing.
    function _authorizes(Grant memory g, uint48 registration, uint8 permission, uint64 time)
        private
        pure
        returns (bool)
    {
        return g.status == GrantStatus.Active && g.registration == registration && permission != 0
            && g.permissions & permission == permission && g.validFrom <= time && time <= g.validUntil;
    }

    function _pendingForAuditor(bytes32 root, bytes32 grantee, uint32 serial)
        private
        view
        returns (Grant storage g, uint32 granteeNo)
    {
        if (!IConsortium(address(consortium)).hasRole(IConsortium.Role.Auditor, msg.sender)) {
            revert AccessRegistryNotAuditor(msg.sender);
        }
        granteeNo = _granteeNo(grantee);
        g = _requireGrant(root, granteeNo);
        // The auditor decides on the terms it reviewed: a grant replaced since has another serial.
        if (g.serial != serial) revert AccessRegistryWrongSerial(root, granteeNo, serial, g.serial);
        if (g.status != GrantStatus.Pending) revert AccessRegistryNotPending(root, granteeNo, g.status);
    }

    function _granteeNo(bytes32 grantee) private view returns (uint32 orgNo) {
        orgNo = IConsortium(address(consortium)).orgNoOf(grantee);
    }

    function _requireGrant(bytes32 root, uint32 grantee) private view returns (Grant storage g) {
        g = _grants[root][grantee];
        if (g.status == GrantStatus.None) revert AccessRegistryUnknownGrant(root, grantee);
    }
}
