"""The app's pages, one module each, registered in `app.py` as `st.Page(module.render, title=..., url_path=...)`.

A page module exposes `render() -> None` and draws only its own page: the shared setup (price table, session
state, the sidebar and its workload form) is done by `app.py` before the page runs, and reached through
`ui.session` (`price_table()`, `current_plan()`, `api_key()`, `offer_download()`). Pages hold no arithmetic:
numbers come from `estimator` and `pricing`, rows and figures from the builders in `ui/` (`ui.tables`,
`ui.charts`, `ui.dry_run`, `ui.report`). Every widget a page draws has a key, a default in
`ui.form.page_defaults`, and `persist_state=ui.session.KEEP`, so its value survives while the page is closed.

plan        Plan: each mode's total, the figures, what a budget buys, the token counter, downloads
dry_run     Dry run: validate and price a Message Batches file
compare     Compare models: the plan's workload on every model
prices      Prices: the table as of a date, a model's history and sources, the changes between two dates
actual_costs  Actual costs: usage priced exactly, what-if, reconcile (its builders: ui/actual_costs.py)
plan_files  Plan files: costs.yaml as a table, the verdict against a lock (its builders: ui/plan_files.py)

Pages that use the sidebar's workload form are listed in `app.py`'s WORKLOAD_PAGES; the others stand on
their own (the sidebar hides the form there). A page reads query parameters only if `app.py` lists them
(`PAGE_PARAMS`); any other parameter of an opened link is named and dropped.
"""
