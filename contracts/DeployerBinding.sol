// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title DeployerBinding
/// @notice Base of a contract its deployer wires to others once, after deployment (the
/// Consortium binds its mirrors, the DataRegistry its dispute court): the two contracts are
/// deployed apart, so neither can name the other in its constructor. Each contract refuses
/// with its own errors, which keep their names in its ABI.
abstract contract DeployerBinding {
    address private immutable _deployer;

    constructor() {
        _deployer = msg.sender;
    }

    /// @dev Only the deployer, and only while nothing is bound.
    modifier bindsOnce() {
        if (msg.sender != _deployer) _refuseNotDeployer(msg.sender);
        _refuseIfBound();
        _;
    }

    /// @dev Reverts with the contract's "not the deployer" error.
    function _refuseNotDeployer(address account) internal pure virtual;

    /// @dev Reverts with the contract's "already bound" error if the binding was made.
    function _refuseIfBound() internal view virtual;
}
