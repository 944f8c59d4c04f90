"""The Streamlit app through `AppTest`: widgets set by key, figures compared with the estimator's own.

Every test runs the real script (`app.py`) in-process, without a browser and without the network.
"""

from __future__ import annotations

import ast
import csv
import dataclasses
import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from estimator import (
    MODES,
    Estimate,
    Workload,
    analyze_batch_file,
    budget,
    compare_models,
    count_tokens,
    estimate,
    format_tokens,
    format_usd,
    hit_rate_from_traffic,
)
from estimator.report import estimate_rows, estimate_to_dict
from pricing import PriceTable
from tests.conftest import FIXTURES
from ui.labels import MODE_LABELS, NOT_PRICED, metric_label, plain
from ui.report import csv_text, json_text, markdown_report
from ui.scenario import DEFAULT_WORKLOAD, workload_to_params

APP = Path(__file__).resolve().parents[1] / "app.py"
TIMEOUT = 60  # the first run of a process imports plotly and pandas


def run_app(
    query: dict[str, str] | None = None, page: str | None = None, secrets: dict[str, str] | None = None
) -> AppTest:
    app = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    # Any secret here replaces the machine's secrets.toml files, so a developer's own key never leaks in.
    app.secrets.update(secrets or {"unrelated": "placeholder"})
    for name, value in (query or {}).items():
        app.query_params[name] = value
    if page is not None:
        app.query_params["page"] = page  # a `?page=` link opens that page (how the single-page app's tabs linked)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def open_section(app: AppTest, key: str) -> AppTest:
    """Open a sidebar expander drawn only while open ("sidebar_more", "sidebar_terms"), as a click does."""
    app.session_state[key] = True
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def metric(app: AppTest, label: str) -> str:
    values = [m.value for m in app.metric if m.label == label]
    assert len(values) == 1, f"no single metric labelled {label!r}: {[m.label for m in app.metric]}"
    return values[0]


def texts(elements: object) -> list[str]:
    return [element.value for element in elements]  # type: ignore[attr-defined]


def assert_plan_shown(app: AppTest, result: Estimate) -> None:
    workload = result.workload
    assert any(
        f"Totals for {format_tokens(workload.requests)} requests per {workload.period}" in text
        for text in texts(app.caption)
    )
    for mode in MODES:
        cost = result.mode(mode)
        total = metric(app, metric_label(mode, "total"))
        if not cost.available:
            assert total == NOT_PRICED
            continue
        assert total == format_usd(cost.total_usd)
        assert metric(app, metric_label(mode, "per request")) == format_usd(cost.per_request_usd)
        saves = "baseline" if mode == "realtime" else format_usd(cost.savings_usd)
        assert metric(app, metric_label(mode, "saves")) == saves


# --- page 1: plan ----------------------------------------------------------------------------------


def test_first_visit_shows_the_readme_example(table: PriceTable) -> None:
    app = run_app()
    assert_plan_shown(app, estimate(DEFAULT_WORKLOAD, table=table))
    assert metric(app, metric_label("batch_cached", "total")) == "$16.23"
    assert dict(app.query_params) == workload_to_params(DEFAULT_WORKLOAD)


def test_changing_inputs_updates_every_figure(table: PriceTable) -> None:
    app = run_app()
    app.number_input(key="requests").set_value(2500)
    app.number_input(key="prefix_tokens").set_value(12_000)
    app.number_input(key="output_tokens").set_value(800)
    app.radio(key="cache_ttl").set_value("1h")
    app.number_input(key="cache_hit_rate_pct").set_value(60.0)
    app.selectbox(key="period").set_value("week")
    app.run()
    assert not app.exception
    workload = Workload(
        model="claude-sonnet-4-6",
        requests=2500,
        prefix_tokens=12_000,
        unique_input_tokens=5000,
        output_tokens=800,
        cache_hit_rate="0.6",
        cache_ttl="1h",
        period="week",
    )
    assert_plan_shown(app, estimate(workload, table=table))
    assert dict(app.query_params) == workload_to_params(workload)


def test_another_model_and_options(table: PriceTable) -> None:
    app = open_section(run_app(), "sidebar_more")
    app.selectbox(key="model").set_value("claude-opus-4-6")
    app.radio(key="geo").set_value("us")
    app.radio(key="tool_use").set_value("auto")
    app.number_input(key="web_searches_per_request").set_value(2.0)
    app.run()
    assert not app.exception
    workload = dataclasses.replace(
        DEFAULT_WORKLOAD, model="claude-opus-4-6", geo="us", tool_use="auto", web_searches_per_request=Decimal(2)
    )
    assert_plan_shown(app, estimate(workload, table=table))


