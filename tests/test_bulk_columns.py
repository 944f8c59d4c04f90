"""`price_columns_bulk` (DuckDB) prices columns as `estimator.usage.price_columns` (pure Python) does.

The oracle is `price_columns` on the same columns as Python lists. The generated set is the bulk engines'
(`tests/test_bulk_cases.py`: every model on the days its prices or features change and the day before its
release, standard / batch / fast, global / US, every category, the Haiku 5.5 and old 200K tiers at and one
token over their thresholds, unknown models, unpriced tiers, geos and speeds) with bad counts sprinkled in,
given as lists, NumPy arrays, Arrow arrays and chunked Arrow arrays. What is compared is what the module
docstring promises: figures `==`, refused counts as `price_columns` lists them, refusals by code, message,
first row and count; the documented differences are tested as such.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from estimator.bulk.columns import ColumnError, _counts, price_arrow_bulk, price_columns_bulk
from estimator.usage.pricer import MAX_LISTED, PricedLine, PricedUsage, price_columns
from estimator.usage.records import COUNT_FIELDS
from tests.test_bulk_cases import COUNT_PROBLEMS, table, usage_rows

np = pytest.importorskip("numpy")
pa = pytest.importorskip("pyarrow")
pytest.importorskip("duckdb")

DAY = dt.date(2026, 11, 25)
KEYS = {"service_tiers": "service_tier", "inference_geos": "inference_geo", "speeds": "speed"}
Columns = dict[str, Any]


# --- the columns ---------------------------------------------------------------------------------------


def generated() -> Columns:
    """The bulk engines' generated set as Python lists (its rows the Python reader refuses left out)."""
    unreadable = {problem for _, _, problem in COUNT_PROBLEMS}
    rows = [row for row in usage_rows() if row["result_type"] == "succeeded" and row.get("problem") not in unreadable]
    columns: Columns = {"models": [row["model"] for row in rows], "days": [row["day"] for row in rows]}
    columns |= {name: [row[field] for row in rows] for name, field in KEYS.items()}
    columns |= {field: [row[field] for row in rows] for field in COUNT_FIELDS[:-1]}
    columns["requests"] = [(0, 1, 1, 2)[number % 4] for number in range(len(rows))]
    return columns


def spoiled(columns: Columns, values: tuple[Any, ...]) -> Columns:
    """Every 97th row given a bad count, the field and the value taken in turn (rows stay refused once)."""
    out = {name: list(column) for name, column in columns.items()}
    fields = ("input_tokens", "cache_read_tokens", "output_tokens", "web_search_requests", "requests")
    for turn, row in enumerate(range(5, len(out["models"]), 97)):
        out[fields[turn % len(fields)]][row] = values[turn % len(values)]
    return out


def as_numpy(columns: Columns) -> Columns:
    """Counts as int64 arrays, days as datetime64[D], models as a str array, the other keys as objects."""
    out: Columns = {"models": np.array(columns["models"]), "days": np.array(columns["days"], dtype="datetime64[D]")}
    out |= {name: np.array(columns[name], dtype=object) for name in KEYS}
    return out | {field: np.array(columns[field], dtype=np.int64) for field in COUNT_FIELDS}


