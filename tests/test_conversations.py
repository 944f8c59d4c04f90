"""Conversations priced turn by turn, against hand computations from the table's rates."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest

from estimator import InvalidWorkloadError
from estimator.conversations import Conversation, estimate_conversation, sweep_turns
from pricing import PriceTable

DAY = dt.date(2026, 12, 1)
MTOK = Decimal(1_000_000)


def _rates(table: PriceTable, model: str) -> dict[str, Decimal]:
    period = table.prices_as_of(table.model(model), DAY)
    names = ("input_mtok", "output_mtok", "cache_write_5m_mtok", "cache_read_mtok", "batch_input_mtok",
             "batch_output_mtok")  # fmt: skip
    return {name: getattr(period, name) for name in names}


def test_the_reference_worked_example_sonnet_5(table: PriceTable) -> None:
    # usage-and-billing.md §6.3: S = 10,000, u = 200, a = 500, N = 20, 5-minute TTL.
    rates = _rates(table, "claude-sonnet-5")
    result = estimate_conversation(
        Conversation(model="claude-sonnet-5", turns=20, prefix_tokens=10_000, input_tokens_per_turn=200,
                     output_tokens_per_turn=500, as_of=DAY),
        table=table,
    )  # fmt: skip
    plain, cached = result.mode("realtime"), result.mode("realtime_cached")
    assert sum(t.uncached_input_tokens for t in plain.turns) == 337_000  # N·S + u·N(N+1)/2 + a·N(N−1)/2
    assert sum(t.cache_read_tokens for t in cached.turns) == 313_500
    assert sum(t.cache_write_tokens for t in cached.turns) == 23_500
    output_usd = 20 * 500 * rates["output_mtok"] / MTOK
    assert plain.per_conversation_usd == 337_000 * rates["input_mtok"] / MTOK + output_usd
    assert (
        cached.per_conversation_usd
        == (23_500 * rates["cache_write_5m_mtok"] + 313_500 * rates["cache_read_mtok"]) / MTOK + output_usd
    )
    assert plain.per_conversation_usd == Decimal("0.774") and cached.per_conversation_usd == Decimal("0.22145")


def test_ten_turns_with_and_without_caching_and_batch(table: PriceTable) -> None:
    rates = _rates(table, "claude-sonnet-4-6")
    conversation = Conversation(model="claude-sonnet-4-6", turns=10, conversations=100, prefix_tokens=4_000,
                                input_tokens_per_turn=300, output_tokens_per_turn=400, thinking_tokens_per_turn=100,
                                as_of=DAY, batch_cache_hit_rate="0.5")  # fmt: skip
    result = estimate_conversation(conversation, table=table)
    # Thinking is billed as output but not kept: each turn adds 300 + 400 to the context.
    prompts = [4_000 + (k - 1) * 700 + 300 for k in range(1, 11)]
    output = 10 * 500
    plain = (sum(prompts) * rates["input_mtok"] + output * rates["output_mtok"]) / MTOK
    assert result.mode("realtime").per_conversation_usd == plain
    assert result.mode("realtime").total_usd == plain * 100
    reads = sum(prompts[:-1])
    writes = prompts[0] + sum(b - a for a, b in itertools.pairwise(prompts))
    cached = (writes * rates["cache_write_5m_mtok"] + reads * rates["cache_read_mtok"]
              + output * rates["output_mtok"]) / MTOK  # fmt: skip
    assert result.mode("realtime_cached").per_conversation_usd == cached
    batch = (sum(prompts) * rates["batch_input_mtok"] + output * rates["batch_output_mtok"]) / MTOK
    assert result.mode("batch").per_conversation_usd == batch
    # Batch + caching at a 50% hit rate: half of each earlier prompt is read, half written again.
    period = table.prices_as_of(table.model("claude-sonnet-4-6"), DAY)
    half = Decimal("0.5")
    batch_reads = half * reads
    batch_writes = prompts[0] + sum((b - a) + half * a for a, b in itertools.pairwise(prompts))
    batch_cached = (batch_writes * period.batch_cache_write_5m_mtok + batch_reads * period.batch_cache_read_mtok
                    + output * rates["batch_output_mtok"]) / MTOK  # fmt: skip
    assert result.mode("batch_cached").per_conversation_usd == batch_cached
    assert result.caching_saves_usd == (plain - cached) * 100


def test_kept_thinking_grows_the_context(table: PriceTable) -> None:
    base = {"model": "claude-opus-4-5", "turns": 3, "prefix_tokens": 5_000, "input_tokens_per_turn": 100,
                "output_tokens_per_turn": 200, "thinking_tokens_per_turn": 1_000, "as_of": DAY}  # fmt: skip
    dropped = estimate_conversation(Conversation(**base), table=table)  # type: ignore[arg-type]
    kept = estimate_conversation(Conversation(**base, keep_thinking=True), table=table)  # type: ignore[arg-type]
    assert [t.prompt_tokens for t in dropped.mode("realtime").turns] == [5_100, 5_400, 5_700]
    assert [t.prompt_tokens for t in kept.mode("realtime").turns] == [5_100, 6_400, 7_700]
    assert kept.mode("realtime").per_conversation_usd > dropped.mode("realtime").per_conversation_usd


def test_caching_starts_when_the_prompt_reaches_the_minimum(table: PriceTable) -> None:
    minimum = table.model("claude-haiku-4-5").min_cacheable_prompt_tokens
    assert minimum is not None
    result = estimate_conversation(
        Conversation(model="claude-haiku-4-5", turns=12, prefix_tokens=minimum - 1_000, input_tokens_per_turn=150,
                     output_tokens_per_turn=100, as_of=DAY),
        table=table,
    )  # fmt: skip
    expected_first = next(k for k in range(1, 13) if minimum - 1_000 + (k - 1) * 250 + 150 >= minimum)
    assert result.first_cached_turn == expected_first
    cached_turns = result.mode("realtime_cached").turns
    assert all(t.cache_write_tokens == 0 for t in cached_turns[: expected_first - 1])
    assert cached_turns[expected_first - 1].cache_write_tokens == cached_turns[expected_first - 1].prompt_tokens
    assert any(w.code == "below_minimum" and f"turn {expected_first}" in w.message for w in result.warnings)


def test_the_context_window_and_the_tier_are_named_by_turn(table: PriceTable) -> None:
    model = table.model("claude-haiku-5-5")
    tier = table.prices_as_of(model, DAY).tiers[0].above_prompt_tokens
    result = estimate_conversation(
        Conversation(model="claude-haiku-5-5", turns=40, prefix_tokens=20_000, input_tokens_per_turn=5_000,
                     output_tokens_per_turn=20_000, as_of=DAY),
        table=table,
    )  # fmt: skip
    first_tiered = next(k for k in range(1, 41) if 20_000 + (k - 1) * 25_000 + 5_000 > tier)
    assert any(w.code == "prompt_tier" and f"turn {first_tiered}" in w.message for w in result.warnings)
    turn = result.mode("realtime").turns[first_tiered - 1]
    assert turn.tier_above_prompt_tokens == tier
    full = next(k for k in range(1, 41) if 20_000 + (k - 1) * 25_000 + 5_000 + 20_000 > model.context_window_tokens)
    assert result.context_full_at_turn == full


def test_sweep_turns_is_a_prefix_sum_and_grows_quadratically(table: PriceTable) -> None:
    conversation = Conversation(model="claude-sonnet-5", turns=1, prefix_tokens=10_000, input_tokens_per_turn=200,
                                output_tokens_per_turn=500, as_of=DAY)  # fmt: skip
    points = sweep_turns(conversation, [5, 10, 20], table=table)
    assert [p.turns for p in points] == [5, 10, 20]
    twenty = estimate_conversation(Conversation(**{**conversation.__dict__, "turns": 20}), table=table)
    assert points[-1].per_conversation_usd["realtime"] == twenty.mode("realtime").per_conversation_usd
    growth_plain = points[2].per_conversation_usd["realtime"] / points[1].per_conversation_usd["realtime"]  # type: ignore[operator]
    growth_cached = (
        points[2].per_conversation_usd["realtime_cached"] / points[1].per_conversation_usd["realtime_cached"]
    )  # type: ignore[operator]
    assert growth_plain > 2 and growth_cached < growth_plain


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"turns": 0}, "turns"), ({"turns": "1e5000"}, "turns"), ({"input_tokens_per_turn": -1}, "input_tokens_per_turn"),
     ({"cache_hit_rate": "1.5"}, "cache_hit_rate"), ({"keep_thinking": "yes"}, "keep_thinking"),
     ({"model": " "}, "model")],
)  # fmt: skip
def test_bad_conversations_name_the_field(changes: dict[str, object], field: str) -> None:
    fields: dict[str, object] = {"model": "claude-sonnet-5", "turns": 3, **changes}
    with pytest.raises(InvalidWorkloadError) as caught:
        Conversation(**fields)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_an_option_the_model_lacks_is_refused_as_the_conversations_not_a_turns(table: PriceTable) -> None:
    day = dt.date(2026, 12, 3)
    models = [m for m in table.models_as_of(day) if m.fast_mode is None]
    assert models, "the test needs a current model without fast mode"
    conversation = Conversation(model=models[0].id, turns=3, input_tokens_per_turn=100, fast=True, as_of=day)
    with pytest.raises(InvalidWorkloadError) as caught:
        estimate_conversation(conversation, table=table)
    refusal = caught.value
    assert refusal.field != "turns" and not str(refusal).startswith("turn 1"), (refusal.field, str(refusal))
    assert "fast mode" in str(refusal)


def test_the_command_line_gives_exact_json_and_one_line_errors() -> None:
    import io
    import json

    from estimator.cli import main

    out, err = io.StringIO(), io.StringIO()
    args = ["conversation", "--model", "claude-sonnet-5", "--turns", "20", "--prefix-tokens", "10000",
            "--input-tokens-per-turn", "200", "--output-tokens-per-turn", "500", "--as-of", "2026-12-01",
            "--sweep", "5,20", "--format", "json"]  # fmt: skip
    assert main(args, stdout=out, stderr=err) == 0
    payload = json.loads(out.getvalue())
    assert payload["modes"]["realtime_cached"]["per_conversation_usd"] == "0.22145"
    assert [point["turns"] for point in payload["sweep"]] == [5, 20]
    assert len(payload["modes"]["realtime"]["turns"]) == 20
    err = io.StringIO()
    assert main(["conversation", "--model", "claude-sonnet-5", "--turns", "-3"], stdout=io.StringIO(), stderr=err) == 2
    assert err.getvalue().startswith("error: ") and err.getvalue().count("\n") == 1
