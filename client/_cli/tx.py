"""How a command shows a transaction it sent."""

from __future__ import annotations

from typing import Any

from ..chain.transact import TxResult
from ..jsonable import jsonable
from .common import console


def tx_json(tx: TxResult) -> dict[str, Any]:
    return {
        "transaction": tx.tx_hash,
        "block": tx.block_number,
        "blockHash": tx.block_hash,
        "gasUsed": tx.gas_used,
        "events": [{"contract": e.contract, "name": e.name, "args": jsonable(e.args)} for e in tx.events],
    }


def print_tx(tx: TxResult, summary: str) -> None:
    console.print(f"[green]✓[/] {summary}")
    console.print(f"  transaction {tx.tx_hash} in block {tx.block_number} (gas {tx.gas_used:,})")
