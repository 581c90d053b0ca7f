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

/// @notice The Consortium's membership check, as the registry contracts use it.
interface IMembership {
    function requireActiveKey(address key) external view returns (uint32 orgNo);
    function requireActiveOrg(bytes32 orgId) external view returns (uint32 orgNo);
    function orgIdOf(uint32 orgNo) external view returns (bytes32);
}
