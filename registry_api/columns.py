"""Column types for unsigned integers wider than SQL's signed 64-bit BIGINT.

Solidity's `uint64` (validity windows, certification expiry, delivered sizes) reaches 2⁶⁴ − 1
and `uint256` (prices, nonces) far beyond; both databases' integers stop at 2⁶³ − 1, and
SQLite's NUMERIC silently turns big values into floating point. These types keep every value
exact and in order: PostgreSQL stores them as NUMERIC(digits, 0); SQLite as text, zero-padded
to a fixed width, so that text comparison is numeric comparison (`valid_until >= :now` works
on both).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Dialect, Numeric, String
from sqlalchemy.types import TypeDecorator, TypeEngine


class UnsignedInt(TypeDecorator[int]):
    """An unsigned integer of up to `digits` decimal digits, exact on SQLite and PostgreSQL."""

    impl = String
    cache_ok = True

    def __init__(self, digits: int) -> None:
        super().__init__()
        self.digits = digits
        self.limit = 10**digits

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(self.digits, 0, asdecimal=True))
        return dialect.type_descriptor(String(self.digits))

    def process_bind_param(self, value: int | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < self.limit:
            raise ValueError(f"{value!r} is not an unsigned integer of at most {self.digits} digits")
        return value if dialect.name == "postgresql" else str(value).zfill(self.digits)

    def process_result_value(self, value: Any, dialect: Dialect) -> int | None:
        return None if value is None else int(value)


def UInt64() -> UnsignedInt:
    """Solidity `uint64`: up to 18,446,744,073,709,551,615 (20 digits)."""
    return UnsignedInt(20)


def UInt256() -> UnsignedInt:
    """Solidity `uint256`: up to 78 digits."""
    return UnsignedInt(78)
