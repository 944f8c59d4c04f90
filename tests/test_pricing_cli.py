"""`python -m pricing`: list, show, diff and schema, called through `main(argv)` as CI would."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from pricing import DEFAULT_TABLE_PATH
from pricing.cli import format_rate, main

SHIPPED_TEXT = DEFAULT_TABLE_PATH.read_text(encoding="utf-8")


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_list_shows_current_models_only() -> None:
    code, out, _ = run("list", "--as-of", "2026-11-25")
    assert code == 0
    assert "claude-fable-5-2" in out and "claude-3-opus-20240229" not in out


def test_list_all_includes_retired() -> None:
    code, out, _ = run("list", "--all", "--as-of", "2026-11-25")
    assert code == 0 and "claude-3-opus-20240229" in out and "retired" in out


def test_list_json_is_machine_readable_with_decimal_strings() -> None:
    code, out, _ = run("list", "--as-of", "2026-10-01", "--format", "json")
    payload = json.loads(out)
    assert code == 0 and payload["as_of"] == "2026-10-01"
    sonnet = next(m for m in payload["models"] if m["id"] == "claude-sonnet-5-5")
    assert sonnet["rates_mtok"]["cache_read_mtok"] == "0.20"
    assert "claude-haiku-5-5" not in {m["id"] for m in payload["models"]}  # released 2026-10-07


def test_show_prints_history_cancellation_and_sources() -> None:
    code, out, _ = run("show", "claude-sonnet-5", "--as-of", "2026-10-01")
    assert code == 0
    assert "CANCELLED, never took effect" in out
    assert "https://platform.claude.com/docs/en/about-claude/pricing" in out
    assert "in 2.00; out 10.00" in out


def test_show_json() -> None:
    code, out, _ = run("show", "haiku-5-5", "--format", "json")
    payload = json.loads(out)
    assert code == 0 and payload["prices"][0]["tiers"][0]["above_prompt_tokens"] == 100000


def test_show_unknown_model_suggests_and_exits_2() -> None:
    code, out, err = run("show", "claude-sonet-4-6")
    assert code == 2 and out == ""
    assert err.startswith("error: Unknown model 'claude-sonet-4-6'. Did you mean: claude-sonnet-4-6")


def test_diff_identical_files_exit_0() -> None:
    code, out, _ = run("diff", str(DEFAULT_TABLE_PATH), str(DEFAULT_TABLE_PATH))
    assert code == 0 and "No differences." in out


def test_diff_two_dates_reports_the_sonnet_5_5_cut() -> None:
    code, out, _ = run("diff", "2026-10-01", "2026-10-06")
    assert code == 0
    code, out, _ = run("diff", "2026-10-01", "2026-10-07")
    assert code == 1
    assert "claude-sonnet-5-5" in out and "~ cache_read_mtok: 0.20 → 0.10 (-50.0%)" in out
    assert "claude-haiku-5-5 (model added)" in out


def test_diff_files_reports_changed_added_removed(tmp_path: Path) -> None:
    new_text = SHIPPED_TEXT.replace("        output_mtok: 0.50\n", "        output_mtok: 0.60\n", 1)
    new_text = new_text.replace("        batch_output_mtok: 0.25\n", "        batch_output_mtok: 0.30\n", 1)
    fast_output = "          output_mtok: 40                               # [pricing]\n"  # Opus 5.5's fast row
    assert new_text.count(fast_output) == 1
    new_text = new_text.replace(fast_output, fast_output.replace("40", "44"), 1)
    new_path = tmp_path / "new.yaml"
    new_path.write_text(new_text, encoding="utf-8")
    code, out, _ = run("diff", str(DEFAULT_TABLE_PATH), str(new_path), "--format", "json")
    payload = json.loads(out)
    assert code == 1 and payload["identical"] is False
    changes = {(c["model"], c["field"], c["kind"], c["old"], c["new"]) for c in payload["rate_changes"]}
    assert ("claude-haiku-5-5", "output_mtok", "changed", "0.50", "0.60") in changes
    assert ("claude-opus-5-5", "fast_output_mtok", "changed", "40", "44") in changes


def test_diff_mixing_a_file_and_a_date_is_an_error() -> None:
    code, _, err = run("diff", str(DEFAULT_TABLE_PATH), "2026-10-01")
    assert code == 2 and "two YAML files or two dates" in err


def test_malformed_table_is_reported_with_its_name(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(SHIPPED_TEXT.replace("        input_mtok: 0.10 ", "        input_mtok: -1 ", 1), encoding="utf-8")
    code, _, err = run("--table", str(bad), "list")
    assert code == 2 and "bad.yaml" in err and "claude-haiku-5-5" in err and "input_mtok" in err


def test_bad_date_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as caught:
        run("list", "--as-of", "yesterday")
    assert caught.value.code == 2


def test_committed_json_schema_is_up_to_date() -> None:
    code, out, _ = run("schema", "--check")
    assert code == 0, out


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("8", "8.00"),
        ("0.10", "0.10"),
        ("0.0625", "0.0625"),
        ("3.125", "3.125"),
        ("37.50", "37.50"),
        (None, "—"),
    ],
)
def test_format_rate_never_rounds(value: str | None, expected: str) -> None:
    from decimal import Decimal

    assert format_rate(Decimal(value) if value is not None else None) == expected


def test_module_entry_point_runs() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "pricing", "show", "opus-5-5"], capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0 and "Claude Opus 5.5" in completed.stdout
