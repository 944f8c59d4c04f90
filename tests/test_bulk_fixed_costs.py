"""The bulk path's Python side (rollup → `PricedUsage` → `ActualCosts`) gives the very figures of the
straightforward implementation it replaced, kept here as the reference: lines, their Decimals (digit and
exponent: compared by `repr`), totals, per model / category / day, what-ifs, problems and notes.

Inputs: the rollup and samples DuckDB makes of the generated usage set (every model, billing, tier,
category, problem), the same rollup reshaped at random (rows in any order, split into several rows of one
line, sums missing, what-ifs without a price, zeros of every exponent), and the Python pricer's own result.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from pathlib import Path
from typing import Any, Literal

import pytest

from estimator.bulk import actuals as bulk_actuals
from estimator.bulk.duckdb_engine import DuckDBEngine
from estimator.bulk.inputs import discover
from estimator.bulk.rates import Billing, RateRow, model_names, rate_rows, rate_scale
from estimator.bulk.sql import COUNT_FIELDS
from estimator.costs import EXACT
from estimator.rates import ModeRates
from estimator.results import CATEGORIES, Category
from estimator.usage import actuals as usage_actuals
from estimator.usage.actuals import ActualCosts, CategoryActual, DayActual, ModelActual, ModeWhatIf, actual_costs
from estimator.usage.pricer import PricedLine, PricedUsage, TokenSums, price_usage
from estimator.usage.records import RESULT_TYPES, ResultType, UsageProblem, UsageRecord
from estimator.workload import MODES, Mode
from pricing import PriceTable
from tests.test_bulk_cases import as_record, table, usage_rows, write_parquet

pytest.importorskip("duckdb")

AS_OF = dt.date(2026, 12, 1)


# --- the reference: the implementation before the fixed costs were cut (kept as it was) ------------------


@dataclass(frozen=True)
class _LineKey:
    day: dt.date
    model_id: str
    prices_effective_from: dt.date
    service_tier: Literal["standard", "batch"]
    geo: Literal["global", "us"]
    speed: Literal["standard", "fast"]
    tier_above_tokens: int | None
    cached: int


_CATEGORY_COLUMNS: dict[Category, str] = {
    "uncached_input": "uncached_input_usd",
    "cache_write_5m": "cache_write_5m_usd",
    "cache_write_1h": "cache_write_1h_usd",
    "cache_read": "cache_read_usd",
    "output": "output_usd",
    "web_search": "web_search_usd",
}
_WHAT_IF_COLUMNS: dict[Mode, str] = {mode: f"what_if_{mode}_usd" for mode in MODES}
_SUMMED = ("requests", "records", *COUNT_FIELDS, *_CATEGORY_COLUMNS.values(), "total_usd", "unsplit_write_extra_usd")


def reference_priced_usage(
    rollup: Sequence[Mapping[str, Any]],
    samples: Sequence[Mapping[str, Any]],
    rows: Sequence[RateRow],
    *,
    table: PriceTable,
    default_day: dt.date,
) -> PricedUsage:
    lines = _reference_lines(rollup, rows, table)
    requests: dict[ResultType, int] = dict.fromkeys(RESULT_TYPES, 0)
    undated = unpriced = 0
    for row in rollup:
        kind = row["result_type"]
        if kind in requests:
            requests[kind] += int(row["request_count"] or 0)
        undated_kind = row["problem"] not in bulk_actuals._NOT_A_REQUEST and row["result_type"] == "succeeded"
        if row["undated"] and undated_kind:
            undated += int(row["records"])
        if row["problem"] is not None:
            unpriced += int(row["records"])
    problems, not_listed = bulk_actuals._problems(rollup, samples, table, default_day)
    problems += _reference_warnings(rollup, lines, table)
    problems.sort(key=lambda p: (p.severity != "error", p.source, p.line))
    with localcontext(EXACT):
        total = sum((line.total_usd for line in lines), Decimal(0))
    return PricedUsage(
        lines=tuple(lines),
        total_usd=total,
        requests_by_result=requests,
        not_billed=tuple(bulk_actuals._not_billed(samples)),
        cost_rows=(),
        problems=tuple(problems),
        problems_not_listed=not_listed,
        unpriced_records=unpriced,
        what_if_model=None,
        default_day=default_day,
        undated_records=undated,
    )


def _reference_lines(
    rollup: Sequence[Mapping[str, Any]], rows: Sequence[RateRow], table: PriceTable
) -> list[PricedLine]:
    merged: dict[_LineKey, dict[str, Any]] = {}
    for row in rollup:
        if row["problem"] is not None or row["result_type"] != "succeeded":
            continue
        key = _LineKey(
            row["day"],
            row["model_id"],
            row["prices_effective_from"],
            row["service_tier"],
            row["geo"],
            row["speed"],
            row["tier_above_tokens"],
            int(row["cached"]),
        )
        found = merged.get(key)
        if found is None:
            merged[key] = dict(row)
            continue
        with localcontext(EXACT):
            for column in _SUMMED:
                found[column] = found[column] + row[column]
            for column in _WHAT_IF_COLUMNS.values():
                both = found[column] is not None and row[column] is not None
                found[column] = found[column] + row[column] if both else None
    index = _ReferenceRateIndex(rows, table)
    lines = [_reference_line(key, sums, index) for key, sums in merged.items()]
    lines.sort(
        key=lambda line: (
            line.day, line.model_id, line.service_tier, line.billed_mode, line.speed, line.inference_geo,
            -1 if line.tier_above_tokens is None else line.tier_above_tokens, line.tokens.cache_write_1h_tokens > 0,
        )
    )  # fmt: skip
    return lines


class _ReferenceRateIndex:
    def __init__(self, rows: Sequence[RateRow], table: PriceTable) -> None:
        self._rows: dict[tuple[str, str], list[RateRow]] = defaultdict(list)
        for row in rows:
            self._rows[(row.model_id, row.geo)].append(row)
        self._table = table

    def model_name(self, model_id: str) -> str:
        return self._table.model(model_id).name

    def mode_rates(self, row: RateRow, billing: Billing, cached: bool) -> ModeRates | None:
        return row.billing(billing).mode_rates(cached=cached)

    def find(self, model_id: str, geo: str, day: dt.date, tier_above_tokens: int | None) -> RateRow:
        for row in self._rows[(model_id, geo)]:
            in_range = row.valid_from <= day and (row.valid_to is None or day < row.valid_to)
            if in_range and row.tier_above_tokens == tier_above_tokens:
                return row
        raise AssertionError(f"no rate row for {model_id} {geo} on {day} (tier {tier_above_tokens})")


def _reference_line(key: _LineKey, sums: Mapping[str, Any], index: _ReferenceRateIndex) -> PricedLine:
    row = index.find(key.model_id, key.geo, key.day, key.tier_above_tokens)
    billing: Billing = "batch" if key.service_tier == "batch" else key.speed
    rates = index.mode_rates(row, billing, bool(key.cached))
    assert rates is not None
    tokens = TokenSums(int(sums["requests"]), int(sums["records"]), *(int(sums[field]) for field in COUNT_FIELDS))
    what_if: dict[Mode, Decimal | None] = {}
    reasons: dict[Mode, str] = {}
    for mode, column in _WHAT_IF_COLUMNS.items():
        if sums[column] is not None:
            what_if[mode] = _exact(sums[column])
        else:
            what_if[mode] = None
            reasons[mode] = _reference_what_if_reason(row, mode, key)
    return PricedLine(
        day=key.day,
        model_id=key.model_id,
        model_name=index.model_name(key.model_id),
        prices_effective_from=key.prices_effective_from,
        service_tier=key.service_tier,
        inference_geo=key.geo,
        speed=key.speed,
        tier_above_tokens=key.tier_above_tokens,
        billed_mode=("batch" if key.service_tier == "batch" else "realtime") + ("_cached" if key.cached else ""),  # type: ignore[arg-type]
        tokens=tokens,
        rates=rates,
        usd={category: _exact(sums.get(_CATEGORY_COLUMNS.get(category, ""))) for category in CATEGORIES},
        total_usd=_exact(sums["total_usd"]),
        unsplit_write_extra_usd=_exact(sums["unsplit_write_extra_usd"]),
        what_if_usd=what_if,
        what_if_reasons=reasons,
    )


def _reference_what_if_reason(row: RateRow, mode: Mode, key: _LineKey) -> str:
    billing: Billing = "batch" if mode.startswith("batch") else key.speed
    rates = row.billing(billing)
    if rates.reason is not None:
        return rates.reason
    if mode.endswith("cached") and rates.cache_reason is not None:
        return rates.cache_reason
    return rates.cache_1h_reason or f"no {mode} price for {key.model_id} on {key.day}"


def _exact(value: Decimal | None) -> Decimal:
    return Decimal(0) if value is None else value


def _reference_warnings(
    rollup: Sequence[Mapping[str, Any]], lines: Sequence[PricedLine], table: PriceTable
) -> list[UsageProblem]:
    said: dict[tuple[object, ...], list[tuple[str, str]]] = {}
    warnings: dict[tuple[str, str], UsageProblem] = {}
    for line in lines:
        retired = table.model(line.model_id).lifecycle.retired
        after = retired is not None and line.day >= retired
        tokens = line.tokens
        cache = tuple(
            int(count > 0)
            for count in (
                tokens.cache_write_5m_tokens,
                tokens.cache_write_1h_tokens,
                tokens.cache_write_unsplit_tokens,
                tokens.cache_read_tokens,
            )
        )
        kind = (line.model_id, after, line.speed, line.service_tier, line.inference_geo, line.tier_above_tokens, cache)
        if kind not in said:
            record = UsageRecord(
                model=line.model_id,
                day=line.day,
                service_tier=line.service_tier,
                inference_geo=line.inference_geo,
                speed=line.speed,
                input_tokens=max(tokens.prompt_tokens // max(tokens.records, 1) - sum(cache), 0),
                cache_write_5m_tokens=cache[0],
                cache_write_1h_tokens=cache[1],
                cache_write_unsplit_tokens=cache[2],
                cache_read_tokens=cache[3],
            )
            found = price_usage(record, table=table).problems
            said[kind] = [(p.code, p.message) for p in found if p.severity == "warning"]
        for code, message in said[kind]:
            subject = (code, line.model_id)
            previous = warnings.get(subject)
            records = line.tokens.records + (previous.records if previous else 0)
            warnings[subject] = UsageProblem("", 0, "warning", code, message, None, records)
    for tier in sorted({row["batch_tier_given"] for row in rollup if row["batch_tier_given"]}):
        count = sum(int(row["records"]) for row in rollup if row["batch_tier_given"] == tier)
        warnings[("batch_result_tier", tier)] = UsageProblem(
            "",
            0,
            "warning",
            "batch_result_tier",
            f"batch results carrying service_tier {tier!r} are billed at batch rates (every result in a Message "
            "Batches results file is)",
            None,
            count,
        )
    return list(warnings.values())


def reference_summarize(priced: PricedUsage, table: PriceTable, sources: tuple[str, ...]) -> ActualCosts:
    lines = priced.lines
    tokens = priced.tokens
    with localcontext(EXACT):
        categories = {
            c: CategoryActual(tokens.quantity(c), sum((line.usd[c] for line in lines), Decimal(0))) for c in CATEGORIES
        }
        upper = priced.total_usd + sum((line.unsplit_write_extra_usd for line in lines), Decimal(0))
    return ActualCosts(
        total_usd=priced.total_usd,
        sources=sources,
        default_day=priced.default_day,
        undated_records=priced.undated_records,
        priced_records=priced.priced_records,
        unpriced_records=priced.unpriced_records,
        requests={kind: priced.requests_by_result.get(kind, 0) for kind in RESULT_TYPES},
        models=_reference_models(lines),
        categories=categories,
        days=_reference_days(lines),
        tokens=tokens,
        hit_rate=usage_actuals._hit_rate(tokens),
        output_tokens_per_request=usage_actuals._per_request(tokens.output_tokens, tokens.requests),
        upper_bound_total_usd=upper,
        what_if=_reference_what_if(lines),
        what_if_model=priced.what_if_model,
        cost_report=None,
        problems=priced.problems,
        problems_not_listed=priced.problems_not_listed,
        not_billed=priced.not_billed,
        notes=tuple(usage_actuals._notes(priced, tokens, upper)),
        lines=lines,
    )


def _reference_models(lines: tuple[PricedLine, ...]) -> tuple[ModelActual, ...]:
    grouped: dict[str, list[PricedLine]] = defaultdict(list)
    for line in lines:
        grouped[line.model_id].append(line)
    models = []
    with localcontext(EXACT):
        for model_id, own in grouped.items():
            tokens = TokenSums.total(line.tokens for line in own)
            usd = {c: sum((line.usd[c] for line in own), Decimal(0)) for c in CATEGORIES}
            models.append(ModelActual(model_id, own[0].model_name, tokens, usd, sum(usd.values(), Decimal(0))))
    models.sort(key=lambda m: (-m.total_usd, m.model_id))
    return tuple(models)


def _reference_days(lines: tuple[PricedLine, ...]) -> tuple[DayActual, ...]:
    by_day: dict[dt.date, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    with localcontext(EXACT):
        for line in lines:
            by_day[line.day][line.model_id] += line.total_usd
        return tuple(
            DayActual(day, sum(models.values(), Decimal(0)), dict(models)) for day, models in sorted(by_day.items())
        )


def _reference_what_if(lines: tuple[PricedLine, ...]) -> tuple[ModeWhatIf, ...]:
    result = []
    for mode in MODES:
        reasons = sorted({line.what_if_reasons[mode] for line in lines if line.what_if_usd[mode] is None})
        billed = bool(lines) and all(line.billed_mode == mode or usage_actuals._same_mode(line, mode) for line in lines)
        if reasons:
            result.append(ModeWhatIf(mode, None, "; ".join(reasons), billed))
            continue
        with localcontext(EXACT):
            total = sum((line.what_if_usd[mode] or Decimal(0) for line in lines), Decimal(0))
        result.append(ModeWhatIf(mode, total, None, billed))
    return tuple(result)


# --- the comparisons ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def engine_output(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """DuckDB's rollup and samples of the generated usage set."""
    path = write_parquet(tmp_path_factory.mktemp("fixed") / "usage.parquet", usage_rows())
    rows = rate_rows(table())
    with DuckDBEngine(memory_limit="256MB", threads=2) as engine:
        engine.load(
            discover([path]), rows, model_names(table()), rate_scale(rows), default_day=AS_OF, default_model=None
        )
        return engine.rollup(), engine.samples(bulk_actuals.SAMPLES_PER_KIND)


