"""What the estimator returns: frozen records of a workload's cost, mode by mode, and its traps.

Kept apart from the arithmetic (`estimator.costs`) so that the warnings (`estimator.checks`) can read
these records without importing the module that builds them. The one piece of arithmetic here is the pricing of a
bill's lines (`priced_quantities`), which a `ModeCost` does on first read of its lines.

The records are frozen dataclasses whose `__init__` is written out: the generated one sets each field through
`object.__setattr__`, and an estimate builds several of these records in a few microseconds.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Context, Decimal, Inexact, InvalidOperation, localcontext
from typing import Literal, get_args

from estimator.errors import EstimatorError
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
MTOK = Decimal(1_000_000)
_EXACT = Context(prec=80, traps=[Inexact, InvalidOperation])
"""`estimator.costs.EXACT`: every product and quotient here is exact, and rounding would be an error."""
_PERCENT = Context(prec=28)


@dataclass(frozen=True)
class CostLine:
    """One category of a mode's bill. `quantity` is expected tokens (searches for `web_search`, container-hours
    for `code_execution`) over the workload: fractional when a hit rate splits requests between cache reads and
    writes. `rate_mtok` is None for the two that are not priced per token."""

    category: Category
    quantity: Decimal
    rate_mtok: Decimal | None
    usd: Decimal


class _SavingsPercent:
    """`ModeCost.savings_pct` of a bill built by `ModeCost._of_estimate`: the saving as a percentage of the baseline,
    computed on first read (a 28-significant-digit division, the dearest figure of an estimate, which sweeps,
    comparisons and the gate never read) and kept. A ratio, not money: the only rounded figure of a bill.
    A non-data descriptor: a value given to the constructor sits in the instance and wins."""

    def __get__(self, bill: ModeCost | None, owner: type | None = None) -> Decimal | None:
        if bill is None:
            return None  # on the class: the field's default
        values = bill.__dict__
        savings, baseline = values.get("savings_usd"), values.get("_baseline_usd")
        percent = None
        if savings is not None and baseline:
            with localcontext(_PERCENT):
                percent = savings * 100 / baseline
        values["savings_pct"] = percent
        return percent


@dataclass(frozen=True, init=False)
class ModeCost:
    """A mode's bill. `lines` (one per category, over the whole workload) are built on first read from the
    per-request quantities: estimates that only need totals (sweeps, comparisons, the gate) skip them; so is
    `savings_pct` in the bills `estimate` makes (see `_SavingsPercent`).

    `per_request_quantities` holds, per request, each category's quantity in `CATEGORIES` order, then the USD of
    web search and of code execution (priced per search and per container-hour, not per token): with `rates`,
    everything the lines are priced from."""

    mode: Mode
    per_request_usd: Decimal
    total_usd: Decimal
    caching_applied: bool
    rates: ModeRates | None
    savings_usd: Decimal | None = None
    savings_pct: Decimal | None = _SavingsPercent()  # type: ignore[assignment]  # a descriptor; the default is None
    rank: int | None = None
    unavailable_reason: str | None = None
    per_request_quantities: tuple[Decimal | int, ...] = field(default=(), repr=False)
    requests: int = 0

    def __init__(
        self,
        mode: Mode,
        per_request_usd: Decimal,
        total_usd: Decimal,
        caching_applied: bool,
        rates: ModeRates | None,
        savings_usd: Decimal | None = None,
        savings_pct: Decimal | None = None,
        rank: int | None = None,
        unavailable_reason: str | None = None,
        per_request_quantities: tuple[Decimal | int, ...] = (),
        requests: int = 0,
    ) -> None:
        # The generated __init__ of a frozen dataclass sets each field through object.__setattr__ (~80 ns apiece);
        # `estimate` builds four of these per call, so the fields are set in one go.
        object.__setattr__(
            self,
            "__dict__",
            {
                "mode": mode,
                "per_request_usd": per_request_usd,
                "total_usd": total_usd,
                "caching_applied": caching_applied,
                "rates": rates,
                "savings_usd": savings_usd,
                "savings_pct": savings_pct,
                "rank": rank,
                "unavailable_reason": unavailable_reason,
                "per_request_quantities": per_request_quantities,
                "requests": requests,
            },
        )

    @classmethod
    def _of_estimate(
        cls,
        mode: Mode,
        per_request_usd: Decimal,
        total_usd: Decimal,
        caching_applied: bool,
        rates: ModeRates,
        savings_usd: Decimal | None,
        baseline_usd: Decimal | None,
        rank: int | None,
        per_request_quantities: tuple[Decimal | int, ...],
        requests: int,
    ) -> ModeCost:
        """A priced mode as `estimate` builds it: `savings_pct` (`savings_usd` against `baseline_usd`) written on
        first read, and no __init__ call (the estimator builds four of these per estimate)."""
        bill = object.__new__(cls)
        object.__setattr__(
            bill,
            "__dict__",
            {
                "mode": mode,
                "per_request_usd": per_request_usd,
                "total_usd": total_usd,
                "caching_applied": caching_applied,
                "rates": rates,
                "savings_usd": savings_usd,
                "_baseline_usd": baseline_usd,
                "rank": rank,
                "unavailable_reason": None,
                "per_request_quantities": per_request_quantities,
                "requests": requests,
            },
        )
        return bill

    @property
    def available(self) -> bool:
        return self.unavailable_reason is None

    @functools.cached_property
    def per_request_lines(self) -> tuple[PricedQuantity, ...]:
        """(category, quantity, rate per MTok, USD) for one request, in `CATEGORIES` order; empty when unpriced."""
        if not self.per_request_quantities or self.rates is None:
            return ()
        *counts, search_usd, code_execution_usd = (Decimal(value) for value in self.per_request_quantities)
        quantities = dict(zip(CATEGORIES, counts, strict=True))
        with localcontext(_EXACT):
            return tuple(priced_quantities(quantities, self.rates, search_usd, code_execution_usd))

    @functools.cached_property
    def lines(self) -> tuple[CostLine, ...]:
        per_request = self.per_request_lines
        if not per_request:
            return tuple(CostLine(category, _ZERO, None, _ZERO) for category in CATEGORIES)
        requests = Decimal(self.requests)
        # Products of exact Decimals with an integer: no rounding at any precision that holds them.
        with localcontext(_EXACT):
            return tuple(
                CostLine(category, quantity * requests, rate, usd * requests)
                for category, quantity, rate, usd in per_request
            )

    def line(self, category: Category) -> CostLine:
        return next(line for line in self.lines if line.category == category)

    @property
    def breakdown_usd(self) -> dict[Category, Decimal]:
        return {line.category: line.usd for line in self.lines}


def priced_quantities(
    quantities: dict[Category, Decimal], rates: ModeRates, search_usd: Decimal, code_execution_usd: Decimal = _ZERO
) -> Iterator[PricedQuantity]:
    """(category, quantity, rate per MTok, USD) in `CATEGORIES` order, inside an exact decimal context. Categories
    missing from `quantities` count as zero; web search and code execution come priced (USD per request)."""
    token_rates: tuple[tuple[Category, Decimal | None], ...] = (
        ("uncached_input", rates.input_mtok),
        ("cache_write_5m", rates.cache_write_5m_mtok),
        ("cache_write_1h", rates.cache_write_1h_mtok),
        ("cache_read", rates.cache_read_mtok),
        ("output", rates.output_mtok),
    )
    for category, rate in token_rates:
        quantity = quantities.get(category, _ZERO)
        if rate is None:
            if quantity:
                raise EstimatorError(f"internal: no {category} rate for a mode that uses it")
            yield category, quantity, None, _ZERO
        else:
            yield category, quantity, rate, quantity * rate / MTOK
    yield "web_search", quantities.get("web_search", _ZERO), None, search_usd
    thinking = quantities.get("thinking", _ZERO)  # billed as output, shown apart
    yield "thinking", thinking, rates.output_mtok, thinking * rates.output_mtok / MTOK
    yield "code_execution", quantities.get("code_execution", _ZERO), None, code_execution_usd


@dataclass(frozen=True, eq=False, init=False)
class EstimateWarning:
    """A trap worth knowing. `field` names the workload input it concerns, for display beside it.

    The text may be given as a function: it is then written on first read of `message`, so that
    estimates nobody reads the warnings of (sweeps, comparisons, the gate) do not pay for the wording.
    """

    code: str
    text: str | Callable[[], str] = field(repr=False)
    field: str | None = None
    severity: Literal["warning", "info"] = "warning"

    def __init__(
        self,
        code: str,
        text: str | Callable[[], str],
        field: str | None = None,
        severity: Literal["warning", "info"] = "warning",
    ) -> None:
        # Fields set in one go, not one object.__setattr__ each (see ModeCost): most estimates carry one or two.
        object.__setattr__(self, "__dict__", {"code": code, "text": text, "field": field, "severity": severity})

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


@dataclass(frozen=True, init=False)
class HitRateBand:
    """Batch cache hits are best-effort: the batch + caching total across the table's hit-rate band."""

    low_hit_rate: Decimal
    high_hit_rate: Decimal
    total_at_low_hit_rate_usd: Decimal
    total_at_high_hit_rate_usd: Decimal

    def __init__(
        self,
        low_hit_rate: Decimal,
        high_hit_rate: Decimal,
        total_at_low_hit_rate_usd: Decimal,
        total_at_high_hit_rate_usd: Decimal,
    ) -> None:
        # Fields set in one go, not one object.__setattr__ each (see ModeCost): one of these per estimate.
        object.__setattr__(
            self,
            "__dict__",
            {
                "low_hit_rate": low_hit_rate,
                "high_hit_rate": high_hit_rate,
                "total_at_low_hit_rate_usd": total_at_low_hit_rate_usd,
                "total_at_high_hit_rate_usd": total_at_high_hit_rate_usd,
            },
        )


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


