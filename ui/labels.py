"""Words the app shows for the estimator's names: modes, cost categories, workload inputs."""

from __future__ import annotations

import html
import re
from decimal import Decimal
from typing import TYPE_CHECKING

from estimator.costs import Category, ModeCost
from estimator.format import format_percent
from estimator.workload import CHANNELS, Channel, Geo, Mode
from ui.columns import factor_text

if TYPE_CHECKING:
    from pricing import PriceTable

__all__ = [
    "CATEGORY_LABELS",
    "CHANNEL_HELP",
    "ENDPOINT_HELP",
    "FAST_HELP",
    "FAST_LABEL",
    "FIELD_LABELS",
    "GEO_HELP",
    "MODE_LABELS",
    "NOT_PRICED",
    "channel_labels",
    "cost_change",
    "geo_labels",
    "metric_label",
    "percent_of_fraction",
    "plain",
    "plot_text",
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
    "thinking": "Thinking (billed as output)",
    "code_execution": "Code execution",
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
    "thinking_tokens": "Thinking tokens per request",
    "web_fetches_per_request": "Web fetches per request",
    "tokens_per_web_fetch": "Tokens per web fetch",
    "code_execution_sessions_per_request": "Code-execution sessions per request",
    "code_execution_minutes_per_session": "Minutes per code-execution session",
    "code_execution_with_web_tools": "Code execution with web tools",
    "channel": "Channel",
    "endpoint": "Endpoint",
    "overrides": "Negotiated rates",
    "currency": "Currency",
    "tier": "Account tier",
}


# The options of a request's price, in the words of every page that offers them (the Plan page's sidebar, the
# Conversations page): residency, fast mode, channel, endpoint.
GEO_HELP = "Where inference runs; US-only costs more."
FAST_LABEL = "Fast mode (real-time only)"
FAST_HELP = "Faster output at fast-mode rates, for real-time requests."
CHANNEL_HELP = (
    "Where the tokens are bought. Partners set their own prices: the figures are Anthropic's list prices, with the "
    "regional premium where documented."
)
ENDPOINT_HELP = "A partner's global endpoint, or a regional one (a premium where documented)."


def geo_labels(table: PriceTable) -> dict[Geo, str]:
    """The data-residency choices, US-only with the table's multiplier ('US only (×1.1)')."""
    return {"global": "global", "us": f"US only (×{factor_text(table.rules.data_residency.us_multiplier)})"}


def channel_labels(table: PriceTable) -> dict[Channel, str]:
    """Each channel by the table's name for it ('Amazon Bedrock')."""
    return {channel: table.rules.channels.rule(channel).name for channel in CHANNELS}


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


# Characters that start Markdown (and Streamlit's extensions: `:red[...]`, `:material/x:`, `$math$`) anywhere
# in a line; a backslash makes each one literal (CommonMark escapes any ASCII punctuation).
_INLINE_MARKUP = re.compile(r"([\\`*_\[\]<>~$:|&@{}])")
_AUTOLINK = re.compile(r"(\\:(?=//)|www(?=\.)|\\@(?=\w))", re.IGNORECASE)
# Characters that start a block at the start of a line: heading, quote, list (`-`, `+`, `1.`, `1)`), rule.
_LINE_START_MARKUP = re.compile(r"^(\s*|\s*\d+(?=[.)]))([#>+\-=.)])", re.MULTILINE)


def plain(text: str) -> str:
    """Text from outside (a link, an uploaded file, an error quoting either) made literal for Streamlit's
    Markdown: `**BOLD**` shows as typed, never bold, and no link, colour, icon or formula can be injected."""
    escaped = _INLINE_MARKUP.sub(r"\\\1", text)
    escaped = _LINE_START_MARKUP.sub(lambda match: match.group(1) + "\\" + match.group(2), escaped)
    # Bare addresses become links after escapes are read (GFM's autolink literals): a zero-width space
    # keeps `http://`, `www.` and `name@host` from matching, and the reader sees the text unchanged.
    return _AUTOLINK.sub("\\1\u200b", escaped)


def plot_text(text: str) -> str:
    """Text from outside made literal for plotly, which reads a few HTML tags (<b>, <a href>, <br>) in titles."""
    return html.escape(text, quote=False)
