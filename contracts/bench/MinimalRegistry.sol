// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title MinimalRegistry
/// @notice Benchmark baseline only (never deployed by `idsreg deploy`): the least a registry
/// can do — one mapping write and one event, no membership check — measured next to the real
/// contracts in the same run by scripts/bench.
contract MinimalRegistry {
    mapping(bytes32 => address) public owners;

    event Registered(bytes32 indexed root, address indexed owner);

    function register(bytes32 root) external {
        require(owners[root] == address(0), "taken");
        owners[root] = msg.sender;
        emit Registered(root, msg.sender);
    }
}
