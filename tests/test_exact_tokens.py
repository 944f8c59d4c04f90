"""count_exact through the real anthropic client, pointed at the local fake in tests/fake_anthropic.py."""

from __future__ import annotations

import inspect
import itertools
import json
import logging
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest

from estimator.errors import ExactCountError
from estimator.tokens.exact import COUNT_TOKENS_PARAMS, CountFailure, ExactCountResult, count_exact
from tests.fake_anthropic import (
    UNKNOWN_MODEL_PREFIX,
    FakeAnthropic,
    fake_input_tokens,
    refused_base_url,
    serve_fake_anthropic,
)

KEY = "sk-ant-test-0123456789-do-not-leak"
WRONG_KEY = "sk-ant-test-wrong-9876543210-do-not-leak"
MODEL = "claude-opus-4-5"
BATCH_ONLY = {
    "max_tokens": 1024,
    "temperature": 0.2,
    "stop_sequences": ["\n\n"],
    "metadata": {"user_id": "u1"},
}


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # The SDK reads ANTHROPIC_* (key, base URL, profiles, custom headers) and httpx2 reads proxy variables.
    for name in list(os.environ):
        if name.startswith("ANTHROPIC_") or name.lower() in {"http_proxy", "https_proxy", "all_proxy"}:
            monkeypatch.delenv(name)


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    with serve_fake_anthropic(KEY) as server:
        yield server


