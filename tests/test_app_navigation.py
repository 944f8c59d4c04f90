"""The app as a multipage app: one `st.Page` per page, `?page=` links from the single-page app still open the
right page, the sidebar's workload form only where it is used, and every choice kept across pages."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from streamlit.testing.v1 import AppTest

from estimator import estimate
from pricing import PriceTable
from tests.test_app import assert_plan_shown, run_app, texts
from ui.scenario import DEFAULT_WORKLOAD, workload_to_params

PAGE_MARKERS = {
    "Plan": "What a budget buys",
    "Dry-run a batch file": "Dry-run a batch file",
    "Compare models": None,  # no subheader: recognised by its own widget below
    "Prices": "Price table",
    "Conversations": "Conversations and agent loops",
}


def open_page(app: AppTest, page: str) -> AppTest:
    app.query_params["page"] = page
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def shown_page(app: AppTest) -> str:
    subheaders = set(texts(app.subheader))
    if any(widget.key == "tokens_measured_for" for widget in app.selectbox):
        return "Compare models"
    found = [page for page, marker in PAGE_MARKERS.items() if marker in subheaders]
    assert len(found) == 1, subheaders
    return found[0]


@pytest.mark.parametrize(
    ("link", "page"),
    [
        ("Plan", "Plan"),
        ("Dry-run a batch file", "Dry-run a batch file"),
        ("Compare models", "Compare models"),
        ("Prices", "Prices"),
        ("dry-run", "Dry-run a batch file"),
        ("compare", "Compare models"),
        ("PRICES", "Prices"),
        ("conversation", "Conversations"),
        ("Conversations", "Conversations"),
    ],
)
def test_a_page_link_opens_its_page(link: str, page: str) -> None:
    app = run_app(page=link)
    assert shown_page(app) == page
    assert "page" not in app.query_params  # followed once, then gone from the address bar


def test_an_old_link_keeps_its_scenario_on_the_page_it_names(table: PriceTable) -> None:
    workload = dataclasses.replace(DEFAULT_WORKLOAD, requests=40_000, period="day")
    app = run_app(workload_to_params(workload), page="Compare models")
    assert shown_page(app) == "Compare models"
    assert any("40,000 requests per day" in caption for caption in texts(app.caption))
    assert dict(app.query_params) == workload_to_params(workload)
    open_page(app, "Plan")
    assert_plan_shown(app, estimate(workload, table=table))


def test_a_link_to_no_page_is_named_and_opens_the_plan() -> None:
    app = run_app(page="Settings")
    assert shown_page(app) == "Plan"
    shown = " ".join(texts(app.markdown) + texts(app.text))
    assert "The link's page='Settings' names no page; the Plan is shown." in shown


@pytest.mark.parametrize(
    ("page", "form_shown", "key_shown"),
    [
        ("Plan", True, True),
        ("Compare models", True, False),
        ("Dry-run a batch file", False, True),
        ("Prices", False, False),
        ("Conversations", False, False),
    ],
)
def test_the_sidebar_holds_only_what_the_page_uses(page: str, form_shown: bool, key_shown: bool) -> None:
    app = run_app(page=page)
    keys = {widget.key for widget in app.sidebar.number_input}
    assert ("requests" in keys) is form_shown
    assert ("api_key_input" in {widget.key for widget in app.sidebar.text_input}) is key_shown


def test_the_dry_run_stands_on_its_own() -> None:
    app = run_app(page="Dry-run a batch file")
    assert not app.sidebar.number_input
    assert not app.sidebar.selectbox


def test_inputs_survive_a_visit_to_a_page_without_them(table: PriceTable) -> None:
    app = run_app()
    app.number_input(key="requests").set_value(2500).run()
    app.number_input(key="budget_usd").set_value(250.0).run()
    open_page(app, "Dry-run a batch file")
    app.radio(key="dry_run_input").set_value("Paste requests").run()
    open_page(app, "Prices")
    app.date_input(key="prices_as_of").set_value(dt.date(2025, 6, 1)).run()
    open_page(app, "Plan")
    assert_plan_shown(app, estimate(dataclasses.replace(DEFAULT_WORKLOAD, requests=2500), table=table))
    assert app.number_input(key="budget_usd").value == 250.0
    open_page(app, "Dry-run a batch file")
    assert app.radio(key="dry_run_input").value == "Paste requests"
    open_page(app, "Prices")
    assert app.date_input(key="prices_as_of").value == dt.date(2025, 6, 1)


def test_the_comparison_chart_is_drawn_when_its_tab_is_opened() -> None:
    app = run_app(page="Compare models")
    assert not app.get("plotly_chart")  # the page opens on the table
    app.session_state["compare_view"] = "Chart"
    app.run()
    charts = app.get("plotly_chart")
    assert len(charts) == 1 and "The same workload on each model" in charts[0].proto.spec


@pytest.mark.parametrize(("link", "marker"), [("actual-costs", "Actual costs"), ("Plan files", "Plan files")])
def test_the_pages_of_the_other_capabilities_open_too(link: str, marker: str) -> None:
    app = run_app(page=link)  # asserts that no exception reached Streamlit
    shown = " ".join(texts(app.subheader) + texts(app.header) + texts(app.markdown) + texts(app.caption))
    assert marker.lower() in shown.lower()
    assert not any("Something unexpected went wrong" in text for text in texts(app.error))
    assert "requests" not in {widget.key for widget in app.sidebar.number_input}
