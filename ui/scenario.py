"""Shareable scenarios: a workload as URL query parameters and back. Pure functions, no Streamlit.

A link names every core input (model, requests, period, tokens, TTL, hit rate or traffic), so it reopens
the same plan even if the app's default scenario changes; optional inputs appear only when they differ
from the estimator's defaults. Parameter names are the `Workload` field names:

    ?model=claude-sonnet-4-6&requests=1000&period=run&prefix_tokens=3000&unique_input_tokens=5000
     &output_tokens=1000&cache_ttl=5m&cache_hit_rate=0.85

A hit rate derived from traffic travels as `requests_per_hour` instead of `cache_hit_rate`. A bad value
is reported in words and replaced by the default scenario's value; it never raises, whatever the link holds
(numbers with thousands of digits, values that overflow, text of any length). A parameter the app does not
read is named too (`unknown_params`), so a typo in a hand-edited link is not silently ignored.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from estimator.errors import EstimatorError
from estimator.format import decimal_text, format_tokens
from estimator.planning import hit_rate_from_traffic
from estimator.workload import MAX_REQUESTS, Workload, to_decimal
from pricing import PriceTable, PricingError, UnknownModelError, load_price_table

__all__ = [
    "CORE_FIELDS",
    "DEFAULT_WORKLOAD",
    "OPTIONAL_FIELDS",
    "PARAM_NAMES",
    "apply_fields",
    "requests_per_hour_from_params",
    "unknown_params",
    "workload_from_params",
    "workload_to_params",
]

DEFAULT_WORKLOAD = Workload(
    model="claude-sonnet-4-6",
    requests=1000,
    prefix_tokens=3000,
    unique_input_tokens=5000,
    output_tokens=1000,
    cache_hit_rate=Decimal("0.85"),
    cache_ttl="5m",
)
"""The README's worked example: what a first visit shows."""

CORE_FIELDS = ("model", "requests", "period", "prefix_tokens", "unique_input_tokens", "output_tokens", "cache_ttl")
OPTIONAL_FIELDS = (
    "web_searches_per_request",
    "tool_use",
    "geo",
    "fast",
    "as_of",
    "tokens_measured_for",
    "thinking_tokens",
    "web_fetches_per_request",
    "tokens_per_web_fetch",
    "code_execution_sessions_per_request",  # before the minutes: minutes without sessions are refused
    "code_execution_minutes_per_session",
    "code_execution_with_web_tools",
    "channel",
    "endpoint",
)
HIT_RATE = "cache_hit_rate"
TRAFFIC = "requests_per_hour"
PARAM_NAMES = (*CORE_FIELDS, HIT_RATE, TRAFFIC, *OPTIONAL_FIELDS)

MAX_PERIOD_CHARS = 40
"""A period is a short label ("run", "day", "batch of invoices"): longer text is not a label."""
MAX_REQUESTS_PER_HOUR = Decimal(MAX_REQUESTS)
"""Traffic beyond the estimator's largest request count is a typo, as it is for `requests`."""
MAX_PARAM_CHARS = 100
"""No value of a workload parameter is longer; a longer one is refused before it is parsed."""

_ESTIMATOR_DEFAULTS: dict[str, Any] = {field.name: field.default for field in dataclasses.fields(Workload)}
_FLAGS = ("fast", "code_execution_with_web_tools")
_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")

Params = Mapping[str, str | list[str]]


def workload_to_params(workload: Workload, *, requests_per_hour: Decimal | None = None) -> dict[str, str]:
    """The query parameters that reopen `workload` (the API key and other session state never go here)."""
    params = {name: _text(getattr(workload, name)) for name in CORE_FIELDS}
    if requests_per_hour is None:
        params[HIT_RATE] = _text(workload.cache_hit_rate)
    else:
        params[TRAFFIC] = _text(requests_per_hour)
    for name in OPTIONAL_FIELDS:
        value = getattr(workload, name)
        if value != _ESTIMATOR_DEFAULTS[name]:
            params[name] = _text(value)
    return params


def workload_from_params(
    params: Params, *, table: PriceTable | None = None, base: Workload = DEFAULT_WORKLOAD
) -> tuple[Workload | None, list[str]]:
    """The workload a link describes, and what was wrong with it. None when the link names no workload
    input at all; otherwise every readable value is used and each bad one falls back to `base`'s."""
    values = _last_values(params)
    if not any(name in values for name in PARAM_NAMES):
        return None, []
    table = table or load_price_table()
    fields: dict[str, Any] = {}
    errors: list[str] = []
    for name in (*CORE_FIELDS, HIT_RATE, *OPTIONAL_FIELDS):
        if name not in values:
            continue
        try:
            # Checked against the fields accepted so far: a link's minutes of code execution need its sessions.
            fields[name] = _validated(dataclasses.replace(base, **fields), name, _parse(name, values[name], table))
        except (EstimatorError, PricingError) as error:
            errors.append(_ignored(name, values[name], str(error), base))
        except (ValueError, ArithmeticError):  # beyond what the estimator names (e.g. 1e5000 as an integer)
            errors.append(_ignored(name, values[name], f"{name} is not a number this app can use", base))
    if TRAFFIC in values:
        if HIT_RATE in values:
            errors.append("The link gives both cache_hit_rate and requests_per_hour: the hit rate follows the traffic.")
        rate, traffic_errors = requests_per_hour_from_params(values)
        errors += traffic_errors
        if rate is not None:
            ttl = fields.get("cache_ttl", base.cache_ttl)
            try:
                fields[HIT_RATE] = hit_rate_from_traffic(rate, ttl, table=table)
            except (ValueError, ArithmeticError) as error:
                message = str(error) if isinstance(error, EstimatorError) else f"{TRAFFIC} is too large to use"
                errors.append(f"The link's {TRAFFIC}={_quoted(values[TRAFFIC])} was ignored: {message.rstrip('.')}.")
    return dataclasses.replace(base, **fields), errors