def test_query_params_reopen_a_scenario(table: PriceTable) -> None:
    workload = Workload(
        model="claude-haiku-5-5",
        requests=40_000,
        prefix_tokens=6000,
        unique_input_tokens=900,
        output_tokens=300,
        cache_hit_rate="0.7",
        cache_ttl="1h",
        period="day",
        fast=False,
        tool_use="auto",
    )
    app = run_app(workload_to_params(workload))
    assert_plan_shown(app, estimate(workload, table=table))
    assert app.selectbox(key="model").value == "claude-haiku-5-5"
    assert app.number_input(key="requests").value == 40_000
    assert app.radio(key="cache_ttl").value == "1h"
    assert app.number_input(key="cache_hit_rate_pct").value == pytest.approx(70.0)
    assert not app.error


def test_bad_query_params_show_a_message_and_fall_back(table: PriceTable) -> None:
    app = run_app({"requests": "-5", "model": "claude-sonet-4-6", "cache_hit_rate": "85", "prefix_tokens": "3000"})
    shown = " ".join(texts(app.error) + texts(app.markdown))
    assert "The link's scenario had problems" in shown
    assert "requests='-5'" in shown
    assert "did you mean claude-sonnet-4-6" in shown
    assert "0.85 for 85%" in shown
    assert_plan_shown(app, estimate(DEFAULT_WORKLOAD, table=table))
    assert app.query_params["requests"] == "1000"  # the address bar now holds a working link
    app.button(key="dismiss_link_errors").click().run()
    assert not app.error


UNPRICED = dataclasses.replace(DEFAULT_WORKLOAD, model="claude-3-haiku-20240307", as_of=dt.date(2024, 5, 1))
"""Haiku 3 before prompt caching and Message Batches existed: only real-time has a price."""


def test_unpriced_modes_say_not_priced_with_the_reason(table: PriceTable) -> None:
    app = run_app(workload_to_params(UNPRICED))
    result = estimate(UNPRICED, table=table)
    assert_plan_shown(app, result)
    for mode in ("realtime_cached", "batch", "batch_cached"):
        assert metric(app, metric_label(mode, "total")) == NOT_PRICED
        assert plain(result.mode(mode).unavailable_reason or "") in texts(app.caption)
    assert "$0" not in [m.value for m in app.metric]


def test_an_option_the_model_lacks_is_marked_beside_it_and_the_plan_stays(table: PriceTable) -> None:
    workload = dataclasses.replace(DEFAULT_WORKLOAD, model="claude-haiku-4-5-20251001")
    app = run_app({"model": workload.model, "geo": "us"})
    beside = texts(app.sidebar.warning)
    assert any(
        "US data residency" in message and "The figures are for global residency." in message for message in beside
    )
    assert "Fix the input marked in the sidebar to see the figures:" not in texts(app.error)
    assert_plan_shown(app, estimate(workload, table=table))  # priced for global, never wiped
    assert "geo" not in app.query_params  # the link holds the plan shown


def test_an_option_the_model_lacks_is_offered_disabled_with_the_reason() -> None:
    app = run_app({"model": "claude-haiku-4-5-20251001"})
    geo = app.radio(key="geo")
    assert geo.disabled and geo.value == "global"
    assert "US data residency" in (geo.help or "")
    assert app.toggle(key="fast").disabled  # no fast mode on this model either
    assert not any("The figures are for" in message for message in texts(app.sidebar.warning))


def test_a_typo_sized_number_is_refused_with_a_message() -> None:
    app = run_app()
    app.number_input(key="requests").set_value(10**13).run()
    assert not app.exception
    assert any("requests" in message and "a typo?" in message for message in texts(app.sidebar.error))


def test_every_warning_is_shown_beside_its_input(table: PriceTable) -> None:
    workload = dataclasses.replace(DEFAULT_WORKLOAD, prefix_tokens=500, model="claude-sonnet-4-5-20250929")
    app = run_app(workload_to_params(workload))
    result = estimate(workload, table=table)
    codes = {warning.code for warning in result.warnings}
    assert "below_min_cacheable" in codes and codes & {"deprecated", "retired"}  # Sonnet 4.5's lifecycle
    beside = texts(app.sidebar.warning) + texts(app.sidebar.info)
    for warning in result.warnings:
        assert warning.message in beside


