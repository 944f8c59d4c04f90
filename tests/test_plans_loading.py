"""Plan files: strict loading with one line-numbered error per problem, token files, the JSON Schema."""

from __future__ import annotations

import ast
import json
import os
from decimal import Decimal as D
from pathlib import Path

import pytest
import yaml

from estimator import Workload
from estimator.plans import PlanFileError, load_plan, parse_plan
from estimator.plans.limits import Budget, convert, parse_increase
from estimator.plans.schema import SCHEMA_PATH, plan_json_schema_text
from estimator.tokens import count_text
from pricing import PriceTable
from tests.conftest import FIXTURES
from tests.fake_anthropic import fake_input_tokens, serve_fake_anthropic

PLANS = FIXTURES / "plans"
ROOT = Path(__file__).resolve().parents[1]


def _write(tmp_path: Path, text: str, name: str = "costs.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _problem(path: Path) -> str:
    with pytest.raises(PlanFileError) as caught:
        load_plan(path)
    return str(caught.value)


def test_a_plan_loads_into_checked_workloads() -> None:
    plan = load_plan(PLANS / "team.yaml")
    assert plan.names == ("chat", "reports")
    assert (plan.period, plan.mode, plan.budget) == ("month", "cheapest", Budget(D(400), "month"))
    chat = plan.workload("chat")
    assert chat.line == 6
    assert chat.mode == "realtime_cached"
    assert chat.budget == Budget(D(10), "day")
    assert chat.workload == Workload(
        model="claude-sonnet-5-5",
        requests=1000,
        period="day",
        prefix_tokens=4000,
        unique_input_tokens=1000,
        output_tokens=500,
        cache_hit_rate=D("0.8"),
    )
    reports = plan.workload("reports")
    assert reports.workload is not None
    assert reports.workload.model == "claude-haiku-4-5-20251001"  # the alias resolved to the table's id
    assert (reports.period, reports.mode) == ("month", "batch")


# Each bad file yields exactly one line: the file, the line of the offending key, what is wrong, the fix.
BAD_FILES = [
    (
        "unknown_key.yaml",
        "unknown_key.yaml:5: workload 'chat': unknown key 'prefix_token' (did you mean 'prefix_tokens'?)",
    ),
    ("wrong_type.yaml", "wrong_type.yaml:4: workload 'chat': requests: must be a whole number (got 'a thousand')"),
    ("negative.yaml", "negative.yaml:6: workload 'chat': output_tokens: must be 0 or more (got -500)"),
]


@pytest.mark.parametrize(("name", "expected"), BAD_FILES, ids=[name for name, _ in BAD_FILES])
def test_bad_plan_files_give_one_line_numbered_error(name: str, expected: str) -> None:
    message = _problem(PLANS / name)
    assert message == str(PLANS / expected.split(":", 1)[0]) + ":" + expected.split(":", 1)[1]
    assert "\n" not in message


def test_an_unknown_model_is_named_with_its_line_and_close_ids() -> None:
    message = _problem(PLANS / "unknown_model.yaml")
    assert "\n" not in message
    assert message.startswith(
        f"{PLANS / 'unknown_model.yaml'}:5: workload 'chat': model: Unknown model 'claude-sonet-5-5'."
    )
    assert "Did you mean: claude-sonnet-5-5" in message


PLAN_HEAD = "workloads:\n  chat:\n    model: claude-sonnet-5-5\n    requests: 10\n"

ONE_LINE_PROBLEMS = [
    ("cache_hit_rate: .nan\n", "5: workload 'chat': cache_hit_rate: must be a finite number (not NaN or infinity)"),
    ("cache_hit_rate: .inf\n", "5: workload 'chat': cache_hit_rate: must be a finite number (not NaN or infinity)"),
    ("cache_hit_rate: 85\n", "5: workload 'chat': cache_hit_rate: must be between 0 and 1 (0.85 for 85%) (got 85)"),
    ("prefix_tokens: 100000000\n", "5: workload 'chat': prefix_tokens: must be at most 10,000,000; larger values"),
    ("fast: 1\n", "5: workload 'chat': fast: must be true or false (got 1)"),
    ("mode: fastest\n", "5: workload 'chat': mode: must be one of 'realtime', 'realtime_cached', 'batch'"),
    ("as_of: 2026-10-01\n", "5: workload 'chat': unknown key 'as_of' (the price date is given to `check --as-of`"),
    ("input_tokens: 5\n", "5: workload 'chat': unknown key 'input_tokens' (did you mean 'unique_input_tokens'"),
    ("budget: {usd: -5}\n", "5: workload 'chat': budget.usd: must be 0 or more (got -5)"),
    ("budget: {usd: 5, pr: day}\n", "5: workload 'chat': budget: unknown key 'pr' (did you mean 'per'?)"),
    ("max_increase: 10\n", "5: workload 'chat': max_increase: must be a percentage such as '10%' or an amount"),
    ("max_increase: -10%\n", "5: workload 'chat': max_increase: must be a percentage such as '10%' or an amount"),
    ("geo: us\n    model: x\n", "6: invalid YAML: duplicate key 'model' (the later value would silently win)"),
    (
        "cache_hit_rate: 0.5\n    requests_per_hour: 10\n",
        "6: workload 'chat': requests_per_hour: give cache_hit_rate or",
    ),
    ("period: run\n", "5: workload 'chat': period: costs per run cannot be added to a plan totalled per month"),
    ("prefix_tokens: {fil: a.txt}\n", "5: workload 'chat': prefix_tokens: unknown key 'fil' (did you mean 'file'?)"),
    ("prefix_tokens: {file: missing.txt}\n", "5: workload 'chat': prefix_tokens.file: "),
    ("requests_per_hour: [1, 2\n", "6: invalid YAML: "),
]


@pytest.mark.parametrize(("extra", "expected"), ONE_LINE_PROBLEMS, ids=[e.split(":")[0] for e, _ in ONE_LINE_PROBLEMS])
def test_each_problem_is_one_line_with_its_line_number(tmp_path: Path, extra: str, expected: str) -> None:
    path = _write(tmp_path, PLAN_HEAD + "    " + extra)
    message = _problem(path)
    assert "\n" not in message
    assert message.startswith(f"{path}:{expected}")


def test_several_problems_give_one_line_each(tmp_path: Path) -> None:
    text = (
        "workloads:\n"
        "  a:\n    model: claude-sonnet-5-5\n    requests: -1\n"
        "  b:\n    model: claude-sonnet-5-5\n    requests: 1\n    prefix_tokens: many\n"
    )
    lines = _problem(_write(tmp_path, text)).splitlines()
    assert [line.split(": ", 1)[0] for line in lines] == [
        f"{tmp_path / 'costs.yaml'}:4",
        f"{tmp_path / 'costs.yaml'}:8",
    ]


def test_a_misspelt_kind_key_is_one_problem_not_three(tmp_path: Path) -> None:
    message = _problem(_write(tmp_path, "workloads:\n  nightly:\n    batch_fille: {path: requests.jsonl}\n"))
    assert (
        message
        == f"{tmp_path / 'costs.yaml'}:3: workload 'nightly': unknown key 'batch_fille' (did you mean 'batch_file'?)"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ":1: a plan is a mapping with a `workloads:` key, got nothing"),
        ("- 1\n", ":1: a plan is a mapping with a `workloads:` key, got a list"),
        ("workloads: {}\n", ":1: workloads: a plan needs at least one workload"),
        ("x: &a 1\nworkloads:\n  a: {model: claude-sonnet-5-5, requests: *a}\n", ":3: invalid YAML: YAML aliases"),
        ("workloads: " + "[" * 3000 + "]" * 3000 + "\n", ": invalid YAML: nested too deeply to be a plan"),
        ("version: 2\nworkloads:\n  a: {model: claude-sonnet-5-5, requests: 1}\n", ":1: version: must be one of 1"),
    ],
    ids=["empty", "list", "no-workloads", "alias", "deep", "version"],
)
def test_malformed_documents_are_refused_in_one_line(tmp_path: Path, text: str, expected: str) -> None:
    path = _write(tmp_path, text)
    message = _problem(path)
    assert "\n" not in message
    assert message.startswith(f"{path}{expected}")


