// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title IExchangeLedger
/// @notice Deliveries of data recorded as EIP-712 receipts signed by a key of the providing
/// organisation and a key of the consuming organisation. The ledger checks both signatures
/// against active keys of the right organisations, that the named grant authorises the
/// consumer to read at delivery time, that the provider holds the operation right or a
/// reshare licence, and refuses a receipt twice.
interface IExchangeLedger {
    /// @notice A delivery. `provider` and `consumer` are org ids; `grantSerial` names the
    /// licence (IAccessRegistry grant serial) the delivery was made under. `termsCommitment` is
    /// keccak256(salt ‖ RFC 8785 terms document) of the delivery's confidential terms (size,
    /// price, free text): both signatures cover it, the parties hold the opening.
    struct Receipt {
        bytes32 dataset;
        uint32 grantSerial;
        bytes32 provider;
        bytes32 consumer;
        bytes32 deliveredRoot;
        bytes32 termsCommitment;
        uint64 deliveredAt;
        uint256 nonce;
    }

    enum Party {
        Provider,
        Consumer
    }

    /// @notice A delivery signed by both parties was recorded.
    event ReceiptRecorded(
        bytes32 indexed digest,
        bytes32 indexed dataset,
        uint32 indexed provider,
        uint32 consumer,
        uint32 grantSerial,
        bytes32 deliveredRoot,
        bytes32 termsCommitment,
        uint64 deliveredAt,
        uint256 nonce,
        address providerKey,
        address consumerKey
    );

    /// @notice This receipt is recorded already.
    error ExchangeLedgerAlreadyRecorded(bytes32 digest);
    /// @notice A party's signature cannot be recovered.
    error ExchangeLedgerInvalidSignature(Party party);
    /// @notice A party's signature is by a key of another organisation.
    error ExchangeLedgerWrongSigner(Party party, address signer, bytes32 expectedOrg, bytes32 signerOrg);
    /// @notice Provider and consumer are the same organisation.
    error ExchangeLedgerSameParty(bytes32 org);
    /// @notice The submitter acts for neither party.
    error ExchangeLedgerNotParty(address submitter, uint32 orgNo);
    /// @notice The delivery time is after the current block time.
    error ExchangeLedgerFutureDelivery(uint64 deliveredAt, uint64 currentTime);
    /// @notice No grant of the dataset's current registration lets the consumer read it then.
    error ExchangeLedgerNotAuthorized(bytes32 dataset, uint32 consumer, uint32 grantSerial, uint64 deliveredAt);
    /// @notice The provider neither holds the operation right nor a reshare licence.
    error ExchangeLedgerProviderNotEntitled(bytes32 dataset, uint32 provider, uint64 deliveredAt);

    /// @notice Records a receipt signed by both parties; the caller must be an active key of
    /// one of them.
    /// @return digest The receipt's EIP-712 digest, its id on the ledger.
    function submit(Receipt calldata receipt, bytes calldata providerSignature, bytes calldata consumerSignature)
        external
        returns (bytes32 digest);

    /// @notice The EIP-712 digest both parties sign for `receipt` on this ledger and chain.
    function receiptDigest(Receipt calldata receipt) external view returns (bytes32);

    /// @notice Whether the receipt with this digest is recorded.
    function isRecorded(bytes32 digest) external view returns (bool);
}
