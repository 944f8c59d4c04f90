"""Negotiated rates: an overrides file on top of the public table, priced by hand, strict to load.

Public rates from prices.yaml: Claude Sonnet 4.6 $3 / $15 per MTok (batch $1.50 / $7.50); Claude Haiku 4.5 $1 / $5
(batch $0.50 / $2.50); Claude Opus 5.5 fast mode $8 / $40; Claude Haiku 5.5 above 100,000 prompt tokens $0.50 /
$2.50. Every expected figure below is those rates times the file's discount, or the file's own rate.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import os
from decimal import Decimal as D
from pathlib import Path

import pytest

from estimator import (
    NegotiatedRates,
    OverridesError,
    Workload,
    analyze_batch_file,
    apply_overrides,
    budget,
    compare_models,
    estimate,
    load_overrides,
)
from estimator.cli import main
from estimator.overrides import MAX_OVERRIDES_BYTES, parse_overrides
from estimator.report import estimate_to_dict
from pricing import PriceTable
from tests.conftest import FIXTURES

MTOK = D(1_000_000)
AGREEMENT = """\
name: Acme agreement 2026
overrides:
  - model: claude-sonnet-4-6
    effective_from: 2026-03-01
    effective_until: 2026-06-30
    discount: 0.20
  - model: "*"
    effective_from: 2026-07-01
    discount: {input: 0.05, output: 0.05, cache_write_5m: 0.05, cache_write_1h: 0.05, cache_read: 0.05}
  - model: Claude Haiku 4.5
    effective_from: 2026-01-01
    rates: {input_mtok: 0.80, output_mtok: 4}
