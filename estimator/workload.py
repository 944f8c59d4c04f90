"""A workload: what a team sends to Claude, validated once when it is built.

Token figures are per request; `requests` is the number of requests in one `period` (a label: run, day,
week, month). The shared prefix (tools + system + shared context) is the cacheable part; unique input is
what follows the last cache breakpoint; output is what the model writes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, get_args

from estimator.errors import InvalidWorkloadError

__all__ = [
    "DEFAULT_HIT_RATE",
    "MAX_REQUESTS",
    "MAX_TOKENS_PER_REQUEST",
    "MODES",
    "CacheTTL",
    "Geo",
    "Mode",
    "ToolUse",
    "Workload",
    "to_decimal",
    "to_fraction",
    "to_token_count",
    "workload_from",
]

Mode = Literal["realtime", "realtime_cached", "batch", "batch_cached"]
MODES: tuple[Mode, ...] = get_args(Mode)
CacheTTL = Literal["5m", "1h"]
Geo = Literal["global", "us"]
ToolUse = Literal["off", "auto", "any"]
"""Tools on every request: `auto` covers tool_choice auto or none, `any` covers any or a named tool."""

MAX_REQUESTS = 10**12
"""A trillion requests in one period is beyond any real workload: larger values are typos."""

MAX_TOKENS_PER_REQUEST = 10_000_000
"""Ten times the largest context window; larger per-request figures are typos, not workloads."""

DEFAULT_HIT_RATE = Decimal("0.9")
"""The cache hit rate assumed when none is given: an assumption, shown with every estimate."""

MAX_WEB_SEARCHES_PER_REQUEST = 1_000
MAX_DECIMAL_PLACES = 15
"""Inputs are rates and counts; more places than this are noise, and refusing them keeps money exact."""


def to_token_count(value: object, name: str, *, maximum: int = MAX_TOKENS_PER_REQUEST) -> int:
    """An int ≥ 0 from an int or an integral string/Decimal/float; bools, NaN and fractions are refused."""
    if isinstance(value, bool):
        raise InvalidWorkloadError(f"{name} must be a whole number of tokens, not {value!r}", field=name)
    number = _as_decimal(value, name)
    if number != number.to_integral_value():
        raise InvalidWorkloadError(f"{name} must be a whole number, got {value}", field=name)
    count = int(number)
    if count < 0:
        raise InvalidWorkloadError(f"{name} must be 0 or more, got {count:,}", field=name)
    if count > maximum:
        raise InvalidWorkloadError(
            f"{name} = {count:,} is beyond any real workload (limit {maximum:,}); a typo?", field=name
        )
    return count


def to_decimal(value: object, name: str, *, minimum: Decimal = Decimal(0), maximum: Decimal | None = None) -> Decimal:
    """A finite Decimal in [minimum, maximum]; floats are read through their shortest text (0.85 → 0.85)."""
    if isinstance(value, bool):
        raise InvalidWorkloadError(f"{name} must be a number, not {value!r}", field=name)
    number = _as_decimal(value, name)
    if number < minimum or (maximum is not None and number > maximum):
        upper = f" and {maximum}" if maximum is not None else ""
        raise InvalidWorkloadError(f"{name} must be between {minimum}{upper}, got {value}", field=name)
    return number


def to_fraction(value: object, name: str) -> Decimal:
    """A rate in [0, 1]; a value like 85 (a percentage) is refused with a hint rather than guessed."""
    number = to_decimal(value, name, maximum=None)
    if number > 1:
        raise InvalidWorkloadError(f"{name} must be between 0 and 1 (e.g. 0.85 for 85%), got {value}", field=name)
    return number


def _as_decimal(value: object, name: str) -> Decimal:
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidWorkloadError(f"{name} must be a finite number, got {value}", field=name)
        return Decimal(repr(value))
    if isinstance(value, int | Decimal):
        number = Decimal(value)
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip().replace(",", "").replace("_", ""))
        except InvalidOperation:
            raise InvalidWorkloadError(f"{name} must be a number, got {value!r}", field=name) from None
    else:
        raise InvalidWorkloadError(f"{name} must be a number, got {type(value).__name__}", field=name)
    if not number.is_finite():
        raise InvalidWorkloadError(f"{name} must be a finite number, got {value}", field=name)
    exponent = number.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MAX_DECIMAL_PLACES:
        raise InvalidWorkloadError(f"{name} has more than {MAX_DECIMAL_PLACES} decimal places: {value}", field=name)
    return number


def _choice(value: object, name: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise InvalidWorkloadError(f"{name} must be one of {', '.join(allowed)}; got {value!r}", field=name)
    return str(value)


@dataclass(frozen=True)
class Workload:
    """One workload. Build it with keywords; every field is checked and normalised on creation.

    >>> Workload(model="claude-sonnet-4-6", requests=1000, prefix_tokens=3000,
    ...          unique_input_tokens=5000, output_tokens=1000, cache_hit_rate="0.85")
    """

    model: str
    requests: int
    prefix_tokens: int = 0
    unique_input_tokens: int = 0
    output_tokens: int = 0
    cache_hit_rate: Decimal = DEFAULT_HIT_RATE
    cache_ttl: CacheTTL = "5m"
    web_searches_per_request: Decimal = Decimal(0)
    tool_use: ToolUse = "off"
    as_of: dt.date | None = None
    geo: Geo = "global"
    fast: bool = False
    period: str = "run"
    tokens_measured_for: str | None = field(default=None)
    """Tokenizer generation ('legacy' or '2026') the token figures were measured with, when they were
    measured for another model than `model`; None means measured for `model` itself."""

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        if not isinstance(self.model, str) or not self.model.strip():
            raise InvalidWorkloadError("model must be a model id such as 'claude-sonnet-4-6'", field="model")
        set_(self, "model", self.model.strip())
        set_(self, "requests", to_token_count(self.requests, "requests", maximum=MAX_REQUESTS))
        for name in ("prefix_tokens", "unique_input_tokens", "output_tokens"):
            set_(self, name, to_token_count(getattr(self, name), name))
        set_(self, "cache_hit_rate", to_fraction(self.cache_hit_rate, "cache_hit_rate"))
        searches = to_decimal(
            self.web_searches_per_request,
            "web_searches_per_request",
            maximum=Decimal(MAX_WEB_SEARCHES_PER_REQUEST),
        )
        set_(self, "web_searches_per_request", searches)
        set_(self, "cache_ttl", _choice(self.cache_ttl, "cache_ttl", get_args(CacheTTL)))
        set_(self, "tool_use", _choice(self.tool_use, "tool_use", get_args(ToolUse)))
        set_(self, "geo", _choice(self.geo, "geo", get_args(Geo)))
        if not isinstance(self.fast, bool):
            raise InvalidWorkloadError(f"fast must be true or false, got {self.fast!r}", field="fast")
        if self.as_of is not None and not isinstance(self.as_of, dt.date):
            set_(self, "as_of", _parse_date(self.as_of))
        if self.tokens_measured_for is not None and self.tokens_measured_for not in ("legacy", "2026"):
            raise InvalidWorkloadError(
                "tokens_measured_for must be 'legacy' or '2026' (a tokenizer generation), "
                f"got {self.tokens_measured_for!r}",
                field="tokens_measured_for",
            )
        if not isinstance(self.period, str) or not self.period.strip():
            raise InvalidWorkloadError("period must be a label such as 'run', 'day' or 'month'", field="period")

    @property
    def input_tokens_per_request(self) -> int:
        """Prefix + unique input, before any tool-use system prompt is added."""
        return self.prefix_tokens + self.unique_input_tokens


def workload_from(**fields: Any) -> Workload:
    """A Workload from untyped input (CLI text, form fields, query parameters); same checks, same errors."""
    unknown = sorted(set(fields) - {f.name for f in dataclasses.fields(Workload)})
    if unknown:
        raise InvalidWorkloadError(f"unknown workload fields: {', '.join(unknown)}")
    return Workload(**fields)


def _parse_date(value: object) -> dt.date:
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InvalidWorkloadError(f"as_of must be a date (YYYY-MM-DD), got {value!r}", field="as_of")
