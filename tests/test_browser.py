"""The app as a user meets it: `streamlit run` on a free local port, driven by headless Chromium.

Uses Debian's chromium (never `playwright install`, which downloads a browser). Without it the test
is skipped on a workstation and fails in CI. Screenshots go to test-output/ (gitignored).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit

import pytest

from estimator import MODES, analyze_batch_file, estimate, format_usd
from pricing import PriceTable
from tests.conftest import FIXTURES
from ui.labels import metric_label
from ui.scenario import DEFAULT_WORKLOAD
from ui.tables import cheapest_modes, verdict

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "test-output"
BATCH_FILE = FIXTURES / "mixed_models.jsonl"
STARTUP_TIMEOUT_S = 90
FIRST_RENDER_TIMEOUT_MS = 90_000  # a cold first page (imports plotly, pandas) on a loaded 2-core machine
UPDATE_TIMEOUT_MS = 30_000
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]"}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        reason = "install Debian's chromium (scripts/install-chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"chromium is missing in CI: {reason}")
        pytest.skip(reason)
    return path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _streamlit_command(port: int) -> list[str]:
    return [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.headless", "true",
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip


def _wait_until_healthy(server: subprocess.Popen[bytes], url: str, log: Path) -> None:
    """Poll the health endpoint; between attempts, wait on the server process so an early exit is seen."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        try:
            server.wait(timeout=0.25)
        except subprocess.TimeoutExpired:
            continue
        pytest.fail(f"streamlit exited with code {server.returncode} before serving:\n{log.read_text()}")
    pytest.fail(f"streamlit did not answer {url} within {STARTUP_TIMEOUT_S} s")


@pytest.fixture(scope="module")
def app_url(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    log = tmp_path_factory.mktemp("streamlit") / "server.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            _streamlit_command(port), cwd=ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        _wait_until_healthy(server, f"http://127.0.0.1:{port}/_stcore/health", log)
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def requested_hosts() -> list[str]:
    """Every host the page under test asked for (documents, scripts, fonts, images, websockets)."""
    return []


@pytest.fixture
def page(browser: Browser, requested_hosts: list[str]) -> Iterator[Page]:
    from playwright.sync_api import expect

    expect.set_options(timeout=UPDATE_TIMEOUT_MS)  # every wait generous: CI machines are busy
    OUTPUT.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1400, "height": 1800})
    opened = context.new_page()
    opened.on("request", lambda request: requested_hosts.append(_host(request.url)))
    opened.on("websocket", lambda socket: requested_hosts.append(_host(socket.url)))
    opened.set_default_timeout(UPDATE_TIMEOUT_MS)
    try:
        yield opened
    finally:
        context.close()


def _host(url: str) -> str:
    parsed = urlsplit(url)
    if parsed.scheme in ("data", "blob", "about"):
        return "127.0.0.1"  # inline data: no request leaves the page
    return parsed.hostname if parsed.hostname != "::1" else "[::1]"  # type: ignore[return-value]


def open_app(page: Page, url: str) -> None:
    """Load the app and wait for its first figures, however busy the machine."""
    from playwright.sync_api import expect

    page.goto(url, timeout=FIRST_RENDER_TIMEOUT_MS)
    expect(page.get_by_test_id("stMetric").first).to_be_visible(timeout=FIRST_RENDER_TIMEOUT_MS)


