"""Exact Claude input-token counts from Anthropic's free `count_tokens` endpoint.

`count_exact` takes the `params` of Messages requests (one per Message Batches line), sends each distinct
one to `POST /v1/messages/count_tokens` and returns, per request, the exact count or `None` with the reason.
Nothing is guessed here: a request that could not be counted exactly is reported, and the caller chooses the
fallback.

Failures, per request unless marked *stops* (every request not yet counted then gets the stop's reason):

    no API key                      raises ExactCountError before anything is sent
    401 / 403                       stops: the key is rejected, so no later request can succeed
    cannot connect                  retried, then stops: "could not connect to <host>"
    429, 5xx, timeout               retried (honouring retry-after), then reported; `max_consecutive_failures`
                                    requests in a row failing so stops ("the service is not answering")
    the deadline                    stops: no attempt starts, and no wait runs, past `deadline_s` for the
                                    whole count; a retry-after beyond it is not waited for
    a 200 that is not a count       reported ("unexpected response"): a non-JSON body, a missing field
    other 4xx (bad model, ...)      reported with the API's own message

Retries are this module's own (the SDK's are off) so that the deadline bounds them: the SDK would wait for any
retry-after the server sends, however long.

The API key is never logged, stored on the result or put in a message: reasons are built from status codes and
the API's error text, and any echo of the key in that text is redacted.
"""

from __future__ import annotations

import json
import math
import os
import queue
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from estimator.errors import ExactCountError

if TYPE_CHECKING:
    import anthropic
    import httpx2

__all__ = [
    "COUNT_TOKENS_PARAMS",
    "DEFAULT_DEADLINE_S",
    "DEFAULT_MAX_CONSECUTIVE_FAILURES",
    "CountFailure",
    "ExactCountResult",
    "count_exact",
]

# The body fields of `client.messages.count_tokens` in anthropic 2.14.0 (resources/messages/messages.py).
# Hard-coded rather than read from the signature at run time, because the signature also holds keywords that
# are not body fields and never appear in a batch line: `output_format` (a Python type the SDK turns into
# `output_config`), `user_profile_id` / `workspace_id` (sent as headers) and the `extra_*` / `timeout`
# options.
# tests/test_exact_tokens.py checks that every name here is still accepted by the installed SDK.
COUNT_TOKENS_PARAMS: frozenset[str] = frozenset(
    {
        "messages",
        "model",
        "cache_control",
        "output_config",
        "speed",
        "system",
        "thinking",
        "tool_choice",
        "tools",
    }
)

_REDACTED = "[redacted]"


@dataclass(frozen=True)
class CountFailure:
    """A request whose tokens could not be counted exactly; `index` is its position in the input."""

    index: int
    reason: str


@dataclass(frozen=True)
class ExactCountResult:
    """Exact counts aligned with the input requests; `None` where `failures` says why not."""

    input_tokens: tuple[int | None, ...]
    failures: tuple[CountFailure, ...]
    exact_count: int
    failed_count: int
    distinct_requests_sent: int
    stopped_reason: str | None


@dataclass(frozen=True)
class _Outcome:
    input_tokens: int | None
    reason: str | None
    sent: bool
    transient: bool = False  # a timeout, 429 or 5xx after its retries: counts toward stopping the run


@dataclass(frozen=True)
class _Group:
    """One distinct request and the input positions that share it."""

    params: dict[str, Any]
    indices: list[int]


@dataclass(frozen=True)
class _Settings:
    timeout_s: float
    max_retries: int
    host: str
    deadline_at: float  # time.monotonic() after which nothing starts
    deadline_s: float
    max_consecutive_failures: int

    def remaining(self) -> float:
        return self.deadline_at - time.monotonic()


