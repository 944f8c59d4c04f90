"""The cost gate: budgets, the lock round trip, and exact attribution of every change to prices or workloads.

Golden figures are computed here by hand from the rates of pricing/prices.yaml, typed as text:
  claude-sonnet-5-5 (2026-09-28 row): input 2, output 10, 5m write 2.50, read 0.20; batch halves each.
  claude-sonnet-5-5 (2026-10-07 row): the same, but read 0.10 (batch read 0.05).   [prices.yaml, "cache
  reads cut to 0.05x"]
  claude-haiku-4-5: input 1, output 5; batch input 0.50, batch output 2.50.
A month is 30.4375 days (365.25 / 12) and a week 7 days.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal as D
from pathlib import Path

import pytest

from estimator.plans import (
    CostLock,
    LockFileError,
    PlanCheck,
    PlanFileError,
    check_plan,
    load_plan,
    lock_plan,
    read_lock,
    write_lock,
)
from estimator.plans.lock import lock_to_json, parse_lock
from pricing import PriceTable, parse_price_table
from pricing.diff import RateChange
from tests.conftest import FIXTURES

PLANS = FIXTURES / "plans"
MTOK = D(1_000_000)
MONTH_DAYS = D("30.4375")
LOCK_DAY, CHECK_DAY = dt.date(2026, 10, 1), dt.date(2026, 10, 8)  # Sonnet 5.5's read price changed on 2026-10-07

SONNET_55_BEFORE = {"input": D(2), "output": D(10), "write_5m": D("2.50"), "read": D("0.20")}
SONNET_55_AFTER = {**SONNET_55_BEFORE, "read": D("0.10")}
HAIKU_45_BATCH = {"input": D("0.50"), "output": D("2.50")}


def chat_per_day(rates: dict[str, D], requests: int = 1000) -> D:
    """team.yaml's chat: 4,000-token prefix at 80% hits (5m writes), 1,000 unique input, 500 output."""
    prefix = D("0.8") * 4000 * rates["read"] + D("0.2") * 4000 * rates["write_5m"]
    return requests * (prefix + 1000 * rates["input"] + 500 * rates["output"]) / MTOK


def reports_per_month(requests: int = 80000) -> D:
    """team.yaml's reports, batch: 3,000 input and 1,000 output tokens per request."""
    return requests * (3000 * HAIKU_45_BATCH["input"] + 1000 * HAIKU_45_BATCH["output"]) / MTOK