def test_changing_requests_updates_the_totals(app_url: str, page: Page, table: PriceTable) -> None:
    from playwright.sync_api import expect

    label = metric_label("realtime", "total")
    open_app(page, app_url)
    total = page.get_by_test_id("stMetric").filter(has_text=label).get_by_test_id("stMetricValue")
    expect(total).to_have_text(format_usd(estimate(DEFAULT_WORKLOAD, table=table).mode("realtime").total_usd))

    requests = page.get_by_label("Requests", exact=True)
    requests.fill("2500")
    requests.press("Enter")
    changed = dataclasses.replace(DEFAULT_WORKLOAD, requests=2500)
    result = estimate(changed, table=table)
    expect(total).to_have_text(format_usd(result.mode("realtime").total_usd))
    cheapest = page.get_by_test_id("stMetric").filter(has_text=metric_label("batch_cached", "total"))
    expect(cheapest.get_by_test_id("stMetricValue")).to_have_text(format_usd(result.mode("batch_cached").total_usd))
    expect(page).to_have_url(re.compile(r"[?&]requests=2500(&|$)"))
    page.screenshot(path=str(OUTPUT / "plan-2500-requests.png"), full_page=True)

    page.get_by_role("link", name="Dry-run a batch file", exact=True).click()
    # The main area's uploader: the Plan page's sidebar has uploaders of its own (negotiated rates, currency).
    page.get_by_test_id("stMain").get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(BATCH_FILE))
    dry = analyze_batch_file(BATCH_FILE, table=table)
    expect(page.get_by_text("Every line is valid.")).to_be_visible()
    dry_total = page.get_by_test_id("stMetric").filter(has_text=metric_label("batch_cached", "expected"))
    expect(dry_total.get_by_test_id("stMetricValue")).to_have_text(format_usd(dry.total("batch_cached").expected_usd))
    expect(page.get_by_test_id("stDataFrame").first).to_be_visible()
    page.screenshot(path=str(OUTPUT / "dry-run-upload.png"), full_page=True)


def test_no_request_leaves_the_machine(app_url: str, page: Page, requested_hosts: list[str]) -> None:
    """Offline assets: the favicon, fonts, icons and every page's scripts come from the app's own server."""
    from playwright.sync_api import expect

    open_app(page, app_url)
    pages = [("Compare models", "stDataFrame"), ("Prices", "stDataFrame"), ("Plan", "stMetric")]
    pages += [("Conversations", "stMetric")]
    pages += [("Actual costs", "stFileUploaderDropzoneInput"), ("Plan files", "stFileUploaderDropzoneInput")]
    for title, marker in pages:
        page.get_by_role("link", name=title, exact=True).click()
        expect(page.get_by_test_id(marker).first).to_be_attached()
    page.get_by_role("link", name="Dry-run a batch file", exact=True).click()
    expect(page.get_by_role("heading", name="Dry-run a batch file")).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert requested_hosts, "no request was recorded"
    assert set(requested_hosts) <= LOCAL_HOSTS, sorted(set(requested_hosts) - LOCAL_HOSTS)


def test_a_links_markdown_is_shown_as_typed(app_url: str, page: Page) -> None:
    from playwright.sync_api import expect

    period = "**BOLD** [x](http://a.io) :red[y]"
    open_app(page, f"{app_url}?{urlencode({'period': period})}")
    caption = page.get_by_text(re.compile(r"^Totals for 1,000 requests per"))
    expect(caption).to_contain_text("requests per **BOLD**")
    assert f"requests per {period} on" in caption.inner_text().replace("\u200b", "")  # zero-width: no link
    assert caption.locator("strong, a, span[style]").count() == 0


OVERFLOW_JS = """grids => grids.map(grid => {
    const scroller = grid.querySelector('.dvn-scroller') || grid;
    return scroller.scrollWidth - scroller.clientWidth;
})"""


def _column(grid: Locator, index: int) -> list[str]:
    """The texts of one column's rendered cells, read from the grid's accessible table."""
    return [row.locator("td").nth(index).inner_text() for row in grid.locator("tbody tr").all()]


