"""What every page shares, set up once per session by `app.py`: the price table, the API key, the plan.

The one module of `ui/` besides `ui/sidebar.py` and `ui/pages/` that imports Streamlit. Pages read the
session through these functions instead of passing values around, so each page keeps the signature
`render() -> None` that `st.Page` calls.

Widget state lives in `st.session_state` under the widget's key, seeded once by `init_session_state`;
widgets that are not drawn on every page are created with `persist_state="session"` (see `KEEP`), so a
value survives while its page is closed.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Callable
from functools import wraps
from typing import Any, Final, Literal, ParamSpec

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from estimator.costs import priced_table
from estimator.currency import ExchangeRates
from estimator.errors import EstimatorError
from estimator.overrides import NegotiatedRates
from pricing import PriceTable, load_price_table
from ui.charts import PLOT_CONFIG
from ui.columns import Column, Table
from ui.conversation import widget_defaults as conversation_defaults
from ui.form import FORM_KEYS, PricedPlan, page_defaults, price_plan, widget_state, workload_from_widgets
from ui.rates import Currency, currency_code
from ui.scenario import DEFAULT_WORKLOAD, requests_per_hour_from_params, workload_from_params

__all__ = [
    "API_KEY",
    "EXCHANGE_RATES",
    "KEEP",
    "NEGOTIATED",
    "Plan",
    "api_key",
    "currency",
    "current_plan",
    "init_session_state",
    "offer_download",
    "page_boundary",
    "plan_table",
    "price_table",
    "show_figure",
    "show_table",
    "staleness_warning",
]

API_KEY: Final = "anthropic_api_key"
"""Session-state key of the API key in use (typed, or from the environment); never a widget, never shown."""
KEEP: Final[Literal["session"]] = "session"
"""`persist_state` of every widget: its value outlives its page, so switching pages loses nothing."""
LINK_ERRORS: Final = "link_errors"
NEGOTIATED: Final = "negotiated_rates"
"""Session-state key of the uploaded negotiated rates (`NegotiatedRates`), applied to every plan of the session."""
EXCHANGE_RATES: Final = "exchange_rates"
"""Session-state key of the uploaded exchange rates (`ExchangeRates`); the currency shown is `currency_code`."""
_PLAN_MEMO: Final = "_plan_memo"
_log = logging.getLogger("claude_cost_planner.app")
P = ParamSpec("P")


@st.cache_resource(show_spinner=False)
def price_table() -> PriceTable:
    return load_price_table()


def today() -> dt.date:
    return dt.date.today()


def plan_table() -> PriceTable:
    """The table plans are priced with: the public one, with the session's negotiated rates applied (the
    estimator caches the result per file, so every rerun gets the same table back)."""
    negotiated = st.session_state.get(NEGOTIATED)
    return priced_table(price_table(), negotiated if isinstance(negotiated, NegotiatedRates) else None)


def currency() -> Currency | None:
    """The currency to show beside USD, when an exchange-rate file and a code it covers are both given."""
    rates = st.session_state.get(EXCHANGE_RATES)
    code = str(st.session_state.get("currency_code") or "")
    if not isinstance(rates, ExchangeRates) or not code.strip():
        return None
    try:
        return Currency(rates, currency_code(code, rates))
    except EstimatorError:  # shown beside the currency's input by the sidebar
        return None


def staleness_warning(table: PriceTable, day: dt.date) -> None:
    """Warn, where prices are shown, when they are asked for long after the table was last checked."""
    if warning := table.staleness_warning(day):
        st.warning(warning[0].upper() + warning[1:], icon=":material/history:")


def api_key_from_environment() -> str | None:
    """ANTHROPIC_API_KEY from the environment, else from st.secrets; None when neither has one."""
    key = os.environ.get("ANTHROPIC_API_KEY", "").strip()
    if key:
        return key
    try:
        secret = st.secrets["ANTHROPIC_API_KEY"]
    except (KeyError, FileNotFoundError):  # no secrets file, or no key in it
        return None
    return str(secret).strip() or None


def api_key() -> str | None:
    key = st.session_state.get(API_KEY)
    return key if isinstance(key, str) and key else None


def init_session_state(table: PriceTable, day: dt.date) -> bool:
    """Seed every widget once per session: from the link's query parameters, else the default scenario.

    True on the session's first run (when the link is read)."""
    if LINK_ERRORS in st.session_state:
        return False
    params = st.query_params.to_dict()
    workload, errors = workload_from_params(params, table=table)
    workload = workload or DEFAULT_WORKLOAD
    rate, _ = requests_per_hour_from_params(params)
    st.session_state.update(widget_state(workload, requests_per_hour=rate, today=day, table=table))
    st.session_state.update(page_defaults(workload, today=day))
    st.session_state.update(conversation_defaults(workload.model, today=day))
    st.session_state[LINK_ERRORS] = errors
    st.session_state[API_KEY] = api_key_from_environment()
    return True


