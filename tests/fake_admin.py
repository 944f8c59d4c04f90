"""A local stand-in for Anthropic's Admin API usage and cost reports, for driving `fetch_reports` in tests.

Serves `GET` on the legacy (`/v1/organizations/usage_report/messages`, `/v1/organizations/cost_report`) and
analytics (`/v1/organizations/analytics/usage`, `.../cost`) paths. Each path answers the pages a test gives it,
one per request, linked by `next_page` tokens; a wrong or missing `x-api-key` gets 401 in Anthropic's error
shape. Tests script failures (`fail` with headers such as `retry-after`, `hang` for timeouts) and read back
every request (`requests`: path and query, headers without the credential), so a test can search it for the key.

    with serve_fake_admin("sk-ant-admin01-test") as fake:
        fake.set_pages(USAGE_PATH, [page_1, page_2])
        fake.fail(429, times=1, headers={"retry-after": "7"})
        fetch_reports(..., base_url=fake.url)
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast
from urllib.parse import parse_qsl, urlsplit

from tests.fake_anthropic import ERROR_TYPES

USAGE_PATH = "/v1/organizations/usage_report/messages"
COST_PATH = "/v1/organizations/cost_report"
ANALYTICS_USAGE_PATH = "/v1/organizations/analytics/usage"
ANALYTICS_COST_PATH = "/v1/organizations/analytics/cost"

_HANG_LIMIT_S = 30.0


@dataclass(frozen=True)
class AdminRequest:
    """One request as the fake saw it: the query as (name, value) pairs, headers minus the credential."""

    path: str
    query: tuple[tuple[str, str], ...]
    headers: dict[str, str]
    raw_target: str

    def param(self, name: str) -> list[str]:
        return [value for key, value in self.query if key == name]


@dataclass
class _Failure:
    status: int
    times_left: int | None
    headers: Mapping[str, str]


class FakeAdmin:
    def __init__(self, admin_key: str) -> None:
        self.url = ""
        self._key = admin_key
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._pages: dict[str, list[dict[str, Any]]] = {}
        self._requests: list[AdminRequest] = []
        self._failure: _Failure | None = None
        self._hang_times: int | None = 0

    @property
    def requests(self) -> list[AdminRequest]:
        with self._lock:
            return list(self._requests)

    def set_pages(self, path: str, pages: list[dict[str, Any]]) -> None:
        """Serve `pages` in order on `path`: each but the last says has_more with a next_page token."""
        self._pages[path] = pages

    def fail(self, status: int, *, times: int | None = None, headers: Mapping[str, str] | None = None) -> None:
        self._failure = _Failure(status, times, headers or {})

    def hang(self, *, times: int | None = None) -> None:
        """Do not answer the next `times` requests (all, if None) until released: the client times out."""
        self._hang_times = times if times is not None else -1

    def release(self) -> None:
        self._released.set()

    def respond(self, target: str, headers: Mapping[str, str]) -> tuple[int, dict[str, Any], Mapping[str, str]] | None:
        parts = urlsplit(target)
        query = tuple(parse_qsl(parts.query, keep_blank_values=True))
        kept = {name: value for name, value in headers.items() if name not in ("x-api-key", "authorization")}
        with self._lock:
            self._requests.append(AdminRequest(parts.path, query, kept, target))
        if headers.get("x-api-key") != self._key:
            return _error(401, "invalid x-api-key")
        if self._take_hang():
            self._released.wait(_HANG_LIMIT_S)
            return None
        failure = self._take_failure()
        if failure is not None:
            return (*_error(failure.status, f"scripted {failure.status}")[:2], failure.headers)
        pages = self._pages.get(parts.path)
        if pages is None:
            return _error(404, f"GET {parts.path} not found")
        token = dict(query).get("page")
        index = int(token.removeprefix("page_")) if token else 0
        if not 0 <= index < len(pages):
            return _error(400, f"page: unknown token {token!r}")
        more = index + 1 < len(pages)
        body = {**pages[index], "has_more": more, "next_page": f"page_{index + 1}" if more else None}
        return 200, body, {}

    def _take_hang(self) -> bool:
        with self._lock:
            if not self._hang_times:
                return False
            if self._hang_times > 0:
                self._hang_times -= 1
            return True

    def _take_failure(self) -> _Failure | None:
        with self._lock:
            failure = self._failure
            if failure is None:
                return None
            if failure.times_left is not None:
                failure.times_left -= 1
                if failure.times_left <= 0:
                    self._failure = None
            return failure


def _error(status: int, message: str) -> tuple[int, dict[str, Any], Mapping[str, str]]:
    payload = {"type": "error", "error": {"type": ERROR_TYPES.get(status, "api_error"), "message": message}}
    return status, payload, {}


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeAdmin) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        fake = cast(_Server, self.server).fake
        headers = {name.lower(): value for name, value in self.headers.items()}
        answer = fake.respond(self.path, headers)
        if answer is None:
            self.close_connection = True
            return
        status, payload, extra = answer
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, format: str, *args: Any) -> None:
        """Silent."""


@contextmanager
def serve_fake_admin(admin_key: str) -> Iterator[FakeAdmin]:
    fake = FakeAdmin(admin_key)
    server = _Server(fake)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        fake.release()
        server.shutdown()
        server.server_close()
        thread.join()
