"""`python -m estimator dry-run` and `count`, as a CI pipeline runs them."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from estimator.cli import main
from tests.conftest import FIXTURES


def run(*argv: str, stdin: str | None = None, monkeypatch: pytest.MonkeyPatch | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    if stdin is not None and monkeypatch is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_valid_file_exits_0_with_costs_per_model() -> None:
    code, out, _ = run("dry-run", str(FIXTURES / "mixed_models.jsonl"), "--as-of", "2026-11-25")
    assert code == 0
    for model in ("claude-sonnet-4-6", "claude-haiku-5-5", "claude-opus-5-5", "claude-haiku-4-5-20251001"):
        assert model in out
    assert "Cost (low / expected / high)" in out and "total" in out


def test_file_with_errors_exits_1_and_lists_line_numbers() -> None:
    code, out, _ = run("dry-run", str(FIXTURES / "invalid.jsonl"), "--as-of", "2026-11-25")
    assert code == 1
    assert "line 2 [error] invalid_json" in out and "line 12 (streams) [error] stream_not_allowed" in out


def test_an_empty_file_exits_1_with_counts_in_words(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    code, out, _ = run("dry-run", str(empty), "--as-of", "2026-11-25")
    assert code == 1
    assert f"Dry run of {empty}: 0 lines, 0 valid requests, 0 invalid lines," in out
    assert "Problems: 1 error, 0 warnings" in out and "empty_batch" in out


def test_json_output_lists_every_problem_and_exact_decimals() -> None:
    code, out, _ = run("dry-run", str(FIXTURES / "invalid.jsonl"), "--format", "json", "--as-of", "2026-11-25")
    payload = json.loads(out)
    assert code == 1 and payload["requests"] == 3 and len(payload["problems"]) == 20
    total = payload["totals"]["realtime"]
    assert float(total["low_usd"]) <= float(total["expected_usd"]) <= float(total["high_usd"])
    assert payload["models"][0]["count_source"] == "estimated"


def test_hit_rate_and_output_options() -> None:
    args = ["dry-run", str(FIXTURES / "shared_prefix.jsonl"), "--format", "json", "--as-of", "2026-11-25"]
    _, full, _ = run(*args, "--hit-rate", "1", "--output-tokens", "10")
    _, none, _ = run(*args, "--hit-rate", "0", "--output-tokens", "10")
    full_cost = json.loads(full)["totals"]["realtime_cached"]["expected_usd"]
    none_cost = json.loads(none)["totals"]["realtime_cached"]["expected_usd"]
    assert float(full_cost) < float(none_cost)
    assert json.loads(full)["models"][0]["output_tokens"]["expected"] == 60


def test_unreadable_file_exits_2(tmp_path: Path) -> None:
    code, out, err = run("dry-run", str(tmp_path / "missing.jsonl"))
    assert code == 2 and out == "" and "cannot read the batch file" in err


def test_api_without_a_key_is_a_clear_error() -> None:
    code, _, err = run("dry-run", str(FIXTURES / "valid.jsonl"), "--api", "--sample", "0")
    assert code == 2 and "ANTHROPIC_API_KEY" in err


def test_progress_bar_goes_to_stderr_only() -> None:
    code, out, err = run("dry-run", str(FIXTURES / "valid.jsonl"), "--progress", "--format", "json")
    assert code == 0 and "reading" in err and "100.0%" in err
    json.loads(out)


def test_count_plain_text_needs_a_model(monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = run("count", stdin="hello world", monkeypatch=monkeypatch)
    assert code == 2 and "--model is required" in err
    code, out, _ = run("count", "--model", "claude-opus-5", stdin="hello world", monkeypatch=monkeypatch)
    assert code == 0 and out.startswith("~") and "estimated offline" in out


def test_count_a_request_file_as_json() -> None:
    code, out, _ = run("count", str(FIXTURES / "single_request.json"), "--format", "json")
    payload = json.loads(out)
    assert code == 0 and payload["source"] == "estimated"
    assert payload["tokens"]["low"] <= payload["tokens"]["expected"] < payload["tokens"]["high"]


def test_module_entry_point_dry_run() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "estimator", "dry-run", str(FIXTURES / "valid.jsonl"), "--format", "json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert completed.returncode == 0 and json.loads(completed.stdout)["requests"] == 3
