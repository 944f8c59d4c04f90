"""DuckDB prices the generated usage set exactly as the Python pricer does, record for record, and the
`ActualCosts` it returns equals the Python path's on the same files."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from estimator.bulk import price_files_bulk
from estimator.bulk.actuals import choose_engine
from estimator.bulk.duckdb_engine import DuckDBEngine
from estimator.bulk.inputs import discover
from estimator.bulk.rates import model_names, rate_rows, rate_scale
from estimator.usage.actuals import actual_costs
from estimator.usage.errors import UsageFileError
from estimator.usage.pricer import PricedLine
from tests.test_bulk_cases import (
    BAD_ROWS,
    CATEGORY_COLUMNS,
    COUNT_PROBLEMS,
    WHAT_IF_COLUMNS,
    as_record,
    assert_matches_oracle,
    oracle,
    results_jsonl,
    table,
    usage_rows,
    write_jsonl,
    write_parquet,
)

pytest.importorskip("duckdb")

AS_OF = dt.date(2026, 12, 1)
RECORD_COLUMNS = ["custom_id", "problem", "total_usd", "unsplit_write_extra_usd"]
RECORD_COLUMNS += list(CATEGORY_COLUMNS.values()) + list(WHAT_IF_COLUMNS.values())


@pytest.fixture(scope="module")
def parquet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_parquet(tmp_path_factory.mktemp("bulk") / "usage.parquet", usage_rows())


def _records(paths: list[Path]) -> list[dict[str, Any]]:
    rows = rate_rows(table())
    with DuckDBEngine(memory_limit="256MB", threads=2) as engine:
        engine.load(
            discover(paths), rows, model_names(table()), rate_scale(rows), default_day=AS_OF, default_model=None
        )
        return engine.records(RECORD_COLUMNS)


def test_duckdb_equals_the_python_pricer_record_for_record(parquet: Path) -> None:
    assert_matches_oracle(_records([parquet]))


def test_a_flat_jsonl_table_prices_the_same(tmp_path: Path) -> None:
    assert_matches_oracle(_records([write_jsonl(tmp_path / "usage.jsonl", usage_rows())]))


def test_actual_costs_equal_the_python_path(parquet: Path) -> None:
    """Totals, per model, per category, per day, what-ifs, requests and unpriced counts: the same result."""
    bulk = price_files_bulk([parquet], engine="duckdb", as_of=AS_OF, table=table())
    # Bad counts are refused by the readers; a `UsageRecord` cannot carry them, so they stay out of the
    # Python side and are counted apart.
    readable = [row for row in usage_rows() if row.get("problem") not in {p for _, _, p in COUNT_PROBLEMS}]
    python = actual_costs([as_record(row) for row in readable], as_of=AS_OF, table=table())
    assert bulk.total_usd == python.total_usd
    assert bulk.requests["succeeded"] == python.requests["succeeded"]
    assert bulk.requests == python.requests | {"succeeded": bulk.requests["succeeded"]}
    assert bulk.priced_records == python.priced_records
    assert bulk.unpriced_records == python.unpriced_records + len(COUNT_PROBLEMS)
    assert bulk.tokens == python.tokens
    assert {c: (v.tokens, v.usd) for c, v in bulk.categories.items()} == {
        c: (v.tokens, v.usd) for c, v in python.categories.items()
    }
    assert [(m.model_id, m.total_usd, m.tokens) for m in bulk.models] == [
        (m.model_id, m.total_usd, m.tokens) for m in python.models
    ]
    assert [(d.day, d.total_usd) for d in bulk.days] == [(d.day, d.total_usd) for d in python.days]
    assert [(w.mode, w.total_usd) for w in bulk.what_if] == [(w.mode, w.total_usd) for w in python.what_if]
    assert bulk.upper_bound_total_usd == python.upper_bound_total_usd
    assert len(bulk.lines) == len(python.lines)
    for ours, theirs in zip(_in_order(bulk.lines), _in_order(python.lines), strict=True):
        assert (ours.day, ours.model_id, ours.billed_mode, ours.tokens, ours.total_usd) == (
            theirs.day,
            theirs.model_id,
            theirs.billed_mode,
            theirs.tokens,
            theirs.total_usd,
        )
        assert ours.usd == theirs.usd
        assert ours.what_if_usd == theirs.what_if_usd


def _in_order(lines: tuple[PricedLine, ...]) -> list[PricedLine]:
    def key(line: PricedLine) -> tuple[object, ...]:
        tier = line.tier_above_tokens or 0
        return (line.day, line.model_id, line.billed_mode, line.speed, line.inference_geo, tier, line.tokens.values())

    return sorted(lines, key=key)


def test_bad_rows_are_counted_and_listed_with_file_and_row(parquet: Path) -> None:
    """Every refused record is counted; the first ones of each kind are listed by row, with the Python
    pricer's code; a kind with a single record (each of BAD_ROWS, COUNT_PROBLEMS) is always listed."""
    result = price_files_bulk([parquet], engine="duckdb", as_of=AS_OF, table=table())
    rows = usage_rows()
    refused = {number: _oracle_problem(row) for number, row in enumerate(rows, start=1) if _oracle_problem(row)}
    assert result.unpriced_records == len(refused)
    assert not result.fully_priced
    assert result.total_usd > 0
    listed: dict[int, str] = {}
    for problem in result.errors:
        assert problem.source == str(parquet)
        listed[problem.line] = problem.code
        for other in _also_lines(problem.message):
            listed[other] = problem.code
    for number, code in listed.items():
        assert refused[number] == code, (number, rows[number - 1])
    for number, row in enumerate(rows, start=1):
        if "problem" in row:
            assert listed.get(number) == row["problem"], (number, row)
    assert sum(problem.records for problem in result.errors) == len(refused)
    unknown = next(p for p in result.errors if p.code == "unknown_model")
    assert "claude-nonexistent-9" in unknown.message  # the Python pricer's own words, suggestions included


