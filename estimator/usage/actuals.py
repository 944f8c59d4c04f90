"""`actual_costs`: what the usage cost, per model, category and day, what it would have cost otherwise, and
the plan it suggests.

    result = actual_costs(["results.jsonl"])     # or responses, reports, records, any mix
    result.total_usd                              # exact Decimal
    result.requests["errored"]                    # counted, not billed
    result.what_if_total("realtime")              # the same usage, real-time without caching
    result.calibrated_workload()                  # a Workload for the next plan

Batch results carry no dates: undated records are priced as of `as_of` (default today), and a note says so.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from functools import partial
from operator import attrgetter, is_, itemgetter
from typing import IO, Any, cast

from estimator.costs import EXACT
from estimator.errors import InvalidWorkloadError
from estimator.format import count_noun
from estimator.results import CATEGORIES, Category
from estimator.usage.cost_report import CostComparison, compare_with_cost_report
from estimator.usage.pricer import ModelWhatIf, NotBilled, PricedLine, PricedUsage, TokenSums, UsageAccumulator
from estimator.usage.readers import Progress, add_value, read_source
from estimator.usage.records import RESULT_TYPES, ResultType, UsageProblem, UsageRecord
from estimator.workload import DEFAULT_HIT_RATE, MODES, CacheTTL, Mode, Workload
from pricing import PriceTable, load_price_table

__all__ = [
    "ActualCosts",
    "CategoryActual",
    "DayActual",
    "ModeWhatIf",
    "ModelActual",
    "actual_costs",
]

_RATIO = Context(prec=28)
_usd = attrgetter("usd")
_tokens = attrgetter("tokens")
_what_if_usd = attrgetter("what_if_usd")
_unsplit_write_extra_usd = attrgetter("unsplit_write_extra_usd")
_is_none = partial(is_, None)
"""By identity: `None in values` asks each Decimal to compare itself with None (through an isinstance check)."""
_HIT_RATE_PLACES = Decimal("0.0001")
_SEARCH_PLACES = Decimal("0.001")

Source = str | os.PathLike[str] | IO[bytes] | UsageRecord | Mapping[str, Any]


@dataclass(frozen=True)
class CategoryActual:
    tokens: int
    usd: Decimal


@dataclass(frozen=True)
class ModelActual:
    model_id: str
    model_name: str
    tokens: TokenSums
    usd: Mapping[Category, Decimal]
    total_usd: Decimal

    @property
    def requests(self) -> int:
        return self.tokens.requests


@dataclass(frozen=True)
class DayActual:
    day: dt.date
    total_usd: Decimal
    by_model_usd: Mapping[str, Decimal]


@dataclass(frozen=True)
class ModeWhatIf:
    """The usage repriced in one mode; `total_usd` None (with the reason) when some of it has no price there."""

    mode: Mode
    total_usd: Decimal | None
    reason: str | None
    billed: bool
    """True when every priced record was billed in this mode (the what-if equals the actual)."""


@dataclass(frozen=True)
class ActualCosts:
    """What the usage cost. Money is exact `Decimal`; `problems` lists what could not be priced, by line."""

    total_usd: Decimal
    sources: tuple[str, ...]
    default_day: dt.date
    undated_records: int
    priced_records: int
    unpriced_records: int
    requests: Mapping[ResultType, int]
    models: tuple[ModelActual, ...]
    categories: Mapping[Category, CategoryActual]
    days: tuple[DayActual, ...]
    tokens: TokenSums
    hit_rate: Decimal | None
    output_tokens_per_request: Decimal | None
    upper_bound_total_usd: Decimal
    what_if: tuple[ModeWhatIf, ...]
    what_if_model: ModelWhatIf | None
    cost_report: CostComparison | None
    problems: tuple[UsageProblem, ...]
    problems_not_listed: int
    not_billed: tuple[NotBilled, ...]
    notes: tuple[str, ...]
    lines: tuple[PricedLine, ...]

    @property
    def errors(self) -> tuple[UsageProblem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def fully_priced(self) -> bool:
        """Every record was priced (the CLI's exit 0)."""
        return self.unpriced_records == 0 and not self.errors and not self.problems_not_listed

    @property
    def unsplit_cache_write_tokens(self) -> int:
        return self.tokens.cache_write_unsplit_tokens

    def what_if_total(self, mode: Mode) -> Decimal | None:
        return next(item.total_usd for item in self.what_if if item.mode == mode)

    def calibrated_workload(self, model: str | None = None, *, table: PriceTable | None = None) -> Workload:
        """A plan calibrated from this usage: the average request of `model` (default: the costliest), its
        observed hit rate, TTL, residency, speed and web searches. Dated usage over several days becomes a
        per-day plan; otherwise one run of the observed number of requests."""
        return calibrated_workload(self, model, table=table)


def actual_costs(
    paths_or_records: Source | Iterable[Source],
    *,
    model: str | None = None,
    as_of: dt.date | None = None,
    table: PriceTable | None = None,
    what_if_model: str | None = None,
    cost_reports: Iterable[str | os.PathLike[str] | IO[bytes] | Mapping[str, Any]] = (),
    on_progress: Progress | None = None,
) -> ActualCosts:
    """Price usage files (paths or binary streams), decoded values (responses, usage objects, report pages) or
    `UsageRecord`s, any mix. `model` names the model of bare usage; `as_of` dates undated records (default
    today); `what_if_model` also prices the usage on that model; `cost_reports` (files or pages) are compared
    with our figures per day and model. Unreadable files raise `UsageFileError`; bad records are problems."""
    table = table or load_price_table()
    accumulator = UsageAccumulator(table, default_day=as_of, what_if_model=what_if_model)
    names: list[str] = []
    for position, item in enumerate(_items(paths_or_records), start=1):
        _add(accumulator, item, position, model, names, on_progress)
    for position, report in enumerate(cost_reports, start=1):
        _add(accumulator, report, position, model, names, on_progress)
    return summarize(accumulator.finish(), table, tuple(names))


def _items(value: Source | Iterable[Source]) -> Iterable[Source]:
    if isinstance(value, str | os.PathLike | UsageRecord | Mapping) or hasattr(value, "read"):
        return [cast(Source, value)]
    return value


def _add(
    accumulator: UsageAccumulator,
    item: Any,
    position: int,
    model: str | None,
    names: list[str],
    on_progress: Progress | None,
) -> None:
    if isinstance(item, UsageRecord):
        accumulator.add_record(item)
        if "<records>" not in names:
            names.append("<records>")
    elif isinstance(item, Mapping):
        add_value(accumulator, dict(item), source=f"<value {position}>", line=1, model=model)
        names.append(f"<value {position}>")
    else:
        names.append(str(getattr(item, "name", item)))
        read_source(item, accumulator, model=model, default_day=accumulator.default_day, on_progress=on_progress)


def summarize(priced: PricedUsage, table: PriceTable, sources: tuple[str, ...]) -> ActualCosts:
    """An `ActualCosts` from priced usage (also used by `reconcile` and the columnar path)."""
    lines = priced.lines
    models = _models(lines)
    # The whole is the sum of the models' sums (a pass over thousands of lines less): counts are integers and
    # money is added exactly (EXACT traps any rounding; a sum's exponent is its terms' least), so every figure
    # is the one summed line by line, digit for digit.
    tokens = TokenSums.total(map(_tokens, models))
    with localcontext(EXACT):
        categories = {
            c: CategoryActual(tokens.quantity(c), sum((model.usd[c] for model in models), Decimal(0)))
            for c in CATEGORIES
        }
        upper = priced.total_usd + sum(map(_unsplit_write_extra_usd, lines), Decimal(0))
    comparison = compare_with_cost_report(lines, priced.cost_rows, table) if priced.cost_rows else None
    return ActualCosts(
        total_usd=priced.total_usd,
        sources=sources,
        default_day=priced.default_day,
        undated_records=priced.undated_records,
        priced_records=tokens.records,  # `priced.priced_records`, summed once
        unpriced_records=priced.unpriced_records,
        requests={kind: priced.requests_by_result.get(kind, 0) for kind in RESULT_TYPES},
        models=models,
        categories=categories,
        days=_days(lines),
        tokens=tokens,
        hit_rate=_hit_rate(tokens),
        output_tokens_per_request=_per_request(tokens.output_tokens, tokens.requests),
        upper_bound_total_usd=upper,
        what_if=_what_if(lines),
        what_if_model=priced.what_if_model,
        cost_report=comparison,
        problems=priced.problems,
        problems_not_listed=priced.problems_not_listed,
        not_billed=priced.not_billed,
        notes=tuple(_notes(priced, tokens, upper)),
        lines=lines,
    )


def _models(lines: tuple[PricedLine, ...]) -> tuple[ModelActual, ...]:
    grouped: dict[str, list[PricedLine]] = defaultdict(list)
    for line in lines:
        grouped[line.model_id].append(line)
    models = []
    with localcontext(EXACT):
        for model_id, own in grouped.items():
            tokens = TokenSums.total(map(_tokens, own))
            usds = list(map(_usd, own))
            usd = {c: sum(map(itemgetter(c), usds), Decimal(0)) for c in CATEGORIES}
            models.append(ModelActual(model_id, own[0].model_name, tokens, usd, sum(usd.values(), Decimal(0))))
    models.sort(key=lambda m: (-m.total_usd, m.model_id))
    return tuple(models)


def _days(lines: tuple[PricedLine, ...]) -> tuple[DayActual, ...]:
    by_day: dict[dt.date, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    with localcontext(EXACT):
        for line in lines:
            by_day[line.day][line.model_id] += line.total_usd
        return tuple(
            DayActual(day, sum(models.values(), Decimal(0)), dict(models)) for day, models in sorted(by_day.items())
        )


def _hit_rate(tokens: TokenSums) -> Decimal | None:
    """Reads / (reads + writes), per prefix token: the share of cached-prefix tokens served from the cache."""
    cached = tokens.cache_read_tokens + tokens.cache_write_tokens
    if not cached:
        return None
    with localcontext(_RATIO):
        return Decimal(tokens.cache_read_tokens) / cached


def _per_request(value: int, requests: int) -> Decimal | None:
    if not requests:
        return None
    with localcontext(_RATIO):
        return Decimal(value) / requests


def _what_if(lines: tuple[PricedLine, ...]) -> tuple[ModeWhatIf, ...]:
    what_ifs = list(map(_what_if_usd, lines))
    result = []
    for mode in MODES:
        values = list(map(itemgetter(mode), what_ifs))
        billed = bool(lines) and all(line.billed_mode == mode or _same_mode(line, mode) for line in lines)
        if any(map(_is_none, values)):
            reasons = sorted({line.what_if_reasons[mode] for line in lines if line.what_if_usd[mode] is None})
            result.append(ModeWhatIf(mode, None, "; ".join(reasons), billed))
            continue
        with localcontext(EXACT):
            # `value or 0` as ever: a zero of any exponent counts as Decimal(0), the sum's start, so zeros are left out.
            total = sum(filter(None, values), Decimal(0))
        result.append(ModeWhatIf(mode, total, None, billed))
    return tuple(result)


def _same_mode(line: PricedLine, mode: Mode) -> bool:
    """A line that never touched the cache costs the same in the cached and uncached variant of its tier."""
    return (
        not line.tokens.cache_write_tokens
        and not line.tokens.cache_read_tokens
        and (line.billed_mode.removesuffix("_cached") == mode.removesuffix("_cached"))
    )


def _notes(priced: PricedUsage, tokens: TokenSums, upper: Decimal) -> list[str]:
    notes = []
    if priced.undated_records:
        notes.append(
            f"{count_noun(priced.undated_records, 'record')} {'carries' if priced.undated_records == 1 else 'carry'} "
            f"no date (batch results and plain responses do not): priced at the prices in effect on "
            f"{priced.default_day} (set --as-of / as_of to the day they ran)"
        )
    if tokens.cache_write_unsplit_tokens:
        notes.append(
            f"{tokens.cache_write_unsplit_tokens:,} cache-write tokens come without their TTL split (only "
            "cache_creation_input_tokens): priced as 5-minute writes; if they were 1-hour writes the total would be "
            f"${upper} (the upper bound)"
        )
    if tokens.thinking_tokens:
        notes.append(f"output includes {tokens.thinking_tokens:,} thinking tokens, billed as output")
    if tokens.web_fetch_requests:
        notes.append(f"{tokens.web_fetch_requests:,} web fetches: no charge beyond their tokens (already in the input)")
    if any(line.speed == "fast" for line in priced.lines):
        notes.append("the batch what-ifs run at standard speed: fast mode does not exist in Message Batches")
    return notes


# --- calibration -----------------------------------------------------------------------------------


def calibrated_workload(actual: ActualCosts, model: str | None = None, *, table: PriceTable | None = None) -> Workload:
    """See `ActualCosts.calibrated_workload`."""
    if not actual.models:
        raise InvalidWorkloadError("no priced usage to calibrate a plan from")
    if model is None:
        chosen = actual.models[0]
    else:
        model_id = (table or load_price_table()).model(model).id
        found = [m for m in actual.models if m.model_id == model_id]
        if not found:
            raise InvalidWorkloadError(f"the usage holds no priced records of {model_id}", field="model")
        chosen = found[0]
    own = [line for line in actual.lines if line.model_id == chosen.model_id]
    tokens = chosen.tokens
    if not tokens.requests:
        raise InvalidWorkloadError(
            f"the usage of {chosen.model_id} carries no request counts (a legacy usage report): per-request figures "
            "cannot be derived",
            field="requests",
        )
    dated_days = {line.day for line in own}
    per_day = actual.undated_records == 0 and len(dated_days) > 1
    requests = _rounded(Decimal(tokens.requests) / len(dated_days)) if per_day else tokens.requests
    cached = tokens.cache_write_tokens + tokens.cache_read_tokens
    hit_rate = _hit_rate(tokens)
    ttl: CacheTTL = "1h" if tokens.cache_write_1h_tokens > tokens.cache_write_5m_tokens else "5m"
    us = sum(line.tokens.prompt_tokens for line in own if line.inference_geo == "us")
    fast = sum(line.tokens.prompt_tokens for line in own if line.speed == "fast")
    with localcontext(_RATIO):
        searches = (Decimal(tokens.web_search_requests) / tokens.requests).quantize(_SEARCH_PLACES, ROUND_HALF_UP)
    return Workload(
        model=chosen.model_id,
        requests=max(requests, 1),
        period="day" if per_day else "run",
        prefix_tokens=_rounded(Decimal(cached) / tokens.requests),
        unique_input_tokens=_rounded(Decimal(tokens.input_tokens) / tokens.requests),
        output_tokens=_rounded(Decimal(tokens.output_tokens) / tokens.requests),
        cache_hit_rate=DEFAULT_HIT_RATE if hit_rate is None else hit_rate.quantize(_HIT_RATE_PLACES, ROUND_HALF_UP),
        cache_ttl=ttl,
        web_searches_per_request=searches,
        geo="us" if 2 * us > tokens.prompt_tokens else "global",
        fast=2 * fast > tokens.prompt_tokens,
    )


def _rounded(value: Decimal) -> int:
    with localcontext(_RATIO):
        return int(value.to_integral_value(rounding=ROUND_HALF_UP))
