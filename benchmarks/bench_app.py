"""How fast the app answers, measured through Streamlit's AppTest on the default scenario.

Run: .venv/bin/python benchmarks/bench_app.py

- first render, cold: the first run in a fresh process (imports plotly, pandas and the app's modules);
- first render, warm: a new session once the process is warm (what each new visitor costs the server);
- interaction: change one input, time the rerun until the updated page is built;
- opening a page: each page is its own `st.Page`, so opening one is a run of the frame and that page
  (Conversations keeps its priced turns per session: reopening it with the same inputs prices nothing).

AppTest runs the script in-process and parses its output; the browser adds its own rendering on top.
"""

from __future__ import annotations

import datetime as dt
import logging
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402

APP = str(ROOT / "app.py")
TIMEOUT = 120
REPEAT = 15


def timed_ms(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def fresh() -> AppTest:
    return AppTest.from_file(APP, default_timeout=TIMEOUT)


def checked(app: AppTest) -> AppTest:
    if app.exception:
        raise SystemExit(f"the app raised: {[e.value for e in app.exception]}")
    return app


def interaction_times(app: AppTest, key: str, values: list[object], kind: str) -> list[float]:
    times = []
    for value in values:
        getattr(app, kind)(key=key).set_value(value)
        times.append(timed_ms(lambda: checked(app.run())))
    return times


def open_page(app: AppTest, page: str) -> AppTest:
    """A `?page=` link: the app opens the page it names (AppTest cannot click the navigation)."""
    app.query_params["page"] = page
    return checked(app.run())


def tab_times(app: AppTest, page: str) -> list[float]:
    times = []
    for _ in range(REPEAT // 3):
        open_page(app, "Plan")
        times.append(timed_ms(lambda: open_page(app, page)))
    return times


def row(label: str, times: list[float]) -> str:
    return f"| {label} | {min(times):,.0f} ms | {statistics.median(times):,.0f} ms |"


def main() -> None:
    # AppTest's calls outside a script run log "missing ScriptRunContext": harmless, and noise here.
    # A filter, because Streamlit resets its loggers' levels when it loads its config.
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(lambda record: False)
    app = fresh()
    cold = timed_ms(lambda: checked(app.run()))
    warm = [timed_ms(lambda: checked(fresh().run())) for _ in range(5)]
    requests = interaction_times(app, "requests", [1000 + i for i in range(1, REPEAT + 1)], "number_input")
    hit_rate = interaction_times(app, "cache_hit_rate_pct", [50.0 + i for i in range(REPEAT)], "number_input")
    model = interaction_times(
        app, "model", ["claude-haiku-4-5-20251001", "claude-sonnet-4-6"] * (REPEAT // 2), "selectbox"
    )
    tier = interaction_times(app, "throughput_tier", ["build", "scale", "start"] * (REPEAT // 3), "selectbox")
    compare = tab_times(app, "Compare models")
    prices = tab_times(app, "Prices")
    conversations = tab_times(app, "Conversations")
    open_page(app, "Conversations")
    turns = interaction_times(app, "conversation_turns", [20 + i for i in range(1, REPEAT + 1)], "number_input")
    open_page(app, "Prices")
    diff = interaction_times(
        app, "prices_diff_from", [dt.date(2026, 10, 1) - dt.timedelta(days=i) for i in range(REPEAT)], "date_input"
    )

    print(f"AppTest on {APP}, default scenario; best and median of repeated runs")
    print()
    print("| step | best | median |")
    print("|---|---|---|")
    print(f"| first render, cold process | {cold:,.0f} ms | (once) |")
    print(row("first render, new session (warm process)", warm))
    print(row("Plan: change the number of requests", requests))
    print(row("Plan: change the hit rate", hit_rate))
    print(row("Plan: change the model", model))
    print(row("Plan: change the account tier (throughput)", tier))
    print(row("open Compare models (every current model)", compare))
    print(row("open Prices", prices))
    print(row("open Conversations (20 turns, the sweep to 40)", conversations))
    print(row("Conversations: change the number of turns", turns))
    print(row("Prices: change a diff date", diff))


if __name__ == "__main__":
    main()
