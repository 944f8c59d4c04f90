"""Reading usage: Message Batches results, Messages responses, bare usage objects and Admin API report pages.

A file may be JSONL (one value per line), a JSON array, or one JSON document (a response, a report page),
and may mix kinds: each value is read by its shape, never by the file's name.

    {"custom_id", "result": {"type": ...}}            a batch result line (only "succeeded" is billed)
    {"type": "message", "model", "usage"}              a Messages response (also wrapped: {"response": ...})
    {"input_tokens", "output_tokens", ...}             a bare usage object (needs `model`)
    {"data": [{"starting_at", "results": [...]}]}      a legacy usage_report/messages or cost_report page
    {"data": [{"starting_at", "usage"|"cost": ...}]}   a 2026 analytics usage or cost page

Files are streamed (memory stays near one line whatever the size); JSONL lines are decoded with orjson when
it is installed (measured ~2.7x faster than `json` on a results line), else with `json`. Every problem names
its file and line: malformed JSON (at any depth), a value of no known shape, a missing `usage` or `model`, a
count that is negative, fractional, a bool, a string or absurdly large. A record with such a problem is left
out of the costs and counted as unpriced; nothing is priced as $0 on a guess.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any, Protocol

from estimator.usage.errors import UsageFileError
from estimator.usage.records import CostReportRow, RecordKind, ResultType, Severity, UsageProblem, UsageRecord
from pricing.files import NotRegularFileError, open_regular_file

__all__ = [
    "MAX_DOCUMENT_BYTES",
    "MAX_REPORT_TOKENS",
    "MAX_REQUEST_TOKENS",
    "Progress",
    "UsageRead",
    "UsageSink",
    "add_value",
    "read_source",
    "read_usage",
]

MAX_REQUEST_TOKENS = 100_000_000
"""A hundred times the largest context window: a larger count in one request is corrupt, not usage."""
MAX_REPORT_TOKENS = 10**15
"""An Admin report row sums a day of an organization's usage; beyond this it is corrupt."""
MAX_DOCUMENT_BYTES = 256_000_000
"""A file that is one JSON document (a report page, a pretty-printed response) is read whole up to this size."""

_HEAD_BYTES = 1 << 16
_PROGRESS_EVERY_LINES = 1 << 16
_DATE_KEYS = ("created_at", "timestamp", "date", "time")
_WRAPPER_KEYS = ("response", "message")

Progress = Callable[[int, int], None]
"""on_progress(bytes_read, total_bytes) while a file is read."""


class UsageSink(Protocol):
    """Where the readers put what they find (`UsageAccumulator` prices it; `_Collector` keeps records)."""

    undated_records: int
    """Records that carried no date and took the default day."""

    def add(
        self,
        model: str,
        day: dt.date,
        service_tier: str | None,
        geo: str | None,
        speed: str | None,
        input_tokens: int,
        cache_write_5m_tokens: int,
        cache_write_1h_tokens: int,
        cache_write_unsplit_tokens: int,
        cache_read_tokens: int,
        output_tokens: int,
        thinking_tokens: int,
        web_search_requests: int,
        web_fetch_requests: int,
        requests: int,
        source: str,
        line: int,
        custom_id: str | None = None,
        report_bucket: str | None = None,
    ) -> None: ...

    def count_request(self, result_type: ResultType, requests: int = 1) -> None: ...

    def not_billed(
        self, result_type: ResultType, custom_id: str | None, source: str, line: int, detail: str | None = None
    ) -> None: ...

    def cost_row(self, row: CostReportRow) -> None: ...

    def problem(self, problem: UsageProblem, *, unpriced: bool = False) -> None: ...

    def warn_once(self, code: str, subject: str, message: str, source: str, line: int, records: int = 1) -> None: ...