def test_hit_rate_from_traffic(table: PriceTable) -> None:
    app = run_app()
    app.radio(key="hit_rate_source").set_value("From traffic").run()
    app.number_input(key="requests_per_hour").set_value(12.0).run()
    assert not app.exception
    workload = dataclasses.replace(DEFAULT_WORKLOAD, cache_hit_rate=hit_rate_from_traffic(12, "5m", table=table))
    assert_plan_shown(app, estimate(workload, table=table))
    assert app.query_params["requests_per_hour"] == "12"
    assert "cache_hit_rate" not in app.query_params
    app.radio(key="hit_rate_source").set_value("Set a value").run()
    assert app.number_input(key="cache_hit_rate_pct").value == pytest.approx(85.0)  # kept while hidden


def test_budget_shows_the_most_requests_per_mode(table: PriceTable) -> None:
    app = run_app()
    app.number_input(key="budget_usd").set_value(250.0).run()
    for result in budget(DEFAULT_WORKLOAD, "250", table=table):
        assert result.max_requests is not None
        assert metric(app, metric_label(result.mode, "requests")) == format_tokens(result.max_requests)


def test_the_plan_offers_its_downloads() -> None:
    app = run_app()
    keys = {button.key for button in app.get("download_button")}
    assert {"download_plan_csv", "download_plan_json", "download_plan_report"} <= keys


# --- the API key -----------------------------------------------------------------------------------


def test_without_a_key_token_counts_are_labelled_approximations() -> None:
    app = run_app()
    assert app.session_state["anthropic_api_key"] is None
    assert any("Offline approximations" in caption for caption in texts(app.caption))


def test_a_key_from_the_environment_is_used_but_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "sk-ant-test-environment-key"
    monkeypatch.setenv("ANTHROPIC_API_KEY", secret)
    app = run_app()
    assert app.session_state["anthropic_api_key"] == secret
    assert "Exact counts available (count_tokens API)." in texts(app.caption)
    assert app.text_input(key="api_key_input").value == ""  # never put into the page
    shown = texts(app.markdown) + texts(app.caption) + texts(app.info) + list(app.query_params.values())
    assert not any(secret in text for text in shown)


def test_a_key_from_streamlit_secrets_is_used() -> None:
    app = run_app(secrets={"ANTHROPIC_API_KEY": "sk-ant-test-secret"})
    assert app.session_state["anthropic_api_key"] == "sk-ant-test-secret"
    assert "Exact counts available (count_tokens API)." in texts(app.caption)


def test_a_typed_key_stays_in_the_session_and_out_of_the_link() -> None:
    secret = "sk-ant-test-typed-key"
    app = run_app()
    app.text_input(key="api_key_input").input(secret).run()
    assert app.session_state["anthropic_api_key"] == secret
    assert not any(secret in value for value in app.query_params.values())
    assert "Exact counts available (count_tokens API)." in texts(app.caption)


# --- page 2: dry-run a batch file ------------------------------------------------------------------


def money(value: Decimal | None) -> object:
    """A table's money cell for `value`: the amount as shown (rounded for display), or blank (NaN)."""
    if value is None:
        return pytest.approx(float("nan"), nan_ok=True)
    return pytest.approx(float(value), rel=5e-3, abs=5e-3)


def upload(app: AppTest, path: Path) -> AppTest:
    app.file_uploader(key="batch_upload").set_value((path.name, path.read_bytes(), "application/jsonl")).run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def test_an_uploaded_file_is_validated_and_priced(table: PriceTable) -> None:
    path = FIXTURES / "mixed_models.jsonl"
    app = upload(run_app(page="Dry-run a batch file"), path)
    expected = analyze_batch_file(path, table=table)
    assert "Every line is valid." in texts(app.success)
    costs = app.dataframe[0].value
    assert list(costs["Model"]) == [model.model_name for model in expected.models] + ["Total"]
    assert list(costs["Batch + cache"]) == [
        *(money(model.cost("batch_cached").expected_usd) for model in expected.models),
        money(expected.total("batch_cached").expected_usd),
    ]
    ranges = app.dataframe[1].value
    total = ranges[(ranges["Model"] == "Total") & (ranges["Mode"] == "Batch + cache")].iloc[0]
    batch_cached = expected.total("batch_cached")
    assert (total["Low"], total["Expected"], total["High"]) == (
        money(batch_cached.low_usd),
        money(batch_cached.expected_usd),
        money(batch_cached.high_usd),
    )
    tokens = app.dataframe[2].value
    assert all("estimated offline" in counted for counted in tokens["Counted"])


