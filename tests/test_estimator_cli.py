"""`python -m estimator`: what a CI pipeline runs, through `main(argv)`."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from decimal import Decimal

import pytest

from estimator.cli import main

DOC = [
    "--model", "claude-sonnet-4-6", "--requests", "1000", "--prefix-tokens", "3000",
    "--input-tokens", "5000", "--output-tokens", "1000", "--hit-rate", "0.85", "--as-of", "2026-11-25",
]  # fmt: skip


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_estimate_json_has_the_stable_shape() -> None:
    code, out, _ = run("estimate", *DOC, "--format", "json")
    payload = json.loads(out)
    assert code == 0
    assert payload["model"] == "claude-sonnet-4-6" and payload["as_of"] == "2026-11-25"
    assert set(payload["modes"]) == {"realtime", "realtime_cached", "batch", "batch_cached"}
    realtime, batch_cached = payload["modes"]["realtime"], payload["modes"]["batch_cached"]
    assert realtime["total_usd"] == "39" and realtime["per_request_usd"] == "0.039"
    assert batch_cached["total_usd"] == "16.22625"
    assert Decimal(batch_cached["savings_usd"]) == Decimal("39") - Decimal("16.22625")
    assert set(batch_cached["breakdown"]) == {
        "uncached_input", "cache_write_5m", "cache_write_1h", "cache_read", "output", "web_search", "thinking",
        "code_execution",
    }  # fmt: skip
    assert isinstance(payload["warnings"], list)


def test_estimate_table_is_readable() -> None:
    code, out, _ = run("estimate", *DOC)
    assert code == 0
    assert "batch_cached     $16.23" in out and "Rounded for reading" in out


def test_estimate_csv() -> None:
    code, out, _ = run("estimate", *DOC, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and [row["mode"] for row in rows] == [
        "realtime",
        "realtime_cached",
        "batch",
        "batch_cached",
    ]
    assert rows[0]["total_usd"] == "39"


def test_hit_rate_from_traffic() -> None:
    code, out, _ = run("estimate", *DOC[:-4], "--requests-per-hour", "12", "--as-of", "2026-11-25", "--format", "json")
    assert code == 0 and json.loads(out)["workload"]["cache_hit_rate"] == "0.632120558829"


def test_compare_json_and_conversion_note() -> None:
    code, out, _ = run("compare", *DOC, "--models", "claude-sonnet-4-6,claude-sonnet-5-5", "--format", "json")
    models = {m["model"]: m for m in json.loads(out)["models"]}
    assert code == 0 and models["claude-sonnet-5-5"]["token_conversion"]["expected"] == "1.3"
    code, out, _ = run("compare", *DOC)
    assert code == 0 and "converted between tokenizer generations" in out


def test_breakeven() -> None:
    code, out, _ = run("breakeven", "--model", "claude-sonnet-4-6", "--as-of", "2026-11-25", "--format", "json")
    ttls = json.loads(out)["ttls"]
    assert code == 0 and (ttls["5m"]["reads_to_pay_off"], ttls["1h"]["reads_to_pay_off"]) == (1, 2)


def test_budget() -> None:
    args = ["budget", "--budget-usd", "39", "--model", "claude-sonnet-4-6", "--input-tokens", "8000",
            "--output-tokens", "1000", "--as-of", "2026-11-25", "--format", "json"]  # fmt: skip
    code, out, _ = run(*args)
    assert code == 0 and json.loads(out)["modes"]["realtime"]["max_requests"] == 1000


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["estimate", "--model", "claude-sonet-4-6"], "Did you mean: claude-sonnet-4-6"),
        (["estimate", "--model", "claude-sonnet-4-6", "--requests", "-3"], "requests must be 0 or more"),
        (["estimate", "--model", "claude-sonnet-4-6", "--hit-rate", "nan"], "finite number"),
        (["estimate", "--model", "claude-sonnet-4-6", "--hit-rate", "85"], "0.85 for 85%"),
        (["estimate", "--model", "claude-opus-4-5", "--geo", "us"], "only Claude 4.6 and later"),
        (["budget", "--budget-usd", "-1", "--model", "claude-sonnet-4-6"], "budget_usd must be between 0"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(argv: list[str], message: str) -> None:
    code, out, err = run(*argv)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_unknown_ttl_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as caught:
        run("estimate", "--model", "claude-sonnet-4-6", "--ttl", "10m")
    assert caught.value.code == 2


def test_module_entry_point() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "estimator", "estimate", *DOC, "--format", "json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert completed.returncode == 0 and json.loads(completed.stdout)["modes"]["realtime"]["total_usd"] == "39"
