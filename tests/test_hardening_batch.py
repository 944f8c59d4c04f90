"""Issue 9 on batch files: every shape that is not exactly JSONL, one JSON array or one request is reported with
its line; hostile lines (deep nesting, huge integers, endless lines) are problems on their line, never a
traceback; validation stays linear with a capped list; special files are refused."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from estimator.batches import dry_run as dry_run_module
from estimator.batches.dry_run import analyze_batch_file
from estimator.batches.reader import RawItem, iter_items
from estimator.batches.validation import MAX_LISTED_PER_CODE, LineValidator
from estimator.errors import BatchFileError
from pricing import PriceTable
from tests.fake_anthropic import FakeAnthropic, serve_fake_anthropic

DAY = dt.date(2026, 11, 25)


def request(custom_id: str, model: str = "claude-sonnet-4-6", **extra: object) -> dict[str, object]:
    params = {"model": model, "max_tokens": 100, "messages": [{"role": "user", "content": "Hello"}], **extra}
    return {"custom_id": custom_id, "params": params}


def line(custom_id: str, model: str = "claude-sonnet-4-6", **extra: object) -> str:
    return json.dumps(request(custom_id, model, **extra))


def problems(text: str | bytes) -> list[tuple[int, str]]:
    data = text.encode() if isinstance(text, str) else text
    result = analyze_batch_file(io.BytesIO(data), as_of=DAY)
    return [(p.line, p.code) for p in result.problems]


def items(data: bytes, *, max_line_bytes: int) -> list[RawItem]:
    return list(iter_items(io.BytesIO(data), lambda _: None, max_line_bytes=max_line_bytes))


# --- §3: shapes that are not one array, one request or JSONL ----------------------------------------------

GOOD_A, GOOD_B = line("a"), line("b")

SHAPES = [
    ("array", f"[{GOOD_A},\n{GOOD_B}]\n", []),
    ("array then more lines", f"[{GOOD_A}]\n{GOOD_B}\ngarbage\n", [(2, "trailing_content"), (3, "invalid_json")]),
    ("array then garbage on its line", f"[{GOOD_A}] trailing", [(1, "trailing_content"), (1, "invalid_json")]),
    ("truncated array", f"[{GOOD_A},\n{GOOD_B}", [(2, "array_not_closed")]),
    ("array cut inside an element", f"[{GOOD_A},\n{GOOD_B[:40]}", [(2, "array_not_closed")]),
    ("a lone [", "[", [(1, "array_not_closed")]),
    ("an empty array", "[]", [(1, "empty_batch")]),
    ("trailing comma", f"[{GOOD_A},]", [(1, "array_malformed")]),
    ("missing comma", f"[{GOOD_A}\n{GOOD_B}]", [(2, "array_malformed")]),
    ("double comma", f"[{GOOD_A},,{GOOD_B}]", [(1, "invalid_json")]),
    (
        "[1,2] hiding the lines after it",
        f"[1,2]\n{GOOD_A}\n{{bad\n{line('a')}\n",
        [
            (1, "not_an_object"),
            (1, "not_an_object"),
            (2, "trailing_content"),
            (3, "invalid_json"),
            (4, "custom_id_duplicate"),
        ],
    ),
    ("pretty-printed request", json.dumps(request("a"), indent=2), []),
    (
        "two pretty-printed requests",
        json.dumps(request("a"), indent=2) + "\n" + json.dumps(request("b"), indent=2),
        [(14, "trailing_content")],  # where the second one starts
    ),
    ("an empty file", "", [(1, "empty_batch")]),
    ("blank lines only", "\n \n\t\n", [(1, "empty_batch")]),
    ("byte-order mark", "\ufeff" + GOOD_A + "\n", []),
]


@pytest.mark.parametrize(("text", "expected"), [s[1:] for s in SHAPES], ids=[s[0] for s in SHAPES])
def test_every_shape_is_reported_with_its_line(text: str, expected: list[tuple[int, str]]) -> None:
    assert problems(text) == expected


def test_the_array_after_its_problems_is_not_silently_priced() -> None:
    result = analyze_batch_file(io.BytesIO(f"[{GOOD_A}]\n{GOOD_B}\n".encode()), as_of=DAY)
    assert result.errors and result.requests == 2  # both requests read, and the file reported as broken


# --- §1: hostile lines ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested_too_deeply"),
        (json.dumps(request("a")).replace('"Hello"', "[" * 100_000 + "]" * 100_000), "nested_too_deeply"),
        ("[" + "[" * 100_000 + "]" * 100_000 + "]", "nested_too_deeply"),  # an array element
        (json.dumps(request("a")).replace('"max_tokens": 100', '"max_tokens": ' + "9" * 5001), "invalid_json"),
        ("[" + json.dumps(request("a")).replace('"max_tokens": 100', '"max_tokens": ' + "9" * 5001) + "]",
         "invalid_json"),
        (json.dumps(request("a")).replace('"max_tokens": 100', '"max_tokens": ' + "9" * 4000), "max_tokens_too_large"),
    ],
    ids=["line 100k deep", "content 100k deep", "element 100k deep", "5001 digits", "5001 digits in an array",
         "4000 digits"],
)  # fmt: skip
def test_hostile_values_are_problems_on_their_line(text: str, code: str) -> None:
    result = analyze_batch_file(io.BytesIO((text + "\n" + line("b") + "\n").encode()), as_of=DAY)
    first = result.problems[0]
    assert (first.line, first.code) == (1, code)
    assert len(first.message) < 300  # a 4,000-digit value is not quoted in full
    if not text.startswith("["):
        assert result.requests == 1  # the next line is still read


def test_a_line_over_the_limit_is_reported_and_skipped_without_being_kept() -> None:
    data = b'{"custom_id": "' + b"x" * 5_000 + b'"}\n' + GOOD_A.encode() + b"\n"
    found = items(data, max_line_bytes=1_000)
    assert [(i.line, i.code if i.error else "ok") for i in found] == [(1, "line_too_large"), (2, "ok")]
    endless = items(b"\0" * 3_000_000, max_line_bytes=1_000)  # /dev/zero: no newline at all
    assert [(i.line, i.code) for i in endless] == [(1, "line_too_large")]
    assert endless[0].size_bytes == 3_000_000


def test_invalid_utf8_is_reported() -> None:
    assert problems(b'{"custom_id": "\xff"}\n' + GOOD_A.encode()) == [(1, "invalid_json")]
    assert problems(b'["\xff"]') == [(1, "invalid_json")]


# --- §2: linear validation, capped lists ---------------------------------------------------------------------


def test_validation_is_linear_and_the_list_is_capped(table: PriceTable) -> None:
    lines = 30_000  # the quadratic version took ~35 s for this; the linear one well under a second
    raw = [RawItem(n, request(f"r{n}", model="claude-sonet-4-6"), None, 100) for n in range(1, lines + 1)]
    validator = LineValidator(table, DAY)
    started = time.monotonic()
    for item in raw:
        validator.check(item)
    found = validator.finish()
    assert time.monotonic() - started < 5
    assert validator.invalid_lines == lines
    assert len(found) == MAX_LISTED_PER_CODE + 1
    summary = found[-1]
    assert (summary.line, summary.code, summary.count) == (MAX_LISTED_PER_CODE + 1, "model_unknown", lines - 1000)
    assert f"{lines - 1000:,} more lines with model_unknown" in summary.message
    assert found[1].message == "unknown model 'claude-sonet-4-6' (see line 1)"


def test_a_file_full_of_errors_runs_about_as_fast_as_a_valid_one(tmp_path: Path) -> None:
    bad, good = tmp_path / "bad.jsonl", tmp_path / "good.jsonl"
    bad.write_text("".join(line(f"r{n}", model="claude-sonet-4-6") + "\n" for n in range(20_000)))
    good.write_text("".join(line(f"r{n}") + "\n" for n in range(20_000)))
    analyze_batch_file(good, as_of=DAY)  # warm: the tokenizer loads once
    started = time.monotonic()
    result = analyze_batch_file(bad, as_of=DAY)
    bad_s = time.monotonic() - started
    started = time.monotonic()
    analyze_batch_file(good, as_of=DAY)
    good_s = time.monotonic() - started
    assert result.invalid_lines == 20_000 and sum(p.count for p in result.errors) == 20_000
    assert bad_s < 2 * good_s + 1


# --- §4: special files and sizes ------------------------------------------------------------------------------


def test_special_files_are_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for path, kind in ((fifo, "a FIFO"), (Path("/dev/zero"), "a device"), (tmp_path, "a directory")):
        with pytest.raises(BatchFileError, match=f"not a regular file \\({kind}\\)"):
            analyze_batch_file(path, as_of=DAY)


class _Unsized(io.RawIOBase):
    """A stream that does not say its size (an upload being received, a pipe)."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        return self._data.readinto(buffer)