def test_fifos_directories_large_and_binary_files_are_refused_without_waiting(tmp_path: Path) -> None:
    fifo = tmp_path / "costs.yaml"
    os.mkfifo(fifo)  # nobody ever writes: a blocking open would hang the test
    assert _problem(fifo) == f"{fifo}: the plan file must be a regular file, not a FIFO (named pipe)"
    assert _problem(tmp_path) == f"{tmp_path}: the plan file must be a regular file, not a directory"
    large = _write(tmp_path, "#" * 1_000_001, "large.yaml")
    assert _problem(large) == f"{large}: the plan file is larger than 1,000,000 bytes; is it the right file?"
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"workloads:\n\xff\xfe\n")
    assert _problem(binary) == f"{binary}: not UTF-8 text (byte 11)"
    assert _problem(tmp_path / "absent.yaml").startswith(f"{tmp_path / 'absent.yaml'}: cannot read the plan file")


def test_a_fifo_named_as_a_batch_file_is_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "requests.jsonl")
    path = _write(tmp_path, "workloads:\n  nightly:\n    batch_file: {path: requests.jsonl}\n")
    assert _problem(path) == (
        f"{path}:3: workload 'nightly': batch_file.path: "
        f"{tmp_path / 'requests.jsonl'}: the batch file must be a regular file, not a FIFO (named pipe)"
    )


