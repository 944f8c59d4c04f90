"""Issue 17: dry runs as the API sees them. Request shapes like those found in real batch files, each with the
verdict the API gives and the message a user sees; the rule table checked against the price table and the SDK."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import typing
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from estimator import Workload, estimate
from estimator.batches import api_rules, request_checks
from estimator.batches.api_rules import MESSAGES_PARAMS, RULES, SPEED_VALUES, THINKING_TYPES, rule_model_ids
from estimator.batches.dry_run import DryRunResult, analyze_batch_file
from estimator.batches.validation import LineProblem
from estimator.tokens.counting import count_request, largest_published_tool_prompt_tokens
from pricing import PriceTable

DAY = dt.date(2026, 11, 25)
TOOL = {"name": "lookup", "description": "Find a record.", "input_schema": {"type": "object"}}
IMAGE = {"type": "image", "source": {"type": "url", "url": "https://example.com/chart.png"}}  # not sizeable offline


def params(model: str = "claude-sonnet-4-6", **extra: Any) -> dict[str, Any]:
    return {"model": model, "max_tokens": 4000, "messages": [{"role": "user", "content": "Hello"}], **extra}


def dry_run(*lines: dict[str, Any] | str, as_of: dt.date = DAY) -> DryRunResult:
    text = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    return analyze_batch_file(io.BytesIO(text.encode()), as_of=as_of)


def verdict(request: dict[str, Any], as_of: dt.date = DAY) -> list[LineProblem]:
    return list(dry_run({"custom_id": "r1", "params": request}, as_of=as_of).problems)


# --- the rule table -----------------------------------------------------------------------------------------


def test_every_model_a_rule_names_is_in_the_price_table(table: PriceTable) -> None:
    ids = {model.id for model in table.models}
    assert rule_model_ids() <= ids, sorted(rule_model_ids() - ids)


def test_every_rule_cites_its_source() -> None:
    for rule in RULES.values():
        assert rule.source.startswith(("https://", "[SDK]")), rule
        assert rule.says and rule.severity in ("error", "warning")


def test_every_code_the_checks_report_is_a_rule() -> None:
    source = Path(request_checks.__file__).read_text(encoding="utf-8")
    reported = set(re.findall(r'_finding\(\s*"([a-z_]+)"', source))
    assert len(reported) > 15 and reported <= set(RULES)


def test_the_known_parameters_cover_the_sdk() -> None:
    from anthropic.types import message_create_params

    sdk = set(typing.get_type_hints(message_create_params.MessageCreateParamsNonStreaming))
    assert sdk <= MESSAGES_PARAMS, sorted(sdk - MESSAGES_PARAMS)


def test_thinking_types_and_speeds_are_the_sdks() -> None:
    from anthropic.types import message_create_params, thinking_config_param

    kinds = {typing.get_args(typing.get_type_hints(member)["type"])[0] for member in
             typing.get_args(thinking_config_param.ThinkingConfigParam)}  # fmt: skip
    assert kinds == set(THINKING_TYPES)
    speed = typing.get_type_hints(message_create_params.MessageCreateParamsNonStreaming)["speed"]
    assert {value for arg in typing.get_args(speed) for value in typing.get_args(arg)} == set(SPEED_VALUES)


def test_rule_groups_are_mappings_to_their_sources() -> None:
    for name in ("ENABLED_REJECTED", "SAMPLING_REJECTED", "SYSTEM_ROLE_ACCEPTED", "FORCED_TOOL_CHOICE_REJECTED"):
        group = getattr(api_rules, name)
        assert group and all(str(source).startswith("https://") for source in group.values()), name


# --- request shapes: the verdict and the message ----------------------------------------------------------

EVERY_PARAMETER = params(
    system=[{"type": "text", "text": "You are terse.", "cache_control": {"type": "ephemeral"}}],
    metadata={"user_id": "u-1"},
    stop_sequences=["\n\nHuman:"],
    stream=False,
    temperature=0.7,
    top_k=50,
    tools=[TOOL],
    tool_choice={"type": "auto"},
    service_tier="auto",
    inference_geo="us",
    cache_control={"type": "ephemeral"},
)

SHAPES: list[tuple[str, dict[str, Any], list[tuple[str, str]], str]] = [
    # (name, request, [(severity, code)], a fragment of the first message)
    ("SDK-style request with every parameter", EVERY_PARAMETER, [("warning", "breakpoint_below_minimum")],
     "cover less than the minimum cacheable length of 1,024 tokens"),
    ("the same on Sonnet 5: sampling parameters removed", {**EVERY_PARAMETER, "model": "claude-sonnet-5"},
     [("error", "sampling_params_rejected")], "Claude Sonnet 5 with temperature 0.7, top_k 50 — sampling parameters"),
    ("thinking with top_k", params(thinking={"type": "enabled", "budget_tokens": 2000}, top_k=40),
     [("error", "thinking_with_top_k")], 'top_k 40 with thinking "enabled" — thinking isn\'t compatible'),
    ("adaptive thinking with temperature", params(thinking={"type": "adaptive"}, temperature=0.2),
     [("error", "thinking_with_temperature")], "temperature may only be 1 while thinking"),
    ("thinking with temperature 1", params(thinking={"type": "adaptive"}, temperature=1), [], ""),
    ("thinking with top_p below the floor", params(thinking={"type": "adaptive"}, top_p=0.9),
     [("error", "thinking_top_p_below_floor")], "between 1 and 0.95"),
    ("thinking with top_p at the floor", params(thinking={"type": "adaptive"}, top_p=0.95), [], ""),
    ("thinking with a forced tool", params(thinking={"type": "adaptive"}, tools=[TOOL], tool_choice={"type": "any"}),
     [("error", "thinking_with_forced_tool_choice")], 'only supports tool_choice "auto" or "none"'),
    ("thinking with tool_choice auto", params(thinking={"type": "adaptive"}, tools=[TOOL],
                                              tool_choice={"type": "auto"}), [], ""),
    ("thinking with a prefilled answer", params(thinking={"type": "adaptive"}, messages=[
        {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "The answer is"}]),
     [("error", "thinking_with_prefill")], "cannot pre-fill"),
    ("Opus 5 thinks by default", params("claude-opus-5", temperature=0),
     [("error", "thinking_with_temperature")], "Claude Opus 5 thinks by default"),
    ("Opus 5.5 rejects a forced tool", params("claude-opus-5-5", tools=[TOOL], tool_choice={"type": "tool",
                                                                                            "name": "lookup"}),
     [("error", "forced_tool_choice_rejected")], 'tool_choice "tool" on Claude Opus 5.5'),
    ("manual thinking on Opus 4.7", params("claude-opus-4-7", thinking={"type": "enabled", "budget_tokens": 2000}),
     [("error", "thinking_type_rejected")], 'Claude Opus 4.7 rejects thinking "enabled"'),
    ("adaptive thinking on Haiku 4.5", params("claude-haiku-4-5", thinking={"type": "adaptive"}),
     [("error", "thinking_type_rejected")], 'rejects thinking "adaptive"'),
    ("thinking disabled on Fable 5", params("claude-fable-5", thinking={"type": "disabled"}),
     [("error", "thinking_type_rejected")], 'rejects thinking "disabled"'),
    ("between_tools outside Sonnet 5.5", params(thinking={"type": "between_tools"}),
     [("warning", "thinking_type_undocumented")], "documented for Claude Sonnet 5.5 only"),
    ("a thinking type that does not exist", params(thinking={"type": "on"}),
     [("error", "thinking_type_invalid")], "thinking {'type': 'on'}"),
    ("a thinking budget under 1,024", params(thinking={"type": "enabled", "budget_tokens": 500}),
     [("error", "thinking_budget_invalid")], "budget_tokens 500"),
    ("a thinking budget not below max_tokens", params(thinking={"type": "enabled", "budget_tokens": 8000}),
     [("warning", "thinking_budget_not_below_max_tokens")], "budget_tokens 8,000 is not below max_tokens 4,000"),
    ("Opus 5 without thinking at max effort", params("claude-opus-5", thinking={"type": "disabled"},
                                                     output_config={"effort": "max"}),
     [("error", "thinking_disabled_with_high_effort")], "effort 'max'"),
    ("inference_geo eu", params(inference_geo="eu"), [("error", "inference_geo_invalid")],
     'inference_geo \'eu\' — inference_geo takes "global" (the default) or "us"'),
    ("inference_geo global before Claude 4.6", params("claude-haiku-4-5", inference_geo="global"),
     [("error", "geo_not_supported")], "Claude 4.6 and later only"),
    ("a system-role message on Sonnet 4.6", params(messages=[{"role": "system", "content": "Be terse."},
                                                             {"role": "user", "content": "Hi"}]),
     [("error", "system_role_rejected")], 'messages[0] has the role "system" on Claude Sonnet 4.6'),
    ("a system-role message on Sonnet 5", params("claude-sonnet-5", messages=[
        {"role": "user", "content": "Hi"}, {"role": "system", "content": "Be terse."},
        {"role": "user", "content": "?"}]),
     [("error", "system_role_rejected")], "messages[1]"),
    ("a system-role message on Opus 5", params("claude-opus-5", messages=[
        {"role": "system", "content": "Be terse."}, {"role": "user", "content": "Hi"}]), [], ""),
    ("a system-role message on Opus 5.5", params("claude-opus-5-5", messages=[
        {"role": "system", "content": "Be terse."}, {"role": "user", "content": "Hi"}]),
     [("warning", "system_role_undocumented")], "not (yet) for this model"),
    ("a role that does not exist", params(messages=[{"role": "human", "content": "Hi"}]),
     [("error", "role_invalid")], "messages[0].role 'human'"),
    ('speed "standard"', params(speed="standard"), [], ""),
    ('speed "fast"', params("claude-opus-5-5", speed="fast"), [("error", "fast_mode_not_in_batches")],
     'speed "fast" — fast mode (speed: "fast") is not available in the Batch API'),
    ('speed "turbo"', params(speed="turbo"), [("error", "speed_invalid")], "speed 'turbo'"),
    ("a display-name spelling", params("claude-sonnet-4.6"), [("error", "model_not_an_api_id")],
     "model 'claude-sonnet-4.6' is how the planner reads Claude Sonnet 4.6, but the API would reject it: use "
     "'claude-sonnet-4-6'"),
    ("a display name", params("Claude Sonnet 4.6"), [("error", "model_not_an_api_id")], "use 'claude-sonnet-4-6'"),
    ("an alias", params("claude-haiku-4-5"), [], ""),
    ("a field the API does not define", params(max_tokens_to_sample=300),
     [("warning", "unknown_param")], "params has 'max_tokens_to_sample'"),
    ("temperature out of range", params(temperature=2), [("error", "sampling_param_invalid")], "temperature 2"),
    ("a citations document", params(messages=[{"role": "user", "content": [
        {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "The sky is blue."},
         "title": "Sky", "citations": {"enabled": True}},
        {"type": "text", "text": "What colour is the sky?"}]}]), [], ""),
]  # fmt: skip


@pytest.mark.parametrize(("request_params", "expected", "message"), [s[1:] for s in SHAPES], ids=[s[0] for s in SHAPES])
def test_request_shapes_get_the_apis_verdict(
    request_params: dict[str, Any], expected: list[tuple[str, str]], message: str
) -> None:
    found = verdict(request_params)
    assert [(p.severity, p.code) for p in found] == expected
    if expected:
        assert message in found[0].message
        assert found[0].line == 1
        if expected[0][1] in RULES:
            assert found[0].custom_id == "r1"
            assert (found[0].source or "").startswith(("https://", "[SDK]"))


def test_an_error_keeps_the_line_out_of_the_costs_a_warning_does_not() -> None:
    result = dry_run(
        {"custom_id": "bad", "params": params(speed="fast", model="claude-opus-5-5")},
        {"custom_id": "warned", "params": params(max_tokens_to_sample=3)},
        {"custom_id": "ok", "params": params()},
    )
    assert (result.requests, result.invalid_lines) == (2, 1)


# --- whole-file verdicts -----------------------------------------------------------------------------------


def test_an_empty_file_is_an_error() -> None:
    for text in (b"", b"\n\n", b"[]"):
        result = analyze_batch_file(io.BytesIO(text), as_of=DAY)
        (problem,) = result.problems
        assert (problem.severity, problem.code) == ("error", "empty_batch")
        assert "the API rejects an empty batch" in problem.message
        assert result.invalid_lines == 0  # a file-wide error: no line of it is invalid


def test_an_openai_batch_file_is_named_once() -> None:
    lines = [
        {"custom_id": f"req-{n}", "method": "POST", "url": "/v1/chat/completions",
         "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 100}}
        for n in range(7)
    ]  # fmt: skip
    result = dry_run(*lines)
    (problem,) = result.problems
    assert (problem.line, problem.code, problem.severity) == (1, "openai_batch_format", "error")
    assert "this is an OpenAI Batch API file (7 lines with method, url and body: lines 1, 2, 3, 4, 5 and 2 more)" in (
        problem.message
    )
    assert '{"custom_id": "...", "params": {"model": "claude-...", "max_tokens": N, "messages": [...]}}' in (
        problem.message
    )
    assert result.invalid_lines == 7 and result.requests == 0


def test_deprecated_models_are_warned_as_estimate_warns() -> None:
    result = dry_run(*({"custom_id": f"r{n}", "params": params("claude-sonnet-4-5")} for n in range(3)))
    (problem,) = result.problems
    (warning,) = [w for w in estimate(Workload(model="claude-sonnet-4-5", requests=1, as_of=DAY)).warnings
                  if w.code == "deprecated"]  # fmt: skip
    assert (problem.code, problem.severity, problem.lines) == ("model_deprecated", "warning", (1, 2, 3))
    assert problem.message == f"{warning.message} (3 requests: lines 1, 2, 3)"
    assert result.requests == 3


def test_dated_snapshot_ids_are_api_ids() -> None:
    # Both Sonnet 3.5 snapshots are ids the API took; the price table keeps them as one model (see the report).
    for snapshot in ("claude-3-5-sonnet-20240620", "claude-3-5-sonnet-20241022"):
        found = verdict(params(snapshot, max_tokens=100), as_of=dt.date(2025, 1, 2))
        assert [p for p in found if p.severity == "error"] == []


# --- notes a user can act on -------------------------------------------------------------------------------


def test_uncounted_images_are_counted_plainly_and_attached_to_their_lines() -> None:
    eight = params(messages=[{"role": "user", "content": [IMAGE] * 8 + [{"type": "text", "text": "Compare."}]}])
    two = params(messages=[{"role": "user", "content": [IMAGE, IMAGE, {"type": "text", "text": "Compare."}]}])
    result = dry_run(
        {"custom_id": "plain", "params": params()},
        {"custom_id": "eight-a", "params": eight},
        {"custom_id": "eight-b", "params": eight},
        {"custom_id": "two", "params": two},
    )
    (note,) = result.problems
    assert (note.line, note.custom_id, note.lines) == (2, "eight-a", (2, 3, 4))
    assert note.message.startswith("images not counted offline (2 to 8 per request in 3 requests, 18 in all; "
                                   "lines 2, 3, 4)")  # fmt: skip


def test_breakpoints_below_the_minimum_list_distinct_lines_and_requests() -> None:
    short = [{"type": "text", "text": f"Part {n}.", "cache_control": {"type": "ephemeral"}} for n in range(3)]
    result = dry_run(*({"custom_id": f"r{n}", "params": params(system=short)} for n in range(2)))
    (warning,) = result.problems
    assert warning.code == "breakpoint_below_minimum" and warning.lines == (1,)
    assert "3 distinct cache breakpoints in 2 requests cover less than" in warning.message
    assert warning.message.endswith("First seen on line 1.")


def _without_tool_prompt(table: PriceTable, model_id: str) -> PriceTable:
    """The table with one model's tool-use system prompt unpublished, whatever the shipped table holds."""
    models = tuple(
        model.model_copy(update={"tool_use_system_prompt_tokens": None}) if model.id == model_id else model
        for model in table.models
    )
    return PriceTable(table.data.model_copy(update={"models": models}), source_name="test")


