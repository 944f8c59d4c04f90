"""The app's building blocks.

Pure builders, testable without Streamlit (none of these imports it):

ui.scenario  shareable links: workload <-> query parameters, with messages for bad values
ui.form      the workload form's widget values <-> a Workload, per-field errors
ui.charts    plotly figures from the estimator's records
ui.tables    rows and sentences for the app's tables
ui.dry_run   rows and sentences for the dry-run page
ui.report    the Markdown report, CSV and JSON downloads
ui.labels    words for modes, cost categories and inputs

The drawing side, which imports Streamlit and holds no arithmetic:

ui.session   what every page shares: the cached price table, session state seeded once, the priced plan,
             the API key, downloads, the page boundary that turns an unexpected error into a plain message
ui.sidebar   the workload form and the API key field
ui.pages     one module per page, each with `render() -> None`, registered in `app.py`
"""