def _oracle_problem(row: dict[str, Any]) -> str | None:
    problem: str | None = oracle(row)["problem"]
    return problem


def _also_lines(message: str) -> list[int]:
    if "; also line" not in message:
        return []
    tail = message.split("; also line", 1)[1].lstrip("s ")
    return [int(part) for part in tail.replace(", ...", "").split(", ") if part.isdigit()]


def test_results_file_prices_as_the_python_reader_reads_it(tmp_path: Path) -> None:
    """A Message Batches results file (nested JSON) through DuckDB equals the Python path on the same file."""
    rows = tuple(row for row in usage_rows() if "problem" not in row and row["speed"] != "fast")
    path = results_jsonl(tmp_path / "results.jsonl", rows)
    bulk = price_files_bulk([path], engine="duckdb", as_of=AS_OF, table=table())
    python = actual_costs([path], as_of=AS_OF, table=table())
    assert bulk.total_usd == python.total_usd
    assert bulk.requests == python.requests
    assert (bulk.priced_records, bulk.unpriced_records) == (python.priced_records, python.unpriced_records)
    assert [(m.model_id, m.total_usd) for m in bulk.models] == [(m.model_id, m.total_usd) for m in python.models]
    assert [(w.mode, w.total_usd) for w in bulk.what_if] == [(w.mode, w.total_usd) for w in python.what_if]
    assert {p.code for p in bulk.errors} == {p.code for p in python.errors}
    assert len(bulk.not_billed) == len(python.not_billed) == 3


