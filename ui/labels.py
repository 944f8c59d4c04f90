"""Words the app shows for the estimator's names: modes, cost categories, workload inputs."""

from __future__ import annotations

from decimal import Decimal

from estimator.costs import Category, ModeCost
from estimator.format import format_percent
from estimator.workload import Mode

__all__ = [
    "CATEGORY_LABELS",
    "FIELD_LABELS",
    "MODE_LABELS",
    "NOT_PRICED",
    "cost_change",
    "metric_label",
    "percent_of_fraction",
]

NOT_PRICED = "not priced"
"""Shown instead of a figure wherever a mode has no published price: never $0."""

MODE_LABELS: dict[Mode, str] = {
    "realtime": "Real-time",
    "realtime_cached": "Real-time + cache",
    "batch": "Batch",
    "batch_cached": "Batch + cache",
}

CATEGORY_LABELS: dict[Category, str] = {
    "uncached_input": "Uncached input",
    "cache_write_5m": "Cache writes (5m)",
    "cache_write_1h": "Cache writes (1h)",
    "cache_read": "Cache reads",
    "output": "Output",
    "web_search": "Web search",
}

FIELD_LABELS: dict[str, str] = {
    "model": "Model",
    "requests": "Requests",
    "period": "Period",
    "prefix_tokens": "Shared prefix",
    "unique_input_tokens": "Unique input",
    "output_tokens": "Output",
    "cache_hit_rate": "Cache hit rate",
    "cache_ttl": "Cache lifetime (TTL)",
    "requests_per_hour": "Requests per hour",
    "web_searches_per_request": "Web searches per request",
    "tool_use": "Tools",
    "as_of": "Prices as of",
    "geo": "Data residency",
    "fast": "Fast mode",
    "tokens_measured_for": "Tokens measured for",
}


def metric_label(mode: Mode, what: str) -> str:
    """A metric's label names its mode, so each one reads on its own (and tests find it by label)."""
    return f"{MODE_LABELS[mode]} · {what}"


def percent_of_fraction(fraction: Decimal | None) -> str:
    """0.85 → '85%': hit rates are fractions in the estimator and percentages on screen."""
    return format_percent(None if fraction is None else fraction * 100)


def cost_change(mode: ModeCost) -> str | None:
    """The mode's cost against real-time as a metric delta ('-58.4%'), None for real-time itself.

    The sign is ASCII so Streamlit reads the direction: a cut shows as a falling, green delta with
    `delta_color="inverse"`, a mode that costs more as a rising, red one."""
    if mode.mode == "realtime" or mode.savings_pct is None or mode.savings_pct == 0:
        return None
    sign = "-" if mode.savings_pct > 0 else "+"
    return sign + format_percent(abs(mode.savings_pct))
