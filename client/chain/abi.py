"""Decoding against the compiled ABIs: custom errors and event logs, for every contract."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_abi.decoding import ContextFramesBytesIO, TupleDecoder
from eth_abi.exceptions import DecodingError
from eth_abi.registry import registry as abi_registry
from eth_utils import function_signature_to_4byte_selector, keccak, to_checksum_address

from .artifacts import Artifact, all_artifacts
from .enums import BY_SOLIDITY_NAME


def _canonical_type(item: dict[str, Any]) -> str:
    if item["type"].startswith("tuple"):
        inner = ",".join(_canonical_type(c) for c in item["components"])
        return f"({inner}){item['type'][5:]}"
    return str(item["type"])


def signature(item: dict[str, Any]) -> str:
    """`Name(type1,type2)` of an ABI error or event."""
    return f"{item['name']}({','.join(_canonical_type(i) for i in item['inputs'])})"


def python_value(item: dict[str, Any], value: Any) -> Any:
    """An ABI-decoded value in the form the client uses: checksummed addresses, 0x-hex bytes,
    enum members for Solidity enums, lists and dicts for arrays and structs."""
    internal = str(item.get("internalType", ""))
    kind = str(item["type"])
    if kind.endswith("]"):
        element = dict(
            item,
            type=kind[: kind.rindex("[")],
            internalType=internal[: internal.rindex("[")] if "[" in internal else internal,
        )
        return [python_value(element, v) for v in value]
    if kind == "tuple":
        return {c["name"]: python_value(c, v) for c, v in zip(item["components"], value, strict=True)}
    if internal.startswith("enum "):
        # "enum IConsortium.Role" for a contract's enum, "enum Grade" for a file-level one.
        enum = BY_SOLIDITY_NAME.get(internal.removeprefix("enum ").rsplit(".", 1)[-1])
        if enum is not None:
            try:
                return enum(value)
            except ValueError:
                return value
    if kind == "address":
        return to_checksum_address(value)
    if kind.startswith("bytes"):
        return "0x" + bytes(value).hex()
    return value


@dataclass(frozen=True)
class DecodedError:
    contract: str
    name: str
    values: dict[str, Any]


@dataclass(frozen=True)
class DecodedEvent:
    contract: str
    name: str
    args: dict[str, Any]


@cache
def _error_table() -> dict[bytes, tuple[str, dict[str, Any]]]:
    table: dict[bytes, tuple[str, dict[str, Any]]] = {}
    for name, artifact in all_artifacts().items():
        for item in artifact.abi:
            if item["type"] == "error":
                table.setdefault(function_signature_to_4byte_selector(signature(item)), (name, item))
    return table


@cache
def _event_table() -> dict[bytes, tuple[str, dict[str, Any]]]:
    table: dict[bytes, tuple[str, dict[str, Any]]] = {}
    for name, artifact in all_artifacts().items():
        for item in artifact.abi:
            if item["type"] == "event":
                table.setdefault(keccak(text=signature(item)), (name, item))
    return table


def event_topic(contract: str, name: str) -> str:
    """The 0x-hex topic 0 of event `name` of `contract`, from its ABI."""
    for topic, (owner, item) in _event_table().items():
        if owner == contract and item["name"] == name:
            return "0x" + topic.hex()
    raise KeyError(f"{contract} has no event {name}")


def decode_error(data: bytes) -> DecodedError | None:
    """The custom error in revert data, or None when the data is not one of ours."""
    entry = _error_table().get(bytes(data[:4]))
    if entry is None:
        return None
    contract, item = entry
    types = [_canonical_type(i) for i in item["inputs"]]
    try:
        raw = abi_decode(types, bytes(data[4:]))
    except DecodingError:  # malformed revert data is simply "not ours"
        return None
    values = {i["name"]: python_value(i, v) for i, v in zip(item["inputs"], raw, strict=True)}
    return DecodedError(contract, item["name"], values)


@dataclass(frozen=True)
class _EventLayout:
    """How to decode one event: its indexed and plain inputs and a ready tuple decoder."""

    contract: str
    name: str
    indexed: list[tuple[dict[str, Any], str]]
    plain: list[dict[str, Any]]
    data: TupleDecoder
    order: list[str]


@cache
def _layouts() -> dict[bytes, _EventLayout]:
    """Every event by topic 0, with its decoder built once: eth_abi's `decode` builds one per
    call, which was most of an indexer's decoding time."""
    layouts: dict[bytes, _EventLayout] = {}
    for topic, (contract, item) in _event_table().items():
        plain = [i for i in item["inputs"] if not i["indexed"]]
        decoder = TupleDecoder(decoders=[abi_registry.get_decoder(_canonical_type(i)) for i in plain])  # type: ignore[no-untyped-call]
        layouts[topic] = _EventLayout(
            contract,
            item["name"],
            [(i, _canonical_type(i)) for i in item["inputs"] if i["indexed"]],
            plain,
            decoder,
            [i["name"] for i in item["inputs"]],
        )
    return layouts


def _topic_value(item: dict[str, Any], kind: str, topic: bytes) -> Any:
    """An indexed argument from its 32-byte topic. Reference types (strings, bytes, arrays,
    structs) are stored as their keccak hash, so the topic is all there is."""
    if kind in ("string", "bytes") or kind.endswith("]") or kind.startswith("("):
        return "0x" + topic.hex()
    if len(topic) != 32:
        raise DecodingError(f"a topic of {len(topic)} bytes")
    if kind == "address":
        raw: Any = "0x" + topic[12:].hex()
    elif kind == "bool":
        raw = int.from_bytes(topic, "big") != 0
    elif kind.startswith("uint"):
        raw = int.from_bytes(topic, "big")
    elif kind.startswith("int"):
        raw = int.from_bytes(topic, "big", signed=True)
    elif kind.startswith("bytes"):
        raw = topic[: int(kind[5:])]
    else:
        raw = abi_decode([kind], topic)[0]
    return python_value(item, raw)


def decode_log(topics: list[bytes], data: bytes) -> DecodedEvent | None:
    """The event in a log, decoded with the ABIs of all contracts; None if it is not ours."""
    if not topics:
        return None
    layout = _layouts().get(bytes(topics[0]))
    if layout is None:
        return None
    values: dict[str, Any] = {}
    for (item, kind), topic in zip(layout.indexed, topics[1:], strict=True):
        values[item["name"]] = _topic_value(item, kind, bytes(topic))
    decoded = layout.data(ContextFramesBytesIO(bytes(data)))  # type: ignore[no-untyped-call]
    for item, value in zip(layout.plain, decoded, strict=True):
        values[item["name"]] = python_value(item, value)
    return DecodedEvent(layout.contract, layout.name, {name: values[name] for name in layout.order})


def deployment_data(artifact: Artifact, *args: Any) -> str:
    """Creation bytecode followed by the ABI-encoded constructor arguments."""
    inputs: list[dict[str, Any]] = next((i["inputs"] for i in artifact.abi if i["type"] == "constructor"), [])
    return artifact.bytecode + abi_encode([_canonical_type(i) for i in inputs], list(args)).hex()
