"""Planning beyond one number: break-even, hit rate from traffic, budgets, sweeps, model comparison."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Context, Decimal, localcontext

from estimator.costs import EXACT, MTOK, Estimate, EstimateWarning, estimate, mode_cost, prepare, priced_table
from estimator.errors import EstimatorError, InvalidWorkloadError
from estimator.overrides import NegotiatedRates
from estimator.rates import tier_for
from estimator.workload import (
    MAX_REQUESTS,
    MODES,
    CacheTTL,
    Mode,
    Workload,
    to_decimal,
    to_fraction,
    to_token_count,
)
from pricing import PriceTable, PricingError, load_price_table

__all__ = [
    "BreakEven",
    "BudgetResult",
    "ModelComparison",
    "Sweep",
    "SweepPoint",
    "TokenScale",
    "break_even",
    "budget",
    "compare_models",
    "hit_rate_from_traffic",
    "lifecycle_warnings",
    "sweep_hit_rate",
    "sweep_prefix_tokens",
    "sweep_requests",
    "token_scale",
]

_RATIO = Context(prec=28)
HIT_RATE_PLACES = Decimal("1e-12")


# --- break-even ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BreakEven:
    """Where caching starts to pay, for one TTL. With a write premium w, read price r and input price i
    (per token), caching a prefix pays when h·r + (1−h)·w < i, i.e. above `hit_rate` = (w − i)/(w − r);
    one write followed by k reads beats k + 1 uncached sends once k ≥ `reads_to_pay_off`."""

    ttl: CacheTTL
    hit_rate: Decimal
    reads_to_pay_off: int
    write_mtok: Decimal
    read_mtok: Decimal
    input_mtok: Decimal


def break_even(
    model: str, *, as_of: dt.date | None = None, batch: bool = False, table: PriceTable | None = None
) -> tuple[BreakEven, ...]:
    """Break-even hit rate and reuse count for each TTL, from the model's rates on `as_of`."""
    workload = Workload(model=model, requests=1, as_of=as_of)
    prepared = prepare(workload, table)
    rates = prepared.rates["batch_cached" if batch else "realtime_cached"]
    if not hasattr(rates, "cache_read_mtok"):
        raise EstimatorError(f"no break-even for {prepared.model.name}: {getattr(rates, 'reason', '')}")
    results = []
    for ttl in ("5m", "1h"):
        write, read, base = rates.cache_write_mtok(ttl), rates.cache_read_mtok, rates.input_mtok  # type: ignore[union-attr]
        if write is None or read is None:
            raise EstimatorError(f"no cache prices for {prepared.model.name}")
        results.append(_break_even_for(ttl, write, read, base))
    return tuple(results)


LIFECYCLE_CODES = frozenset({"before_release", "retired", "deprecated"})


def lifecycle_warnings(model: str, day: dt.date, *, table: PriceTable | None = None) -> tuple[EstimateWarning, ...]:
    """The lifecycle warnings `estimate` gives for `model` on `day` (released yet? deprecated? retired?), word
    for word: commands that price no workload (breakeven, the dry run) say the same as `estimate`."""
    result = estimate(Workload(model=model, requests=1, as_of=day), table=table)
    return tuple(warning for warning in result.warnings if warning.code in LIFECYCLE_CODES)


def _break_even_for(ttl: CacheTTL, write: Decimal, read: Decimal, base: Decimal) -> BreakEven:
    with localcontext(_RATIO):
        hit_rate = max(Decimal(0), (write - base) / (write - read))
        reuse = (write - base) / (base - read)
    reads = 0 if write <= base else int(reuse.to_integral_value(rounding=ROUND_FLOOR)) + 1
    return BreakEven(ttl, hit_rate, reads, write, read, base)


# --- hit rate from traffic -------------------------------------------------------------------------