def test_the_size_limit_counts_bytes_read_not_the_size_announced(monkeypatch: pytest.MonkeyPatch) -> None:
    data = "".join(line(f"r{n}") + "\n" for n in range(200)).encode()
    monkeypatch.setattr(dry_run_module, "MAX_FILE_BYTES", len(data) - 1)
    with pytest.raises(BatchFileError, match="over the dry run's limit"):
        analyze_batch_file(io.BufferedReader(_Unsized(data)), as_of=DAY)


def test_counting_every_request_needs_a_file_it_can_read_twice() -> None:
    with pytest.raises(BatchFileError, match="reads the file twice"):
        analyze_batch_file(io.BufferedReader(_Unsized(GOOD_A.encode())), as_of=DAY, exact="all", api_key="x")


@pytest.mark.parametrize("size", [0, -1, True, 100_001])
def test_sample_size_is_bounded(size: int) -> None:
    with pytest.raises(BatchFileError, match="sample_size"):
        analyze_batch_file(io.BytesIO(GOOD_A.encode()), as_of=DAY, exact="sample", sample_size=size)


# --- §5: which counts fell back, through the real client ------------------------------------------------------

KEY = "sk-ant-test-hardening-0123456789"


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    with serve_fake_anthropic(KEY) as server:
        yield server