"""


@pytest.fixture
def agreement(tmp_path: Path, table: PriceTable) -> NegotiatedRates:
    path = tmp_path / "agreement.yaml"
    path.write_text(AGREEMENT, encoding="utf-8")
    return load_overrides(path, table=table)


def _sonnet(day: str, **fields: object) -> Workload:
    return Workload(
        model="claude-sonnet-4-6", requests=1000, unique_input_tokens=1000, output_tokens=1000,
        as_of=dt.date.fromisoformat(day), **fields,  # type: ignore[arg-type]
    )  # fmt: skip


def test_the_file_reads_into_rules_with_their_lines(agreement: NegotiatedRates) -> None:
    assert agreement.name == "Acme agreement 2026" and agreement.source_name == "agreement.yaml"
    assert [rule.line for rule in agreement.rules] == [3, 7, 10]
    assert agreement.rules[2].model_id == "claude-haiku-4-5-20251001"  # a display name resolves to the id
    assert agreement.rules[0].discounts[0] == ("input", D("0.20"))


def test_a_discount_applies_inside_its_dates_and_the_public_price_outside(
    agreement: NegotiatedRates, table: PriceTable
) -> None:
    def realtime(day: str) -> D:
        return estimate(_sonnet(day), table=table, overrides=agreement).mode("realtime").total_usd

    public = 1000 * (1000 * D(3) + 1000 * D(15)) / MTOK  # $18
    assert realtime("2026-02-28") == public
    assert realtime("2026-03-01") == public * D("0.80") == D("14.4")
    assert realtime("2026-06-30") == public * D("0.80")
    assert realtime("2026-07-01") == public * D("0.95") == D("17.1")  # the "*" rule from the next day
    batch = estimate(_sonnet("2026-04-01"), table=table, overrides=agreement).mode("batch").total_usd
    assert batch == 1000 * (1000 * D("1.50") + 1000 * D("7.50")) * D("0.80") / MTOK == D("7.2")


def test_explicit_rates_replace_exactly_the_named_rates(agreement: NegotiatedRates, table: PriceTable) -> None:
    workload = dataclasses.replace(_sonnet("2026-11-25"), model="claude-haiku-4-5")
    result = estimate(workload, table=table, overrides=agreement)
    assert result.mode("realtime").total_usd == 1000 * (1000 * D("0.80") + 1000 * D(4)) / MTOK == D("4.8")
    assert result.mode("batch").total_usd == 1000 * (1000 * D("0.50") + 1000 * D("2.50")) / MTOK  # public batch
    assert result.negotiated is not None
    assert result.negotiated.applied == (
        "claude-haiku-4-5-20251001: input_mtok 0.8, output_mtok 4 (explicit rates), from 2026-01-01",
    )


def test_quoted_dates_read_as_dates_and_long_names_are_refused_in_one_line(table: PriceTable) -> None:
    quoted = "overrides:\n  - {model: claude-sonnet-4-6, effective_from: '2026-03-01', discount: 0.2}\n"
    assert parse_overrides(quoted, source_name="q.yaml", table=table).rules[0].effective_from == dt.date(2026, 3, 1)
    long_name = "overrides:\n  - {model: " + "x" * 5000 + ", effective_from: 2026-03-01, discount: 0.2}\n"
    with pytest.raises(OverridesError, match=r"q\.yaml:2: model must be a model id") as caught:
        parse_overrides(long_name, source_name="q.yaml", table=table)
    assert len(str(caught.value)) < 200


def test_a_model_rule_wins_over_every_model(table: PriceTable) -> None:
    text = AGREEMENT.replace("effective_from: 2026-07-01", "effective_from: 2026-01-01")
    overrides = parse_overrides(text, source_name="a.yaml", table=table)
    assert estimate(_sonnet("2026-04-01"), table=table, overrides=overrides).mode("realtime").total_usd == D("14.4")


def test_discounts_reach_fast_mode_and_prompt_tiers(table: PriceTable) -> None:
    half = parse_overrides(
        "overrides:\n  - {model: '*', effective_from: 2026-01-01, discount: 0.5}\n", source_name="h.yaml", table=table
    )
    fast = Workload(model="claude-opus-5-5", requests=1, output_tokens=1000, fast=True, as_of=dt.date(2026, 11, 25))
    assert estimate(fast, table=table, overrides=half).mode("realtime").total_usd == 1000 * D(40) * D("0.5") / MTOK
    tier = Workload(model="claude-haiku-5-5", requests=1, unique_input_tokens=100_001, as_of=dt.date(2026, 11, 25))
    expected = 100_001 * D("0.50") * D("0.5") / MTOK
    assert estimate(tier, table=table, overrides=half).mode("realtime").total_usd == expected


def test_a_rate_the_public_table_lacks_is_not_invented(table: PriceTable) -> None:
    # Prompt caching did not exist on 2024-05-01: Claude 3 Opus had no cache price to replace.
    overrides = parse_overrides(
        "overrides:\n  - model: claude-3-opus-20240229\n    effective_from: 2024-03-01\n"
        "    rates: {input_mtok: 12, cache_read_mtok: 1}\n",
        source_name="old.yaml",
        table=table,
    )
    workload = Workload(model="claude-3-opus-20240229", requests=1, unique_input_tokens=1000, as_of=dt.date(2024, 5, 1))
    result = estimate(workload, table=table, overrides=overrides)
    assert result.mode("realtime").total_usd == 1000 * D(12) / MTOK
    assert not result.mode("realtime_cached").available
    assert result.negotiated is not None and "not applied: cache_read_mtok" in result.negotiated.applied[0]


def test_every_output_says_negotiated_rates_were_applied(agreement: NegotiatedRates, table: PriceTable) -> None:
    result = estimate(_sonnet("2026-04-01"), table=table, overrides=agreement)
    payload = estimate_to_dict(result)
    assert payload["negotiated_rates"]["note"].startswith("negotiated rates from agreement.yaml applied: ")
    assert "claude-sonnet-4-6: 20% off every token rate, from 2026-03-01 until 2026-06-30" in payload["price_basis"]
    assert any(w.code == "negotiated_rates" for w in result.warnings)
    none_apply = estimate(_sonnet("2026-02-01"), table=table, overrides=agreement)
    assert none_apply.negotiated is not None and "none apply" in none_apply.negotiated.sentence
    assert estimate(_sonnet("2026-04-01"), table=table).negotiated is None


def test_compare_budget_and_the_dry_run_take_them(agreement: NegotiatedRates, table: PriceTable) -> None:
    workload = _sonnet("2026-04-01")
    (sonnet,) = compare_models(workload, ["claude-sonnet-4-6"], table=table, overrides=agreement)
    assert sonnet.cheapest_total_usd == D("7.2")  # batch, 20% off: (1,000 × 1.50 + 1,000 × 7.50) × 0.8 per 1,000
    per_request = budget(workload, "14.4", table=table, overrides=agreement)[0]
    assert per_request.per_request_usd == D("0.0144") and per_request.max_requests == 1000
    negotiated = apply_overrides(table, agreement)
    day = dt.date(2026, 4, 1)
    public = analyze_batch_file(FIXTURES / "valid.jsonl", as_of=day, output_tokens=100, table=table)
    discounted = analyze_batch_file(FIXTURES / "valid.jsonl", as_of=day, output_tokens=100, table=negotiated)
    for mode in ("realtime", "batch"):
        before, after = public.total(mode).expected_usd, discounted.total(mode).expected_usd
        assert before is not None and after == before * D("0.80")


def test_the_cli_takes_overrides_on_estimate_compare_and_budget(tmp_path: Path) -> None:
    path = tmp_path / "agreement.yaml"
    path.write_text(AGREEMENT, encoding="utf-8")
    flags = ["--model", "claude-sonnet-4-6", "--input-tokens", "1000", "--output-tokens", "1000", "--as-of",
             "2026-04-01", "--overrides", str(path)]  # fmt: skip
    for argv in (["estimate", *flags], ["compare", *flags, "--models", "claude-sonnet-4-6"],
                 ["budget", "--budget-usd", "1", *flags]):  # fmt: skip
        out, err = io.StringIO(), io.StringIO()
        assert main(argv, stdout=out, stderr=err) == 0, err.getvalue()
        assert "egotiated rates from agreement.yaml" in out.getvalue(), argv
    out = io.StringIO()
    main(["estimate", *flags, "--requests", "1000", "--format", "json"], stdout=out)
    assert json.loads(out.getvalue())["modes"]["realtime"]["total_usd"] == "14.4"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "overrides:\n  - model: claude-sonet-9\n    effective_from: 2026-01-01\n    discount: 0.1\n",
            "o.yaml:2: Unknown model 'claude-sonet-9'",
        ),
        (
            "overrides:\n  - model: claude-sonnet-4-6\n    effective_from: 2026-01-01\n    discount: 15\n",
            "o.yaml:4: discount must be a fraction from 0 up to (not including) 1 (write 0.15 for 15%)",
        ),
        (
            "overrides:\n  - model: claude-sonnet-4-6\n    effective_from: 2026-01-01\n    discount: 0.1\n"
            "    rates: {input_mtok: 1}\n",
            "o.yaml:2: a rule gives either a discount or explicit rates",
        ),
        (
            "overrides:\n  - model: claude-sonnet-4-6\n    effective_from: 2026-01-01\n    discount: {inputs: 0.1}\n",
            "o.yaml:4: unknown field 'inputs' in discount",
        ),
        (
            "overrides:\n  - model: claude-sonnet-4-6\n    effective_from: 2026-01-01\n    rates: {input_mtok: -1}\n",
            "o.yaml:4: rates.input_mtok must be a price above 0",
        ),
        (
            "overrides:\n  - model: claude-sonnet-4-6\n    effective_from: 2026-13-01\n    discount: 0.1\n",
            "o.yaml:3: '2026-13-01' is not a date",
        ),
        (
            "overrides:\n  - model: claude-sonnet-4-6\n    effective_from: 2026-06-01\n"
            "    effective_until: 2026-01-01\n    discount: 0.1\n",
            "o.yaml:4: effective_until 2026-01-01 is before effective_from 2026-06-01",
        ),
        (
            "overrides:\n  - model: claude-sonnet-4-6\n    effective_from: 2026-01-01\n    discount: 0.1\n"
            "  - model: Claude Sonnet 4.6\n    effective_from: 2026-05-01\n    discount: 0.2\n",
            "o.yaml:5: the rule for claude-sonnet-4-6 overlaps the one on line 2",
        ),
        (
            "overrides:\n  - model: claude-sonnet-4-6\n    effective_from: 2026-01-01\n    discount: .nan\n",
            "o.yaml:4: '.nan' is not a decimal number",
        ),
        (
            "overrides:\n  - model: claude-sonnet-4-6\n    effective_from: 2026-01-01\n    discount: 0x10\n",
            "o.yaml:4: '0x10' is not a plain decimal number",
        ),
        (
            "overrides:\n  - &r {model: claude-sonnet-4-6, effective_from: 2026-01-01, discount: 0.1}\n  - *r\n",
            "o.yaml:2: YAML aliases",
        ),
        ("overrides:\n  - model: claude-sonnet-4-6\n    model: claude-opus-5\n", "o.yaml:3: duplicate key 'model'"),
        (
            "overrides:\n  - model: claude-sonnet-4-6\n    effective_from: 2026-01-01\n    discount: 0.1\n"
            "    vat: 0.2\n",
            "o.yaml:5: unknown field 'vat' in a rule",
        ),
        ("overrides: []\n", "o.yaml:1: 'overrides' must be a non-empty list"),
        ("- 1\n- 2\n", "o.yaml:1: expected a mapping"),
        ("overrides:\n  - [1, 2\n", "o.yaml:3: invalid YAML"),
        ("", "o.yaml: the file is empty"),
        ("overrides:\n" + "  - " * 40 + "x\n", "nested more than 16 levels"),
    ],
)
def test_bad_files_give_one_line_naming_the_line(text: str, message: str, table: PriceTable) -> None:
    with pytest.raises(OverridesError) as caught:
        parse_overrides(text, source_name="o.yaml", table=table)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_special_large_and_binary_files_are_refused(tmp_path: Path, table: PriceTable) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for path, message in (
        (fifo, "FIFO"),
        (tmp_path, "directory"),
        (tmp_path / "missing.yaml", "cannot read"),
    ):
        with pytest.raises(OverridesError, match=message):
            load_overrides(path, table=table)
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (MAX_OVERRIDES_BYTES + 1))
    with pytest.raises(OverridesError, match="too large"):
        load_overrides(big, table=table)
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\x00\xff")
    with pytest.raises(OverridesError, match="binary"):
        load_overrides(binary, table=table)
    out, err = io.StringIO(), io.StringIO()
    code = main(["estimate", "--model", "claude-sonnet-4-6", "--overrides", str(fifo)], stdout=out, stderr=err)
    assert code == 2 and err.getvalue().startswith("error: ") and err.getvalue().count("\n") == 1
