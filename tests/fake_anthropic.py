"""A local stand-in for Anthropic's `POST /v1/messages/count_tokens`, for driving the real SDK in tests.

The fake answers like the API: `{"input_tokens": N}` with N from `fake_input_tokens`, 401 in Anthropic's error
shape for a wrong key (sent as `x-api-key` or `Authorization: Bearer`), 400 for body fields the endpoint does
not take. Tests script failures (`fail`, `hang`, `garble`, `hold_s`) and read back every request (`requests`,
`max_in_flight`); recorded headers leave the credential out, so a test can search the rest for the key.
Every wait is bounded (`_HANG_LIMIT_S`) and ends at teardown, so no test can hang on the fake.

    with serve_fake_anthropic("sk-ant-test") as fake:
        fake.fail(429, times=2)          # two rate limits, then success
        count_exact(..., base_url=fake.url)
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

COUNT_TOKENS_PATH = "/v1/messages/count_tokens"

# The request body fields of count_tokens per the API reference; kept apart from the estimator's own list so
# that a test proves the stripping rather than restating it.
ACCEPTED_FIELDS = frozenset(
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

ERROR_TYPES: Mapping[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}

# Small enough that the SDK's retries cost milliseconds; the SDK honours retry-after-ms first.
FAST_RETRY_HEADERS: Mapping[str, str] = {"retry-after-ms": "10"}

UNKNOWN_MODEL_PREFIX = "claude-unknown"

# How long a hanging handler may wait if teardown never releases it, so a broken test cannot wedge the run.
_HANG_LIMIT_S = 30.0


def fake_input_tokens(body: Mapping[str, Any]) -> int:
    """The fake's count: characters of every string under system, messages and tools, // 4, + 7."""
    return _string_chars([body.get("system"), body.get("messages"), body.get("tools")]) // 4 + 7


def _string_chars(value: object) -> int:
    if isinstance(value, str):
        return len(value)
    if isinstance(value, Mapping):
        return sum(_string_chars(item) for item in value.values())
    if isinstance(value, list | tuple):
        return sum(_string_chars(item) for item in value)
    return 0


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake saw it, minus the credential header."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    auth_scheme: str | None
    received_at: float


@dataclass
class _Failure:
    status: int
    times_left: int | None
    message: str
    headers: Mapping[str, str]
    body: bytes | None = None  # sent as is instead of Anthropic's error shape


Answer = tuple[int, dict[str, Any] | bytes, Mapping[str, str]]


