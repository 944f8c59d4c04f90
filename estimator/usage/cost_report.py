"""Our priced usage beside Anthropic's cost report, per day and model, with the difference.

The cost report gives amounts in cents as decimal strings ("123.45" is $1.2345, fractional cents occur);
they are read exactly and converted by moving the decimal point, never through a float, and never rounded
per row. Where the report names models (the legacy report grouped by `description`, the analytics report
grouped by `model`), rows are compared per day and model; costs the report gives without a model (web
search, code execution, session time when not grouped by model) are compared in the day's total only.

What cannot match, by design: Priority Tier usage (not in the cost report, and not priced by us); code
execution and Managed Agents session time (in the cost report only, never in usage); discounts, which the
analytics `amount` reflects (`list_amount` is the pre-discount figure, which list prices should match).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, localcontext

from estimator.costs import EXACT
from estimator.usage.pricer import PricedLine
from estimator.usage.records import CostReportRow
from pricing import PriceTable, PricingError

__all__ = ["CENT", "CostComparison", "CostComparisonRow", "compare_with_cost_report"]

CENT = Decimal("0.01")
"""A difference below one cent is "to the cent"."""


@dataclass(frozen=True)
class CostComparisonRow:
    """One day (and model, when the report names it): ours, the report's, and ours minus the report's.
    `model_id` None is the day's total."""

    day: dt.date
    model_id: str | None
    ours_usd: Decimal
    reported_usd: Decimal | None
    reported_list_usd: Decimal | None
    difference_usd: Decimal | None

    @property
    def to_the_cent(self) -> bool:
        return self.difference_usd is not None and abs(self.difference_usd) < CENT


@dataclass(frozen=True)
class CostComparison:
    rows: tuple[CostComparisonRow, ...]
    ours_total_usd: Decimal
    reported_total_usd: Decimal
    difference_usd: Decimal
    notes: tuple[str, ...]

    @property
    def to_the_cent(self) -> bool:
        return abs(self.difference_usd) < CENT


def compare_with_cost_report(
    lines: Iterable[PricedLine], cost_rows: Iterable[CostReportRow], table: PriceTable
) -> CostComparison:
    """Compare per day (within the report's dates) and, where the report names models, per day and model."""
    reported: dict[tuple[dt.date, str | None], Decimal] = defaultdict(Decimal)
    reported_list: dict[tuple[dt.date, str | None], Decimal] = defaultdict(Decimal)
    has_list: set[tuple[dt.date, str | None]] = set()
    notes: set[str] = set()
    days: set[dt.date] = set()
    with localcontext(EXACT):
        for row in cost_rows:
            model = _model_id(row.model, table, notes)
            days.add(row.day)
            keys: tuple[tuple[dt.date, str | None], ...] = ((row.day, None),)
            if model is not None:
                keys = ((row.day, model), (row.day, None))
            for key in keys:
                reported[key] += row.amount_cents.scaleb(-2)
                if row.list_amount_cents is not None:
                    reported_list[key] += row.list_amount_cents.scaleb(-2)
                    has_list.add(key)
            if row.cost_type in ("code_execution", "session_usage"):
                notes.add(
                    f"the report includes {row.cost_type.replace('_', ' ')} costs, which usage does not show: "
                    "they appear only in the difference"
                )
        ours: dict[tuple[dt.date, str | None], Decimal] = defaultdict(Decimal)
        outside = Decimal(0)
        for line in lines:
            if line.day not in days:
                outside += line.total_usd
                continue
            ours[(line.day, line.model_id)] += line.total_usd
            ours[(line.day, None)] += line.total_usd
    if outside:
        notes.add("usage dated outside the report's days is left out of the comparison")
    modelled = {key for key in reported if key[1] is not None}
    ordered = sorted({key for key in ours if key[1] is None or key in modelled} | set(reported), key=_order)
    rows = []
    with localcontext(EXACT):
        for key in ordered:
            mine = ours.get(key, Decimal(0))
            theirs = reported.get(key)
            rows.append(
                CostComparisonRow(
                    day=key[0],
                    model_id=key[1],
                    ours_usd=mine,
                    reported_usd=theirs,
                    reported_list_usd=reported_list[key] if key in has_list else None,
                    difference_usd=None if theirs is None else mine - theirs,
                )
            )
        ours_total = sum((row.ours_usd for row in rows if row.model_id is None), Decimal(0))
        reported_total = sum((row.reported_usd or Decimal(0) for row in rows if row.model_id is None), Decimal(0))
    return CostComparison(
        rows=tuple(rows),
        ours_total_usd=ours_total,
        reported_total_usd=reported_total,
        difference_usd=ours_total - reported_total,
        notes=tuple(sorted(notes)),
    )


def _order(key: tuple[dt.date, str | None]) -> tuple[dt.date, int, str]:
    return key[0], key[1] is None, key[1] or ""


def _model_id(name: str | None, table: PriceTable, notes: set[str]) -> str | None:
    if name is None:
        return None
    try:
        return table.model(name).id
    except PricingError:
        notes.add(f"the report names a model the price table does not know ({name}): compared under that name")
        return name
