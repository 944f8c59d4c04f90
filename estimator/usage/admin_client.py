"""Fetch Admin API usage and cost reports over a date range: pagination, retries, a deadline, progress.

    pages = fetch_reports(dt.date(2026, 11, 1), dt.date(2026, 11, 30))     # key from ANTHROPIC_ADMIN_KEY
    result = actual_costs(pages.usage_pages, cost_reports=pages.cost_pages)

Two generations of endpoints ([OFF] usage-and-billing.md §3):

- `legacy`: `GET /v1/organizations/usage_report/messages` (grouped by model, service tier, context window and
  inference geo) and `GET /v1/organizations/cost_report` (grouped by description, which carries the model and
  token type); daily buckets, at most 31 per page.
- `analytics` (beta, from 2026-10-29; header `anthropic-beta: analytics-usage-cost-2026-08-24`):
  `GET /v1/organizations/analytics/usage` and `/analytics/cost`, grouped by model, service tier, context window,
  inference geo and speed (cost also by token type); ranges of at most 31 days, so longer ones are fetched in
  windows; no data before 2026-01-01.

Every page is followed through `next_page` while `has_more`. 429 and 5xx answers, timeouts and dropped
connections are retried with exponential backoff, honouring `retry-after` (seconds) or `retry-after-ms`, until
`max_retries` or the overall `deadline_s`; 401 and 403 stop at once with what to check.

The key is a secret: it travels only in the `x-api-key` header — never in a URL, a message, a log line or an
exception (every message is passed through a redaction of the key) — and is never stored. httpx (installed
with the `anthropic` SDK, as `httpx2` in its 2.x releases) is imported only when fetching.
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from estimator.usage.errors import AdminApiError

__all__ = [
    "ADMIN_KEY_ENV",
    "ANALYTICS_BETA",
    "DEFAULT_BASE_URL",
    "AdminReports",
    "fetch_reports",
]

ADMIN_KEY_ENV = "ANTHROPIC_ADMIN_KEY"
DEFAULT_BASE_URL = "https://api.anthropic.com"
ANALYTICS_BETA = "analytics-usage-cost-2026-08-24"
API_VERSION = "2023-06-01"
ANALYTICS_FIRST_DAY = dt.date(2026, 1, 1)
MAX_DAYS_PER_WINDOW = 31

Api = Literal["legacy", "analytics"]
Progress = Callable[[str, int, int], None]
"""on_progress(report, windows_done, windows_total) after each window of ≤ 31 days: report is usage or cost."""

_PATHS: dict[tuple[Api, str], str] = {
    ("legacy", "usage"): "/v1/organizations/usage_report/messages",
    ("legacy", "cost"): "/v1/organizations/cost_report",
    ("analytics", "usage"): "/v1/organizations/analytics/usage",
    ("analytics", "cost"): "/v1/organizations/analytics/cost",
}
_GROUPS: dict[tuple[Api, str], tuple[str, ...]] = {
    ("legacy", "usage"): ("model", "service_tier", "context_window", "inference_geo"),
    ("legacy", "cost"): ("description",),
    ("analytics", "usage"): ("model", "service_tier", "context_window", "inference_geo", "speed"),
    ("analytics", "cost"): ("model", "service_tier", "context_window", "inference_geo", "speed", "token_type"),
}
_RETRIED = frozenset({408, 409, 429, 500, 502, 503, 504, 529})
_MAX_PAGES = 10_000  # a server that keeps saying has_more would otherwise be followed forever


@dataclass(frozen=True)
class AdminReports:
    """The pages fetched, as the API returned them (JSON objects), ready for `actual_costs`."""

    usage_pages: tuple[dict[str, Any], ...]
    cost_pages: tuple[dict[str, Any], ...]
    requests_made: int
    retries: int
    notes: tuple[str, ...] = field(default=())


def fetch_reports(
    starting_at: dt.date,
    ending_at: dt.date,
    *,
    api: Api = "legacy",
    admin_key: str | None = None,
    base_url: str | None = None,
    reports: tuple[str, ...] = ("usage", "cost"),
    timeout_s: float = 30.0,
    max_retries: int = 4,
    deadline_s: float = 300.0,
    on_progress: Progress | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> AdminReports:
    """Every page of the usage and cost reports for the days `starting_at` to `ending_at` (both included).

    The key comes from `admin_key`, else `ANTHROPIC_ADMIN_KEY`. `sleep` and `clock` are injectable so that tests
    check the waits without waiting."""
    key = (admin_key if admin_key is not None else os.environ.get(ADMIN_KEY_ENV, "")).strip()
    if not key:
        raise AdminApiError(
            f"no Admin API key: set {ADMIN_KEY_ENV} (an Admin key, sk-ant-admin01-..., from Console → Settings → "
            "Admin keys)"
        )
    if ending_at < starting_at:
        raise AdminApiError(f"the range ends ({ending_at}) before it starts ({starting_at})")
    notes = []
    if api == "analytics" and starting_at < ANALYTICS_FIRST_DAY:
        notes.append(f"the analytics API holds no data before {ANALYTICS_FIRST_DAY}: earlier days are not fetched")
        starting_at = ANALYTICS_FIRST_DAY
        if ending_at < starting_at:
            raise AdminApiError(f"the analytics API holds no data before {ANALYTICS_FIRST_DAY}; use --admin-api legacy")
    session = _Session(key, (base_url or DEFAULT_BASE_URL).rstrip("/"), api, timeout_s, max_retries,
                       clock() + deadline_s, sleep, clock)  # fmt: skip
    try:
        windows = list(_windows(starting_at, ending_at))
        pages: dict[str, list[dict[str, Any]]] = {"usage": [], "cost": []}
        for report in reports:
            if (api, report) not in _PATHS:
                raise AdminApiError(f"unknown report {report!r}; usage or cost")
            for index, (start, end) in enumerate(windows, start=1):
                pages[report].extend(session.pages(report, start, end))
                if on_progress is not None:
                    on_progress(report, index, len(windows))
    finally:
        session.close()
    return AdminReports(
        tuple(pages["usage"]), tuple(pages["cost"]), session.requests_made, session.retries, tuple(notes)
    )


def _windows(start: dt.date, end: dt.date) -> Iterator[tuple[dt.date, dt.date]]:
    """[start, end] as windows of at most 31 days, each given as [first day, day after the last)."""
    day = start
    while day <= end:
        last = min(end, day + dt.timedelta(days=MAX_DAYS_PER_WINDOW - 1))
        yield day, last + dt.timedelta(days=1)
        day = last + dt.timedelta(days=1)


def _http() -> Any:
    """httpx, as the anthropic SDK installs it (`httpx2` in its 2.x releases, `httpx` before)."""
    for name in ("httpx2", "httpx"):
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    raise AdminApiError("fetching reports needs httpx: pip install anthropic (it brings httpx)")


class _Session:
    def __init__(
        self,
        key: str,
        base_url: str,
        api: Api,
        timeout_s: float,
        max_retries: int,
        deadline: float,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
    ) -> None:
        self.http = _http()
        self._key = key
        self.base_url = base_url
        self.api = api
        self.max_retries = max_retries
        self.deadline = deadline
        self.sleep = sleep
        self.clock = clock
        self.requests_made = 0
        self.retries = 0
        headers = {"x-api-key": key, "anthropic-version": API_VERSION}
        if api == "analytics":
            headers["anthropic-beta"] = ANALYTICS_BETA
        self.client = self.http.Client(headers=headers, timeout=timeout_s, follow_redirects=False)

    def close(self) -> None:
        self.client.close()

    def redact(self, text: str) -> str:
        return text.replace(self._key, "[redacted]") if self._key else text

    def pages(self, report: str, start: dt.date, end: dt.date) -> Iterator[dict[str, Any]]:
        params: list[tuple[str, str]] = [("starting_at", _rfc3339(start)), ("ending_at", _rfc3339(end))]
        if self.api == "legacy":
            params += [("bucket_width", "1d"), ("limit", str(MAX_DAYS_PER_WINDOW))]
        else:
            params += [("time_bucket_width", "1d"), ("limit", "1000")]
        params += [("group_by[]", group) for group in _GROUPS[(self.api, report)]]
        url = self.base_url + _PATHS[(self.api, report)]
        page_token: str | None = None
        for _ in range(_MAX_PAGES):
            query = params + ([("page", page_token)] if page_token else [])
            body = self.get(url, query, report)
            yield body
            if not body.get("has_more"):
                return
            next_page = body.get("next_page")
            if not isinstance(next_page, str) or not next_page or next_page == page_token:
                raise AdminApiError(f"the {report} report says has_more but gives no new next_page; stopped")
            page_token = next_page
        raise AdminApiError(f"the {report} report returned more than {_MAX_PAGES:,} pages; stopped")

    def get(self, url: str, params: list[tuple[str, str]], report: str) -> dict[str, Any]:
        attempt = 0
        while True:
            remaining = self.deadline - self.clock()
            if remaining <= 0:
                raise AdminApiError(f"the {report} report: deadline reached before every page was fetched")
            self.requests_made += 1
            try:
                response = self.client.get(url, params=params)
            except self.http.TimeoutException:
                failure, wait_s = "timed out", None
            except self.http.TransportError as error:
                failure, wait_s = f"connection failed ({type(error).__name__})", None
            else:
                status = response.status_code
                if status == 200:
                    return self.json(response, report)
                if status in (401, 403):
                    raise AdminApiError(self.refused(response, report), status=status)
                if status not in _RETRIED:
                    raise AdminApiError(
                        f"the {report} report: HTTP {status} ({self.error_text(response)})", status=status
                    )
                failure, wait_s = f"HTTP {status} ({self.error_text(response)})", _retry_after(response)
            if attempt >= self.max_retries:
                raise AdminApiError(f"the {report} report: {failure}, still after {attempt} retries")
            wait = wait_s if wait_s is not None else min(2.0**attempt * 0.5, 30.0)
            if self.clock() + wait > self.deadline:
                raise AdminApiError(f"the {report} report: {failure}; the deadline leaves no time to retry")
            attempt += 1
            self.retries += 1
            self.sleep(wait)

    def json(self, response: Any, report: str) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            raise AdminApiError(f"the {report} report: the answer is not JSON") from None
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise AdminApiError(f"the {report} report: the answer holds no data list")
        return body

    def refused(self, response: Any, report: str) -> str:
        detail = self.error_text(response)
        if response.status_code == 401:
            return (
                f"the Admin API refused the key (401: {detail}): check {ADMIN_KEY_ENV}; the reports need an Admin key "
                "(sk-ant-admin01-...), not a workspace API key"
            )
        return f"the Admin API denied the {report} report (403: {detail}): the key lacks the admin permission"

    def error_text(self, response: Any) -> str:
        try:
            body = response.json()
            error = body.get("error", {}) if isinstance(body, dict) else {}
            text = f"{error.get('type', 'error')}: {error.get('message', '')}".strip(": ")
        except (ValueError, AttributeError):
            text = response.reason_phrase or "no details"
        return self.redact(text[:300])


def _retry_after(response: Any) -> float | None:
    """The server's wait: `retry-after-ms`, else `retry-after` in seconds (capped at a minute)."""
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = response.headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) * scale
        except ValueError:
            continue
        if seconds >= 0:
            return min(seconds, 60.0)
    return None


def _rfc3339(day: dt.date) -> str:
    return f"{day.isoformat()}T00:00:00Z"
