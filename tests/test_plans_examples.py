"""The ready-made wiring in examples/ and .pre-commit-hooks.yaml: the plan checks green, its lock is current,
the workflow and the hook call commands that exist, with arguments the command accepts."""

from __future__ import annotations

import io
import os
import shlex
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from estimator.cli import main
from estimator.plans import check_plan, load_plan, lock_plan, read_lock

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return main(argv, stdout=out, stderr=err), out.getvalue(), err.getvalue()


def test_the_example_plan_checks_green_today() -> None:
    code, out, err = run(["check", str(EXAMPLES / "costs.yaml")])
    assert (code, err) == (0, ""), out
    assert out.startswith("Claude costs pass: ")


def test_the_example_lock_is_current_for_the_example_plan() -> None:
    lock = read_lock(EXAMPLES / "costs.lock.json")
    plan = load_plan(EXAMPLES / "costs.yaml")
    assert lock.plan_sha256 == plan.sha256, "examples/costs.yaml changed: run `python -m estimator lock` on it"
    check = check_plan(plan, as_of=lock.as_of, baseline=lock, max_increase="0%")
    assert check.passed
    assert check.attribution is not None and check.attribution.change_usd == 0
    relocked = lock_plan(plan, reason=lock.reason, as_of=lock.as_of, today=lock.created)
    assert [(w.name, w.cost_usd, w.identity) for w in relocked.workloads] == [
        (w.name, w.cost_usd, w.identity) for w in lock.workloads
    ]
    assert {w.kind for w in plan.workloads} == {"workload", "batch_file"}  # one workload reads requests.jsonl


def _workflow() -> dict[str, Any]:
    loaded = yaml.safe_load((EXAMPLES / "github-actions" / "cost-check.yml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_the_workflow_runs_on_pull_requests_and_writes_nothing() -> None:
    workflow = _workflow()
    assert "pull_request" in workflow[True]  # YAML 1.1 reads the key `on` as true
    assert "pull_request_target" not in workflow[True]
    assert workflow["permissions"] == {"contents": "read"}
    (job,) = workflow["jobs"].values()
    assert "permissions" not in job
    uses = [step["uses"].split("@")[0] for step in job["steps"] if "uses" in step]
    assert uses == ["actions/checkout", "actions/setup-python"]  # GitHub's own actions only


def test_the_workflow_calls_the_real_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (job,) = _workflow()["jobs"].values()
    (command,) = [step["run"] for step in job["steps"] if "estimator check" in step.get("run", "")]
    summary = tmp_path / "step-summary.md"
    argv = shlex.split(command.replace('"$GITHUB_STEP_SUMMARY"', str(summary)))
    assert argv[:4] == ["python", "-m", "estimator", "check"]
    # The workflow runs at the repository root, where costs.yaml and costs.lock.json live: here, examples/.
    monkeypatch.chdir(EXAMPLES)
    lock = read_lock("costs.lock.json")
    code, out, err = run([*argv[3:], "--as-of", lock.as_of.isoformat()])
    assert (code, err) == (0, "")
    assert out.startswith("Claude costs pass: ")
    report = summary.read_text(encoding="utf-8")
    assert report.startswith("### ✅ Claude costs pass: ")
    assert "**Against the baseline.**" in report


def _hooks() -> list[dict[str, Any]]:
    loaded = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, list)
    return loaded


def test_the_pre_commit_hook_names_a_command_that_exists(monkeypatch: pytest.MonkeyPatch) -> None:
    (hook,) = _hooks()
    assert (hook["id"], hook["language"], hook["pass_filenames"]) == ("claude-cost-check", "python", False)
    program, *arguments = shlex.split(hook["entry"])
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert scripts[program] == "estimator.cli:main"  # the console script pre-commit installs and calls
    monkeypatch.chdir(EXAMPLES)
    code, _, err = run([*arguments, *hook["args"]])
    assert (code, err) == (0, "")


def test_the_example_pre_commit_config_uses_the_hook_with_arguments_the_command_takes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = yaml.safe_load((EXAMPLES / "pre-commit-config.yaml").read_text(encoding="utf-8"))
    ((hook,),) = [repo["hooks"] for repo in config["repos"]]
    (offered,) = _hooks()
    assert hook["id"] == offered["id"]
    _, *arguments = shlex.split(offered["entry"])
    monkeypatch.chdir(EXAMPLES)
    lock = read_lock("costs.lock.json")
    code, _, err = run([*arguments, *hook["args"], "--as-of", lock.as_of.isoformat()])
    assert (code, err) == (0, "")


def test_the_example_batch_file_is_valid() -> None:
    from estimator import analyze_batch_file

    result = analyze_batch_file(EXAMPLES / "requests.jsonl")
    assert (result.requests, result.errors) == (8, ())
    assert os.path.getsize(EXAMPLES / "requests.jsonl") < 50_000
