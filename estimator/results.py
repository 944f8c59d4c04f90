"""What the estimator returns: frozen records of a workload's cost, mode by mode, and its traps.

Kept apart from the arithmetic (`estimator.costs`) so that the warnings (`estimator.checks`) can read
these records without importing the module that builds them.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Context, Decimal, Inexact, InvalidOperation, localcontext
from typing import Literal, get_args

from estimator.rates import ChannelTerms, ModeRates, Unpriced
from estimator.workload import Mode, Workload
from pricing import Model, PricePeriod, PromptTier

__all__ = [
    "CATEGORIES",
    "Category",
    "ChannelTerms",
    "CodeExecutionTerms",
    "CostLine",
    "Estimate",
    "EstimateWarning",
    "HitRateBand",
    "ModeCost",
    "NegotiatedTerms",
    "PreparedWorkload",
]

Category = Literal[
    "uncached_input",
    "cache_write_5m",
    "cache_write_1h",
    "cache_read",
    "output",
    "web_search",
    "thinking",
    "code_execution",
]
"""The lines of a bill. Token categories are priced per MTok (thinking at the output rate, shown apart from the
visible output); `web_search` counts searches and `code_execution` container-hours, each at the table's price.
New categories go at the end: CSV columns and other consumers keep their order."""
CATEGORIES: tuple[Category, ...] = get_args(Category)
PricedQuantity = tuple[Category, Decimal, Decimal | None, Decimal]
"""(category, quantity per request, rate per MTok or None, USD per request)."""
_ZERO = Decimal(0)


@dataclass(frozen=True)
class CostLine:
    """One category of a mode's bill. `quantity` is expected tokens (searches for `web_search`, container-hours
    for `code_execution`) over the workload: fractional when a hit rate splits requests between cache reads and
    writes. `rate_mtok` is None for the two that are not priced per token."""

    category: Category
    quantity: Decimal
    rate_mtok: Decimal | None
    usd: Decimal


@dataclass(frozen=True)
class ModeCost:
    """A mode's bill. `lines` (one per category, over the whole workload) are built on first read from the
    per-request figures: estimates that only need totals (sweeps, comparisons, the gate) skip them."""

    mode: Mode
    per_request_usd: Decimal
    total_usd: Decimal
    caching_applied: bool
    rates: ModeRates | None
    savings_usd: Decimal | None = None
    savings_pct: Decimal | None = None
    rank: int | None = None
    unavailable_reason: str | None = None
    per_request_lines: tuple[PricedQuantity, ...] = field(default=(), repr=False)
    requests: int = 0

    @property
    def available(self) -> bool:
        return self.unavailable_reason is None

    @functools.cached_property
    def lines(self) -> tuple[CostLine, ...]:
        if not self.per_request_lines:
            return tuple(CostLine(category, _ZERO, None, _ZERO) for category in CATEGORIES)
        requests = Decimal(self.requests)
        # Products of exact Decimals with an integer: no rounding at any precision that holds them.
        with localcontext(Context(prec=80, traps=[Inexact, InvalidOperation])):
            return tuple(
                CostLine(category, quantity * requests, rate, usd * requests)
                for category, quantity, rate, usd in self.per_request_lines
            )

    def line(self, category: Category) -> CostLine:
        return next(line for line in self.lines if line.category == category)

    @property
    def breakdown_usd(self) -> dict[Category, Decimal]:
        return {line.category: line.usd for line in self.lines}


@dataclass(frozen=True, eq=False)
class EstimateWarning:
    """A trap worth knowing. `field` names the workload input it concerns, for display beside it.

    The text may be given as a function: it is then written on first read of `message`, so that
    estimates nobody reads the warnings of (sweeps, comparisons, the gate) do not pay for the wording.
    """

    code: str
    text: str | Callable[[], str] = field(repr=False)
    field: str | None = None
    severity: Literal["warning", "info"] = "warning"

    @functools.cached_property
    def message(self) -> str:
        return self.text if isinstance(self.text, str) else self.text()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EstimateWarning):
            return NotImplemented
        return (self.code, self.message, self.field, self.severity) == (
            other.code,
            other.message,
            other.field,
            other.severity,
        )

    def __hash__(self) -> int:
        return hash((self.code, self.field, self.severity))

    def __repr__(self) -> str:
        return f"EstimateWarning(code={self.code!r}, message={self.message!r}, field={self.field!r})"


@dataclass(frozen=True)
class HitRateBand:
    """Batch cache hits are best-effort: the batch + caching total across the table's hit-rate band."""

    low_hit_rate: Decimal
    high_hit_rate: Decimal
    total_at_low_hit_rate_usd: Decimal
    total_at_high_hit_rate_usd: Decimal


