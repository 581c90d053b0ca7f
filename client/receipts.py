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
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address
from hexbytes import HexBytes

from .chain.enums import Party, Permission
from .chain.registry import OrgRef, Registry
from .chain.transact import TxResult
from .eip712 import RECEIPT_FIELDS, Receipt, receipt_digest, recover_digest_signer, recover_signer, sign_receipt
from .errors import ConfigError, MalformedFileError, ProofError
from .grants import Grants
from .jsonable import camel
from .terms import Opening, Terms, check_opening
from .times import iso

FORMAT = "idsreg-receipt/2"
_BYTES32 = ("dataset", "provider", "consumer", "delivered_root", "terms_commitment")
# The width of each whole-number field, from the EIP-712 type the signatures cover.
_BITS = {_f["name"]: int(_f["type"].removeprefix("uint")) for _f in RECEIPT_FIELDS if _f["type"].startswith("uint")}


@dataclass(frozen=True)
class ReceiptFile:
    """A receipt with its EIP-712 domain and the signatures gathered so far."""

    chain_id: int
    ledger: str
    receipt: Receipt
    #: The terms document and salt behind `receipt.terms_commitment`.
    opening: Opening
    signatures: dict[str, dict[str, str]] = field(default_factory=dict)
    #: The digest the file says it has (its "digest" field): what was signed, if the fields
    #: were changed since. None for a file built in memory.
    stated_digest: bytes | None = field(default=None, compare=False)

    @property
    def digest(self) -> bytes:
        return receipt_digest(self.receipt, self.chain_id, self.ledger)

    def to_json(self) -> str:
        fields = {camel(k): ("0x" + v.hex() if isinstance(v, bytes) else v) for k, v in self.receipt.__dict__.items()}
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
        """Parse a receipt file; MalformedFileError naming what is wrong with it."""
        try:
            raw = json.loads(text)
            if raw.get("format") != FORMAT:
                raise MalformedFileError(f"not an IDS Registry receipt file (format should be {FORMAT!r})")
            r = raw["receipt"]
            values: dict[str, Any] = {}
            for name in Receipt.__dataclass_fields__:
                value = r[camel(name)]
                if name in _BYTES32:
                    data = bytes.fromhex(str(value).removeprefix("0x"))
                    if len(data) != 32:
                        raise MalformedFileError(f"receipt field {camel(name)} {value!r} is not 32 bytes of hex")
                    values[name] = data
                else:
                    if not isinstance(value, int) or value < 0:
                        raise MalformedFileError(f"receipt field {camel(name)} {value!r} is not a whole number")
                    bits = _BITS[camel(name)]
                    if value >= 1 << bits:
                        raise MalformedFileError(f"receipt field {camel(name)} {value} does not fit its uint{bits}")
                    values[name] = value
            signatures = raw.get("signatures", {})
            if not isinstance(signatures, dict) or not set(signatures) <= {"provider", "consumer"}:
                raise MalformedFileError("the receipt file's signatures must be named provider and consumer")
            chain_id = raw["chainId"]
            if not isinstance(chain_id, int) or not 0 <= chain_id < 1 << 256:
                raise MalformedFileError(f"the receipt file's chainId {chain_id!r} is not a uint256")
            stated = raw.get("digest")
            stated_digest = bytes.fromhex(stated.removeprefix("0x")) if isinstance(stated, str) else None
            try:
                opening = Opening.from_dict(raw)
            except ProofError as exc:
                raise MalformedFileError(f"the receipt file's terms: {exc}") from None
            ledger = to_checksum_address(raw["ledger"])
            return cls(chain_id, ledger, Receipt(**values), opening, signatures, stated_digest)
        except KeyError as exc:
            raise MalformedFileError(f"the receipt file is malformed: it has no {exc.args[0]!r} field") from None
        except (ValueError, TypeError, AttributeError) as exc:
            raise MalformedFileError(f"the receipt file is malformed: {exc}") from None

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

    def verify_offline(
        self, key_owner: Callable[[str], str | None] | None = None, claimed: Terms | None = None
    ) -> dict[str, str]:
        """Check the terms opening (against `claimed` too, if given) and both signatures over the
        typed data; returns the signing key of each party.

        Offline, this proves who signed what; whether those keys belonged to the named
        organisations is for the chain to say (`Receipts.verify_on_chain`). A signature that
        does not recover to the named key means one of two things, told apart here: the
        receipt was changed after signing (the signature still matches the digest the file
        states, or it recovers to a key no member holds — `key_owner`, when the chain is at
        hand, names the organisation of a key), or it was signed by another key.
        """
        self.check_terms(claimed)
        signers = {}
        for party in Party:
            name = party.name.lower()
            signature = self.signature(party)
            recovered = recover_signer(self.receipt, self.chain_id, self.ledger, signature)
            named = to_checksum_address(self.signatures[name]["key"])
            if recovered != named:
                raise ProofError(self._mismatch(name, signature, recovered, named, key_owner))
            signers[name] = recovered
        return signers

    def _mismatch(
        self,
        name: str,
        signature: bytes,
        recovered: str,
        claimed: str,
        key_owner: Callable[[str], str | None] | None,
    ) -> str:
        changed = f"the receipt no longer matches what the {name} signed: its fields were changed after signing"
        stated = self.stated_digest
        if stated is not None and stated != self.digest:
            if recover_digest_signer(stated, signature) == claimed:
                return (
                    f"{changed} (key {claimed} signed digest 0x{stated.hex()}; the fields now give "
                    f"0x{self.digest.hex()})"
                )
            return f"{changed} (the file states digest 0x{stated.hex()}, its fields give 0x{self.digest.hex()})"
        owner = key_owner(recovered) if key_owner is not None else None
        if owner is not None:
            return f"the {name} signature was made by key {recovered} of {owner}, not by the named key {claimed}"
        if key_owner is not None:
            # No member holds the key the signature recovers to: over other bytes, any signature
            # recovers to some unrelated key, so the receipt is not what was signed.
            return f"{changed} (or signed by a key of no member, {recovered})"
        return (
            f"the {name} signature does not match this receipt and key {claimed}: the receipt was changed "
            f"after signing, or another key ({recovered}) signed it"
        )


