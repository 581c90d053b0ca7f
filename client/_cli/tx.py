"""How a command shows a transaction it sent."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .common import console

if TYPE_CHECKING:
    from ..chain.transact import TxResult


def tx_json(tx: TxResult) -> dict[str, Any]:
    return tx.to_json()


def print_tx(tx: TxResult, summary: str) -> None:
    console.print(f"[green]✓[/] {summary}")
    console.print(f"  transaction {tx.tx_hash} in block {tx.block_number} (gas {tx.gas_used:,})")
