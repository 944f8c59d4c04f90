"""The Plan files page: its builders without Streamlit, and the page through AppTest on a script that calls
`render()` (the multipage app registers the page itself)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from pathlib import Path

import pytest
import yaml
from streamlit.testing.v1 import AppTest

from estimator.plans import check_plan, load_plan, lock_plan, parse_plan
from estimator.plans.lock import lock_to_json
from pricing import PriceTable
from tests.conftest import FIXTURES
from ui import plan_files as rows

PLANS = FIXTURES / "plans"
ROOT = Path(__file__).resolve().parents[1]
PAGE = f"import sys\nsys.path.insert(0, {str(ROOT)!r})\nfrom ui.pages.plan_files import render\nrender()\n"


# --- builders ---------------------------------------------------------------------------------------------


def test_a_plan_becomes_rows_and_back_the_same_plan(table: PriceTable) -> None:
    plan = load_plan(PLANS / "team.yaml", table=table)
    plan_rows, skipped = rows.rows_from_plan(plan)
    assert skipped == []
    assert [row["name"] for row in plan_rows] == ["chat", "reports"]
    text = rows.plan_yaml(plan_rows, rows.settings_from_plan(plan))
    again = parse_plan(text, source_name="costs.yaml", table=table)
    assert [(w.name, w.workload, w.period, w.mode, w.budget) for w in again.workloads] == [
        (w.name, w.workload, w.period, w.mode, w.budget) for w in plan.workloads
    ]
    assert (again.period, again.mode, again.budget) == (plan.period, plan.mode, plan.budget)


def test_saved_numbers_are_exact_yaml_numbers(table: PriceTable) -> None:
    row = dict(rows.DEFAULT_ROWS[0], cache_hit_rate=0.85, budget_usd=600.5)
    text = rows.plan_yaml([row], rows.PlanSettings(budget_usd=D("1500.25")))
    document = yaml.safe_load(text)
    assert document["budget"] == {"usd": 1500.25, "per": "month"}
    assert "cache_hit_rate: 0.85\n" in text and "usd: 600.5" in text  # written from the text, not a float repr
    plan = parse_plan(text, table=table)
    workload = plan.workloads[0].workload
    assert workload is not None and workload.cache_hit_rate == D("0.85")


def test_rows_that_cannot_be_a_plan_say_which_row(table: PriceTable) -> None:
    empty = dict.fromkeys(rows.DEFAULT_ROWS[0])
    with pytest.raises(rows.RowsError) as caught:
        rows.plan_yaml([rows.DEFAULT_ROWS[0], dict(rows.DEFAULT_ROWS[1], name=" "), empty, rows.DEFAULT_ROWS[0]],
                       rows.DEFAULT_SETTINGS)  # fmt: skip
    assert caught.value.problems == (
        "row 2: a workload needs a name",
        "row 4: the name 'support-bot' is already used by another row",
    )
    with pytest.raises(rows.RowsError, match="add at least one workload"):
        rows.plan_yaml([empty], rows.DEFAULT_SETTINGS)


def test_the_check_table_has_a_row_per_workload_and_a_total(table: PriceTable) -> None:
    check = check_plan(PLANS / "team.yaml", as_of=dt.date(2026, 10, 1), table=table)
    built = rows.check_table(check)
    assert built.column("Workload") == ["chat", "reports", "Total"]
    assert built.column("Per month") == [293.42, 320.0, 613.42]  # 9.64 × 30.4375 and 320, rounded to cents
    assert built.column("Status")[0] == "ok"
    assert built.column("Status")[1] == "over budget: costs $320.00 per month, budget $200.00 per month"
    assert rows.verdict_text(check) == "2 checks failed: $613.42 per month."


def test_the_attribution_reads_as_markdown(table: PriceTable) -> None:
    plan = load_plan(PLANS / "team.yaml", table=table)
    lock = lock_plan(plan, reason="Q4", as_of=dt.date(2026, 10, 1), table=table)
    check = check_plan(plan, as_of=dt.date(2026, 10, 8), baseline=lock, table=table)
    text = rows.attribution_markdown(check)
    assert text is not None
    assert "- **Prices changed: −\\$9.74**" in text
    assert "  - claude-sonnet-5-5 cache\\_read\\_mtok: 0.20 → 0.10 \\$/MTok (in effect)" in text
    assert rows.attribution_markdown(check_plan(plan, as_of=dt.date(2026, 10, 8), table=table)) is None


# --- the page ---------------------------------------------------------------------------------------------


def run_page() -> AppTest:
    app = AppTest.from_string(PAGE, default_timeout=60)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def test_the_page_starts_from_an_example_and_gives_a_verdict(table: PriceTable) -> None:
    app = run_page()
    (verdict,) = app.success
    plan = parse_plan(rows.plan_yaml(list(rows.DEFAULT_ROWS), rows.DEFAULT_SETTINGS), table=table)
    expected = check_plan(plan, table=table)
    assert verdict.value == rows.verdict_text(expected)
    assert list(app.dataframe[1].value["Workload"]) == ["support-bot", "weekly-survey", "Total"]


def test_an_uploaded_plan_fills_the_table_and_a_lock_gives_the_attribution(table: PriceTable) -> None:
    app = run_page()
    app.file_uploader(key="plan_files_upload").set_value(
        ("costs.yaml", (PLANS / "team.yaml").read_bytes(), "application/yaml")
    ).run()
    assert not app.exception
    assert list(app.dataframe[0].value["name"]) == ["chat", "reports"]
    assert app.selectbox(key="plan_files_period").value == "month"
    assert app.number_input(key="plan_files_budget").value == 400.0
    app.date_input(key="plan_files_as_of").set_value(dt.date(2026, 10, 8)).run()
    plan = load_plan(PLANS / "team.yaml", table=table)
    lock = lock_plan(plan, reason="Q4 baseline", as_of=dt.date(2026, 10, 1), table=table)
    app.file_uploader(key="plan_files_lock").set_value(
        ("costs.lock.json", lock_to_json(lock).encode(), "application/json")
    ).run()
    assert not app.exception, [e.value for e in app.exception]
    (verdict,) = app.error
    assert verdict.value == "2 checks failed: $603.68 per month."
    explanation = [m.value for m in app.markdown if "Prices changed" in m.value]
    assert explanation and "Q4 baseline" in explanation[0]


def test_a_plan_naming_files_is_refused_on_upload() -> None:
    app = run_page()
    text = (ROOT / "examples" / "costs.yaml").read_bytes()
    app.file_uploader(key="plan_files_upload").set_value(("costs.yaml", text, "application/yaml")).run()
    assert not app.exception
    (error,) = app.error
    assert "names a file (prompts/typical-ticket.md), which is only read when the plan is loaded from a file" in (
        error.value
    )
    assert list(app.dataframe[0].value["name"]) == ["support-bot", "weekly-survey"]  # the table is unchanged


def test_a_bad_lock_file_is_one_message() -> None:
    app = run_page()
    app.file_uploader(key="plan_files_lock").set_value(("costs.lock.json", b"{", "application/json")).run()
    assert not app.exception
    assert [e.value for e in app.error] == [
        "costs.lock.json:1: invalid JSON: Expecting property name enclosed in double quotes"
    ]
