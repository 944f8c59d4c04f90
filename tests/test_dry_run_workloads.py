"""Richer batch files (issues 15 and 16): thinking, server tools, multi-turn requests, several files and directories,
exact counts of requests with images. Each figure is worked out by hand from the rates in the price table."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import struct
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest

from estimator import BatchFileError
from estimator.batches.dry_run import DryRunResult, analyze_batch_file, analyze_batch_files, batch_files_in
from estimator.cli import main
from estimator.tokens.offline import cl100k_token_count
from estimator.workload import MODES
from pricing import DEFAULT_TABLE_PATH, PriceTable, parse_price_table
from tests.conftest import FIXTURES
from tests.fake_anthropic import FakeAnthropic, fake_input_tokens, serve_fake_anthropic

DAY = dt.date(2026, 11, 25)
MTOK = Decimal(1_000_000)
KEY = "sk-ant-test-workloads-0123456789"


def dry_run(*params: dict[str, Any], **options: Any) -> DryRunResult:
    lines = "".join(json.dumps({"custom_id": f"r{i}", "params": p}) + "\n" for i, p in enumerate(params))
    return analyze_batch_file(io.BytesIO(lines.encode()), as_of=DAY, **options)


def ask(model: str, text: str = "Summarise the attached note.", max_tokens: int = 4000, **extra: Any) -> dict[str, Any]:
    return {"model": model, "max_tokens": max_tokens, "messages": [{"role": "user", "content": text}], **extra}


def claude_tokens(text: str, factor: str) -> int:
    return int((cl100k_token_count(text) * Decimal(factor)).to_integral_value(rounding=ROUND_HALF_UP))


def rates(table: PriceTable, model_id: str) -> tuple[Decimal, Decimal]:
    period = table.prices_as_of(table.model(model_id), DAY)
    return period.input_mtok, period.output_mtok


# --- thinking ---------------------------------------------------------------------------------------------------


def test_a_thinking_budget_adds_thinking_to_the_expected_output(table: PriceTable) -> None:
    # max_tokens 4,000: visible output 0.5 × 4,000 = 2,000; thinking 0.5 × the 2,000-token budget = 1,000.
    thinking = {"type": "enabled", "budget_tokens": 2000}
    result = dry_run(ask("claude-sonnet-4-6", thinking=thinking))
    (model,) = result.models
    assert (model.output_tokens_expected, model.thinking_tokens_expected, model.visible_output_tokens_expected) == (
        3000,
        1000,
        2000,
    )
    assert (model.thinking_requests, model.output_tokens_max) == (1, 4000)
    input_rate, output_rate = rates(table, "claude-sonnet-4-6")
    tokens = claude_tokens("Summarise the attached note.", "1.15") + 7
    assert model.cost("realtime").expected_usd == (tokens * input_rate + 3000 * output_rate) / MTOK
    assert any("thinking = 0.5 × budget_tokens" in text for text in result.assumptions)


@pytest.mark.parametrize(
    ("params", "thinking"),
    [
        # Adaptive thinking has no budget: 0.5 of the 2,000 tokens max_tokens leaves after the visible output.
        (ask("claude-opus-4-8", thinking={"type": "adaptive"}), 1000),
        (ask("claude-sonnet-5"), 1000),  # thinks by default, with no thinking field
        (ask("claude-sonnet-5", thinking={"type": "disabled"}), 0),
        (ask("claude-sonnet-4-6"), 0),
    ],
    ids=["adaptive", "on-by-default", "disabled", "no-thinking"],
)
def test_thinking_by_kind(params: dict[str, Any], thinking: int) -> None:
    (model,) = dry_run(params).models
    assert model.thinking_tokens_expected == thinking
    assert model.output_tokens_expected == 2000 + thinking


def test_thinking_ratio_is_settable_and_bounded_by_max_tokens() -> None:
    budget = {"type": "enabled", "budget_tokens": 3500}
    (model,) = dry_run(ask("claude-sonnet-4-6", thinking=budget), thinking_ratio="1").models
    # The whole budget would be 3,500, but max_tokens leaves 2,000 after the visible output.
    assert model.thinking_tokens_expected == 2000 and model.output_tokens_expected == 4000
    (model,) = dry_run(ask("claude-sonnet-4-6", thinking=budget), thinking_ratio=0).models
    assert model.thinking_tokens_expected == 0
    with pytest.raises(Exception, match="thinking_ratio"):
        dry_run(ask("claude-sonnet-4-6"), thinking_ratio="1.5")


# --- server tools -----------------------------------------------------------------------------------------------

WEB_SEARCH = {"type": "web_search_20250305", "name": "web_search", "max_uses": 5}
WEB_FETCH = {"type": "web_fetch_20250910", "name": "web_fetch"}
CODE = {"type": "code_execution_20250825", "name": "code_execution"}


def test_web_search_is_priced_per_use_with_max_uses_as_the_high_end(table: PriceTable) -> None:
    plain = dry_run(ask("claude-sonnet-4-6", tools=[WEB_SEARCH], max_tokens=100))
    (model,) = plain.models
    per_search = table.rules.web_search.usd_per_1000_searches / 1000
    tools = model.server_tools
    assert (tools.web_search_requests, tools.web_searches_expected, tools.web_searches_high) == (1, 1, 5)
    assert tools.web_search_usd_expected == per_search
    input_rate, output_rate = rates(table, "claude-sonnet-4-6")
    tool_prompt = table.model("claude-sonnet-4-6").tool_use_system_prompt_tokens
    assert tool_prompt is not None
    tool_json = json.dumps(WEB_SEARCH, sort_keys=True, separators=(",", ":"))
    tokens = claude_tokens(tool_json + "\nSummarise the attached note.", "1.15") + 7 + tool_prompt.auto_or_none
    expected = (tokens * input_rate + 50 * output_rate) / MTOK + per_search
    assert model.cost("realtime").expected_usd == expected
    assert model.cost("batch").expected_usd == (tokens * input_rate + 50 * output_rate) / MTOK / 2 + per_search
    assert model.cost("realtime").high_usd >= expected + 4 * per_search  # max_uses on the high side
    three = dry_run(ask("claude-sonnet-4-6", tools=[WEB_SEARCH], max_tokens=100), web_searches=3)
    assert three.models[0].server_tools.web_searches_expected == 3
    notes = [p.message for p in plain.problems]
    assert any(n.startswith("web search: the result tokens are billed as input") for n in notes)


def test_web_fetch_is_noted_as_tokens_only() -> None:
    result = dry_run(ask("claude-sonnet-4-6", tools=[WEB_FETCH], max_tokens=100))
    assert result.models[0].server_tools.web_fetch_requests == 1
    assert any(p.message.startswith("web fetch: the fetched content is billed as input") for p in result.problems)
    assert result.models[0].server_tools.web_search_usd_expected == 0


def test_code_execution_is_priced_by_container_time(table: PriceTable) -> None:
    rules = table.rules.code_execution
    result = dry_run(ask("claude-sonnet-4-6", tools=[CODE], max_tokens=100), ask("claude-sonnet-4-6", max_tokens=100))
    tools = result.models[0].server_tools
    # One request, one container session of at least the minimum (5 minutes): 5 / 60 hours, rounded to 1e-12.
    hours = (rules.minimum_minutes_per_session / 60).quantize(Decimal("1e-12"), rounding=ROUND_HALF_UP)
    assert (tools.code_execution_requests, tools.code_execution_hours) == (1, hours)
    assert tools.code_execution_usd == hours * rules.usd_per_container_hour
    longer = dry_run(ask("claude-sonnet-4-6", tools=[CODE], max_tokens=100), code_execution_minutes=30)
    assert longer.models[0].server_tools.code_execution_hours == Decimal("0.5")
    assert any("code execution: 5 container minutes per request" in a for a in result.assumptions)


def test_code_execution_is_free_alongside_the_dated_web_tools() -> None:
    search = {"type": "web_search_20260209", "name": "web_search"}
    result = dry_run(ask("claude-sonnet-4-6", tools=[CODE, search], max_tokens=100))
    tools = result.models[0].server_tools
    assert (tools.code_execution_requests, tools.code_execution_free_requests, tools.code_execution_usd) == (
        0,
        1,
        Decimal(0),
    )


# --- multi-turn requests ---------------------------------------------------------------------------------------


def test_multi_turn_requests_share_the_breakpoints_of_their_common_turns(table: PriceTable) -> None:
    system = [{"type": "text", "text": "You review contracts. " * 400, "cache_control": {"type": "ephemeral"}}]
    document = "Clause 4.2: the supplier delivers within thirty days. " * 150
    turns = [
        {"role": "user", "content": document},
        {"role": "assistant", "content": [{"type": "text", "text": "Noted.", "cache_control": {"type": "ephemeral"}}]},
        {"role": "user", "content": "Is clause 4.2 enforceable?"},
    ]
    longer = [*turns, {"role": "assistant", "content": "Yes."}, {"role": "user", "content": "And clause 5?"}]
    params = [
        {"model": "claude-sonnet-4-6", "max_tokens": 100, "system": system, "messages": turns},
        {"model": "claude-sonnet-4-6", "max_tokens": 100, "system": system, "messages": longer},
    ]
    result = dry_run(*params, hit_rate=1)
    (model,) = result.models
    assert model.multi_turn_requests == 2 and model.distinct_prefixes == 2
    # Prefix 1: the system prompt; prefix 2 adds the first user turn and the marked assistant turn. Both are
    # written by the first request and read by the second (hit rate 1).
    first = cl100k_token_count(system[0]["text"])
    second = first + cl100k_token_count(document + "\nNoted.")
    prefix = int((second * Decimal("1.15")).to_integral_value(rounding=ROUND_HALF_UP))
    assert model.cache_write_tokens == prefix and model.cache_read_tokens == prefix
    # Each request's input beyond the prefix: its whole text counted and rounded, less the prefix, plus the frame.
    tails = ["Is clause 4.2 enforceable?", "Is clause 4.2 enforceable?\nYes.\nAnd clause 5?"]
    whole = [int(((second + cl100k_token_count(t)) * Decimal("1.15")).to_integral_value(ROUND_HALF_UP)) for t in tails]
    input_rate, output_rate = rates(table, "claude-sonnet-4-6")
    period = table.prices_as_of(table.model("claude-sonnet-4-6"), DAY)
    cached = (
        (sum(whole) - 2 * prefix + 2 * 7) * input_rate
        + prefix * period.cache_write_5m_mtok  # type: ignore[operator]
        + prefix * period.cache_read_mtok  # type: ignore[operator]
        + 100 * output_rate
    ) / MTOK
    assert model.cost("realtime_cached").expected_usd == cached
    assert any("2 multi-turn requests" in note for note in result.notes)


def test_an_agent_loop_turn_with_tool_results_counts_as_multi_turn() -> None:
    loop = [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "t1", "name": "weather", "input": {"city": "Paris"}}],
        },
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "18°C"}]},
    ]
    tool = {"name": "weather", "description": "Weather by city", "input_schema": {"type": "object"}}
    (model,) = dry_run(
        ask("claude-sonnet-4-6", tools=[tool], messages=loop, cache_control={"type": "ephemeral"})
    ).models
    assert model.multi_turn_requests == 1


# --- several files and directories ----------------------------------------------------------------------------


def _files(tmp_path: Path) -> tuple[Path, Path, Path]:
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_bytes((FIXTURES / "valid.jsonl").read_bytes())
    second.write_bytes((FIXTURES / "mixed_models.jsonl").read_bytes())  # custom_ids may repeat across files
    folder = tmp_path / "more"
    folder.mkdir()
    (folder / "c.jsonl").write_bytes((FIXTURES / "invalid.jsonl").read_bytes())
    (folder / "notes.txt").write_text("not a batch file")
    return first, second, folder


def test_several_files_make_one_report_with_per_file_figures(tmp_path: Path) -> None:
    first, second, folder = _files(tmp_path)
    paths = batch_files_in([first, second, folder])
    assert [p.name for p in paths] == ["a.jsonl", "b.jsonl", "c.jsonl"]
    result = analyze_batch_files(paths, as_of=DAY)
    alone = [analyze_batch_file(path, as_of=DAY) for path in paths]
    assert [f.name for f in result.files] == [str(p) for p in paths]
    assert [f.requests for f in result.files] == [r.requests for r in alone]
    assert result.requests == sum(r.requests for r in alone)
    assert result.lines == sum(r.lines for r in alone) and result.invalid_lines == sum(r.invalid_lines for r in alone)
    for mode in MODES:
        whole = result.total(mode)
        if whole.available:
            assert whole.expected_usd == sum(f.total(mode).expected_usd for f in result.files)  # type: ignore[misc]
    # Files priced alone and together agree when they share no cache entry.
    assert [f.total("batch").expected_usd for f in result.files] == [r.total("batch").expected_usd for r in alone]
    assert [(s.file, s.first_line, s.last_line) for s in result.split] == [
        (str(paths[0]), 1, 3),
        (str(paths[1]), alone[1].split[0].first_line, alone[1].split[0].last_line),
        (str(paths[2]), alone[2].split[0].first_line, alone[2].split[0].last_line),
    ]
    problems = [(p.file, p.line, p.code) for p in result.problems]
    assert problems == [(str(paths[2]), p.line, p.code) for p in alone[2].problems]
    assert result.errors and result.source_name == "3 files"


def test_the_split_plan_never_spans_two_files(tmp_path: Path) -> None:
    text = DEFAULT_TABLE_PATH.read_text(encoding="utf-8").replace("max_requests: 100000 ", "max_requests: 2 ")
    first, _, _ = _files(tmp_path)
    second = tmp_path / "copy.jsonl"
    second.write_bytes(first.read_bytes())
    result = analyze_batch_files([first, second], as_of=DAY, table=parse_price_table(text))
    assert [(Path(s.file).name, s.first_line, s.last_line, s.requests) for s in result.split] == [
        ("a.jsonl", 1, 2, 2),
        ("a.jsonl", 3, 3, 1),
        ("copy.jsonl", 1, 2, 2),
        ("copy.jsonl", 3, 3, 1),
    ]
    assert result.needs_split


def test_directories_and_inputs_are_checked(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(BatchFileError, match="holds no batch file"):
        batch_files_in([empty])
    with pytest.raises(BatchFileError, match="no batch file given"):
        analyze_batch_files([])
    with pytest.raises(BatchFileError, match="read only once"):
        analyze_batch_files(["-", "-"])


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_cli_takes_files_and_directories(tmp_path: Path) -> None:
    first, second, folder = _files(tmp_path)
    code, out, _ = run_cli("dry-run", str(first), str(second), str(folder), "--as-of", "2026-11-25", "--format", "json")
    payload = json.loads(out)
    assert code == 1  # c.jsonl has errors
    assert [Path(f["file"]).name for f in payload["files"]] == ["a.jsonl", "b.jsonl", "c.jsonl"]
    assert [Path(s["file"]).name for s in payload["split"]] == ["a.jsonl", "b.jsonl", "c.jsonl"]
    assert {Path(p["file"]).name for p in payload["problems"]} == {"c.jsonl"}
    code, text, _ = run_cli("dry-run", str(first), str(second), "--as-of", "2026-11-25")
    assert code == 0 and "Per file (expected cost):" in text and "a.jsonl" in text and "b.jsonl" in text
    assert "Split plan (2 batches):" in text


def test_cli_assumption_flags(tmp_path: Path) -> None:
    path = tmp_path / "tools.jsonl"
    params = ask("claude-sonnet-4-6", tools=[WEB_SEARCH, CODE], thinking={"type": "enabled", "budget_tokens": 2000})
    path.write_text(json.dumps({"custom_id": "a", "params": params}) + "\n")
    code, out, _ = run_cli(
        "dry-run", str(path), "--as-of", "2026-11-25", "--format", "json", "--thinking-ratio", "0.25",
        "--web-searches", "2", "--code-execution-minutes", "12",
    )  # fmt: skip
    model = json.loads(out)["models"][0]
    assert code == 0
    assert model["output_tokens"]["thinking_expected"] == 500
    assert model["server_tools"]["web_searches"] == {"expected": 2, "high": 5}
    assert model["server_tools"]["code_execution_hours"] == "0.2"
    code, _, err = run_cli("dry-run", str(path), "--web-searches", "-1")
    assert code == 2 and err.startswith("error: ") and "web_searches" in err


# --- exact counts with media ----------------------------------------------------------------------------------


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    with serve_fake_anthropic(KEY) as server:
        yield server


def test_exact_counts_replace_the_media_estimates(tmp_path: Path, fake: FakeAnthropic) -> None:
    png = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + struct.pack(">IIBBBBB", 1000, 1000, 8, 2, 0, 0, 0)
    image = {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": base64.b64encode(png).decode()},
    }
    params = {
        "model": "claude-sonnet-4-6",
        "max_tokens": 50,
        "messages": [{"role": "user", "content": [image, {"type": "text", "text": "What is it?"}]}],
    }
    path = tmp_path / "image.jsonl"
    path.write_text(json.dumps({"custom_id": "a", "params": params}) + "\n")
    offline = analyze_batch_file(path, as_of=DAY)
    exact = analyze_batch_file(path, as_of=DAY, exact="all", api_key=KEY, base_url=fake.url)
    counted = fake_input_tokens({k: v for k, v in params.items() if k != "max_tokens"})
    assert offline.models[0].media.image_tokens_expected == 1334
    (model,) = exact.models
    assert model.count_source == "exact"
    assert model.input_tokens_low == model.input_tokens_expected == model.input_tokens_high == counted