def _both(rollup: Sequence[Mapping[str, Any]], samples: Sequence[Mapping[str, Any]]) -> tuple[str, str]:
    rows = rate_rows(table())
    ours = bulk_actuals.priced_usage(rollup, samples, rows, table=table(), default_day=AS_OF)
    want = reference_priced_usage(rollup, samples, rows, table=table(), default_day=AS_OF)
    assert repr(ours) == repr(want)
    return (
        repr(usage_actuals.summarize(ours, table(), ("usage",))),
        repr(reference_summarize(want, table(), ("usage",))),
    )


def test_the_generated_set_gives_the_references_figures(
    engine_output: tuple[list[dict[str, Any]], list[dict[str, Any]]],
) -> None:
    rollup, samples = engine_output
    assert any(row["problem"] is not None for row in rollup) and samples  # problems and samples are compared too
    ours, want = _both(rollup, samples)
    assert ours == want


def _reshaped(rollup: list[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
    """The rollup reshaped: rows shuffled, some split in two rows of the same line (counts and money
    divided), some sums missing or zero in another exponent, some what-ifs without a price."""
    chance = random.Random(seed)
    money = [*_CATEGORY_COLUMNS.values(), "total_usd", "unsplit_write_extra_usd", *_WHAT_IF_COLUMNS.values()]
    counts = ["requests", "records", "request_count", *COUNT_FIELDS]
    result: list[dict[str, Any]] = []
    for original in rollup:
        row = dict(original)
        if row["problem"] is None and row["result_type"] == "succeeded":
            split = chance.random() < 0.2
            if chance.random() < 0.1 and not split:  # a missing sum is zero (never added: a line of one row)
                row[chance.choice(list(_CATEGORY_COLUMNS.values()))] = None
            if chance.random() < 0.1:
                row[chance.choice(money)] = chance.choice([Decimal("0E-11"), Decimal(0), Decimal("0.00")])
            if chance.random() < 0.1:
                row[chance.choice(list(_WHAT_IF_COLUMNS.values()))] = None
            if split:  # one line in two rows (the first takes a part, the second the rest)
                first = dict(row)
                for column in counts:
                    if row[column] is not None:
                        first[column] = row[column] // 2
                        row[column] = row[column] - first[column]
                for column in money:
                    if row[column] is not None:
                        first[column] = (row[column] / 2).quantize(Decimal("1e-11"))
                        row[column] = row[column] - first[column]
                result.append(first)
        result.append(row)
    chance.shuffle(result)
    return result


@pytest.mark.parametrize("seed", range(12))
def test_reshaped_rollups_give_the_references_figures(
    engine_output: tuple[list[dict[str, Any]], list[dict[str, Any]]], seed: int
) -> None:
    rollup, samples = engine_output
    ours, want = _both(_reshaped(rollup, seed), samples)
    assert ours == want


def test_an_empty_rollup_gives_the_references_figures() -> None:
    ours, want = _both([], [])
    assert ours == want


def test_the_python_pricers_result_is_summarized_as_before() -> None:
    """`summarize` also serves the Python path (and `reconcile`): its lines come from the usage pricer."""
    records = [as_record(row) for row in usage_rows() if "problem" not in row]
    priced = price_usage(records, table=table(), as_of=AS_OF)
    assert priced.lines
    ours = usage_actuals.summarize(priced, table(), ("records",))
    assert repr(ours) == repr(reference_summarize(priced, table(), ("records",)))
    assert repr(actual_costs(records, table=table(), as_of=AS_OF)) == repr(
        reference_summarize(priced, table(), ("<records>",))
    )


def test_summaries_of_lines_in_any_mix_are_the_references(
    engine_output: tuple[list[dict[str, Any]], list[dict[str, Any]]],
) -> None:
    """Subsets and orders of lines, with what-ifs missing and zeros of every exponent: the same summary."""
    rollup, samples = engine_output
    priced = bulk_actuals.priced_usage(rollup, samples, rate_rows(table()), table=table(), default_day=AS_OF)
    chance = random.Random(7)
    for _ in range(20):
        lines = list(priced.lines)
        chance.shuffle(lines)
        lines = lines[: chance.randint(0, len(lines))]
        for position, line in enumerate(lines):
            if chance.random() < 0.1:
                mode = chance.choice(MODES)
                lines[position] = dataclasses.replace(
                    line,
                    what_if_usd={**line.what_if_usd, mode: None},
                    what_if_reasons={**line.what_if_reasons, mode: f"no {mode} price"},
                )
            elif chance.random() < 0.1:
                zero = chance.choice([Decimal("0E-11"), Decimal(0), Decimal("-0")])
                lines[position] = dataclasses.replace(line, what_if_usd=dict.fromkeys(MODES, zero))
        _assert_summarized_as_before(priced, lines)
    for zero in (Decimal("0E-11"), Decimal("-0E-11"), Decimal("0.00")):  # what-ifs all zero: the sum's exponent
        lines = [dataclasses.replace(line, what_if_usd=dict.fromkeys(MODES, zero)) for line in priced.lines[:3]]
        _assert_summarized_as_before(priced, lines)


def _assert_summarized_as_before(priced: PricedUsage, lines: list[PricedLine]) -> None:
    with localcontext(EXACT):
        total = sum((line.total_usd for line in lines), Decimal(0))
    subset = dataclasses.replace(priced, lines=tuple(lines), total_usd=total)
    ours = usage_actuals.summarize(subset, table(), ("usage",))
    assert repr(ours) == repr(reference_summarize(subset, table(), ("usage",)))


def test_the_rollups_order_changes_no_line(tmp_path: Path) -> None:
    """The rollup comes back in the lines' order (for speed only): the lines are the same in any order."""
    path = write_parquet(tmp_path / "usage.parquet", usage_rows())
    rows = rate_rows(table())
    with DuckDBEngine(memory_limit="256MB", threads=2) as engine:
        engine.load(
            discover([path]), rows, model_names(table()), rate_scale(rows), default_day=AS_OF, default_model=None
        )
        rollup = engine.rollup()
    backwards = list(reversed(rollup))
    ours = bulk_actuals.priced_usage(backwards, [], rows, table=table(), default_day=AS_OF)
    assert repr(ours.lines) == repr(bulk_actuals.priced_usage(rollup, [], rows, table=table(), default_day=AS_OF).lines)
