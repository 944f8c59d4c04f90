"""The price table's loader and schema: strict, Decimal, history, lookups, and errors that name the fix."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path

import pytest

from pricing import (
    DEFAULT_TABLE_PATH,
    RATE_FIELDS,
    PriceNotAvailableError,
    PriceTable,
    PriceTableData,
    PriceTableError,
    UnknownModelError,
    load_price_table,
    parse_price_table,
)

SHIPPED_TEXT = DEFAULT_TABLE_PATH.read_text(encoding="utf-8")

# Every model of shared/reference/anthropic-pricing.md, section 1, by its API id.
REFERENCE_MODEL_IDS = {
    "claude-fable-5-2",
    "claude-mythos-5-2",
    "claude-fable-5-1",
    "claude-mythos-5-1",
    "claude-fable-5",
    "claude-mythos-5",
    "claude-opus-5-5",
    "claude-opus-5",
    "claude-opus-4-8",
    "claude-opus-4-7",
    "claude-opus-4-6",
    "claude-opus-4-5-20251101",
    "claude-opus-4-1-20250805",
    "claude-opus-4-20250514",
    "claude-sonnet-5-5",
    "claude-sonnet-5",
    "claude-sonnet-4-6",
    "claude-sonnet-4-5-20250929",
    "claude-sonnet-4-20250514",
    "claude-haiku-5-5",
    "claude-haiku-4-5-20251001",
    "claude-3-5-haiku-20241022",
    "claude-3-7-sonnet-20250219",
    "claude-3-5-sonnet-20240620",
    "claude-3-5-sonnet-20241022",
    "claude-3-opus-20240229",
    "claude-3-haiku-20240307",
}


def _edited(old: str, new: str, count: int = 1) -> str:
    assert old in SHIPPED_TEXT, f"fixture text not found in prices.yaml: {old!r}"
    return SHIPPED_TEXT.replace(old, new, count)


def _error_for(text: str) -> str:
    with pytest.raises(PriceTableError) as caught:
        parse_price_table(text, source_name="edited.yaml")
    return str(caught.value)


# --- the shipped table -------------------------------------------------------------------------------


def test_table_holds_every_reference_model(table: PriceTable) -> None:
    assert {model.id for model in table.models} == REFERENCE_MODEL_IDS


def test_every_rate_is_a_decimal_read_from_the_text(table: PriceTable) -> None:
    for model in table.models:
        for period in model.prices:
            for rates in (period, *period.tiers):
                for field in RATE_FIELDS:
                    value = rates.rate(field)
                    assert value is None or type(value) is Decimal, (model.id, field, value)
    sonnet = table.model("claude-sonnet-4-6").prices[0]
    assert str(sonnet.cache_read_mtok) == "0.30"  # the YAML's own digits, no float round trip


def test_every_model_has_provenance(table: PriceTable) -> None:
    for model in table.models:
        assert model.sources and model.checked <= table.checked
        for url in table.source_urls(model.sources):
            assert url.startswith("https://") or url.endswith(".md")
        for period in model.prices:
            assert period.sources


def test_third_party_and_derived_values_are_marked(table: PriceTable) -> None:
    fable = table.model("claude-fable-5-2").prices[0]
    assert {"cache_write_5m_mtok", "cache_write_1h_mtok", "cache_read_mtok"} <= set(fable.third_party)
    assert "pricing_3p" in fable.sources and table.sources["pricing_3p"].third_party
    opus_tier = table.model("claude-opus-4-6").prices[0].tiers[0]
    assert "cache_read_mtok" in opus_tier.derived and "input_mtok" not in opus_tier.derived


def test_mythos_5_2_cache_and_batch_are_fable_5_2_rates_marked_derived(table: PriceTable) -> None:
    # Reference section 7, row 6: Mythos 5.2 shares Fable 5.2's pricing; enter its cache and batch rates as
    # derived from Fable 5.2, never as published. Only input and output are Anthropic's own figures.
    mythos = table.model("claude-mythos-5-2").prices[0]
    fable = table.model("claude-fable-5-2").prices[0]
    assert (mythos.input_mtok, mythos.output_mtok) == (Decimal(8), Decimal(40))
    assert mythos.rates() == fable.rates()
    assert set(mythos.derived) == set(RATE_FIELDS) - {"input_mtok", "output_mtok"}
    assert not mythos.third_party


def test_haiku_3_keeps_its_published_cache_prices(table: PriceTable) -> None:
    period = table.model("claude-3-haiku-20240307").prices[0]
    assert period.cache_write_5m_mtok == Decimal("0.30") and period.cache_read_mtok == Decimal("0.03")
    assert period.cache_multipliers is not None and period.cache_multipliers.write_5m == Decimal("1.2")


# --- history ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected_read"),
    [("2026-09-28", "0.20"), ("2026-10-01", "0.20"), ("2026-10-06", "0.20"), ("2026-10-07", "0.10")],
)
def test_sonnet_5_5_cache_read_changes_on_2026_10_07(table: PriceTable, day: str, expected_read: str) -> None:
    # Source: pricing page, Sonnet 5.5 row: 0.20 until 2026-10-06, 0.10 from 2026-10-07.
    period = table.prices_as_of(table.model("claude-sonnet-5-5"), dt.date.fromisoformat(day))
    assert period.cache_read_mtok == Decimal(expected_read)


def test_cancelled_sonnet_5_rise_never_takes_effect(table: PriceTable) -> None:
    model = table.model("claude-sonnet-5")
    for day in ("2026-08-31", "2026-09-01", "2026-11-25"):
        period = table.prices_as_of(model, dt.date.fromisoformat(day))
        assert (period.input_mtok, period.output_mtok) == (Decimal(2), Decimal(10))
    cancelled = [period for period in model.prices if period.status == "cancelled"]
    assert [(p.effective_from, p.input_mtok, p.output_mtok) for p in cancelled] == [
        (dt.date(2026, 9, 1), Decimal(3), Decimal(15))
    ]


@pytest.mark.parametrize(
    ("model_id", "last_day_with_tier", "first_day_without", "tier_input", "tier_output"),
    [
        ("claude-opus-4-6", "2026-03-12", "2026-03-13", "10", "37.50"),
        ("claude-sonnet-4-6", "2026-03-12", "2026-03-13", "6", "22.50"),
        ("claude-sonnet-4-5", "2026-04-29", "2026-04-30", "6", "22.50"),
        ("claude-sonnet-4-0", "2026-04-29", "2026-04-30", "6", "22.50"),
    ],
)
def test_former_200k_tier_until_dropped(
    table: PriceTable,
    model_id: str,
    last_day_with_tier: str,
    first_day_without: str,
    tier_input: str,
    tier_output: str,
) -> None:
    model = table.model(model_id)
    with_tier = table.prices_as_of(model, dt.date.fromisoformat(last_day_with_tier))
    assert [(t.above_prompt_tokens, t.input_mtok, t.output_mtok) for t in with_tier.tiers] == [
        (200_000, Decimal(tier_input), Decimal(tier_output))
    ]
    assert table.prices_as_of(model, dt.date.fromisoformat(first_day_without)).tiers == ()


def test_no_price_before_release(table: PriceTable) -> None:
    with pytest.raises(PriceNotAvailableError, match="released 2026-10-07"):
        table.prices_as_of(table.model("claude-haiku-5-5"), dt.date(2026, 10, 6))


def test_lifecycle_status(table: PriceTable) -> None:
    opus_41 = table.model("claude-opus-4-1")
    assert opus_41.status_as_of(dt.date(2026, 8, 4)) == "active"
    assert opus_41.status_as_of(dt.date(2026, 8, 5)) == "retired"
    assert table.model("claude-sonnet-4-5").status_as_of(dt.date(2026, 10, 1)) == "deprecated"
    current_ids = {m.id for m in table.models_as_of(dt.date(2026, 11, 25))}
    assert "claude-opus-4-1-20250805" not in current_ids and "claude-fable-5-2" in current_ids
    assert "claude-fable-5-2" not in {m.id for m in table.models_as_of(dt.date(2026, 11, 8))}


# --- lookups ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "claude-haiku-4-5-20251001",
        "claude-haiku-4-5",
        "Claude Haiku 4.5",
        "CLAUDE-HAIKU-4.5",
        "haiku-4-5",
    ],
)
def test_lookup_by_id_alias_or_name(table: PriceTable, name: str) -> None:
    assert table.model(name).id == "claude-haiku-4-5-20251001"


def test_each_sonnet_3_5_snapshot_keeps_its_identity(table: PriceTable) -> None:
    june, october = table.model("claude-3-5-sonnet-20240620"), table.model("claude-3-5-sonnet-20241022")
    assert june is not october and june.name != october.name
    assert (june.lifecycle.released, october.lifecycle.released) == (dt.date(2024, 6, 20), dt.date(2024, 10, 22))
    day = dt.date(2025, 1, 1)
    assert table.prices_as_of(june, day).input_mtok == table.prices_as_of(october, day).input_mtok


def test_unknown_model_suggests_close_ids(table: PriceTable) -> None:
    with pytest.raises(UnknownModelError) as caught:
        table.model("claude-sonet-4-6")
    assert caught.value.suggestions[0] == "claude-sonnet-4-6"
    assert "Did you mean: claude-sonnet-4-6" in str(caught.value)
    assert isinstance(caught.value, LookupError)


def test_unknown_model_with_nothing_close(table: PriceTable) -> None:
    with pytest.raises(UnknownModelError) as caught:
        table.model("gpt-4o")
    assert "gpt-4o" in str(caught.value)


# --- the loader: cache, speed-relevant behaviour, and file errors --------------------------------------


def test_loading_is_cached_until_the_file_changes(tmp_path: Path) -> None:
    path = tmp_path / "prices.yaml"
    path.write_text(SHIPPED_TEXT, encoding="utf-8")
    first = load_price_table(path)
    assert load_price_table(path) is first
    checked = f"checked: {first.checked}\n\nsources:"
    assert checked in SHIPPED_TEXT
    path.write_text(SHIPPED_TEXT.replace(checked, "checked: 2026-12-04\n\nsources:"))
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000_000))
    second = load_price_table(path)
    assert second is not first and second.checked == dt.date(2026, 12, 4)


def test_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(PriceTableError, match=r"nope\.yaml: cannot read the price table"):
        load_price_table(tmp_path / "nope.yaml")


def test_too_large_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_bytes(b"#" * 5_000_001)
    with pytest.raises(PriceTableError, match="too large for a price table"):
        load_price_table(path)


def test_invalid_yaml_names_the_line() -> None:
    message = _error_for(SHIPPED_TEXT.replace("currency: USD", "currency: [USD", 1))
    assert message.startswith("edited.yaml:") and "invalid YAML" in message


def test_duplicate_key_is_an_error_not_a_silent_override() -> None:
    text = _edited("        input_mtok: 0.10 ", "        input_mtok: 0.10\n        input_mtok: 0.01 ")
    assert "duplicate key 'input_mtok'" in _error_for(text)


@pytest.mark.parametrize(
    ("replacement", "expected"),
    [
        ("        input_mtok: -0.10 ", "must be greater than 0"),
        ("        input_mtok: .nan ", "finite number"),
        ("        input_mtok: .inf ", "finite number"),
        ("        input_mtok: true ", "not true/false"),
        ("        input_mtok: ten ", "'ten' is not a number"),
        ("        input_mtok: 0.10\n        input_mtk: 0.10 ", "input_mtk: Extra inputs are not permitted"),
    ],
)
def test_bad_rate_names_file_line_model_and_field(replacement: str, expected: str) -> None:
    message = _error_for(_edited("        input_mtok: 0.10 ", replacement))
    assert "model 'claude-haiku-5-5'" in message
    assert "prices[0]" in message and expected in message
    assert "edited.yaml:" in message


def test_cache_rate_that_breaks_the_model_multiplier_is_caught() -> None:
    message = _error_for(_edited("cache_read_mtok: 0.25  ", "cache_read_mtok: 0.025  "))
    assert "model 'claude-fable-5-1'" in message
    assert "cache_read_mtok is 0.025 but input_mtok 10 × its cache multiplier is 0.250" in message


def test_batch_rate_that_breaks_the_batch_rule_is_caught() -> None:
    text = _edited("        batch_input_mtok: 0.05\n", "        batch_input_mtok: 0.06\n")
    message = _error_for(text)
    assert "claude-haiku-5-5" in message and "batch_input_mtok is 0.06" in message


def test_floats_are_refused_when_building_a_table_in_code() -> None:
    import yaml

    raw = yaml.safe_load(SHIPPED_TEXT)  # plain PyYAML: prices arrive as floats
    with pytest.raises(ValueError, match="floats are not accepted for money"):
        PriceTableData.model_validate(raw)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "      - effective_from: 2026-10-07 ",
            "      - effective_from: 2026-09-28 ",
            "increasing effective_from",
        ),
        (
            "sources: [pricing, batch, caching, tool_use, models]",
            "sources: [pricing, nowhere]",
            "unknown sources",
        ),
        ('    tokenizer: "2026"\n', '    tokenizer: "2027"\n', "tokenizer '2027' is not one of"),
        (
            "aliases: [claude-haiku-4-5]",
            "aliases: [claude-haiku-4-5, claude-opus-4-5]",
            "already used by model",
        ),
        (
            "lifecycle: {released: 2025-09-29, deprecated: 2026-09-30, retired: 2026-11-30}",
            "lifecycle: {released: 2025-09-29, deprecated: 2024-09-30, retired: 2026-11-30}",
            "released ≤ deprecated ≤ retired",
        ),
    ],
)
def test_table_level_rules(old: str, new: str, expected: str) -> None:
    assert expected in _error_for(_edited(old, new))


def test_top_level_must_be_a_mapping() -> None:
    with pytest.raises(PriceTableError, match="expected a mapping"):
        parse_price_table("- just\n- a list\n", source_name="list.yaml")
