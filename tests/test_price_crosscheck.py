"""Fresh, and provably so: `crosscheck` against peer price maps (offline) and the staleness warning.

genai-prices is pinned in requirements-dev.txt; its bundled data is read, never updated from the network.
The expected disagreements below are pinned: a change in either table shows up here.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import io
import json
import os
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from pricing import PriceTable
from pricing.cli import main
from pricing.crosscheck import crosscheck, file_price_map, genai_prices_map
from pricing.export import json_document, rate_rows, rows_in_force, to_json_text

DAY = dt.date


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def _summary(table: PriceTable, day: dt.date) -> set[tuple[Any, ...]]:
    result = crosscheck(table, genai_prices_map(), day)
    return {
        (d.model_id, d.mode, d.tier_above_prompt_tokens, d.category, d.kind, d.verdict) for d in result.disagreements
    }


def test_genai_prices_is_the_pinned_version() -> None:
    assert importlib.metadata.version("genai-prices") == "0.2.3"


def test_against_genai_prices_on_2026_12_03(table: PriceTable) -> None:
    # Reference section 7: genai-prices agrees with every real-time rate; it still prices Opus 4.8 fast
    # mode (removed 2026-11-30) and, as its comments say, skips the limited-availability Mythos 5 / 5.1.
    assert _summary(table, DAY(2026, 12, 3)) == {
        ("claude-mythos-5-1", None, None, None, "model_missing_in_peer", "theirs"),
        ("claude-mythos-5", None, None, None, "model_missing_in_peer", "theirs"),
        ("claude-opus-4-8", "fast", None, None, "missing_in_ours", "theirs"),
    }
    result = crosscheck(table, genai_prices_map(), DAY(2026, 12, 3))
    assert result.rates_compared == 180 and not result.to_check
    assert "claude-sonnet-4-5-20250929" in {model for model, _ in result.models_skipped}  # retired 2026-11-30


def test_against_genai_prices_on_2026_10_01(table: PriceTable) -> None:
    found = _summary(table, DAY(2026, 10, 1))
    assert ("claude-sonnet-5-5", "standard", None, "cache_read", "differs", "theirs") in found  # no read history
    sonnet_45_tier = {item for item in found if item[0] == "claude-sonnet-4-5-20250929" and item[2] == 200_000}
    assert {item[3] for item in sonnet_45_tier} == {"input", "cache_write_5m", "cache_write_1h", "cache_read", "output"}
    assert {item[4:] for item in sonnet_45_tier} == {("missing_in_ours", "theirs")}  # the 1M beta ended 2026-04-30
    batch_gaps = {item[0] for item in found if item[1] == "batch"}
    assert len(batch_gaps) == 13 and {item[4:] for item in found if item[1] == "batch"} == {
        ("missing_in_peer", "theirs")
    }
    assert len(found) == 21 and all(item[5] == "theirs" for item in found)


def test_against_genai_prices_on_2026_04_01(table: PriceTable) -> None:
    found = _summary(table, DAY(2026, 4, 1))
    assert ("claude-opus-4-6", "fast", None, None, "missing_in_peer", "theirs") in found  # $30 / $150 (3P)
    sonnet_4_tier = {item[3] for item in found if item[0] == "claude-sonnet-4-20250514" and item[2] == 200_000}
    assert len(sonnet_4_tier) == 5  # genai-prices has no Sonnet 4 tier (reference, section 7)
    assert len(found) == 15 and all(item[5] == "theirs" for item in found)


def test_crosscheck_command_text_and_json() -> None:
    code, out, err = run("crosscheck", "--against", "genai-prices", "--as-of", "2026-12-03")
    assert code == 0 and err == ""
    assert "3 disagreements: 0 to check, 3 theirs" in out
    assert "[THEIRS] fast (all rates) — Fast mode for Claude Opus 4.8 was removed on 2026-11-30" in out
    assert "https://code.claude.com/docs/en/fast-mode" in out
    code, out, _ = run("crosscheck", "--as-of", "2026-10-01", "--format", "json")
    payload = json.loads(out)
    assert code == 0 and payload["peer"] == "genai-prices 0.2.3" and payload["to_check"] == 0
    sonnet = next(d for d in payload["disagreements"] if d["model"] == "claude-sonnet-5-5" and d["kind"] == "differs")
    assert (sonnet["ours_mtok"], sonnet["theirs_mtok"]) == ("0.20", "0.1")
    assert sonnet["note"].startswith("known peer issue: genai-prices has no Sonnet 5.5 read-price history")
    assert "https://platform.claude.com/docs/en/about-claude/pricing" in sonnet["our_source_urls"]


# --- FILE: our export's shape ------------------------------------------------------------------------------


def _export_file(table: PriceTable, path: Path, edit: dict[str, str] | None = None) -> Path:
    rows = rate_rows(table)
    document = json_document(table, rows, view="historical", as_of=None)
    if edit:
        for row in document["rows"]:
            if all(row[key] == value for key, value in edit.items() if key != "usd_per_mtok"):
                row["usd_per_mtok"] = edit["usd_per_mtok"]
    path.write_text(to_json_text(document), encoding="utf-8")
    return path


def test_our_own_export_agrees_with_the_table(table: PriceTable, tmp_path: Path) -> None:
    path = _export_file(table, tmp_path / "rates.json")
    for day in (DAY(2024, 5, 1), DAY(2025, 1, 1), DAY(2026, 4, 1), DAY(2026, 12, 3)):
        result = crosscheck(table, file_price_map(path), day)
        assert result.disagreements == () and result.rates_compared > 0, day


def test_a_stale_file_is_listed_with_our_source_and_exits_1(table: PriceTable, tmp_path: Path) -> None:
    edit = {"model_id": "claude-sonnet-4-6", "mode": "standard", "category": "output", "usd_per_mtok": "18"}
    path = _export_file(table, tmp_path / "old.json", edit)
    code, out, _ = run("crosscheck", "--against", str(path), "--as-of", "2026-12-03")
    assert code == 1
    assert "[CHECK] standard output: ours 15.00, theirs 18.00 — the rates differ" in out
    assert "our source (published): pricing, batch" in out


# --- FILE: LiteLLM's shape ---------------------------------------------------------------------------------


def _per_token(value: D) -> str:
    return format(value / D(1_000_000), "f")


def _litellm_entry(table: PriceTable, model_id: str, day: dt.date) -> dict[str, Any]:
    rates = {
        (r.mode, r.category): r.usd_per_mtok
        for r in rows_in_force(rate_rows(table), day)
        if r.model_id == model_id and r.inference_geo == "global" and r.tier_above_prompt_tokens is None
    }
    return {
        "litellm_provider": "anthropic",
        "input_cost_per_token": _per_token(rates[("standard", "input")]),
        "output_cost_per_token": _per_token(rates[("standard", "output")]),
        "cache_creation_input_token_cost": _per_token(rates[("standard", "cache_write_5m")]),
        "cache_creation_input_token_cost_above_1hr": _per_token(rates[("standard", "cache_write_1h")]),
        "cache_read_input_token_cost": _per_token(rates[("standard", "cache_read")]),
        "input_cost_per_token_batches": _per_token(rates[("batch", "input")]),
        "output_cost_per_token_batches": _per_token(rates[("batch", "output")]),
        "max_tokens": 64000,
    }


def test_litellm_shape_reports_its_missing_1h_batch_rate_as_theirs(table: PriceTable, tmp_path: Path) -> None:
    day = DAY(2026, 12, 3)
    entries = {"claude-sonnet-4-6": _litellm_entry(table, "claude-sonnet-4-6", day)}
    text = json.dumps(entries)
    for value in entries["claude-sonnet-4-6"].values():  # write the rates as JSON numbers, like LiteLLM does
        if isinstance(value, str) and value[0].isdigit():
            text = text.replace(f'"{value}"', value)
    path = tmp_path / "model_prices_and_context_window.json"
    path.write_text(text, encoding="utf-8")
    result = crosscheck(table, file_price_map(path), day)
    sonnet = [d for d in result.disagreements if d.model_id == "claude-sonnet-4-6"]
    assert {(d.mode, d.category, d.kind, d.verdict) for d in sonnet} == {
        ("batch", "cache_write_5m", "missing_in_peer", "theirs"),
        ("batch", "cache_write_1h", "missing_in_peer", "theirs"),
        ("batch", "cache_read", "missing_in_peer", "theirs"),
    }
    (hour,) = [d for d in sonnet if d.category == "cache_write_1h"]
    assert "LiteLLM has no 1-hour batch cache-write rate" in hour.note
    assert result.not_compared == ("fast",) and not result.to_check
    missing = {d.model_id for d in result.disagreements if d.kind == "model_missing_in_peer"}
    assert "claude-opus-5-5" in missing  # not in this small file


def test_litellm_package_not_installed_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    code, _, err = run("crosscheck", "--against", "litellm")
    assert code == 2 and err.startswith("error: litellm is not installed: `pip install litellm`")


def test_genai_prices_not_installed_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    def refuse(name: str, *args: object) -> object:
        raise ImportError(name)

    monkeypatch.setattr(importlib, "import_module", refuse)
    code, _, err = run("crosscheck", "--against", "genai-prices")
    assert code == 2 and "genai-prices is not installed" in err


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"rows": ', "not valid JSON"),
        ('{"a": 1}', "not a known price map"),
        ('{"format": "claude-rates", "rows": [{"model_id": "x"}]}', "rows[0]: not a rate row"),
        (b"\x00\x01binary", "binary file"),
    ],
)
def test_a_bad_price_map_file_exits_2(tmp_path: Path, content: str | bytes, expected: str) -> None:
    path = tmp_path / "peer.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    code, out, err = run("crosscheck", "--against", str(path))
    assert code == 2 and out == "" and err.startswith("error: ") and expected in err and "Traceback" not in err


def test_a_fifo_as_price_map_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "peer.fifo"
    os.mkfifo(path)
    code, _, err = run("crosscheck", "--against", str(path))
    assert code == 2 and "FIFO" in err


# --- staleness ---------------------------------------------------------------------------------------------


def test_staleness_days_and_warning(table: PriceTable) -> None:
    checked = table.checked
    assert table.staleness_days(checked - dt.timedelta(days=400)) == 0
    assert table.staleness_days(checked + dt.timedelta(days=30)) == 30
    assert table.staleness_warning(checked + dt.timedelta(days=30)) is None
    warning = table.staleness_warning(checked + dt.timedelta(days=31))
    assert warning is not None and f"last checked on {checked}, 31 days before" in warning


def test_list_warns_on_stderr_when_the_date_is_past_the_check(table: PriceTable) -> None:
    late = (table.checked + dt.timedelta(days=31)).isoformat()
    code, out, err = run("list", "--as-of", late)
    assert code == 0 and out and err.startswith("warning: the price table was last checked on")
    code, out, err = run("list", "--as-of", (table.checked + dt.timedelta(days=30)).isoformat())
    assert code == 0 and err == ""
    code, out, _ = run("list", "--as-of", late, "--format", "json")
    payload = json.loads(out)
    assert payload["days_past_checked"] == 31 and payload["staleness_warning"].startswith("the price table")
