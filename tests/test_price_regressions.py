"""Price regressions: every published figure, pinned exactly (Decimal ==, no approx), with its source.

The expected values are typed from shared/reference/anthropic-pricing.md, section 1 (the pricing page,
https://platform.claude.com/docs/en/about-claude/pricing, read 2026-11-22), and from the Batches launch
post (https://claude.com/blog/message-batches-api, 2024-10-08). A change to prices.yaml that moves any
of these numbers fails here and must come with a new, cited expectation.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from pricing import PriceTable

PRICING = "pricing page, section 1 of shared/reference/anthropic-pricing.md"
PRICING_3P = "pricing row, third-party reading (3P in the reference)"
LAUNCH = "Message Batches launch post, 2024-10-08"

# (model, as-of date, input, 5m write, 1h write, cache read, output, batch in, batch out, source)
ROWS = [
    ("claude-fable-5-2", "2026-11-25", "8", "10", "16", "0.20", "40", "4", "20", PRICING_3P),
    ("claude-fable-5-1", "2026-11-25", "10", "12.50", "20", "0.25", "50", "5", "25", PRICING),
    ("claude-mythos-5-1", "2026-11-25", "10", "12.50", "20", "0.25", "50", "5", "25", PRICING),
    ("claude-fable-5", "2026-11-25", "10", "12.50", "20", "1.00", "50", "5", "25", PRICING),
    ("claude-mythos-5", "2026-11-25", "10", "12.50", "20", "1.00", "50", "5", "25", PRICING),
    ("claude-opus-5-5", "2026-11-25", "4", "5", "8", "0.20", "20", "2", "10", PRICING),
    ("claude-opus-5", "2026-11-25", "5", "6.25", "10", "0.50", "25", "2.50", "12.50", PRICING),
    ("claude-opus-4-8", "2026-11-25", "5", "6.25", "10", "0.50", "25", "2.50", "12.50", PRICING),
    ("claude-opus-4-7", "2026-11-25", "5", "6.25", "10", "0.50", "25", "2.50", "12.50", PRICING),
    ("claude-opus-4-6", "2026-11-25", "5", "6.25", "10", "0.50", "25", "2.50", "12.50", PRICING),
    ("claude-opus-4-5", "2026-11-25", "5", "6.25", "10", "0.50", "25", "2.50", "12.50", PRICING),
    ("claude-opus-4-1", "2026-01-01", "15", "18.75", "30", "1.50", "75", "7.50", "37.50", PRICING),
    ("claude-opus-4-0", "2026-01-01", "15", "18.75", "30", "1.50", "75", "7.50", "37.50", PRICING),
    ("claude-sonnet-5-5", "2026-10-06", "2", "2.50", "4", "0.20", "10", "1", "5", PRICING),
    ("claude-sonnet-5-5", "2026-10-07", "2", "2.50", "4", "0.10", "10", "1", "5", PRICING),
    ("claude-sonnet-5", "2026-11-25", "2", "2.50", "4", "0.20", "10", "1", "5", PRICING),
    ("claude-sonnet-4-6", "2026-11-25", "3", "3.75", "6", "0.30", "15", "1.50", "7.50", PRICING),
    ("claude-sonnet-4-5", "2026-11-25", "3", "3.75", "6", "0.30", "15", "1.50", "7.50", PRICING),
    ("claude-sonnet-4-0", "2026-01-01", "3", "3.75", "6", "0.30", "15", "1.50", "7.50", PRICING),
    ("claude-haiku-5-5", "2026-11-25", "0.10", "0.125", "0.20", "0.01", "0.50", "0.05", "0.25", PRICING),
    ("claude-haiku-4-5", "2026-11-25", "1", "1.25", "2", "0.10", "5", "0.50", "2.50", PRICING),
    ("claude-3-5-haiku-20241022", "2025-06-01", "0.80", "1", "1.60", "0.08", "4", "0.40", "2", PRICING),
    ("claude-3-7-sonnet-20250219", "2025-06-01", "3", "3.75", "6", "0.30", "15", "1.50", "7.50", PRICING),
    ("claude-3-5-sonnet-20241022", "2025-06-01", "3", "3.75", "6", "0.30", "15", "1.50", "7.50", PRICING),
    ("claude-3-opus-20240229", "2025-06-01", "15", "18.75", "30", "1.50", "75", "7.50", "37.50", PRICING),
    (
        "claude-3-haiku-20240307",
        "2025-06-01",
        "0.25",
        "0.30",
        "0.50",
        "0.03",
        "1.25",
        "0.125",
        "0.625",
        PRICING,
    ),
]

FIELDS = (
    "input_mtok",
    "cache_write_5m_mtok",
    "cache_write_1h_mtok",
    "cache_read_mtok",
    "output_mtok",
    "batch_input_mtok",
    "batch_output_mtok",
)


def _rates(table: PriceTable, model: str, day: str) -> dict[str, Decimal | None]:
    return table.prices_as_of(table.model(model), dt.date.fromisoformat(day)).rates()


@pytest.mark.parametrize("row", ROWS, ids=[f"{row[0]}@{row[1]}" for row in ROWS])
def test_published_row(table: PriceTable, row: tuple[str, ...]) -> None:
    model, day, *values, _source = row
    rates = _rates(table, model, day)
    assert {field: rates[field] for field in FIELDS} == {
        field: Decimal(value) for field, value in zip(FIELDS, values, strict=True)
    }


@pytest.mark.parametrize(
    ("model", "batch_in", "batch_out"),
    [
        ("claude-3-5-sonnet-20240620", "1.50", "7.50"),  # LAUNCH: "Claude 3.5 Sonnet"
        ("claude-3-opus-20240229", "7.50", "37.50"),  # LAUNCH: "Claude 3 Opus"
        ("claude-3-haiku-20240307", "0.125", "0.625"),  # LAUNCH: "Claude 3 Haiku"
    ],
)
def test_batches_launch_post_figures(table: PriceTable, model: str, batch_in: str, batch_out: str) -> None:
    rates = _rates(table, model, "2024-10-08")
    assert (rates["batch_input_mtok"], rates["batch_output_mtok"]) == (Decimal(batch_in), Decimal(batch_out))


def test_haiku_5_5_long_prompt_row(table: PriceTable) -> None:
    # PRICING: Haiku 5.5, prompt > 100,000 tokens: 0.50 / 0.625 / 1.00 / 0.05 / 2.50, batch 0.25 / 1.25.
    period = table.prices_as_of(table.model("claude-haiku-5-5"), dt.date(2026, 11, 25))
    (tier,) = period.tiers
    assert tier.above_prompt_tokens == 100_000
    assert [tier.rate(field) for field in FIELDS] == [
        Decimal(v) for v in ("0.50", "0.625", "1.00", "0.05", "2.50", "0.25", "1.25")
    ]


@pytest.mark.parametrize(
    ("model", "fast_in", "fast_out"),
    [
        ("claude-opus-5-5", "8", "40"),
        ("claude-opus-5", "10", "50"),
        ("claude-opus-4-8", "10", "50"),  # until 2026-11-30 (section 7, row 3)
        ("claude-fable-5-2", "16", "80"),  # section 7, row 2 (fast-mode page)
        ("claude-mythos-5-2", "16", "80"),  # section 7, row 2
    ],
)
def test_fast_mode_rates(table: PriceTable, model: str, fast_in: str, fast_out: str) -> None:
    # PRICING, section 2: fast mode Opus 5.5 $8 / $40; Opus 5 and Opus 4.8 $10 / $50; section 7: Fable 5.2 and
    # Mythos 5.2 $16 / $80.
    fast = table.prices_as_of(table.model(model), dt.date(2026, 11, 25)).fast
    assert fast is not None and (fast.input_mtok, fast.output_mtok) == (Decimal(fast_in), Decimal(fast_out))


@pytest.mark.parametrize(
    ("model", "day", "read_multiplier"),
    [
        ("claude-opus-5-5", "2026-11-25", "0.05"),
        ("claude-sonnet-5-5", "2026-10-06", "0.1"),
        ("claude-sonnet-5-5", "2026-10-07", "0.05"),
        ("claude-fable-5-1", "2026-11-25", "0.025"),
        ("claude-mythos-5-1", "2026-11-25", "0.025"),
        ("claude-fable-5-2", "2026-11-25", "0.025"),
        ("claude-haiku-4-5", "2026-11-25", "0.1"),
    ],
)
def test_cache_read_multipliers(table: PriceTable, model: str, day: str, read_multiplier: str) -> None:
    # PRICING, section 2: reads 0.1x, except 0.05x (Opus 5.5, Sonnet 5.5 from 2026-10-07)
    # and 0.025x (Fable/Mythos 5.1, Fable 5.2).
    period = table.prices_as_of(table.model(model), dt.date.fromisoformat(day))
    assert period.cache_multipliers is not None and period.cache_multipliers.read == Decimal(read_multiplier)


def test_modifiers(table: PriceTable) -> None:
    # PRICING, section 2 and 3: batch 50%; US residency 1.1x; web search $10 per 1,000; batch limits.
    rules = table.rules
    assert rules.batch.price_multiplier == Decimal("0.5")
    assert rules.data_residency.us_multiplier == Decimal("1.1")
    assert rules.web_search.usd_per_1000_searches == Decimal(10)
    assert (rules.batch.max_requests, rules.batch.max_bytes) == (100_000, 256_000_000)
    assert (rules.batch.best_effort_hit_rate_low, rules.batch.best_effort_hit_rate_high) == (
        Decimal("0.30"),
        Decimal("0.98"),
    )


@pytest.mark.parametrize(
    ("model", "minimum"),
    [
        ("claude-fable-5-1", 512),
        ("claude-opus-5-5", 512),
        ("claude-sonnet-5-5", 512),
        ("claude-haiku-5-5", 512),
        ("claude-fable-5-2", 512),
        ("claude-opus-4-8", 1024),
        ("claude-sonnet-5", 1024),
        ("claude-sonnet-4-6", 1024),
        ("claude-3-opus-20240229", 1024),
        ("claude-opus-4-7", 2048),
        ("claude-3-5-haiku-20241022", 2048),
        ("claude-3-haiku-20240307", 2048),
        ("claude-opus-4-6", 4096),
        ("claude-opus-4-5", 4096),
        ("claude-haiku-4-5", 4096),
    ],
)
def test_minimum_cacheable_prompt(table: PriceTable, model: str, minimum: int) -> None:
    # Prompt caching page, minimum cacheable prompt length (Oct 2026).
    assert table.model(model).min_cacheable_prompt_tokens == minimum


@pytest.mark.parametrize(
    ("model", "us_allowed"),
    [
        ("claude-opus-4-6", True),
        ("claude-sonnet-4-6", True),
        ("claude-haiku-5-5", True),
        ("claude-opus-4-5", False),
        ("claude-haiku-4-5", False),
        ("claude-sonnet-4-5", False),
    ],
)
def test_data_residency_only_from_4_6(table: PriceTable, model: str, us_allowed: bool) -> None:
    # PRICING, section 2: inference_geo "us" 1.1x, Claude 4.6 and later only.
    assert table.model(model).data_residency_us is us_allowed


@pytest.mark.parametrize(
    ("model", "generation"),
    [
        ("claude-opus-4-6", "legacy"),
        ("claude-sonnet-4-6", "legacy"),
        ("claude-haiku-4-5", "legacy"),
        ("claude-opus-4-7", "2026"),
        ("claude-sonnet-5", "2026"),
        ("claude-haiku-5-5", "2026"),
        ("claude-fable-5-2", "2026"),
    ],
)
def test_tokenizer_generation(table: PriceTable, model: str, generation: str) -> None:
    # Token counting facts: the 2026 tokenizer starts with Opus 4.7.
    assert table.model(model).tokenizer == generation
