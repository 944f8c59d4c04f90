"""The dated rates table the SQL joins usage to: one row per model × date range × prompt tier × geo, holding
the per-token rates of the three ways a request is billed (standard, fast, batch) as exact `Decimal`s.

Every rate comes from `estimator.rates.resolve_mode_rates`, the function the Python pricer uses, called on
the price table's dated view of each range (`Model.period_as_of`), so batch, fast mode, data residency,
prompt tiers and the days each feature existed are decided in one place. The SQL only multiplies.

A model's date ranges are cut at every day its rates can change: a price period's start, and the start or
end of any feature (prompt caching, batches, the 1-hour TTL, data residency, the model's fast mode). Within
a range every day sees the same rates, so a record joins exactly one row.

A way of billing the table cannot price (fast mode on a model without it, batch before batches existed, US
data residency on a model that rejects it) keeps its place in the row: its rates are NULL and `problem` /
`reason` say why, so a record that needs it is reported, never priced at $0. Cache rates are NULL with
their own reason when caching (or the 1-hour TTL) did not exist yet, so a record that used no cache is
still priced.

The table is not clipped at a model's retirement: the Python pricer prices usage dated after it (with a
warning that the date may be wrong), and so do the engines.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from estimator.rates import ModeRates, Unpriced, resolve_mode_rates
from estimator.workload import Mode
from pricing import Model, PricePeriod, PriceTable, PromptTier, normalize_model_name
from pricing.features import GLOBAL_FEATURES

__all__ = [
    "BILLING",
    "GEOS",
    "RATE_CATEGORIES",
    "Billing",
    "BillingRates",
    "GeoName",
    "ModelName",
    "RateRow",
    "model_names",
    "rate_rows",
    "rate_scale",
    "tier_thresholds",
]

Billing = Literal["standard", "fast", "batch"]
"""How a request was billed: real-time at standard speed, real-time fast mode, or Message Batches."""
GeoName = Literal["global", "us"]
BILLING: tuple[Billing, ...] = ("standard", "fast", "batch")
GEOS: tuple[GeoName, ...] = ("global", "us")

RATE_CATEGORIES = ("input", "cache_write_5m", "cache_write_1h", "cache_read", "output")
"""The token categories a rate set prices, in the order of `estimator.results.CATEGORIES`."""

_PER_MTOK = 6
"""Rates are per million tokens in the table: a per-token rate is the same digits shifted by 10^-6."""


@dataclass(frozen=True, slots=True)
class BillingRates:
    """One way of billing's per-token rates (USD) on a row, or why it has none.

    `problem` is the pricer's code for a request that cannot be priced this way (`not_priced`,
    `inference_geo_unavailable`) and `reason` says why; `cache_reason` / `cache_1h_reason` say why the
    cache rates (or just the 1-hour write rate) are missing, when they are."""

    input: Decimal | None = None
    cache_write_5m: Decimal | None = None
    cache_write_1h: Decimal | None = None
    cache_read: Decimal | None = None
    output: Decimal | None = None
    problem: str | None = None
    reason: str | None = None
    cache_reason: str | None = None
    cache_1h_reason: str | None = None
    derived_note: str | None = None

    def rate(self, category: str) -> Decimal | None:
        if category not in RATE_CATEGORIES:
            raise KeyError(category)
        value: Decimal | None = getattr(self, category)
        return value

    def mode_rates(self, *, cached: bool) -> ModeRates | None:
        """These rates per million tokens, as `estimator.rates` gives them for the cached or the uncached mode
        (which has no cache rates); None when not priced."""
        if self.input is None or self.output is None:
            return None

        def per_mtok(value: Decimal | None) -> Decimal | None:
            return None if value is None or not cached else value.scaleb(_PER_MTOK)

        return ModeRates(
            input_mtok=self.input.scaleb(_PER_MTOK),
            output_mtok=self.output.scaleb(_PER_MTOK),
            cache_write_5m_mtok=per_mtok(self.cache_write_5m),
            cache_write_1h_mtok=per_mtok(self.cache_write_1h),
            cache_read_mtok=per_mtok(self.cache_read),
            derived_note=self.derived_note,
        )


@dataclass(frozen=True, slots=True)
class RateRow:
    """The rates of one model on the days [valid_from, valid_to) (valid_to None: open), for one prompt tier
    and one geo.

    A request matches when its prompt (input + cache writes + cache reads) is > `prompt_above_tokens` and,
    when `prompt_upto_tokens` is set, ≤ it: the base row runs from -1 to the first tier's threshold, each
    tier from its threshold to the next one's."""

    model_id: str
    prices_effective_from: dt.date
    valid_from: dt.date
    valid_to: dt.date | None
    prompt_above_tokens: int
    prompt_upto_tokens: int | None
    tier_above_tokens: int | None
    geo: GeoName
    standard: BillingRates
    fast: BillingRates
    batch: BillingRates
    web_search_usd_per_request: Decimal

    def billing(self, name: Billing) -> BillingRates:
        rates: BillingRates = getattr(self, name)
        return rates


@dataclass(frozen=True, slots=True)
class ModelName:
    """One spelling a usage record may carry (normalized like `pricing.normalize_model_name`) → model id."""

    name_key: str
    model_id: str


def model_names(table: PriceTable) -> tuple[ModelName, ...]:
    """Every id, alias and display name of the table, by normalized key (what `PriceTable.model` accepts;
    the SQL also tries the key with `claude-` in front, as `PriceTable.model` does)."""
    seen: dict[str, str] = {}
    for model in table.models:
        for name in (model.id, *model.aliases, model.name):
            seen.setdefault(normalize_model_name(name), model.id)
    return tuple(ModelName(key, model_id) for key, model_id in sorted(seen.items()))