def unknown_params(params: Params, *, known: Iterable[str] = ()) -> list[str]:
    """A message for each parameter that is neither a workload input nor one of `known` (e.g. `page`)."""
    readable = {*PARAM_NAMES, *known}
    return [
        f"The link's {_quoted(name)} is not a parameter of this app and was ignored."
        for name in params
        if name not in readable
    ]


def requests_per_hour_from_params(params: Params) -> tuple[Decimal | None, list[str]]:
    """The traffic a link derives its hit rate from, if it names a valid one."""
    values = _last_values(params)
    if TRAFFIC not in values:
        return None, []
    try:
        return to_decimal(_within_length(TRAFFIC, values[TRAFFIC]), TRAFFIC, maximum=MAX_REQUESTS_PER_HOUR), []
    except EstimatorError as error:
        return None, [f"The link's {TRAFFIC}={_quoted(values[TRAFFIC])} was ignored: {error}."]
    except (ValueError, ArithmeticError):
        return None, [f"The link's {TRAFFIC}={_quoted(values[TRAFFIC])} was ignored: not a number this app can use."]


def apply_fields(base: Workload, raw: Mapping[str, object]) -> tuple[Workload, dict[str, str]]:
    """`base` with each field of `raw` that the estimator accepts; a message for each one it refuses.

    Fields are checked one by one, in order, each against `base` with the fields accepted before it (minutes
    of code execution need its sessions), so every bad input gets its own message and the good ones apply."""
    accepted: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, value in raw.items():
        try:
            accepted[name] = _validated(dataclasses.replace(base, **accepted), name, value)
        except EstimatorError as error:
            errors[name] = str(error)
        except (ValueError, ArithmeticError):  # beyond what the estimator names: still a message, never a crash
            errors[name] = f"{name} is not a number this app can use"
    return dataclasses.replace(base, **accepted), errors


def _validated(base: Workload, name: str, value: Any) -> Any:
    """The value as the Workload normalises it ('1000' → 1000), or the Workload's error for it."""
    if name not in _ESTIMATOR_DEFAULTS:
        raise EstimatorError(f"{name} is not a workload input")
    if name == "period" and isinstance(value, str):
        _check_period(value)
    return getattr(dataclasses.replace(base, **{name: value}), name)


def _check_period(text: str) -> None:
    """The app's rule for the period label, on top of the estimator's (non-empty): one short line."""
    if len(text) > MAX_PERIOD_CHARS or not text.isprintable():
        raise EstimatorError(f"period must be a short label on one line (at most {MAX_PERIOD_CHARS} characters)")


def _within_length(name: str, text: str) -> str:
    if len(text) > MAX_PARAM_CHARS:
        raise EstimatorError(f"{name} is longer than any value it can take ({len(text):,} characters)")
    return text


def _parse(name: str, text: str, table: PriceTable) -> object:
    _within_length(name, text)
    if name == "model":
        try:
            return table.model(text).id
        except UnknownModelError as error:
            hint = f" (did you mean {', '.join(error.suggestions)}?)" if error.suggestions else ""
            raise PricingError(f"no model is called {text!r}{hint}") from None
    if name in _FLAGS:
        lowered = text.strip().lower()
        if lowered in _TRUE + _FALSE:
            return lowered in _TRUE
        raise EstimatorError(f"{name} must be true or false, got {text!r}")
    if name == "tokens_measured_for" and text.strip() == "":
        return None
    return text


def _ignored(name: str, text: str, message: str, base: Workload) -> str:
    fallback = getattr(base, name, None)
    using = f" Using {_shown(fallback)} instead." if name in CORE_FIELDS or name == HIT_RATE else ""
    return f"The link's {name}={_quoted(text)} was ignored: {message.rstrip('.')}.{using}"


def _quoted(text: str) -> str:
    """A value from the link as the message quotes it: repr, cut short when long (a 5,000-digit number)."""
    if len(text) <= MAX_PARAM_CHARS:
        return repr(text)
    return f"{text[:20]!r}… ({len(text):,} characters)"


def _shown(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return format_tokens(value)
    return _text(value)


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return decimal_text(value) or "0"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _last_values(params: Params) -> dict[str, str]:
    """Streamlit gives the last value of a repeated parameter; plain dicts may hold lists."""
    values: dict[str, str] = {}
    for name, value in params.items():
        if isinstance(value, list):
            if value:
                values[name] = str(value[-1])
        else:
            values[name] = str(value)
    return values
