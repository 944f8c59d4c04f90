"""The price table as a dated rates table: one row per model × price period × mode × region × tier × category.

Built for joining usage stored in a warehouse to the rate in force on its date (DuckDB, Spark, any SQL):

    SELECT u.*, r.usd_per_mtok * u.tokens / 1e6 AS usd
    FROM usage u JOIN rates r
      ON r.model_id = u.model AND r.mode = u.mode AND r.inference_geo = u.inference_geo
     AND r.category = u.category AND r.tier_above_prompt_tokens IS NOT DISTINCT FROM u.tier
     AND u.day >= r.valid_from AND (r.valid_to IS NULL OR u.day < r.valid_to)

Columns (`COLUMNS`, in this order):

- `model_id` (text): the model's API id; `model_aliases(table)` maps every alias to it.
- `model_name` (text): display name, e.g. "Claude Sonnet 4.5".
- `valid_from` (date): first day the rate applies (inclusive).
- `valid_to` (date or null): first day it no longer applies (exclusive); null = still in force.
- `mode` (text): `standard` (real-time), `batch` (Message Batches API), `fast` (`speed: "fast"`, real-time only).
- `inference_geo` (text): `global`, or `us` (data residency, ×1.1 on every category, Claude 4.6 and later).
- `tier_above_prompt_tokens` (int or null): null = the base rates; N = the rates a request pays, on every
  token, once its prompt (input + cache reads + cache writes) is strictly greater than N.
- `category` (text): `input` (uncached input), `cache_write_5m`, `cache_write_1h`, `cache_read`, `output`.
- `usd_per_mtok` (decimal): USD per million tokens, exact: a decimal string in JSON and CSV,
  DECIMAL(18, 10) in Parquet.
- `provenance` (text): `published` (Anthropic's page), `third_party` (a dated third-party reading) or
  `derived` (computed from Anthropic's documented rules: batch 50%, cache multipliers, data residency ×1.1,
  Mythos 5.2's rates from Fable 5.2's).
- `date_precision` (text): how exactly `valid_from` is known: `day`, `month`, `year` or `approximate`.
- `sources` (list of text): keys into the table's `sources:`; `python -m pricing show MODEL` prints URLs.

Validity is the price row's period intersected with the period of every feature the rate needs (prompt
caching from 2024-08-14, batches from 2024-10-08, the 1-hour TTL from 2025, data residency, the model's
own fast-mode period) and with the model's life (nothing after its retirement). A rate is therefore
absent on any day Anthropic could not have billed it. Prices come from `pricing/prices.yaml` only.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Context, Decimal, Inexact, InvalidOperation, localcontext
from pathlib import Path
from typing import Any, Literal

from pricing.errors import PricingError
from pricing.features import DatePrecision, Feature, FeaturePeriod
from pricing.schema import FastRates, Model, PricePeriod, RateSet
from pricing.table import PriceTable

__all__ = [
    "CATEGORIES",
    "COLUMNS",
    "ExportError",
    "RateRow",
    "json_document",
    "model_aliases",
    "rate_rows",
    "rows_in_force",
    "to_csv",
    "write_parquet",
]

Mode = Literal["standard", "batch", "fast"]
Geo = Literal["global", "us"]
Category = Literal["input", "cache_write_5m", "cache_write_1h", "cache_read", "output"]
Provenance = Literal["published", "third_party", "derived"]
CATEGORIES: tuple[Category, ...] = ("input", "cache_write_5m", "cache_write_1h", "cache_read", "output")
COLUMNS = (
    "model_id",
    "model_name",
    "valid_from",
    "valid_to",
    "mode",
    "inference_geo",
    "tier_above_prompt_tokens",
    "category",
    "usd_per_mtok",
    "provenance",
    "date_precision",
    "sources",
)
FORMAT_VERSION = 1
_RATE_MODES: tuple[Mode, ...] = ("standard", "batch")
_FIELD_OF: dict[Category, str] = {
    "input": "input_mtok",
    "cache_write_5m": "cache_write_5m_mtok",
    "cache_write_1h": "cache_write_1h_mtok",
    "cache_read": "cache_read_mtok",
    "output": "output_mtok",
}
_PARQUET_DECIMAL = (18, 10)
_EXACT = Context(prec=60, traps=[Inexact, InvalidOperation])


class ExportError(PricingError):
    """The rates table cannot be written (a missing optional package, an unwritable path)."""


@dataclass(frozen=True)
class RateRow:
    """One rate with its validity; see the module docstring for the meaning of each field."""

    model_id: str
    model_name: str
    valid_from: dt.date
    valid_to: dt.date | None
    mode: Mode
    inference_geo: Geo
    tier_above_prompt_tokens: int | None
    category: Category
    usd_per_mtok: Decimal
    provenance: Provenance
    date_precision: DatePrecision
    sources: tuple[str, ...]

    def in_force_on(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)

    def record(self) -> dict[str, Any]:
        """JSON-ready: dates as ISO text, the rate as an exact decimal string."""
        return {
            "model_id": self.model_id,
            "model_name": self.model_name,
            "valid_from": self.valid_from.isoformat(),
            "valid_to": self.valid_to.isoformat() if self.valid_to else None,
            "mode": self.mode,
            "inference_geo": self.inference_geo,
            "tier_above_prompt_tokens": self.tier_above_prompt_tokens,
            "category": self.category,
            "usd_per_mtok": str(self.usd_per_mtok),
            "provenance": self.provenance,
            "date_precision": self.date_precision,
            "sources": list(self.sources),
        }


@dataclass(frozen=True)
class _Window:
    start: dt.date
    end: dt.date | None
    precision: DatePrecision

    def clip(self, other: _Window) -> _Window | None:
        start, precision = (self.start, self.precision) if self.start >= other.start else (other.start, other.precision)
        if self.start == other.start and precision == "day":
            precision = other.precision  # the same day from two sources: the less exact one says how sure it is
        ends = [end for end in (self.end, other.end) if end is not None]
        end = min(ends) if ends else None
        return None if end is not None and end <= start else _Window(start, end, precision)


def rate_rows(table: PriceTable) -> tuple[RateRow, ...]:
    """Every rate of the table with the days it applied, in table order (a pure function of the table)."""
    return tuple(row for model in table.models for row in _model_rows(table, model))


def rows_in_force(rows: Iterable[RateRow], day: dt.date) -> tuple[RateRow, ...]:
    """The rows that apply on `day`: the "current" table as of that day."""
    return tuple(row for row in rows if row.in_force_on(day))


def model_aliases(table: PriceTable) -> dict[str, str]:
    """Every alias → its model id, for joining usage that names a model by alias."""
    return {alias: model.id for model in table.models for alias in model.aliases}


def _model_rows(table: PriceTable, model: Model) -> Iterator[RateRow]:
    life = _Window(model.lifecycle.released, model.lifecycle.retired, model.lifecycle.released_precision)
    residency = _feature_window(table.features.data_residency)
    for period, start, end in model.dated_periods():
        row_window = life.clip(_Window(start, end, period.date_precision))
        if row_window is None:
            continue
        geos: list[tuple[Geo, _Window | None]] = [("global", row_window)]
        if model.data_residency_us:
            geos.append(("us", row_window.clip(residency)))
        for geo, window in geos:
            if window is None:
                continue
            for rates, tier in [(period, None), *((t, t.above_prompt_tokens) for t in period.tiers)]:
                for mode in _RATE_MODES:
                    yield from _rates_rows(table, model, period, rates, mode, tier, geo, window)
            if period.fast is not None and model.fast_mode is not None:
                fast_window = window.clip(_feature_window(model.fast_mode))
                if fast_window is not None:
                    yield from _fast_rows(table, model, period, period.fast, geo, fast_window)


def _rates_rows(
    table: PriceTable,
    model: Model,
    period: PricePeriod,
    rates: RateSet,
    mode: Mode,
    tier: int | None,
    geo: Geo,
    window: _Window,
) -> Iterator[RateRow]:
    prefix = "batch_" if mode == "batch" else ""
    for category in CATEGORIES:
        field = prefix + _FIELD_OF[category]
        value = rates.rate(field)
        if value is None:
            continue
        features: list[Feature] = ["message_batches"] if mode == "batch" else []
        features += _cache_features(category)
        valid = _clip_features(table, window, features)
        if valid is None:
            continue
        provenance = _provenance(field, rates.derived, rates.third_party, geo)
        yield _row(table, model, period.sources, valid, mode, geo, tier, category, value, provenance)


def _fast_rows(
    table: PriceTable, model: Model, period: PricePeriod, fast: FastRates, geo: Geo, window: _Window
) -> Iterator[RateRow]:
    for category in CATEGORIES:
        field = _FIELD_OF[category]
        value = fast.rate(field)
        if value is None:
            continue
        valid = _clip_features(table, window, _cache_features(category))
        if valid is None:
            continue
        provenance = _provenance(field, fast.derived, fast.third_party, geo)
        sources = tuple(dict.fromkeys((*period.sources, *fast.sources)))
        yield _row(table, model, sources, valid, "fast", geo, None, category, value, provenance)


def _cache_features(category: Category) -> list[Feature]:
    if category == "cache_write_1h":
        return ["prompt_caching", "cache_ttl_1h"]
    return ["prompt_caching"] if category.startswith("cache_") else []


def _clip_features(table: PriceTable, window: _Window, features: Sequence[Feature]) -> _Window | None:
    valid: _Window | None = window
    for feature in features:
        if valid is None:
            return None
        valid = valid.clip(_feature_window(table.features.period(feature)))
    return valid


def _feature_window(period: FeaturePeriod) -> _Window:
    return _Window(period.available_from, period.removed, period.from_precision)


def _provenance(field: str, derived: tuple[str, ...], third_party: tuple[str, ...], geo: Geo) -> Provenance:
    if geo == "us" or field in derived:
        return "derived"
    return "third_party" if field in third_party else "published"


def _row(
    table: PriceTable,
    model: Model,
    sources: tuple[str, ...],
    window: _Window,
    mode: Mode,
    geo: Geo,
    tier: int | None,
    category: Category,
    value: Decimal,
    provenance: Provenance,
) -> RateRow:
    if geo == "us":
        with localcontext(_EXACT):
            value = value * table.rules.data_residency.us_multiplier
        sources = tuple(dict.fromkeys((*sources, *table.rules.data_residency.sources)))
    return RateRow(
        model_id=model.id,
        model_name=model.name,
        valid_from=window.start,
        valid_to=window.end,
        mode=mode,
        inference_geo=geo,
        tier_above_prompt_tokens=tier,
        category=category,
        usd_per_mtok=value,
        provenance=provenance,
        date_precision=window.precision,
        sources=sources,
    )


# --- formats ---------------------------------------------------------------------------------------


def json_document(
    table: PriceTable, rows: Sequence[RateRow], *, view: Literal["historical", "current"], as_of: dt.date | None
) -> dict[str, Any]:
    """The JSON file: metadata, the column list, the aliases and the rows (rates as decimal strings)."""
    return {
        "format": "claude-rates",
        "format_version": FORMAT_VERSION,
        "view": view,
        "as_of": as_of.isoformat() if as_of else None,
        "unit": "USD per million tokens",
        "currency": table.data.currency,
        "table_checked": table.checked.isoformat(),
        "columns": list(COLUMNS),
        "model_aliases": model_aliases(table),
        "rows": [row.record() for row in rows],
    }


def to_csv(rows: Sequence[RateRow]) -> str:
    """CSV with a header; empty cells for nulls, sources joined by ';'."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        record = row.record()
        record["sources"] = ";".join(row.sources)
        writer.writerow(["" if record[column] is None else record[column] for column in COLUMNS])
    return buffer.getvalue()


