"""When features existed: the periods in the table, the loader's checks, dated lookups and the estimator.

Dates from shared/reference/anthropic-pricing.md, section 7 row 5 (prompt caching public beta 2024-08-14,
Message Batches 2024-10-08, the 1-hour TTL "in 2025" with the beta header extended-cache-ttl-2025-04-11)
and usage-and-billing.md section 1.1 (inference_geo in the SDK from 2026-02-05).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from estimator import Workload, estimate
from estimator.errors import InvalidWorkloadError
from estimator.rates import check_option_periods, resolve_mode_rates
from pricing import DEFAULT_TABLE_PATH, FeatureUnavailableError, PriceTable, PriceTableError, parse_price_table

SHIPPED_TEXT = DEFAULT_TABLE_PATH.read_text(encoding="utf-8")
DAY = dt.date
MTOK = D(1_000_000)


def _error_for(text: str) -> str:
    with pytest.raises(PriceTableError) as caught:
        parse_price_table(text, source_name="edited.yaml")
    return str(caught.value)


def _edited(old: str, new: str) -> str:
    assert SHIPPED_TEXT.count(old) == 1, f"fixture text not found once in prices.yaml: {old!r}"
    return SHIPPED_TEXT.replace(old, new)


# --- the periods ----------------------------------------------------------------------------------------


def test_feature_periods_and_their_sources(table: PriceTable) -> None:
    features = table.features
    assert (features.prompt_caching.available_from, features.prompt_caching.from_precision) == (
        DAY(2024, 8, 14),
        "day",
    )
    assert features.message_batches.available_from == DAY(2024, 10, 8)
    assert (features.cache_ttl_1h.available_from, features.cache_ttl_1h.from_precision) == (
        DAY(2025, 4, 11),
        "approximate",
    )
    assert features.data_residency.available_from == DAY(2026, 2, 5)
    for name in ("prompt_caching", "message_batches", "cache_ttl_1h", "data_residency", "context_1m_beta"):
        assert features.period(name).sources  # type: ignore[arg-type]
    assert "batches_launch" in features.message_batches.sources


@pytest.mark.parametrize(
    ("model", "start", "removed"),
    [
        ("claude-fable-5-2", DAY(2026, 11, 9), None),
        ("claude-mythos-5-2", DAY(2026, 11, 9), None),
        ("claude-opus-5-5", DAY(2026, 9, 22), None),
        ("claude-opus-5", DAY(2026, 7, 24), None),
        ("claude-opus-4-8", DAY(2026, 5, 28), DAY(2026, 11, 30)),
        ("claude-opus-4-7", DAY(2026, 4, 16), DAY(2026, 7, 24)),
        ("claude-opus-4-6", DAY(2026, 2, 5), DAY(2026, 7, 24)),
    ],
)
def test_fast_mode_periods_per_model(table: PriceTable, model: str, start: dt.date, removed: dt.date | None) -> None:
    fast_mode = table.model(model).fast_mode
    assert fast_mode is not None and (fast_mode.available_from, fast_mode.removed) == (start, removed)


def test_models_without_fast_mode(table: PriceTable) -> None:
    with_fast = {m.id for m in table.models if m.fast_mode is not None}
    assert with_fast == {
        "claude-fable-5-2",
        "claude-mythos-5-2",
        "claude-opus-5-5",
        "claude-opus-5",
        "claude-opus-4-8",
        "claude-opus-4-7",
        "claude-opus-4-6",
    }


# --- dated lookups ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "cache", "batch", "hour"),
    [
        (DAY(2024, 5, 1), False, False, False),
        (DAY(2024, 8, 13), False, False, False),
        (DAY(2024, 8, 14), True, False, False),
        (DAY(2024, 10, 7), True, False, False),
        (DAY(2024, 10, 8), True, True, False),
        (DAY(2025, 4, 10), True, True, False),
        (DAY(2025, 4, 11), True, True, True),
    ],
)
def test_haiku_3_rates_appear_with_their_features(
    table: PriceTable, day: dt.date, cache: bool, batch: bool, hour: bool
) -> None:
    period = table.prices_as_of(table.model("claude-3-haiku-20240307"), day)
    assert period.input_mtok == D("0.25")  # the base rates always applied
    assert period.has_cache_rates is cache and (period.unavailable("prompt_caching") is None) is cache
    assert period.has_batch_rates is batch and (period.unavailable("message_batches") is None) is batch
    assert (period.cache_write_1h_mtok is not None) is hour


def test_raw_rows_are_untouched_by_dated_views(table: PriceTable) -> None:
    model = table.model("claude-3-haiku-20240307")
    table.prices_as_of(model, DAY(2024, 5, 1))
    assert model.prices[0].batch_input_mtok == D("0.125") and not model.prices[0].unavailable_features


def test_a_view_with_nothing_missing_is_the_row_itself(table: PriceTable) -> None:
    model = table.model("claude-sonnet-4-6")
    assert model.period_as_of(DAY(2026, 12, 1)) is model.periods_in_effect[-1]


@pytest.mark.parametrize(
    ("field", "feature", "date_named"),
    [
        ("batch_input_mtok", "message_batches", "2024-10-08"),
        ("cache_read_mtok", "prompt_caching", "2024-08-14"),
        ("batch_cache_write_1h_mtok", "message_batches", "2024-10-08"),
        ("cache_write_1h_mtok", "prompt_caching", "2024-08-14"),
    ],
)
def test_rate_before_its_feature_is_refused_with_the_date(
    table: PriceTable, field: str, feature: str, date_named: str
) -> None:
    with pytest.raises(FeatureUnavailableError) as caught:
        table.rate_as_of(table.model("claude-3-haiku-20240307"), field, DAY(2024, 5, 1))
    assert caught.value.feature == feature and date_named in str(caught.value) and "2024-05-01" in str(caught.value)


def test_1h_rate_before_the_ttl_existed(table: PriceTable) -> None:
    haiku = table.model("claude-3-haiku-20240307")
    with pytest.raises(FeatureUnavailableError, match="1-hour cache TTL did not exist yet on 2025-01-01"):
        table.rate_as_of(haiku, "cache_write_1h_mtok", DAY(2025, 1, 1))
    assert table.rate_as_of(haiku, "cache_write_1h_mtok", DAY(2025, 6, 1)) == D("0.50")
    assert table.rate_as_of(haiku, "batch_input_mtok", DAY(2024, 10, 8)) == D("0.125")


def test_unavailable_reasons(table: PriceTable) -> None:
    opus_48, sonnet_46 = table.model("claude-opus-4-8"), table.model("claude-sonnet-4-6")
    assert table.unavailable_reason(opus_48, "fast_mode", DAY(2026, 11, 29)) is None
    assert "removed on 2026-11-30" in (table.unavailable_reason(opus_48, "fast_mode", DAY(2026, 11, 30)) or "")
    no_fast = table.unavailable_reason(sonnet_46, "fast_mode", DAY(2026, 12, 1)) or ""
    assert "has no fast mode" in no_fast and "claude-opus-5-5" in no_fast and "claude-opus-4-8" not in no_fast
    haiku_45 = table.model("claude-haiku-4-5")
    assert "only Claude 4.6" in (table.unavailable_reason(haiku_45, "data_residency", DAY(2026, 12, 1)) or "")
    assert "2026-02-05" in (table.unavailable_reason(opus_48, "data_residency", DAY(2026, 1, 1)) or "")


# --- the estimator: modes reported unavailable, options refused, never priced -------------------------------


def test_haiku_3_batch_as_of_2024_05_01_is_refused() -> None:
    workload = Workload(
        model="claude-3-haiku-20240307", requests=100, prefix_tokens=3000, unique_input_tokens=500,
        output_tokens=200, as_of=DAY(2024, 5, 1),
    )  # fmt: skip
    result = estimate(workload)
    for mode in ("batch", "batch_cached"):
        cost = result.mode(mode)
        assert not cost.available and "Message Batches API did not exist yet on 2024-05-01" in (
            cost.unavailable_reason or ""
        )
        assert "2024-10-08" in (cost.unavailable_reason or "")
    assert "Prompt caching did not exist yet" in (result.mode("realtime_cached").unavailable_reason or "")
    assert result.mode("realtime").total_usd == 100 * (3500 * D("0.25") + 200 * D("1.25")) / MTOK
    assert [m.mode for m in result.ranking] == ["realtime"]


def test_haiku_3_batch_on_the_launch_day_is_priced() -> None:
    workload = Workload(model="claude-3-haiku-20240307", requests=1, unique_input_tokens=1000, as_of=DAY(2024, 10, 8))
    assert estimate(workload).mode("batch").total_usd == 1000 * D("0.125") / MTOK


@pytest.mark.parametrize(
    ("workload", "field", "needle"),
    [
        (
            Workload(model="claude-opus-4-8", requests=1, fast=True, as_of=DAY(2026, 12, 1)),
            "fast",
            "removed on 2026-11-30",
        ),
        (
            Workload(model="claude-opus-4-7", requests=1, fast=True, as_of=DAY(2026, 8, 1)),
            "fast",
            "removed on 2026-07-24",
        ),
        (
            Workload(model="claude-opus-5", requests=1, fast=True, as_of=DAY(2026, 7, 1)),
            "fast",
            "started on 2026-07-24",
        ),
        (
            Workload(model="claude-sonnet-4-6", requests=1, fast=True, as_of=DAY(2026, 12, 1)),
            "fast",
            "has no fast mode",
        ),
        (
            Workload(model="claude-3-haiku-20240307", requests=1, cache_ttl="1h", as_of=DAY(2025, 1, 1)),
            "cache_ttl",
            "started on 2025-04-11",
        ),
        (Workload(model="claude-opus-4-6", requests=1, geo="us", as_of=DAY(2026, 1, 15)), "geo", "2026-02-05"),
        (Workload(model="claude-haiku-4-5", requests=1, geo="us", as_of=DAY(2026, 12, 1)), "geo", "only Claude 4.6"),
    ],
)
def test_options_outside_their_period_are_refused_with_the_date(
    table: PriceTable, workload: Workload, field: str, needle: str
) -> None:
    with pytest.raises(InvalidWorkloadError) as caught:
        check_option_periods(workload, table.model(workload.model), table)
    assert caught.value.field == field and needle in str(caught.value)


@pytest.mark.parametrize(
    "workload",
    [
        Workload(model="claude-opus-4-8", requests=1, fast=True, as_of=DAY(2026, 11, 29)),
        Workload(model="claude-fable-5-2", requests=1, fast=True, as_of=DAY(2026, 12, 1)),
        Workload(model="claude-3-haiku-20240307", requests=1, cache_ttl="1h", as_of=DAY(2025, 4, 11)),
        Workload(
            model="claude-3-haiku-20240307", requests=1, cache_ttl="1h", as_of=DAY(2024, 5, 1)
        ),  # no caching at all yet
        Workload(model="claude-opus-4-6", requests=1, geo="us", as_of=DAY(2026, 2, 5)),
    ],
)
def test_options_inside_their_period_pass(table: PriceTable, workload: Workload) -> None:
    check_option_periods(workload, table.model(workload.model), table)


def test_fast_mode_removed_is_unpriced_with_the_date_in_resolved_rates(table: PriceTable) -> None:
    model = table.model("claude-opus-4-8")
    view = table.prices_as_of(model, DAY(2026, 12, 1))
    rates = resolve_mode_rates(view, "realtime", tier=None, fast=True, geo_multiplier=D(1), model_name=model.name)
    assert not hasattr(rates, "input_mtok") and "2026-11-30" in getattr(rates, "reason", "")
    batch = resolve_mode_rates(view, "batch", tier=None, fast=True, geo_multiplier=D(1), model_name=model.name)
    assert getattr(batch, "input_mtok", None) == D("2.50")  # fast is real-time only; batch stays standard


def test_data_residency_before_it_existed_is_unpriced(table: PriceTable) -> None:
    model = table.model("claude-opus-4-6")
    view = table.prices_as_of(model, DAY(2026, 2, 5)).model_copy()
    early = model.view_as_of(model.periods_in_effect[0], DAY(2026, 1, 1))
    rates = resolve_mode_rates(early, "realtime", tier=None, fast=False, geo_multiplier=D("1.1"), model_name="x")
    assert "2026-02-05" in getattr(rates, "reason", "")
    priced = resolve_mode_rates(view, "realtime", tier=None, fast=False, geo_multiplier=D("1.1"), model_name="x")
    assert getattr(priced, "input_mtok", None) == D("5.5")


@pytest.mark.parametrize(
    ("model", "mode", "provenance"),
    [
        ("claude-sonnet-4-6", "realtime", "published"),
        ("claude-sonnet-4-6", "batch", "published"),
        ("claude-sonnet-4-6", "batch_cached", "derived"),  # batch cache rates: the documented 50% rule
        ("claude-fable-5-2", "realtime_cached", "third_party"),
        ("claude-fable-5-2", "batch", "third_party"),
        ("claude-mythos-5-2", "batch", "derived"),
        ("claude-mythos-5-2", "realtime", "published"),
    ],
)
def test_mode_rates_say_where_they_come_from(table: PriceTable, model: str, mode: str, provenance: str) -> None:
    found = table.model(model)
    view = table.prices_as_of(found, DAY(2026, 12, 1))
    rates = resolve_mode_rates(
        view,
        mode,  # type: ignore[arg-type]
        tier=None,
        fast=False,
        geo_multiplier=D(1),
        model_name=found.name,
    )
    assert getattr(rates, "provenance", None) == provenance


# --- the loader refuses a row that claims a feature outside its period ------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "    available_from: 2024-08-14       # public beta [caching_launch_3p]",
            "    available_from: 2026-12-01       # moved",
            "carries prompt_caching rates, but that feature existed only from 2026-12-01",
        ),
        (
            "    available_from: 2024-10-08       # public beta [batches_launch]",
            "    available_from: 2026-12-01",
            "carries message_batches rates",
        ),
        (
            '      removed: 2026-11-30                               # "the API rejects',
            '      removed: 2026-05-28                               # "the API rejects',
            "feature dates must run available_from < removed",
        ),
        (
            "    removed: 2026-04-30              # [context_1m_beta_end_3p]",
            "    removed: 2026-03-01",
            "can only apply during the 1M-context beta",
        ),
        (
            "      available_from: 2026-02-05                        # from launch: beta header",
            "      available_from: 2026-03-13                        # from launch: beta header",
            "prices from 2026-02-05 carry fast rates, but fast mode existed only from 2026-03-13 until 2026-07-24",
        ),
        (
            "      available_from: 2026-04-16                        # from launch (approximate, as the release)",
            "      available_from: 2026-01-01                        # before the release",
            "before the release 2026-04-16",
        ),
    ],
)
def test_loader_refuses_a_row_outside_its_feature_period(old: str, new: str, expected: str) -> None:
    assert expected in _error_for(_edited(old, new))


def test_loader_refuses_fast_rates_on_a_model_without_fast_mode() -> None:
    text = _edited(
        "    fast_mode:\n      available_from: 2026-07-24                        # research preview",
        "    unused_fast_mode:\n      available_from: 2026-07-24                        # research preview",
    )
    assert "unused_fast_mode" in _error_for(text)
    text = _edited(
        "    fast_mode:\n      available_from: 2026-07-24                        # research preview, listed with the "
        "launch prices [pricing]\n      sources: [pricing, fast_mode]\n"
        "      note: Research preview (fast-mode page).\n",
        "",
    )
    assert "carry fast rates but the model has no fast_mode" in _error_for(text)


def test_loader_refuses_a_fast_mode_without_fast_rates() -> None:
    text = _edited(
        "        fast:                                           # [pricing]\n"
        "          input_mtok: 10                                # [pricing]\n"
        "          output_mtok: 50                               # [pricing]\n"
        "          cache_write_5m_mtok: 12.50                    # derived: 10 × 1.25\n"
        "          cache_write_1h_mtok: 20                       # derived: 10 × 2\n"
        "          cache_read_mtok: 1.00                         # derived: 10 × 0.1\n"
        "          derived: [cache_write_5m_mtok, cache_write_1h_mtok, cache_read_mtok]\n"
        "          sources: [pricing, fast_mode]\n",
        "",
    )
    assert "have no fast rates, but fast mode existed during that row" in _error_for(text)


def test_loader_checks_fast_cache_arithmetic() -> None:
    text = _edited(
        "          cache_read_mtok: 0.40                         # derived: 8 × 0.05",
        "          cache_read_mtok: 0.80                         # wrong",
    )
    assert "fast.cache_read_mtok is 0.80 but fast input_mtok 8 × its cache multiplier is 0.40" in _error_for(text)


def test_loader_refuses_a_price_before_the_release() -> None:
    text = _edited(
        '    lifecycle: {released: 2025-11-24}                   # "Released November 24, 2025"',
        '    lifecycle: {released: 2025-12-24}                   # "Released November 24, 2025"',
    )
    assert "before the model's release 2025-12-24" in _error_for(text)