def _request(text: str, *, model: str = MODEL, **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": text}], **BATCH_ONLY, **extra}


def _count(fake: FakeAnthropic, requests: list[dict[str, Any]], **options: Any) -> ExactCountResult:
    settings: dict[str, Any] = {"api_key": KEY, "base_url": fake.url, "timeout_s": 2.0, "max_retries": 2}
    return count_exact(requests, **(settings | options))


def _expected(request: dict[str, Any]) -> int:
    return fake_input_tokens({name: value for name, value in request.items() if name in COUNT_TOKENS_PARAMS})


def test_every_kept_key_is_a_count_tokens_parameter() -> None:
    import anthropic

    accepted = inspect.signature(anthropic.Anthropic(api_key=KEY).messages.count_tokens).parameters
    assert set(accepted) >= COUNT_TOKENS_PARAMS


def test_counts_match_the_server_and_batch_only_keys_are_stripped(fake: FakeAnthropic) -> None:
    tools = [{"name": "lookup", "description": "Find a word.", "input_schema": {"type": "object"}}]
    requests = [
        _request("Hello, Claude"),
        _request("Summarise this.", system="You are terse.", tools=tools, stream=False, service_tier="auto"),
        _request("A third, longer request with more text in it."),
    ]

    result = _count(fake, requests)

    assert result.input_tokens == tuple(_expected(request) for request in requests)
    assert result.input_tokens[0] == 11  # "user" + "Hello, Claude": 17 characters // 4 + 7
    assert (result.exact_count, result.failed_count, result.failures) == (3, 0, ())
    assert result.stopped_reason is None
    assert result.distinct_requests_sent == len(fake.requests) == 3
    for seen in fake.requests:
        assert set(seen.body) <= COUNT_TOKENS_PARAMS
        assert "max_tokens" not in seen.body


def test_identical_requests_are_counted_once(fake: FakeAnthropic) -> None:
    first = _request("Same text")
    reordered = dict(reversed(list(first.items())))
    other_batch_settings = first | {"max_tokens": 5, "temperature": 1.0}
    requests = [first, _request("Different"), reordered, other_batch_settings, first]

    result = _count(fake, requests)

    assert result.distinct_requests_sent == len(fake.requests) == 2
    assert result.input_tokens == (_expected(first), _expected(requests[1]), *[_expected(first)] * 3)


def test_unusable_params_fall_back_without_being_sent(fake: FakeAnthropic) -> None:
    requests: list[dict[str, Any]] = [{"messages": []}, {"model": MODEL}, _request("fine")]

    result = _count(fake, requests)

    assert result.input_tokens == (None, None, _expected(requests[2]))
    assert result.failures == (
        CountFailure(0, "params have no 'model'"),
        CountFailure(1, "params have no 'messages' list"),
    )
    assert len(fake.requests) == 1


def test_rejected_key_stops_and_every_request_falls_back(fake: FakeAnthropic) -> None:
    requests = [_request(f"request {n}") for n in range(5)]

    result = _count(fake, requests, api_key=WRONG_KEY, max_concurrency=1)

    assert len(fake.requests) == result.distinct_requests_sent == 1
    assert result.input_tokens == (None,) * 5
    assert result.stopped_reason == "API key rejected (401)"
    assert [failure.reason for failure in result.failures] == ["API key rejected (401)"] * 5


@pytest.mark.parametrize("retry_after", [{"retry-after-ms": "10"}, {"retry-after": "0.01"}])
def test_rate_limit_is_retried_after_the_servers_delay(fake: FakeAnthropic, retry_after: dict[str, str]) -> None:
    fake.fail(429, times=2, headers=retry_after)
    request = _request("retry me")

    result = _count(fake, [request], max_retries=4)

    assert result.input_tokens == (_expected(request),)
    attempts = fake.requests
    assert [seen.headers["x-stainless-retry-count"] for seen in attempts] == ["0", "1", "2"]
    # The SDK's own backoff starts at 0.375-0.5 s; far shorter gaps show it waited as the server asked.
    gaps = [later.received_at - earlier.received_at for earlier, later in itertools.pairwise(attempts)]
    assert max(gaps) < 0.3


def test_rate_limited_to_the_end_falls_back(fake: FakeAnthropic) -> None:
    fake.fail(429)

    result = _count(fake, [_request("never counted")], max_retries=2)

    assert result.input_tokens == (None,)
    assert result.failures == (CountFailure(0, "rate limited (429) after 2 retries"),)
    assert result.stopped_reason is None
    assert len(fake.requests) == 3


@pytest.mark.parametrize("status", [500, 529])
def test_server_error_falls_back_after_retries(fake: FakeAnthropic, status: int) -> None:
    fake.fail(status)

    result = _count(fake, [_request("a"), _request("b")], max_retries=1)

    assert result.input_tokens == (None, None)
    assert {failure.reason for failure in result.failures} == {f"server error ({status}) after 1 retries"}
    assert result.stopped_reason is None
    assert len(fake.requests) == 4


def test_timeout_falls_back_and_names_the_limit(fake: FakeAnthropic) -> None:
    fake.hang()

    result = _count(fake, [_request("slow a"), _request("slow b")], timeout_s=0.2, max_retries=0)

    assert result.input_tokens == (None, None)
    assert [failure.reason for failure in result.failures] == ["timed out after 0.2s"] * 2
    assert result.stopped_reason is None


def test_connection_refused_stops() -> None:
    base_url = refused_base_url()
    host = base_url.removeprefix("http://")
    requests = [_request(f"request {n}") for n in range(6)]

    result = count_exact(requests, api_key=KEY, base_url=base_url, max_retries=0, max_concurrency=2)

    assert result.input_tokens == (None,) * 6
    assert result.stopped_reason == f"could not connect to {host}"
    assert {failure.reason for failure in result.failures} == {f"could not connect to {host}"}
    assert result.distinct_requests_sent <= 2


@pytest.mark.parametrize(
    ("setup", "model", "reason"),
    [
        (None, f"{UNKNOWN_MODEL_PREFIX}-9", f"rejected by the API (404): model: {UNKNOWN_MODEL_PREFIX}-9"),
        ("400", MODEL, "rejected by the API (400): messages: roles must alternate"),
    ],
)
def test_bad_request_falls_back_with_the_api_message(
    fake: FakeAnthropic, setup: str | None, model: str, reason: str
) -> None:
    if setup == "400":
        fake.fail(400, times=1, message="messages: roles must alternate")
    requests = [_request("bad", model=model), _request("good")]

    result = _count(fake, requests, max_concurrency=1)

    assert result.input_tokens == (None, _expected(requests[1]))
    assert result.failures == (CountFailure(0, reason),)
    assert result.stopped_reason is None


def test_no_key_raises_before_anything_is_sent(fake: FakeAnthropic) -> None:
    with pytest.raises(ExactCountError, match="ANTHROPIC_API_KEY"):
        count_exact([_request("x")], base_url=fake.url)
    with pytest.raises(ExactCountError, match="ANTHROPIC_API_KEY"):
        count_exact([_request("x")], api_key="  ", base_url=fake.url)
    assert fake.requests == []


def test_key_and_base_url_from_the_environment(fake: FakeAnthropic, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.url)
    request = _request("from the environment")

    result = count_exact([request])

    assert result.input_tokens == (_expected(request),)


@pytest.mark.parametrize(
    "options",
    [
        {"max_concurrency": 0},
        {"max_concurrency": True},
        {"max_retries": -1},
        {"timeout_s": 0},
        {"timeout_s": float("nan")},
    ],
)
def test_settings_out_of_range_raise(fake: FakeAnthropic, options: dict[str, Any]) -> None:
    with pytest.raises(ExactCountError) as raised:
        _count(fake, [_request("x")], **options)
    assert KEY not in str(raised.value)
    assert fake.requests == []


def test_the_key_never_leaks(fake: FakeAnthropic, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("anthropic", "httpx2", "httpcore2"):
        caplog.set_level(logging.DEBUG, logger=name)
    fake.fail(400, times=1, message=f"bad request from {KEY}")

    echoed = _count(fake, [_request("echo"), _request("fine")], max_concurrency=1)
    rejected = _count(fake, [_request("a"), _request("b")], api_key=WRONG_KEY)
    refused = count_exact([_request("c")], api_key=KEY, base_url=refused_base_url(), max_retries=0)

    assert echoed.failures == (CountFailure(0, "rejected by the API (400): bad request from [redacted]"),)
    assert rejected.stopped_reason == "API key rejected (401)"
    assert refused.stopped_reason is not None
    # The SDK did log at DEBUG, so the absence checks below mean something.
    assert "Sending HTTP Request" in caplog.text
    for key in (KEY, WRONG_KEY):
        for result in (echoed, rejected, refused):
            assert key not in repr(result)
            assert key not in str(result)
        assert key not in caplog.text
        for seen in fake.requests:
            assert key not in seen.path
            assert key not in json.dumps(seen.headers)
            assert key not in json.dumps(seen.body)
    assert {seen.auth_scheme for seen in fake.requests} <= {"x-api-key", "bearer"}


def test_progress_rises_to_the_total(fake: FakeAnthropic) -> None:
    calls: list[tuple[int, int]] = []
    requests = [_request("a"), _request("b"), _request("a"), {"model": MODEL}, _request("c")]

    _count(fake, requests, on_progress=lambda done, total: calls.append((done, total)))

    done = [call[0] for call in calls]
    assert done == sorted(set(done))
    assert calls[-1] == (5, 5)
    assert {call[1] for call in calls} == {5}


def test_a_failing_progress_callback_stops_the_run(fake: FakeAnthropic) -> None:
    def give_up(done: int, total: int) -> None:
        raise KeyboardInterrupt

    requests = [_request(f"request {n}") for n in range(10)]

    with pytest.raises(KeyboardInterrupt):
        _count(fake, requests, max_concurrency=1, on_progress=give_up)

    assert len(fake.requests) <= 2


@pytest.mark.parametrize("max_concurrency", [1, 3])
def test_concurrency_is_bounded(fake: FakeAnthropic, max_concurrency: int) -> None:
    fake.hold_s = 0.04  # server-side latency, so requests overlap when the client allows it
    requests = [_request(f"request {n}") for n in range(9)]

    result = _count(fake, requests, max_concurrency=max_concurrency)

    assert result.exact_count == 9
    assert fake.max_in_flight <= max_concurrency
    assert fake.max_in_flight >= min(max_concurrency, 2)


def test_nothing_to_count() -> None:
    result = count_exact([], api_key=KEY)

    assert result == ExactCountResult((), (), 0, 0, 0, None)


# --- issue 9 §5: a 200 that is not a count, the deadline, runs of failures -------------------------------


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (b"<html>upstream error</html>", "text/html", "unexpected response from the API (no input_tokens in it)"),
        (b"not json at all", "application/json", "unexpected response from the API (JSONDecodeError)"),
        (b'{"tokens": 12}', "application/json", "unexpected response from the API (no input_tokens in it)"),
        (b'{"input_tokens": "12"}', "application/json", "API returned input_tokens='12'"),
        (b'{"input_tokens": -1}', "application/json", "API returned input_tokens=-1"),
    ],
    ids=["html", "not json", "another shape", "a string", "negative"],
)
def test_a_200_that_is_not_a_count_falls_back(fake: FakeAnthropic, body: bytes, content_type: str, reason: str) -> None:
    fake.garble(body, content_type=content_type, times=1)
    requests = [_request("garbled"), _request("fine")]

    result = _count(fake, requests, max_concurrency=1)

    assert result.input_tokens == (None, _expected(requests[1]))
    assert result.failures == (CountFailure(0, reason),)
    assert result.stopped_reason is None


