"""How fast the app feels in a browser: `streamlit run` on a free local port, driven by headless Chromium.

Run: .venv/bin/python benchmarks/bench_browser.py [--repeat 7]

Debian's Chromium (/usr/bin/chromium), never a downloaded browser. Each figure is the median (and best) of
`--repeat` tries on a warm server (one untimed load first), measured from the browser's side:

- first figure: a new tab opens the app; until the first chart has drawn (the Plan page's cost breakdown,
  plain HTML bars); then, on that settled page, a click on the what-if expander until its plotly chart has
  drawn (the first plotly chart a visitor sees, its script loaded then);
- input change: the number of requests typed on the settled Plan page; until the new total is shown,
  the script has finished and the browser has painted (the page is settled);
- opening a page: a click on "Compare models" in the navigation; until its table is drawn and the page
  is settled (then back to the Plan, untimed). The page opens on its table; its chart is a tab away.

Targets (issue 13): first figure < 2 s, input change < 300 ms, opening a page < 300 ms.

The baseline, measured in the same run on the same machine: a bare Streamlit page with one metric and one
small plotly chart (what Streamlit and plotly cost before any of the app's own work). "First figure, return
visit" reloads in a tab whose browser has the app's scripts cached, as a returning user's has.

Every wait ends inside the page, checked on each animation frame (`wait_for_function(polling="raf")`) and
timed by the page's own clock (`performance.now()`; for a first figure, from the navigation's start, as a user
who pressed Enter waits). Playwright's `expect` polls at 0, 20, 70, 170 and 270 ms, then every 500 ms, so a
figure drawn at 800 ms was seen at up to 1,270 ms: it is kept only for the untimed checks.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

from estimator import estimate, format_usd  # noqa: E402
from ui.bars import BREAKDOWN_CLASS  # noqa: E402
from ui.labels import metric_label  # noqa: E402
from ui.pages.plan import WHAT_IF  # noqa: E402
from ui.scenario import DEFAULT_WORKLOAD  # noqa: E402

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 120_000
TARGETS_MS = {"first figure": 2000, "input change": 300, "opening a page": 300}
SETTLED_JS = """() => new Promise(resolve => {
    const app = document.querySelector('[data-testid="stApp"]');
    const check = () => {
        if (app && app.getAttribute('data-test-script-state') !== 'running') {
            requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now())));
        } else {
            setTimeout(check, 5);
        }
    };
    check();
})"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


BASELINE_APP = """
import plotly.graph_objects as go
import streamlit as st

st.set_page_config(layout="wide")
st.metric("Real-time · total", "$39.00")
st.plotly_chart(go.Figure(go.Bar(x=["a", "b"], y=[1, 2])), config={"displayModeBar": False})
"""