@dataclass(frozen=True, init=False)
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

    def __init__(
        self,
        workload: Workload,
        model_id: str,
        model_name: str,
        as_of: dt.date,
        prices_effective_from: dt.date,
        tool_system_prompt_tokens: int,
        cacheable_prefix_tokens: int,
        prompt_tokens: int,
        caching_possible: bool,
        tier_threshold_tokens: int | None,
        modes: tuple[ModeCost, ...],
        prices: PricePeriod,
        batch_cached_hit_band: HitRateBand | None,
        warnings: tuple[EstimateWarning, ...],
        channel: ChannelTerms | None = None,
        code_execution: CodeExecutionTerms | None = None,
        negotiated: NegotiatedTerms | None = None,
        web_fetch_tokens_per_request: Decimal = _ZERO,
    ) -> None:
        # Fields set in one go, not one object.__setattr__ each (see ModeCost): one of these per estimate.
        object.__setattr__(
            self,
            "__dict__",
            {
                "workload": workload,
                "model_id": model_id,
                "model_name": model_name,
                "as_of": as_of,
                "prices_effective_from": prices_effective_from,
                "tool_system_prompt_tokens": tool_system_prompt_tokens,
                "cacheable_prefix_tokens": cacheable_prefix_tokens,
                "prompt_tokens": prompt_tokens,
                "caching_possible": caching_possible,
                "tier_threshold_tokens": tier_threshold_tokens,
                "modes": modes,
                "prices": prices,
                "batch_cached_hit_band": batch_cached_hit_band,
                "warnings": warnings,
                "channel": channel,
                "code_execution": code_execution,
                "negotiated": negotiated,
                "web_fetch_tokens_per_request": web_fetch_tokens_per_request,
            },
        )

    def mode(self, name: Mode) -> ModeCost:
        return next(mode for mode in self.modes if mode.mode == name)

    @property
    def ranking(self) -> tuple[ModeCost, ...]:
        """Available modes, cheapest first."""
        return tuple(sorted((m for m in self.modes if m.available), key=lambda m: m.rank or 0))


