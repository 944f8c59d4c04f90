"""The anatomy of a Messages request: prefix order, breakpoints, problems and prefix keys."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from estimator.tokens.anatomy import (
    Breakpoint,
    PrefixBreakpoint,
    RequestAnatomy,
    _plain_pieces,
    cache_pieces,
    flatten_request,
    prefix_keys,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent

EPHEMERAL: dict[str, Any] = {"type": "ephemeral"}
EPHEMERAL_1H: dict[str, Any] = {"type": "ephemeral", "ttl": "1h"}

WEATHER_TOOL: dict[str, Any] = {
    "name": "get_weather",
    "description": "Météo actuelle d'une ville",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
TIME_TOOL: dict[str, Any] = {
    "name": "get_time",
    "description": "Current time in a time zone",
    "input_schema": {"type": "object", "properties": {"tz": {"type": "string"}}},
}
SYSTEM_PROMPT = "You are a support agent for ACME. Answer in one paragraph."
# Media that cannot be sized offline (by URL, by file id): tests/test_media_tokens.py covers base64 media.
IMAGE_BLOCK: dict[str, Any] = {"type": "image", "source": {"type": "url", "url": "https://example.com/chart.png"}}
PDF_BLOCK: dict[str, Any] = {"type": "document", "source": {"type": "file", "file_id": "file_011CNha8iCJcU1wXNR6q4V8w"}}


def agent_request(question: str = "Weather in Paris?", **overrides: Any) -> dict[str, Any]:
    """A request with two tools, a system block and a short tool-use exchange, cached three times."""
    request: dict[str, Any] = {
        "model": "claude-opus-5",
        "max_tokens": 1024,
        "tools": [WEATHER_TOOL, {**TIME_TOOL, "cache_control": EPHEMERAL_1H}],
        "system": [{"type": "text", "text": SYSTEM_PROMPT, "cache_control": EPHEMERAL_1H}],
        "messages": [
            {"role": "user", "content": question},
            {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": "Let me check."},
                    {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"city": "Paris"}},
                ],
            },
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "toolu_01",
                        "content": [{"type": "text", "text": "18°C, light rain"}],
                        "cache_control": EPHEMERAL,
                    }
                ],
            },
        ],
    }
    request.update(overrides)
    return copy.deepcopy(request)


def parsed(request: dict[str, Any]) -> dict[str, Any]:
    """The request as a batch-file reader sees it: fresh objects from json.loads."""
    loaded: dict[str, Any] = json.loads(json.dumps({"custom_id": "r1", "params": request}))["params"]
    return loaded


def keys_of(request: dict[str, Any]) -> tuple[PrefixBreakpoint, ...]:
    return prefix_keys(flatten_request(parsed(request)))


def kinds(anatomy: RequestAnatomy) -> list[tuple[str, str]]:
    return [(segment.section, segment.kind) for segment in anatomy.segments]


# --- layout ------------------------------------------------------------------------------------


def test_tools_then_system_then_messages() -> None:
    anatomy = flatten_request(agent_request())
    assert kinds(anatomy) == [
        ("tools", "tool"),
        ("tools", "tool"),
        ("system", "text"),
        ("messages", "text"),
        ("messages", "text"),
        ("messages", "tool_use"),
        ("messages", "tool_result"),
    ]
    assert [segment.location for segment in anatomy.segments] == [
        "tools[0]",
        "tools[1]",
        "system[0]",
        "messages[0].content",
        "messages[1].content[0]",
        "messages[1].content[1]",
        "messages[2].content[0].content[0]",
    ]
    assert [segment.role for segment in anatomy.segments[3:]] == ["user", "assistant", "assistant", "user"]
    assert anatomy.message_count == 3
    assert anatomy.problems == ()


def test_parameter_order_in_the_request_does_not_matter() -> None:
    request = agent_request()
    reordered = {key: request[key] for key in ("messages", "system", "max_tokens", "tools", "model")}
    assert kinds(flatten_request(reordered)) == kinds(flatten_request(request))
    assert keys_of(reordered) == keys_of(request)


def test_tools_are_counted_as_canonical_json_without_cache_control() -> None:
    anatomy = flatten_request(agent_request())
    weather, time_tool = anatomy.segments[0], anatomy.segments[1]
    assert weather.text == json.dumps(WEATHER_TOOL, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert "Météo" in weather.text  # non-ASCII kept, so the tokenizer sees real characters
    assert json.loads(time_tool.text) == TIME_TOOL
    assert "cache_control" not in time_tool.text
    assert weather.countable and time_tool.countable


def test_tools_serialize_the_same_from_any_mapping_or_value_type() -> None:
    """The memoized path (plain dicts) and the direct path (other mappings, non-JSON values) agree."""
    as_dict = flatten_request(user_says("x", tools=[WEATHER_TOOL])).segments[0].text
    as_proxy = flatten_request(user_says("x", tools=[MappingProxyType(WEATHER_TOOL)])).segments[0].text
    assert as_proxy == as_dict
    with_decimal = flatten_request(user_says("x", tools=[{**WEATHER_TOOL, "max": Decimal("1.5")}]))
    assert json.loads(with_decimal.segments[0].text)["max"] == "1.5"
    assert with_decimal.problems == ()


def test_string_content_and_a_single_text_block_are_the_same() -> None:
    as_string = agent_request(cache_control=EPHEMERAL)
    as_blocks = agent_request(cache_control=EPHEMERAL)
    as_blocks["system"] = [{"type": "text", "text": SYSTEM_PROMPT, "cache_control": EPHEMERAL_1H}]
    as_blocks["messages"][0]["content"] = [{"type": "text", "text": "Weather in Paris?"}]
    as_string["system"] = SYSTEM_PROMPT
    as_string["tools"][1].pop("cache_control")
    as_blocks["tools"][1].pop("cache_control")
    as_blocks["system"][0].pop("cache_control")
    string_anatomy, block_anatomy = flatten_request(as_string), flatten_request(as_blocks)
    assert [(s.kind, s.text) for s in string_anatomy.segments] == [(s.kind, s.text) for s in block_anatomy.segments]
    assert keys_of(as_string) == keys_of(as_blocks)


def test_tool_use_and_tool_result() -> None:
    anatomy = flatten_request(agent_request())
    tool_use, tool_result = anatomy.segments[5], anatomy.segments[6]
    assert json.loads(tool_use.text) == {
        "type": "tool_use",
        "id": "toolu_01",
        "name": "get_weather",
        "input": {"city": "Paris"},
    }
    assert tool_result.text == "18°C, light rain"
    assert tool_result.kind == "tool_result"


def test_tool_result_with_string_content_matches_one_text_item() -> None:
    nested = agent_request()
    flat = agent_request()
    flat["messages"][2]["content"][0]["content"] = "18°C, light rain"
    assert [s.text for s in flatten_request(flat).segments] == [s.text for s in flatten_request(nested).segments]
    assert keys_of(flat) == keys_of(nested)


def test_thinking_counts_its_text_not_its_signature() -> None:
    request = agent_request()
    request["messages"][1]["content"].insert(
        0, {"type": "thinking", "thinking": "User wants weather.", "signature": "c2ln"}
    )
    thinking = flatten_request(request).segments[4]
    assert (thinking.kind, thinking.text, thinking.countable) == ("thinking", "User wants weather.", True)


# --- uncountable blocks --------------------------------------------------------------------------


def test_images_and_binary_documents_are_marked_uncountable() -> None:
    request = agent_request()
    request["messages"][0]["content"] = [IMAGE_BLOCK, PDF_BLOCK, {"type": "text", "text": "What do these show?"}]
    request["messages"][2]["content"][0]["content"].append(IMAGE_BLOCK)
    request["messages"][1]["content"].append({"type": "redacted_thinking", "data": "ZW5jcnlwdGVk"})
    anatomy = flatten_request(request)
    uncountable = [(s.kind, s.text) for s in anatomy.segments if not s.countable]
    assert uncountable == [("image", ""), ("document", ""), ("redacted_thinking", ""), ("image", "")]
    assert anatomy.uncounted_blocks == {"image": 2, "document": 1, "redacted_thinking": 1}
    assert anatomy.problems == ()


def test_plain_text_documents_are_countable() -> None:
    document = {
        "type": "document",
        "title": "Policy",
        "source": {"type": "text", "media_type": "text/plain", "data": "Refunds within 30 days."},
    }
    content_document = {"type": "document", "source": {"type": "content", "content": [{"type": "text", "text": "A"}]}}
    request = agent_request()
    request["messages"][0]["content"] = [document, content_document]
    segments = flatten_request(request).segments
    assert (segments[3].text, segments[3].countable) == ("Policy\nRefunds within 30 days.", True)
    assert (segments[4].text, segments[4].countable) == ("A", True)


# --- breakpoints ---------------------------------------------------------------------------------


def test_explicit_breakpoints_with_both_ttls() -> None:
    anatomy = flatten_request(agent_request())
    assert anatomy.breakpoints == (
        Breakpoint(segment_index=1, ttl="1h", automatic=False),
        Breakpoint(segment_index=2, ttl="1h", automatic=False),
        Breakpoint(segment_index=6, ttl="5m", automatic=False),
    )
    assert [segment.cache_ttl for segment in anatomy.segments] == [None, "1h", "1h", None, None, None, "5m"]
    assert anatomy.problems == ()


def test_a_tool_result_marker_lands_on_its_last_item() -> None:
    request = agent_request()
    request["messages"][2]["content"][0]["content"].append({"type": "text", "text": "humidity 80%"})
    anatomy = flatten_request(request)
    assert anatomy.segments[-1].text == "humidity 80%"
    assert anatomy.breakpoints[-1] == Breakpoint(segment_index=len(anatomy.segments) - 1, ttl="5m", automatic=False)


def test_automatic_caching_marks_the_last_cacheable_block() -> None:
    request = agent_request(cache_control=EPHEMERAL)
    request["messages"].append({"role": "assistant", "content": "It is 18°C"})
    anatomy = flatten_request(request)
    last = len(anatomy.segments) - 1
    assert anatomy.breakpoints[-1] == Breakpoint(segment_index=last, ttl="5m", automatic=True)
    assert anatomy.segments[last].cache_ttl is None  # the segment's own field keeps only explicit markers
    assert anatomy.problems == ()


def test_automatic_caching_with_1h_ttl() -> None:
    request = {"messages": [{"role": "user", "content": "hi"}], "cache_control": EPHEMERAL_1H}
    assert flatten_request(request).breakpoints == (Breakpoint(segment_index=0, ttl="1h", automatic=True),)


def test_automatic_caching_skips_blocks_that_cannot_be_cached() -> None:
    request = {
        "cache_control": EPHEMERAL,
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": [{"type": "text", "text": "ok"}, {"type": "thinking", "thinking": "t"}]},
            {"role": "user", "content": [{"type": "text", "text": ""}]},
        ],
    }
    anatomy = flatten_request(request)
    assert anatomy.breakpoints == (Breakpoint(segment_index=1, ttl="5m", automatic=True),)
    assert anatomy.segments[1].text == "ok"


def test_automatic_caching_on_an_explicitly_marked_last_block_is_one_breakpoint() -> None:
    anatomy = flatten_request(agent_request(cache_control=EPHEMERAL_1H))
    assert len(anatomy.breakpoints) == 3
    assert anatomy.breakpoints[-1] == Breakpoint(segment_index=6, ttl="5m", automatic=False)
    assert anatomy.problems == ()


def test_automatic_caching_without_any_cacheable_block_is_a_problem() -> None:
    anatomy = flatten_request({"cache_control": EPHEMERAL, "messages": [{"role": "user", "content": ""}]})
    assert anatomy.breakpoints == ()
    assert any("found no block that can be cached" in problem for problem in anatomy.problems)


def test_more_than_four_breakpoints_is_a_problem() -> None:
    request = {
        "messages": [
            {
                "role": "user",
                "content": [{"type": "text", "text": f"part {n}", "cache_control": EPHEMERAL} for n in range(5)],
            }
        ]
    }
    anatomy = flatten_request(request)
    assert len(anatomy.breakpoints) == 5
    assert anatomy.problems == (
        "5 cache breakpoints (automatic caching included); the API allows at most 4 per request and rejects this one",
    )


def test_automatic_caching_uses_one_of_the_four_breakpoints() -> None:
    request = agent_request(cache_control=EPHEMERAL)
    request["messages"].append({"role": "user", "content": [{"type": "text", "text": "x", "cache_control": EPHEMERAL}]})
    request["messages"].append({"role": "assistant", "content": "y"})
    anatomy = flatten_request(request)
    assert len(anatomy.breakpoints) == 5
    assert any(problem.startswith("5 cache breakpoints") for problem in anatomy.problems)


def test_a_1h_breakpoint_after_a_5m_one_is_a_problem() -> None:
    shortening = agent_request()  # 1h, 1h, then 5m: allowed
    assert flatten_request(shortening).problems == ()
    lengthening = agent_request()
    lengthening["tools"][1]["cache_control"] = EPHEMERAL
    lengthening["system"][0]["cache_control"] = EPHEMERAL
    lengthening["messages"][2]["content"][0]["cache_control"] = EPHEMERAL_1H
    anatomy = flatten_request(lengthening)
    assert [resolved.ttl for resolved in anatomy.breakpoints] == ["5m", "5m", "1h"]
    assert anatomy.problems == (
        "1h cache breakpoint at messages[2].content[0].content[0] comes after a 5m breakpoint at tools[1]; "
        "the API requires 1h entries before 5m entries",
    )


def test_automatic_1h_after_an_explicit_5m_is_a_problem() -> None:
    request = {
        "cache_control": EPHEMERAL_1H,
        "system": [{"type": "text", "text": "s", "cache_control": EPHEMERAL}],
        "messages": [{"role": "user", "content": "hi"}],
    }
    assert flatten_request(request).problems == (
        "1h cache breakpoint at messages[0].content comes after a 5m breakpoint at system[0]; "
        "the API requires 1h entries before 5m entries",
    )


@pytest.mark.parametrize(
    ("cache_control", "ttl", "problem"),
    [
        ({"type": "ephemeral", "ttl": "10m"}, "5m", "has an unknown ttl '10m' (expected '5m' or '1h'); read as 5m"),
        ({"type": "ephemeral", "ttl": ["1h"]}, "5m", "has an unknown ttl ['1h'] (expected '5m' or '1h'); read as 5m"),
        ({"type": "persistent"}, None, "has type 'persistent', not 'ephemeral'; ignored"),
        ("ephemeral", None, "is not an object; ignored"),
    ],
)
def test_malformed_cache_control_is_reported(cache_control: object, ttl: str | None, problem: str) -> None:
    request = {
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hi", "cache_control": cache_control}]}]
    }
    anatomy = flatten_request(request)
    assert anatomy.segments[0].cache_ttl == ttl
    assert anatomy.problems == (f"messages[0].content[0].cache_control {problem}",)


def test_markers_on_blocks_that_cannot_carry_them_are_ignored() -> None:
    request = {
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "", "cache_control": EPHEMERAL}]},
            {"role": "assistant", "content": [{"type": "thinking", "thinking": "t", "cache_control": EPHEMERAL}]},
        ]
    }
    anatomy = flatten_request(request)
    assert anatomy.breakpoints == ()
    assert anatomy.problems == (
        "messages[0].content[0]: a text block cannot carry cache_control; marker ignored",
        "messages[1].content[0]: a thinking block cannot carry cache_control; marker ignored",
    )


# --- odd shapes never raise ----------------------------------------------------------------------

_CIRCULAR: dict[str, Any] = {"type": "tool_use", "id": "t", "name": "n"}
_CIRCULAR["input"] = _CIRCULAR


def user_says(content: object, **params: object) -> dict[str, object]:
    return {**params, "messages": [{"role": "user", "content": content}]}


def tool_result(content: object) -> dict[str, object]:
    return {"type": "tool_result", "tool_use_id": "t", "content": content}


@pytest.mark.parametrize(
    ("params", "expected_problem"),
    [
        (None, "params is not a JSON object"),
        ([], "params is not a JSON object"),
        ({}, "messages is missing"),
        ({"messages": []}, "messages is empty; the API requires at least one message"),
        ({"messages": "hi"}, "messages is not a list; messages were not counted"),
        ({"messages": [1]}, "messages[0] is not an object; skipped"),
        (
            {"messages": [{"role": ["user"], "content": "x"}]},
            "messages[0].role is ['user'], not 'user', 'assistant' or 'system'",
        ),
        (user_says(5), "messages[0].content is neither a string nor a list of blocks; not counted"),
        (user_says([None]), "messages[0].content[0] is not an object; skipped"),
        (user_says([{"text": "x"}]), "messages[0].content[0] has no string 'type'; counted as JSON"),
        (
            user_says([{"type": "text", "text": 3}]),
            "messages[0].content[0]: text block without a string 'text'; counted as empty",
        ),
        (user_says("x", tools={"name": "x"}), "tools is not a list; tools were not counted"),
        (user_says("x", tools=["x"]), "tools[0] is not an object; skipped"),
        (user_says("x", system=7), "system is neither a string nor a list of text blocks; not counted"),
        (user_says("x", system=[IMAGE_BLOCK]), "system[0] is a 'image' block; system takes text blocks"),
        (
            user_says([tool_result(4)]),
            "messages[0].content[0].content is neither a string nor a list; counted as empty",
        ),
        (user_says([tool_result([7])]), "messages[0].content[0].content[0] is not an object; skipped"),
        (
            user_says([_CIRCULAR]),
            "messages[0].content[0] cannot be serialized (Circular reference detected); counted as empty",
        ),
    ],
)
def test_odd_shapes_are_reported_not_raised(params: Any, expected_problem: str) -> None:
    anatomy = flatten_request(params)
    assert expected_problem in anatomy.problems
    prefix_keys(anatomy)


_JSON_LEAVES = st.none() | st.booleans() | st.integers() | st.sampled_from(["", "x", "text", "user", "5m", "1h"])
_KEYS = st.sampled_from(
    [
        "type",
        "text",
        "role",
        "content",
        "cache_control",
        "ttl",
        "tools",
        "system",
        "messages",
        "source",
        "data",
        "tool_use_id",
    ]
)
_JSON_VALUES = st.recursive(
    _JSON_LEAVES | st.sampled_from(["text", "image", "tool_result", "tool_use", "thinking", "document", "ephemeral"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_KEYS, children, max_size=5),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.dictionaries(st.sampled_from(["tools", "system", "messages", "cache_control", "tool_choice"]), _JSON_VALUES))
def test_any_json_shape_flattens_without_raising(params: dict[str, Any]) -> None:
    anatomy = flatten_request(params)
    keys = prefix_keys(anatomy)
    assert len(keys) == len(anatomy.breakpoints)
    assert all(0 < key.segment_stop <= len(anatomy.segments) for key in keys)


# --- prefix keys ---------------------------------------------------------------------------------


def test_identical_prefixes_share_keys() -> None:
    first, second = keys_of(agent_request()), keys_of(agent_request())
    assert first == second
    assert [key.segment_stop for key in first] == [2, 3, 7]
    assert [key.ttl for key in first] == ["1h", "1h", "5m"]
    assert len({key.prefix_key for key in first}) == 3


def test_one_changed_character_changes_every_later_key() -> None:
    base = keys_of(agent_request())
    changed = agent_request()
    changed["system"][0]["text"] = SYSTEM_PROMPT.replace("ACME", "ACMF")
    other = keys_of(changed)
    assert other[0] == base[0]  # tools are before the change
    assert other[1].prefix_key != base[1].prefix_key
    assert other[2].prefix_key != base[2].prefix_key


def test_different_tools_change_every_key() -> None:
    changed = agent_request()
    changed["tools"][0] = {**WEATHER_TOOL, "description": "Current weather in a city"}
    base, other = keys_of(agent_request()), keys_of(changed)
    assert all(a.prefix_key != b.prefix_key for a, b in zip(base, other, strict=True))


def test_later_content_does_not_change_earlier_keys() -> None:
    base = keys_of(agent_request(cache_control=EPHEMERAL))
    other = keys_of(agent_request("Weather in Lyon?", cache_control=EPHEMERAL))
    assert other[:2] == base[:2]
    assert other[2].prefix_key != base[2].prefix_key


def test_where_a_later_breakpoint_sits_does_not_change_earlier_keys() -> None:
    """Decision: cache_control markers are not content, so moving one leaves the other keys alone."""
    base = keys_of(agent_request())
    moved = agent_request()
    moved["messages"][2]["content"][0].pop("cache_control")
    moved["messages"][1]["content"][1]["cache_control"] = EPHEMERAL
    other = keys_of(moved)
    assert other[:2] == base[:2]
    assert other[2].segment_stop == 6


def test_ttl_is_not_part_of_the_key() -> None:
    five_minutes = agent_request()
    five_minutes["tools"][1]["cache_control"] = EPHEMERAL
    five_minutes["system"][0]["cache_control"] = EPHEMERAL
    assert [key.prefix_key for key in keys_of(five_minutes)] == [key.prefix_key for key in keys_of(agent_request())]


def test_tool_key_order_does_not_matter() -> None:
    reordered = agent_request()
    reordered["tools"][0] = {key: WEATHER_TOOL[key] for key in reversed(list(WEATHER_TOOL))}
    assert keys_of(reordered) == keys_of(agent_request())


def test_tool_choice_and_thinking_change_only_message_keys() -> None:
    base = keys_of(agent_request())
    for override in ({"tool_choice": {"type": "any"}}, {"thinking": {"type": "enabled", "budget_tokens": 2048}}):
        other = keys_of(agent_request(**override))
        assert other[:2] == base[:2]
        assert other[2].prefix_key != base[2].prefix_key


def test_an_image_anywhere_changes_message_keys() -> None:
    request = agent_request()
    request["messages"].append({"role": "assistant", "content": "Here is a chart."})
    request["messages"].append({"role": "user", "content": [IMAGE_BLOCK, {"type": "text", "text": "And this?"}]})
    without_image = agent_request()
    without_image["messages"] = copy.deepcopy(request["messages"])
    without_image["messages"][-1]["content"] = [{"type": "text", "text": "And this?"}]
    base, other = keys_of(without_image), keys_of(request)
    assert other[:2] == base[:2]
    assert other[2].prefix_key != base[2].prefix_key  # the image sits after this breakpoint


def test_tool_result_identity_is_part_of_the_key() -> None:
    changed = agent_request()
    changed["messages"][2]["content"][0]["tool_use_id"] = "toolu_02"
    changed["messages"][1]["content"][1]["id"] = "toolu_02"
    assert keys_of(changed)[2].prefix_key != keys_of(agent_request())[2].prefix_key


def test_role_is_part_of_the_key() -> None:
    as_user = {"cache_control": EPHEMERAL, "messages": [{"role": "user", "content": "same words"}]}
    as_assistant = {"cache_control": EPHEMERAL, "messages": [{"role": "assistant", "content": "same words"}]}
    assert keys_of(as_user)[0].prefix_key != keys_of(as_assistant)[0].prefix_key


def test_message_boundaries_are_part_of_the_key() -> None:
    one_message = {
        "cache_control": EPHEMERAL,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}],
    }
    two_messages = {
        "cache_control": EPHEMERAL,
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "a"}]},
            {"role": "user", "content": [{"type": "text", "text": "b"}]},
        ],
    }
    assert keys_of(one_message)[0].prefix_key != keys_of(two_messages)[0].prefix_key


def test_no_breakpoints_no_keys() -> None:
    assert prefix_keys(flatten_request({"messages": [{"role": "user", "content": "hi"}]})) == ()


# --- cache_pieces: the direct path for text-only requests equals the general one -----------------------------

_TEXTS = st.sampled_from(["", "Hi", "Answer briefly.", "x " * 40, "Résumé — naïve 日本語"])
_MARKERS = st.sampled_from(
    [None, None, {"type": "ephemeral"}, {"type": "ephemeral", "ttl": "1h"}, {"type": "ephemeral", "ttl": "5m"},
     {"type": "persistent"}, {"type": "ephemeral", "ttl": "2h"}, "ephemeral"]
)  # fmt: skip


@st.composite
def _text_blocks(draw: st.DrawFn) -> list[dict[str, Any]]:
    blocks = []
    for _ in range(draw(st.integers(0, 3))):
        block: dict[str, Any] = {"type": draw(st.sampled_from(["text", "text", "text", "image"])), "text": draw(_TEXTS)}
        marker = draw(_MARKERS)
        if marker is not None:
            block["cache_control"] = marker
        if draw(st.integers(0, 9)) == 0:
            block["citations"] = []  # an extra key: the general path must handle it
        blocks.append(block)
    return blocks


@st.composite
def _requests(draw: st.DrawFn) -> dict[str, Any]:
    params: dict[str, Any] = {"model": "claude-sonnet-4-6", "max_tokens": 10}
    if draw(st.booleans()):
        params["system"] = draw(st.one_of(_TEXTS, _text_blocks()))
    if draw(st.booleans()):
        tool: dict[str, Any] = {"name": draw(st.sampled_from(["a", "b"])), "input_schema": {"type": "object"}}
        marker = draw(_MARKERS)
        if marker is not None:
            tool["cache_control"] = marker
        params["tools"] = [tool] * draw(st.integers(0, 2))
    messages = []
    for index in range(draw(st.integers(0, 5))):
        role = draw(st.sampled_from(["user", "assistant", "user", "system"])) if index else "user"
        messages.append({"role": role, "content": draw(st.one_of(_TEXTS, _text_blocks()))})
    params["messages"] = messages
    if draw(st.booleans()):
        params["cache_control"] = draw(_MARKERS)
    if draw(st.booleans()):
        params["thinking"] = {"type": "adaptive"}
    return params


def _general_pieces(params: dict[str, Any]) -> tuple[Any, ...]:
    anatomy = flatten_request(params)
    pieces, start = [], 0
    for breakpoint in prefix_keys(anatomy):
        covered = anatomy.segments[start : breakpoint.segment_stop]
        text = "\n".join(s.text for s in covered if s.countable and s.text)
        pieces.append((breakpoint.prefix_key, breakpoint.ttl, text))
        start = breakpoint.segment_stop
    tail = "\n".join(s.text for s in anatomy.segments[start:] if s.countable and s.text)
    return tuple(pieces), tail, anatomy.problems, anatomy.uncounted_blocks


@settings(max_examples=400, deadline=None)
@given(_requests())
def test_cache_pieces_equals_the_general_path(params: dict[str, Any]) -> None:
    found = cache_pieces(params)
    assert (
        tuple((p.prefix_key, p.ttl, p.text) for p in found.pieces),
        found.tail_text,
        found.problems,
        dict(found.uncounted_blocks),
    ) == _general_pieces(params)
    assert found.user_turns == sum(1 for m in params["messages"] if m.get("role") == "user")


def test_the_direct_path_is_taken_for_text_only_requests() -> None:
    plain = {"model": "m", "max_tokens": 5, "system": "Be brief.", "messages": [{"role": "user", "content": "Hi"}]}
    assert _plain_pieces(plain) is not None
    assert _plain_pieces({**plain, "messages": [{"role": "user", "content": [IMAGE_BLOCK]}]}) is None