class FakeAnthropic:
    """The fake's state and behaviour; the HTTP plumbing lives in `_Handler` and `serve_fake_anthropic`."""

    def __init__(self, api_key: str) -> None:
        self.url = ""
        self.hold_s = 0.0
        self._api_key = api_key
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._requests: list[RecordedRequest] = []
        self._failure: _Failure | None = None
        self._hang = False
        self._in_flight = 0
        self._max_in_flight = 0

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def max_in_flight(self) -> int:
        return self._max_in_flight

    def fail(
        self,
        status: int,
        *,
        times: int | None = None,
        message: str | None = None,
        headers: Mapping[str, str] = FAST_RETRY_HEADERS,
    ) -> None:
        """Answer the next `times` requests (all, if None) with `status` in Anthropic's error shape."""
        text = message if message is not None else f"scripted {status}"
        self._failure = _Failure(status=status, times_left=times, message=text, headers=headers)

    def hang(self) -> None:
        """Never answer: each request waits until teardown, so the client's timeout fires."""
        self._hang = True

    def garble(
        self, body: bytes = b"<html>upstream error</html>", *, content_type: str = "text/html", times: int | None = None
    ) -> None:
        """Answer the next `times` requests (all, if None) with 200 and `body`, which is not a count."""
        headers = {"content-type": content_type}
        self._failure = _Failure(status=200, times_left=times, message="", headers=headers, body=body)

    def release(self) -> None:
        self._released.set()

    def respond(self, method: str, path: str, headers: Mapping[str, str], body: Any) -> Answer | None:
        """Record the request and decide the answer: status, JSON payload, extra headers; None hangs up."""
        scheme, presented = _credential(headers)
        self._record(method, path, headers, body, scheme)
        with self._lock:
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
        try:
            return self._decide(method, path, presented, body)
        finally:
            # Released before the response is written, so the client's next request cannot overlap this one.
            with self._lock:
                self._in_flight -= 1

    def _record(self, method: str, path: str, headers: Mapping[str, str], body: Any, scheme: str | None) -> None:
        kept = {name: value for name, value in headers.items() if name not in {"x-api-key", "authorization"}}
        entry = RecordedRequest(method, path, kept, body, scheme, time.monotonic())
        with self._lock:
            self._requests.append(entry)

    def _decide(self, method: str, path: str, presented: str | None, body: Any) -> Answer | None:
        if method != "POST" or path != COUNT_TOKENS_PATH:
            return _error(404, f"{method} {path} not found")
        if presented != self._api_key:
            return _error(401, "invalid x-api-key")
        if self._hang:
            self._released.wait(_HANG_LIMIT_S)
            return None
        scripted = self._take_failure()
        if scripted is not None and scripted.body is not None:
            return scripted.status, scripted.body, scripted.headers
        if scripted is not None:
            return _error(scripted.status, scripted.message, scripted.headers)
        problem = _body_problem(body)
        if problem is not None:
            return problem
        if self.hold_s:
            self._released.wait(self.hold_s)
        return 200, {"input_tokens": fake_input_tokens(body)}, {}

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


def _credential(headers: Mapping[str, str]) -> tuple[str | None, str | None]:
    if "x-api-key" in headers:
        return "x-api-key", headers["x-api-key"]
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token:
        return "bearer", token
    return None, None


def _body_problem(body: Any) -> Answer | None:
    if not isinstance(body, dict):
        return _error(400, "request body must be a JSON object")
    for name in sorted(body):
        if name not in ACCEPTED_FIELDS:
            return _error(400, f"{name}: Extra inputs are not permitted")
    for name in ("model", "messages"):
        if name not in body:
            return _error(400, f"{name}: Field required")
    if str(body["model"]).startswith(UNKNOWN_MODEL_PREFIX):
        return _error(404, f"model: {body['model']}")
    return None


def _error(status: int, message: str, headers: Mapping[str, str] | None = None) -> Answer:
    payload = {"type": "error", "error": {"type": ERROR_TYPES.get(status, "api_error"), "message": message}}
    return status, payload, headers or {}


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeAnthropic) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self._serve()

    def do_GET(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the test output should hold the test's own failures only."""

    def _serve(self) -> None:
        fake = cast(_Server, self.server).fake
        headers = {name.lower(): value for name, value in self.headers.items()}
        answer = fake.respond(self.command, self.path, headers, self._read_body())
        if answer is None:
            self.close_connection = True
            return
        status, payload, extra_headers = answer
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        try:
            self.send_response(status)
            if "content-type" not in extra_headers:
                self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.send_header("request-id", f"req_fake_{len(fake.requests)}")
            for name, value in extra_headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (its timeout), which is what some tests arrange

    def _read_body(self) -> Any:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return raw.decode(errors="replace")


@contextmanager
def serve_fake_anthropic(api_key: str) -> Iterator[FakeAnthropic]:
    """Serve a fake on 127.0.0.1 at a free port in a background thread; `fake.url` is its base URL."""
    fake = FakeAnthropic(api_key)
    server = _Server(fake)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    # A short poll interval: shutdown() waits for the next poll, and the default 0.5 s adds up over a run.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.01}, name="fake-anthropic", daemon=True
    )
    thread.start()
    try:
        yield fake
    finally:
        fake.release()
        server.shutdown()
        server.server_close()
        thread.join()


def refused_base_url() -> str:
    """A base URL nothing listens on: the port was bound and closed, so connecting is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
