"""Regressions for the corrections of shared/reference/anthropic-pricing.md, section 7 (checked 2026-12-03).

Each test cites the row of section 7 it pins, and the source that row names. Expected figures are typed
from the reference, compared with `==` (Decimal, no approx).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from estimator import Workload, estimate
from estimator.errors import InvalidWorkloadError
from pricing import FeatureUnavailableError, PriceTable

MTOK = D(1_000_000)
DAY = dt.date


# --- row 1: Sonnet 4.5 retires on 2026-11-30 (model page models/sonnet-4-5/overview) --------------------


def test_sonnet_4_5_retires_on_2026_11_30(table: PriceTable) -> None:
    model = table.model("claude-sonnet-4-5")
    assert (model.lifecycle.deprecated, model.lifecycle.retired) == (DAY(2026, 9, 30), DAY(2026, 11, 30))
    assert model.status_as_of(DAY(2026, 11, 29)) == "deprecated"
    assert model.status_as_of(DAY(2026, 11, 30)) == "retired"
    assert model.status_as_of(DAY(2026, 12, 1)) == "retired"
    assert model.id not in {m.id for m in table.models_as_of(DAY(2026, 12, 1))}
    assert "model_page_sonnet_4_5" in model.sources
    assert (
        table.sources["model_page_sonnet_4_5"].url == "https://platform.claude.com/docs/en/models/sonnet-4-5/overview"
    )


def test_sonnet_4_5_estimate_on_2026_12_01_says_retired() -> None:
    result = estimate(Workload(model="claude-sonnet-4-5", requests=1, unique_input_tokens=10, as_of=DAY(2026, 12, 1)))
    (warning,) = [w for w in result.warnings if w.code == "retired"]
    assert "2026-11-30" in warning.message


# --- row 2: fast mode on Fable 5.2 / Mythos 5.2, $16 / $80, 2x on every token type (fast-mode page) ----------


@pytest.mark.parametrize("model", ["claude-fable-5-2", "claude-mythos-5-2"])
def test_fable_and_mythos_5_2_fast_rates(table: PriceTable, model: str) -> None:
    fast = table.prices_as_of(table.model(model), DAY(2026, 12, 1)).fast
    assert fast is not None
    assert fast.rates() == {
        "input_mtok": D(16),
        "output_mtok": D(80),
        "cache_write_5m_mtok": D(20),  # 2 × 10
        "cache_write_1h_mtok": D(32),  # 2 × 16
        "cache_read_mtok": D("0.40"),  # 2 × 0.20
    }
    standard = table.prices_as_of(table.model(model), DAY(2026, 12, 1))
    for field, value in fast.rates().items():  # "2x on every token type"
        assert value == 2 * standard.rate(field)  # type: ignore[operator]


def test_fable_5_2_fast_prices_at_16_and_80() -> None:
    workload = Workload(
        model="claude-fable-5-2", requests=1, unique_input_tokens=1000, output_tokens=1000, fast=True,
        as_of=DAY(2026, 12, 1),
    )  # fmt: skip
    assert estimate(workload).mode("realtime").total_usd == (1000 * D(16) + 1000 * D(80)) / MTOK


def test_fable_5_2_fast_cache_hits_and_writes_are_2x() -> None:
    workload = Workload(
        model="claude-fable-5-2", requests=1, prefix_tokens=10_000, cache_hit_rate="0.5", fast=True,
        as_of=DAY(2026, 12, 1),
    )  # fmt: skip
    cached = estimate(workload).mode("realtime_cached")
    assert cached.total_usd == (5000 * D("0.40") + 5000 * D(20)) / MTOK


# --- row 3: fast-mode periods (code.claude.com fast-mode page; 3P for the 4.6 / 4.7 prices) ------------------


def test_opus_4_8_fast_mode_until_2026_11_30(table: PriceTable) -> None:
    model = table.model("claude-opus-4-8")
    assert model.fast_mode is not None
    assert (model.fast_mode.deprecated, model.fast_mode.removed) == (DAY(2026, 10, 30), DAY(2026, 11, 30))
    last_day = table.prices_as_of(model, DAY(2026, 11, 29)).fast
    assert last_day is not None and (last_day.input_mtok, last_day.output_mtok) == (D(10), D(50))
    assert table.prices_as_of(model, DAY(2026, 11, 30)).fast is None
    gone = table.prices_as_of(model, DAY(2026, 12, 1))
    assert gone.fast is None and "removed on 2026-11-30" in (gone.unavailable("fast_mode") or "")


def test_opus_4_8_fast_as_of_2026_12_01_is_refused() -> None:
    workload = Workload(model="claude-opus-4-8", requests=1, unique_input_tokens=10, fast=True, as_of=DAY(2026, 12, 1))
    with pytest.raises(InvalidWorkloadError) as caught:
        estimate(workload)
    assert caught.value.field == "fast"


def test_opus_4_8_fast_rate_as_of_2026_12_01_names_the_date(table: PriceTable) -> None:
    with pytest.raises(FeatureUnavailableError, match="removed on 2026-11-30") as caught:
        table.rate_as_of(table.model("claude-opus-4-8"), "fast_input_mtok", DAY(2026, 12, 1))
    assert caught.value.feature == "fast_mode"
    assert table.rate_as_of(table.model("claude-opus-4-8"), "fast_input_mtok", DAY(2026, 11, 29)) == D(10)


@pytest.mark.parametrize(
    ("model", "last_day", "removed"),
    [
        ("claude-opus-4-7", DAY(2026, 7, 23), DAY(2026, 7, 24)),  # code.claude.com: removed 2026-07-24
        ("claude-opus-4-6", DAY(2026, 7, 23), DAY(2026, 7, 24)),  # 3P "Feb–Jul 2026", ended with Opus 4.7's
    ],
)
def test_opus_4_6_and_4_7_fast_cost_30_and_150_while_they_existed(
    table: PriceTable, model: str, last_day: dt.date, removed: dt.date
) -> None:
    found = table.model(model)
    fast = table.prices_as_of(found, last_day).fast
    assert fast is not None and (fast.input_mtok, fast.output_mtok) == (D(30), D(150))
    assert set(fast.third_party) == {"input_mtok", "output_mtok"}  # third-party readings
    assert table.prices_as_of(found, removed).fast is None
    assert found.fast_mode is not None and found.fast_mode.removed == removed


def test_opus_4_7_fast_deprecation_date(table: PriceTable) -> None:
    fast_mode = table.model("claude-opus-4-7").fast_mode
    assert fast_mode is not None and fast_mode.deprecated == DAY(2026, 6, 25)


@pytest.mark.parametrize(
    ("model", "fast_in", "fast_out"),
    [("claude-opus-5-5", "8", "40"), ("claude-opus-5", "10", "50")],  # section 2, still offered
)
def test_current_fast_modes_are_still_offered(table: PriceTable, model: str, fast_in: str, fast_out: str) -> None:
    fast = table.prices_as_of(table.model(model), DAY(2026, 12, 3)).fast
    assert fast is not None and (fast.input_mtok, fast.output_mtok) == (D(fast_in), D(fast_out))


# --- row 4: release dates (Anthropic model pages) -----------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "released"),
    [
        ("claude-opus-4-8", DAY(2026, 5, 28)),
        ("claude-opus-4-5", DAY(2025, 11, 24)),
        ("claude-opus-4-6", DAY(2026, 2, 5)),
        ("claude-sonnet-4-6", DAY(2026, 2, 17)),
        ("claude-opus-4-0", DAY(2025, 5, 22)),
        ("claude-sonnet-4-0", DAY(2025, 5, 22)),
    ],
)
def test_release_dates(table: PriceTable, model: str, released: dt.date) -> None:
    found = table.model(model)
    assert (found.lifecycle.released, found.lifecycle.released_precision) == (released, "day")
    assert found.periods_in_effect[0].effective_from == released
    assert "model_pages" in found.sources


# --- row 5 lives in tests/test_price_features.py (when features existed) -------------------------------------


# --- row 6: Mythos 5.2 cache and batch rates derived from Fable 5.2 ---------------------------------------------


def test_mythos_5_2_rates_are_fable_5_2_s(table: PriceTable) -> None:
    period = table.prices_as_of(table.model("claude-mythos-5-2"), DAY(2026, 12, 1))
    assert [period.rate(f) for f in ("cache_write_5m_mtok", "cache_write_1h_mtok", "cache_read_mtok")] == [
        D(10),
        D(16),
        D("0.20"),
    ]
    batch = ("batch_input_mtok", "batch_output_mtok", "batch_cache_write_5m_mtok", "batch_cache_write_1h_mtok")
    assert [period.rate(f) for f in (*batch, "batch_cache_read_mtok")] == [D(4), D(20), D(5), D(8), D("0.10")]
    assert "genai_prices_3p" in period.sources and table.sources["genai_prices_3p"].third_party


def test_mythos_5_2_batch_is_priced_and_labelled_derived() -> None:
    workload = Workload(
        model="claude-mythos-5-2", requests=10, unique_input_tokens=1000, output_tokens=100, as_of=DAY(2026, 12, 1)
    )
    result = estimate(workload)
    batch = result.mode("batch")
    assert batch.available and batch.total_usd == 10 * (1000 * D(4) + 100 * D(20)) / MTOK
    assert batch.rates is not None and batch.rates.provenance == "derived"
    assert set(batch.rates.derived_fields) == {"batch_input_mtok", "batch_output_mtok"}
    assert result.mode("realtime").rates is not None and result.mode("realtime").rates.provenance == "published"
    assert "derived_prices" in {w.code for w in result.warnings}


# --- row 7: Haiku 3.5 launched at $1 / $5 on 2024-11-04, cut to $0.80 / $4 a month later (aiwiki, 3P) -------------


def test_haiku_3_5_launch_price_history(table: PriceTable) -> None:
    model = table.model("claude-3-5-haiku-20241022")
    launch, cut = model.periods_in_effect
    assert (launch.effective_from, launch.date_precision) == (DAY(2024, 11, 4), "day")
    assert (launch.input_mtok, launch.output_mtok) == (D(1), D(5))
    assert set(launch.third_party) == {"input_mtok", "output_mtok"}
    assert "haiku_3_5_launch_3p" in launch.sources and table.sources["haiku_3_5_launch_3p"].third_party
    assert (cut.effective_from, cut.date_precision) == (DAY(2024, 12, 1), "month")
    assert (cut.input_mtok, cut.output_mtok) == (D("0.80"), D(4))
    assert table.prices_as_of(model, DAY(2024, 11, 30)).input_mtok == D(1)
    assert table.prices_as_of(model, DAY(2024, 12, 1)).input_mtok == D("0.80")
    assert model.lifecycle.released == DAY(2024, 11, 4)


def test_haiku_3_5_launch_row_has_no_1h_rate(table: PriceTable) -> None:
    # The launch row ended (2024-12) before the 1-hour TTL existed (2025): it claims no 1h rate.
    launch = table.model("claude-3-5-haiku-20241022").periods_in_effect[0]
    assert launch.cache_write_1h_mtok is None and launch.batch_cache_write_1h_mtok is None


# --- row 8: the Sonnet 4 / 4.5 >200K tier only inside the 1M-context beta (2025-08-12 .. 2026-04-30) -----------


@pytest.mark.parametrize(
    ("model", "day", "tiered"),
    [
        ("claude-sonnet-4-0", DAY(2025, 8, 11), False),
        ("claude-sonnet-4-0", DAY(2025, 8, 12), True),
        ("claude-sonnet-4-0", DAY(2026, 4, 29), True),
        ("claude-sonnet-4-0", DAY(2026, 4, 30), False),
        ("claude-sonnet-4-5", DAY(2025, 9, 29), True),
        ("claude-sonnet-4-5", DAY(2026, 4, 29), True),
        ("claude-sonnet-4-5", DAY(2026, 4, 30), False),
    ],
)
def test_200k_tier_only_during_the_1m_beta(table: PriceTable, model: str, day: dt.date, tiered: bool) -> None:
    assert bool(table.prices_as_of(table.model(model), day).tiers) is tiered


def test_the_1m_beta_period(table: PriceTable) -> None:
    beta = table.features.context_1m_beta
    assert (beta.available_from, beta.removed) == (DAY(2025, 8, 12), DAY(2026, 4, 30))


def test_sonnet_4_long_prompt_before_the_beta_pays_the_base_rate() -> None:
    workload = Workload(model="claude-sonnet-4-0", requests=1, unique_input_tokens=200_001, as_of=DAY(2025, 6, 1))
    result = estimate(workload)
    assert result.mode("realtime").total_usd == 200_001 * D(3) / MTOK
    assert "context_window" in {w.code for w in result.warnings}  # beyond the 200K window: the API rejects it


# --- row 9: the unverified Opus 4.5 deprecation is not entered --------------------------------------------------


def test_unverified_opus_4_5_deprecation_is_not_entered(table: PriceTable) -> None:
    life = table.model("claude-opus-4-5").lifecycle
    assert life.deprecated is None and life.retired is None


# --- row 10: the minimum cacheable length is not 512 for the whole 5.x family ----------------------------------


def test_sonnet_5_minimum_is_1024_and_the_wrong_comment_is_gone(table: PriceTable) -> None:
    from pricing import DEFAULT_TABLE_PATH

    assert table.model("claude-sonnet-5").min_cacheable_prompt_tokens == 1024
    assert "512 as for the whole 5.x family" not in DEFAULT_TABLE_PATH.read_text(encoding="utf-8")


def test_mythos_5_2_minimum_is_fable_5_2_s(table: PriceTable) -> None:
    assert table.model("claude-mythos-5-2").min_cacheable_prompt_tokens == 512