def _plan(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "costs.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# --- budgets ----------------------------------------------------------------------------------------------


def test_workloads_over_and_under_their_budgets(table: PriceTable) -> None:
    check = check_plan(PLANS / "team.yaml", as_of=LOCK_DAY, table=table)
    chat, reports = check.workloads
    assert chat.cost_usd == chat_per_day(SONNET_55_BEFORE) == D("9.64")
    assert chat.plan_period_usd == D("9.64") * MONTH_DAYS
    assert (chat.within_budget, chat.passed) == (True, True)  # $9.64 ≤ $10 a day
    assert reports.cost_usd == reports_per_month() == D(320)
    assert (reports.within_budget, reports.passed) == (False, False)  # $320 > $200 a month
    assert check.total_usd == D("9.64") * MONTH_DAYS + D(320) == D("613.4175")
    assert check.within_budget is False  # > $400 a month
    assert check.exit_code == 1
    assert check.failures == (
        "reports: over budget: costs $320.00 per month, budget $200.00 per month",
        "total: over budget: $613.42 per month, budget $400.00 per month",
    )


def test_a_plan_within_every_budget_passes(table: PriceTable) -> None:
    check = check_plan(PLANS / "within.yaml", as_of=LOCK_DAY, table=table)
    assert check.passed and check.exit_code == 0 and check.failures == ()
    chat, summaries = check.workloads
    assert summaries.cost_usd == 5000 * (2000 * HAIKU_45_BATCH["input"] + 300 * HAIKU_45_BATCH["output"]) / MTOK
    assert check.total_usd == chat.cost_usd * MONTH_DAYS + summaries.cost_usd


def test_a_budget_equal_to_the_cost_is_within_it(tmp_path: Path, table: PriceTable) -> None:
    text = (PLANS / "team.yaml").read_text(encoding="utf-8").replace("{usd: 10, per: day}", "{usd: 9.64, per: day}")
    check = check_plan(_plan(tmp_path, text), as_of=LOCK_DAY, table=table)
    assert check.workload("chat").within_budget
    text = text.replace("{usd: 9.64, per: day}", "{usd: 9.63999, per: day}")
    assert not check_plan(_plan(tmp_path, text), as_of=LOCK_DAY, table=table).workload("chat").within_budget


def test_cheapest_mode_is_the_lowest_available(table: PriceTable) -> None:
    plan = load_plan(PLANS / "within.yaml", table=table)
    item = dataclasses.replace(plan.workload("chat"), mode="cheapest")
    plan = dataclasses.replace(plan, workloads=(item,))
    (chat,) = check_plan(plan, as_of=LOCK_DAY, table=table).workloads
    assert chat.mode == "batch_cached"
    assert chat.cost_usd == min(cost for _, cost in chat.modes if cost is not None)


# --- the lock ---------------------------------------------------------------------------------------------


def _lock(path: Path, table: PriceTable, day: dt.date = LOCK_DAY) -> CostLock:
    return lock_plan(load_plan(path, table=table), reason="baseline for the tests", as_of=day, table=table,
                     today=dt.date(2026, 10, 2))  # fmt: skip


def test_the_lock_round_trips_exactly(tmp_path: Path, table: PriceTable) -> None:
    lock = _lock(PLANS / "team.yaml", table)
    written = write_lock(lock, tmp_path / "costs.lock.json")
    assert read_lock(written) == lock
    assert parse_lock(lock_to_json(lock)) == lock
    assert written.read_text(encoding="utf-8") == lock_to_json(lock)


def test_the_lock_records_costs_rows_dates_version_and_reason(table: PriceTable) -> None:
    from estimator.version import __version__

    lock = _lock(PLANS / "team.yaml", table)
    assert (lock.reason, lock.created, lock.as_of, lock.package_version) == (
        "baseline for the tests",
        dt.date(2026, 10, 2),
        LOCK_DAY,
        __version__,
    )
    assert lock.table_checked == table.checked
    chat = lock.workload("chat")
    assert chat is not None
    assert (chat.mode_setting, chat.mode, chat.cost_usd) == ("realtime_cached", "realtime_cached", D("9.64"))
    assert dict(chat.modes)["realtime"] == 1000 * (5000 * 2 + 500 * 10) / MTOK
    assert dict(chat.identity)["requests"] == 1000
    row = lock.price_row("claude-sonnet-5-5")
    assert row is not None
    assert (row.effective_from, row.as_dict()["cache_read_mtok"]) == (dt.date(2026, 9, 28), D("0.20"))
    assert lock.total_usd == D("9.64") * MONTH_DAYS + D(320)


def test_a_lock_needs_a_reason(table: PriceTable) -> None:
    with pytest.raises(ValueError, match="a lock needs a reason"):
        lock_plan(load_plan(PLANS / "team.yaml", table=table), reason="  ", table=table)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{", "costs.lock.json:1: invalid JSON: Expecting property name enclosed in double quotes"),
        ('{"lock_version": 9}', "costs.lock.json: lock_version 9 is not 1"),
        ('{"lock_version": 1, "total": NaN}', "costs.lock.json: invalid JSON: NaN is not a number"),
        ("[" * 100_000 + "]" * 100_000, "costs.lock.json: "),
    ],
    ids=["malformed", "version", "nan", "deep"],
)
def test_bad_lock_files_are_refused_in_one_line(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "costs.lock.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LockFileError) as caught:
        read_lock(path)
    assert str(caught.value).startswith(str(tmp_path / expected))
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('"cost_usd": "9.64"', '"cost_usd": "lots"', "workloads.chat.cost_usd: expected a decimal number as text"),
        ('"cost_usd": "9.64"', '"cost_usd": "NaN"', "workloads.chat.cost_usd: expected a finite number"),
        ('"reason": "baseline for the tests"', '"reason": 5', "reason: expected text, got a number"),
        ('"as_of": "2026-10-01"', '"as_of": "October"', "as_of: expected a date (YYYY-MM-DD), got 'October'"),
        ('"kind": "workload"', '"kind": "wish"', "workloads.chat.kind: expected one of workload, batch_file"),
    ],
    ids=["decimal", "nan", "text", "date", "kind"],
)
def test_a_lock_with_a_wrong_field_names_it(table: PriceTable, old: str, new: str, expected: str) -> None:
    text = lock_to_json(_lock(PLANS / "team.yaml", table))
    assert old in text
    with pytest.raises(LockFileError) as caught:
        parse_lock(text.replace(old, new, 1), source_name="costs.lock.json")
    assert str(caught.value).startswith(f"costs.lock.json: {expected}")


# --- attribution ------------------------------------------------------------------------------------------


def _check(path: Path, table: PriceTable, lock: CostLock, **options: object) -> PlanCheck:
    return check_plan(path, as_of=CHECK_DAY, baseline=lock, table=table, **options)  # type: ignore[arg-type]


