"""The app on hostile input: no traceback, no hang, no silent wrong answer (issue 9, the app's part).

Links with numbers of thousands of digits or values that overflow, a plan at the largest request count,
Markdown in a link's text, parameters the app does not read, a page that fails, a huge upload's progress
bar, the upload limit's one number.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from streamlit.delta_generator import DeltaGenerator

import ui.pages.dry_run as dry_run_page
from estimator import estimate
from estimator.workload import MAX_REQUESTS
from pricing import PriceTable
from tests.test_app import APP, assert_plan_shown, metric, run_app, texts
from ui import bars, charts
from ui.dry_run import ProgressThrottle
from ui.labels import metric_label, plain
from ui.scenario import DEFAULT_WORKLOAD, MAX_PERIOD_CHARS

CONFIG = tomllib.loads((APP.parent / ".streamlit" / "config.toml").read_text(encoding="utf-8"))


def shown_text(app: Any) -> str:
    return " ".join(texts(app.error) + texts(app.markdown) + texts(app.caption) + texts(app.warning))


# --- no traceback ----------------------------------------------------------------------------------


def test_error_details_are_never_shown_to_a_visitor() -> None:
    assert CONFIG["client"]["showErrorDetails"] == "none"


def test_a_page_that_fails_says_so_in_plain_words(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("/srv/secret/path/charts.py line 12")

    monkeypatch.setattr(bars, "breakdown_html", broken)
    app = run_app()  # asserts that no exception reached Streamlit
    shown = shown_text(app)
    assert "Something unexpected went wrong while drawing this part of the page (RuntimeError)" in shown
    assert "/srv/secret" not in shown
    assert app.number_input(key="requests").value == DEFAULT_WORKLOAD.requests  # the sidebar still works


# --- links that are named and fall back ----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "named"),
    [
        ("requests", "1e5000", "requests='1e5000' was ignored"),
        ("requests", "9" * 5001, "(5,001 characters) was ignored"),
        ("prefix_tokens", "1e1000000", "prefix_tokens='1e1000000' was ignored"),
        ("output_tokens", "-1", "output_tokens='-1' was ignored"),
        ("requests_per_hour", "9e999999", "requests_per_hour='9e999999' was ignored"),
        ("period", "x" * (MAX_PERIOD_CHARS + 1), "period='xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' was ignored"),
        ("period", "day\nnight", r"period='day\nnight' was ignored"),
        ("as_of", "2026-02-30", "as_of='2026-02-30' was ignored"),
        ("colour", "red", "'colour' is not a parameter of this app and was ignored"),
    ],
)
def test_a_bad_link_value_is_named_and_falls_back(table: PriceTable, name: str, value: str, named: str) -> None:
    app = run_app({name: value})
    assert "The link's scenario had problems; the plan uses the defaults for these:" in texts(app.error)
    assert any(plain(named) in message for message in texts(app.markdown)), texts(app.markdown)
    assert_plan_shown(app, estimate(DEFAULT_WORKLOAD, table=table))


def test_unknown_parameters_leave_the_address_bar() -> None:
    app = run_app({"colour": "red", "utm_source": "mail"})
    assert "colour" not in app.query_params and "utm_source" not in app.query_params
    assert app.query_params["requests"] == str(DEFAULT_WORKLOAD.requests)


@pytest.mark.parametrize("requests", [500_000_000_001, 600_000_000_000, MAX_REQUESTS])
def test_the_largest_plans_draw_every_figure(table: PriceTable, requests: int) -> None:
    workload = dataclasses.replace(DEFAULT_WORKLOAD, requests=requests)
    app = run_app({"requests": str(requests)})
    assert not app.error
    assert_plan_shown(app, estimate(workload, table=table))
    figures = [html.proto.body for html in app.get("html")]
    assert [figure.startswith(f'<figure class="{bars.BREAKDOWN_CLASS}"') for figure in figures] == [True]
    assert not app.get("plotly_chart")  # the what-if charts wait in their expander
    app.session_state["plan_what_if"] = True
    app.run()
    assert len(app.get("plotly_chart")) == 1  # the open what-if tab
    app.session_state["plan_sweep"] = "Against the number of requests"
    app.run()
    assert not app.exception and not app.error
    assert "Cost against the number of requests" in app.get("plotly_chart")[0].proto.spec
    steps = charts.request_steps(requests)
    assert steps[-1] == MAX_REQUESTS and requests in steps


# --- outside text is plain text ------------------------------------------------------------------


def test_a_links_period_is_shown_as_typed_never_as_markdown(table: PriceTable) -> None:
    period = "**BOLD** [x](http://example.com) :red[y]"
    app = run_app({"period": period})
    workload = dataclasses.replace(DEFAULT_WORKLOAD, period=period)
    result = estimate(workload, table=table)
    assert metric(app, metric_label("realtime", "total")) != ""
    caption = next(text for text in texts(app.caption) if text.startswith("Totals for"))
    assert f"requests per {plain(period)} on" in caption
    assert "**BOLD**" not in caption  # escaped: shown literally by the Markdown renderer
    assert app.number_input(key="budget_usd").label == f"Budget per {plain(period)} (USD)"
    assert result.workload.period == period  # the figures and downloads keep the text as typed
    assert app.query_params["period"] == period


@pytest.mark.parametrize(
    "text",
    ["**bold**", "_it_", "`code`", "[link](http://a.b)", "<b>x</b>", ":red[x]", ":material/home:", "$x^2$", "~~s~~"],
)
def test_plain_escapes_every_inline_markup(text: str) -> None:
    escaped = plain(text)
    assert escaped != text
    # Only backslashes and zero-width spaces added: the reader sees the text as typed.
    assert escaped.replace("\\", "").replace("\u200b", "") == text


@pytest.mark.parametrize("text", ["http://example.com", "see www.example.com", "mail me@example.com"])
def test_plain_keeps_bare_addresses_from_becoming_links(text: str) -> None:
    escaped = plain(text)
    assert "\u200b" in escaped
    assert escaped.replace("\\", "").replace("\u200b", "") == text


@pytest.mark.parametrize("text", ["# h", "- item", "+ item", "> quote", "1. first", "2) second"])
def test_plain_escapes_markup_that_starts_a_line(text: str) -> None:
    assert plain(text).startswith(("\\", "1\\", "2\\"))
    assert plain(f"ok\n{text}").split("\n")[1] == plain(text)


# --- the dry run's progress bar ------------------------------------------------------------------


def test_progress_redraws_once_per_percent_whatever_the_size() -> None:
    throttle = ProgressThrottle()
    drawn = [share for done in range(220_001) if (share := throttle.share("reading", done, 220_000)) is not None]
    assert len(drawn) == 101
    assert drawn[0] == 0.0 and drawn[-1] == 1.0
    assert throttle.share("counting", 0, 10) == 0.0  # a new stage starts its own bar


def test_a_220k_request_upload_does_not_redraw_the_bar_per_request(monkeypatch: pytest.MonkeyPatch) -> None:
    real = dry_run_page.analyze_batch_file
    draws: list[float] = []
    original_progress = DeltaGenerator.progress

    def counting_progress(self: DeltaGenerator, value: float, text: str | None = None) -> DeltaGenerator:
        draws.append(value)
        return original_progress(self, value, text=text)  # type: ignore[no-any-return]

    def reporting(upload: Any, *, on_progress: Callable[[str, int, int], None], **options: Any) -> Any:
        for done in range(220_001):
            on_progress("reading", done, 220_000)
        return real(upload, on_progress=None, **options)

    monkeypatch.setattr(DeltaGenerator, "progress", counting_progress)
    monkeypatch.setattr(dry_run_page, "analyze_batch_file", reporting)
    app = run_app(page="Dry-run a batch file")
    app.radio(key="dry_run_input").set_value("Paste requests").run()
    request = '{"custom_id": "a", "params": {"model": "claude-sonnet-4-6", "max_tokens": 10, "messages": []}}'
    app.text_area(key="batch_paste").input(request).run()
    assert not app.exception
    assert 100 <= len(draws) <= 102  # the empty bar, then one draw per percent


# --- the upload limit ----------------------------------------------------------------------------


def test_the_upload_limit_is_one_number_the_batch_limit(table: PriceTable) -> None:
    limit_mb = CONFIG["server"]["maxUploadSize"]
    assert limit_mb == 256
    assert table.rules.batch.max_bytes == limit_mb * 1_000_000  # the Message Batches limit, in MB
    assert "MB" not in dry_run_page.UPLOAD_LABEL  # the uploader itself states the configured limit, once


def test_the_favicon_is_a_local_file() -> None:
    source = APP.read_text(encoding="utf-8")
    assert ":material/savings:" not in source
    assert (APP.parent / "ui" / "assets" / "favicon.png").is_file()
    assert Path(APP.parent, "ui", "assets", "favicon.png").read_bytes().startswith(b"\x89PNG")