def hit_rate_from_traffic(requests_per_hour: object, ttl: CacheTTL, *, table: PriceTable | None = None) -> Decimal:
    """Expected cache hit rate for requests arriving at a steady average rate (a Poisson process)
    against a cache whose entry lives `ttl` and is refreshed by every hit: a request hits when the
    previous one arrived less than a TTL earlier, so h = 1 − e^(−rate·TTL). Concurrent first requests
    (which all miss, since an entry is readable only once the first response begins) are not modelled."""
    rate = to_decimal(requests_per_hour, "requests_per_hour")
    rules = (table or load_price_table()).rules.caching
    seconds = {"5m": rules.ttl_5m_seconds, "1h": rules.ttl_1h_seconds}.get(ttl)
    if seconds is None:
        raise InvalidWorkloadError(f"cache_ttl must be 5m or 1h, got {ttl!r}")
    with localcontext(Context(prec=40)):
        arrivals_per_ttl = rate * seconds / 3600
        hit = 1 - (-arrivals_per_ttl).exp()
    return hit.quantize(HIT_RATE_PLACES, rounding=ROUND_HALF_UP)


# --- budget ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetResult:
    mode: Mode
    per_request_usd: Decimal | None
    max_requests: int | None
    total_usd: Decimal | None
    unavailable_reason: str | None = None
    unlimited: bool = False


def budget(
    workload: Workload,
    budget_usd: object,
    *,
    table: PriceTable | None = None,
    overrides: NegotiatedRates | None = None,
) -> tuple[BudgetResult, ...]:
    """The most requests each mode affords within `budget_usd` (cost is linear in requests); `overrides` applies
    negotiated rates on top of the table."""
    limit = to_decimal(budget_usd, "budget_usd")
    prepared = prepare(dataclasses.replace(workload, requests=1), priced_table(table, overrides))
    results = []
    for mode in MODES:
        cost = mode_cost(prepared, mode)
        if not cost.available:
            results.append(BudgetResult(mode, None, None, None, unavailable_reason=cost.unavailable_reason))
            continue
        per_request = cost.per_request_usd
        if per_request == 0:
            results.append(BudgetResult(mode, per_request, None, None, unlimited=True))
            continue
        with localcontext(Context(prec=80)):
            count = int((limit / per_request).to_integral_value(rounding=ROUND_FLOOR))
        count = min(count, MAX_REQUESTS)
        with localcontext(EXACT):
            results.append(BudgetResult(mode, per_request, count, per_request * count))
    return tuple(results)


# --- sweeps ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepPoint:
    """Totals of every mode at one value of the swept variable; None where a mode is unpriced."""

    x: Decimal
    totals_usd: tuple[Decimal | None, ...]

    def total(self, mode: Mode) -> Decimal | None:
        return self.totals_usd[MODES.index(mode)]


@dataclass(frozen=True)
class Sweep:
    variable: str
    modes: tuple[Mode, ...]
    points: tuple[SweepPoint, ...]

    def series(self, mode: Mode) -> list[Decimal | None]:
        return [point.total(mode) for point in self.points]


def sweep_hit_rate(
    workload: Workload,
    values: Iterable[object] | None = None,
    *,
    points: int = 101,
    table: PriceTable | None = None,
) -> Sweep:
    """Totals against the cache hit rate (0…1 in `points` steps by default). Exact: cost is linear in h."""
    hit_rates = [_fraction(v) for v in values] if values is not None else _steps(points)
    prepared = prepare(workload, table)
    lines = []
    for mode in MODES:
        at_zero = mode_cost(prepared, mode, hit_rate=Decimal(0))
        at_one = mode_cost(prepared, mode, hit_rate=Decimal(1))
        lines.append(None if not at_zero.available else (at_zero.total_usd, at_one.total_usd - at_zero.total_usd))
    with localcontext(EXACT):
        result = [
            SweepPoint(h, tuple(None if line is None else line[0] + h * line[1] for line in lines)) for h in hit_rates
        ]
    return Sweep("cache_hit_rate", MODES, tuple(result))


