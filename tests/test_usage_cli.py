"""`actual` and `reconcile` as CI runs them: JSON shape, CSV, exit codes, one-line errors."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from estimator.cli import main

MTOK = D(1_000_000)


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def _line(custom_id: str, result: dict[str, Any]) -> str:
    return json.dumps({"custom_id": custom_id, "result": result}) + "\n"


def _succeeded(model: str, inp: int, out: int, **usage: Any) -> dict[str, Any]:
    body = {"input_tokens": inp, "output_tokens": out, "service_tier": "batch", **usage}
    return {"type": "succeeded", "message": {"type": "message", "model": model, "usage": body}}


@pytest.fixture
def results(tmp_path: Path) -> Path:
    path = tmp_path / "results.jsonl"
    path.write_text(
        _line("a", _succeeded("claude-sonnet-4-6", 1000, 100))
        + _line("b", _succeeded("claude-haiku-4-5", 2000, 50, cache_read_input_tokens=500))
        + _line("c", {"type": "errored", "error": {"type": "error", "error": {"type": "api_error", "message": "x"}}})
        + _line("d", {"type": "expired"})
    )
    return path


def test_json_carries_the_total_the_requests_and_the_breakdowns(results: Path) -> None:
    code, out, _ = run("actual", str(results), "--as-of", "2026-11-25", "--format", "json")
    assert code == 0
    payload = json.loads(out)
    sonnet = (1000 * D(3) + 100 * D(15)) / MTOK / 2  # batch: half of prices.yaml's 3 / 15
    haiku = (2000 * D(1) + 500 * D("0.10") + 50 * D(5)) / MTOK / 2  # 1 / 0.10 / 5
    assert D(payload["total_usd"]) == sonnet + haiku
    assert payload["requests"] == {"succeeded": 2, "errored": 1, "canceled": 0, "expired": 1}
    assert {m["model"]: D(m["total_usd"]) for m in payload["models"]} == {
        "claude-sonnet-4-6": sonnet,
        "claude-haiku-4-5-20251001": haiku,
    }
    assert set(payload["categories"]) == {
        "uncached_input",
        "cache_write_5m",
        "cache_write_1h",
        "cache_read",
        "output",
        "web_search",
        "thinking",
        "code_execution",
    }
    assert D(payload["categories"]["cache_read"]["usd"]) == 500 * D("0.10") / MTOK / 2
    assert payload["what_if"]["modes"]["batch_cached"]["billed"] is True
    assert payload["calibrated_plan"]["model"] == "claude-sonnet-4-6"


def test_table_and_csv(results: Path) -> None:
    code, out, _ = run("actual", str(results), "--as-of", "2026-11-25", "--what-if-model", "claude-opus-5-5")
    assert code == 0
    assert "Actual cost:" in out and "on claude-opus-5-5" in out and "1 errored" in out
    code, out, _ = run("actual", str(results), "--as-of", "2026-11-25", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows[-1]["date"] == "total"
    assert sum(D(row["total_usd"]) for row in rows[:-1]) == D(rows[-1]["total_usd"])


def test_exit_1_lists_what_could_not_be_priced(tmp_path: Path, results: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(results.read_text() + _line("e", _succeeded("claude-sonnet-9", 1, 1)) + "{oops\n")
    code, out, _ = run("actual", str(bad), "--format", "json")
    assert code == 1
    problems = json.loads(out)["problems"]
    assert [(p["line"], p["code"]) for p in problems if p["severity"] == "error"] == [
        (5, "unknown_model"),
        (6, "invalid_json"),
    ]


def test_exit_2_for_unreadable_input(tmp_path: Path) -> None:
    code, _, err = run("actual", str(tmp_path / "nope.jsonl"))
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1
    code, _, err = run("actual")
    assert code == 2 and "--admin-from" in err


def test_abbreviations_are_refused(results: Path) -> None:
    with pytest.raises(SystemExit):
        run("actual", str(results), "--form", "json")


def test_reconcile_cli(tmp_path: Path) -> None:
    system = "Answer briefly and precisely. " * 200
    requests = tmp_path / "requests.jsonl"
    requests.write_text(
        "".join(
            json.dumps(
                {
                    "custom_id": f"r{i}",
                    "params": {
                        "model": "claude-sonnet-4-6",
                        "max_tokens": 300,
                        "system": [{"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}],
                        "messages": [{"role": "user", "content": f"item {i}"}],
                    },
                }
            )
            + "\n"
            for i in range(5)
        )
    )
    results = tmp_path / "results.jsonl"
    results.write_text(
        "".join(
            _line(
                f"r{i}",
                _succeeded(
                    "claude-sonnet-4-6",
                    20,
                    90,
                    cache_read_input_tokens=0 if i == 0 else 1200,
                    cache_creation_input_tokens=1200 if i == 0 else 0,
                ),
            )
            for i in range(5)
        )
    )
    code, out, err = run("reconcile", str(requests), str(results), "--as-of", "2026-11-25", "--format", "json")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["requests"]["succeeded"] == 5
    assert payload["total"]["mode"] == "batch_cached"
    assert D(payload["total"]["error_usd"]) == D(payload["total"]["actual_usd"]) - D(payload["total"]["expected_usd"])
    assert payload["suggested"]["output_ratio"] == "0.3"
    assert len(payload["per_request"]["requests"]) == 5
    code, out, _ = run("reconcile", str(requests), str(results), "--as-of", "2026-11-25")
    assert code == 0 and "--output-ratio 0.3" in out
    code, out, _ = run("reconcile", str(requests), str(results), "--format", "csv", "--as-of", "2026-11-25")
    assert len(list(csv.DictReader(io.StringIO(out)))) == 5
