"""The one way to turn the client's values into plain JSON (the CLI's `--json`, the API, the index).

The convention is the API's (docs/json.md): camelCase keys (a dataclass field `valid_from`
is `validFrom`), enums by their lower-case name (grade "general", status "active"),
permission sets as a list of names, organisations as `{"orgNo", "orgId", "name"}`, 32-byte
values as 0x-hex, times as Unix seconds. Mapping keys are kept as they are: they are the
ABI's names (already camelCase) or values such as a right's name.
"""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from enum import Flag, IntEnum
from pathlib import Path
from typing import Any, Literal


def camel(name: str) -> str:
    """`valid_from` → `validFrom`.

    >>> camel("block_number"), camel("root")
    ('blockNumber', 'root')
    """
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def jsonable(value: Any, *, enums: Literal["name", "int"] = "name", drop_none: bool = False) -> Any:
    """Plain JSON types for dataclasses, enums, permission flags, bytes and paths.

    `enums="int"` keeps enum members as their numbers (the index stores event arguments so);
    `drop_none` leaves out keys whose value is None.

    >>> from client.chain.enums import Grade, Permission
    >>> jsonable({"grade": Grade.IMPORTANT, "permissions": Permission.READ | Permission.DERIVE, "hash": b"\\x01"})
    {'grade': 'important', 'permissions': ['read', 'derive'], 'hash': '0x01'}
    >>> jsonable([Grade.CORE], enums="int")
    [2]
    """
    if is_dataclass(value) and not isinstance(value, type):
        items = {camel(f.name): getattr(value, f.name) for f in fields(value)}
        return jsonable(items, enums=enums, drop_none=drop_none)
    if isinstance(value, IntEnum):
        return value.name.lower() if enums == "name" else int(value)
    if isinstance(value, Flag):
        if enums == "int":
            return int(value)  # type: ignore[call-overload]
        return [member.name.lower() for member in type(value) if member in value and member.name]
    if isinstance(value, dict):
        return {
            str(k): jsonable(v, enums=enums, drop_none=drop_none)
            for k, v in value.items()
            if not (drop_none and v is None)
        }
    if isinstance(value, list | tuple):
        return [jsonable(v, enums=enums, drop_none=drop_none) for v in value]
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, Path):
        return str(value)
    return value