def sweep_requests(workload: Workload, values: Iterable[object], *, table: PriceTable | None = None) -> Sweep:
    """Totals against the number of requests. Exact: cost is per-request cost × requests."""
    prepared = prepare(dataclasses.replace(workload, requests=1), table)
    per_request = [mode_cost(prepared, mode) for mode in MODES]
    counts = [to_token_count(v, "requests", maximum=MAX_REQUESTS) for v in values]
    with localcontext(EXACT):
        result = [
            SweepPoint(Decimal(n), tuple(c.per_request_usd * n if c.available else None for c in per_request))
            for n in counts
        ]
    return Sweep("requests", MODES, tuple(result))


def sweep_prefix_tokens(workload: Workload, values: Iterable[object], *, table: PriceTable | None = None) -> Sweep:
    """Totals against the shared-prefix size; the minimum cacheable length and tiers move with it.

    Between those cliffs the total is affine in the prefix, so each stretch is priced once and the
    other points follow exactly from the per-token slope of the rates in force there."""
    table = table or load_price_table()
    base = prepare(workload, table)
    minimum = base.model.min_cacheable_prompt_tokens
    stretches: dict[tuple[bool, int | None], tuple[int, list[tuple[Decimal, Decimal] | None]]] = {}
    result = []
    for value in values:
        prefix = to_token_count(value, "prefix_tokens")
        effective = prefix + base.tool_system_prompt_tokens
        fetched = math.ceil(workload.web_fetch_tokens_per_request)  # counted in the prompt, as `prepare` does
        tier = tier_for(base.period, effective + workload.unique_input_tokens + fetched)
        key = (
            effective > 0 and minimum is not None and effective >= minimum,
            tier.above_prompt_tokens if tier else None,
        )
        if key not in stretches:
            stretches[key] = (prefix, _prefix_stretch(dataclasses.replace(workload, prefix_tokens=prefix), table))
        anchor, lines = stretches[key]
        with localcontext(EXACT):
            totals = tuple(None if line is None else line[0] + (prefix - anchor) * line[1] for line in lines)
        result.append(SweepPoint(Decimal(prefix), totals))
    return Sweep("prefix_tokens", MODES, tuple(result))


def _prefix_stretch(workload: Workload, table: PriceTable) -> list[tuple[Decimal, Decimal] | None]:
    """Each mode's total at this prefix, and what one more prefix token adds to it (exact)."""
    prepared = prepare(workload, table)
    lines: list[tuple[Decimal, Decimal] | None] = []
    for mode in MODES:
        cost = mode_cost(prepared, mode)
        if not cost.available or cost.rates is None:
            lines.append(None)
            continue
        rates = cost.rates
        if cost.caching_applied:
            hit = workload.cache_hit_rate
            write = rates.cache_write_mtok(workload.cache_ttl) or Decimal(0)
            with localcontext(EXACT):
                per_token_mtok = hit * (rates.cache_read_mtok or Decimal(0)) + (1 - hit) * write
        else:
            per_token_mtok = rates.input_mtok
        with localcontext(EXACT):
            lines.append((cost.total_usd, per_token_mtok * workload.requests / MTOK))
    return lines


def _fraction(value: object) -> Decimal:
    return to_fraction(value, "cache_hit_rate")


def _steps(points: int) -> list[Decimal]:
    if not isinstance(points, int) or isinstance(points, bool) or not 2 <= points <= 1_000_001:
        raise InvalidWorkloadError(f"points must be a whole number from 2 to 1,000,001, got {points!r}")
    with localcontext(Context(prec=40)):
        return [(Decimal(i) / (points - 1)).quantize(HIT_RATE_PLACES) for i in range(points)]


# --- comparing models ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenScale:
    """How token counts measured with one tokenizer generation translate to another."""

    source: str
    target: str
    expected: Decimal
    low: Decimal
    high: Decimal

    @property
    def converts(self) -> bool:
        return self.source != self.target