@dataclass(frozen=True)
class CodeExecutionTerms:
    """Code execution for one workload: each container session is billed for at least the table's minimum, and
    container-hours at the table's hourly price, the same in every mode ("priced the same" in batches).

    `hours_per_request` = sessions × max(minimum, minutes) ÷ 60, rounded to `HOURS_PLACES` (a few nanoseconds)
    because minutes are not always a finite decimal of an hour; everything after it is exact. The organization's
    free monthly hours are not subtracted (every workload of the organization shares them): `free_hours_per_month`
    says how many there are."""

    sessions_per_request: Decimal
    billed_minutes_per_session: Decimal
    hours_per_request: Decimal
    usd_per_container_hour: Decimal
    minimum_minutes_per_session: Decimal
    free_hours_per_month: Decimal
    free_with_web_tools: bool
    usd_per_request: Decimal

    @property
    def used(self) -> bool:
        return self.sessions_per_request > 0


@dataclass(frozen=True)
class NegotiatedTerms:
    """Negotiated rates in force for one estimate: the file they came from and, in words, each rule that changed
    this model's rates on this day (none: the file has no rule for it, and the public prices apply)."""

    source_name: str
    applied: tuple[str, ...]

    @property
    def sentence(self) -> str:
        if not self.applied:
            return f"negotiated rates from {self.source_name}: none apply here; the public prices are used"
        return f"negotiated rates from {self.source_name} applied: {'; '.join(self.applied)}"


@dataclass(frozen=True)
class Estimate:
    workload: Workload
    model_id: str
    model_name: str
    as_of: dt.date
    prices_effective_from: dt.date
    tool_system_prompt_tokens: int
    cacheable_prefix_tokens: int
    prompt_tokens: int
    caching_possible: bool
    tier_threshold_tokens: int | None
    modes: tuple[ModeCost, ...]
    prices: PricePeriod
    batch_cached_hit_band: HitRateBand | None
    warnings: tuple[EstimateWarning, ...]
    channel: ChannelTerms | None = None
    code_execution: CodeExecutionTerms | None = None
    negotiated: NegotiatedTerms | None = None
    web_fetch_tokens_per_request: Decimal = _ZERO

    def mode(self, name: Mode) -> ModeCost:
        return next(mode for mode in self.modes if mode.mode == name)

    @property
    def ranking(self) -> tuple[ModeCost, ...]:
        """Available modes, cheapest first."""
        return tuple(sorted((m for m in self.modes if m.available), key=lambda m: m.rank or 0))


@dataclass(frozen=True)
class PreparedWorkload:
    """Everything resolved from the table for one workload; sweeps reuse it for thousands of points."""

    workload: Workload
    model: Model
    as_of: dt.date
    period: PricePeriod
    tool_system_prompt_tokens: int
    cacheable_prefix_tokens: int
    prompt_tokens: int
    caching_possible: bool
    tier: PromptTier | None
    rates: dict[Mode, ModeRates | Unpriced]
    web_search_usd_per_request: Decimal
    before_release: bool
    channel: ChannelTerms | None = None
    code_execution: CodeExecutionTerms | None = None
    web_fetch_tokens_per_request: Decimal = _ZERO
    negotiated: NegotiatedTerms | None = None