def to_json_text(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def write_parquet(rows: Sequence[RateRow], path: Path) -> None:
    """Parquet with typed columns (DATE, DECIMAL(18, 10), BIGINT); needs pyarrow, or duckdb."""
    try:
        import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
        import pyarrow.parquet as pq  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        _write_parquet_with_duckdb(rows, path)
        return
    precision, scale = _PARQUET_DECIMAL
    _check_scale(rows, scale)
    columns = {
        "model_id": pa.array([r.model_id for r in rows], pa.string()),
        "model_name": pa.array([r.model_name for r in rows], pa.string()),
        "valid_from": pa.array([r.valid_from for r in rows], pa.date32()),
        "valid_to": pa.array([r.valid_to for r in rows], pa.date32()),
        "mode": pa.array([r.mode for r in rows], pa.string()),
        "inference_geo": pa.array([r.inference_geo for r in rows], pa.string()),
        "tier_above_prompt_tokens": pa.array([r.tier_above_prompt_tokens for r in rows], pa.int64()),
        "category": pa.array([r.category for r in rows], pa.string()),
        "usd_per_mtok": pa.array([r.usd_per_mtok for r in rows], pa.decimal128(precision, scale)),
        "provenance": pa.array([r.provenance for r in rows], pa.string()),
        "date_precision": pa.array([r.date_precision for r in rows], pa.string()),
        "sources": pa.array([list(r.sources) for r in rows], pa.list_(pa.string())),
    }
    try:
        pq.write_table(pa.table(columns), str(path))
    except OSError as error:
        raise ExportError(f"{path}: cannot write the Parquet file ({error})") from None


def _write_parquet_with_duckdb(rows: Sequence[RateRow], path: Path) -> None:
    try:
        import duckdb  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError:
        raise ExportError(
            "Parquet export needs pyarrow or duckdb, and neither is installed: "
            "`pip install pyarrow` (or `pip install duckdb`), or use --format json or csv"
        ) from None
    precision, scale = _PARQUET_DECIMAL
    _check_scale(rows, scale)
    connection = duckdb.connect()
    try:
        connection.execute(
            f"""CREATE TABLE rates (model_id VARCHAR, model_name VARCHAR, valid_from DATE, valid_to DATE,
            mode VARCHAR, inference_geo VARCHAR, tier_above_prompt_tokens BIGINT, category VARCHAR,
            usd_per_mtok DECIMAL({precision}, {scale}), provenance VARCHAR, date_precision VARCHAR,
            sources VARCHAR[])"""
        )
        connection.executemany(
            "INSERT INTO rates VALUES (?, ?, ?, ?, ?, ?, ?, ?, CAST(? AS DECIMAL(18, 10)), ?, ?, ?)",
            [
                (
                    r.model_id,
                    r.model_name,
                    r.valid_from,
                    r.valid_to,
                    r.mode,
                    r.inference_geo,
                    r.tier_above_prompt_tokens,
                    r.category,
                    str(r.usd_per_mtok),
                    r.provenance,
                    r.date_precision,
                    list(r.sources),
                )
                for r in rows
            ],
        )
        target = str(path).replace("'", "''")
        connection.execute(f"COPY rates TO '{target}' (FORMAT PARQUET)")
    except duckdb.Error as error:
        raise ExportError(f"{path}: cannot write the Parquet file ({error})") from None
    finally:
        connection.close()


def _check_scale(rows: Sequence[RateRow], scale: int) -> None:
    for row in rows:
        exponent = row.usd_per_mtok.normalize().as_tuple().exponent
        if isinstance(exponent, int) and -exponent > scale:
            raise ExportError(
                f"{row.model_id} {row.mode} {row.category}: {row.usd_per_mtok} has more than {scale} decimal "
                "places; Parquet's DECIMAL column would round it"
            )