def _sort_by(page: Page, grid: Locator, header: str) -> None:
    """Sort the grid by `header`, ascending. Headers are drawn on a canvas, so the test clicks along the
    header row and reads which column the grid's accessible table then marks as sorted (↑ or ↓)."""
    box = grid.bounding_box()
    assert box is not None
    headers = grid.locator("[role=columnheader]")

    def marked() -> str:
        return next((text for text in headers.all_inner_texts() if text[:2] in ("↑ ", "↓ ")), "")

    def click(x: int) -> str:
        before = marked()
        page.mouse.click(box["x"] + x, box["y"] + 17)
        deadline = time.monotonic() + 3  # a click on a column border changes nothing: move on
        while marked() == before and time.monotonic() < deadline:
            page.wait_for_timeout(50)
        return marked()

    for x in range(10, int(box["width"]), 30):
        now = click(x)
        for _ in range(2):  # a column cycles ascending → descending → unsorted
            if now == f"↑ {header}":
                return
            if now.endswith(f" {header}") or (not now and x > 10):
                now = click(x)
    pytest.fail(f"no header {header!r} to sort by")


def test_money_and_rates_sort_by_value(app_url: str, page: Page, table: PriceTable) -> None:
    from playwright.sync_api import expect

    page.goto(f"{app_url}prices", timeout=FIRST_RENDER_TIMEOUT_MS)
    grid = page.get_by_test_id("stDataFrame").first
    expect(grid.locator("tbody tr").first).to_be_attached(timeout=FIRST_RENDER_TIMEOUT_MS)
    _sort_by(page, grid, "Input")
    shown = [float(text) for text in _column(grid, 1) if text]  # the rows drawn: the start of the column
    rates = [model.period_as_of(dt.date.today()) for model in table.models_as_of(dt.date.today())]
    by_value = sorted(float(period.input_mtok) for period in rates if period is not None)
    by_text = sorted(by_value, key=lambda rate: f"{rate:.2f}")  # "10.00" before "2.00"
    assert len(shown) >= 5
    assert shown == by_value[: len(shown)]
    assert by_text[: len(shown)] != shown, "these rates cannot tell a numeric sort from a text sort"


def test_the_verdict_comes_first(app_url: str, page: Page, table: PriceTable) -> None:
    from playwright.sync_api import expect

    result = estimate(DEFAULT_WORKLOAD, table=table)
    rules = table.rules.batch
    headline, catch = verdict(result, band=(rules.best_effort_hit_rate_low, rules.best_effort_hit_rate_high))
    open_app(page, app_url)
    line = page.locator(".st-key-verdict")
    expect(line).to_contain_text(headline)
    expect(line).to_contain_text(catch)
    cards = [page.locator(f".st-key-mode_{mode}") for mode in ("realtime", "realtime_cached", "batch", "batch_cached")]
    tops = {round(card.bounding_box()["y"]) for card in cards}  # type: ignore[index]
    assert len(tops) == 1, "the four mode cards share one row at 1400 px"
    for card, mode in zip(cards, MODES, strict=True):
        if result.mode(mode) in cheapest_modes(result):
            expect(card).to_contain_text("cheapest")
        else:
            expect(card).not_to_contain_text("cheapest")


@pytest.mark.parametrize("path", ["compare", "prices", "dry-run"])
def test_no_table_is_wider_than_the_page(app_url: str, page: Page, path: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{app_url}{path}", timeout=FIRST_RENDER_TIMEOUT_MS)
    if path == "dry-run":
        uploader = page.get_by_test_id("stMain").get_by_test_id("stFileUploaderDropzoneInput")
        uploader.set_input_files(str(FIXTURES / "invalid.jsonl"))
        expect(page.get_by_test_id("stTable")).to_be_visible(timeout=FIRST_RENDER_TIMEOUT_MS)
    grids = page.get_by_test_id("stDataFrame")
    expect(grids.first.locator("tbody tr").first).to_be_attached(timeout=FIRST_RENDER_TIMEOUT_MS)
    visible = [grid for grid in grids.all() if grid.is_visible()]
    overflow = [grid.evaluate(f"grid => ({OVERFLOW_JS})([grid])[0]") for grid in visible]
    assert overflow and all(extra <= 0 for extra in overflow), overflow
    for element in page.get_by_test_id("stTable").all():
        assert element.evaluate("e => e.scrollWidth - e.clientWidth") <= 0
