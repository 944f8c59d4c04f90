"""Reading usage: shapes detected per record, streaming, and one line-numbered problem per bad input."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from estimator import actual_costs
from estimator.usage.errors import UsageFileError
from estimator.usage.readers import read_usage

DAY = dt.date(2026, 11, 25)
GOOD = {"type": "message", "model": "claude-sonnet-4-6", "usage": {"input_tokens": 10, "output_tokens": 5}}


def _message(**usage: Any) -> dict[str, Any]:
    return {"type": "message", "model": "claude-sonnet-4-6", "usage": {"input_tokens": 10, "output_tokens": 5, **usage}}


# (bad line, problem code, words the message must contain)
BAD_LINES: list[tuple[str, str, str]] = [
    ('{"type": "message", "model": ', "invalid_json", "not valid JSON"),
    ("[1, 2]", "not_an_object", "array"),
    ('"just text"', "not_an_object", "str"),
    ('{"hello": "world"}', "unknown_shape", "hello"),
    ('{"type": "message", "model": "claude-sonnet-4-6"}', "unknown_shape", "not a batch result"),
    (json.dumps({"type": "message", "model": "claude-sonnet-4-6", "usage": None}), "missing_usage", "no usage"),
    (json.dumps({"type": "message", "usage": {"input_tokens": 1, "output_tokens": 1}}), "missing_model", "--model"),
    (json.dumps(_message(input_tokens=-5)), "negative_count", "usage.input_tokens"),
    (json.dumps(_message(output_tokens=1.5)), "invalid_count", "usage.output_tokens"),
    (json.dumps(_message(cache_read_input_tokens="12")), "invalid_count", "cache_read_input_tokens"),
    (json.dumps(_message(input_tokens=True)), "invalid_count", "not true"),
    (json.dumps(_message(output_tokens=10**12)), "count_too_large", "beyond any real usage"),
    (
        '{"type": "message", "model": "claude-sonnet-4-6", "usage": {"input_tokens": NaN, "output_tokens": 1}}',
        "invalid_json",
        "not valid JSON",
    ),
    (
        json.dumps(_message(cache_creation={"ephemeral_5m_input_tokens": 9}, cache_creation_input_tokens=4)),
        "inconsistent_cache_creation",
        "splits 9",
    ),
    (json.dumps(_message(output_tokens_details={"thinking_tokens": 50})), "inconsistent_thinking", "exceeds"),
    (json.dumps(_message(service_tier={"x": 1})), "invalid_field", "usage.service_tier"),
    (json.dumps({**GOOD, "model": "claude-sonnet-9"}), "unknown_model", "Did you mean"),
    (
        json.dumps({**GOOD, "model": "claude-haiku-5-5", "created_at": "2026-01-01T10:00:00Z"}),
        "before_release",
        "no price before",
    ),
    (json.dumps(_message(service_tier="priority")), "priority_tier", "no price"),
    (json.dumps(_message(service_tier="flex")), "unknown_service_tier", "flex"),
    (
        json.dumps({**_message(inference_geo="us"), "model": "claude-sonnet-4-5"}),
        "inference_geo_unavailable",
        "Claude 4.6 and later",
    ),
    (json.dumps(_message(inference_geo="eu")), "unknown_inference_geo", "'eu'"),
    (json.dumps(_message(speed="fast")), "not_priced", "fast mode"),
    (json.dumps({"custom_id": "a", "result": {"type": "succeeded"}}), "missing_field", "result.message"),
    (json.dumps({"custom_id": "a", "result": {"type": "done"}}), "unknown_result_type", "'done'"),
    (json.dumps({"custom_id": "a", "params": {"model": "x"}}), "batch_request_not_result", "reconcile"),
    (json.dumps({"input_tokens": 3, "output_tokens": 4}), "missing_model", "--model"),
    (json.dumps({**GOOD, "timestamp": "yesterday"}), "invalid_date", "timestamp"),
    (
        json.dumps(
            {
                "custom_id": "a",
                "result": {
                    "type": "succeeded",
                    "message": {**GOOD, "model": "claude-3-haiku-20240307", "created_at": "2024-05-01T09:00:00Z"},
                },
            }
        ),
        "not_priced",
        "Message Batches API did not exist yet",
    ),
    (
        json.dumps(
            {**_message(cache_read_input_tokens=100), "model": "claude-3-haiku-20240307", "created_at": "2024-06-01"}
        ),
        "not_priced",
        "Prompt caching did not exist yet",
    ),
]


@pytest.mark.parametrize(
    ("bad", "code", "words"), BAD_LINES, ids=[case[1] + f"-{i}" for i, case in enumerate(BAD_LINES)]
)
def test_each_bad_line_is_one_problem_naming_its_line(bad: str, code: str, words: str) -> None:
    text = "\n".join([json.dumps(GOOD), bad, json.dumps(GOOD)]) + "\n"
    result = actual_costs(io.BytesIO(text.encode()), as_of=DAY)
    errors = result.errors
    assert len(errors) == 1, [p.text() for p in result.problems]
    problem = errors[0]
    assert (problem.line, problem.code) == (2, code), problem.text()
    assert words in problem.message
    assert result.unpriced_records == 1
    assert not result.fully_priced
    assert result.priced_records == 2  # the good lines around it are priced


def test_unknown_models_on_many_lines_make_one_problem_with_a_count() -> None:
    line = json.dumps({**GOOD, "model": "claude-nope"})
    result = actual_costs(io.BytesIO(("\n".join([line] * 25)).encode()), as_of=DAY)
    (problem,) = result.errors
    assert problem.records == 25 and problem.line == 1
    assert "also lines 2, 3" in problem.message


def test_blank_lines_and_a_bom_free_mix_of_shapes() -> None:
    result_line = {"custom_id": "a", "result": {"type": "succeeded", "message": GOOD}}
    page = {
        "data": [
            {
                "starting_at": "2026-11-20T00:00:00Z",
                "results": [
                    {
                        "uncached_input_tokens": 1,
                        "output_tokens": 1,
                        "model": "claude-sonnet-4-6",
                        "service_tier": "standard",
                    }
                ],
            }
        ]
    }
    text = "\n\n".join(json.dumps(v) for v in (GOOD, result_line, page, {"response": GOOD, "timestamp": 1_795_000_000}))
    result = actual_costs(io.BytesIO(text.encode()), as_of=DAY)
    assert result.priced_records == 4
    assert result.requests["succeeded"] == 3  # the legacy usage report gives no request count
    assert {day.day for day in result.days} == {DAY, dt.date(2026, 11, 20), dt.date(2026, 11, 18)}


def test_records_keep_their_line_and_custom_id() -> None:
    lines = [
        {"custom_id": "x1", "result": {"type": "succeeded", "message": GOOD}},
        {"custom_id": "x2", "result": {"type": "expired"}},
    ]
    read = read_usage([io.BytesIO("\n".join(json.dumps(v) for v in lines).encode())], as_of=DAY)
    assert [(r.custom_id, r.result_type, r.line) for r in read.records] == [
        ("x1", "succeeded", 1),
        ("x2", "expired", 2),
    ]
    assert read.records[0].service_tier == "batch"


def test_unreadable_sources_raise_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(UsageFileError, match="cannot read it"):
        actual_costs(tmp_path / "missing.jsonl")
    with pytest.raises(UsageFileError, match="a directory"):
        actual_costs(tmp_path)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(UsageFileError, match="FIFO"):
        actual_costs(fifo)


def test_an_empty_file_is_a_warning_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_text("\n\n")
    result = actual_costs(path)
    assert result.total_usd == 0 and result.fully_priced
    assert [p.code for p in result.problems] == ["empty_file"]


def test_deeply_nested_json_is_a_line_problem() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    result = actual_costs(io.BytesIO((json.dumps(GOOD) + "\n" + deep + "\n").encode()), as_of=DAY)
    (problem,) = result.errors
    assert problem.line == 2 and problem.code == "invalid_json"


def test_memory_stays_bounded_whatever_the_number_of_lines(tmp_path: Path) -> None:
    def peak(lines: int) -> int:
        path = tmp_path / f"r{lines}.jsonl"
        line = json.dumps({"custom_id": "a", "result": {"type": "succeeded", "message": GOOD}}) + "\n"
        path.write_text(line * lines)
        tracemalloc.start()
        actual_costs(path, as_of=DAY)
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    small, large = peak(2_000), peak(40_000)
    assert large < small * 1.5 + 200_000, (small, large)


def test_a_count_beyond_64_bits_is_refused_with_its_field() -> None:
    text = json.dumps(_message(input_tokens=10**30))  # orjson reads it as a float, json as an int: refused either way
    result = actual_costs(io.BytesIO(text.encode()), as_of=DAY)
    (problem,) = result.errors
    assert problem.code in ("invalid_count", "count_too_large") and "usage.input_tokens" in problem.message
