"""The app as a user meets it: `streamlit run` on a free local port, driven by headless Chromium.

Uses Debian's chromium (never `playwright install`, which downloads a browser). Without it the test
is skipped on a workstation and fails in CI. Screenshots go to test-output/ (gitignored).
"""

from __future__ import annotations

import dataclasses
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

import pytest

from estimator import analyze_batch_file, estimate, format_usd
from pricing import PriceTable
from tests.conftest import FIXTURES
from ui.labels import metric_label
from ui.scenario import DEFAULT_WORKLOAD

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "test-output"
BATCH_FILE = FIXTURES / "mixed_models.jsonl"
STARTUP_TIMEOUT_S = 45
UPDATE_TIMEOUT_MS = 20_000
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


def test_changing_requests_updates_the_totals(app_url: str, chromium: str, table: PriceTable) -> None:
    from playwright.sync_api import expect, sync_playwright

    OUTPUT.mkdir(exist_ok=True)
    label = metric_label("realtime", "total")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1800})
            page.goto(app_url)
            total = page.get_by_test_id("stMetric").filter(has_text=label).get_by_test_id("stMetricValue")
            expect(total).to_have_text(format_usd(estimate(DEFAULT_WORKLOAD, table=table).mode("realtime").total_usd))

            requests = page.get_by_label("Requests", exact=True)
            requests.fill("2500")
            requests.press("Enter")
            changed = dataclasses.replace(DEFAULT_WORKLOAD, requests=2500)
            result = estimate(changed, table=table)
            expect(total).to_have_text(format_usd(result.mode("realtime").total_usd), timeout=UPDATE_TIMEOUT_MS)
            cheapest = page.get_by_test_id("stMetric").filter(has_text=metric_label("batch_cached", "total"))
            expect(cheapest.get_by_test_id("stMetricValue")).to_have_text(
                format_usd(result.mode("batch_cached").total_usd)
            )
            expect(page).to_have_url(re.compile(r"[?&]requests=2500(&|$)"), timeout=UPDATE_TIMEOUT_MS)
            page.screenshot(path=str(OUTPUT / "plan-2500-requests.png"), full_page=True)

            page.get_by_role("tab", name="Dry-run a batch file").click()
            page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(BATCH_FILE))
            dry = analyze_batch_file(BATCH_FILE, table=table)
            expect(page.get_by_text("Every line is valid.")).to_be_visible(timeout=UPDATE_TIMEOUT_MS)
            dry_total = page.get_by_test_id("stMetric").filter(has_text=metric_label("batch_cached", "expected"))
            expect(dry_total.get_by_test_id("stMetricValue")).to_have_text(
                format_usd(dry.total("batch_cached").expected_usd), timeout=UPDATE_TIMEOUT_MS
            )
            expect(page.get_by_test_id("stDataFrame").first).to_be_visible(timeout=UPDATE_TIMEOUT_MS)
            page.screenshot(path=str(OUTPUT / "dry-run-upload.png"), full_page=True)
        finally:
            browser.close()