def test_the_deadline_bounds_the_whole_count(fake: FakeAnthropic) -> None:
    fake.hang()  # accepts and never answers: without a deadline, 12 requests × 5 attempts × the timeout
    started = time.monotonic()

    result = _count(fake, [_request(f"slow {n}") for n in range(12)], timeout_s=0.3, max_retries=4, deadline_s=0.8)

    assert time.monotonic() - started < 3
    assert result.input_tokens == (None,) * 12
    # Each request either timed out with no time left to retry, or was not sent once the deadline passed.
    assert all("deadline" in failure.reason for failure in result.failures), result.failures
    assert result.stopped_reason in (None, "the deadline of 0.8s passed")


def test_a_retry_after_beyond_the_deadline_is_not_waited_for(fake: FakeAnthropic) -> None:
    fake.fail(429, times=1, headers={"retry-after": "3600"})
    started = time.monotonic()

    result = _count(fake, [_request("rate limited")], max_retries=4, deadline_s=5)

    assert time.monotonic() - started < 2
    assert result.failures == (CountFailure(0, "rate limited (429); a retry would wait 3600.0s, past the deadline"),)


@pytest.mark.parametrize(
    ("setup", "reason"),
    [("timeout", "timed out after 0.1s"), ("429", "rate limited (429)"), ("503", "server error (503)")],
)
def test_a_run_of_failures_stops_the_count(fake: FakeAnthropic, setup: str, reason: str) -> None:
    if setup == "timeout":
        fake.hang()
    else:
        fake.fail(int(setup))
    requests = [_request(f"request {n}") for n in range(10)]

    result = _count(fake, requests, max_concurrency=1, max_retries=0, timeout_s=0.1)

    assert len(fake.requests) == 3  # the default: three requests in a row, then stop
    assert result.stopped_reason == f"stopped after 3 requests in a row failed ({reason}): the service is not answering"
    assert result.input_tokens == (None,) * 10
    assert [f.reason for f in result.failures[:3]] == [reason] * 3
    assert {f.reason for f in result.failures[3:]} == {result.stopped_reason}