@dataclass(frozen=True)
class ReceiptEvidence:
    digest: str
    transaction: str
    block_number: int
    provider: OrgRef
    consumer: OrgRef


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

    def draft_delivery(
        self,
        dataset: bytes,
        provider: str,
        consumer: str,
        delivered_root: bytes,
        size: int,
        *,
        price: int = 0,
        note: str = "",
        grant: int | None = None,
        delivered_at: int | None = None,
    ) -> ReceiptFile:
        """A receipt file for one delivery, ready for both parties' signatures: the grant
        (default: the consumer's current grant on `dataset`), the confidential terms (size,
        price, note) committed with a fresh salt, a random nonce, and the delivery time
        (default: the chain's time, the clock the ledger judges by)."""
        from .consortium import org_id

        if grant is None:
            grant = Grants(self.registry).show(dataset, consumer).serial
        opening = Opening.new(Terms.receipt(size=size, price=price, note=note))
        if delivered_at is None:
            delivered_at = int(self.registry.w3.eth.get_block("latest")["timestamp"])
        receipt = Receipt(
            dataset=dataset,
            grant_serial=grant,
            provider=org_id(provider),
            consumer=org_id(consumer),
            delivered_root=delivered_root,
            terms_commitment=opening.commitment,
            delivered_at=delivered_at,
            nonce=int.from_bytes(os.urandom(16), "big"),
        )
        return self.draft(receipt, opening)

    def key_owner(self, key: str) -> str | None:
        """The organisation a key belongs to (as people read it), None if no member holds it."""
        org, _role = self.registry.call("Consortium", "keyInfo", to_checksum_address(key))
        if not any(org):
            return None
        return self.registry.org_label(int(self.registry.call("Consortium", "orgNoOf", bytes(org))))

    def party_of(self, account: LocalAccount, file: ReceiptFile) -> Party:
        """Which side `account` signs for: the one whose organisation it belongs to."""
        org, _role = self.registry.call("Consortium", "keyInfo", account.address)
        for party, org_bytes in ((Party.PROVIDER, file.receipt.provider), (Party.CONSUMER, file.receipt.consumer)):
            if bytes(org) == org_bytes:
                return party
        raise ConfigError(f"key {account.address} belongs to neither the provider nor the consumer of this receipt")

    def objection(self, file: ReceiptFile) -> str | None:
        """Why the ledger would refuse this delivery as things stand on the chain (None if it
        would not): the consumer's licence at the delivery time, the grant serial the receipt
        names, the provider's entitlement. The same rules `ExchangeLedger.submit` applies."""
        r = file.receipt
        at = iso(r.delivered_at)
        grants = Grants(self.registry)
        consumer = "0x" + r.consumer.hex()
        verdict = grants.check(r.dataset, consumer, Permission.READ, r.delivered_at)
        if not verdict.authorized:
            return f"the consumer's licence does not cover this delivery at {at}: {verdict.explanation}"
        if verdict.grant is not None and verdict.grant.serial != r.grant_serial:
            return (
                f"the receipt names grant {r.grant_serial}, but the consumer's licence is now grant "
                f"{verdict.grant.serial}"
            )
        provider_no = int(self.registry.call("Consortium", "orgNoOf", r.provider))
        operator, _registration = self.registry.call("DataRegistry", "operatorOf", r.dataset)
        if int(operator) != provider_no and not grants.is_authorized(
            r.dataset, "0x" + r.provider.hex(), Permission.RESHARE, r.delivered_at
        ):
            return f"the provider neither holds the operation right on the dataset nor a reshare licence at {at}"
        return None

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
        signers = file.verify_offline(self.key_owner, claimed)
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
            provider=self.registry.org_ref(int(args["provider"])),
            consumer=self.registry.org_ref(int(args["consumer"])),
        )

    def _same_ledger(self, file: ReceiptFile) -> None:
        if file.chain_id != self.registry.chain_id or to_checksum_address(file.ledger) != self.ledger:
            raise ProofError(
                f"the receipt is for ledger {file.ledger} on chain {file.chain_id}, "
                f"not this chain's ledger {self.ledger} on chain {self.registry.chain_id}"
            )