class _StopSignal:
    """Set once, by the first failure no later request could escape; waiting on it is a sleep a stop cuts short."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reason: str | None = None
        self._event = threading.Event()

    @property
    def reason(self) -> str | None:
        return self._reason

    def set(self, reason: str) -> None:
        with self._lock:
            if self._reason is None:
                self._reason = reason
        self._event.set()

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`; True if the run was stopped meanwhile."""
        return self._event.wait(max(seconds, 0.0))


class _Streak:
    """Requests in a row whose final outcome was a timeout, a rate limit or a server error."""

    def __init__(self, limit: int, stop: _StopSignal) -> None:
        self._lock = threading.Lock()
        self._limit = limit
        self._stop = stop
        self._count = 0

    def record(self, outcome: _Outcome) -> None:
        with self._lock:
            if not outcome.transient:
                self._count = 0 if outcome.reason is None else self._count
                return
            self._count += 1
            if self._count >= self._limit:
                self._stop.set(
                    f"stopped after {self._count} requests in a row failed ({outcome.reason}): the service is not "
                    "answering"
                )


class _Progress:
    """Reports progress from the calling thread only, so a UI callback (Streamlit) never runs in a worker."""

    def __init__(self, total: int, callback: Callable[[int, int], None] | None) -> None:
        self.done = 0
        self.total = total
        self._callback = callback

    def advance(self, n: int) -> None:
        if n <= 0:
            return
        self.done += n
        if self._callback is not None:
            self._callback(self.done, self.total)


DEFAULT_DEADLINE_S = 300.0
"""Five minutes for a whole exact or sampled count; `--deadline` changes it. Counts not done by then fall back."""

DEFAULT_MAX_CONSECUTIVE_FAILURES = 3
"""Requests in a row failing with a timeout, a 429 or a 5xx (after their retries) before the count stops."""

_INITIAL_RETRY_DELAY_S = 0.5
_MAX_RETRY_DELAY_S = 8.0


def count_exact(
    requests: Sequence[Mapping[str, Any]],
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    max_concurrency: int = 4,
    timeout_s: float = 30.0,
    max_retries: int = 4,
    deadline_s: float = DEFAULT_DEADLINE_S,
    max_consecutive_failures: int = DEFAULT_MAX_CONSECUTIVE_FAILURES,
    on_progress: Callable[[int, int], None] | None = None,
) -> ExactCountResult:
    """Count the input tokens of each request exactly with `POST /v1/messages/count_tokens`.

    `requests` are Messages `params` as in a Message Batches line; keys that count_tokens does not take
    (`max_tokens`, `stream`, `temperature`, `metadata`, ...) are dropped, and identical requests are sent
    once. The key is `api_key`, else `ANTHROPIC_API_KEY`; `base_url` defaults to the SDK's
    (`ANTHROPIC_BASE_URL`, then api.anthropic.com). At most `max_concurrency` requests are in flight; 429, 5xx,
    timeouts and connection errors are retried up to `max_retries` times, honouring `retry-after`, each attempt
    waiting at most `timeout_s`; nothing starts after `deadline_s` for the whole call. `on_progress(done, total)`
    is called in the calling thread with the number of input requests settled so far, ending at `len(requests)`.

    Raises ExactCountError when there is no key or a setting is out of range; every other failure is reported
    per request in the result.
    """
    _check_settings(
        max_concurrency=max_concurrency,
        timeout_s=timeout_s,
        max_retries=max_retries,
        deadline_s=deadline_s,
        max_consecutive_failures=max_consecutive_failures,
    )
    started = time.monotonic()
    key = _resolve_api_key(api_key)
    groups, reasons = _group_requests(requests)
    tokens: list[int | None] = [None] * len(requests)
    progress = _Progress(len(requests), on_progress)
    progress.advance(len(reasons))
    if not groups:
        return _build_result(tokens, reasons, sent=0, stopped_reason=None)

    stop = _StopSignal()
    sent = _send_all(
        groups,
        api_key=key,
        base_url=base_url,
        max_concurrency=max_concurrency,
        settings=(timeout_s, max_retries, started + deadline_s, deadline_s, max_consecutive_failures),
        stop=stop,
        record=lambda group, outcome: _record(group, outcome, tokens, reasons, key, progress),
    )
    stopped_reason = None if stop.reason is None else _redact(stop.reason, key)
    return _build_result(tokens, reasons, sent=sent, stopped_reason=stopped_reason)


