"""Exchange receipts between two companies: one side drafts a receipt file, the other signs
it, either submits it to the ExchangeLedger; anyone verifies it offline and against the chain.

File format (JSON, `idsreg-receipt/2`): the chain id and ledger address (the EIP-712 domain),
the receipt fields as 0x-hex and integers, the opening of its terms commitment (the terms
document — size, price, note — and the salt, client/terms.py), and the signatures collected so
far, each with the signing key's address. The file is the parties' own: the chain sees only
the commitment. See docs/licences.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address
from hexbytes import HexBytes

from .chain.enums import Party
from .chain.registry import Registry
from .chain.transact import TxResult
from .eip712 import RECEIPT_FIELDS, Receipt, receipt_digest, recover_signer, sign_receipt
from .errors import ConfigError, ProofError
from .terms import Opening, Terms, check_opening

FORMAT = "idsreg-receipt/2"
_BYTES32 = ("dataset", "provider", "consumer", "delivered_root", "terms_commitment")
# The width of each whole-number field, from the EIP-712 type the signatures cover.
_BITS = {_f["name"]: int(_f["type"].removeprefix("uint")) for _f in RECEIPT_FIELDS if _f["type"].startswith("uint")}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


@dataclass(frozen=True)
class ReceiptFile:
    """A receipt with its EIP-712 domain and the signatures gathered so far."""

    chain_id: int
    ledger: str
    receipt: Receipt
    #: The terms document and salt behind `receipt.terms_commitment`.
    opening: Opening
    signatures: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def digest(self) -> bytes:
        return receipt_digest(self.receipt, self.chain_id, self.ledger)

    def to_json(self) -> str:
        fields = {_camel(k): ("0x" + v.hex() if isinstance(v, bytes) else v) for k, v in self.receipt.__dict__.items()}
        body = {
            "format": FORMAT,
            "chainId": self.chain_id,
            "ledger": self.ledger,
            "digest": "0x" + self.digest.hex(),
            "receipt": fields,
            **self.opening.to_dict(),
            "signatures": self.signatures,
        }
        return json.dumps(body, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> ReceiptFile:
        """Parse a receipt file; ProofError naming what is wrong with it."""
        try:
            raw = json.loads(text)
            if raw.get("format") != FORMAT:
                raise ProofError(f"not an IDS Registry receipt file (format should be {FORMAT!r})")
            r = raw["receipt"]
            values: dict[str, Any] = {}
            for name in Receipt.__dataclass_fields__:
                value = r[_camel(name)]
                if name in _BYTES32:
                    data = bytes.fromhex(str(value).removeprefix("0x"))
                    if len(data) != 32:
                        raise ProofError(f"receipt field {_camel(name)} {value!r} is not 32 bytes of hex")
                    values[name] = data
                else:
                    if not isinstance(value, int) or value < 0:
                        raise ProofError(f"receipt field {_camel(name)} {value!r} is not a whole number")
                    bits = _BITS[_camel(name)]
                    if value >= 1 << bits:
                        raise ProofError(f"receipt field {_camel(name)} {value} does not fit its uint{bits}")
                    values[name] = value
            signatures = raw.get("signatures", {})
            if not isinstance(signatures, dict) or not set(signatures) <= {"provider", "consumer"}:
                raise ProofError("the receipt file's signatures must be named provider and consumer")
            chain_id = raw["chainId"]
            if not isinstance(chain_id, int) or not 0 <= chain_id < 1 << 256:
                raise ProofError(f"the receipt file's chainId {chain_id!r} is not a uint256")
            opening = Opening.from_dict(raw)
            return cls(chain_id, to_checksum_address(raw["ledger"]), Receipt(**values), opening, signatures)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ProofError(f"the receipt file is malformed: {exc}") from None

    @classmethod
    def read(cls, path: Path) -> ReceiptFile:
        try:
            return cls.from_json(path.read_text())
        except OSError as exc:
            raise ConfigError(f"cannot read receipt file {path}: {exc.strerror}") from None

    def signed(self, party: Party, account: LocalAccount) -> ReceiptFile:
        """This file with `account`'s signature as `party` added.

        A signature already there is never replaced (ConfigError naming its key); signing again
        with the same key gives the same signature, so the file is unchanged.
        """
        signature = sign_receipt(account, self.receipt, self.chain_id, self.ledger)
        entry = {"key": account.address, "signature": "0x" + signature.hex()}
        name = party.name.lower()
        earlier = self.signatures.get(name)
        if earlier is not None and earlier != entry:
            raise ConfigError(
                f"the receipt already has a {name} signature by key {earlier.get('key')}; "
                "a signature is never replaced (draft a new receipt to sign it otherwise)"
            )
        return replace(self, signatures={**self.signatures, name: entry})

    def signature(self, party: Party) -> bytes:
        entry = self.signatures.get(party.name.lower())
        if entry is None:
            raise ProofError(f"the receipt has no {party.name.lower()} signature yet")
        return bytes.fromhex(entry["signature"].removeprefix("0x"))

    def check_terms(self, claimed: Terms | None = None) -> None:
        """The file's terms and salt must open the signed commitment (and equal `claimed`,
        field by field, if given); ProofError naming what differs."""
        check_opening(self.opening, self.receipt.terms_commitment, claimed)

    def verify_offline(self, claimed: Terms | None = None) -> dict[str, str]:
        """Check the terms opening and both signatures over the typed data; returns the
        signing key of each party.

        Offline, this proves who signed what; whether those keys belonged to the named
        organisations is for the chain to say (`Receipts.verify_on_chain`).
        """
        self.check_terms(claimed)
        signers = {}
        for party in Party:
            name = party.name.lower()
            recovered = recover_signer(self.receipt, self.chain_id, self.ledger, self.signature(party))
            named = to_checksum_address(self.signatures[name]["key"])
            if recovered != named:
                raise ProofError(f"the {name} signature was made by {recovered}, not by the named key {named}")
            signers[name] = recovered
        return signers


@dataclass(frozen=True)
class ReceiptEvidence:
    digest: str
    transaction: str
    block_number: int
    provider: str
    consumer: str


class Receipts:
    """The ExchangeLedger contract of a deployed registry."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    @property
    def ledger(self) -> str:
        return str(self.registry.contract("ExchangeLedger").address)

    def draft(self, receipt: Receipt, opening: Opening) -> ReceiptFile:
        """A receipt file for `receipt`, whose terms commitment `opening` must open."""
        check_opening(opening, receipt.terms_commitment)
        return ReceiptFile(self.registry.chain_id, self.ledger, receipt, opening)

    def party_of(self, account: LocalAccount, file: ReceiptFile) -> Party:
        """Which side `account` signs for: the one whose organisation it belongs to."""
        org, _role = self.registry.call("Consortium", "keyInfo", account.address)
        for party, org_bytes in ((Party.PROVIDER, file.receipt.provider), (Party.CONSUMER, file.receipt.consumer)):
            if bytes(org) == org_bytes:
                return party
        raise ConfigError(f"key {account.address} belongs to neither the provider nor the consumer of this receipt")

    def submit(self, signer: LocalAccount, file: ReceiptFile) -> TxResult:
        self._same_ledger(file)
        return self.registry.transact(
            signer,
            "ExchangeLedger",
            "submit",
            file.receipt.as_tuple(),
            file.signature(Party.PROVIDER),
            file.signature(Party.CONSUMER),
        )

    def contract_digest(self, file: ReceiptFile) -> bytes:
        return bytes(self.registry.call("ExchangeLedger", "receiptDigest", file.receipt.as_tuple()))

    def verify_on_chain(self, file: ReceiptFile, claimed: Terms | None = None) -> ReceiptEvidence:
        """The receipt's record on the ledger; ProofError naming what differs."""
        self._same_ledger(file)
        signers = file.verify_offline(claimed)
        digest = file.digest
        if self.contract_digest(file) != digest:
            raise ProofError("the ledger computes another digest for this receipt than the file")
        if not self.registry.call("ExchangeLedger", "isRecorded", digest):
            raise ProofError(f"receipt 0x{digest.hex()} is not recorded on the ledger")
        recorded = self.registry.events("ExchangeLedger", "ReceiptRecorded", "0x" + digest.hex())
        if not recorded:
            raise ProofError(f"no ReceiptRecorded event for receipt 0x{digest.hex()}")
        args, log = recorded[0]
        check_opening(file.opening, bytes(HexBytes(args["termsCommitment"])))
        for party in ("provider", "consumer"):
            if args[f"{party}Key"] != signers[party]:
                raise ProofError(f"the ledger recorded {party} key {args[party + 'Key']}, not {signers[party]}")
        return ReceiptEvidence(
            digest="0x" + digest.hex(),
            transaction=log["transactionHash"].to_0x_hex(),
            block_number=int(log["blockNumber"]),
            provider=self.registry.org_label(int(args["provider"])),
            consumer=self.registry.org_label(int(args["consumer"])),
        )

    def _same_ledger(self, file: ReceiptFile) -> None:
        if file.chain_id != self.registry.chain_id or to_checksum_address(file.ledger) != self.ledger:
            raise ProofError(
                f"the receipt is for ledger {file.ledger} on chain {file.chain_id}, "
                f"not this chain's ledger {self.ledger} on chain {self.registry.chain_id}"
            )