def test_a_provider_price_change_is_all_prices_changed(table: PriceTable) -> None:
    lock = _lock(PLANS / "team.yaml", table)
    check = _check(PLANS / "team.yaml", table, lock)
    old, new = chat_per_day(SONNET_55_BEFORE) * MONTH_DAYS, chat_per_day(SONNET_55_AFTER) * MONTH_DAYS
    change = check.workload("chat").change
    assert change is not None
    assert (change.old_usd, change.new_usd) == (old, new)
    assert change.price_effect_usd == new - old == D("-0.32") * MONTH_DAYS
    assert (change.workload_effect_usd, change.unattributed_usd, change.workload_changes) == (D(0), D(0), ())
    attribution = check.attribution
    assert attribution is not None
    assert attribution.price_effect_usd == new - old
    assert attribution.workload_effect_usd == 0
    assert attribution.change_usd == attribution.price_effect_usd
    assert RateChange("claude-sonnet-5-5", "in effect", "cache_read_mtok", D("0.20"), D("0.10")) in (
        attribution.price_changes
    )
    assert {c.model_id for c in attribution.price_changes} == {"claude-sonnet-5-5"}  # Haiku 4.5 did not change
    assert "claude-sonnet-5-5: prices from 2026-09-28 → prices from 2026-10-07" in attribution.price_notes


def test_a_workload_change_is_all_workload_changed_and_named(tmp_path: Path, table: PriceTable) -> None:
    lock = _lock(PLANS / "team.yaml", table, day=CHECK_DAY)
    text = (PLANS / "team.yaml").read_text(encoding="utf-8")
    text = text.replace("requests: 1000", "requests: 1500").replace(
        "model: claude-haiku-4-5", "model: claude-sonnet-5-5"
    )
    check = _check(_plan(tmp_path, text), table, lock)
    chat = check.workload("chat").change
    assert chat is not None
    assert chat.price_effect_usd == 0
    assert (
        chat.workload_effect_usd == (chat_per_day(SONNET_55_AFTER, 1500) - chat_per_day(SONNET_55_AFTER)) * MONTH_DAYS
    )
    assert chat.workload_changes == ("requests 1,000 → 1,500",)
    reports = check.workload("reports").change
    assert reports is not None
    assert reports.workload_changes == ("model claude-haiku-4-5-20251001 → claude-sonnet-5-5",)
    sonnet_batch = 80000 * (3000 * D(1) + 1000 * D(5)) / MTOK  # Sonnet 5.5 batch: input 1, output 5
    assert reports.workload_effect_usd == sonnet_batch - reports_per_month()
    attribution = check.attribution
    assert attribution is not None
    assert attribution.price_changes == ()
    assert attribution.price_effect_usd == 0
    assert attribution.workload_effect_usd == attribution.change_usd
    assert attribution.workload_changes == (
        "chat: requests 1,000 → 1,500",
        "reports: model claude-haiku-4-5-20251001 → claude-sonnet-5-5",
    )


def test_prices_and_workload_changed_together_split_exactly(tmp_path: Path, table: PriceTable) -> None:
    # new − old = [cost(old workload, new prices) − old] + [new − cost(old workload, new prices)]
    lock = _lock(PLANS / "team.yaml", table)
    text = (PLANS / "team.yaml").read_text(encoding="utf-8").replace("requests: 1000", "requests: 1500")
    change = _check(_plan(tmp_path, text), table, lock).workload("chat").change
    assert change is not None
    old = chat_per_day(SONNET_55_BEFORE) * MONTH_DAYS
    old_workload_new_prices = chat_per_day(SONNET_55_AFTER) * MONTH_DAYS
    new = chat_per_day(SONNET_55_AFTER, 1500) * MONTH_DAYS
    assert change.price_effect_usd == old_workload_new_prices - old
    assert change.workload_effect_usd == new - old_workload_new_prices
    assert change.change_usd == change.price_effect_usd + change.workload_effect_usd == new - old


def test_a_mode_change_is_a_workload_change(tmp_path: Path, table: PriceTable) -> None:
    lock = _lock(PLANS / "team.yaml", table, day=CHECK_DAY)
    text = (PLANS / "team.yaml").read_text(encoding="utf-8").replace("mode: realtime_cached", "mode: batch_cached")
    change = _check(_plan(tmp_path, text), table, lock).workload("chat").change
    assert change is not None
    assert change.workload_changes == ("mode realtime_cached → batch_cached",)
    assert change.price_effect_usd == 0
    batch = {"input": D(1), "output": D(5), "write_5m": D("1.25"), "read": D("0.05")}
    assert change.workload_effect_usd == (chat_per_day(batch) - chat_per_day(SONNET_55_AFTER)) * MONTH_DAYS


