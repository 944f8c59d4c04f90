"""Tables whose numbers stay numbers: rows of plain values plus a description of each column.

A table built here sorts by value in the app (money, rates, token counts and percentages are floats or ints,
never text), and each column says how to show its numbers: a printf format with as many decimals as the
column's smallest value needs to read as `estimator.format` would write it ($0.0162, 3.00, 1,234). Values
are rounded half-up to those decimals first, so the figure shown is the one the CLI prints; the exact
figures stay in the downloads. No Streamlit here: `ui.session.show_table` turns a `Table` into a dataframe.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

__all__ = [
    "Cell",
    "Column",
    "Table",
    "count_column",
    "display_number",
    "factor_text",
    "money_column",
    "money_decimals",
    "percent_column",
    "rate_column",
    "rate_decimals",
    "text_column",
]

Cell = str | int | float | None
Kind = Literal["text", "number"]
Width = Literal["small", "medium", "large"]

_MAX_DECIMALS = 6


@dataclass(frozen=True)
class Column:
    """How one column shows: text, or a number with a printf format (`$%,.2f`, `%,d`, `%.1f%%`)."""

    kind: Kind = "text"
    format: str | None = None
    help: str | None = None
    width: Width | None = None


@dataclass(frozen=True)
class Table:
    """Rows (column name → value) and each column's description, in display order."""

    rows: list[dict[str, Cell]]
    columns: Mapping[str, Column] = field(default_factory=dict)

    def column(self, name: str) -> list[Cell]:
        return [row.get(name) for row in self.rows]


def display_number(value: Decimal | None, decimals: int) -> float | None:
    """`value` rounded half-up to `decimals` places, as the float a table sorts and shows."""
    if value is None:
        return None
    return float(value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


def money_decimals(values: Iterable[Decimal | None]) -> int:
    """Places that show every amount as `format_usd` does: cents from $1, three significant digits below."""
    places = 2
    for value in values:
        if value is not None and 0 < abs(value) < 1:
            places = max(places, min(_MAX_DECIMALS, 2 - abs(value).adjusted()))
    return places


def rate_decimals(values: Iterable[Decimal | None]) -> int:
    """Places that show every per-MTok rate unrounded (at least two, as `format_rate` does)."""
    places = 2
    for value in values:
        if value is not None:
            exponent = value.normalize().as_tuple().exponent
            if isinstance(exponent, int):
                places = max(places, min(_MAX_DECIMALS, -exponent))
    return places


def money_column(decimals: int, help: str | None = None) -> Column:
    return Column("number", f"$%,.{decimals}f", help, "small")


def rate_column(decimals: int, help: str | None = None) -> Column:
    return Column("number", f"%.{decimals}f", help, "small")


def count_column(help: str | None = None) -> Column:
    return Column("number", "%,d", help, "small")


def percent_column(help: str | None = None) -> Column:
    """A percentage held as its number (85.0 for 85%), one decimal shown."""
    return Column("number", "%.1f%%", help, "small")


def text_column(help: str | None = None, width: Width | None = None) -> Column:
    return Column("text", None, help, width)


def factor_text(value: Decimal) -> str:
    """A multiplier for reading, three significant digits at most: 1.3, 1.35, 0.769 (never 0.76923…)."""
    if value == 0:
        return "0"
    rounded = value.quantize(Decimal(1).scaleb(value.adjusted() - 2), rounding=ROUND_HALF_UP)
    text = format(rounded, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