def _check_settings(
    *, max_concurrency: int, timeout_s: float, max_retries: int, deadline_s: float, max_consecutive_failures: int
) -> None:
    # bool is an int: `max_concurrency=True` is a bug in the caller, not "one worker".
    for name, value, minimum in (
        ("max_concurrency", max_concurrency, 1),
        ("max_retries", max_retries, 0),
        ("max_consecutive_failures", max_consecutive_failures, 1),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ExactCountError(f"{name} must be a whole number ≥ {minimum}, got {value!r}")
    for name, seconds in (("timeout_s", timeout_s), ("deadline_s", deadline_s)):
        valid = isinstance(seconds, int | float) and not isinstance(seconds, bool)
        if not valid or not math.isfinite(seconds) or seconds <= 0:
            raise ExactCountError(f"{name} must be a finite number of seconds > 0, got {seconds!r}")


def _resolve_api_key(api_key: str | None) -> str:
    key = api_key if api_key is not None else os.environ.get("ANTHROPIC_API_KEY")
    if key is None or not key.strip():
        raise ExactCountError("no Anthropic API key: pass api_key= or set ANTHROPIC_API_KEY to count tokens exactly")
    return key


def _group_requests(requests: Sequence[Mapping[str, Any]]) -> tuple[list[_Group], dict[int, str]]:
    """Distinct count_tokens bodies with the positions sharing each, and the reasons of unusable requests."""
    groups: dict[str, _Group] = {}
    reasons: dict[int, str] = {}
    for index, request in enumerate(requests):
        problem = _problem_with(request)
        if problem is not None:
            reasons[index] = problem
            continue
        params = _count_tokens_params(request)
        try:
            canonical = json.dumps(params, sort_keys=True, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError) as err:
            reasons[index] = f"params cannot be sent as JSON: {err}"
            continue
        except RecursionError:
            reasons[index] = "params cannot be sent as JSON: nested too deeply"
            continue
        groups.setdefault(canonical, _Group(params, [])).indices.append(index)
    return list(groups.values()), reasons


def _problem_with(request: object) -> str | None:
    # Checked here because the SDK would raise TypeError for a missing keyword, which is not an API failure.
    if not isinstance(request, Mapping):
        return f"params must be a JSON object, got {type(request).__name__}"
    model = request.get("model")
    if not isinstance(model, str) or not model:
        return "params have no 'model'"
    messages = request.get("messages")
    if not isinstance(messages, list | tuple):
        return "params have no 'messages' list"
    return None


def _count_tokens_params(request: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in request.items() if name in COUNT_TOKENS_PARAMS}


def _send_all(
    groups: list[_Group],
    *,
    api_key: str,
    base_url: str | None,
    max_concurrency: int,
    settings: tuple[float, int, float, float, int],
    stop: _StopSignal,
    record: Callable[[_Group, _Outcome], None],
) -> int:
    """Send every group with bounded concurrency; returns how many distinct requests reached the wire.

    Daemon threads over one synchronous client rather than asyncio: the client's connection pool is thread-safe,
    retry waits block only their own worker, and callers (the CLI, a Streamlit script thread) need no event
    loop. Daemon threads, because a server that never answers must not keep the process alive past the
    deadline: the calling thread stops waiting then, whatever a worker is blocked on.
    """
    import anthropic  # lazily: importing the SDK costs about 2 s, which offline estimates should not pay

    timeout_s, max_retries, deadline_at, deadline_s, max_failures = settings
    client = anthropic.Anthropic(api_key=api_key, base_url=base_url, timeout=timeout_s, max_retries=0)
    config = _Settings(timeout_s, max_retries, _host_of(client.base_url), deadline_at, deadline_s, max_failures)
    streak = _Streak(max_failures, stop)
    todo: queue.SimpleQueue[_Group | None] = queue.SimpleQueue()
    done: queue.SimpleQueue[tuple[_Group, _Outcome]] = queue.SimpleQueue()
    for group in groups:
        todo.put(group)
    workers = min(max_concurrency, len(groups))
    for _ in range(workers):
        todo.put(None)
    threads = [
        threading.Thread(
            target=_work, args=(client, config, stop, streak, todo, done), name="count_tokens", daemon=True
        )
        for _ in range(workers)
    ]
    for thread in threads:
        thread.start()
    try:
        return _collect(groups, done, config, stop, record)
    except BaseException:
        # The progress callback raised or the user interrupted: stop spending their rate limit.
        stop.set("interrupted")
        raise
    finally:
        if not any(thread.is_alive() for thread in threads):
            client.close()


def _work(
    client: anthropic.Anthropic,
    config: _Settings,
    stop: _StopSignal,
    streak: _Streak,
    todo: queue.SimpleQueue[_Group | None],
    done: queue.SimpleQueue[tuple[_Group, _Outcome]],
) -> None:
    while (group := todo.get()) is not None:
        outcome = _count_one(client, group.params, config, stop)
        streak.record(outcome)
        done.put((group, outcome))


def _collect(
    groups: list[_Group],
    done: queue.SimpleQueue[tuple[_Group, _Outcome]],
    config: _Settings,
    stop: _StopSignal,
    record: Callable[[_Group, _Outcome], None],
) -> int:
    sent = 0
    pending = {id(group): group for group in groups}
    # Workers keep to the deadline on their own; the grace covers one attempt that began just before it.
    grace = config.timeout_s + 1.0
    while pending:
        try:
            group, outcome = done.get(timeout=max(config.remaining() + grace, 0.01))
        except queue.Empty:
            stop.set(f"the deadline of {config.deadline_s:g}s passed")
            break
        pending.pop(id(group), None)
        sent += outcome.sent
        record(group, outcome)
    for group in pending.values():
        record(group, _Outcome(None, stop.reason or "not counted", sent=False))
    return sent


def _count_one(client: anthropic.Anthropic, params: dict[str, Any], config: _Settings, stop: _StopSignal) -> _Outcome:
    import anthropic

    sent = False
    for attempt in range(config.max_retries + 1):
        if stop.reason is not None:
            return _Outcome(None, stop.reason, sent=sent)
        remaining = config.remaining()
        if remaining <= 0:
            stop.set(f"the deadline of {config.deadline_s:g}s passed")
            return _Outcome(None, stop.reason or "deadline", sent=sent)
        try:
            counted = client.messages.count_tokens(
                **params,
                timeout=min(config.timeout_s, remaining),
                extra_headers={"x-stainless-retry-count": str(attempt)},
            )
        except anthropic.APIError as err:
            sent = (
                sent or not isinstance(err, anthropic.APIConnectionError) or isinstance(err, anthropic.APITimeoutError)
            )
            outcome = _after_failure(err, attempt, config, stop, sent)
            if outcome is not None:
                return outcome
            continue
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as err:
            # A 200 whose body is not a count (not JSON, another shape): the SDK raises these while reading it.
            return _Outcome(None, f"unexpected response from the API ({type(err).__name__})", sent=True)
        return _tokens_of(counted)
    raise AssertionError("unreachable: the last attempt always returns")  # pragma: no cover


def _after_failure(
    err: anthropic.APIError, attempt: int, config: _Settings, stop: _StopSignal, sent: bool
) -> _Outcome | None:
    """The outcome of a failed attempt, or None after waiting to retry it."""
    reason, stops_all, retryable = _explain(err, config)
    last = attempt >= config.max_retries
    if retryable and not last:
        wait = _retry_wait(err, attempt)
        if wait > config.remaining():
            # The deadline's doing, not the service's: it does not count toward the run of failures.
            return _Outcome(None, f"{reason}; a retry would wait {wait:.1f}s, past the deadline", sent=sent)
        if not stop.wait(wait):
            return None
        return _Outcome(None, stop.reason or reason, sent=sent)
    if retryable and config.max_retries:
        reason = f"{reason} after {config.max_retries} retries"
    if stops_all:
        stop.set(reason)
    return _Outcome(None, reason, sent=sent, transient=retryable and not stops_all)


def _retry_wait(err: anthropic.APIError, attempt: int) -> float:
    """The server's retry-after (retry-after-ms first), else exponential backoff with jitter, as the SDK does."""
    response = getattr(err, "response", None)
    headers = getattr(response, "headers", None)
    if headers is not None:
        for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
            try:
                value = float(headers.get(name)) * scale
            except (TypeError, ValueError):
                continue
            if math.isfinite(value) and value >= 0:
                return value
    delay = min(_INITIAL_RETRY_DELAY_S * 2.0**attempt, _MAX_RETRY_DELAY_S)
    return delay * (1 - 0.25 * random.random())


def _tokens_of(counted: object) -> _Outcome:
    tokens = getattr(counted, "input_tokens", None)
    if tokens is None:
        return _Outcome(None, "unexpected response from the API (no input_tokens in it)", sent=True)
    if isinstance(tokens, bool) or not isinstance(tokens, int) or tokens < 0:
        return _Outcome(None, f"API returned input_tokens={tokens!r}"[:120], sent=True)
    return _Outcome(tokens, None, sent=True)


def _explain(err: anthropic.APIError, settings: _Settings) -> tuple[str, bool, bool]:
    """The reason for a failed attempt, whether no later request can succeed either, and whether to retry."""
    import anthropic

    # APITimeoutError subclasses APIConnectionError, so it is checked first.
    if isinstance(err, anthropic.APITimeoutError):
        return f"timed out after {settings.timeout_s:g}s", False, True
    if isinstance(err, anthropic.APIConnectionError):
        return f"could not connect to {settings.host}", True, True
    if isinstance(err, anthropic.AuthenticationError | anthropic.PermissionDeniedError):
        return f"API key rejected ({err.status_code})", True, False
    if isinstance(err, anthropic.RateLimitError):
        return "rate limited (429)", False, True
    if isinstance(err, anthropic.APIStatusError):
        if err.status_code >= 500 or err.status_code in (408, 409):
            return f"server error ({err.status_code})", False, True
        return f"rejected by the API ({err.status_code}): {err.api_message or 'no message'}", False, False
    return f"unexpected response from the API ({type(err).__name__})", False, False


def _host_of(url: httpx2.URL) -> str:
    # Host and port only: a base URL may carry user info, and a message must never carry a secret.
    return f"{url.host}:{url.port}" if url.port is not None else url.host


def _record(
    group: _Group,
    outcome: _Outcome,
    tokens: list[int | None],
    reasons: dict[int, str],
    api_key: str,
    progress: _Progress,
) -> None:
    for index in group.indices:
        if outcome.reason is None:
            tokens[index] = outcome.input_tokens
        else:
            reasons[index] = _redact(outcome.reason, api_key)
    progress.advance(len(group.indices))


def _redact(text: str, api_key: str) -> str:
    # The API's error text is passed through; should a proxy or server ever echo the key, it stops here.
    return text.replace(api_key, _REDACTED)


def _build_result(
    tokens: list[int | None], reasons: dict[int, str], *, sent: int, stopped_reason: str | None
) -> ExactCountResult:
    failures = tuple(CountFailure(index=index, reason=reasons[index]) for index in sorted(reasons))
    return ExactCountResult(
        input_tokens=tuple(tokens),
        failures=failures,
        exact_count=len(tokens) - len(failures),
        failed_count=len(failures),
        distinct_requests_sent=sent,
        stopped_reason=stopped_reason,
    )