def test_an_unpublished_tool_prompt_makes_the_count_a_lower_bound(table: PriceTable) -> None:
    unpublished = _without_tool_prompt(table, "claude-sonnet-4-6")
    allowance = largest_published_tool_prompt_tokens(unpublished)
    assert allowance == max(max(t.auto_or_none, t.any_or_tool or 0) for m in table.models
                            if (t := m.tool_use_system_prompt_tokens) and m.id != "claude-sonnet-4-6")  # fmt: skip
    request = params(tools=[TOOL])
    published = count_request(request, table=table)
    lower_bound = count_request(request, table=unpublished)
    prompt = table.model("claude-sonnet-4-6").tool_use_system_prompt_tokens
    assert prompt is not None
    assert lower_bound.expected_tokens == published.expected_tokens - prompt.auto_or_none
    assert lower_bound.high_tokens - lower_bound.expected_tokens >= allowance
    (note,) = lower_bound.notes
    assert note == (
        "the tool-use system prompt of Claude Sonnet 4.6 is not published: the count is a lower bound, and the "
        f"range allows up to {allowance:,} more tokens per request (the largest published tool-use prompt)"
    )


def test_the_dry_run_widens_the_range_for_an_unpublished_tool_prompt(table: PriceTable) -> None:
    unpublished = _without_tool_prompt(table, "claude-sonnet-4-6")
    allowance = largest_published_tool_prompt_tokens(unpublished)
    lines = [{"custom_id": f"t{n}", "params": params(max_tokens=100, tools=[TOOL])} for n in range(3)]
    text = "".join(json.dumps(line) + "\n" for line in lines).encode()
    result = analyze_batch_file(io.BytesIO(text), as_of=DAY, table=unpublished)
    (model,) = result.models
    band_low = unpublished.tokenizer(unpublished.model(model.model_id)).file_total_band_low
    assert model.input_tokens_high >= int(Decimal(model.input_tokens_expected) / band_low) + 3 * allowance
    realtime = model.cost("realtime")
    assert realtime.high_usd is not None and realtime.expected_usd is not None
    assert realtime.high_usd - realtime.expected_usd >= Decimal(3 * allowance * 3) / 1_000_000  # at $3 per MTok
    notes = [p for p in result.problems if "is not published" in p.message]
    assert len(notes) == 1 and notes[0].lines == (1, 2, 3) and notes[0].message.endswith("(3 requests: lines 1, 2, 3)")


