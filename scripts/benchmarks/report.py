"""Result tables and their three renderings: Rich (terminal), GitHub Markdown and JSON rows."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table as RichTable

Row = dict[str, Any]


@dataclass(frozen=True)
class Column:
    """One column: the row key it shows, its header, and how numbers are written."""

    key: str
    header: str
    #: Python format spec for numbers ("," for 45,745; ".1f" for 12.3); ignored for text.
    spec: str = ""

    def cell(self, row: Row) -> str:
        value = row.get(self.key)
        if value is None:
            return "—"
        if isinstance(value, bool):
            return "yes" if value else "**no**"
        if isinstance(value, float) and math.isnan(value):
            return "—"
        if isinstance(value, int | float) and self.spec:
            return format(value, self.spec)
        return str(value)

    @property
    def numeric(self) -> bool:
        return bool(self.spec)


@dataclass(frozen=True)
class Table:
    """A titled table of rows, with notes printed under it."""

    key: str
    title: str
    columns: list[Column]
    rows: list[Row]
    notes: list[str] = field(default_factory=list)


def render_rich(table: Table, console: Console) -> None:
    shown = RichTable(title=table.title, title_justify="left", title_style="bold")
    for column in table.columns:
        shown.add_column(column.header, justify="right" if column.numeric else "left")
    for row in table.rows:
        shown.add_row(*(column.cell(row).replace("**", "") for column in table.columns))
    console.print(shown)
    for note in table.notes:
        console.print(f"  {note}", style="dim", highlight=False)
    console.print()


def render_markdown(table: Table) -> str:
    lines = [f"#### {table.title}", ""]
    lines.append("| " + " | ".join(column.header for column in table.columns) + " |")
    lines.append("|" + "".join("---:|" if column.numeric else "---|" for column in table.columns))
    for row in table.rows:
        lines.append("| " + " | ".join(column.cell(row).replace("|", "\\|") for column in table.columns) + " |")
    if table.notes:
        lines.append("")
        lines += [f"- {note}" for note in table.notes]
    return "\n".join(lines) + "\n"


def json_ready(value: Any) -> Any:
    """Rows as JSON can hold them: NaN becomes null."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    return value
