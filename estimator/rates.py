"""The per-MTok rates one mode pays, after prompt-length tier, fast mode and data residency.

All multipliers come from the price table: the tier's own row, the model's fast-mode row and cache
multipliers, and `rules.data_residency.us_multiplier`. Nothing here knows a price.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from estimator.workload import CacheTTL, Mode
from pricing import PricePeriod, PromptTier, RateSet

__all__ = ["ModeRates", "Unpriced", "resolve_mode_rates", "tier_for"]


@dataclass(frozen=True)
class ModeRates:
    """Rates in USD per million tokens. Cache rates are None when the mode does not cache."""

    input_mtok: Decimal
    output_mtok: Decimal
    cache_write_5m_mtok: Decimal | None = None
    cache_write_1h_mtok: Decimal | None = None
    cache_read_mtok: Decimal | None = None
    derived_note: str | None = None

    def cache_write_mtok(self, ttl: CacheTTL) -> Decimal | None:
        return self.cache_write_5m_mtok if ttl == "5m" else self.cache_write_1h_mtok


@dataclass(frozen=True)
class Unpriced:
    """The table holds no price for this mode; `reason` says why in words a user can act on."""

    reason: str


def tier_for(period: PricePeriod, prompt_tokens: int) -> PromptTier | None:
    """The highest tier whose threshold the prompt strictly exceeds (rules.prompt_tiers)."""
    crossed = [tier for tier in period.tiers if prompt_tokens > tier.above_prompt_tokens]
    return crossed[-1] if crossed else None


def resolve_mode_rates(
    period: PricePeriod,
    mode: Mode,
    *,
    tier: PromptTier | None,
    fast: bool,
    geo_multiplier: Decimal,
    model_name: str,
) -> ModeRates | Unpriced:
    row: RateSet = tier if tier is not None else period
    batch = mode.startswith("batch")
    cached = mode.endswith("cached")
    if batch and not row.has_batch_rates:
        return Unpriced(f"Anthropic publishes no batch prices for {model_name}")
    if cached and not row.has_cache_rates:
        return Unpriced(f"Anthropic publishes no prompt-caching prices for {model_name}")
    if fast and not batch:
        rates = _fast_rates(period, tier, cached, model_name)
    else:
        prefix = "batch_" if batch else ""
        rates = ModeRates(
            input_mtok=_rate(row, f"{prefix}input_mtok"),
            output_mtok=_rate(row, f"{prefix}output_mtok"),
            cache_write_5m_mtok=row.rate(f"{prefix}cache_write_5m_mtok") if cached else None,
            cache_write_1h_mtok=row.rate(f"{prefix}cache_write_1h_mtok") if cached else None,
            cache_read_mtok=row.rate(f"{prefix}cache_read_mtok") if cached else None,
        )
    if isinstance(rates, Unpriced):
        return rates
    return _scaled(rates, geo_multiplier)


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
    if not cached or multipliers is None:
        return ModeRates(input_mtok=fast.input_mtok, output_mtok=fast.output_mtok)
    # Only fast input/output prices are published; cache prices follow the model's own multipliers.
    return ModeRates(
        input_mtok=fast.input_mtok,
        output_mtok=fast.output_mtok,
        cache_write_5m_mtok=fast.input_mtok * multipliers.write_5m,
        cache_write_1h_mtok=fast.input_mtok * multipliers.write_1h,
        cache_read_mtok=fast.input_mtok * multipliers.read,
        derived_note=(
            f"fast-mode cache prices are derived (fast input {fast.input_mtok} × the model's cache multipliers "
            f"{multipliers.write_5m} / {multipliers.write_1h} / {multipliers.read}); Anthropic publishes only "
            "fast input and output prices"
        ),
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
    )
