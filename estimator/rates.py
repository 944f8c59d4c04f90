"""The per-MTok rates one mode pays, after prompt-length tier, fast mode and data residency.

All multipliers come from the price table: the tier's own row, the model's fast-mode row and cache
multipliers, and `rules.data_residency.us_multiplier`. Nothing here knows a price.

A mode is priced only on days its features existed: the period passed in is a dated view
(`Model.period_as_of(day)`), and a feature that did not exist on that day (batches before 2024-10-08,
caching before 2024-08-14, a model's fast mode after its removal, data residency before 2026-02-05)
makes the mode `Unpriced` with the reason and the date. Options a workload asks for outside their
period (fast mode, the 1-hour TTL, data residency) are refused as a whole by `check_option_periods`.

Channels (`rules.channels`): on a partner's regional endpoint every token rate is multiplied by the channel's
documented premium (models from the channel's first premium model on; older ones pay none); a mode the channel
publishes no price for (partner batch discounts, partner server-tool and fast-mode prices) is `Unpriced` with the
reason, never priced at Anthropic's first-party rate.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from estimator.errors import InvalidWorkloadError
from estimator.workload import CacheTTL, Channel, Endpoint, Mode, Workload
from pricing import Feature, Model, PricePeriod, PriceTable, PromptTier, RateSet

__all__ = [
    "ChannelTerms",
    "ModeRates",
    "Provenance",
    "Unpriced",
    "channel_gap",
    "channel_terms",
    "check_channel",
    "check_option_periods",
    "resolve_mode_rates",
    "tier_for",
]

Provenance = Literal["published", "third_party", "derived"]


@dataclass(frozen=True)
class ModeRates:
    """Rates in USD per million tokens. Cache rates are None when the mode does not cache.

    `provenance` says where the mode's rates come from: "published" (Anthropic's page), "third_party"
    (a dated third-party reading of it) or "derived" (computed from Anthropic's documented rules, e.g.
    Mythos 5.2's batch rates from Fable 5.2's); the weakest of the rates used wins."""

    input_mtok: Decimal
    output_mtok: Decimal
    cache_write_5m_mtok: Decimal | None = None
    cache_write_1h_mtok: Decimal | None = None
    cache_read_mtok: Decimal | None = None
    derived_note: str | None = None
    provenance: Provenance = "published"
    derived_fields: tuple[str, ...] = ()
    third_party_fields: tuple[str, ...] = ()

    def cache_write_mtok(self, ttl: CacheTTL) -> Decimal | None:
        return self.cache_write_5m_mtok if ttl == "5m" else self.cache_write_1h_mtok


@dataclass(frozen=True)
class Unpriced:
    """The table holds no price for this mode; `reason` says why in words a user can act on."""

    reason: str


def tier_for(period: PricePeriod, prompt_tokens: int) -> PromptTier | None:
    """The highest tier whose threshold the prompt strictly exceeds (rules.prompt_tiers)."""
    crossed = None
    for tier in period.tiers:  # in increasing order of threshold (the schema checks it)
        if prompt_tokens > tier.above_prompt_tokens:
            crossed = tier
    return crossed


def check_option_periods(workload: Workload, model: Model, table: PriceTable, day: dt.date | None = None) -> None:
    """Refuse an option asked for on a day outside its feature's period, with the reason and the date:
    fast mode (a model without it, or before it started / after it was removed), the 1-hour cache TTL
    (before 2025), US data residency (before it existed, or on a model that rejects it).

    Raises `InvalidWorkloadError` naming the workload field (`fast`, `cache_ttl`, `geo`)."""
    day = day or workload.as_of or dt.date.today()
    if workload.geo == "us":
        reason = table.unavailable_reason(model, "data_residency", day)
        if reason is not None:
            raise InvalidWorkloadError(f"{reason}; choose global routing", field="geo")
    if workload.fast:
        reason = table.unavailable_reason(model, "fast_mode", day)
        if reason is not None:
            raise InvalidWorkloadError(reason, field="fast")
    if workload.cache_ttl == "1h" and table.unavailable_reason(model, "prompt_caching", day) is None:
        reason = table.unavailable_reason(model, "cache_ttl_1h", day)
        if reason is not None:
            raise InvalidWorkloadError(f"{reason}; choose the 5-minute cache", field="cache_ttl")


@dataclass(frozen=True)
class ChannelTerms:
    """Where the tokens are bought and what that does to the price. `multiplier` applies to every token rate
    (1 on a global endpoint, or on a regional one for models older than the channel's premium); `basis` is the
    sentence every output carries for a partner channel."""

    channel: Channel
    endpoint: Endpoint
    name: str
    prices_set_by: str
    anthropic_operated: bool
    multiplier: Decimal
    basis: str
    regional_endpoint: str | None = None

    @property
    def set_by_partner(self) -> bool:
        return self.channel != "anthropic"


def channel_terms(table: PriceTable, model: Model, channel: Channel, endpoint: Endpoint) -> ChannelTerms:
    """The channel's premium for `model` on `endpoint`, and the sentence that says what the figures are."""
    rule = table.rules.channels.rule(channel)
    multiplier = Decimal(1)
    premium_note = ""
    if endpoint == "regional" and rule.regional_multiplier is not None:
        first = rule.regional_premium_from_model
        first_model = table.model(first) if first is not None else None
        if first_model is None or model.lifecycle.released >= first_model.lifecycle.released:
            multiplier = rule.regional_multiplier
            premium_note = f" × {multiplier} (the premium documented for a {rule.regional_endpoint})"
        else:
            premium_note = (
                f" (a {rule.regional_endpoint} adds no premium for {model.name}: it applies from {first_model.name} on)"
            )
    if channel == "anthropic":
        basis = "Anthropic's list prices (Claude API)."
    elif rule.anthropic_operated:
        basis = (
            f"{rule.name} bills standard Claude API rates through {rule.prices_set_by}: these figures are "
            f"Anthropic's list prices{premium_note}."
        )
    else:
        premium = premium_note or " (a global endpoint: no documented premium)"
        basis = (
            f"Prices on {rule.name} are set by {rule.prices_set_by}. These figures are Anthropic's list prices"
            f"{premium}, not {rule.prices_set_by}'s own price list."
        )
    return ChannelTerms(
        channel, endpoint, rule.name, rule.prices_set_by, rule.anthropic_operated, multiplier, basis,
        rule.regional_endpoint,
    )  # fmt: skip


def check_channel(workload: Workload, table: PriceTable) -> None:
    """Refuse what a channel does not offer: `geo="us"` (a Claude API parameter) elsewhere, a regional endpoint
    where there is none, with the option that does exist."""
    rule = table.rules.channels.rule(workload.channel)
    if workload.geo == "us" and workload.channel != "anthropic":
        where = rule.regional_endpoint or "its own regional deployments"
        raise InvalidWorkloadError(
            f"geo 'us' (inference_geo) is a Claude API parameter; on {rule.name} choose endpoint regional ({where})",
            field="geo",
        )
    if workload.endpoint == "regional" and rule.regional_endpoint is None:
        raise InvalidWorkloadError(
            f"{rule.name} has no regional endpoint; for US-only processing there use geo 'us' (inference_geo)",
            field="endpoint",
        )


def channel_gap(
    table: PriceTable, channel: Channel, mode: Mode, *, fast: bool, web_search: bool, code_execution: bool
) -> str | None:
    """Why `mode` has no price on `channel` (None when it has one): a batch discount or, on partner-operated
    channels, a fast-mode or server-tool price that is not published. Never the first-party price instead."""
    rule = table.rules.channels.rule(channel)
    if mode.startswith("batch") and rule.batch != "message_batches":
        return f"The batch price on {rule.name} is not published: {rule.batch_note}"
    if rule.anthropic_operated:
        return None
    unknown = [
        what
        for what, used in (
            ("fast-mode", fast and not mode.startswith("batch")),
            ("web-search", web_search),
            ("code-execution", code_execution),
        )
        if used
    ]
    if unknown:
        what = " and ".join(unknown)
        return f"The {what} price on {rule.name} is not published (prices there are set by {rule.prices_set_by})"
    return None


def resolve_mode_rates(
    period: PricePeriod,
    mode: Mode,
    *,
    tier: PromptTier | None,
    fast: bool,
    geo_multiplier: Decimal,
    model_name: str,
    channel_multiplier: Decimal = Decimal(1),
) -> ModeRates | Unpriced:
    """A mode's per-MTok rates: `geo_multiplier` is data residency (the feature must exist on the period's
    day), `channel_multiplier` a partner's regional premium (`channel_terms`)."""
    row: RateSet = tier if tier is not None else period
    batch = mode.startswith("batch")
    cached = mode.endswith("cached")
    gap = _feature_gap(period, batch=batch, cached=cached, fast=fast, geo=geo_multiplier != 1)
    if gap is not None:
        return Unpriced(gap)
    if batch and not row.has_batch_rates:
        return Unpriced(f"Anthropic publishes no batch prices for {model_name}")
    if cached and not row.has_cache_rates:
        return Unpriced(f"Anthropic publishes no prompt-caching prices for {model_name}")
    if fast and not batch:
        rates = _fast_rates(period, tier, cached, model_name)
    else:
        prefix = "batch_" if batch else ""
        used = [f"{prefix}input_mtok", f"{prefix}output_mtok"]
        if cached:
            used += [f"{prefix}cache_write_5m_mtok", f"{prefix}cache_write_1h_mtok", f"{prefix}cache_read_mtok"]
        rates = ModeRates(
            input_mtok=_rate(row, f"{prefix}input_mtok"),
            output_mtok=_rate(row, f"{prefix}output_mtok"),
            cache_write_5m_mtok=row.rate(f"{prefix}cache_write_5m_mtok") if cached else None,
            cache_write_1h_mtok=row.rate(f"{prefix}cache_write_1h_mtok") if cached else None,
            cache_read_mtok=row.rate(f"{prefix}cache_read_mtok") if cached else None,
            provenance=_kind(row.derived, row.third_party, used),
            derived_fields=_used(row.derived, used),
            third_party_fields=_used(row.third_party, used),
        )
    if isinstance(rates, Unpriced):
        return rates
    return _scaled(rates, geo_multiplier * channel_multiplier)


def _feature_gap(period: PricePeriod, *, batch: bool, cached: bool, fast: bool, geo: bool) -> str | None:
    """The first reason a dated view gives for a feature this mode needs (None when all existed)."""
    needed: list[tuple[Feature, bool]] = [
        ("message_batches", batch),
        ("prompt_caching", cached),
        ("fast_mode", fast and not batch),
        ("data_residency", geo),
    ]
    for feature, wanted in needed:
        reason = period.unavailable(feature) if wanted else None
        if reason is not None:
            return reason
    return None


def _used(marked: tuple[str, ...], used: list[str]) -> tuple[str, ...]:
    return tuple(field for field in used if field in marked)


def _kind(derived: tuple[str, ...], third_party: tuple[str, ...], used: list[str]) -> Provenance:
    """The weakest provenance among the rates a mode uses: derived, then third-party, then published."""
    if _used(derived, used):
        return "derived"
    return "third_party" if _used(third_party, used) else "published"


def _rate(row: RateSet, field: str) -> Decimal:
    value = row.rate(field)
    if value is None:  # the schema guarantees input/output and complete groups; guard the invariant
        raise AssertionError(f"price table invariant broken: {field} missing")
    return value


def _fast_rates(period: PricePeriod, tier: PromptTier | None, cached: bool, model_name: str) -> ModeRates | Unpriced:
    fast = period.fast
    if fast is None:
        return Unpriced(f"{model_name} has no fast mode")
    if tier is not None:
        return Unpriced(f"no fast-mode price is published for {model_name} prompts over {tier.above_prompt_tokens:,}")
    multipliers = period.cache_multipliers
    used = ["input_mtok", "output_mtok"]
    if not cached or multipliers is None:
        return ModeRates(
            input_mtok=fast.input_mtok,
            output_mtok=fast.output_mtok,
            provenance=_kind((), fast.third_party, used),
            third_party_fields=_used(fast.third_party, used),
        )
    # Anthropic prints fast input and output prices; the cache rates follow the model's multipliers on
    # the fast input rate ("2x on every token type" where fast is 2x). The table stores them; older
    # tables without them get the same figures computed here.
    write_5m = fast.cache_write_5m_mtok or fast.input_mtok * multipliers.write_5m
    write_1h = fast.cache_write_1h_mtok
    if write_1h is None and period.cache_write_1h_mtok is not None:
        write_1h = fast.input_mtok * multipliers.write_1h
    read = fast.cache_read_mtok or fast.input_mtok * multipliers.read
    cache_fields = ("cache_write_5m_mtok", "cache_write_1h_mtok", "cache_read_mtok")
    derived = tuple(field for field in cache_fields if field in fast.derived or fast.rate(field) is None)
    return ModeRates(
        input_mtok=fast.input_mtok,
        output_mtok=fast.output_mtok,
        cache_write_5m_mtok=write_5m,
        cache_write_1h_mtok=write_1h,
        cache_read_mtok=read,
        derived_note=(
            f"fast-mode cache prices are derived (fast input {fast.input_mtok} × the model's cache multipliers "
            f"{multipliers.write_5m} / {multipliers.write_1h} / {multipliers.read}); Anthropic publishes only "
            "fast input and output prices"
            if derived
            else None
        ),
        provenance=_kind(derived, fast.third_party, [*used, *cache_fields]),
        derived_fields=derived,
        third_party_fields=_used(fast.third_party, [*used, *cache_fields]),
    )


def _scaled(rates: ModeRates, multiplier: Decimal) -> ModeRates:
    if multiplier == 1:
        return rates

    def scale(value: Decimal | None) -> Decimal | None:
        return None if value is None else value * multiplier

    return ModeRates(
        input_mtok=rates.input_mtok * multiplier,
        output_mtok=rates.output_mtok * multiplier,
        cache_write_5m_mtok=scale(rates.cache_write_5m_mtok),
        cache_write_1h_mtok=scale(rates.cache_write_1h_mtok),
        cache_read_mtok=scale(rates.cache_read_mtok),
        derived_note=rates.derived_note,
        provenance=rates.provenance,
        derived_fields=rates.derived_fields,
        third_party_fields=rates.third_party_fields,
    )
