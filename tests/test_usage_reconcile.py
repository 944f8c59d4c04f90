"""Reconcile a generated batch file with a generated results file: the estimate, its error and its coverage."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from estimator import Workload, analyze_batch_file, reconcile

MTOK = D(1_000_000)
BATCH = D("0.5")
DAY = dt.date(2026, 11, 25)
SONNET_4_6 = {"input": D("3"), "write_5m": D("3.75"), "read": D("0.30"), "output": D("15")}  # prices.yaml
SYSTEM = "You are a careful analyst who answers in plain words. " * 160
PREFIX_TOKENS = 1800  # what the "API" reports for the cached system prompt in this fixture


def _request(index: int) -> dict[str, Any]:
    return {
        "custom_id": f"req-{index}",
        "params": {
            "model": "claude-sonnet-4-6",
            "max_tokens": 400,
            "system": [{"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral"}}],
            "messages": [{"role": "user", "content": f"Summarise record {index}: " + "value " * (30 + index)}],
        },
    }


def _usage(index: int) -> tuple[int, int, int, int]:
    """(input, 5m writes, reads, output) the fake batch "returned" for request `index`."""
    first = index == 0
    return 50 + index, PREFIX_TOKENS if first else 0, 0 if first else PREFIX_TOKENS, 100 + 5 * index


def _result(index: int) -> dict[str, Any]:
    if index == 3:
        return {
            "custom_id": "req-3",
            "result": {
                "type": "errored",
                "error": {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
            },
        }
    if index == 4:
        return {"custom_id": "req-4", "result": {"type": "expired"}}
    inp, w5, read, out = _usage(index)
    usage = {
        "input_tokens": inp,
        "cache_creation_input_tokens": w5,
        "cache_read_input_tokens": read,
        "cache_creation": {"ephemeral_5m_input_tokens": w5, "ephemeral_1h_input_tokens": 0},
        "output_tokens": out,
        "service_tier": "batch",
    }
    message = {"type": "message", "model": "claude-sonnet-4-6", "usage": usage}
    return {"custom_id": f"req-{index}", "result": {"type": "succeeded", "message": message}}


def _actual(index: int) -> D:
    inp, w5, read, out = _usage(index)
    r = SONNET_4_6
    return (inp * r["input"] + w5 * r["write_5m"] + read * r["read"] + out * r["output"]) * BATCH / MTOK


COUNT = 24
SUCCEEDED = [i for i in range(COUNT) if i not in (3, 4)]


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    requests, results = tmp_path / "requests.jsonl", tmp_path / "results.jsonl"
    requests.write_text("".join(json.dumps(_request(i)) + "\n" for i in range(COUNT)))
    # Results come back in any order: reversed here.
    results.write_text("".join(json.dumps(_result(i)) + "\n" for i in reversed(range(COUNT))))
    return requests, results


def test_reconcile_reports_the_estimate_its_error_and_the_coverage(files: tuple[Path, Path]) -> None:
    requests, results = files
    result = reconcile(requests, results, hit_rate="0.8", output_ratio="0.5", as_of=DAY)

    assert result.by_result == {"succeeded": len(SUCCEEDED), "errored": 1, "canceled": 0, "expired": 1}
    assert result.matched == COUNT
    actual_total = sum((_actual(i) for i in SUCCEEDED), D(0))
    assert result.total.actual_usd == actual_total
    # The total estimate is the dry run of the succeeded requests only, in the mode the batch ran in.
    subset = io.BytesIO("".join(json.dumps(_request(i)) + "\n" for i in SUCCEEDED).encode())
    dry = analyze_batch_file(subset, hit_rate="0.8", output_ratio="0.5", as_of=DAY).total("batch_cached")
    assert result.total.mode == "batch_cached"
    assert (result.total.low_usd, result.total.expected_usd, result.total.high_usd) == (
        dry.low_usd,
        dry.expected_usd,
        dry.high_usd,
    )
    assert result.total.error_usd == actual_total - dry.expected_usd
    assert result.total.inside == (dry.low_usd <= actual_total <= dry.high_usd)

    by_id = {r.custom_id: r for r in result.per_request}
    assert set(by_id) == {f"req-{i}" for i in range(COUNT)}
    for index in SUCCEEDED:
        row = by_id[f"req-{index}"]
        assert row.actual_usd == _actual(index)
        assert row.error_usd == row.actual_usd - row.expected_usd
        assert row.low_usd is not None and row.high_usd is not None and row.expected_usd is not None
        assert row.low_usd <= row.expected_usd <= row.high_usd
        assert row.actual_output_tokens == _usage(index)[3]
    assert by_id["req-3"].result_type == "errored" and by_id["req-3"].actual_usd is None
    inside = [by_id[f"req-{i}"].inside for i in SUCCEEDED]
    assert result.coverage == D(sum(bool(x) for x in inside)) / len(SUCCEEDED)

    out = sum(_usage(i)[3] for i in SUCCEEDED)
    assert result.observed_output_ratio == (D(out) / (400 * len(SUCCEEDED))).quantize(D("0.0001"))
    # Reads over the repeated prefixes: the first request writes, the others all read.
    assert result.suggested_hit_rate == D(1)
    assert result.observed_hit_rate == D(PREFIX_TOKENS * (len(SUCCEEDED) - 1)) / (PREFIX_TOKENS * len(SUCCEEDED))
    assert result.dry_run_parameters() == {"hit_rate": D(1), "output_ratio": result.observed_output_ratio}


def test_reconcile_calibrates_a_plan_from_the_results(files: tuple[Path, Path]) -> None:
    result = reconcile(*files, as_of=DAY, per_request=False)
    plan = result.calibrated_workload()
    assert isinstance(plan, Workload)
    n = len(SUCCEEDED)
    assert plan.model == "claude-sonnet-4-6" and plan.requests == n and plan.period == "run"
    assert plan.prefix_tokens == PREFIX_TOKENS
    assert plan.output_tokens == round(D(sum(_usage(i)[3] for i in SUCCEEDED)) / n)
    assert plan.cache_hit_rate == (D(n - 1) / n).quantize(D("0.0001"))
    assert result.per_request and all(r.expected_usd is None for r in result.per_request)


def test_results_without_a_request_and_requests_without_a_result_are_named(tmp_path: Path) -> None:
    requests, results = tmp_path / "requests.jsonl", tmp_path / "results.jsonl"
    requests.write_text(json.dumps(_request(0)) + "\n" + json.dumps(_request(1)) + "\n")
    results.write_text(json.dumps(_result(0)) + "\n" + json.dumps({**_result(2), "custom_id": "stray"}) + "\n")
    result = reconcile(requests, results, as_of=DAY)
    codes = {(p.code, p.custom_id, p.line) for p in result.problems}
    assert ("missing_result", "req-1", 2) in codes
    assert ("result_without_request", "stray", 2) in codes