def test_responses_with_iterations_and_bad_lines(tmp_path: Path) -> None:
    """Responses (plain, wrapped, dated), iterations priced per model, and bad counts named by line."""
    usage = {"input_tokens": 100, "output_tokens": 50, "cache_read_input_tokens": 1000}
    lines = [
        {"type": "message", "model": "claude-sonnet-4-6", "usage": usage, "created_at": "2026-11-02T10:00:00Z"},
        {"response": {"type": "message", "model": "claude-opus-5-5", "usage": usage}, "timestamp": 1793000000},
        {
            "type": "message",
            "model": "claude-opus-5-5",
            "usage": {
                "input_tokens": 23000,
                "output_tokens": 1000,
                "server_tool_use": {"web_search_requests": 2},
                "iterations": [
                    {"type": "compaction", "input_tokens": 180000, "output_tokens": 3500},
                    {"type": "advisor_message", "model": "claude-haiku-5-5", "input_tokens": 5000, "output_tokens": 40},
                    {"type": "message", "model": "claude-opus-5-5", "input_tokens": 23000, "output_tokens": 1000},
                ],
            },
        },
        {"type": "message", "model": "claude-sonnet-4-6", "usage": {"input_tokens": -3, "output_tokens": 1}},
        {"type": "message", "model": "claude-sonnet-4-6", "usage": {"input_tokens": 1.5, "output_tokens": 1}},
        {"type": "message", "model": "claude-sonnet-4-6", "usage": {"input_tokens": 10, "output_tokens": True}},
        {"type": "message", "model": "claude-unknown", "usage": usage},
        {"custom_id": "x", "result": {"type": "errored", "error": {"type": "error", "error": {"type": "api_error"}}}},
    ]
    path = tmp_path / "responses.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    bulk = price_files_bulk([path], engine="duckdb", as_of=AS_OF, table=table())
    python = actual_costs([path], as_of=AS_OF, table=table())
    assert bulk.total_usd == python.total_usd
    assert [(m.model_id, m.total_usd, m.tokens) for m in bulk.models] == [
        (m.model_id, m.total_usd, m.tokens) for m in python.models
    ]
    assert bulk.requests == python.requests
    assert bulk.undated_records == python.undated_records
    assert sorted((p.line, p.code) for p in bulk.errors) == sorted((p.line, p.code) for p in python.errors)


def test_csv_directories_and_globs(tmp_path: Path) -> None:
    rows = tuple(row for row in usage_rows()[:200] if "problem" not in row)
    folder = tmp_path / "logs"
    folder.mkdir()
    header = ["model", "day", "input_tokens", "output_tokens", "cache_read_tokens", "service_tier"]
    with (folder / "a.csv").open("w", encoding="utf-8") as handle:
        handle.write(",".join(header) + "\n")
        for row in rows[:100]:
            handle.write(",".join("" if row[key] is None else str(row[key]) for key in header) + "\n")
    write_parquet(folder / "b.parquet", rows[100:])
    whole = price_files_bulk([folder], engine="duckdb", as_of=AS_OF, table=table())
    globbed = price_files_bulk([str(folder / "*")], engine="duckdb", as_of=AS_OF, table=table())
    python = actual_costs(
        [as_record(row | {"cache_write_5m_tokens": 0, "cache_write_1h_tokens": 0, "cache_write_unsplit_tokens": 0,
                          "thinking_tokens": 0, "web_search_requests": 0, "web_fetch_requests": 0,
                          "inference_geo": None, "speed": None}) for row in rows[:100]]
        + [as_record(row) for row in rows[100:]],
        as_of=AS_OF,
        table=table(),
    )  # fmt: skip
    assert whole.total_usd == globbed.total_usd == python.total_usd
    assert whole.priced_records == python.priced_records > 100


def test_a_bad_csv_count_is_named_with_its_row(tmp_path: Path) -> None:
    path = tmp_path / "usage.csv"
    path.write_text(
        "model,day,input_tokens,output_tokens\n"
        "claude-sonnet-4-6,2026-11-01,100,10\n"
        "claude-sonnet-4-6,2026-11-01,1e3,10\n"
        "claude-sonnet-4-6,2026-11-01,-4,10\n"
        "claude-sonnet-4-6,not a date,4,10\n"
        "claude-sonnet-4-6,2026-11-01,99999999999999999999999,10\n",
        encoding="utf-8",
    )
    result = price_files_bulk([path], engine="duckdb", as_of=AS_OF, table=table())
    assert result.priced_records == 1
    assert result.total_usd == Decimal("0.00045")  # 100 × $3 + 10 × $15 per MTok (Sonnet 4.6)
    assert sorted((p.line, p.code) for p in result.errors) == [
        (2, "invalid_count"),
        (3, "negative_count"),
        (4, "invalid_date"),
        (5, "count_too_large"),
    ]
    assert result.unpriced_records == 4


