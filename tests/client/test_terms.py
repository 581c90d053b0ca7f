"""client/terms.py: canonical terms documents, salted commitments, openings (docs/licences.md)."""

from __future__ import annotations

import json

import pytest
from eth_utils import keccak

from client.errors import ProofError
from client.terms import Opening, Terms, check_opening


def test_canonical_bytes_are_rfc_8785() -> None:
    terms = Terms("licence", {"purpose": "Qualität €", "price": "1200", "note": 'a "b"\n'})
    # Keys sorted by UTF-16 code units, no white space, UTF-8 kept as is, only the required escapes.
    expected = (
        '{"format":"idsreg-terms/1","kind":"licence","note":"a \\"b\\"\\n","price":"1200","purpose":"Qualität €"}'
    )
    assert terms.canonical() == expected.encode()
    # Whatever order or spacing another program writes, the same document gives the same bytes.
    rewritten = json.loads(json.dumps(dict(reversed(list(terms.document().items()))), indent=3))
    assert Terms.from_document(rewritten).canonical() == terms.canonical()


def test_commitment_is_keccak_of_salt_then_canonical_bytes() -> None:
    salt = bytes(range(32))
    opening = Opening(Terms.receipt(size=10, price=1200), salt)
    assert opening.commitment == keccak(salt + opening.terms.canonical())
    fresh = [Opening.new(opening.terms) for _ in range(2)]
    assert fresh[0].commitment != fresh[1].commitment  # equal prices, unrelated commitments
    assert Opening.from_dict(json.loads(json.dumps(opening.to_dict()))) == opening


@pytest.mark.parametrize(
    ("kind", "fields", "fragment"),
    [
        ("licence", {"size": "1"}, "licence terms have no field 'size'"),
        ("receipt", {"price": "1.5"}, "terms field price '1.5' is not a whole number"),
        ("receipt", {"price": "007"}, "terms field price '007' is not a whole number"),
        ("receipt", {"price": 7}, "terms field price 7 is not a string"),
        ("offer", {}, "terms kind 'offer' is not one of licence, receipt"),
    ],
)
def test_bad_documents_are_refused_naming_the_value(kind: str, fields: dict[str, object], fragment: str) -> None:
    with pytest.raises(ProofError, match=fragment):
        Terms(kind, fields)  # type: ignore[arg-type]


def test_check_opening_names_the_field_or_the_salt() -> None:
    agreed = Terms.receipt(size=10, price=1200)
    opening = Opening(agreed, b"\x07" * 32)
    check_opening(opening, opening.commitment, agreed)
    with pytest.raises(ProofError, match="terms field size differs: '11' in the opening, '10' claimed"):
        check_opening(Opening(Terms.receipt(size=11, price=1200), opening.salt), opening.commitment, agreed)
    with pytest.raises(ProofError, match="do not open commitment .*the salt is wrong or the document is another"):
        check_opening(Opening(agreed, b"\x08" * 32), opening.commitment, agreed)
    with pytest.raises(ProofError, match="the opening holds licence terms, the claimed document receipt terms"):
        check_opening(Opening(Terms.licence(purpose="QA"), opening.salt), opening.commitment, agreed)
    with pytest.raises(ProofError, match="salt .* is not 32 bytes"):
        Opening.from_dict({"terms": agreed.document(), "salt": "0x00"})
