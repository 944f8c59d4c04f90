"""`check` and `lock` as CI runs them: exit codes, every output format parsed back, the pytest helper."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from decimal import Decimal as D
from pathlib import Path

import pytest

from estimator.cli import main
from estimator.plans import assert_cost_within, read_lock
from tests.conftest import FIXTURES

PLANS = FIXTURES / "plans"
ROOT = Path(__file__).resolve().parents[1]
MONTH_DAYS = D("30.4375")


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def locked(tmp_path: Path) -> Path:
    """team.yaml and its lock as of 2026-10-01, before Sonnet 5.5's read price fell on 2026-10-07."""
    plan = tmp_path / "costs.yaml"
    plan.write_text((PLANS / "team.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    code, out, err = run("lock", str(plan), "--as-of", "2026-10-01", "--reason", "Q4 baseline")
    assert (code, err) == (0, "")
    assert out.startswith(f"wrote {tmp_path / 'costs.lock.json'}: 2 workloads, $613.42 per month as of 2026-10-01")
    return plan


def test_exit_codes_within_over_and_bad(tmp_path: Path) -> None:
    assert run("check", str(PLANS / "within.yaml"), "--as-of", "2026-10-01")[0] == 0
    code, out, _ = run("check", str(PLANS / "team.yaml"), "--as-of", "2026-10-01")
    assert code == 1
    assert out.splitlines()[0] == "Claude costs fail (2 checks): $613.42 per month"
    code, out, err = run("check", str(PLANS / "negative.yaml"))
    assert (code, out) == (2, "")
    assert err == f"error: {PLANS / 'negative.yaml'}:6: workload 'chat': output_tokens: must be 0 or more (got -500)\n"
    code, _, err = run("check", str(PLANS / "within.yaml"), "--baseline", str(tmp_path / "missing.json"))
    assert code == 2
    assert err.startswith(f"error: {tmp_path / 'missing.json'}: cannot read the lock file")


def test_lock_refuses_an_empty_reason(tmp_path: Path) -> None:
    code, out, err = run("lock", str(PLANS / "within.yaml"), "--reason", "  ", "--output", str(tmp_path / "l.json"))
    assert (code, out) == (2, "")
    assert err.startswith("error: --reason is empty")
    assert not (tmp_path / "l.json").exists()


def test_options_are_never_abbreviated(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["check", str(PLANS / "within.yaml"), "--base", "costs.lock.json"])
    assert caught.value.code == 2
    assert "unrecognized arguments: --base" in capsys.readouterr().err


def test_lock_then_check_with_the_increase_and_its_attribution(locked: Path) -> None:
    lock = read_lock(locked.with_name("costs.lock.json"))
    assert lock.reason == "Q4 baseline"
    code, out, _ = run(
        "check", str(locked), "--as-of", "2026-10-08", "--baseline", str(locked.with_name("costs.lock.json")),
        "--format", "json",
    )  # fmt: skip
    payload = json.loads(out)
    assert code == payload["exit_code"] == 1  # reports is still over its budget
    baseline = payload["baseline"]
    fall = (D("9.32") - D("9.64")) * MONTH_DAYS  # 1,000 requests × 3,200 fewer read-dollars per MTok… by hand:
    # per request, 0.8 × 4,000 cached tokens × (0.10 − 0.20) $/MTok = −$0.00032; × 1,000 a day × 30.4375
    assert fall == D("0.8") * 4000 * (D("0.10") - D("0.20")) / 1_000_000 * 1000 * MONTH_DAYS
    assert D(baseline["price_effect_usd"]) == D(baseline["change_usd"]) == fall
    assert D(baseline["workload_effect_usd"]) == 0
    assert baseline["reason"] == "Q4 baseline"
    assert {"model_id": "claude-sonnet-5-5", "where": "in effect", "field": "cache_read_mtok", "old_mtok": "0.2",
            "new_mtok": "0.1"} in baseline["price_changes"]  # fmt: skip
    chat = payload["workloads"][0]
    assert (chat["name"], D(chat["change"]["price_effect_usd"])) == ("chat", fall)


def _markdown_table(text: str) -> list[list[str]]:
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in re.split(r"(?<!\\)\|", row)[1:-1]] for row in rows]


def test_markdown_puts_the_verdict_first_then_a_small_table(locked: Path) -> None:
    text = (locked.parent / "costs.yaml").read_text(encoding="utf-8").replace("requests: 1000", "requests: 1500")
    locked.write_text(text, encoding="utf-8")
    code, out, _ = run(
        "check", str(locked), "--as-of", "2026-10-08", "--baseline", str(locked.with_name("costs.lock.json")),
        "--max-increase", "10%", "--format", "markdown",
    )  # fmt: skip
    assert code == 1
    lines = out.splitlines()
    # chat: 1,500 × $0.00932 a day at the new read price = $13.98 a day, × 30.4375 = $425.52 a month
    assert lines[0] == "### ❌ Claude costs fail (4 checks): \\$745.52 per month"
    table = _markdown_table(out)
    assert table[0] == ["Workload", "Model", "Mode", "Per month", "Budget", "Change", ""]
    assert [row[0] for row in table[1:]] == ["chat", "reports", "**Total**"]
    assert table[1][:3] == ["chat", "claude-sonnet-5-5", "realtime\\_cached"]
    assert table[1][5:] == ["+\\$132.10 (+45.0%)", "❌ over budget"]
    assert table[2][-1] == "❌ over budget"
    assert "**Failures**" in lines
    assert "- total: rose beyond +10%: \\$613.42 → \\$745.52 per month (+21.5%)" in lines
    assert "- Prices changed: −\\$9.74" in lines  # (0.10 − 0.20) × 0.8 × 4,000 × 1,000 / 1M × 30.4375
    assert "- Workloads changed: +\\$141.84" in lines  # 500 × $0.00932 × 30.4375
    assert "  - chat: requests 1,000 → 1,500" in lines
    assert any(line.startswith("  - claude-sonnet-5-5 cache\\_read\\_mtok: 0.20 → 0.10") for line in lines)


