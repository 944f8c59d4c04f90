"""Token counts: offline ranges from the calibration in the price table, exact through the real SDK."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal

import pytest

from estimator import TokenCountError, UnknownModelError
from estimator.tokens.counting import calibrated_estimate, count_request, count_text
from estimator.tokens.offline import cl100k_token_count
from pricing import PriceTable
from tests.fake_anthropic import FakeAnthropic, fake_input_tokens, serve_fake_anthropic

KEY = "sk-ant-test-tokens-0123456789"
PROSE = "The quarterly report shows that shipping volumes grew in every region except the north. " * 20


def _round(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_HALF_UP))


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    with serve_fake_anthropic(KEY) as server:
        yield server


@pytest.mark.parametrize(("model", "factor"), [("claude-sonnet-4-6", "1.15"), ("claude-opus-5", "1.50")])
def test_text_estimate_uses_the_generation_factor_and_band(table: PriceTable, model: str, factor: str) -> None:
    result = count_text(PROSE, model)
    base = Decimal(cl100k_token_count(PROSE)) * Decimal(factor)
    calibration = table.tokenizer(table.model(model))
    assert result.source == "estimated" and not result.is_exact
    assert result.expected_tokens == _round(base)
    assert result.low_tokens == _round(base / calibration.per_document_band_high)
    assert result.high_tokens == _round(base / calibration.per_document_band_low)
    assert result.low_tokens < result.expected_tokens < result.high_tokens
    assert "estimated offline" in result.label and factor in result.label


def test_non_latin_text_is_flagged_and_the_range_widens_downwards(table: PriceTable) -> None:
    text = "Все люди рождаются свободными и равными в своём достоинстве и правах. " * 10
    result = count_text(text, "claude-sonnet-4-6")
    assert any("non-Latin" in note for note in result.notes)
    base = Decimal(cl100k_token_count(text)) * Decimal("1.15")
    assert result.low_tokens < _round(base / Decimal("1.07"))  # below the Latin-text band
    assert result.low_tokens >= _round(base / Decimal("1.38"))


def test_calibrated_estimate_keeps_fixed_tokens_exact(table: PriceTable) -> None:
    calibration = table.tokenizers["legacy"]
    result = calibrated_estimate(1000, calibration, fixed_tokens=7, band="file")
    assert result.expected_tokens == 1150 + 7
    assert result.low_tokens == _round(Decimal(1150) / Decimal("1.06")) + 7
    assert result.high_tokens == _round(Decimal(1150) / Decimal("0.92")) + 7


def test_request_adds_the_frame_and_tool_prompt(table: PriceTable) -> None:
    params = {"model": "claude-sonnet-4-6", "messages": [{"role": "user", "content": PROSE}]}
    plain = count_request(params)
    assert plain.expected_tokens == _round(Decimal(cl100k_token_count(PROSE)) * Decimal("1.15")) + 7
    tool = {"name": "lookup", "description": "Find an invoice", "input_schema": {"type": "object"}}
    with_tools = count_request({**params, "tools": [tool]})
    assert with_tools.expected_tokens > plain.expected_tokens + 497  # 497 tool-prompt tokens plus the tool's JSON
    forced = count_request({**params, "tools": [tool], "tool_choice": {"type": "any"}})
    assert forced.expected_tokens - with_tools.expected_tokens == 589 - 497


def test_opus_4_7_frame_is_11_tokens() -> None:
    params = {"model": "claude-opus-4-7", "messages": [{"role": "user", "content": "hi"}]}
    assert count_request(params).expected_tokens == _round(Decimal(cl100k_token_count("hi")) * Decimal("1.5")) + 11


def test_request_from_a_batch_line_in_json_text() -> None:
    params = '{"model": "claude-haiku-4-5", "max_tokens": 5, "messages": [{"role": "user", "content": "hello"}]}'
    line = '{"custom_id": "a", "params": ' + params + "}"
    assert (
        count_request(line).expected_tokens
        == count_request(
            {"model": "claude-haiku-4-5", "messages": [{"role": "user", "content": "hello"}]}
        ).expected_tokens
    )


def test_images_are_not_counted_offline_and_say_so() -> None:
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}
    params = {
        "model": "claude-sonnet-4-6",
        "messages": [{"role": "user", "content": [image, {"type": "text", "text": "What is it?"}]}],
    }
    result = count_request(params)
    assert any("1 image" in note and "API key" in note for note in result.notes)


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ({"model": "claude-sonnet-4-6"}, "needs 'messages'"),
        ({"messages": [{"role": "user", "content": "x"}]}, "has no model"),
    ],
)
def test_bad_requests_are_refused_clearly(request_: object, message: str) -> None:
    with pytest.raises(TokenCountError, match=message):
        count_request(request_)  # type: ignore[arg-type]


def test_unknown_model_suggests() -> None:
    with pytest.raises(UnknownModelError, match="claude-opus-5"):
        count_text("hi", "claude-opus-5x")


def test_exact_count_through_the_real_client(fake: FakeAnthropic) -> None:
    params = {"model": "claude-sonnet-4-6", "max_tokens": 100, "messages": [{"role": "user", "content": PROSE}]}
    result = count_request(params, use_api=True, api_key=KEY, base_url=fake.url)
    expected = fake_input_tokens({k: v for k, v in params.items() if k != "max_tokens"})
    assert (result.low_tokens, result.expected_tokens, result.high_tokens) == (expected, expected, expected)
    assert result.source == "exact" and result.is_exact
    assert "max_tokens" not in fake.requests[0].body


def test_exact_count_falls_back_offline_with_the_reason(fake: FakeAnthropic) -> None:
    params = {"model": "claude-sonnet-4-6", "messages": [{"role": "user", "content": PROSE}]}
    result = count_request(params, use_api=True, api_key="sk-ant-wrong", base_url=fake.url)
    assert result.source == "estimated"
    assert result.expected_tokens == count_request(params).expected_tokens
    assert any("exact count failed" in note and "401" in note for note in result.notes)
    assert all("sk-ant-wrong" not in note for note in result.notes)


def test_count_tokens_dispatches_text_and_requests() -> None:
    from estimator import count_tokens

    params = {"model": "claude-haiku-4-5", "messages": [{"role": "user", "content": "hello"}]}
    assert count_tokens(params) == count_request(params)
    assert count_tokens('{"params": ' + __import__("json").dumps(params) + "}") == count_request(params)
    assert count_tokens("hello", model="claude-haiku-4-5") == count_text("hello", "claude-haiku-4-5")
    with pytest.raises(TokenCountError, match="a model is needed"):
        count_tokens("hello")
