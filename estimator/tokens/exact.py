"""Exact Claude input-token counts from Anthropic's free `count_tokens` endpoint.

`count_exact` takes the `params` of Messages requests (one per Message Batches line), sends each distinct
one to `POST /v1/messages/count_tokens` and returns, per request, the exact count or `None` with the reason.
Nothing is guessed here: a request that could not be counted exactly is reported, and the caller chooses the
fallback.

Failures, per request unless marked *stops*:

    no API key                      raises ExactCountError before anything is sent
    401 / 403                       stops: the key is rejected, so no later request can succeed
    cannot connect                  stops: "could not connect to <host>"
    429, 5xx                        retried by the SDK (honouring retry-after), then reported
    timeout                         retried by the SDK, then reported
    other 4xx (bad model, ...)      reported with the API's own message

The API key is never logged, stored on the result or put in a message: reasons are built from status codes and
the API's error text, and any echo of the key in that text is redacted.
"""

from __future__ import annotations

import json
import math
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from estimator.errors import ExactCountError

if TYPE_CHECKING:
    import anthropic
    import httpx2

__all__ = ["COUNT_TOKENS_PARAMS", "CountFailure", "ExactCountResult", "count_exact"]

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


class _StopSignal:
    """Set once, by the first worker whose failure no later request could escape."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reason: str | None = None

    @property
    def reason(self) -> str | None:
        return self._reason

    def set(self, reason: str) -> None:
        with self._lock:
            if self._reason is None:
                self._reason = reason


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


def count_exact(
    requests: Sequence[Mapping[str, Any]],
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    max_concurrency: int = 4,
    timeout_s: float = 30.0,
    max_retries: int = 4,
    on_progress: Callable[[int, int], None] | None = None,
) -> ExactCountResult:
    """Count the input tokens of each request exactly with `POST /v1/messages/count_tokens`.

    `requests` are Messages `params` as in a Message Batches line; keys that count_tokens does not take
    (`max_tokens`, `stream`, `temperature`, `metadata`, ...) are dropped, and identical requests are sent
    once. The key is `api_key`, else `ANTHROPIC_API_KEY`; `base_url` defaults to the SDK's
    (`ANTHROPIC_BASE_URL`, then api.anthropic.com). At most `max_concurrency` requests are in flight; the SDK
    retries 429, 5xx, timeouts and connection errors up to `max_retries` times, honouring `retry-after`.
    `on_progress(done, total)` is called in the calling thread with the number of input requests settled so
    far, ending at `len(requests)`.

    Raises ExactCountError when there is no key or a setting is out of range; every other failure is reported
    per request in the result.
    """
    _check_settings(max_concurrency=max_concurrency, timeout_s=timeout_s, max_retries=max_retries)
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
        timeout_s=timeout_s,
        max_retries=max_retries,
        stop=stop,
        record=lambda group, outcome: _record(group, outcome, tokens, reasons, key, progress),
    )
    stopped_reason = None if stop.reason is None else _redact(stop.reason, key)
    return _build_result(tokens, reasons, sent=sent, stopped_reason=stopped_reason)


def _check_settings(*, max_concurrency: int, timeout_s: float, max_retries: int) -> None:
    # bool is an int: `max_concurrency=True` is a bug in the caller, not "one worker".
    if isinstance(max_concurrency, bool) or not isinstance(max_concurrency, int) or max_concurrency < 1:
        raise ExactCountError(f"max_concurrency must be a whole number ≥ 1, got {max_concurrency!r}")
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise ExactCountError(f"max_retries must be a whole number ≥ 0, got {max_retries!r}")
    valid_timeout = isinstance(timeout_s, int | float) and not isinstance(timeout_s, bool)
    if not valid_timeout or not math.isfinite(timeout_s) or timeout_s <= 0:
        raise ExactCountError(f"timeout_s must be a finite number of seconds > 0, got {timeout_s!r}")


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
    timeout_s: float,
    max_retries: int,
    stop: _StopSignal,
    record: Callable[[_Group, _Outcome], None],
) -> int:
    """Send every group with bounded concurrency; returns how many distinct requests reached the wire.

    Threads over one synchronous client rather than asyncio: the client's connection pool is thread-safe, the
    SDK's retry sleeps block only their own worker, and callers (the CLI, a Streamlit script thread) need no
    event loop, which Streamlit's own loop would make awkward.
    """
    import anthropic  # lazily: importing the SDK costs about 2 s, which offline estimates should not pay

    with anthropic.Anthropic(api_key=api_key, base_url=base_url, timeout=timeout_s, max_retries=max_retries) as client:
        settings = _Settings(timeout_s=timeout_s, max_retries=max_retries, host=_host_of(client.base_url))
        workers = min(max_concurrency, len(groups))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="count_tokens") as pool:
            futures: dict[Future[_Outcome], _Group] = {
                pool.submit(_count_one, client, group.params, settings, stop): group for group in groups
            }
            return _collect(futures, pool, stop, record)


def _collect(
    futures: dict[Future[_Outcome], _Group],
    pool: ThreadPoolExecutor,
    stop: _StopSignal,
    record: Callable[[_Group, _Outcome], None],
) -> int:
    sent = 0
    try:
        for future in as_completed(futures):
            outcome = future.result()
            sent += outcome.sent
            record(futures[future], outcome)
    except BaseException:
        # The progress callback raised or the user interrupted: stop spending their rate limit.
        stop.set("interrupted")
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    return sent


def _count_one(client: anthropic.Anthropic, params: dict[str, Any], settings: _Settings, stop: _StopSignal) -> _Outcome:
    import anthropic

    if stop.reason is not None:
        return _Outcome(input_tokens=None, reason=stop.reason, sent=False)
    try:
        counted = client.messages.count_tokens(**params)
    except anthropic.APIError as err:
        reason, stops_all = _explain(err, settings)
        if stops_all:
            stop.set(reason)
        return _Outcome(input_tokens=None, reason=reason, sent=True)
    tokens = counted.input_tokens
    if isinstance(tokens, bool) or not isinstance(tokens, int) or tokens < 0:
        return _Outcome(input_tokens=None, reason=f"API returned input_tokens={tokens!r}", sent=True)
    return _Outcome(input_tokens=tokens, reason=None, sent=True)


def _explain(err: anthropic.APIError, settings: _Settings) -> tuple[str, bool]:
    """The reason for a failed count, and whether no later request can succeed either."""
    import anthropic

    retries = settings.max_retries
    # APITimeoutError subclasses APIConnectionError, so it is checked first.
    if isinstance(err, anthropic.APITimeoutError):
        return f"timed out after {settings.timeout_s:g}s{_retries_note(retries)}", False
    if isinstance(err, anthropic.APIConnectionError):
        return f"could not connect to {settings.host}", True
    if isinstance(err, anthropic.AuthenticationError | anthropic.PermissionDeniedError):
        return f"API key rejected ({err.status_code})", True
    if isinstance(err, anthropic.RateLimitError):
        return f"rate limited (429) after {retries} retries", False
    if isinstance(err, anthropic.APIStatusError):
        if err.status_code >= 500:
            return f"server error ({err.status_code}) after {retries} retries", False
        return f"rejected by the API ({err.status_code}): {err.api_message or 'no message'}", False
    return f"unexpected response from the API ({type(err).__name__})", False


def _retries_note(max_retries: int) -> str:
    return f" ({max_retries} retries)" if max_retries else ""


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