def test_markdown_escapes_what_would_break_the_table(tmp_path: Path) -> None:
    text = (PLANS / "within.yaml").read_text(encoding="utf-8").replace("  chat:", '  "a|b <script>*x*":')
    plan = tmp_path / "costs.yaml"
    plan.write_text(text, encoding="utf-8")
    _, out, _ = run("check", str(plan), "--as-of", "2026-10-01", "--format", "markdown")
    assert _markdown_table(out)[1][0] == "a\\|b &lt;script&gt;\\*x\\*"
    assert "<script>" not in out


def test_junit_has_a_testcase_per_workload_and_the_total(locked: Path, tmp_path: Path) -> None:
    report = tmp_path / "cost-check.xml"
    code, out, _ = run(
        "check", str(locked), "--as-of", "2026-10-08", "--baseline", str(locked.with_name("costs.lock.json")),
        "--max-increase", "1%", "--format", "junit", "--output", str(report),
    )  # fmt: skip
    assert code == 1
    assert out.startswith("Claude costs fail")  # the verdict still prints when the report goes to a file
    suites = ET.fromstring(report.read_text(encoding="utf-8"))
    (suite,) = suites.findall("testsuite")
    cases = {case.get("name"): case for case in suite.findall("testcase")}
    assert list(cases) == ["chat", "reports", "plan total"]
    assert (suites.get("tests"), suites.get("failures")) == ("3", "2")
    assert cases["chat"].find("failure") is None
    (failure,) = cases["reports"].findall("failure")
    assert failure.get("type") == "over_budget"
    assert failure.get("message") == "over budget: costs $320.00 per month, budget $200.00 per month"
    # prices fell, so the total is within +1% of the baseline; it is over the plan's $400 budget only
    (failure,) = cases["plan total"].findall("failure")
    assert failure.get("type") == "over_budget"
    out_text = cases["plan total"].findtext("system-out") or ""
    assert "Prices changed: −$9.74" in out_text


def test_output_file_errors_are_one_line(tmp_path: Path) -> None:
    code, _, err = run("check", str(PLANS / "within.yaml"), "--format", "json", "--output", str(tmp_path / "no/x.json"))
    assert code == 2
    assert err.startswith(f"error: {tmp_path / 'no/x.json'}: cannot write the report")


def _relaxed(plan: Path) -> str:
    """The plan with budgets no workload reaches: only the allowed increase can fail it."""
    text = plan.read_text(encoding="utf-8").replace("{usd: 200, per: month}", "{usd: 2000, per: month}")
    text = text.replace("{usd: 400, per: month}", "{usd: 4000, per: month}")
    return text.replace("{usd: 10, per: day}", "{usd: 99, per: day}")


def test_assert_cost_within_fails_with_the_reason(locked: Path) -> None:
    lock = locked.with_name("costs.lock.json")
    locked.write_text(_relaxed(locked).replace("requests: 1000", "requests: 1500"), encoding="utf-8")

    with pytest.raises(AssertionError) as caught:
        assert_cost_within(locked, lock, max_increase="10%", as_of=dt.date(2026, 10, 8))
    message = str(caught.value)
    assert "✗ total: rose beyond +10%: $613.42 → $745.52 per month (+21.5%)" in message
    assert "since the baseline (2026-10-01, reason: Q4 baseline): $613.42 → $745.52" in message
    assert "prices changed: −$9.74" in message
    assert "workloads changed: +$141.84" in message
    assert "claude-sonnet-5-5 cache_read_mtok: 0.20 → 0.10 $/MTok (in effect)" in message
    assert "chat: requests 1,000 → 1,500" in message
    check = assert_cost_within(locked, lock, max_increase="25%", as_of=dt.date(2026, 10, 8))
    assert check.passed


def test_the_pytest_plugin_gives_teams_a_fixture(locked: Path) -> None:
    test_file = locked.parent / "test_team_costs.py"
    test_file.write_text(
        "import datetime as dt\n"
        "def test_costs(claude_cost_gate):\n"
        "    check = claude_cost_gate('costs.yaml', 'costs.lock.json', max_increase='10%',\n"
        "                             as_of=dt.date(2026, 10, 8))\n"
        "    assert check.total_usd > 0\n"
        "def test_costs_rise(claude_cost_gate):\n"
        "    claude_cost_gate('bigger.yaml', 'costs.lock.json', max_increase='10%', as_of=dt.date(2026, 10, 8))\n",
        encoding="utf-8",
    )
    text = _relaxed(locked)
    locked.write_text(text, encoding="utf-8")
    (locked.parent / "bigger.yaml").write_text(text.replace("requests: 1000", "requests: 1500"), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "estimator.plans.pytest_plugin",
         str(test_file)],
        cwd=locked.parent, capture_output=True, text=True, timeout=120,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert "1 failed, 1 passed" in result.stdout, result.stdout + result.stderr
    assert "AssertionError: Claude costs of bigger.yaml (as of 2026-10-08, per month):" in result.stdout
    assert "✗ total: rose beyond +10%: $613.42 → $745.52 per month (+21.5%)" in result.stdout


def test_the_gate_loads_neither_pytest_nor_the_ui() -> None:
    code = (
        "import sys, json, estimator; estimator.assert_cost_within; estimator.check_plan; "
        "import estimator.cli.check, estimator.cli.lock; "
        "print(json.dumps([m for m in ('pytest', 'streamlit', 'plotly', 'tiktoken') if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert json.loads(out) == []