def test_an_edited_price_table_is_prices_changed_and_names_the_row(tmp_path: Path, table: PriceTable) -> None:
    lock = _lock(PLANS / "team.yaml", table, day=CHECK_DAY)
    text = Path(table.source_name).read_text(encoding="utf-8")
    start = text.index("  - id: claude-haiku-4-5-20251001")
    row = "        output_mtok: 5\n"
    batch_row = "        batch_output_mtok: 2.50\n"
    assert text.index(row, start) < text.index(batch_row, start) < text.index("  - id:", start + 10)
    edited_text = text[:start] + text[start:].replace(row, "        output_mtok: 6\n", 1).replace(
        batch_row, "        batch_output_mtok: 3\n", 1
    )
    edited = parse_price_table(edited_text, source_name="edited.yaml")
    check = check_plan(PLANS / "team.yaml", as_of=CHECK_DAY, baseline=lock, table=edited)
    change = check.workload("reports").change
    assert change is not None
    new_reports = 80000 * (3000 * D("0.50") + 1000 * D(3)) / MTOK
    assert change.price_effect_usd == new_reports - reports_per_month() == D(40)
    assert change.workload_effect_usd == 0
    attribution = check.attribution
    assert attribution is not None
    assert RateChange("claude-haiku-4-5-20251001", "table edited", "batch_output_mtok", D("2.50"), D(3)) in (
        attribution.price_changes
    )


def test_added_and_removed_workloads_are_workload_changes(tmp_path: Path, table: PriceTable) -> None:
    lock = _lock(PLANS / "team.yaml", table, day=CHECK_DAY)
    text = (PLANS / "team.yaml").read_text(encoding="utf-8").replace("  reports:", "  weekly-reports:")
    check = _check(_plan(tmp_path, text), table, lock)
    attribution = check.attribution
    assert attribution is not None
    assert attribution.workload_changes == ("weekly-reports: added", "reports: removed")
    assert [c.name for c in attribution.removed] == ["reports"]
    assert attribution.change_usd == 0 == attribution.workload_effect_usd  # renamed: same cost, both ways


def test_increase_limits_relative_and_absolute(tmp_path: Path, table: PriceTable) -> None:
    lock = _lock(PLANS / "within.yaml", table, day=CHECK_DAY)
    text = (PLANS / "within.yaml").read_text(encoding="utf-8").replace("requests: 1000", "requests: 1100")
    path = _plan(tmp_path, text)
    rise = (chat_per_day(SONNET_55_AFTER, 1100) - chat_per_day(SONNET_55_AFTER)) * MONTH_DAYS  # +10% of chat
    old_total = lock.total_usd
    assert rise == chat_per_day(SONNET_55_AFTER) * MONTH_DAYS / 10
    assert _check(path, table, lock, max_workload_increase="10%").passed  # exactly +10%: allowed
    assert not _check(path, table, lock, max_workload_increase="9.99%").passed
    assert _check(path, table, lock, max_increase=f"${rise}").passed
    failed = _check(path, table, lock, max_increase=f"${rise - D('0.01')}")
    assert failed.exit_code == 1
    assert failed.failures[0].startswith("total: rose beyond +$")
    assert (rise / old_total) * 100 < 10  # the total rose less than 10%
    assert _check(path, table, lock, max_increase="10%").passed


def test_the_plans_own_limits_apply_and_arguments_override_them(tmp_path: Path, table: PriceTable) -> None:
    lock = _lock(PLANS / "within.yaml", table, day=CHECK_DAY)
    text = (PLANS / "within.yaml").read_text(encoding="utf-8").replace("requests: 1000", "requests: 1100")
    text = text.replace("budget: {usd: 1000, per: month}", "budget: {usd: 1000, per: month}\nmax_increase: 1%")
    path = _plan(tmp_path, text)
    assert not _check(path, table, lock).passed
    assert _check(path, table, lock, max_increase="20%").passed


