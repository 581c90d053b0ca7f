"""The EIP-712 typed data of exchange receipts, defined once for signing, checking and tests.

The contract (ExchangeLedger.RECEIPT_TYPEHASH and its domain "IDS Registry" / "1") and this
module must agree byte for byte; a test compares the digests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_keys.datatypes import Signature
from eth_keys.exceptions import BadSignature
from eth_utils import keccak, to_checksum_address

DOMAIN_NAME = "IDS Registry"
DOMAIN_VERSION = "1"

RECEIPT_FIELDS: list[dict[str, str]] = [
    {"name": "dataset", "type": "bytes32"},
    {"name": "grantSerial", "type": "uint32"},
    {"name": "provider", "type": "bytes32"},
    {"name": "consumer", "type": "bytes32"},
    {"name": "deliveredRoot", "type": "bytes32"},
    {"name": "termsCommitment", "type": "bytes32"},
    {"name": "deliveredAt", "type": "uint64"},
    {"name": "nonce", "type": "uint256"},
]

DOMAIN_FIELDS: list[dict[str, str]] = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]


@dataclass(frozen=True)
class Receipt:
    """One delivery of data from the provider organisation to the consumer organisation."""

    dataset: bytes
    grant_serial: int
    provider: bytes
    consumer: bytes
    delivered_root: bytes
    #: keccak256(salt ‖ canonical terms): size, price and notes stay with the parties (client/terms.py).
    terms_commitment: bytes
    delivered_at: int
    nonce: int

    def message(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "grantSerial": self.grant_serial,
            "provider": self.provider,
            "consumer": self.consumer,
            "deliveredRoot": self.delivered_root,
            "termsCommitment": self.terms_commitment,
            "deliveredAt": self.delivered_at,
            "nonce": self.nonce,
        }

    def as_tuple(self) -> tuple[Any, ...]:
        """The struct as the contract takes it."""
        return tuple(self.message().values())


def typed_data(receipt: Receipt, chain_id: int, ledger: str) -> dict[str, Any]:
    """The full EIP-712 document a wallet signs."""
    return {
        "types": {"EIP712Domain": DOMAIN_FIELDS, "Receipt": RECEIPT_FIELDS},
        "primaryType": "Receipt",
        "domain": {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": chain_id,
            "verifyingContract": to_checksum_address(ledger),
        },
        "message": receipt.message(),
    }


def receipt_digest(receipt: Receipt, chain_id: int, ledger: str) -> bytes:
    """The 32-byte EIP-712 digest of `receipt` for the ledger at `ledger` on `chain_id`."""
    signable = encode_typed_data(full_message=typed_data(receipt, chain_id, ledger))
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


def sign_receipt(account: LocalAccount, receipt: Receipt, chain_id: int, ledger: str) -> bytes:
    """`account`'s 65-byte signature over the receipt's typed data."""
    signed = account.sign_message(encode_typed_data(full_message=typed_data(receipt, chain_id, ledger)))
    return bytes(signed.signature)


def recover_signer(receipt: Receipt, chain_id: int, ledger: str, signature: bytes) -> str:
    """The address that made `signature` over the receipt's typed data."""
    signable = encode_typed_data(full_message=typed_data(receipt, chain_id, ledger))
    return str(Account.recover_message(signable, signature=signature))


def recover_digest_signer(digest: bytes, signature: bytes) -> str | None:
    """The address that signed a 32-byte EIP-712 digest (None for a malformed signature): who
    signed a receipt as it was when signed, whatever its fields say now."""
    if len(digest) != 32 or len(signature) != 65 or signature[64] not in (0, 1, 27, 28):
        return None
    vrs = signature[:64] + bytes([signature[64] % 27])
    try:
        return str(Signature(vrs).recover_public_key_from_msg_hash(digest).to_checksum_address())
    except (ValueError, BadSignature):
        return None