def rate_rows(table: PriceTable) -> tuple[RateRow, ...]:
    """The whole dated rates table, in model order, then by date range, tier and geo."""
    per_search = table.rules.web_search.usd_per_1000_searches / 1000
    rows: list[RateRow] = []
    for model in table.models:
        for start, end in _ranges(table, model):
            period = model.period_as_of(start)
            if period is None:  # ranges start at the first price, so this cannot happen; guard it
                raise AssertionError(f"no price for {model.id} on {start}")
            for tier, above, upto in _tiers(period):
                for geo in GEOS:
                    rates = {name: _billing(table, model, period, start, tier, name, geo) for name in BILLING}
                    rows.append(
                        RateRow(
                            model_id=model.id,
                            prices_effective_from=period.effective_from,
                            valid_from=start,
                            valid_to=end,
                            prompt_above_tokens=above,
                            prompt_upto_tokens=upto,
                            tier_above_tokens=tier.above_prompt_tokens if tier is not None else None,
                            geo=geo,
                            standard=rates["standard"],
                            fast=rates["fast"],
                            batch=rates["batch"],
                            web_search_usd_per_request=per_search,
                        )
                    )
    return tuple(rows)


def tier_thresholds(rows: Sequence[RateRow]) -> tuple[int, ...]:
    """Every prompt-tier threshold of the table, in increasing order."""
    return tuple(sorted({row.tier_above_tokens for row in rows if row.tier_above_tokens is not None}))


def rate_scale(rows: Sequence[RateRow]) -> int:
    """The number of decimal places that holds every per-token rate (and web-search price) exactly."""
    scale = 0
    for row in rows:
        values: list[Decimal | None] = [row.web_search_usd_per_request]
        for name in BILLING:
            rates = row.billing(name)
            values += [rates.rate(category) for category in RATE_CATEGORIES]
        for value in values:
            if value is not None:
                exponent = value.normalize().as_tuple().exponent
                if isinstance(exponent, int):
                    scale = max(scale, -exponent)
    return scale


def _ranges(table: PriceTable, model: Model) -> list[tuple[dt.date, dt.date | None]]:
    """The model's date ranges within which no rate can change (from its first price onwards)."""
    first = model.periods_in_effect[0].effective_from
    cuts = {period.effective_from for period in model.periods_in_effect}
    for feature in GLOBAL_FEATURES:
        window = table.features.period(feature)
        cuts |= {day for day in (window.available_from, window.removed) if day is not None}
    if model.fast_mode is not None:
        cuts |= {day for day in (model.fast_mode.available_from, model.fast_mode.removed) if day is not None}
    starts = sorted(day for day in cuts if day >= first)
    ends: list[dt.date | None] = [*starts[1:], None]
    return list(zip(starts, ends, strict=True))


def _tiers(period: PricePeriod) -> Iterator[tuple[PromptTier | None, int, int | None]]:
    """(tier, prompt above, prompt up to) for the base row and each tier, thresholds in increasing order."""
    thresholds = [tier.above_prompt_tokens for tier in period.tiers]
    yield None, -1, thresholds[0] if thresholds else None
    for index, tier in enumerate(period.tiers):
        upto = thresholds[index + 1] if index + 1 < len(thresholds) else None
        yield tier, tier.above_prompt_tokens, upto


def _billing(
    table: PriceTable,
    model: Model,
    period: PricePeriod,
    day: dt.date,
    tier: PromptTier | None,
    billing: Billing,
    geo: GeoName,
) -> BillingRates:
    """One way of billing's rates on a row: the uncached mode's input and output rates, the cached mode's
    cache rates, both from `resolve_mode_rates` (as the Python pricer asks for them)."""
    if geo == "us" and not model.data_residency_us:
        reason = table.unavailable_reason(model, "data_residency", day)
        return BillingRates(problem="inference_geo_unavailable", reason=reason, cache_reason=reason)
    multiplier = table.rules.data_residency.us_multiplier if geo == "us" else Decimal(1)
    batch = billing == "batch"
    fast = billing == "fast"

    def resolve(mode: Mode) -> ModeRates | Unpriced:
        return resolve_mode_rates(period, mode, tier=tier, fast=fast, geo_multiplier=multiplier, model_name=model.name)

    plain = resolve("batch" if batch else "realtime")
    if isinstance(plain, Unpriced):
        return BillingRates(problem="not_priced", reason=plain.reason, cache_reason=plain.reason)
    cached = resolve("batch_cached" if batch else "realtime_cached")
    if isinstance(cached, Unpriced):
        return BillingRates(
            input=_per_token(plain.input_mtok),
            output=_per_token(plain.output_mtok),
            cache_reason=cached.reason,
            cache_1h_reason=cached.reason,
            derived_note=plain.derived_note,
        )
    reason_1h = None
    if cached.cache_write_1h_mtok is None:
        reason_1h = period.unavailable("cache_ttl_1h") or f"the table holds no 1-hour cache-write rate for {model.name}"
    return BillingRates(
        input=_per_token(plain.input_mtok),
        cache_write_5m=_per_token(cached.cache_write_5m_mtok),
        cache_write_1h=_per_token(cached.cache_write_1h_mtok),
        cache_read=_per_token(cached.cache_read_mtok),
        output=_per_token(plain.output_mtok),
        cache_1h_reason=reason_1h,
        derived_note=cached.derived_note,
    )


def _per_token(rate_mtok: Decimal | None) -> Decimal | None:
    return None if rate_mtok is None else rate_mtok.scaleb(-_PER_MTOK)
