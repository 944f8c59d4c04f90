"""Shareable scenarios: a workload as URL query parameters and back. Pure functions, no Streamlit.

A link names every core input (model, requests, period, tokens, TTL, hit rate or traffic), so it reopens
the same plan even if the app's default scenario changes; optional inputs appear only when they differ
from the estimator's defaults. Parameter names are the `Workload` field names:

    ?model=claude-sonnet-4-6&requests=1000&period=run&prefix_tokens=3000&unique_input_tokens=5000
     &output_tokens=1000&cache_ttl=5m&cache_hit_rate=0.85

A hit rate derived from traffic travels as `requests_per_hour` instead of `cache_hit_rate`. A bad value
is reported in words and replaced by the default scenario's value; it never raises.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from estimator.errors import EstimatorError
from estimator.format import decimal_text, format_tokens
from estimator.planning import hit_rate_from_traffic
from estimator.workload import Workload, to_decimal
from pricing import PriceTable, PricingError, UnknownModelError, load_price_table

__all__ = [
    "CORE_FIELDS",
    "DEFAULT_WORKLOAD",
    "OPTIONAL_FIELDS",
    "PARAM_NAMES",
    "apply_fields",
    "requests_per_hour_from_params",
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
OPTIONAL_FIELDS = ("web_searches_per_request", "tool_use", "geo", "fast", "as_of", "tokens_measured_for")
HIT_RATE = "cache_hit_rate"
TRAFFIC = "requests_per_hour"
PARAM_NAMES = (*CORE_FIELDS, HIT_RATE, TRAFFIC, *OPTIONAL_FIELDS)

_ESTIMATOR_DEFAULTS: dict[str, Any] = {field.name: field.default for field in dataclasses.fields(Workload)}
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
            fields[name] = _validated(base, name, _parse(name, values[name], table))
        except (EstimatorError, PricingError) as error:
            errors.append(_ignored(name, values[name], str(error), base))
    if TRAFFIC in values:
        if HIT_RATE in values:
            errors.append("The link gives both cache_hit_rate and requests_per_hour: the hit rate follows the traffic.")
        rate, traffic_errors = requests_per_hour_from_params(values)
        errors += traffic_errors
        if rate is not None:
            ttl = fields.get("cache_ttl", base.cache_ttl)
            fields[HIT_RATE] = hit_rate_from_traffic(rate, ttl, table=table)
    return dataclasses.replace(base, **fields), errors


def requests_per_hour_from_params(params: Params) -> tuple[Decimal | None, list[str]]:
    """The traffic a link derives its hit rate from, if it names a valid one."""
    values = _last_values(params)
    if TRAFFIC not in values:
        return None, []
    try:
        return to_decimal(values[TRAFFIC], TRAFFIC), []
    except EstimatorError as error:
        return None, [f"The link's {TRAFFIC}={values[TRAFFIC]!r} was ignored: {error}."]


def apply_fields(base: Workload, raw: Mapping[str, object]) -> tuple[Workload, dict[str, str]]:
    """`base` with each field of `raw` that the estimator accepts; a message for each one it refuses.

    Fields are checked one by one (the Workload checks each field on its own), so every bad input gets its
    own message and the good ones still apply."""
    accepted: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, value in raw.items():
        try:
            accepted[name] = _validated(base, name, value)
        except EstimatorError as error:
            errors[name] = str(error)
    return dataclasses.replace(base, **accepted), errors


def _validated(base: Workload, name: str, value: Any) -> Any:
    """The value as the Workload normalises it ('1000' → 1000), or the Workload's error for it."""
    if name not in _ESTIMATOR_DEFAULTS:
        raise EstimatorError(f"{name} is not a workload input")
    return getattr(dataclasses.replace(base, **{name: value}), name)


def _parse(name: str, text: str, table: PriceTable) -> object:
    if name == "model":
        try:
            return table.model(text).id
        except UnknownModelError as error:
            hint = f" (did you mean {', '.join(error.suggestions)}?)" if error.suggestions else ""
            raise PricingError(f"no model is called {text!r}{hint}") from None
    if name == "fast":
        lowered = text.strip().lower()
        if lowered in _TRUE + _FALSE:
            return lowered in _TRUE
        raise EstimatorError(f"fast must be true or false, got {text!r}")
    if name == "tokens_measured_for" and text.strip() == "":
        return None
    return text


def _ignored(name: str, text: str, message: str, base: Workload) -> str:
    fallback = getattr(base, name, None)
    using = f" Using {_shown(fallback)} instead." if name in CORE_FIELDS or name == HIT_RATE else ""
    return f"The link's {name}={text!r} was ignored: {message.rstrip('.')}.{using}"


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