def test_token_figures_can_be_counted_from_a_text_file(tmp_path: Path, table: PriceTable) -> None:
    text = "You answer questions about invoices. Be brief, cite the invoice number.\n" * 40
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "system.md").write_text(text, encoding="utf-8")
    path = _write(tmp_path, PLAN_HEAD + "    prefix_tokens: {file: prompts/system.md}\n")
    plan = load_plan(path, table=table)
    item = plan.workload("chat")
    expected = count_text(text, "claude-sonnet-5-5", table=table)
    assert item.workload is not None
    assert item.workload.prefix_tokens == expected.expected_tokens
    (counted,) = item.token_files
    assert (counted.field, counted.path, counted.tokens) == (
        "prefix_tokens",
        "prompts/system.md",
        expected.expected_tokens,
    )
    assert counted.detail.startswith("estimated offline")


def test_token_files_are_counted_exactly_with_a_key(tmp_path: Path, table: PriceTable) -> None:
    text = "Summarise the ticket below in one sentence."
    (tmp_path / "ticket.txt").write_text(text, encoding="utf-8")
    path = _write(tmp_path, PLAN_HEAD + "    unique_input_tokens: {file: ticket.txt}\n")
    with serve_fake_anthropic("sk-ant-test-plans") as fake:
        plan = load_plan(path, table=table, exact_tokens=True, api_key="sk-ant-test-plans", base_url=fake.url)
    exact = fake_input_tokens({"model": "claude-sonnet-5-5", "messages": [{"role": "user", "content": text}]})
    item = plan.workload("chat")
    assert item.workload is not None and item.workload.unique_input_tokens == exact
    assert item.token_files[0].detail == "exact (count_tokens)"
    assert "sk-ant-test-plans" not in repr(plan)


def test_an_uploaded_plan_may_not_read_files_where_it_runs() -> None:
    text = PLAN_HEAD + "    prefix_tokens: {file: /etc/hostname}\n"
    with pytest.raises(PlanFileError) as caught:
        parse_plan(text, source_name="upload.yaml", base_dir=None)
    assert str(caught.value) == (
        "upload.yaml:5: workload 'chat': prefix_tokens.file: names a file (/etc/hostname), "
        "which is only read when the plan is loaded from a file"
    )


