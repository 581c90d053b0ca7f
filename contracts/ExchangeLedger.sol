// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {IMembership} from "./Common.sol";
import {IAccessRegistry} from "./IAccessRegistry.sol";
import {IDataRegistry} from "./IDataRegistry.sol";
import {IExchangeLedger} from "./IExchangeLedger.sol";
import {MembershipMirror} from "./MembershipMirror.sol";

/// @title ExchangeLedger
/// @notice See {IExchangeLedger}. EIP-712 domain: name "IDS Registry", version "1", this
/// chain's id and this contract's address, so a signature cannot be replayed on another chain
/// or ledger; the nonce lets the same parties record identical deliveries.
contract ExchangeLedger is IExchangeLedger, EIP712, MembershipMirror {
    bytes32 public constant RECEIPT_TYPEHASH = keccak256(
        "Receipt(bytes32 dataset,uint32 grantSerial,bytes32 provider,bytes32 consumer,bytes32 deliveredRoot,"
        "bytes32 termsCommitment,uint64 deliveredAt,uint256 nonce)"
    );
    uint8 private constant _READ = 1;

    IDataRegistry public immutable dataRegistry;
    IAccessRegistry public immutable accessRegistry;

    mapping(bytes32 digest => bool) private _recorded;

    constructor(IMembership consortium_, IDataRegistry dataRegistry_, IAccessRegistry accessRegistry_)
        EIP712("IDS Registry", "1")
        MembershipMirror(consortium_)
    {
        dataRegistry = dataRegistry_;
        accessRegistry = accessRegistry_;
    }

    /// @inheritdoc IExchangeLedger
    function submit(Receipt calldata receipt, bytes calldata providerSignature, bytes calldata consumerSignature)
        external
        returns (bytes32 digest)
    {
        uint32 submitter = _requireActiveKey(msg.sender);
        if (receipt.provider == receipt.consumer) revert ExchangeLedgerSameParty(receipt.provider);
        if (receipt.deliveredAt > block.timestamp) {
            revert ExchangeLedgerFutureDelivery(receipt.deliveredAt, uint64(block.timestamp));
        }
        digest = _digest(receipt);
        if (_recorded[digest]) revert ExchangeLedgerAlreadyRecorded(digest);
        (address providerKey, uint32 provider) = _signer(digest, providerSignature, receipt.provider, Party.Provider);
        (address consumerKey, uint32 consumer) = _signer(digest, consumerSignature, receipt.consumer, Party.Consumer);
        if (submitter != provider && submitter != consumer) revert ExchangeLedgerNotParty(msg.sender, submitter);
        bool authorized;
        uint32 serial;
        (uint32 operator, uint48 registration) = dataRegistry.operatorOf(receipt.dataset);
        if (operator == provider) {
            (authorized, serial) =
                accessRegistry.authorization(receipt.dataset, registration, consumer, _READ, receipt.deliveredAt);
        } else {
            // A provider without the operation right needs a reshare licence: one call reads both grants.
            bool reshare;
            (authorized, serial, reshare) =
                accessRegistry.resharedAuthorization(receipt.dataset, registration, consumer, provider, receipt.deliveredAt);
            if (!reshare) revert ExchangeLedgerProviderNotEntitled(receipt.dataset, provider, receipt.deliveredAt);
        }
        if (!authorized || serial != receipt.grantSerial) {
            revert ExchangeLedgerNotAuthorized(receipt.dataset, consumer, receipt.grantSerial, receipt.deliveredAt);
        }
        _recorded[digest] = true;
        emit ReceiptRecorded(
            digest,
            receipt.dataset,
            provider,
            consumer,
            receipt.grantSerial,
            receipt.deliveredRoot,
            receipt.termsCommitment,
            receipt.deliveredAt,
            receipt.nonce,
            providerKey,
            consumerKey
        );
    }

    /// @inheritdoc IExchangeLedger
    function receiptDigest(Receipt calldata receipt) external view returns (bytes32) {
        return _digest(receipt);
    }

    /// @inheritdoc IExchangeLedger
    function isRecorded(bytes32 digest) external view returns (bool) {
        return _recorded[digest];
    }

    /// @notice The EIP-712 domain separator of this ledger.
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    function _digest(Receipt calldata r) private view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    RECEIPT_TYPEHASH,
                    r.dataset,
                    r.grantSerial,
                    r.provider,
                    r.consumer,
                    r.deliveredRoot,
                    r.termsCommitment,
                    r.deliveredAt,
                    r.nonce
                )
            )
        );
    }

    /// The signing key, which must be an active key of organisation `org`, and its member number.
    function _signer(bytes32 digest, bytes calldata signature, bytes32 org, Party party)
        private
        view
        returns (address key, uint32 orgNo)
    {
        ECDSA.RecoverError failure;
        (key, failure,) = ECDSA.tryRecover(digest, signature);
        if (failure != ECDSA.RecoverError.NoError) revert ExchangeLedgerInvalidSignature(party);
        orgNo = _requireActiveKey(key);
        bytes32 signerOrg = _orgIdOfKey(key);
        if (signerOrg != org) revert ExchangeLedgerWrongSigner(party, key, org, signerOrg);
    }
}
