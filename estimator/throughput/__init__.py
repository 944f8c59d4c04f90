"""Throughput: whether a workload fits the published rate limits of an account tier, and how long it takes.

Real-time requests draw on per-model-class limits: requests, input tokens and output tokens per minute. Only
uncached input counts towards the input limit (`input_tokens` and cache writes; cache reads do not, except on the
classes the limits file marks). Message Batches do not draw on those limits: they have a queue limit per tier,
100,000 requests per batch, and finish "mostly within 1 hour", at most 24 hours (then they expire).

The limits live in `rate_limits.yaml` beside this module, each with its source; a model with no published row
gets "not published", never a guess. Periods convert to minutes by calendar convention: a day is 1,440 minutes,
a week 7 days, a month 365.25 / 12 = 30.4375 days; a period such as "run" has no duration, and then only the
time the whole run takes at the limit is given.
"""

from __future__ import annotations

import functools
import importlib.resources
import math
from dataclasses import dataclass
from decimal import Context, Decimal, localcontext
from typing import Any, Literal, get_args

from estimator.costs import prepare
from estimator.errors import InvalidWorkloadError
from estimator.workload import Workload
from pricing import PriceTable, load_price_table

__all__ = [
    "ACCOUNT_TIERS",
    "MINUTES_PER_PERIOD",
    "AccountTier",
    "BatchPlan",
    "RateLimits",
    "ThroughputFit",
    "rate_limits",
    "throughput",
]

AccountTier = Literal["start", "build", "scale"]
ACCOUNT_TIERS: tuple[AccountTier, ...] = get_args(AccountTier)

MINUTES_PER_PERIOD: dict[str, Decimal] = {
    "minute": Decimal(1),
    "hour": Decimal(60),
    "day": Decimal(1440),
    "week": Decimal(7 * 1440),
    "month": Decimal(1440) * Decimal("30.4375"),
}
_RATIO = Context(prec=28)


@dataclass(frozen=True)
class RateLimits:
    model_class: str
    requests_per_minute: int
    input_tokens_per_minute: int
    output_tokens_per_minute: int
    cache_reads_count: bool
    source: str
    third_party: bool
    notes: str | None


@dataclass(frozen=True)
class BatchPlan:
    batches: int
    requests_per_batch_limit: int
    queue_limit_requests: int
    waves: int
    """Rounds of submission: more requests than the tier's processing queue holds must wait for the first ones."""
    timing: str


@dataclass(frozen=True)
class ThroughputFit:
    tier: AccountTier
    limits: RateLimits | None
    unavailable_reason: str | None
    counted_input_tokens_per_request: Decimal
    """Input that counts towards the input-tokens-per-minute limit, with caching at the workload's hit rate."""
    uncached_counted_input_tokens_per_request: int
    minutes_for_all_requests: Decimal | None
    """How long real-time takes at the limit (with caching), whatever the period."""
    binding_limit: str | None
    share_of_limits: dict[str, Decimal] | None
    """Per-minute need over the limit, per limit (requests, input, output), when the period has a duration."""
    fits: bool | None
    batch: BatchPlan


def rate_limits(model_id: str, tier: AccountTier) -> RateLimits | None:
    """The published limits of the model's class in that tier, or None when none are published."""
    data = _limits_file()
    for entry in data["classes"]:
        if model_id in entry["models"] and tier in entry["limits"]:
            row = entry["limits"][tier]
            return RateLimits(
                model_class=entry["name"],
                requests_per_minute=row["requests_per_minute"],
                input_tokens_per_minute=row["input_tokens_per_minute"],
                output_tokens_per_minute=row["output_tokens_per_minute"],
                cache_reads_count=bool(entry.get("cache_reads_count", False)),
                source=entry["source"],
                third_party=bool(entry.get("third_party", False)),
                notes=entry.get("notes"),
            )
    return None


def throughput(workload: Workload, *, tier: str = "start", table: PriceTable | None = None) -> ThroughputFit:
    """Whether the workload fits the tier's real-time limits, how long it takes at them, and its batch plan."""
    if tier not in ACCOUNT_TIERS:
        raise InvalidWorkloadError(f"tier must be one of {', '.join(ACCOUNT_TIERS)}, got {tier!r}", field="tier")
    account_tier: AccountTier = tier
    table = table or load_price_table()
    prepared = prepare(workload, table)
    limits = rate_limits(prepared.model.id, account_tier)
    counted, uncached = _counted_input(prepared.prompt_tokens, prepared, limits)
    batch = _batch_plan(workload.requests, account_tier, table)
    if limits is None:
        reason = f"Anthropic publishes no {account_tier} rate limits for {prepared.model.name}"
        return ThroughputFit(account_tier, None, reason, counted, uncached, None, None, None, None, batch)
    need_per_request = {
        "requests": Decimal(1),
        "input tokens": counted,
        "output tokens": Decimal(workload.billed_output_tokens),  # thinking is output, and counts
    }
    limit_of = {
        "requests": limits.requests_per_minute,
        "input tokens": limits.input_tokens_per_minute,
        "output tokens": limits.output_tokens_per_minute,
    }
    with localcontext(_RATIO):
        minutes_each = {name: need_per_request[name] * workload.requests / limit_of[name] for name in limit_of}
        binding = max(minutes_each, key=lambda name: minutes_each[name])
        minutes = minutes_each[binding]
        period_minutes = MINUTES_PER_PERIOD.get(workload.period.strip().lower())
        shares = None
        fits = None
        if period_minutes is not None:
            shares = {name: value / period_minutes for name, value in minutes_each.items()}
            fits = all(share <= 1 for share in shares.values())
    return ThroughputFit(account_tier, limits, None, counted, uncached, minutes, binding, shares, fits, batch)


def _counted_input(prompt_tokens: int, prepared: Any, limits: RateLimits | None) -> tuple[Decimal, int]:
    # The prompt includes fetched web content (uncached input after the breakpoint), so it counts too.
    if not prepared.caching_possible:
        return Decimal(prompt_tokens), prompt_tokens
    prefix = prepared.cacheable_prefix_tokens
    hits = prepared.workload.cache_hit_rate
    counted = Decimal(prompt_tokens - prefix) + (1 - hits) * prefix
    if limits is not None and limits.cache_reads_count:
        counted += hits * prefix
    return counted, prompt_tokens


def _batch_plan(requests: int, tier: AccountTier, table: PriceTable) -> BatchPlan:
    per_batch = table.rules.batch.max_requests
    queue = int(_limits_file()["batches"][tier]["max_requests_in_queue"])
    batches = math.ceil(requests / per_batch) if requests else 0
    waves = math.ceil(requests / queue) if requests else 0
    timing = "most batches finish within 1 hour; any batch not finished within 24 hours expires"
    if waves > 1:
        timing += (
            f"; {requests:,} requests exceed the {queue:,}-request processing queue of the {tier} tier, so they go "
            f"in {waves} waves (up to {waves * 24} hours in the worst case)"
        )
    return BatchPlan(batches, per_batch, queue, waves, timing)


@functools.cache
def _limits_file() -> dict[str, Any]:
    import yaml  # only when limits are asked for: `import estimator` stays light

    text = (importlib.resources.files("estimator.throughput") / "rate_limits.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data
