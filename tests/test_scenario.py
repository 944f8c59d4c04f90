"""Shareable links and the workload form, as pure functions: no Streamlit involved."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from estimator import InvalidWorkloadError, Workload, hit_rate_from_traffic
from pricing import PriceTable
from ui.form import (
    FORM_KEYS,
    HIT_FROM_TRAFFIC,
    HIT_FROM_VALUE,
    error_field,
    model_options,
    page_defaults,
    widget_decimal,
    widget_state,
    workload_from_widgets,
)
from ui.scenario import (
    CORE_FIELDS,
    DEFAULT_WORKLOAD,
    apply_fields,
    requests_per_hour_from_params,
    workload_from_params,
    workload_to_params,
)

ROOT = Path(__file__).resolve().parents[1]
TODAY = dt.date(2026, 11, 25)

WORKLOADS = [
    DEFAULT_WORKLOAD,
    Workload(model="claude-haiku-4-5-20251001", requests=0, cache_hit_rate="0", cache_ttl="1h", period="month"),
    Workload(
        model="claude-opus-4-6",
        requests=10**12,
        prefix_tokens=200_000,
        unique_input_tokens=1,
        output_tokens=64_000,
        cache_hit_rate="0.123456789012",
        web_searches_per_request="2.5",
        tool_use="any",
        as_of=dt.date(2026, 3, 1),
        geo="us",
        fast=True,
        period="survey batch",
        tokens_measured_for="2026",
    ),
    Workload(model="claude-mythos-5-2", requests=7, tool_use="auto", cache_hit_rate="1"),
    Workload(
        model="claude-sonnet-4-6",
        requests=250,
        thinking_tokens=4000,
        web_fetches_per_request="0.5",
        tokens_per_web_fetch=2500,
        code_execution_sessions_per_request="0.3",
        code_execution_minutes_per_session="12.5",
        code_execution_with_web_tools=True,
        channel="bedrock",
        endpoint="regional",
    ),
]


# --- the codec -------------------------------------------------------------------------------------


def test_the_default_scenario_is_the_readme_example() -> None:
    assert workload_to_params(DEFAULT_WORKLOAD) == {
        "model": "claude-sonnet-4-6",
        "requests": "1000",
        "period": "run",
        "prefix_tokens": "3000",
        "unique_input_tokens": "5000",
        "output_tokens": "1000",
        "cache_ttl": "5m",
        "cache_hit_rate": "0.85",
    }


@pytest.mark.parametrize("workload", WORKLOADS, ids=lambda w: w.model)
def test_params_round_trip(workload: Workload, table: PriceTable) -> None:
    params = workload_to_params(workload)
    assert all(isinstance(value, str) for value in params.values())
    assert workload_from_params(params, table=table) == (workload, [])


def test_a_traffic_derived_hit_rate_travels_as_traffic(table: PriceTable) -> None:
    workload = dataclasses.replace(DEFAULT_WORKLOAD, cache_ttl="1h")
    params = workload_to_params(workload, requests_per_hour=Decimal("2.5"))
    assert params["requests_per_hour"] == "2.5"
    assert "cache_hit_rate" not in params
    decoded, errors = workload_from_params(params, table=table)
    assert errors == []
    assert decoded == dataclasses.replace(workload, cache_hit_rate=hit_rate_from_traffic("2.5", "1h", table=table))
    assert requests_per_hour_from_params(params) == (Decimal("2.5"), [])


def test_links_name_every_core_input_and_only_changed_options() -> None:
    params = workload_to_params(WORKLOADS[1])
    assert set(params) == {*CORE_FIELDS, "cache_hit_rate"}
    assert workload_to_params(WORKLOADS[2])["fast"] == "true"
    assert workload_to_params(WORKLOADS[2])["as_of"] == "2026-03-01"


def test_links_carry_the_new_inputs_by_their_field_names() -> None:
    params = workload_to_params(WORKLOADS[-1])
    assert {key: params[key] for key in params if key not in (*CORE_FIELDS, "cache_hit_rate")} == {
        "thinking_tokens": "4000",
        "web_fetches_per_request": "0.5",
        "tokens_per_web_fetch": "2500",
        "code_execution_sessions_per_request": "0.3",
        "code_execution_minutes_per_session": "12.5",
        "code_execution_with_web_tools": "true",
        "channel": "bedrock",
        "endpoint": "regional",
    }


def test_minutes_of_code_execution_are_read_after_their_sessions(table: PriceTable) -> None:
    params = {"code_execution_minutes_per_session": "5", "code_execution_sessions_per_request": "2"}
    workload, errors = workload_from_params(params, table=table)
    assert errors == []
    assert workload is not None
    assert (workload.code_execution_sessions_per_request, workload.code_execution_minutes_per_session) == (2, 5)
    alone, errors = workload_from_params({"code_execution_minutes_per_session": "5"}, table=table)
    assert alone == DEFAULT_WORKLOAD
    assert len(errors) == 1 and "code_execution_sessions_per_request is 0" in errors[0]


def test_a_link_without_workload_parameters_is_no_scenario(table: PriceTable) -> None:
    assert workload_from_params({}, table=table) == (None, [])
    assert workload_from_params({"page": "Prices", "utm_source": "mail"}, table=table) == (None, [])


def test_missing_parameters_come_from_the_default_scenario(table: PriceTable) -> None:
    workload, errors = workload_from_params({"requests": "250", "page": "Plan"}, table=table)
    assert errors == []
    assert workload == dataclasses.replace(DEFAULT_WORKLOAD, requests=250)


def test_model_names_and_aliases_resolve_to_ids(table: PriceTable) -> None:
    workload, errors = workload_from_params({"model": "Haiku 4.5"}, table=table)
    assert errors == []
    assert workload is not None
    assert workload.model == "claude-haiku-4-5-20251001"


@pytest.mark.parametrize(
    ("params", "field", "words"),
    [
        ({"requests": "-5"}, "requests", "0 or more"),
        ({"requests": "lots"}, "requests", "must be a number"),
        ({"prefix_tokens": "1.5"}, "prefix_tokens", "whole number"),
        ({"output_tokens": "nan"}, "output_tokens", "finite"),
        ({"cache_hit_rate": "85"}, "cache_hit_rate", "0.85 for 85%"),
        ({"cache_ttl": "2h"}, "cache_ttl", "one of 5m, 1h"),
        ({"geo": "eu"}, "geo", "one of global, us"),
        ({"fast": "maybe"}, "fast", "true or false"),
        ({"code_execution_with_web_tools": "maybe"}, "code_execution_with_web_tools", "true or false"),
        ({"thinking_tokens": "-3"}, "thinking_tokens", "0 or more"),
        ({"channel": "azure"}, "channel", "one of anthropic, bedrock, vertex, foundry"),
        ({"endpoint": "eu"}, "endpoint", "one of global, regional"),
        ({"as_of": "yesterday"}, "as_of", "YYYY-MM-DD"),
        ({"model": "claude-sonet-4-6"}, "model", "did you mean claude-sonnet-4-6"),
        ({"requests_per_hour": "-1"}, "requests_per_hour", "between 0"),
    ],
)
def test_a_bad_value_is_reported_and_replaced_by_the_default(
    params: dict[str, str], field: str, words: str, table: PriceTable
) -> None:
    workload, errors = workload_from_params({**params, "output_tokens": "700"}, table=table)
    if field == "output_tokens":
        workload, errors = workload_from_params(params, table=table)
    assert len(errors) == 1
    assert f"{field}=" in errors[0]
    assert words in errors[0]
    assert workload is not None
    expected_output = DEFAULT_WORKLOAD.output_tokens if field == "output_tokens" else 700
    assert workload == dataclasses.replace(DEFAULT_WORKLOAD, output_tokens=expected_output)


def test_every_bad_value_gets_its_own_message(table: PriceTable) -> None:
    workload, errors = workload_from_params({"requests": "-1", "cache_ttl": "1d", "prefix_tokens": "9"}, table=table)
    assert len(errors) == 2
    assert workload == dataclasses.replace(DEFAULT_WORKLOAD, prefix_tokens=9)


def test_traffic_wins_over_a_hit_rate_and_says_so(table: PriceTable) -> None:
    workload, errors = workload_from_params({"cache_hit_rate": "0.5", "requests_per_hour": "12"}, table=table)
    assert workload is not None
    assert workload.cache_hit_rate == hit_rate_from_traffic(12, "5m", table=table)
    assert errors == ["The link gives both cache_hit_rate and requests_per_hour: the hit rate follows the traffic."]


def test_repeated_parameters_use_the_last_value(table: PriceTable) -> None:
    workload, _ = workload_from_params({"requests": ["5", "6"]}, table=table)
    assert workload is not None
    assert workload.requests == 6


def test_apply_fields_checks_each_field_on_its_own() -> None:
    workload, errors = apply_fields(DEFAULT_WORKLOAD, {"requests": "12", "output_tokens": -1, "colour": "red"})
    assert workload == dataclasses.replace(DEFAULT_WORKLOAD, requests=12)
    assert set(errors) == {"output_tokens", "colour"}


# --- the form --------------------------------------------------------------------------------------


@pytest.mark.parametrize("workload", WORKLOADS, ids=lambda w: w.model)
def test_widget_state_round_trips(workload: Workload, table: PriceTable) -> None:
    state = widget_state(workload, requests_per_hour=None, today=TODAY, table=table)
    assert state["hit_rate_source"] == HIT_FROM_VALUE
    result = workload_from_widgets(state, today=TODAY, table=table)
    assert result.errors == {}
    assert result.workload == workload


def test_the_form_derives_the_hit_rate_from_traffic(table: PriceTable) -> None:
    state = widget_state(DEFAULT_WORKLOAD, requests_per_hour=Decimal(30), today=TODAY, table=table)
    assert state["hit_rate_source"] == HIT_FROM_TRAFFIC
    result = workload_from_widgets(state, today=TODAY, table=table)
    assert result.requests_per_hour == Decimal(30)
    assert result.workload is not None
    assert result.workload.cache_hit_rate == hit_rate_from_traffic(30, "5m", table=table)


class _Recording(dict[str, Any]):
    """A widget state that remembers every key read from it."""

    def __init__(self, state: dict[str, Any]) -> None:
        super().__init__(state)
        self.read: set[str] = set()

    def __getitem__(self, key: str) -> Any:
        self.read.add(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        return super().get(key, default)


@pytest.mark.parametrize("requests_per_hour", [None, Decimal(30)])
def test_the_plan_memo_keys_cover_every_input_the_form_reads(
    table: PriceTable, requests_per_hour: Decimal | None
) -> None:
    """`ui.session.current_plan` reuses its plan while the values under `FORM_KEYS` are unchanged: a key the
    form reads but the memo does not compare would leave a changed input showing the old figures."""
    state = _Recording(widget_state(DEFAULT_WORKLOAD, requests_per_hour=requests_per_hour, today=TODAY, table=table))
    workload_from_widgets(state, today=TODAY, table=table)
    assert state.read <= set(FORM_KEYS)


def test_todays_date_means_today_and_stays_out_of_the_link(table: PriceTable) -> None:
    state = widget_state(DEFAULT_WORKLOAD, requests_per_hour=None, today=TODAY, table=table)
    assert state["as_of"] == TODAY
    result = workload_from_widgets(state, today=TODAY, table=table)
    assert result.workload is not None
    assert result.workload.as_of is None
    assert "as_of" not in workload_to_params(result.workload)


def test_form_errors_name_their_field(table: PriceTable) -> None:
    state = widget_state(DEFAULT_WORKLOAD, requests_per_hour=None, today=TODAY, table=table)
    state.update(requests=10**13, cache_hit_rate_pct=float("nan"))
    result = workload_from_widgets(state, today=TODAY, table=table)
    assert result.workload is None
    assert set(result.errors) == {"requests", "cache_hit_rate"}
    assert "a typo?" in result.errors["requests"]


def test_widget_numbers_become_the_decimals_they_show() -> None:
    assert widget_decimal(85.1) == Decimal("85.1")
    assert widget_decimal(0.1) == Decimal("0.1")
    assert widget_decimal(None) is None


def test_pricing_errors_are_placed_beside_their_input(table: PriceTable) -> None:
    from estimator import Workload, estimate

    for fields, expected in (
        ({"model": "claude-opus-4-5", "geo": "us"}, "geo"),
        ({"model": "claude-haiku-4-5", "fast": True}, "fast"),
    ):
        with pytest.raises(InvalidWorkloadError) as caught:
            estimate(Workload(requests=1, **fields), table=table)  # type: ignore[arg-type]
        assert error_field(caught.value) == expected
    with pytest.raises(InvalidWorkloadError) as caught:
        Workload(model="claude-sonnet-4-6", requests=1, output_tokens=-1)
    assert error_field(caught.value) == "output_tokens"
    assert error_field(InvalidWorkloadError("no field named")) == "model"


def test_model_options_keep_the_current_choice(table: PriceTable) -> None:
    current = [m.id for m in model_options(table, today=TODAY, include_retired=False, current=None)]
    assert "claude-3-opus-20240229" not in current
    kept = model_options(table, today=TODAY, include_retired=False, current="claude-3-opus-20240229")
    assert kept[-1].id == "claude-3-opus-20240229"
    everything = model_options(table, today=TODAY, include_retired=True, current=None)
    assert {m.id for m in everything} == {m.id for m in table.models_as_of(TODAY, include_retired=True)}


def test_a_retired_model_in_a_link_ticks_include_retired(table: PriceTable) -> None:
    workload = dataclasses.replace(DEFAULT_WORKLOAD, model="claude-3-opus-20240229")
    assert widget_state(workload, requests_per_hour=None, today=TODAY, table=table)["include_retired"] is True


def test_page_defaults_open_the_price_pages_on_the_plan() -> None:
    defaults = page_defaults(DEFAULT_WORKLOAD, today=TODAY)
    assert defaults["prices_model"] == DEFAULT_WORKLOAD.model
    assert defaults["prices_diff_to"] == TODAY
    assert defaults["prices_diff_from"] < TODAY


# --- layering --------------------------------------------------------------------------------------


def test_the_ui_building_blocks_never_import_streamlit() -> None:
    code = (
        "import sys, json; import ui.scenario, ui.form, ui.charts, ui.tables, ui.report, ui.labels, ui.columns, "
        "ui.dry_run, ui.rates, ui.throughput, ui.conversation, ui.actual_costs, ui.plan_files; "
        "print(json.dumps('streamlit' in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert json.loads(out) is False