@contextmanager
def streamlit_server(script: str = "app.py", cwd: Path = ROOT) -> Iterator[str]:
    port = _free_port()
    command = [
        sys.executable, "-m", "streamlit", "run", script,
        "--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    server = subprocess.Popen(command, cwd=cwd, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1):
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise SystemExit("streamlit did not start within 90 s")
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


def settled(page: Page) -> float:
    """Wait until the script has finished and the browser has painted twice; the time, in ms."""
    return float(page.evaluate(SETTLED_JS))


FIRST_FIGURE = f"figure.{BREAKDOWN_CLASS}, .js-plotly-plot .main-svg"
"""The first chart of either kind: the app's breakdown (HTML bars) or a plotly chart (the baseline's)."""
PLOTLY_FIGURE = ".js-plotly-plot .main-svg"


DRAWN_JS = """selector => {
    const found = document.querySelector(selector);
    if (!found) return false;
    const box = found.getBoundingClientRect();
    return box.width > 0 && box.height > 0 ? performance.now() : false;
}"""
"""The page's time (ms) once an element matching the selector has a size, else false."""

METRIC_SHOWS_JS = """([label, wanted]) => {
    for (const metric of document.querySelectorAll('[data-testid="stMetric"]')) {
        const value = metric.querySelector('[data-testid="stMetricValue"]');
        if (metric.textContent.includes(label) && value && value.textContent.trim() === wanted) {
            return performance.now();
        }
    }
    return false;
}"""
"""The page's time (ms) once the metric labelled `label` shows `wanted`, else false."""


def drawn(page: Page, selector: str) -> float:
    """Wait, checking on every animation frame, until an element matching the selector is drawn; the page's
    time then, in ms (from the navigation's start)."""
    found = page.wait_for_function(DRAWN_JS, arg=selector, polling="raf", timeout=TIMEOUT_MS)
    return float(found.json_value())


def first_figure_ms(page: Page, url: str, selector: str = FIRST_FIGURE) -> float:
    """From the navigation's start (a user pressing Enter) until the first figure is drawn."""
    page.goto("about:blank")
    page.goto(url, wait_until="commit", timeout=TIMEOUT_MS)
    return drawn(page, selector)


def what_if_ms(page: Page) -> float:
    """On a settled Plan page: a click on the what-if expander, until its plotly chart has drawn its plot and
    the page is settled (on a first visit this includes loading plotly's script)."""
    start = page.evaluate("performance.now()")
    page.get_by_text(WHAT_IF, exact=True).click()
    drawn(page, PLOTLY_FIGURE)
    return settled(page) - float(start)


def input_change_ms(page: Page, requests: int) -> float:
    workload = dataclasses.replace(DEFAULT_WORKLOAD, requests=requests)
    wanted = format_usd(estimate(workload).mode("realtime").total_usd)
    field = page.get_by_label("Requests", exact=True)
    field.fill(str(requests))
    start = page.evaluate("performance.now()")
    field.press("Enter")
    shown = [metric_label("realtime", "total"), wanted]
    page.wait_for_function(METRIC_SHOWS_JS, arg=shown, polling="raf", timeout=TIMEOUT_MS)
    return settled(page) - float(start)


def open_page_ms(page: Page) -> float:
    start = page.evaluate("performance.now()")
    page.get_by_role("link", name="Compare models", exact=True).click()
    drawn(page, '[data-testid="stDataFrame"]')
    elapsed = settled(page) - float(start)
    page.get_by_role("link", name="Plan", exact=True).click()
    expect(page.get_by_test_id("stMetric").first).to_be_visible(timeout=TIMEOUT_MS)
    settled(page)
    return elapsed


def row(label: str, times: list[float], target_ms: int | None = None) -> str:
    median = statistics.median(times)
    goal = "—" if target_ms is None else f"< {target_ms:,} ms ({'meets' if median < target_ms else 'MISSES'})"
    return f"| {label} | {min(times):,.0f} ms | {median:,.0f} ms | {goal} |"


def first_visits(browser: Browser, url: str, repeat: int) -> tuple[list[float], list[float]]:
    """Each try in a new browser context: no cache, as a first-time visitor. The time to the first figure,
    and then the time to open the what-if charts (plotly's script loads then)."""
    firsts, what_ifs = [], []
    for _ in range(repeat):
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        firsts.append(first_figure_ms(page, url))
        settled(page)
        what_ifs.append(what_if_ms(page))
        context.close()
    return firsts, what_ifs


def baseline_first_figure(browser: Browser, repeat: int) -> list[float]:
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "baseline.py").write_text(BASELINE_APP, encoding="utf-8")
        with streamlit_server("baseline.py", Path(folder)) as url:
            warm = browser.new_page()
            first_figure_ms(warm, url)
            warm.close()
            times = []
            for _ in range(repeat):
                context = browser.new_context(viewport={"width": 1400, "height": 1000})
                times.append(first_figure_ms(context.new_page(), url))
                context.close()
            return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--repeat", type=int, default=7, help="tries per step (median of at least 5)")
    args = parser.parse_args()
    repeat = max(args.repeat, 5)
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    load_before = os.getloadavg()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            baseline = baseline_first_figure(browser, repeat)
            with streamlit_server() as url:
                warm = browser.new_page(viewport={"width": 1400, "height": 1000})
                first_figure_ms(warm, url)  # untimed: imports, caches and the browser's own warm-up
                warm.close()
                first, what_ifs = first_visits(browser, url, repeat)
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                returning = [first_figure_ms(page, url) for _ in range(repeat)]
                settled(page)
                changes = [input_change_ms(page, 1000 + step) for step in range(1, repeat + 1)]
                opens = [open_page_ms(page) for _ in range(repeat)]
        finally:
            browser.close()
    load_after = os.getloadavg()
    print(f"Chromium against `streamlit run app.py`, {repeat} tries each, 1400 × 1000 px")
    print(f"load average (1 min) {load_before[0]:.1f} before, {load_after[0]:.1f} after, on {os.cpu_count()} cores")
    print()
    print("| step | best | median | target |")
    print("|---|---|---|---|")
    print(row("first figure (the cost breakdown)", first, TARGETS_MS["first figure"]))
    print(row("then opening the what-if charts (plotly, its script not cached yet)", what_ifs))
    print(row("first figure, return visit", returning))
    print(row("input change", changes, TARGETS_MS["input change"]))
    print(row("opening a page", opens, TARGETS_MS["opening a page"]))
    print(row("baseline: bare Streamlit page, first figure", baseline))


if __name__ == "__main__":
    main()