def test_the_json_report_carries_each_rules_source_and_lines(tmp_path: Path) -> None:
    from estimator.cli import main

    path = tmp_path / "speed.jsonl"
    path.write_text(json.dumps({"custom_id": "f", "params": params("claude-opus-5-5", speed="fast")}) + "\n")
    out, err = io.StringIO(), io.StringIO()
    code = main(["dry-run", str(path), "--as-of", "2026-11-25", "--format", "json"], stdout=out, stderr=err)
    (problem,) = json.loads(out.getvalue())["problems"]
    assert code == 1 and problem["code"] == "fast_mode_not_in_batches"
    assert problem["source"] == "https://platform.claude.com/docs/en/build-with-claude/batch-processing"
    assert problem["lines"] == [1] and problem["count"] == 1


# --- the plain-request shortcut in check_params ---------------------------------------------------------------


def _every_check(params: dict[str, Any], model: Any) -> list[request_checks.Finding]:
    described = request_checks._describe(params, model)
    return [finding for check in request_checks._CHECKS for finding in check(described)]


@settings(max_examples=300, deadline=None)
@given(
    model_id=st.sampled_from(["claude-sonnet-4-6", "claude-sonnet-5-5", "claude-opus-5", "claude-fable-5-2"]),
    roles=st.lists(st.sampled_from(["user", "assistant", "system", "tool"]), min_size=0, max_size=4),
    extra=st.dictionaries(
        st.sampled_from(["system", "metadata", "tools", "temperature", "thinking", "tool_choice", "top_k", "stream"]),
        st.sampled_from([None, 0.5, 1, "x", {"type": "adaptive"}, {"type": "any"}, []]),
        max_size=3,
    ),
)
def test_the_plain_request_shortcut_finds_what_every_check_finds(
    table: PriceTable, model_id: str, roles: list[str], extra: dict[str, Any]
) -> None:
    params = {"model": model_id, "max_tokens": 100, **extra, "messages": [{"role": r, "content": "x"} for r in roles]}
    model = table.model(model_id)
    assert request_checks.check_params(params, model) == _every_check(params, model)