def test_a_file_with_errors_lists_them_with_line_numbers() -> None:
    app = upload(run_app(page="Dry-run a batch file"), FIXTURES / "invalid.jsonl")
    assert any("would make the API reject" in text for text in texts(app.error))
    report = app.table[-1].value
    assert (2, "invalid json") in set(zip(report["Line"], report["Problem"], strict=True))
    assert (12, "stream not allowed") in set(zip(report["Line"], report["Problem"], strict=True))


def test_a_malformed_paste_shows_its_error_not_a_traceback() -> None:
    app = run_app(page="Dry-run a batch file")
    app.radio(key="dry_run_input").set_value("Paste requests").run()
    app.text_area(key="batch_paste").input('{"custom_id": "x", "params": {"model": ').run()
    assert not app.exception
    report = app.table[-1].value
    assert list(report["Problem"]) == ["invalid json"]


def test_dry_run_options_change_the_figures(table: PriceTable) -> None:
    path = FIXTURES / "shared_prefix.jsonl"
    app = upload(run_app(page="Dry-run a batch file"), path)
    app.number_input(key="dry_run_hit_rate_pct").set_value(50.0).run()
    expected = analyze_batch_file(path, hit_rate="0.5", table=table)
    shown = app.dataframe[0].value["Real-time + cache"].iloc[-1]
    assert shown == money(expected.total("realtime_cached").expected_usd)


def test_token_counter_counts_and_fills_the_prefix(table: PriceTable) -> None:
    app = run_app()
    app.session_state["token_counter"] = True  # open its expander (drawn only while open)
    app.run()
    prompt = "You are a careful assistant who reviews invoices. " * 30
    app.text_area(key="prompt_text").input(prompt).run()
    app.button(key="count_tokens").click().run()
    counted = count_tokens(prompt, model=DEFAULT_WORKLOAD.model, table=table)
    assert any(f"~{format_tokens(counted.expected_tokens)} tokens" in text for text in texts(app.markdown))
    app.button(key="use_as_prefix").click().run()
    assert app.number_input(key="prefix_tokens").value == counted.expected_tokens


# --- page 3: compare models ------------------------------------------------------------------------


def test_compare_lists_models_sorted(table: PriceTable) -> None:
    app = run_app(page="Compare models")
    comparisons = compare_models(DEFAULT_WORKLOAD, table=table)
    rows = app.dataframe[0].value
    assert list(rows["Model"]) == [item.model_name for item in comparisons]
    assert list(rows["Cheapest total"]) == [money(item.cheapest_total_usd) for item in comparisons]
    totals = [item.cheapest_total_usd for item in comparisons]
    assert totals == sorted(totals)  # type: ignore[type-var]
    assert "Claude Opus 3" not in set(rows["Model"])
    app.checkbox(key="compare_include_retired").check().run()
    assert "Claude Opus 3" in set(app.dataframe[0].value["Model"])


def test_every_modes_total_is_drawn_once_its_expander_opens(table: PriceTable) -> None:
    app = run_app(page="Compare models")
    assert len(app.dataframe) == 1  # the closed expander draws no second grid
    app.session_state["compare_every_mode"] = True
    app.run()
    comparisons = compare_models(DEFAULT_WORKLOAD, table=table)
    rows = app.dataframe[1].value
    assert list(rows["Model"]) == [item.model_name for item in comparisons]
    assert set(MODE_LABELS.values()) <= set(rows.columns)


def test_compare_explains_the_tokenizer_adjustment(table: PriceTable) -> None:
    app = run_app(page="Compare models")
    note = next(text for text in texts(app.info) if text.startswith("Your token figures"))
    assert "Claude Sonnet 4.6 (legacy tokenizer)" in note
    assert "×1.3" in note and "between ×1 and ×1.35" in note
    rows = app.dataframe[0].value
    haiku = rows[rows["Model"] == "Claude Haiku 5.5"].iloc[0]
    item = next(c for c in compare_models(DEFAULT_WORKLOAD, table=table) if c.model_name == "Claude Haiku 5.5")
    assert item.low is not None and item.high is not None
    low, high = item.low.mode("batch_cached").total_usd, item.high.mode("batch_cached").total_usd
    assert (haiku["Low"], haiku["High"]) == (money(low), money(high))
    app.selectbox(key="tokens_measured_for").set_value("2026").run()
    assert app.query_params["tokens_measured_for"] == "2026"


def test_compare_offers_csv_and_json() -> None:
    app = run_app(page="Compare models")
    keys = {button.key for button in app.get("download_button")}
    assert {"download_compare_csv", "download_compare_json"} <= keys


# --- page 4: prices --------------------------------------------------------------------------------