def test_traffic_gives_the_hit_rate(tmp_path: Path, table: PriceTable) -> None:
    from estimator import hit_rate_from_traffic

    plan = load_plan(_write(tmp_path, PLAN_HEAD + "    requests_per_hour: 30\n    cache_ttl: 1h\n"), table=table)
    workload = plan.workload("chat").workload
    assert workload is not None
    assert workload.cache_hit_rate == hit_rate_from_traffic("30", "1h", table=table)


def test_periods_convert_by_the_stated_convention() -> None:
    # month = 365.25 / 12 = 30.4375 days; week = 7 days; year = 365.25 days.
    assert convert(D(10), "day", "month") == D("304.375")
    assert convert(D(10), "day", "week") == D(70)
    assert convert(D("304.375"), "month", "day") == D(10)
    assert convert(D(12), "month", "year") == D(144)
    assert convert(D(7), "week", "month") == D("30.4375")
    assert convert(D(1), "week", "month") == D("4.348214285714285714285714286")  # 487/112, rounded to 28 digits
    assert Budget(D("304.375"), "month").allows(D(10), "day")
    assert not Budget(D("304.374"), "month").allows(D(10), "day")


@pytest.mark.parametrize(
    ("text", "kind", "amount"),
    [("10%", "percent", D(10)), ("+2.5 %", "percent", D("2.5")), ("$5", "usd", D(5)), ("1,000 USD", "usd", D(1000))],
)
def test_increase_limits_read_percent_or_dollars(text: str, kind: str, amount: D) -> None:
    limit = parse_increase(text)
    assert (limit.kind, limit.amount) == (kind, amount)


@pytest.mark.parametrize("text", ["10", "-5%", "ten percent", "$", "5$5"])
def test_ambiguous_increase_limits_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="must be a percentage such as '10%' or an amount such as '\\$5'"):
        parse_increase(text)


def test_the_shipped_json_schema_is_current() -> None:
    assert SCHEMA_PATH.read_text(encoding="utf-8") == plan_json_schema_text(), (
        "run `python -m estimator.plans.schema` to rewrite estimator/plans/plan.schema.json"
    )


def test_the_json_schema_accepts_the_example_and_rejects_a_typo() -> None:
    import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    example = yaml.safe_load((ROOT / "examples" / "costs.yaml").read_text(encoding="utf-8"))
    jsonschema.validate(example, schema)
    example["workloads"]["support-bot"]["prefix_token"] = 3000
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(example, schema)


def test_pydantic_is_imported_only_by_the_schema_module() -> None:
    # `import estimator` stays light; within the plans package only the plan-file schema needs pydantic.
    importers = []
    for path in (ROOT / "estimator" / "plans").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:  # module level only: lazy imports inside functions are the point
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            module = node.module if isinstance(node, ast.ImportFrom) else None
            if "pydantic" in names or (module or "").split(".")[0] == "pydantic":
                importers.append(path.name)
    assert importers == ["model.py"]


def test_a_plan_takes_the_richer_workload_fields(tmp_path: Path) -> None:
    path = tmp_path / "costs.yaml"
    path.write_text(
        "workloads:\n"
        "  agent:\n"
        "    model: claude-sonnet-4-6\n"
        "    requests: 100\n"
        "    output_tokens: 500\n"
        "    thinking_tokens: 2000\n"
        "    web_fetches_per_request: 2\n"
        "    tokens_per_web_fetch: 2500\n"
        "    code_execution_sessions_per_request: 1\n"
        "    code_execution_minutes_per_session: 10\n"
        "    channel: bedrock\n"
        "    endpoint: regional\n",
        encoding="utf-8",
    )
    workload = load_plan(path).workloads[0].workload
    assert workload is not None
    assert (workload.thinking_tokens, workload.tokens_per_web_fetch, workload.channel, workload.endpoint) == (
        2000,
        2500,
        "bedrock",
        "regional",
    )
    assert workload.code_execution_minutes_per_session == 10
