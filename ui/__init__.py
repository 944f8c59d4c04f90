"""The app's building blocks.

Pure builders, testable without Streamlit (none of these imports it):

ui.scenario  shareable links: workload <-> query parameters, with messages for bad values
ui.form      the workload form's widget values <-> a Workload, per-field errors
ui.charts    plotly figures from the estimator's records
ui.tables    rows and sentences for the app's tables
ui.dry_run   rows and sentences for the dry-run page
ui.conversation  the Conversations page's form, turn steps, per-turn table and CSV
ui.throughput    the Plan page's rate-limit verdict, limits and batch plan in words
ui.rates     negotiated-rates and exchange-rate uploads read; figures converted to another currency
ui.actual_costs, ui.plan_files  tables, figures and state of the Actual costs and Plan files pages
ui.report    the Markdown report, CSV and JSON downloads
ui.labels    words for modes, cost categories and inputs

The drawing side, which imports Streamlit and holds no arithmetic:

ui.session   what every page shares: the cached price table, session state seeded once, the priced plan,
             the API key, downloads, the page boundary that turns an unexpected error into a plain message
ui.sidebar   the workload form and the API key field
ui.pages     one module per page, each with `render() -> None`, registered in `app.py`
"""