def test_unreadable_inputs_are_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(UsageFileError, match="cannot read it"):
        price_files_bulk([tmp_path / "missing.parquet"], engine="duckdb")
    with pytest.raises(UsageFileError, match="no file matches"):
        price_files_bulk([str(tmp_path / "*.parquet")], engine="duckdb")
    broken = tmp_path / "broken.jsonl"
    broken.write_text(
        '{"type": "message", "model": "claude-sonnet-4-6", "usage": {"input_tokens": 1\n', encoding="utf-8"
    )
    with pytest.raises(UsageFileError, match=r"broken\.jsonl"):
        price_files_bulk([broken], engine="duckdb")
    no_counts = tmp_path / "no_counts.csv"
    no_counts.write_text("model,day\nclaude-sonnet-4-6,2026-11-01\n", encoding="utf-8")
    with pytest.raises(UsageFileError, match="input_tokens"):
        price_files_bulk([no_counts], engine="duckdb")


def test_progress_is_reported(parquet: Path) -> None:
    seen: list[tuple[int, int]] = []
    price_files_bulk(
        [parquet], engine="duckdb", as_of=AS_OF, table=table(), on_progress=lambda d, t: seen.append((d, t))
    )
    size = parquet.stat().st_size
    assert seen[-1] == (size, size)


def test_auto_engine_choice(tmp_path: Path, parquet: Path) -> None:
    small = results_jsonl(tmp_path / "small.jsonl", tuple(r for r in usage_rows()[:5] if "problem" not in r))
    assert choose_engine([small]) == "python"
    assert choose_engine([small], threshold_bytes=10) == "duckdb"
    assert choose_engine([parquet]) == "duckdb"  # only the bulk engines read Parquet
    assert choose_engine([tmp_path / "missing"]) == "python"  # the Python path reports it as usual


def test_import_estimator_loads_no_engine() -> None:
    code = (
        "import sys, estimator, estimator.bulk; "
        "print([m for m in ('duckdb', 'pyspark', 'sqlglot') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_bad_rows_cover_every_refusal() -> None:
    assert {row["problem"] for row in BAD_ROWS} | {problem for _, _, problem in COUNT_PROBLEMS} >= {
        "unknown_model",
        "before_release",
        "negative_count",
        "missing_field",
    }


def test_every_priced_record_can_be_written_out(tmp_path: Path, parquet: Path) -> None:
    """`usage_priced` as Parquet: one row per record with its costs or its problem (for a warehouse)."""
    import duckdb

    rows = rate_rows(table())
    out = tmp_path / "priced.parquet"
    with DuckDBEngine(threads=2) as engine:
        engine.load(
            discover([parquet]), rows, model_names(table()), rate_scale(rows), default_day=AS_OF, default_model=None
        )
        engine.export_records(str(out))
    with duckdb.connect() as con:
        count, total, refused = con.execute(
            f"SELECT COUNT(*), SUM(total_usd), COUNT(problem) FROM read_parquet('{out}')"
        ).fetchone()  # type: ignore[misc]
    assert count == len(usage_rows())
    answers = [oracle(row) for row in usage_rows()]
    assert total == sum((a["total_usd"] for a in answers if a["problem"] is None and a.get("billed")), Decimal(0))
    assert refused == sum(1 for a in answers if a["problem"] is not None)


def test_the_actual_command_takes_an_engine_and_gives_the_same_json(tmp_path: Path) -> None:
    import io

    from estimator.cli import main

    rows = tuple(row for row in usage_rows() if "problem" not in row and row["speed"] != "fast")
    path = results_jsonl(tmp_path / "results.jsonl", rows)

    def run(*extra: str) -> tuple[int, dict[str, Any] | str]:
        out, err = io.StringIO(), io.StringIO()
        code = main(
            ["actual", str(path), "--as-of", AS_OF.isoformat(), "--format", "json", *extra], stdout=out, stderr=err
        )
        return code, json.loads(out.getvalue()) if out.getvalue() else err.getvalue()

    python_code, python = run("--engine", "python")
    duckdb_code, duckdb = run("--engine", "duckdb")
    assert python_code == duckdb_code and isinstance(python, dict) and isinstance(duckdb, dict)
    assert duckdb["total_usd"] == python["total_usd"] and duckdb["requests"] == python["requests"]
    refused, message = run("--engine", "duckdb", "--what-if-model", "claude-haiku-4-5")
    assert refused == 2 and isinstance(message, str) and "--what-if-model need --engine python" in message