def _file(tmp_path: Path, count: int) -> Path:
    path = tmp_path / "requests.jsonl"
    path.write_text("".join(line(f"r{n}", messages=[{"role": "user", "content": f"Request {n} " * 20}]) + "\n"
                            for n in range(count)))  # fmt: skip
    return path


def test_exact_counts_that_fail_are_named_by_line(tmp_path: Path, fake: FakeAnthropic) -> None:
    fake.garble(times=2)  # the first two answers are not counts
    result = analyze_batch_file(_file(tmp_path, 6), as_of=DAY, exact="all", api_key=KEY, base_url=fake.url)
    (model,) = result.models
    assert model.count_source == "estimated"
    (note,) = [n for n in result.notes if "exact counts for" in n]
    assert note.startswith("claude-sonnet-4-6: exact counts for 4 of 6 requests; lines ")
    assert "estimated offline (unexpected response from the API (no input_tokens in it))" in note


def test_the_deadline_bounds_a_dry_run_with_exact_counts(tmp_path: Path, fake: FakeAnthropic) -> None:
    fake.hang()
    started = time.monotonic()
    result = analyze_batch_file(
        _file(tmp_path, 8), as_of=DAY, exact="all", api_key=KEY, base_url=fake.url, deadline_s=0.5
    )
    assert time.monotonic() - started < 5
    (note,) = [n for n in result.notes if "exact counts for" in n]
    assert "exact counts for 0 of 8 requests; lines 1, 2, 3, 4, 5 and 3 more estimated offline" in note
    assert "deadline" in note
    assert result.models[0].input_tokens_expected > 0  # the offline figures stand


def test_sampling_says_how_many_sampled_requests_fell_back(tmp_path: Path, fake: FakeAnthropic) -> None:
    fake.fail(400, times=2, message="messages: scripted")
    result = analyze_batch_file(
        _file(tmp_path, 30), as_of=DAY, exact="sample", sample_size=20, api_key=KEY, base_url=fake.url
    )
    assert result.models[0].count_source == "sampled"
    (note,) = [n for n in result.notes if "sampled requests could not be counted" in n]
    assert note.startswith("claude-sonnet-4-6: 2 of 20 sampled requests could not be counted (rejected by the API")
    assert note.endswith("the ratio uses the other 18")


def test_count_api_falls_back_on_a_garbled_answer(fake: FakeAnthropic, monkeypatch: pytest.MonkeyPatch) -> None:
    from estimator.cli import main

    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.url)
    fake.garble()
    out, err = io.StringIO(), io.StringIO()
    code = main(["count", "--model", "claude-opus-5", "--text", "Hello", "--api", "--format", "json"], stdout=out,
                stderr=err)  # fmt: skip
    payload = json.loads(out.getvalue())
    assert code == 0 and payload["source"] == "estimated"
    assert "exact count failed (unexpected response from the API (no input_tokens in it))" in payload["notes"][-1]
    assert KEY not in out.getvalue() + err.getvalue()