def as_arrow(columns: Columns, *, chunks: int = 1, encoded_keys: bool = False) -> Columns:
    """Arrow arrays (models dictionary-encoded, as a warehouse hands them over; the other keys too with
    `encoded_keys`, their NULLs as null indices), or chunked in `chunks` (slices: offsets not 0)."""
    out: Columns = {"models": pa.array(columns["models"]).dictionary_encode(), "days": pa.array(columns["days"])}
    out |= {name: pa.array(columns[name], type=pa.string()) for name in KEYS}
    if encoded_keys:
        out |= {name: out[name].dictionary_encode() for name in KEYS}
    out |= {field: pa.array(columns[field], type=pa.int64()) for field in COUNT_FIELDS}
    if chunks == 1:
        return out
    size = -(-len(columns["models"]) // chunks)
    return {name: pa.chunked_array([array.slice(start, size) for start in range(0, len(array), size)])
            for name, array in out.items()}  # fmt: skip


def as_lists(columns: Columns) -> Columns:
    """What `price_columns` reads: the same values as Python lists."""
    out = {}
    for name, column in columns.items():
        if isinstance(column, pa.Array | pa.ChunkedArray):
            out[name] = column.to_pylist()
        elif isinstance(column, np.ndarray):
            out[name] = column.tolist()
        else:
            out[name] = list(column)
    return out


def both(columns: Columns, **options: Any) -> tuple[PricedUsage, PricedUsage]:
    """(DuckDB, price_columns) on the same columns."""
    plain = as_lists(columns)
    bulk = price_columns_bulk(columns["models"], columns["days"], **_rest(columns), table=table(), **options)
    python = price_columns(plain["models"], plain["days"], **_rest(plain), table=table())
    return bulk, python


def _rest(columns: Columns) -> Columns:
    return {name: column for name, column in columns.items() if name not in ("models", "days")}


# --- what is promised ----------------------------------------------------------------------------------


def _line_key(line: PricedLine) -> tuple[Any, ...]:
    tier = -1 if line.tier_above_tokens is None else line.tier_above_tokens
    return (line.day, line.model_id, line.service_tier, line.billed_mode, line.speed, line.inference_geo, tier,
            line.tokens.values())  # fmt: skip


def _line_figures(line: PricedLine) -> tuple[Any, ...]:
    """Everything a line says in numbers: its key, sums, rates, categories, total, upper bound, what-ifs."""
    rates = line.rates
    rate_values = (rates.input_mtok, rates.output_mtok, rates.cache_write_5m_mtok, rates.cache_write_1h_mtok)
    return (_line_key(line), line.model_name, line.prices_effective_from, line.tokens, rate_values,
            rates.cache_read_mtok, dict(line.usd), line.total_usd, line.unsplit_write_extra_usd,
            dict(line.what_if_usd), sorted(line.what_if_reasons))  # fmt: skip


def _head(message: str) -> str:
    return message.split("; also line", 1)[0]


def assert_as_price_columns(bulk: PricedUsage, python: PricedUsage) -> None:
    """The module docstring's promise, checked field by field."""
    assert bulk.total_usd == python.total_usd
    assert bulk.category_usd == python.category_usd
    assert bulk.tokens == python.tokens
    assert (bulk.priced_records, bulk.unpriced_records) == (python.priced_records, python.unpriced_records)
    assert bulk.requests_by_result == python.requests_by_result
    assert (bulk.undated_records, bulk.default_day) == (python.undated_records, python.default_day)
    assert (bulk.not_billed, bulk.cost_rows, bulk.what_if_model) == ((), (), None)
    assert (python.not_billed, python.cost_rows, python.what_if_model) == ((), (), None)
    assert bulk.problems_not_listed == python.problems_not_listed
    ours = sorted(bulk.lines, key=_line_key)
    theirs = sorted(python.lines, key=_line_key)
    assert [_line_figures(line) for line in ours] == [_line_figures(line) for line in theirs]
    # Refused counts: the very problems price_columns lists.
    assert [p for p in bulk.problems if p.code == "invalid_count"] == [
        p for p in python.problems if p.code == "invalid_count"
    ]
    # Refused keys: same code, message and first row; every record counted in its code.
    ours_refused = [p for p in bulk.problems if p.severity == "error" and p.code != "invalid_count"]
    theirs_refused = [p for p in python.problems if p.severity == "error" and p.code != "invalid_count"]
    assert [(p.code, p.line, p.source, _head(p.message)) for p in ours_refused] == [
        (p.code, p.line, p.source, _head(p.message)) for p in theirs_refused
    ]
    assert [p.records for p in ours_refused] == [p.records for p in theirs_refused]  # per message, exactly
    # Warnings: the very ones price_columns says, with no row.
    python_warnings = {(p.code, p.message) for p in python.problems if p.severity == "warning"}
    assert {(p.code, p.message) for p in bulk.problems if p.severity == "warning"} == python_warnings
    assert all(p.line == 0 for p in bulk.problems if p.severity == "warning")


# --- the generated set in every container ----------------------------------------------------------------

LIST_BAD = (None, -1, True, False, 1.5, 1.0, float("nan"), "7", Decimal(3))
CONTAINERS: dict[str, Callable[[Columns], Columns]] = {
    "lists": lambda columns: spoiled(columns, LIST_BAD),
    "lists, no bad count": lambda columns: columns,
    "numpy": lambda columns: as_numpy(spoiled(columns, (-1, -7))),
    "numpy, no bad count": as_numpy,
    "arrow": lambda columns: as_arrow(spoiled(columns, (None, -3))),
    "chunked arrow": lambda columns: as_arrow(spoiled(columns, (None, -3)), chunks=3),
    "arrow, every key encoded": lambda columns: as_arrow(spoiled(columns, (None, -3)), encoded_keys=True),
    "chunked arrow, every key encoded, no bad count": lambda columns: as_arrow(columns, chunks=4, encoded_keys=True),
}


@pytest.mark.parametrize("container", CONTAINERS)
def test_the_generated_set_prices_as_price_columns(container: str) -> None:
    columns = CONTAINERS[container](generated())
    bulk, python = both(columns)
    assert_as_price_columns(bulk, python)
    assert python.total_usd > 0 and python.unpriced_records > 0
    assert {line.tier_above_tokens for line in python.lines} >= {None, 100_000, 200_000}
    assert {(line.service_tier, line.inference_geo, line.speed) for line in python.lines} >= {
        ("batch", "us", "standard"),
        ("standard", "us", "fast"),
        ("standard", "global", "fast"),
    }
    tokens = python.tokens
    assert min(tokens.cache_write_5m_tokens, tokens.cache_write_1h_tokens, tokens.web_search_requests) > 0
    refused = {p.code for p in python.problems if p.severity == "error"}
    assert refused >= {"unknown_model", "before_release", "not_priced", "priority_tier", "unknown_speed"}
    assert ("invalid_count" in refused) == ("no bad count" not in container)


def test_threads_and_memory_limit_are_duckdbs() -> None:
    columns = generated()
    bulk, python = both(columns, threads=1, memory_limit="256MB")
    assert_as_price_columns(bulk, python)


# --- the cases by name ------------------------------------------------------------------------------------


def test_zero_rows_and_one_row() -> None:
    empty: Columns = {"models": [], "days": [], "input_tokens": [], "output_tokens": []}
    bulk, python = both(empty)
    assert_as_price_columns(bulk, python)
    assert bulk.total_usd == 0 and bulk.lines == () and bulk.problems == ()
    one = {"models": ["claude-sonnet-4-6"], "days": [DAY], "input_tokens": [1000], "output_tokens": [200]}
    bulk, python = both(one)
    assert_as_price_columns(bulk, python)
    assert bulk.total_usd == Decimal("0.006")  # 1,000 × $3 + 200 × $15 per MTok (Sonnet 4.6)


def test_prompt_tiers_at_and_over_their_thresholds() -> None:
    """Haiku 5.5's 100K tier and the old 200K tier (Opus 4.6 in its first period), at N and N+1 tokens."""
    models = ["claude-haiku-5-5"] * 4 + ["claude-opus-4-6"] * 4
    days = [DAY] * 4 + [dt.date(2026, 2, 10)] * 4
    reads = [99_996, 99_997, 0, 120_000, 199_996, 199_997, 0, 250_000]
    columns = {"models": models, "days": days, "input_tokens": [4] * 8, "output_tokens": [1] * 8}
    bulk, python = both(columns | {"cache_read_tokens": reads})
    assert_as_price_columns(bulk, python)
    tiers = Counter((line.model_id, line.tier_above_tokens) for line in bulk.lines for _ in range(line.tokens.records))
    assert tiers == Counter({("claude-haiku-5-5", None): 2, ("claude-haiku-5-5", 100_000): 2,
                             ("claude-opus-4-6", None): 2, ("claude-opus-4-6", 200_000): 2})  # fmt: skip


@pytest.mark.parametrize(
    ("make", "values"),
    [
        (lambda values: np.array(values, dtype=np.float64), [1.0, float("nan"), 3.0]),
        (lambda values: pa.array(values, type=pa.float64()), [1.0, float("nan"), None]),
        (lambda values: np.array(values, dtype=bool), [True, False, True]),
        (lambda values: pa.array(values, type=pa.decimal128(5, 1)), [Decimal("2.0"), Decimal("1.5"), None]),
        (lambda values: np.array(values, dtype=object), [5, 1.0, np.int64(3)]),
    ],
    ids=["numpy float64", "arrow double", "numpy bool", "arrow decimal", "numpy objects"],
)
def test_a_column_of_non_ints_is_refused_row_by_row(make: Callable[[list[Any]], Any], values: list[Any]) -> None:
    """Never truncated, never priced: each row refused with its value, as price_columns refuses it."""
    column = make(values)
    bulk = price_columns_bulk(["claude-sonnet-4-6"] * 3, [DAY] * 3, input_tokens=column, output_tokens=[1, 2, 3])
    python = price_columns(["claude-sonnet-4-6"] * 3, [DAY] * 3, input_tokens=as_lists({"c": column})["c"],
                           output_tokens=[1, 2, 3], table=table())  # fmt: skip
    assert_as_price_columns(bulk, python)
    assert bulk.problems and all(p.code == "invalid_count" for p in bulk.problems)
    if isinstance(column, np.ndarray) and column.dtype == np.float64:
        assert [p.message for p in bulk.problems] == [
            "input_tokens must be an int ≥ 0, got 1.0",
            "input_tokens must be an int ≥ 0, got nan",
            "input_tokens must be an int ≥ 0, got 3.0",
        ]
        assert bulk.total_usd == 0 and bulk.unpriced_records == 3


def test_numpy_and_arrow_integers_of_any_width_are_counts() -> None:
    widths = [np.int8, np.int16, np.int32, np.uint8, np.uint16, np.uint32, np.uint64]
    for width in widths:
        counts = {"input_tokens": np.array([100, 7], dtype=width), "output_tokens": pa.array([5, 0], type=pa.int16())}
        bulk = price_columns_bulk(["claude-sonnet-4-6"] * 2, [DAY] * 2, **counts, table=table())
        python = price_columns(["claude-sonnet-4-6"] * 2, [DAY] * 2, input_tokens=[100, 7], output_tokens=[5, 0])
        assert_as_price_columns(bulk, python)


@pytest.mark.parametrize("big", [2**31 - 1, 2**31, 2**40])
def test_counts_past_the_fast_keys_limit_price_exactly(big: int) -> None:
    """A column whose maximum passes `FAST_COUNT_LIMIT` keeps its checks in the key: the row with the big
    count takes the per-record path (its sums in 128 bits), the others the fast one; a column within the
    limits has its checks left out. Either way, the figures of price_columns."""
    models = ["claude-sonnet-4-6", "claude-opus-5-5", "claude-sonnet-4-6"]
    inputs, outputs = [100, big, 7], [5, 1, big]
    bulk = price_columns_bulk(
        models, [DAY] * 3, input_tokens=np.array(inputs), output_tokens=pa.array(outputs), table=table()
    )
    python = price_columns(models, [DAY] * 3, input_tokens=inputs, output_tokens=outputs, table=table())
    assert_as_price_columns(bulk, python)
    assert bulk.tokens.input_tokens == 107 + big


def test_sums_past_a_bigint_are_read_exactly() -> None:
    """The rollup's counts travel as BIGINT; ten thousand requests of 10^15 tokens sum past 2^63 - 1, and the
    rollup is read again with its counts as text: the same figures as price_columns, to the token."""
    rows = 10_000
    models, days = ["claude-sonnet-4-6"] * rows, [DAY] * rows
    inputs = np.full(rows, 10**15, dtype=np.int64)
    bulk = price_columns_bulk(models, days, input_tokens=inputs, output_tokens=np.ones(rows, np.int64), table=table())
    python = price_columns(models, days, input_tokens=inputs.tolist(), output_tokens=[1] * rows, table=table())
    assert bulk.tokens.input_tokens == 10**19 > 2**63 - 1
    assert_as_price_columns(bulk, python)


def test_numpy_and_arrow_integer_columns_are_not_copied() -> None:
    column = np.arange(5, dtype=np.int64)
    assert _counts(column, "input_tokens", 5).array.buffers()[1].address == column.ctypes.data
    arrow = pa.array(column)
    assert _counts(arrow, "input_tokens", 5).array is arrow


def test_many_bad_rows_list_the_first_ones_and_count_the_rest() -> None:
    rows = MAX_LISTED + 20
    columns = {"models": ["claude-sonnet-4-6"] * rows, "days": [DAY] * rows,
               "input_tokens": np.full(rows, -1, dtype=np.int64), "output_tokens": [1] * rows}  # fmt: skip
    bulk, python = both(columns)
    assert_as_price_columns(bulk, python)
    assert len(bulk.problems) == MAX_LISTED and bulk.problems_not_listed == 20 and bulk.unpriced_records == rows


def test_a_refusal_names_its_first_row_and_counts_every_record() -> None:
    """Without bad counts the engine numbers the rows when it lists them; with them, each row keeps the number
    it was given."""
    models = ["claude-sonnet-4-6", *["claude-nope-9"] * 14, "claude-sonnet-4-6"]
    for inputs in ([5] * 16, [5, 5, -1, *[5] * 13]):
        columns = {"models": models, "days": [DAY] * 16, "input_tokens": inputs, "output_tokens": [5] * 16}
        bulk, python = both(columns)
        assert_as_price_columns(bulk, python)
        (refused,) = [p for p in bulk.problems if p.code == "unknown_model"]
        assert refused.line == 2 and refused.records == 14 - (inputs[2] < 0)
        listed = [int(n) for n in refused.message.split("; also lines ", 1)[1].rstrip(", .").split(", ")]
        assert set(listed) <= set(range(3, 16)) - ({3} if inputs[2] < 0 else set())


def test_columns_of_another_length_are_an_error_naming_the_column() -> None:
    for make in (list, np.array, pa.array):
        with pytest.raises(ValueError, match="column cache_read_tokens has 1 rows, models has 2"):
            price_columns_bulk(["a", "b"], [DAY, DAY], input_tokens=[1, 2], output_tokens=[1, 2],
                               cache_read_tokens=make([1]))  # fmt: skip
    with pytest.raises(ColumnError, match="column days has 3 rows") as raised:
        price_columns_bulk(["a", "b"], [DAY] * 3, input_tokens=[1, 2], output_tokens=[1, 2])
    assert raised.value.column == "days"


# --- a pyarrow Table ------------------------------------------------------------------------------------


def test_an_arrow_table_with_the_flat_names_prices_as_its_columns() -> None:
    columns = spoiled(generated(), (None, -2))
    data = pa.table(
        {
            "model": pa.array(columns["models"]).dictionary_encode(),
            "created_at": pa.array(columns["days"]),
            "service_tier": columns["service_tiers"],
            "inference_geo": columns["inference_geos"],
            "speed": columns["speeds"],
            "custom_id": [f"r{n}" for n in range(len(columns["models"]))],  # not read
            "cache_read_input_tokens": pa.array(columns["cache_read_tokens"], type=pa.int64()),  # the SDK's name
            "ephemeral_5m_input_tokens": pa.array(columns["cache_write_5m_tokens"], type=pa.int64()),
            **{field: pa.array(columns[field], type=pa.int64())
               for field in COUNT_FIELDS if field not in ("cache_read_tokens", "cache_write_5m_tokens")},
        }
    )  # fmt: skip
    python = price_columns(columns["models"], columns["days"], **_rest(columns), table=table())
    assert_as_price_columns(price_arrow_bulk(data, table=table(), source="<columns>"), python)


def test_an_arrow_table_refuses_what_price_columns_cannot_read() -> None:
    base = {"model": ["claude-sonnet-4-6"], "day": [DAY], "input_tokens": [1], "output_tokens": [1]}
    for extra in ("result_type", "cache_creation_input_tokens"):
        with pytest.raises(ColumnError, match=f"column {extra} is not read"):
            price_arrow_bulk(pa.table(base | {extra: ["errored" if extra == "result_type" else 5]}))
    with pytest.raises(ColumnError, match="needs columns day"):
        price_arrow_bulk(pa.table({key: value for key, value in base.items() if key != "day"}))
    with pytest.raises(ColumnError, match="takes a pyarrow Table"):
        price_arrow_bulk(base)


# --- the documented differences ---------------------------------------------------------------------------


def test_lines_come_in_the_engines_order() -> None:
    """Two lines of one day, model and mode: price_columns keeps first appearance, the engine its own order."""
    columns = {"models": ["claude-sonnet-4-6"] * 2, "days": [DAY] * 2, "input_tokens": [1, 2],
               "output_tokens": [1, 2], "inference_geos": ["us", None]}  # fmt: skip
    bulk, python = both(columns)
    assert_as_price_columns(bulk, python)
    assert [line.inference_geo for line in python.lines] == ["us", "global"]
    assert [line.inference_geo for line in bulk.lines] == ["global", "us"]


def test_values_no_request_carries_are_refused_as_in_files() -> None:
    """price_columns prices thinking above output and counts past 10^15; the engine refuses them."""
    columns = {
        "models": ["claude-sonnet-4-6"] * 4,
        "days": [DAY] * 4,
        "input_tokens": [10, 10**16, 2**70, 10],
        "output_tokens": [5, 5, 5, 5],
        "thinking_tokens": [6, 0, 0, 0],
    }
    bulk, python = both(columns)
    assert python.priced_records == 4
    assert bulk.priced_records == 1 and bulk.unpriced_records == 3
    assert [(p.line, p.code) for p in bulk.problems] == [
        (1, "inconsistent_thinking"),
        (2, "count_too_large"),
        (3, "count_too_large"),
    ]
    uint = price_columns_bulk(["claude-sonnet-4-6"] * 2, [DAY] * 2, input_tokens=np.array([2**64 - 1, 3], np.uint64),
                              output_tokens=[1, 1], table=table())  # fmt: skip
    assert [(p.line, p.code) for p in uint.problems] == [(1, "count_too_large")] and uint.priced_records == 1


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ({"models": ["claude-sonnet-4-6", None]}, r"column models: row 2 is None, not a model name"),
        ({"models": pa.array(["claude-sonnet-4-6", None])}, r"column models: row 2 is None, not a model name"),
        ({"models": [1, 2]}, r"column models: row 1 is 1, not a model name"),
        ({"days": [DAY, None]}, r"column days: row 2 is None, not a date"),
        ({"days": [DAY, "2026-11-25"]}, r"column days: row 2 is '2026-11-25', not a date"),
        ({"days": np.array(["2026-11-25", "NaT"], dtype="datetime64[D]")}, r"column days: row 2 is None"),
        ({"days": pa.array(["2026-11-25", "x"])}, r"column days must hold dates or timestamps, not string"),
        ({"days": [DAY, dt.datetime(2026, 11, 25, 10)]}, r"column days mixes dates and timestamps"),
        ({"service_tiers": ["batch", 5]}, r"column service_tiers: row 2 is 5, not text or None"),
        ({"speeds": pa.array([1, 2])}, r"column speeds must hold text, not int64"),
        ({"input_tokens": np.zeros((2, 1), dtype=np.int64)}, r"column input_tokens must be one-dimensional"),
    ],
)
def test_keys_and_days_of_the_wrong_kind_are_an_error_naming_the_row(columns: Columns, message: str) -> None:
    given = {"models": ["claude-sonnet-4-6"] * 2, "days": [DAY] * 2, "input_tokens": [1, 2], "output_tokens": [1, 2]}
    given |= columns
    with pytest.raises(ColumnError, match=message):
        price_columns_bulk(given["models"], given["days"], **_rest(given), table=table())


