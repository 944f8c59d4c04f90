"""Claude cost planner: the Streamlit app. `streamlit run app.py` (or `scripts/app`).

The frame around the pages, run on every rerun: the page list, the session's state (seeded once, from the
link or the default scenario), the sidebar, and the address bar kept a link to the plan. Each page is a
module of `ui/pages/` with a `render()` function; numbers come from `estimator` and `pricing`, figures and
tables from the builders in `ui/`. UI only: no arithmetic here.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from pricing import PricingError
from ui import session
from ui.labels import plain
from ui.pages import actual_costs, compare, conversation, dry_run, plan, plan_files, prices
from ui.scenario import PARAM_NAMES, unknown_params, workload_to_params
from ui.sidebar import render_api_key_field, render_own_terms, render_workload_form, show_messages

# A local file: a `:material/…:` or emoji icon makes every browser fetch the favicon from a CDN.
FAVICON = Path(__file__).with_name("ui").joinpath("assets", "favicon.png")
st.set_page_config(page_title="Claude cost planner", page_icon=str(FAVICON), layout="wide")

PLAN = st.Page(plan.render, title="Plan", icon=":material/calculate:", url_path="plan", default=True)
CONVERSATION = st.Page(conversation.render, title="Conversations", icon=":material/forum:", url_path="conversation")
DRY_RUN = st.Page(dry_run.render, title="Dry-run a batch file", icon=":material/fact_check:", url_path="dry-run")
COMPARE = st.Page(compare.render, title="Compare models", icon=":material/compare_arrows:", url_path="compare")
PRICES = st.Page(prices.render, title="Prices", icon=":material/sell:", url_path="prices")
ACTUAL_COSTS = st.Page(
    actual_costs.render, title="Actual costs", icon=":material/receipt_long:", url_path="actual-costs"
)
PLAN_FILES = st.Page(plan_files.render, title="Plan files", icon=":material/rule:", url_path="plan-files")
PAGES = [PLAN, CONVERSATION, DRY_RUN, COMPARE, PRICES, ACTUAL_COSTS, PLAN_FILES]
WORKLOAD_PAGES = {PLAN.url_path, COMPARE.url_path}
"""Pages that use the sidebar's workload form; the others stand on their own and hide it."""
TERMS_PAGES = {*WORKLOAD_PAGES, CONVERSATION.url_path}
"""Pages priced with the session's negotiated rates and shown in its currency (the sidebar offers both)."""
KEY_PAGES = {PLAN.url_path, DRY_RUN.url_path}
"""Pages that count tokens, and so show the API key field (the key itself serves the whole session)."""
PAGE_LINK_NAMES = {
    **{page.title.lower(): page for page in PAGES},  # the single-page app's tab labels
    "plan": PLAN,
    "conversation": CONVERSATION,
    "dry-run": DRY_RUN,
    "compare": COMPARE,
    "prices": PRICES,
    "actual-costs": ACTUAL_COSTS,
    "plan-files": PLAN_FILES,
}
"""What a `?page=` link may name (any case), and the page it opens."""
PAGE_PARAMS = ("page",)
"""Query parameters the app reads besides the workload's (`ui.scenario.PARAM_NAMES`); any other is named."""


def follow_page_link() -> None:
    """Open the page a `?page=` link names (the app's tabs were bound to it), keeping the other parameters."""
    name = st.query_params.get("page")
    if name is None:
        return
    rest = {key: st.query_params.get_all(key) for key in st.query_params if key != "page"}
    target = PAGE_LINK_NAMES.get(name.strip().lower())
    if target is None:
        st.session_state[session.LINK_ERRORS].append(f"The link's page={name!r} names no page; the Plan is shown.")
        target = PLAN
    st.switch_page(target, query_params=rest)


def drop_unknown_params() -> None:
    """Name each parameter of the opened link that the app does not read, and take it out of the address."""
    messages = unknown_params(st.query_params.to_dict(), known=PAGE_PARAMS)
    if not messages:
        return
    st.session_state[session.LINK_ERRORS].extend(messages)
    for name in [name for name in st.query_params if name not in (*PARAM_NAMES, *PAGE_PARAMS)]:
        del st.query_params[name]


def sync_query_params(priced: session.Plan) -> None:
    """Keep the address bar a link to the plan shown (an option the model lacks is left out, as it is from
    the figures). Only the workload's parameters are touched, and the API key never goes there."""
    if priced.result is None:
        return
    workload = priced.result.workload
    wanted = workload_to_params(workload, requests_per_hour=priced.form.requests_per_hour)
    shown = {name: value for name, value in st.query_params.to_dict().items() if name in PARAM_NAMES}
    if shown == wanted:
        return
    for name in [name for name in shown if name not in wanted]:
        del st.query_params[name]
    st.query_params.update(wanted)


def show_link_errors() -> None:
    errors = st.session_state[session.LINK_ERRORS]
    if not errors:
        return
    with st.container(border=True):
        st.error("The link's scenario had problems; the plan uses the defaults for these:", icon=":material/link_off:")
        for message in errors:
            st.markdown(f"- {plain(message)}")
        if st.button("Dismiss", key="dismiss_link_errors"):
            st.session_state[session.LINK_ERRORS] = []
            st.rerun()


try:
    table = session.price_table()
except PricingError as error:
    st.error(f"The price table cannot be loaded: {plain(str(error))}", icon=":material/error:")
    st.stop()
today = session.today()
if session.init_session_state(table, today):
    drop_unknown_params()
page = st.navigation(PAGES, position="top")
follow_page_link()
uses_workload = page.url_path in WORKLOAD_PAGES


@session.page_boundary
def render_sidebar() -> None:
    with st.sidebar:
        if uses_workload:
            current = session.current_plan()  # the widgets' values are in the session before they are drawn
            slots = render_workload_form(table, today, current)
            show_messages(slots, current)
        elif page.url_path in TERMS_PAGES:
            render_own_terms({})
        if page.url_path in KEY_PAGES:
            render_api_key_field()


st.title("Claude cost planner")
st.caption("Estimates, not invoices: every figure is computed exactly from a sourced price table; display rounds.")
show_link_errors()
session.page_boundary(page.run)()
# The sidebar is drawn after the page (its widgets' values are in the session already): the browser then
# fetches the scripts of the page's elements first, and a first-time visitor sees the answer sooner.
render_sidebar()
if uses_workload:
    session.page_boundary(lambda: sync_query_params(session.current_plan()))()