def token_scale(source: str, target: str, table: PriceTable) -> TokenScale:
    """The 2026 tokenizer yields ~1.3× (1.0–1.35×) the legacy count for the same text; the inverse back."""
    if source == target:
        one = Decimal(1)
        return TokenScale(source, target, one, one, one)
    calibration = table.tokenizers[target if target != "legacy" else source]
    expected, low, high = (
        calibration.versus_legacy_expected,
        calibration.versus_legacy_low,
        calibration.versus_legacy_high,
    )
    if target == "legacy":
        with localcontext(_RATIO):
            expected, low, high = 1 / expected, 1 / high, 1 / low
    return TokenScale(source, target, expected, low, high)


@dataclass(frozen=True)
class ModelComparison:
    """One model's estimate for the shared workload; `low`/`high` bracket it when tokens were converted."""

    model_id: str
    model_name: str
    status: str
    scale: TokenScale | None
    estimate: Estimate | None
    low: Estimate | None = None
    high: Estimate | None = None
    error: str | None = None

    @property
    def cheapest_total_usd(self) -> Decimal | None:
        if self.estimate is None or not self.estimate.ranking:
            return None
        return self.estimate.ranking[0].total_usd


def compare_models(
    workload: Workload,
    models: Sequence[str] | None = None,
    *,
    include_retired: bool = False,
    table: PriceTable | None = None,
    overrides: NegotiatedRates | None = None,
) -> tuple[ModelComparison, ...]:
    """The same workload priced on many models, cheapest first. Token counts measured for one tokenizer
    generation are converted for models of the other, with the conversion's range as low/high. `overrides`
    applies negotiated rates on top of the table (each model's own rules, or none)."""
    table = priced_table(table, overrides)
    day = workload.as_of or dt.date.today()
    source = workload.tokens_measured_for or table.model(workload.model).tokenizer
    chosen = (
        [table.model(name) for name in models]
        if models
        else list(table.models_as_of(day, include_retired=include_retired))
    )
    results = [_compare_one(workload, model.id, source, day, table) for model in chosen]
    priced = [r for r in results if r.cheapest_total_usd is not None]
    priced.sort(key=lambda r: r.cheapest_total_usd or Decimal(0))
    return tuple(priced + [r for r in results if r.cheapest_total_usd is None])


def _compare_one(workload: Workload, model_id: str, source: str, day: dt.date, table: PriceTable) -> ModelComparison:
    model = table.model(model_id)
    scale = token_scale(source, model.tokenizer, table)
    status = model.status_as_of(day)
    try:
        expected = estimate(_scaled(workload, model_id, scale.expected, day), table=table)
        if not scale.converts:
            return ModelComparison(model.id, model.name, status, scale, expected)
        low = estimate(_scaled(workload, model_id, scale.low, day), table=table)
        high = estimate(_scaled(workload, model_id, scale.high, day), table=table)
    except (EstimatorError, PricingError) as error:
        return ModelComparison(model.id, model.name, status, scale, None, error=str(error))
    return ModelComparison(model.id, model.name, status, scale, expected, low, high)


def _scaled(workload: Workload, model_id: str, factor: Decimal, day: dt.date) -> Workload:
    def scale(tokens: int) -> int:
        return int((Decimal(tokens) * factor).to_integral_value(rounding=ROUND_HALF_UP))

    return dataclasses.replace(
        workload,
        model=model_id,
        as_of=day,
        prefix_tokens=scale(workload.prefix_tokens),
        unique_input_tokens=scale(workload.unique_input_tokens),
        output_tokens=scale(workload.output_tokens),
        thinking_tokens=scale(workload.thinking_tokens),
        tokens_per_web_fetch=scale(workload.tokens_per_web_fetch),
        tokens_measured_for=None,
    )
