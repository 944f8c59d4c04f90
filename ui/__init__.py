"""The app's building blocks, testable without Streamlit (none of these modules imports it).

ui.scenario  shareable links: workload <-> query parameters, with messages for bad values
ui.form      the workload form's widget values <-> a Workload, per-field errors
ui.charts    plotly figures from the estimator's records
ui.tables    rows and sentences for the app's tables
ui.report    the Markdown report, CSV and JSON downloads
ui.labels    words for modes, cost categories and inputs
"""
