"""When each priced feature existed: prompt caching, Message Batches, the 1-hour TTL, data residency, the
1M-context beta, and each model's fast mode.

No price exists before its feature did, nor after it was removed. The table keeps each model's rates per
category in its price rows; these periods say on which days each category could be bought. A lookup "as
of" a day outside a feature's period therefore sees that feature's rates as absent, with the reason and
the date (`PricePeriod.unavailable(feature)`), and the estimator reports the mode or option unavailable
instead of pricing it.

A period runs from `available_from` (inclusive) to `removed` (exclusive: the first day the API no longer
offers it); `None` means it has not been removed.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "FEATURE_LABELS",
    "GLOBAL_FEATURES",
    "DatePrecision",
    "Feature",
    "FeaturePeriod",
    "Features",
    "describe_gap",
]

DatePrecision = Literal["day", "month", "year", "approximate"]
Feature = Literal["prompt_caching", "message_batches", "cache_ttl_1h", "data_residency", "context_1m_beta", "fast_mode"]
GLOBAL_FEATURES: tuple[Feature, ...] = (
    "prompt_caching",
    "message_batches",
    "cache_ttl_1h",
    "data_residency",
    "context_1m_beta",
)
FEATURE_LABELS: dict[Feature, str] = {
    "prompt_caching": "Prompt caching",
    "message_batches": "The Message Batches API",
    "cache_ttl_1h": "The 1-hour cache TTL",
    "data_residency": "US data residency (inference_geo)",
    "context_1m_beta": "The 1M-context beta",
    "fast_mode": "Fast mode",
}


class FeaturePeriod(BaseModel):
    """The days on which a feature could be used: `available_from` ≤ day < `removed`."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    available_from: dt.date
    from_precision: DatePrecision = "day"
    deprecated: dt.date | None = None
    removed: dt.date | None = None
    removed_precision: DatePrecision = "day"
    sources: tuple[str, ...] = Field(min_length=1)
    note: str | None = None

    @model_validator(mode="after")
    def _dates_in_order(self) -> FeaturePeriod:
        dates = [d for d in (self.available_from, self.deprecated, self.removed) if d is not None]
        if dates != sorted(dates) or (self.removed is not None and self.removed == self.available_from):
            raise ValueError("feature dates must run available_from < removed, with deprecated between them")
        return self

    def available_on(self, day: dt.date) -> bool:
        return self.available_from <= day and (self.removed is None or day < self.removed)

    def overlaps(self, start: dt.date, end: dt.date | None) -> bool:
        """Whether any day of [start, end) falls in this period (`end` None: open)."""
        return (end is None or self.available_from < end) and (self.removed is None or start < self.removed)

    def contains(self, start: dt.date, end: dt.date | None) -> bool:
        """Whether every day of [start, end) falls in this period (`end` None: open)."""
        if start < self.available_from:
            return False
        if self.removed is None:
            return True
        return end is not None and end <= self.removed


class Features(BaseModel):
    """The API-wide features that gate a price category, each with its period and sources."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    prompt_caching: FeaturePeriod
    message_batches: FeaturePeriod
    cache_ttl_1h: FeaturePeriod
    data_residency: FeaturePeriod
    context_1m_beta: FeaturePeriod

    def period(self, feature: Feature) -> FeaturePeriod:
        if feature not in GLOBAL_FEATURES:
            raise KeyError(feature)
        value: FeaturePeriod = getattr(self, feature)
        return value


def _when(day: dt.date, precision: DatePrecision) -> str:
    return str(day) if precision == "day" else f"{day} ({precision} date)"


def describe_gap(feature: Feature, period: FeaturePeriod | None, day: dt.date, *, model_name: str) -> str | None:
    """Why `feature` cannot be used on `day` (None when it can), in words that name the date."""
    label = FEATURE_LABELS[feature]
    subject = f"{label} for {model_name}" if feature == "fast_mode" else label
    if period is None:
        return f"{model_name} has no fast mode" if feature == "fast_mode" else f"{label} is not available"
    if day < period.available_from:
        return (
            f"{subject} did not exist yet on {day}: it started on "
            f"{_when(period.available_from, period.from_precision)}, so no price applies before then"
        )
    if period.removed is not None and day >= period.removed:
        deprecated = f" (deprecated {period.deprecated})" if period.deprecated else ""
        return (
            f"{subject} was removed on {_when(period.removed, period.removed_precision)}{deprecated}: "
            f"on {day} the API no longer offers it, so it has no price"
        )
    return None
