"""Fetching Admin API reports through httpx against the local fake in tests/fake_admin.py, with a canary key."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import os
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from decimal import Decimal as D
from typing import Any

import pytest

from estimator.cli import main
from estimator.usage.admin_client import ANALYTICS_BETA, fetch_reports
from estimator.usage.errors import AdminApiError
from tests.fake_admin import ANALYTICS_USAGE_PATH, COST_PATH, USAGE_PATH, FakeAdmin, serve_fake_admin

CANARY = "sk-ant-admin01-CANARY-7f3a9c-do-not-leak"
WRONG = "sk-ant-admin01-WRONG-5b1e2d-do-not-leak"
START, END = dt.date(2026, 11, 1), dt.date(2026, 11, 3)
MTOK = D(1_000_000)


@pytest.fixture(autouse=True)
def _no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("ANTHROPIC_") or name.lower() in {"http_proxy", "https_proxy", "all_proxy"}:
            monkeypatch.delenv(name)


@pytest.fixture
def fake() -> Iterator[FakeAdmin]:
    with serve_fake_admin(CANARY) as server:
        yield server


def _usage_page(day: str, model: str, inp: int, out: int) -> dict[str, Any]:
    row = {
        "uncached_input_tokens": inp,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
        "cache_read_input_tokens": 0,
        "output_tokens": out,
        "model": model,
        "service_tier": "standard",
        "context_window": "0-200k",
        "inference_geo": "global",
    }
    return {"data": [{"starting_at": f"{day}T00:00:00Z", "ending_at": f"{day}T23:59:59Z", "results": [row]}]}


def _cost_page(day: str, model: str, cents: str) -> dict[str, Any]:
    row = {"amount": cents, "currency": "USD", "model": model, "cost_type": "tokens"}
    return {"data": [{"starting_at": f"{day}T00:00:00Z", "ending_at": f"{day}T23:59:59Z", "results": [row]}]}


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def _fetch(fake: FakeAdmin, **options: Any) -> Any:
    settings: dict[str, Any] = {"admin_key": CANARY, "base_url": fake.url, "timeout_s": 2.0, "sleep": Sleeps()}
    return fetch_reports(START, END, **(settings | options))


def _leaks(fake: FakeAdmin, *texts: str) -> list[str]:
    seen = [r.raw_target + json.dumps(r.headers) for r in fake.requests] + list(texts)
    return [text for text in seen if CANARY in text or WRONG in text]


def test_pages_are_followed_and_priced(fake: FakeAdmin) -> None:
    fake.set_pages(USAGE_PATH, [_usage_page(f"2026-11-0{d}", "claude-sonnet-4-6", 1000 * d, 10 * d) for d in (1, 2, 3)])
    fake.set_pages(COST_PATH, [_cost_page("2026-11-01", "claude-sonnet-4-6", "0.315")])
    fetched = _fetch(fake)
    assert len(fetched.usage_pages) == 3 and len(fetched.cost_pages) == 1
    usage_requests = [r for r in fake.requests if r.path == USAGE_PATH]
    assert [r.param("page") for r in usage_requests] == [[], ["page_1"], ["page_2"]]
    first = usage_requests[0]
    assert first.param("starting_at") == ["2026-11-01T00:00:00Z"] and first.param("ending_at") == [
        "2026-11-04T00:00:00Z"
    ]
    assert set(first.param("group_by[]")) == {"model", "service_tier", "context_window", "inference_geo"}
    assert first.headers["anthropic-version"] == "2023-06-01"
    assert _leaks(fake) == []

    from estimator import actual_costs

    result = actual_costs(list(fetched.usage_pages), cost_reports=list(fetched.cost_pages))
    day_one = (1000 * D(3) + 10 * D(15)) / MTOK
    assert result.cost_report is not None
    assert next(r for r in result.cost_report.rows if r.model_id == "claude-sonnet-4-6").difference_usd == (
        day_one - D("0.00315")
    )


def test_a_rejected_key_stops_at_once_and_never_leaks(fake: FakeAdmin, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AdminApiError) as raised:
        _fetch(fake, admin_key=WRONG)
    assert raised.value.status == 401
    assert "ANTHROPIC_ADMIN_KEY" in str(raised.value)
    assert len(fake.requests) == 1
    assert _leaks(fake, str(raised.value), caplog.text) == []


def test_429_waits_as_retry_after_says(fake: FakeAdmin) -> None:
    fake.set_pages(USAGE_PATH, [_usage_page("2026-11-01", "claude-sonnet-4-6", 1, 1)])
    fake.fail(429, times=2, headers={"retry-after": "7"})
    sleeps = Sleeps()
    fetched = _fetch(fake, sleep=sleeps, reports=("usage",))
    assert sleeps.waits == [7.0, 7.0]
    assert fetched.retries == 2 and len(fetched.usage_pages) == 1


def test_5xx_is_retried_with_backoff_then_given_up(fake: FakeAdmin) -> None:
    fake.set_pages(USAGE_PATH, [_usage_page("2026-11-01", "claude-sonnet-4-6", 1, 1)])
    fake.fail(529, times=1)
    sleeps = Sleeps()
    assert len(_fetch(fake, sleep=sleeps, reports=("usage",)).usage_pages) == 1
    assert sleeps.waits == [0.5]
    fake.fail(500)
    with pytest.raises(AdminApiError, match=r"HTTP 500.*after 2 retries"):
        _fetch(fake, max_retries=2, reports=("usage",))


def test_timeouts_are_retried_then_reported(fake: FakeAdmin) -> None:
    fake.hang(times=1)
    fake.set_pages(USAGE_PATH, [_usage_page("2026-11-01", "claude-sonnet-4-6", 1, 1)])
    fetched = _fetch(fake, timeout_s=0.2, reports=("usage",))
    assert fetched.retries == 1
    fake.hang()
    with pytest.raises(AdminApiError, match="timed out"):
        _fetch(fake, timeout_s=0.2, max_retries=1, reports=("usage",))


def test_the_deadline_bounds_the_whole_fetch(fake: FakeAdmin) -> None:
    fake.fail(503, headers={"retry-after": "20"})
    with pytest.raises(AdminApiError, match="deadline"):
        _fetch(fake, deadline_s=10, reports=("usage",))


def test_analytics_sends_the_beta_header_and_windows_of_31_days(fake: FakeAdmin) -> None:
    fake.set_pages(ANALYTICS_USAGE_PATH, [{"data": []}])
    progress: list[tuple[str, int, int]] = []
    fetch_reports(
        dt.date(2026, 1, 1),
        dt.date(2026, 3, 5),
        api="analytics",
        admin_key=CANARY,
        base_url=fake.url,
        reports=("usage",),
        sleep=Sleeps(),
        on_progress=lambda *args: progress.append(args),
    )
    sent = [r for r in fake.requests if r.path == ANALYTICS_USAGE_PATH]
    assert [r.param("starting_at")[0][:10] for r in sent] == ["2026-01-01", "2026-02-01", "2026-03-04"]
    assert all(r.headers["anthropic-beta"] == ANALYTICS_BETA for r in sent)
    assert progress == [("usage", 1, 3), ("usage", 2, 3), ("usage", 3, 3)]


def test_no_key_is_a_clear_error() -> None:
    with pytest.raises(AdminApiError, match="ANTHROPIC_ADMIN_KEY"):
        fetch_reports(START, END, admin_key="", base_url="http://127.0.0.1:9")


def test_the_cli_fetches_with_the_key_from_the_environment(fake: FakeAdmin, monkeypatch: pytest.MonkeyPatch) -> None:
    fake.set_pages(USAGE_PATH, [_usage_page("2026-11-01", "claude-sonnet-4-6", 1000, 10)])
    fake.set_pages(COST_PATH, [_cost_page("2026-11-01", "claude-sonnet-4-6", "0.315")])
    monkeypatch.setenv("MY_ADMIN_KEY", CANARY)
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(
            [
                "actual",
                "--admin-from",
                "2026-11-01",
                "--admin-to",
                "2026-11-03",
                "--admin-key-env",
                "MY_ADMIN_KEY",
                "--admin-base-url",
                fake.url,
                "--format",
                "json",
                "--no-progress",
            ],
            stdout=out,
            stderr=err,
        )
    assert code == 0, err.getvalue()
    payload = json.loads(out.getvalue())
    assert payload["total_usd"] == "0.00315"
    assert payload["cost_report"]["to_the_cent"] is True
    assert _leaks(fake, out.getvalue(), err.getvalue()) == []
    monkeypatch.setenv("MY_ADMIN_KEY", WRONG)
    err = io.StringIO()
    code = main(
        ["actual", "--admin-from", "2026-11-01", "--admin-key-env", "MY_ADMIN_KEY", "--admin-base-url", fake.url],
        stdout=io.StringIO(),
        stderr=err,
    )
    assert code == 2 and err.getvalue().startswith("error: the Admin API refused the key (401")
    assert _leaks(fake, err.getvalue()) == []


def test_reading_and_pricing_load_no_http_client_or_ui() -> None:
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import sys, json; import estimator.usage.admin_client, estimator.usage.actuals, estimator.usage.report; "
        "print(json.dumps([m for m in ('httpx2', 'httpx', 'anthropic', 'streamlit', 'plotly', 'tiktoken') "
        "if m in sys.modules]))"
    )
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root).stdout
    assert json.loads(out) == []