def test_a_changed_batch_file_is_split_through_its_old_prices(tmp_path: Path, table: PriceTable) -> None:
    # The lock keeps only the digest of a batch file, so the split goes through cost(new file, old prices).
    line = (
        '{"custom_id": "r%d", "params": {"model": "claude-sonnet-5-5", "max_tokens": 100, '
        '"messages": [{"role": "user", "content": "Summarise ticket %d in one sentence."}]}}\n'
    )
    (tmp_path / "requests.jsonl").write_text("".join(line % (i, i) for i in range(3)), encoding="utf-8")
    path = _plan(tmp_path, "workloads:\n  nightly:\n    batch_file: {path: requests.jsonl}\n    period: day\n")
    lock = _lock(path, table)
    unchanged = _check(path, table, lock).workload("nightly").change
    assert unchanged is not None
    assert unchanged.workload_changes == ()
    assert unchanged.price_effect_usd == unchanged.change_usd  # same file: every cent is the prices'
    (tmp_path / "requests.jsonl").write_text("".join(line % (i, i) for i in range(5)), encoding="utf-8")
    check = _check(path, table, lock)
    change = check.workload("nightly").change
    assert change is not None
    assert change.workload_changes[0].startswith("file content changed (sha256 ")
    then = check_plan(path, as_of=LOCK_DAY, table=table).workload("nightly").plan_period_usd
    assert change.workload_effect_usd == then - change.old_usd  # type: ignore[operator]
    assert change.price_effect_usd == change.new_usd - then  # type: ignore[operator]
    assert change.unattributed_usd == 0


# --- actual usage -----------------------------------------------------------------------------------------

SONNET_55_BATCH = {"input": D(1), "output": D(5), "read_before": D("0.10"), "read_after": D("0.05")}


def _results(path: Path, count: int) -> None:
    """Batch results of Sonnet 5.5: 1,000 input, 4,000 cache-read and 500 output tokens each (no dates)."""
    usage = (
        '{"input_tokens": 1000, "cache_read_input_tokens": 4000, "cache_creation_input_tokens": 0, '
        '"output_tokens": 500}'
    )
    line = (
        '{"custom_id": "r%d", "result": {"type": "succeeded", "message": {"id": "msg_%d", "type": "message", '
        '"role": "assistant", "model": "claude-sonnet-5-5", "content": [], "stop_reason": "end_turn", '
        '"usage": ' + usage + "}}}\n"
    )
    path.write_text("".join(line % (i, i) for i in range(count)), encoding="utf-8")


def _actual(count: int, read: D) -> D:
    rates = SONNET_55_BATCH
    return count * (1000 * rates["input"] + 4000 * read + 500 * rates["output"]) / MTOK


def test_actual_usage_is_priced_and_its_price_change_attributed(tmp_path: Path, table: PriceTable) -> None:
    _results(tmp_path / "results.jsonl", 2)
    path = _plan(tmp_path, "workloads:\n  nightly:\n    actuals: {paths: [results.jsonl]}\n")
    lock = _lock(path, table)
    nightly = lock.workload("nightly")
    assert nightly is not None
    assert (nightly.kind, nightly.mode, nightly.cost_usd) == ("actuals", "actual", _actual(2, D("0.10")))
    assert nightly.model_ids == ("claude-sonnet-5-5",)
    change = _check(path, table, lock).workload("nightly").change
    assert change is not None
    assert change.new_usd == _actual(2, D("0.05"))  # undated records: priced as of the check's date
    assert change.price_effect_usd == _actual(2, D("0.05")) - _actual(2, D("0.10"))
    assert (change.workload_effect_usd, change.workload_changes) == (D(0), ())


def test_changed_usage_files_split_through_their_old_prices(tmp_path: Path, table: PriceTable) -> None:
    _results(tmp_path / "results.jsonl", 2)
    path = _plan(tmp_path, "workloads:\n  nightly:\n    actuals: {paths: [results.jsonl]}\n")
    lock = _lock(path, table)
    _results(tmp_path / "results.jsonl", 3)
    change = _check(path, table, lock).workload("nightly").change
    assert change is not None
    assert change.workload_changes[0].startswith("file content changed (sha256 ")
    assert change.workload_effect_usd == _actual(3, D("0.10")) - _actual(2, D("0.10"))  # new file, old prices
    assert change.price_effect_usd == _actual(3, D("0.05")) - _actual(3, D("0.10"))
    assert change.change_usd == change.price_effect_usd + change.workload_effect_usd


def test_usage_that_cannot_be_priced_fails_the_plan_not_silently(tmp_path: Path, table: PriceTable) -> None:
    (tmp_path / "results.jsonl").write_text('{"custom_id": "r1", "result": {"type": "succeeded"}}\n', encoding="utf-8")
    path = _plan(tmp_path, "workloads:\n  nightly:\n    actuals: {paths: [results.jsonl]}\n")
    with pytest.raises(PlanFileError) as caught:
        check_plan(path, table=table)
    assert str(caught.value).startswith(f"{path}:2: workload 'nightly': 1 usage record(s) could not be priced, first:")
    assert "\n" not in str(caught.value)
