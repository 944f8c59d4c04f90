"""A workload: what a team sends to Claude, validated once when it is built.

Token figures are per request; `requests` is the number of requests in one `period` (a label: run, day,
week, month). The shared prefix (tools + system + shared context) is the cacheable part; unique input is
what follows the last cache breakpoint; output is what the model writes, and thinking what it thinks before
(billed as output, shown apart). Server tools: web searches (a fee per search), web fetches (no fee: the fetched
content is input after the cache breakpoint) and code execution (container sessions, billed by the hour).
`channel` and `endpoint` say where the tokens are bought (the Claude API or a cloud partner, global or regional).
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
    "CHANNELS",
    "DEFAULT_HIT_RATE",
    "MAX_CODE_EXECUTION_MINUTES_PER_SESSION",
    "MAX_CODE_EXECUTION_SESSIONS_PER_REQUEST",
    "MAX_DECIMAL_PLACES",
    "MAX_NUMBER",
    "MAX_NUMBER_CHARACTERS",
    "MAX_REQUESTS",
    "MAX_TOKENS_PER_REQUEST",
    "MAX_WEB_FETCHES_PER_REQUEST",
    "MAX_WEB_SEARCHES_PER_REQUEST",
    "MODES",
    "CacheTTL",
    "Channel",
    "Endpoint",
    "Geo",
    "Mode",
    "ToolUse",
    "Workload",
    "quoted",
    "shown",
    "to_decimal",
    "to_fraction",
    "to_token_count",
    "workload_from",
]

Mode = Literal["realtime", "realtime_cached", "batch", "batch_cached"]
MODES: tuple[Mode, ...] = get_args(Mode)
CacheTTL = Literal["5m", "1h"]
Geo = Literal["global", "us"]
Channel = Literal["anthropic", "bedrock", "vertex", "foundry"]
"""Where the tokens are bought: the Claude API, Amazon Bedrock, Google Cloud (Vertex AI), Microsoft Foundry
(the same names as `rules.channels` in the price table; a test keeps them in step)."""
CHANNELS: tuple[Channel, ...] = get_args(Channel)
Endpoint = Literal["global", "regional"]
"""A partner's global endpoint, or a regional one (Bedrock regional, Vertex regional or multi-region, Foundry's US
Data Zone). The Claude API has no regional endpoint: its US-only processing is `geo="us"`."""
ToolUse = Literal["off", "auto", "any"]
"""Tools on every request: `auto` covers tool_choice auto or none, `any` covers any or a named tool."""

MAX_REQUESTS = 10**12
"""A trillion requests in one period is beyond any real workload: larger values are typos."""

MAX_TOKENS_PER_REQUEST = 10_000_000
"""Ten times the largest context window; larger per-request figures are typos, not workloads."""

DEFAULT_HIT_RATE = Decimal("0.9")
"""The cache hit rate assumed when none is given: an assumption, shown with every estimate."""

MAX_WEB_SEARCHES_PER_REQUEST = 1_000
MAX_WEB_FETCHES_PER_REQUEST = 1_000
MAX_CODE_EXECUTION_SESSIONS_PER_REQUEST = 1_000
MAX_CODE_EXECUTION_MINUTES_PER_SESSION = 43_200
"""Thirty days of container time in one session: longer values are typos, not workloads."""
MAX_DECIMAL_PLACES = 15
"""Inputs are rates and counts; more places than this are noise, and refusing them keeps money exact."""

MAX_NUMBER = Decimal(10) ** 15
"""No input of any kind may exceed this (a quadrillion): checked before any arithmetic, so that values such as
1e1000000 are refused by name instead of overflowing a decimal context or Python's int-string limit."""

_MAX_NUMBER_INT = 10**15

MAX_NUMBER_CHARACTERS = 64
"""A number given as text longer than this is not a number anyone meant (a 5,000-digit string, say)."""

_SHOWN_CHARACTERS = 40


