"""What the compiled contracts declare reaches users: every custom error of every ABI has a
sentence in client/chain/messages.py naming exactly its values, the Python enums equal the
Solidity ones, and every event and error carries NatSpec where it is declared.

The artifacts hold ABIs, not ASTs: an ABI names an enum type ("enum IConsortium.Role") but not
its members, so the members are read from the sources, which tests/client checks compile to
exactly the committed artifacts.
"""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from client.chain.artifacts import all_artifacts
from client.chain.enums import BY_SOLIDITY_NAME
from client.chain.messages import TEMPLATES

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"
SOURCES = sorted(CONTRACTS.glob("*.sol"))
_ENUM = re.compile(r"\benum\s+(\w+)\s*\{([^}]*)\}")
_DECLARATION = re.compile(r"^\s*(event|error)\s+(\w+)\s*\(", re.MULTILINE)


def abi_errors() -> dict[str, set[str]]:
    """Every custom error of every compiled contract, with its argument names."""
    errors: dict[str, set[str]] = {}
    for artifact in all_artifacts().values():
        for item in artifact.abi:
            if item["type"] == "error":
                errors[item["name"]] = {i["name"] for i in item["inputs"]}
    return errors


def solidity_enums() -> dict[str, list[str]]:
    enums: dict[str, list[str]] = {}
    for source in SOURCES:
        text = re.sub(r"//[^\n]*", "", source.read_text())
        for name, body in _ENUM.findall(text):
            enums[name] = [m.strip() for m in body.split(",") if m.strip()]
    return enums


def test_every_abi_error_has_a_message_with_exactly_its_values() -> None:
    errors = abi_errors()
    assert {"ConsortiumNotDeployer", "ConsortiumMirrorsAlreadyBound", "MembershipMirrorNotConsortium"} <= set(errors)
    missing = sorted(set(errors) - set(TEMPLATES))
    assert not missing, f"errors without a message in client/chain/messages.py: {missing}"
    for name, fields in errors.items():
        used = {f for _, f, _, _ in string.Formatter().parse(TEMPLATES[name]) if f}
        assert used == fields, name


def test_no_message_for_an_error_that_no_longer_exists() -> None:
    assert sorted(set(TEMPLATES) - set(abi_errors())) == []


def _upper(member: str) -> str:
    """ "SetArbiterThreshold" → "SET_ARBITER_THRESHOLD"."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", member).upper()


def test_python_enums_equal_the_solidity_enums() -> None:
    enums = solidity_enums()
    assert set(BY_SOLIDITY_NAME) == set(enums)
    for name, members in enums.items():
        assert [m.name for m in BY_SOLIDITY_NAME[name]] == [_upper(m) for m in members], name
        assert [int(m) for m in BY_SOLIDITY_NAME[name]] == list(range(len(members))), name


def test_every_enum_in_the_abis_is_mirrored() -> None:
    used = {
        match.group(1)
        for artifact in all_artifacts().values()
        for match in re.finditer(r'"enum (?:\w+\.)?(\w+)"', str(artifact.abi).replace("'", '"'))
    }
    assert used and used <= set(BY_SOLIDITY_NAME)


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_every_event_and_error_has_natspec_where_it_is_declared(source: Path) -> None:
    lines = source.read_text().splitlines()
    undocumented = []
    for number, line in enumerate(lines):
        match = _DECLARATION.match(line)
        if not match:
            continue
        # The declaration's comment block: the `///` lines right above it.
        above = number - 1
        block = []
        while above >= 0 and lines[above].strip().startswith("///"):
            block.append(lines[above].strip())
            above -= 1
        if not any(b.startswith("/// @notice") for b in block):
            undocumented.append(f"{source.name}:{number + 1} {match.group(1)} {match.group(2)}")
    assert not undocumented, undocumented


COMMERCIAL = re.compile(r"price|size|purpose|policy|fee|amount", re.IGNORECASE)


def _names(params: list[dict[str, object]], prefix: str) -> list[str]:
    found = []
    for p in params:
        name = f"{prefix}.{p['name']}"
        found.append(name)
        found += _names(p.get("components", []), name)  # type: ignore[arg-type]
    return found


def test_no_commercial_term_in_any_event_or_call() -> None:
    """Confidential terms (docs/licences.md): price, size, purpose and policy reach the chain only
    inside a salted commitment, so no event, function or struct of any ABI has such a field."""
    named = []
    for contract, artifact in all_artifacts().items():
        for item in artifact.abi:
            if item["type"] in ("event", "function"):
                named += _names(item.get("inputs", []), f"{contract}.{item.get('name')}")
    assert any(n.endswith(".termsCommitment") for n in named)
    assert [n for n in named if COMMERCIAL.search(n.rsplit(".", 1)[1])] == []