def test_timestamps_are_priced_on_their_utc_day() -> None:
    utc = dt.UTC
    stamps = [dt.datetime(2026, 11, 25, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-2))),
              dt.datetime(2026, 11, 25, 1, tzinfo=utc)]  # fmt: skip
    bulk = price_columns_bulk(["claude-sonnet-4-6"] * 2, stamps, input_tokens=[1, 2], output_tokens=[1, 2])
    assert [line.day for line in bulk.lines] == [DAY, DAY + dt.timedelta(days=1)]
    naive = price_columns_bulk(["claude-sonnet-4-6"], np.array(["2026-11-25T23:59"], dtype="datetime64[m]"),
                               input_tokens=[1], output_tokens=[1])  # fmt: skip
    assert [line.day for line in naive.lines] == [DAY]


def test_importing_the_module_loads_no_engine_or_arrays() -> None:
    code = (
        "import sys, estimator, estimator.bulk, estimator.bulk.columns; "
        "print([m for m in ('duckdb', 'pyarrow', 'numpy') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_nan_count_is_never_priced() -> None:
    """NaN compares false with everything: it must not slip through a `< 0` test."""
    column = np.array([math.nan, 2.0])
    priced = price_columns_bulk(["claude-sonnet-4-6"] * 2, [DAY] * 2, input_tokens=column, output_tokens=[1, 1])
    assert priced.priced_records == 0 and priced.total_usd == 0
    assert [p.message for p in priced.problems] == [
        "input_tokens must be an int ≥ 0, got nan",
        "input_tokens must be an int ≥ 0, got 2.0",
    ]


def test_the_line_figures_compared_are_a_lines_every_number() -> None:
    """The helper leaves out only the rates' provenance notes and the what-if reasons' wording (see the
    module docstring): every other field of a line is compared."""
    compared = {"day", "model_id", "service_tier", "billed_mode", "speed", "inference_geo", "tier_above_tokens",
                "tokens", "model_name", "prices_effective_from", "rates", "usd", "total_usd",
                "unsplit_write_extra_usd", "what_if_usd", "what_if_reasons"}  # fmt: skip
    assert {field.name for field in dataclasses.fields(PricedLine)} == compared


def test_one_code_with_several_messages_is_counted_exactly_per_message() -> None:
    """Two unknown models, fifteen rows each: each message names its first row and counts its own fifteen
    (the sample holds ten rows of each, the count comes with it)."""
    models = ["claude-nope-1"] * 15 + ["claude-nope-2"] * 15
    columns = {"models": models, "days": [DAY] * 30, "input_tokens": [1] * 30, "output_tokens": [1] * 30}
    bulk, python = both(columns)
    assert_as_price_columns(bulk, python)
    assert [(p.line, p.records) for p in python.problems] == [(1, 15), (16, 15)]
    assert [(p.line, p.records) for p in bulk.problems] == [(1, 15), (16, 15)]


def test_rows_are_numbered_only_to_be_listed() -> None:
    """The engine prices an Arrow table without row numbers; listing its rows before numbering them is an
    error with the remedy, never rows without numbers."""
    from estimator.bulk.duckdb_engine import DuckDBEngine
    from estimator.bulk.rates import model_names, rate_rows, rate_scale
    from estimator.usage.errors import UsageFileError

    data = pa.table({"model": ["claude-nope-9", "claude-sonnet-4-6"], "day": [DAY, DAY], "input_tokens": [1, 2],
                     "output_tokens": [1, 2]})  # fmt: skip
    rates = rate_rows(table())
    with DuckDBEngine(threads=1) as engine:
        engine.load_arrow(data, rates, model_names(table()), rate_scale(rates), default_day=DAY, source="<t>")
        assert sum(int(row["records"]) for row in engine.rollup()) == 2
        with pytest.raises(UsageFileError, match=r"call DuckDBEngine.number_arrow_rows\(\) first"):
            engine.samples(10)
        engine.number_arrow_rows()
        assert [(row["source_file"], row["source_row"], row["problem"]) for row in engine.samples(10)] == [
            ("<t>", 1, "unknown_model")
        ]