class _BadField(Exception):  # noqa: N818 - private: never leaves the reader
    """A field that cannot be used; the reader turns it into a problem on the record's line."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _loads() -> Callable[[bytes], Any]:
    try:
        import orjson
    except ImportError:  # optional: the standard library does the same, ~2.7x slower on results lines
        return json.loads
    return orjson.loads


def _count(value: object, name: str, limit: int) -> int:
    # `__class__ is int` is the fast test (a bool is not one); it runs on every count of every record.
    if value.__class__ is int and 0 <= value <= limit:
        return value
    if value is None:
        return 0
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise _BadField("negative_count", f"{name} is negative ({value})")
        raise _BadField("count_too_large", f"{name} = {value:,} is beyond any real usage (limit {limit:,})")
    if isinstance(value, bool):
        raise _BadField("invalid_count", f"{name} must be a whole number of tokens, not {json.dumps(value)}")
    if isinstance(value, float | Decimal):
        raise _BadField("invalid_count", f"{name} must be a whole number, got {value}")
    raise _BadField("invalid_count", f"{name} must be a whole number, got {type(value).__name__} {_short(value)}")


def _short(value: object) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _text(value: object, name: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise _BadField("invalid_field", f"{name} must be a string, got {_short(value)}")


def _optional_text(value: object) -> bool:
    return value is None or value.__class__ is str


def _object(value: object, name: str) -> dict[str, Any] | None:
    if value is None or isinstance(value, dict):
        return value
    raise _BadField("invalid_field", f"{name} must be an object, got {_short(value)}")


_DAYS: dict[str, dt.date] = {}


def _day(value: object, name: str) -> dt.date | None:
    """A date from an RFC 3339 / ISO text (the calendar day written in it; Admin buckets are UTC) or Unix
    seconds (UTC)."""
    if value is None:
        return None
    if isinstance(value, str):
        found = _DAYS.get(value[:10])
        if found is not None:
            return found
        try:
            day = dt.date.fromisoformat(value[:10])
        except ValueError:
            raise _BadField("invalid_date", f"{name} {value!r} is not a date (YYYY-MM-DD...)") from None
        if len(_DAYS) < 10_000:
            _DAYS[value[:10]] = day
        return day
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        try:
            return dt.datetime.fromtimestamp(float(value), dt.UTC).date()
        except (OverflowError, OSError, ValueError):
            raise _BadField("invalid_date", f"{name} {value} is not a Unix time") from None
    raise _BadField("invalid_date", f"{name} must be a date, got {_short(value)}")


Counts = tuple[int, int, int, int, int, int, int, int, int]


def _usage_counts(usage: dict[str, Any], where: str, limit: int, input_key: str = "input_tokens") -> Counts:
    """input, 5m writes, 1h writes, unsplit writes, reads, output, thinking, web searches, web fetches."""
    get = usage.get
    # The common shapes, checked inline (a million records go through here); anything else, or anything
    # wrong, takes the checked path below, which names the field at fault.
    inp, out, read = get(input_key), get("output_tokens"), get("cache_read_input_tokens", 0)
    if (
        inp.__class__ is int
        and out.__class__ is int
        and read.__class__ is int
        and 0 <= inp <= limit
        and 0 <= out <= limit
        and 0 <= read <= limit
        and get("server_tool_use") is None
        and get("output_tokens_details") is None
    ):
        total, split = get("cache_creation_input_tokens"), get("cache_creation")
        if split is None:
            if total is None:
                return inp, 0, 0, 0, read, out, 0, 0, 0
            if total.__class__ is int and 0 <= total <= limit:
                return inp, 0, 0, total, read, out, 0, 0, 0
        elif split.__class__ is dict:
            w5, w1h = split.get("ephemeral_5m_input_tokens", 0), split.get("ephemeral_1h_input_tokens", 0)
            plain = w5.__class__ is int and w1h.__class__ is int and w5 >= 0 and w1h >= 0 and w5 + w1h <= limit
            if plain and (total is None or total == w5 + w1h):
                return inp, w5, w1h, 0, read, out, 0, 0, 0
    return _checked_usage_counts(usage, where, limit, input_key)


def _checked_usage_counts(usage: dict[str, Any], where: str, limit: int, input_key: str) -> Counts:
    get = usage.get
    if input_key not in usage or "output_tokens" not in usage:
        missing = input_key if input_key not in usage else "output_tokens"
        raise _BadField("missing_field", f"{where}.{missing} is missing")
    inp = _count(get(input_key), f"{where}.{input_key}", limit)
    out = _count(get("output_tokens"), f"{where}.output_tokens", limit)
    read = _count(get("cache_read_input_tokens"), f"{where}.cache_read_input_tokens", limit)
    total = get("cache_creation_input_tokens")
    split = _object(get("cache_creation"), f"{where}.cache_creation")
    w5 = w1h = 0
    if split is not None:
        w5 = _count(split.get("ephemeral_5m_input_tokens"), f"{where}.cache_creation.ephemeral_5m_input_tokens", limit)
        w1h = _count(split.get("ephemeral_1h_input_tokens"), f"{where}.cache_creation.ephemeral_1h_input_tokens", limit)
    unsplit = 0
    if total is not None:
        written = _count(total, f"{where}.cache_creation_input_tokens", limit)
        if split is None:
            unsplit = written
        elif written > w5 + w1h:
            unsplit = written - w5 - w1h  # the split leaves tokens out: those are priced as unsplit writes
        elif written < w5 + w1h:
            raise _BadField(
                "inconsistent_cache_creation",
                f"{where}.cache_creation splits {w5 + w1h:,} tokens but cache_creation_input_tokens is {written:,}",
            )
    tools = _object(get("server_tool_use"), f"{where}.server_tool_use")
    search = fetch = 0
    if tools is not None:
        search = _count(tools.get("web_search_requests"), f"{where}.server_tool_use.web_search_requests", limit)
        fetch = _count(tools.get("web_fetch_requests"), f"{where}.server_tool_use.web_fetch_requests", limit)
    details = _object(get("output_tokens_details"), f"{where}.output_tokens_details")
    thinking = 0
    if details is not None:
        thinking = _count(details.get("thinking_tokens"), f"{where}.output_tokens_details.thinking_tokens", limit)
        if thinking > out:
            raise _BadField(
                "inconsistent_thinking",
                f"{where}.output_tokens_details.thinking_tokens ({thinking:,}) exceeds output_tokens ({out:,}), "
                "which includes thinking",
            )
    return inp, w5, w1h, unsplit, read, out, thinking, search, fetch


class _Reader:
    """Reads the values of one source into a sink."""

    def __init__(self, sink: UsageSink, *, source: str, model: str | None, default_day: dt.date) -> None:
        self.sink = sink
        self.source = source
        self.model = model
        self.default_day = default_day

    def problem(self, line: int, code: str, message: str, custom_id: str | None = None, *, unpriced: bool) -> None:
        severity: Severity = "error" if unpriced else "warning"
        self.sink.problem(UsageProblem(self.source, line, severity, code, message, custom_id), unpriced=unpriced)

    def value(self, value: Any, line: int) -> None:
        if value.__class__ is not dict:
            kind = "an array" if isinstance(value, list) else type(value).__name__
            self.problem(line, "not_an_object", f"expected a JSON object, got {kind}", unpriced=True)
            return
        try:
            if "result" in value:
                self.batch_result(value, line)
            elif "usage" in value and ("model" in value or value.get("type") == "message"):
                self.message(value, line)
            elif "data" in value:
                self.report_page(value, line)
            else:
                self.other(value, line)
        except _BadField as bad:
            custom_id = value.get("custom_id")
            self.problem(line, bad.code, bad.message, custom_id if isinstance(custom_id, str) else None, unpriced=True)

    def other(self, value: dict[str, Any], line: int) -> None:
        for key in _WRAPPER_KEYS:
            inner = value.get(key)
            if isinstance(inner, dict) and "usage" in inner:
                day = self.day_of(value, line)
                self.message(inner, line, day=day)
                return
        if "usage" in value or ("input_tokens" in value and "output_tokens" in value):
            self.bare_usage(value, line)
        elif value.get("type") == "error":
            self.sink.not_billed("errored", None, self.source, line, _error_text(value))
        elif "params" in value and "custom_id" in value:
            raise _BadField(
                "batch_request_not_result",
                "this is a batch request line ({custom_id, params}), not a result: give the results file, or both "
                "to `reconcile`",
            )
        else:
            keys = ", ".join(sorted(value)[:8]) or "none"
            raise _BadField(
                "unknown_shape",
                f"not a batch result, Messages response, usage object or Admin report page (keys: {keys})",
            )

    def day_of(self, value: dict[str, Any], line: int) -> dt.date | None:
        for key in _DATE_KEYS:
            if key in value:
                return _day(value[key], key)
        return None

    # --- batch results and responses ----------------------------------------------------------------

    def batch_result(self, value: dict[str, Any], line: int) -> None:
        custom_id = value.get("custom_id")
        if custom_id is not None and custom_id.__class__ is not str:
            raise _BadField("invalid_field", f"custom_id must be a string, got {_short(custom_id)}")
        result = value["result"]
        if result.__class__ is not dict:
            raise _BadField("invalid_field", f"result must be an object, got {_short(result)}")
        kind = result.get("type")
        if kind == "succeeded":
            message = result.get("message")
            if message.__class__ is not dict:
                raise _BadField("missing_field", "a succeeded result needs result.message (the Messages response)")
            self.message(message, line, custom_id=custom_id, batch=True)
        elif kind in ("errored", "canceled", "expired"):
            detail = _error_text(result.get("error")) if kind == "errored" else None
            self.sink.not_billed(kind, custom_id, self.source, line, detail)
        else:
            raise _BadField(
                "unknown_result_type",
                f"result.type {_short(kind)} is not succeeded, errored, canceled or expired",
            )

    def message(
        self,
        message: dict[str, Any],
        line: int,
        *,
        custom_id: str | None = None,
        batch: bool = False,
        day: dt.date | None = None,
    ) -> None:
        self.sink.count_request("succeeded")
        usage = message.get("usage")
        if not isinstance(usage, dict):
            raise _BadField("missing_usage", "the response has no usage object, so it cannot be priced")
        model = message.get("model") or self.model
        if not isinstance(model, str):
            raise _BadField("missing_model", "the response names no model (pass --model)")
        if day is None:
            # A response from the API carries no date; a user's log entry may.
            day = self.day_of(message, line)
            if day is None:
                day = self.default_day
                self.sink.undated_records += 1
        tier = usage.get("service_tier")
        geo = usage.get("inference_geo")
        speed = usage.get("speed")
        if not (_optional_text(tier) and _optional_text(geo) and _optional_text(speed)):
            tier = _text(tier, "usage.service_tier")
            geo = _text(geo, "usage.inference_geo")
            speed = _text(speed, "usage.speed")
        if batch and tier != "batch":
            if tier is not None:
                self.sink.warn_once(
                    "batch_result_tier",
                    str(tier),
                    f"batch results carrying service_tier {tier!r} are billed at batch rates (every result in a "
                    "Message Batches results file is)",
                    self.source,
                    line,
                )
            tier = "batch"
        iterations = usage.get("iterations")
        if iterations:
            self.iterations(model, day, tier, geo, speed, usage, iterations, line, custom_id)
            return
        counts = _usage_counts(usage, "usage", MAX_REQUEST_TOKENS)
        self.sink.add(model, day, tier, geo, speed, *counts, 1, self.source, line, custom_id)

    def iterations(
        self,
        model: str,
        day: dt.date,
        tier: str | None,
        geo: str | None,
        speed: str | None,
        usage: dict[str, Any],
        iterations: object,
        line: int,
        custom_id: str | None,
    ) -> None:
        """Compaction, advisor and fallback calls: each iteration is priced with its own model (compaction
        iterations name none: the request's), and the top-level token figures are not added on top. The
        request counts once, on its first iteration, which also carries the server-tool counts."""
        if not isinstance(iterations, list):
            raise _BadField("invalid_field", f"usage.iterations must be a list, got {_short(iterations)}")
        top = _usage_counts(usage, "usage", MAX_REQUEST_TOKENS)
        parts = []
        for index, item in enumerate(iterations):
            where = f"usage.iterations[{index}]"
            if item.__class__ is not dict:
                raise _BadField("invalid_field", f"{where} must be an object, got {_short(item)}")
            own = _text(item.get("model"), f"{where}.model") or model
            parts.append((own, _usage_counts(item, where, MAX_REQUEST_TOKENS)))
        for index, (own, counts) in enumerate(parts):
            inp, w5, w1h, unsplit, read, out, _thinking, _search, _fetch = counts
            first = index == 0
            thinking, search, fetch = (top[6], top[7], top[8]) if first else (0, 0, 0)
            self.sink.add(
                own,
                day,
                tier,
                geo,
                speed,
                inp,
                w5,
                w1h,
                unsplit,
                read,
                out,
                thinking,
                search,
                fetch,
                1 if first else 0,
                self.source,
                line,
                custom_id,
            )

    def bare_usage(self, value: dict[str, Any], line: int) -> None:
        usage = value.get("usage", value)
        if not isinstance(usage, dict):
            raise _BadField("missing_usage", f"usage must be an object, got {_short(usage)}")
        if self.model is None:
            raise _BadField("missing_model", "a bare usage object names no model: pass --model (model=...)")
        self.message({"model": self.model, "usage": usage, **_dated(value)}, line)

    # --- Admin API report pages ---------------------------------------------------------------------

    def report_page(self, page: dict[str, Any], line: int) -> None:
        data = page["data"]
        if not isinstance(data, list):
            raise _BadField("invalid_field", f"data must be a list of buckets, got {_short(data)}")
        for index, bucket in enumerate(data):
            where = f"data[{index}]"
            try:
                self.bucket(bucket, where, line)
            except _BadField as bad:
                self.problem(line, bad.code, f"{where}: {bad.message}", unpriced=True)

    def bucket(self, bucket: object, where: str, line: int) -> None:
        if not isinstance(bucket, dict):
            raise _BadField("invalid_field", f"a bucket must be an object, got {_short(bucket)}")
        day = _day(bucket.get("starting_at"), "starting_at")
        if day is None:
            raise _BadField("missing_field", "the bucket has no starting_at")
        if "results" in bucket:
            results = bucket["results"]
            if not isinstance(results, list):
                raise _BadField("invalid_field", f"results must be a list, got {_short(results)}")
            for index, row in enumerate(results):
                try:
                    if not isinstance(row, dict):
                        raise _BadField("invalid_field", f"a result row must be an object, got {_short(row)}")
                    if "amount" in row:
                        self.cost_row(row, row, day, line)
                    else:
                        self.usage_row(row, row, day, line, "usage_report", None)
                except _BadField as bad:
                    self.problem(line, bad.code, f"{where}.results[{index}]: {bad.message}", unpriced=True)
        elif "usage" in bucket:
            group = _object(bucket.get("group"), "group") or {}
            usage = _object(bucket["usage"], "usage") or {}
            requests = _count(usage.get("requests"), "usage.requests", MAX_REPORT_TOKENS)
            self.usage_row(usage, group, day, line, "analytics_usage", requests)
        elif "cost" in bucket:
            group = _object(bucket.get("group"), "group") or {}
            cost = _object(bucket["cost"], "cost") or {}
            self.cost_row(cost, group, day, line)
        else:
            keys = ", ".join(sorted(bucket)[:8])
            raise _BadField("unknown_shape", f"a report bucket holds results, usage or cost; got keys {keys}")

    def usage_row(
        self,
        usage: dict[str, Any],
        dims: dict[str, Any],
        day: dt.date,
        line: int,
        kind: RecordKind,
        requests: int | None,
    ) -> None:
        counts = _usage_counts(usage, "usage", MAX_REPORT_TOKENS, input_key="uncached_input_tokens")
        self.sink.count_request("succeeded", requests or 0)
        model = _text(dims.get("model"), "model") or self.model
        if model is None:
            raise _BadField(
                "missing_model",
                "the report row names no model: fetch the report grouped by model (group_by[]=model)",
            )
        tier = _text(dims.get("service_tier"), "service_tier")
        if tier is None:
            self.sink.warn_once(
                "report_not_grouped_by_tier",
                "service_tier",
                "usage report rows not grouped by service_tier are priced at standard rates: batch usage in them "
                "is priced at twice its cost (fetch with group_by[]=service_tier)",
                self.source,
                line,
            )
        if requests is None:
            self.sink.warn_once(
                "report_without_requests",
                kind,
                "the legacy usage report gives no request counts: per-request figures leave its rows out",
                self.source,
                line,
            )
        bucket = _text(dims.get("context_window"), "context_window") or ""
        geo = _text(dims.get("inference_geo"), "inference_geo")
        speed = _text(dims.get("speed"), "speed")
        self.sink.add(
            model,
            day,
            tier,
            geo,
            speed,
            *counts,
            requests or 0,
            self.source,
            line,
            None,
            bucket,
        )

    def cost_row(self, cost: dict[str, Any], dims: dict[str, Any], day: dt.date, line: int) -> None:
        currency = cost.get("currency", "USD")
        if currency != "USD":
            raise _BadField("unknown_currency", f"currency {_short(currency)}: only USD is reported by Anthropic")
        self.sink.cost_row(
            CostReportRow(
                day=day,
                amount_cents=_cents(cost.get("amount"), "amount"),
                currency="USD",
                model=_text(dims.get("model"), "model"),
                cost_type=_text(dims.get("cost_type"), "cost_type"),
                token_type=_text(dims.get("token_type"), "token_type"),
                description=_text(dims.get("description"), "description"),
                service_tier=_text(dims.get("service_tier"), "service_tier"),
                context_window=_text(dims.get("context_window"), "context_window"),
                inference_geo=_text(dims.get("inference_geo"), "inference_geo"),
                list_amount_cents=_cents(cost["list_amount"], "list_amount") if "list_amount" in cost else None,
                source=self.source,
                line=line,
            )
        )


def _dated(value: dict[str, Any]) -> dict[str, Any]:
    return {key: value[key] for key in _DATE_KEYS if key in value}


def _cents(value: object, name: str) -> Decimal:
    """Cost amounts are cents as decimal strings ("123.45" = $1.2345): read exactly, never as floats."""
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise _BadField("invalid_amount", f"{name} {value!r} is not a decimal number of cents") from None
    elif isinstance(value, int | Decimal) and not isinstance(value, bool):
        number = Decimal(value)
    else:
        raise _BadField("invalid_amount", f"{name} must be the API's decimal string of cents, got {_short(value)}")
    if not number.is_finite():
        raise _BadField("invalid_amount", f"{name} {value!r} is not a finite amount")
    return number


def _error_text(error: object) -> str | None:
    """ "invalid_request_error: ..." from the SDK's nested ErrorResponse (or a flat {type, message})."""
    if not isinstance(error, dict):
        return None
    nested = error.get("error")
    inner: dict[str, Any] = nested if isinstance(nested, dict) else error
    kind, message = inner.get("type"), inner.get("message")
    return ": ".join(str(part) for part in (kind, message) if part) or None


# --- sources ------------------------------------------------------------------------------------------


def _open(source: str | os.PathLike[str] | IO[bytes]) -> tuple[IO[bytes], int | None, str, bool]:
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        try:
            stream, size_bytes = open_regular_file(path)  # never blocks on a FIFO (pricing.files)
        except NotRegularFileError as refused:
            raise UsageFileError(
                f"{path}: {refused.kind}, not a regular file; give a results, responses or report file"
            ) from None
        except OSError as error:
            raise UsageFileError(f"{path}: cannot read it ({error.strerror})") from None
        return stream, size_bytes, str(path), True
    size: int | None = None
    if source.seekable():
        position = source.tell()
        size = source.seek(0, io.SEEK_END) - position
        source.seek(position)
    return source, size, str(getattr(source, "name", "<upload>")), False


def read_source(
    source: str | os.PathLike[str] | IO[bytes],
    sink: UsageSink,
    *,
    model: str | None = None,
    default_day: dt.date,
    on_progress: Progress | None = None,
) -> None:
    """Read one file (a path, or a binary stream such as an upload) into `sink`."""
    stream, size, name, owned = _open(source)
    reader = _Reader(sink, source=name, model=model, default_day=default_day)
    try:
        head = stream.read(_HEAD_BYTES)
        stripped = head.lstrip()
        if not stripped:
            reader.problem(0, "empty_file", "the file holds no usage", unpriced=False)
            return
        if stripped.startswith(b"["):
            _read_array(reader, head, stream)
        else:
            _read_lines(reader, head, stream, size, on_progress)
    finally:
        if owned:
            stream.close()
    if on_progress is not None and size:
        on_progress(size, size)


def _read_lines(
    reader: _Reader, head: bytes, stream: IO[bytes], size: int | None, on_progress: Progress | None
) -> None:
    loads = _loads()
    handle = reader.value
    lines = io.BufferedReader(_Prepend(head, stream), buffer_size=1 << 20)
    for number, raw in enumerate(lines, start=1):
        try:
            value = loads(raw)
        except (ValueError, RecursionError) as error:
            if not raw.strip():
                continue
            if number == 1 and size is not None and size <= MAX_DOCUMENT_BYTES and raw.lstrip().startswith(b"{"):
                # Not JSONL after all? A pretty-printed document (a report page) starts with a partial line.
                rest = lines.read()
                if _read_document(reader, raw + rest):
                    return
                reader.problem(number, "invalid_json", _json_error(error), unpriced=True)
                for offset, other in enumerate(io.BytesIO(rest), start=number + 1):
                    _one_line(reader, other, offset, loads)
                return
            reader.problem(number, "invalid_json", _json_error(error), unpriced=True)
            continue
        handle(value, number)
        if on_progress is not None and number % _PROGRESS_EVERY_LINES == 0 and size:
            on_progress(min(stream.tell(), size), size)


def _one_line(reader: _Reader, raw: bytes, number: int, loads: Callable[[bytes], Any]) -> None:
    if not raw.strip():
        return
    try:
        value = loads(raw)
    except (ValueError, RecursionError) as error:
        reader.problem(number, "invalid_json", _json_error(error), unpriced=True)
        return
    reader.value(value, number)


def _read_document(reader: _Reader, data: bytes) -> bool:
    """The whole file as one JSON document, if it is one (numbers read as Decimal, amounts stay exact)."""
    try:
        value = json.loads(data, parse_float=Decimal)
    except (ValueError, RecursionError):
        return False
    reader.value(value, 1)
    return True


def _json_error(error: BaseException) -> str:
    if isinstance(error, RecursionError):
        return "not valid JSON: nested too deeply"
    if isinstance(error, json.JSONDecodeError):
        return f"not valid JSON: {error.msg} (column {error.colno})"
    if isinstance(error, UnicodeDecodeError):
        return "not valid UTF-8 text"
    return f"not valid JSON: {error}"


def _read_array(reader: _Reader, head: bytes, stream: IO[bytes]) -> None:
    """Elements of a top-level JSON array, decoded one by one so memory stays near one element."""
    decoder = json.JSONDecoder(parse_float=Decimal)
    buffer = head.decode("utf-8", errors="replace")
    position = buffer.index("[") + 1
    line = 1 + buffer.count("\n", 0, position)
    eof = False
    while True:
        while True:
            while position < len(buffer) and buffer[position] in " \t\r\n,":
                if buffer[position] == "\n":
                    line += 1
                position += 1
            if position < len(buffer) or eof:
                break
            more = stream.read(1 << 20)
            eof = not more
            buffer = buffer[position:] + more.decode("utf-8", errors="replace")
            position = 0
        if position >= len(buffer) or buffer[position] == "]":
            return
        try:
            value, end = decoder.raw_decode(buffer, position)
        except (json.JSONDecodeError, RecursionError) as error:
            if not eof:
                more = stream.read(1 << 20)
                eof = not more
                buffer = buffer[position:] + more.decode("utf-8", errors="replace")
                position = 0
                continue
            reader.problem(
                line, "invalid_json", _json_error(error) + "; the rest of the array is not read", unpriced=True
            )
            return
        reader.value(value, line)
        line += buffer.count("\n", position, end)
        position = end


class _Prepend(io.RawIOBase):
    """A stream that replays bytes already read before continuing with the source."""

    def __init__(self, head: bytes, tail: IO[bytes]) -> None:
        self._head = head
        self._tail = tail

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head:
            size = min(len(buffer), len(self._head))
            buffer[:size] = self._head[:size]
            self._head = self._head[size:]
            return size
        data = self._tail.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def add_value(
    sink: UsageSink, value: Any, *, source: str, line: int, model: str | None, default_day: dt.date | None = None
) -> None:
    """Read one decoded value (a dict from an SDK object, a fetched report page) into `sink`."""
    day = default_day or getattr(sink, "default_day", None) or dt.date.today()
    _Reader(sink, source=source, model=model, default_day=day).value(value, line)


# --- records for callers who want them --------------------------------------------------------------


@dataclass
class UsageRead:
    """What `read_usage` found: records (not-billed requests included, with their result type), cost report
    rows and problems. Memory grows with the records: for large files, price with `actual_costs`."""

    records: list[UsageRecord] = field(default_factory=list)
    cost_rows: list[CostReportRow] = field(default_factory=list)
    problems: list[UsageProblem] = field(default_factory=list)
    unpriced_records: int = 0
    requests_by_result: dict[str, int] = field(default_factory=dict)


class _Collector:
    """A sink that keeps every record as a `UsageRecord`."""

    def __init__(self, default_day: dt.date) -> None:
        self.default_day = default_day
        self.undated_records = 0
        self.read = UsageRead()
        self._warned: set[tuple[str, str]] = set()

    def add(
        self,
        model: str,
        day: dt.date,
        service_tier: str | None,
        geo: str | None,
        speed: str | None,
        input_tokens: int,
        cache_write_5m_tokens: int,
        cache_write_1h_tokens: int,
        cache_write_unsplit_tokens: int,
        cache_read_tokens: int,
        output_tokens: int,
        thinking_tokens: int,
        web_search_requests: int,
        web_fetch_requests: int,
        requests: int,
        source: str,
        line: int,
        custom_id: str | None = None,
        report_bucket: str | None = None,
    ) -> None:
        kind: RecordKind = "message" if report_bucket is None else "usage_report"
        self.read.records.append(
            UsageRecord(
                model,
                day,
                service_tier,
                geo,
                speed,
                input_tokens,
                cache_write_5m_tokens,
                cache_write_1h_tokens,
                cache_write_unsplit_tokens,
                cache_read_tokens,
                output_tokens,
                thinking_tokens,
                web_search_requests,
                web_fetch_requests,
                requests,
                "succeeded",
                custom_id,
                kind,
                report_bucket or None,
                source,
                line,
            )
        )

    def count_request(self, result_type: ResultType, requests: int = 1) -> None:
        counts = self.read.requests_by_result
        counts[result_type] = counts.get(result_type, 0) + requests

    def not_billed(
        self, result_type: ResultType, custom_id: str | None, source: str, line: int, detail: str | None = None
    ) -> None:
        self.count_request(result_type)
        self.read.records.append(
            UsageRecord(
                None,
                None,
                requests=1,
                result_type=result_type,
                custom_id=custom_id,
                kind="batch_result",
                source=source,
                line=line,
            )
        )

    def cost_row(self, row: CostReportRow) -> None:
        self.read.cost_rows.append(row)

    def problem(self, problem: UsageProblem, *, unpriced: bool = False) -> None:
        self.read.problems.append(problem)
        if unpriced:
            self.read.unpriced_records += problem.records

    def warn_once(self, code: str, subject: str, message: str, source: str, line: int, records: int = 1) -> None:
        if (code, subject) not in self._warned:
            self._warned.add((code, subject))
            self.read.problems.append(UsageProblem(source, line, "warning", code, message, None, records))


def read_usage(
    sources: Iterable[str | os.PathLike[str] | IO[bytes]],
    *,
    model: str | None = None,
    as_of: dt.date | None = None,
) -> UsageRead:
    """Every record of the sources as `UsageRecord`s (undated records take `as_of`, default today)."""
    collector = _Collector(as_of or dt.date.today())
    for source in sources:
        read_source(source, collector, model=model, default_day=collector.default_day)
    return collector.read


def iter_lines_problems(read: UsageRead) -> Iterator[str]:
    """The problems of a read as text lines (for logs and the CLI)."""
    for problem in read.problems:
        yield problem.text()