def test_a_success_resets_the_run_of_failures(fake: FakeAnthropic) -> None:
    fake.fail(429, times=2)
    requests = [_request(f"request {n}") for n in range(6)]

    result = _count(fake, requests, max_concurrency=1, max_retries=0, max_consecutive_failures=3)

    assert result.stopped_reason is None
    assert result.exact_count == 4 and result.failed_count == 2


@pytest.mark.parametrize("options", [{"deadline_s": 0}, {"deadline_s": float("inf")}, {"max_consecutive_failures": 0}])
def test_deadline_and_failure_limit_out_of_range_raise(fake: FakeAnthropic, options: dict[str, Any]) -> None:
    with pytest.raises(ExactCountError):
        _count(fake, [_request("x")], **options)
    assert fake.requests == []


def test_deeply_nested_params_fall_back_without_being_sent(fake: FakeAnthropic) -> None:
    deep: Any = "leaf"
    for _ in range(5_000):
        deep = [deep]
    requests = [{"model": MODEL, "messages": [{"role": "user", "content": deep}]}, _request("fine")]

    result = _count(fake, requests)

    assert result.input_tokens[0] is None and result.input_tokens[1] == _expected(requests[1])
    assert result.failures[0].reason == "params cannot be sent as JSON: nested too deeply"
    assert len(fake.requests) == 1
