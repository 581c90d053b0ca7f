"""Confidential terms: the commercial side of a licence or a delivery, kept by the parties.

The chain records only `commitment = keccak256(salt ‖ RFC 8785 canonical terms document)`;
the parties keep the *opening* (the document and the 32-byte salt). The salt makes the
commitment hiding: a guessable price cannot be found by hashing candidates, since each guess
would also have to guess 256 random bits. See docs/licences.md ("Confidential terms").

A terms document is a JSON object of strings only: amounts are decimal strings (no JSON
reader rounds them), hashes 0x-hex, so canonicalisation never meets a float.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import rfc8785
from eth_utils import keccak

from .errors import ProofError

FORMAT = "idsreg-terms/1"
KINDS = ("licence", "receipt")
SALT_BYTES = 32
#: Fields a terms document may carry, by kind; `format` and `kind` come first in every one.
FIELDS: dict[str, tuple[str, ...]] = {
    "licence": ("purpose", "policy", "price", "note"),
    "receipt": ("size", "price", "note"),
}
_WHOLE = ("size", "price")


@dataclass(frozen=True)
class Terms:
    """A terms document: `kind` ("licence" or "receipt") and its string fields."""

    kind: str
    fields: Mapping[str, str]

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ProofError(f"terms kind {self.kind!r} is not one of {', '.join(KINDS)}")
        for name, value in self.fields.items():
            if name not in FIELDS[self.kind]:
                raise ProofError(f"{self.kind} terms have no field {name!r} (allowed: {', '.join(FIELDS[self.kind])})")
            if not isinstance(value, str):
                raise ProofError(f"terms field {name} {value!r} is not a string")
            if name in _WHOLE and not (value.isascii() and value.isdigit() and (value == "0" or value[0] != "0")):
                raise ProofError(f"terms field {name} {value!r} is not a whole number in decimal")

    @classmethod
    def licence(cls, purpose: str = "", policy: str = "", price: int | None = None, note: str = "") -> Terms:
        values = {"purpose": purpose, "policy": policy, "price": None if price is None else str(price), "note": note}
        return cls("licence", {k: v for k, v in values.items() if v})

    @classmethod
    def receipt(cls, size: int, price: int, note: str = "") -> Terms:
        values = {"size": str(size), "price": str(price), "note": note}
        return cls("receipt", {k: v for k, v in values.items() if v})

    def document(self) -> dict[str, str]:
        return {"format": FORMAT, "kind": self.kind, **self.fields}

    def canonical(self) -> bytes:
        """The RFC 8785 bytes the commitment covers."""
        return rfc8785.dumps(self.document())

    @classmethod
    def from_document(cls, raw: Any) -> Terms:
        """Parse a terms document; ProofError naming what is wrong."""
        if not isinstance(raw, dict):
            raise ProofError("a terms document must be a JSON object")
        if raw.get("format") != FORMAT:
            raise ProofError(f"not an IDS Registry terms document (format should be {FORMAT!r})")
        fields = {k: v for k, v in raw.items() if k not in ("format", "kind")}
        return cls(str(raw.get("kind")), fields)


@dataclass(frozen=True)
class Opening:
    """A terms document with the salt that opens its commitment."""

    terms: Terms
    salt: bytes

    @classmethod
    def new(cls, terms: Terms) -> Opening:
        """`terms` with a fresh random salt."""
        return cls(terms, os.urandom(SALT_BYTES))

    @property
    def commitment(self) -> bytes:
        if len(self.salt) != SALT_BYTES:
            raise ProofError(f"the salt is {len(self.salt)} bytes, not {SALT_BYTES}")
        return keccak(self.salt + self.terms.canonical())

    def to_dict(self) -> dict[str, Any]:
        return {"terms": self.terms.document(), "salt": "0x" + self.salt.hex()}

    @classmethod
    def from_dict(cls, raw: Any) -> Opening:
        """Parse `{"terms": …, "salt": "0x…"}`; ProofError naming what is wrong."""
        if not isinstance(raw, dict) or "terms" not in raw or "salt" not in raw:
            raise ProofError("an opening needs the terms document and its salt")
        try:
            salt = bytes.fromhex(str(raw["salt"]).removeprefix("0x"))
        except ValueError:
            raise ProofError(f"the salt {raw['salt']!r} is not hex") from None
        if len(salt) != SALT_BYTES:
            raise ProofError(f"the salt {raw['salt']!r} is not {SALT_BYTES} bytes of hex")
        return cls(Terms.from_document(raw["terms"]), salt)


def differing_fields(opened: Terms, claimed: Terms) -> list[str]:
    """The names of the fields (and `kind`) whose values differ, in a stable order."""
    names = [] if opened.kind == claimed.kind else ["kind"]
    keys = sorted(set(opened.fields) | set(claimed.fields))
    return names + [k for k in keys if opened.fields.get(k) != claimed.fields.get(k)]


def check_opening(opening: Opening, commitment: bytes, claimed: Terms | None = None) -> None:
    """Refuse, with a ProofError saying why, an opening that does not open `commitment`.

    With `claimed` (the document a party says it agreed to), first compare it with the opened
    one and name each field that differs; then the salt and document must give `commitment`.

    >>> opening = Opening(Terms.receipt(size=10, price=1200), bytes(32))
    >>> check_opening(opening, opening.commitment)
    >>> check_opening(opening, opening.commitment, Terms.receipt(size=10, price=12))
    Traceback (most recent call last):
    client.errors.ProofError: terms field price differs: '1200' in the opening, '12' claimed
    """
    if claimed is not None:
        diffs = differing_fields(opening.terms, claimed)
        if diffs:
            name = diffs[0]
            if name == "kind":
                raise ProofError(
                    f"the opening holds {opening.terms.kind} terms, the claimed document {claimed.kind} terms"
                )
            opened_value, claimed_value = opening.terms.fields.get(name), claimed.fields.get(name)
            more = f" (and {', '.join(diffs[1:])})" if diffs[1:] else ""
            raise ProofError(
                f"terms field {name} differs: {_shown(opened_value)} in the opening, "
                f"{_shown(claimed_value)} claimed{more}"
            )
    if opening.commitment != commitment:
        raise ProofError(
            f"the terms and salt do not open commitment 0x{commitment.hex()} "
            f"(they give 0x{opening.commitment.hex()}): the salt is wrong or the document is another"
        )


def _shown(value: str | None) -> str:
    return "absent" if value is None else repr(value)