@dataclass(frozen=True, init=False)
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

    def __init__(
        self,
        workload: Workload,
        model: Model,
        as_of: dt.date,
        period: PricePeriod,
        tool_system_prompt_tokens: int,
        cacheable_prefix_tokens: int,
        prompt_tokens: int,
        caching_possible: bool,
        tier: PromptTier | None,
        rates: dict[Mode, ModeRates | Unpriced],
        web_search_usd_per_request: Decimal,
        before_release: bool,
        channel: ChannelTerms | None = None,
        code_execution: CodeExecutionTerms | None = None,
        web_fetch_tokens_per_request: Decimal = _ZERO,
        negotiated: NegotiatedTerms | None = None,
    ) -> None:
        # Fields set in one go, not one object.__setattr__ each (see ModeCost): one of these per estimate.
        object.__setattr__(
            self,
            "__dict__",
            {
                "workload": workload,
                "model": model,
                "as_of": as_of,
                "period": period,
                "tool_system_prompt_tokens": tool_system_prompt_tokens,
                "cacheable_prefix_tokens": cacheable_prefix_tokens,
                "prompt_tokens": prompt_tokens,
                "caching_possible": caching_possible,
                "tier": tier,
                "rates": rates,
                "web_search_usd_per_request": web_search_usd_per_request,
                "before_release": before_release,
                "channel": channel,
                "code_execution": code_execution,
                "web_fetch_tokens_per_request": web_fetch_tokens_per_request,
                "negotiated": negotiated,
            },
        )