def test_prices_page_shows_the_sonnet_5_5_cache_read_cut() -> None:
    app = run_app(page="Prices")
    app.date_input(key="prices_diff_from").set_value(dt.date(2026, 10, 1))
    app.date_input(key="prices_diff_to").set_value(dt.date(2026, 10, 7))
    app.run()
    changes = app.dataframe[-1].value
    cut = changes[(changes["Model"] == "Claude Sonnet 5.5") & (changes["Rate"] == "Cache read")].iloc[0]
    assert (cut["Change"], cut["Before"], cut["After"], cut["Relative"]) == ("changed", 0.2, 0.1, -50.0)
    assert "claude-sonnet-5-5" in app.code[0].value


def test_prices_page_lists_the_table_as_of_a_date(table: PriceTable) -> None:
    app = run_app(page="Prices")
    day = dt.date(2025, 6, 1)
    app.date_input(key="prices_as_of").set_value(day).run()
    rows = app.dataframe[0].value
    assert list(rows["Model"]) == [model.name for model in table.models_as_of(day)]
    assert list(app.dataframe[1].value["Id"]) == [model.id for model in table.models_as_of(day)]
    sonnet4 = rows[rows["Model"] == table.model("claude-sonnet-4-20250514").name].iloc[0]
    assert (sonnet4["Input"], sonnet4["Output"], sonnet4["Cache read"]) == (3.0, 15.0, 0.3)


def test_prices_page_shows_a_models_history_and_sources(table: PriceTable) -> None:
    app = run_app(page="Prices")
    app.selectbox(key="prices_model").set_value("claude-sonnet-5-5").run()
    history = app.dataframe[2].value
    assert list(history["From"]) == ["2026-09-28", "2026-10-07"]
    assert list(history["Cache read"]) == [0.2, 0.1]
    shown = " ".join(texts(app.markdown))
    for key in table.model("claude-sonnet-5-5").sources:
        assert str(table.sources[key].url) in shown


def open_page(app: AppTest, page: str) -> AppTest:
    app.query_params["page"] = page
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def test_page_choices_survive_a_change_of_tab() -> None:
    app = run_app(page="Prices")
    app.date_input(key="prices_diff_from").set_value(dt.date(2026, 10, 1)).run()
    open_page(app, "Plan")
    open_page(app, "Prices")
    assert app.date_input(key="prices_diff_from").value == dt.date(2026, 10, 1)


# --- the downloads' contents -----------------------------------------------------------------------


def test_the_markdown_report_holds_the_assumptions_figures_warnings_and_sources(table: PriceTable) -> None:
    workload = dataclasses.replace(DEFAULT_WORKLOAD, prefix_tokens=500)
    result = estimate(workload, table=table)
    report = markdown_report(result, table, params=workload_to_params(workload))
    assert f"checked {table.checked}" in report
    assert "**Requests**: 1,000 per run" in report
    for mode in result.modes:
        assert format_usd(mode.total_usd) in report
    for warning in result.warnings:
        assert warning.message in report
    model = table.model(workload.model)
    for url in table.source_urls(model.sources):
        assert url in report
    assert "prefix_tokens=500" in report


def test_the_report_says_not_priced_never_zero(table: PriceTable) -> None:
    result = estimate(UNPRICED, table=table)
    report = markdown_report(result, table)
    assert f"| Batch | {NOT_PRICED}: {result.mode('batch').unavailable_reason}" in report


def test_csv_and_json_downloads_are_the_estimators_records(table: PriceTable) -> None:
    result = estimate(DEFAULT_WORKLOAD, table=table)
    assert list(csv.DictReader(io.StringIO(csv_text(estimate_rows(result))))) == estimate_rows(result)
    assert json.loads(json_text(estimate_to_dict(result))) == estimate_to_dict(result)


# --- layering --------------------------------------------------------------------------------------


UI = APP.parent / "ui"
STREAMLIT_MODULES = [APP, UI / "session.py", UI / "sidebar.py", *sorted((UI / "pages").glob("*.py"))]
"""The app script, its sidebar and its pages: the modules that draw, as opposed to the builders in `ui/`."""


@pytest.mark.parametrize("path", STREAMLIT_MODULES, ids=lambda path: path.name)
def test_the_app_script_holds_no_arithmetic(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    operators = (ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow)
    arithmetic = [node for node in ast.walk(tree) if isinstance(node, ast.BinOp) and isinstance(node.op, operators)]
    found = len(arithmetic) + ("decimal" in imported)
    assert found == 0, [node.lineno for node in arithmetic]
