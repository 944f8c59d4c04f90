"""`pricing.export` and `python -m pricing export`: the dated rates table (valid_from / valid_to).

The oracle is the table's own dated lookup: on any day, the rows in force must give exactly the rates that
`PriceTable.prices_as_of` gives, and no rate on a day its feature did not exist.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
import sys
from decimal import Decimal as D
from pathlib import Path

import pytest

from pricing import RATE_FIELDS, PriceTable
from pricing.cli import main
from pricing.export import COLUMNS, ExportError, RateRow, rate_rows, rows_in_force, write_parquet

DAY = dt.date
_CATEGORY = {
    "input_mtok": "input",
    "cache_write_5m_mtok": "cache_write_5m",
    "cache_write_1h_mtok": "cache_write_1h",
    "cache_read_mtok": "cache_read",
    "output_mtok": "output",
}


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def rows(table: PriceTable) -> tuple[RateRow, ...]:
    return rate_rows(table)


def _find(rows: tuple[RateRow, ...], model: str, mode: str, category: str, **kw: object) -> list[RateRow]:
    geo = kw.get("geo", "global")
    tier = kw.get("tier")
    return [
        r
        for r in rows
        if r.model_id == model
        and r.mode == mode
        and r.category == category
        and r.inference_geo == geo
        and r.tier_above_prompt_tokens == tier
    ]


def _boundary_days(table: PriceTable) -> list[dt.date]:
    days = {table.checked}
    features = table.features
    for name in ("prompt_caching", "message_batches", "cache_ttl_1h", "data_residency", "context_1m_beta"):
        period = features.period(name)  # type: ignore[arg-type]
        days |= {period.available_from, *([period.removed] if period.removed else [])}
    for model in table.models:
        days |= {p.effective_from for p in model.periods_in_effect} | {model.lifecycle.released}
        if model.fast_mode:
            days |= {model.fast_mode.available_from, *([model.fast_mode.removed] if model.fast_mode.removed else [])}
    return sorted(day + dt.timedelta(days=offset) for day in days for offset in (-1, 0, 1))


def test_rows_in_force_agree_with_the_dated_lookup_on_every_boundary(
    table: PriceTable, rows: tuple[RateRow, ...]
) -> None:
    for day in _boundary_days(table):
        in_force = rows_in_force(rows, day)
        for model in table.models:
            if model.status_as_of(day) in ("unreleased", "retired"):
                assert not [r for r in in_force if r.model_id == model.id], (model.id, day)
                continue
            view = table.prices_as_of(model, day)
            got = {
                (r.mode, r.category): r.usd_per_mtok
                for r in in_force
                if r.model_id == model.id and r.inference_geo == "global" and r.tier_above_prompt_tokens is None
            }
            want = {}
            for field in RATE_FIELDS:
                value = view.rate(field)
                if value is not None:
                    mode = "batch" if field.startswith("batch_") else "standard"
                    want[(mode, _CATEGORY[field.removeprefix("batch_")])] = value
            if view.fast is not None:
                want |= {("fast", _CATEGORY[f]): v for f, v in view.fast.rates().items() if v is not None}
            assert got == want, (model.id, day)


def test_no_two_rows_overlap_for_the_same_key(rows: tuple[RateRow, ...]) -> None:
    by_key: dict[tuple[object, ...], list[RateRow]] = {}
    for row in rows:
        key = (row.model_id, row.mode, row.inference_geo, row.tier_above_prompt_tokens, row.category)
        by_key.setdefault(key, []).append(row)
    for key, group in by_key.items():
        group.sort(key=lambda r: r.valid_from)
        for before, after in itertools.pairwise(group):
            assert before.valid_to is not None and before.valid_to <= after.valid_from, key


def test_opus_4_8_fast_rows_end_on_2026_11_30(rows: tuple[RateRow, ...]) -> None:
    (fast_input,) = _find(rows, "claude-opus-4-8", "fast", "input")
    assert (fast_input.valid_from, fast_input.valid_to, fast_input.usd_per_mtok) == (
        DAY(2026, 5, 28),
        DAY(2026, 11, 30),
        D(10),
    )
    (standard,) = _find(rows, "claude-opus-4-8", "standard", "input")
    assert standard.valid_to is None


def test_haiku_3_rows_start_with_their_features(rows: tuple[RateRow, ...]) -> None:
    model = "claude-3-haiku-20240307"
    (batch,) = _find(rows, model, "batch", "input")
    (read,) = _find(rows, model, "standard", "cache_read")
    (hour,) = _find(rows, model, "standard", "cache_write_1h")
    (base,) = _find(rows, model, "standard", "input")
    assert (batch.valid_from, read.valid_from, hour.valid_from) == (
        DAY(2024, 10, 8),
        DAY(2024, 8, 14),
        DAY(2025, 4, 11),
    )
    assert hour.date_precision == "approximate" and base.date_precision == "month"
    assert base.valid_to == DAY(2026, 4, 19)  # retired: no rate after the API stopped serving it


def test_sonnet_4_tier_rows_lie_inside_the_1m_beta(rows: tuple[RateRow, ...]) -> None:
    (tier,) = _find(rows, "claude-sonnet-4-20250514", "standard", "input", tier=200_000)
    assert (tier.valid_from, tier.valid_to, tier.usd_per_mtok) == (DAY(2025, 8, 12), DAY(2026, 4, 30), D(6))
    sonnet_45 = _find(rows, "claude-sonnet-4-5-20250929", "standard", "input")
    assert sonnet_45[-1].valid_to == DAY(2026, 11, 30)


def test_provenance_and_sources(rows: tuple[RateRow, ...]) -> None:
    (mythos_batch,) = _find(rows, "claude-mythos-5-2", "batch", "input")
    assert mythos_batch.provenance == "derived" and mythos_batch.usd_per_mtok == D(4)
    (mythos_input,) = _find(rows, "claude-mythos-5-2", "standard", "input")
    assert mythos_input.provenance == "published"
    (fable_read,) = _find(rows, "claude-fable-5-2", "standard", "cache_read")
    assert fable_read.provenance == "third_party" and "pricing_3p" in fable_read.sources
    launch, _cut = _find(rows, "claude-3-5-haiku-20241022", "standard", "input")
    assert (launch.usd_per_mtok, launch.provenance, launch.valid_to) == (D(1), "third_party", DAY(2024, 12, 1))


def test_us_rows_are_1_1x_derived_and_start_with_data_residency(rows: tuple[RateRow, ...]) -> None:
    (us,) = _find(rows, "claude-sonnet-5-5", "standard", "input", geo="us")[-1:]
    assert us.usd_per_mtok == D("2.2") and us.provenance == "derived"
    first_us = _find(rows, "claude-opus-4-6", "standard", "input", geo="us")[0]
    assert first_us.valid_from == DAY(2026, 2, 5)
    assert not _find(rows, "claude-haiku-4-5-20251001", "standard", "input", geo="us")


def test_current_view_holds_one_rate_per_key(table: PriceTable, rows: tuple[RateRow, ...]) -> None:
    current = rows_in_force(rows, DAY(2026, 12, 3))
    keys = [(r.model_id, r.mode, r.inference_geo, r.tier_above_prompt_tokens, r.category) for r in current]
    assert len(keys) == len(set(keys))
    assert not [r for r in current if r.model_id == "claude-sonnet-4-5-20250929"]  # retired 2026-11-30


# --- the command -------------------------------------------------------------------------------------------


def test_export_json_to_stdout_is_historical_with_exact_strings() -> None:
    code, out, _ = run("export", "--format", "json")
    document = json.loads(out)
    assert code == 0 and document["format"] == "claude-rates" and document["view"] == "historical"
    assert document["columns"] == list(COLUMNS)
    assert document["model_aliases"]["claude-sonnet-4-5"] == "claude-sonnet-4-5-20250929"
    row = next(r for r in document["rows"] if r["model_id"] == "claude-haiku-5-5" and r["mode"] == "batch")
    assert row["usd_per_mtok"] == "0.05" and isinstance(row["usd_per_mtok"], str)


def test_export_output_dir_writes_current_and_historical(tmp_path: Path) -> None:
    code, _, err = run("export", "--format", "json", "--output-dir", str(tmp_path), "--as-of", "2026-12-03")
    assert code == 0 and "rates-current.json" in err
    current = json.loads((tmp_path / "rates-current.json").read_text(encoding="utf-8"))
    historical = json.loads((tmp_path / "rates-historical.json").read_text(encoding="utf-8"))
    assert current["view"] == "current" and current["as_of"] == "2026-12-03"
    assert 0 < len(current["rows"]) < len(historical["rows"])
    assert all(r["valid_to"] is None or r["valid_to"] > "2026-12-03" for r in current["rows"])


def test_export_csv(tmp_path: Path, table: PriceTable) -> None:
    path = tmp_path / "rates.csv"
    code, out, _ = run("export", "--format", "csv", "--output", str(path))
    assert code == 0 and out == ""
    records = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert tuple(records[0]) == COLUMNS and len(records) == len(rate_rows(table))
    fast = next(r for r in records if r["model_id"] == "claude-opus-4-8" and r["mode"] == "fast")
    assert fast["valid_to"] == "2026-11-30" and fast["tier_above_prompt_tokens"] == ""


def test_export_parquet_round_trips_exact_decimals(tmp_path: Path, table: PriceTable) -> None:
    import pyarrow.parquet as pq  # installed with streamlit

    path = tmp_path / "rates.parquet"
    code, _, err = run("export", "--format", "parquet", "--output", str(path))
    assert code == 0, err
    read = pq.read_table(str(path))
    assert str(read.schema.field("usd_per_mtok").type) == "decimal128(18, 10)"
    assert str(read.schema.field("valid_from").type) == "date32[day]"
    values = read.column("usd_per_mtok").to_pylist()
    assert values == [row.usd_per_mtok for row in rate_rows(table)]


def test_parquet_without_pyarrow_or_duckdb_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("pyarrow", "pyarrow.parquet", "duckdb"):
        monkeypatch.setitem(sys.modules, name, None)  # makes `import name` raise ImportError
    with pytest.raises(ExportError, match=r"needs pyarrow or duckdb.*pip install pyarrow"):
        write_parquet((), tmp_path / "x.parquet")
    code, _, err = run("export", "--format", "parquet", "--output", str(tmp_path / "x.parquet"))
    assert code == 2 and err.startswith("error: Parquet export needs pyarrow or duckdb")


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["export", "--format", "parquet"], "give --output PATH"),
        (["export", "--output", "/nonexistent-dir/x.json"], "cannot write the export"),
        (["export", "--output-dir", "/nonexistent-dir"], "not a directory"),
    ],
)
def test_export_errors_exit_2(argv: list[str], expected: str) -> None:
    code, _, err = run(*argv)
    assert code == 2 and err.startswith("error: ") and expected in err


def test_output_and_output_dir_are_exclusive() -> None:
    with pytest.raises(SystemExit) as caught:
        run("export", "--output", "a.json", "--output-dir", ".")
    assert caught.value.code == 2