Plan = PricedPlan


def current_plan() -> PricedPlan:
    """The plan the sidebar's widgets describe, priced once per change of the inputs or of the negotiated
    rates (not once per run)."""
    table = plan_table()
    day = today()
    # The inputs as the widgets hold them: unchanged, the plan is the memo's, without reading the form again
    # (validating ~25 fields one by one, several times a run, was a tenth of a page's server time, sampled).
    inputs = (day, *(st.session_state.get(name) for name in FORM_KEYS))
    memo = st.session_state.get(_PLAN_MEMO)
    if isinstance(memo, tuple) and memo[0] is table and memo[1] == inputs:
        return memo[2]  # type: ignore[no-any-return]
    form = workload_from_widgets(st.session_state.to_dict(), today=day, table=table)
    if isinstance(memo, tuple) and memo[0] is table and memo[2].form == form:
        plan: PricedPlan = memo[2]
    else:
        plan = price_plan(form, table=table)
    st.session_state[_PLAN_MEMO] = (table, inputs, plan)
    return plan


MIME_TYPES = {".csv": "text/csv", ".json": "application/json", ".md": "text/markdown"}


def offer_download(
    where: DeltaGenerator, label: str, data: str | Callable[[], str], file_name: str, *, key: str
) -> None:
    """A download that does not rerun the app when clicked (the figures are already on the page). Pass a
    function to build the file only when it is asked for: nothing is built or sent on each rerun."""
    mime = MIME_TYPES[file_name[file_name.rindex(".") :]]
    where.download_button(label, data, file_name=file_name, mime=mime, key=key, on_click="ignore")


def page_boundary(render: Callable[P, None]) -> Callable[P, None]:
    """Run a page (or a fragment of one) so that an unexpected error shows a plain message, never a
    traceback: the details go to the server's log. Streamlit's own control flow (st.stop, st.rerun,
    st.switch_page) derives from BaseException and passes through."""

    @wraps(render)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            render(*args, **kwargs)
        except Exception as error:
            _log.exception("page %s failed", getattr(render, "__qualname__", render))
            st.error(unexpected_error_text(error), icon=":material/error:")

    return guarded


def unexpected_error_text(error: BaseException) -> str:
    return (
        f"Something unexpected went wrong while drawing this part of the page ({type(error).__name__}). "
        "Your inputs are kept: change one, or reload the page. The details are in the server's log."
    )


def show_table(table: Table, *, key: str | None = None) -> None:
    """A `Table` as a dataframe whose numbers sort by value and show in the column's format."""
    import pandas as pd  # type: ignore[import-untyped]  # loaded by Streamlit already; no stubs installed

    frame = pd.DataFrame(table.rows, columns=list(table.columns))
    config = {name: _column_config(column) for name, column in table.columns.items()}
    st.dataframe(frame, hide_index=True, column_config=config, key=key, width="stretch", placeholder="—")


def _column_config(column: Column) -> Any:
    if column.kind == "number":
        return st.column_config.NumberColumn(help=column.help, format=column.format, width=column.width)
    return st.column_config.TextColumn(help=column.help, width=column.width)


def show_figure(figure: Any, *, key: str) -> None:
    """A plotly figure in the app's theme, without the toolbar (`ui.charts.PLOT_CONFIG`)."""
    st.plotly_chart(figure, theme="streamlit", key=key, config=PLOT_CONFIG)