def shown(value: object) -> str:
    """A value as a message may quote it: at most 40 characters, so that a huge input keeps its error on one
    line (and never formats an int past Python's digit limit)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        return f"an integer of about {int(value.bit_length() * 0.30103):,} digits"
    text = value if isinstance(value, str) else repr(value)
    text = " ".join(text.split())
    if len(text) > _SHOWN_CHARACTERS:
        return f"{text[: _SHOWN_CHARACTERS - 10]}… ({len(text):,} characters)"
    return text


def quoted(value: object) -> str:
    """`shown`, with text in quotes (as Python writes it), for messages that quote what the input said."""
    return shown(repr(value)) if isinstance(value, str) else shown(value)


def to_token_count(value: object, name: str, *, maximum: int = MAX_TOKENS_PER_REQUEST) -> int:
    """An int ≥ 0 from an int or an integral string/Decimal/float; bools, NaN and fractions are refused."""
    if isinstance(value, bool):
        raise InvalidWorkloadError(f"{name} must be a whole number of tokens, not {value!r}", field=name)
    number = _as_decimal(value, name, limit=maximum)
    if number < 0:
        raise InvalidWorkloadError(f"{name} must be 0 or more, got {shown(value)}", field=name)
    if number > maximum:
        raise InvalidWorkloadError(
            f"{name} = {shown(value)} is beyond any real workload (limit {maximum:,}); a typo?", field=name
        )
    if number != number.to_integral_value():
        raise InvalidWorkloadError(f"{name} must be a whole number, got {shown(value)}", field=name)
    return int(number)


def to_decimal(value: object, name: str, *, minimum: Decimal = Decimal(0), maximum: Decimal | None = None) -> Decimal:
    """A finite Decimal in [minimum, maximum] (and never beyond ±MAX_NUMBER, nor with more than
    MAX_DECIMAL_PLACES places); floats are read through their shortest text (0.85 → 0.85)."""
    if isinstance(value, bool):
        raise InvalidWorkloadError(f"{name} must be a number, not {value!r}", field=name)
    number = _as_decimal(value, name)
    if number < minimum or (maximum is not None and number > maximum):
        upper = f" and {maximum}" if maximum is not None else ""
        raise InvalidWorkloadError(f"{name} must be between {minimum}{upper}, got {shown(value)}", field=name)
    return number


def to_fraction(value: object, name: str) -> Decimal:
    """A rate in [0, 1]; a value like 85 (a percentage) is refused with a hint rather than guessed."""
    number = to_decimal(value, name, maximum=None)
    if number > 1:
        raise InvalidWorkloadError(
            f"{name} must be between 0 and 1 (e.g. 0.85 for 85%), got {shown(value)}", field=name
        )
    return number


def _as_decimal(value: object, name: str, *, limit: int | None = None) -> Decimal:
    # Every check here is exact and context-free (comparisons, as_tuple): Decimal('1e1000000') or
    # Decimal('1e-999999999') must be refused by name, not overflow or underflow a context on the way.
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidWorkloadError(f"{name} must be a finite number, got {value}", field=name)
        number = Decimal(repr(value))
    elif isinstance(value, int):
        if value.bit_length() > 64 or abs(value) > _MAX_NUMBER_INT:  # before Decimal(value) of a huge int
            raise _too_large(value, name, limit)
        number = Decimal(value)
    elif isinstance(value, Decimal):
        number = value
    elif isinstance(value, str):
        text = value.strip().replace(",", "").replace("_", "")
        if len(text) > MAX_NUMBER_CHARACTERS:
            raise InvalidWorkloadError(
                f"{name} must be a number of at most {MAX_NUMBER_CHARACTERS} characters, got {shown(value)}",
                field=name,
            )
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise InvalidWorkloadError(f"{name} must be a number, got {shown(value)}", field=name) from None
    else:
        raise InvalidWorkloadError(f"{name} must be a number, got {type(value).__name__}", field=name)
    if not number.is_finite():
        raise InvalidWorkloadError(f"{name} must be a finite number, got {shown(value)}", field=name)
    if number.is_zero():
        return Decimal(0)  # also drops the sign of -0 and an exponent such as 0E-99999999999
    if number > MAX_NUMBER or number < -MAX_NUMBER:
        raise _too_large(value, name, limit)
    if _decimal_places(number) > MAX_DECIMAL_PLACES:
        raise InvalidWorkloadError(
            f"{name} has more than {MAX_DECIMAL_PLACES} decimal places: {shown(value)}", field=name
        )
    return number


def _decimal_places(number: Decimal) -> int:
    """Places after the point once trailing zeros are dropped (1.50 → 1, 1e-9 → 9, 1e3 → 0), without a context."""
    _, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)  # finite: checked by the caller
    trailing = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    return max(0, -(exponent + trailing))


def _too_large(value: object, name: str, limit: int | None) -> InvalidWorkloadError:
    if limit is not None:
        return InvalidWorkloadError(
            f"{name} = {shown(value)} is beyond any real workload (limit {limit:,}); a typo?", field=name
        )
    return InvalidWorkloadError(f"{name} = {shown(value)} is too large: no input may exceed 10^15; a typo?", field=name)


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
    thinking_tokens: int = 0
    """Thinking per request (`usage.output_tokens_details.thinking_tokens`): billed as output, shown apart."""
    web_fetches_per_request: Decimal = Decimal(0)
    tokens_per_web_fetch: int = 0
    """The content one fetch brings in (Anthropic's examples: a 10 kB page ≈ 2,500 tokens): billed as input."""
    code_execution_sessions_per_request: Decimal = Decimal(0)
    """Container sessions per request (0.3 when three requests in ten run code; 2 when each opens two)."""
    code_execution_minutes_per_session: Decimal = Decimal(0)
    """Execution time of one container session; each is billed at least the table's minimum."""
    code_execution_with_web_tools: bool = False
    """The requests also carry web_search / web_fetch of version 20260209 or later: code execution is then free."""
    channel: Channel = "anthropic"
    endpoint: Endpoint = "global"

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
        set_(self, "thinking_tokens", to_token_count(self.thinking_tokens, "thinking_tokens"))
        fetches = to_decimal(
            self.web_fetches_per_request, "web_fetches_per_request", maximum=Decimal(MAX_WEB_FETCHES_PER_REQUEST)
        )
        set_(self, "web_fetches_per_request", fetches)
        set_(self, "tokens_per_web_fetch", to_token_count(self.tokens_per_web_fetch, "tokens_per_web_fetch"))
        self._check_code_execution()
        set_(self, "channel", _choice(self.channel, "channel", CHANNELS))
        set_(self, "endpoint", _choice(self.endpoint, "endpoint", get_args(Endpoint)))
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

    def _check_code_execution(self) -> None:
        set_ = object.__setattr__
        sessions = to_decimal(
            self.code_execution_sessions_per_request,
            "code_execution_sessions_per_request",
            maximum=Decimal(MAX_CODE_EXECUTION_SESSIONS_PER_REQUEST),
        )
        minutes = to_decimal(
            self.code_execution_minutes_per_session,
            "code_execution_minutes_per_session",
            maximum=Decimal(MAX_CODE_EXECUTION_MINUTES_PER_SESSION),
        )
        if minutes and not sessions:
            # Minutes without sessions would price nothing: a silent zero, refused by name.
            raise InvalidWorkloadError(
                "code_execution_minutes_per_session is set but code_execution_sessions_per_request is 0: say how "
                "many container sessions a request opens (1 if each request runs code once)",
                field="code_execution_sessions_per_request",
            )
        set_(self, "code_execution_sessions_per_request", sessions)
        set_(self, "code_execution_minutes_per_session", minutes)
        if not isinstance(self.code_execution_with_web_tools, bool):
            raise InvalidWorkloadError(
                f"code_execution_with_web_tools must be true or false, got {self.code_execution_with_web_tools!r}",
                field="code_execution_with_web_tools",
            )

    @property
    def input_tokens_per_request(self) -> int:
        """Prefix + unique input, before any tool-use system prompt is added."""
        return self.prefix_tokens + self.unique_input_tokens

    @property
    def billed_output_tokens(self) -> int:
        """Visible output + thinking: what `usage.output_tokens` counts and what max_tokens bounds."""
        return self.output_tokens + self.thinking_tokens

    @property
    def web_fetch_tokens_per_request(self) -> Decimal:
        """Fetched content per request (expected: fetches may be fractional), billed as uncached input."""
        return self.web_fetches_per_request * self.tokens_per_web_fetch


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
