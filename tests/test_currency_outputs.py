"""Totals in another currency on `estimate`, `compare` and `conversation`: USD stays exact, the converted figure
is USD × the rate of the estimate's own as-of date (the newest on or before it).

The workload is the README's (Sonnet 4.6, 1,000 requests of 8,000 input and 1,000 output tokens): $39 in
real-time at prices.yaml's $3 / $15 per MTok, $16.22625 in batch + caching at 85% hits.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Context, localcontext
from decimal import Decimal as D
from pathlib import Path

import pytest

from estimator.cli import main
from estimator.currency import (
    ExchangeRateError,
    convert_figures,
    format_money,
    load_exchange_rates,
    parse_exchange_rates,
)

RATES = "date,currency,per_usd\n2026-10-01,EUR,0.9150\n2026-11-02,EUR,0.9231\n2026-11-02,GBP,0.7702\n"
DOC = [
    "--model", "claude-sonnet-4-6", "--requests", "1000", "--prefix-tokens", "3000",
    "--input-tokens", "5000", "--output-tokens", "1000", "--hit-rate", "0.85",
]  # fmt: skip


@pytest.fixture
def rates_file(tmp_path: Path) -> Path:
    path = tmp_path / "fx.csv"
    path.write_text(RATES, encoding="utf-8")
    return path


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(
    ("as_of", "rate_date", "rate"),
    [("2026-10-15", "2026-10-01", "0.9150"), ("2026-11-25", "2026-11-02", "0.9231")],
)
def test_an_estimate_converts_at_the_rate_of_its_own_date(
    rates_file: Path, as_of: str, rate_date: str, rate: str
) -> None:
    code, out, err = _run("estimate", *DOC, "--as-of", as_of, "--currency", "EUR", "--fx-rates", str(rates_file),
                          "--format", "json")  # fmt: skip
    assert code == 0, err
    payload = json.loads(out)
    block = payload["currency"]
    assert (block["code"], block["rate_per_usd"], block["rate_date"], block["for_date"]) == (
        "EUR", str(D(rate).normalize()), rate_date, as_of,
    )  # fmt: skip
    assert payload["modes"]["realtime"]["total_usd"] == "39"  # USD stays the exact base
    assert D(block["amounts"]["realtime"]["total"]) == D(39) * D(rate)
    assert D(block["amounts"]["batch_cached"]["total"]) == D("16.22625") * D(rate)
    assert D(block["amounts"]["realtime"]["per_request"]) == D("0.039") * D(rate)


def test_the_text_shows_the_converted_total_and_its_rate(rates_file: Path) -> None:
    code, out, _ = _run("estimate", *DOC, "--as-of", "2026-10-15", "--currency", "eur", "--fx-rates", str(rates_file))
    assert code == 0
    assert "Total EUR" in out and "35.69 EUR" in out  # 39 × 0.9150 = 35.685
    assert "EUR at 0.9150 per USD, the rate of 2026-10-01 in fx.csv; USD stays the exact base." in out


def test_compare_and_conversation_convert_too(rates_file: Path) -> None:
    fx = ["--currency", "GBP", "--fx-rates", str(rates_file), "--as-of", "2026-11-25", "--format", "json"]
    code, out, _ = _run("compare", *DOC, "--models", "claude-sonnet-4-6,claude-haiku-4-5", *fx)
    assert code == 0
    block = json.loads(out)["currency"]
    assert D(block["amounts"]["claude-sonnet-4-6"]["realtime"]) == D(39) * D("0.7702")
    code, out, _ = _run(
        "conversation", "--model", "claude-sonnet-5", "--turns", "20", "--prefix-tokens", "10000",
        "--input-tokens-per-turn", "200", "--output-tokens-per-turn", "500", *fx,
    )  # fmt: skip
    assert code == 0
    payload = json.loads(out)
    assert D(payload["currency"]["amounts"]["realtime"]["per_conversation"]) == D("0.774") * D("0.7702")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--currency", "EUR"], "needs both --currency and --fx-rates; add --fx-rates FILE"),
        (["--currency", "JPY", "--fx-rates", "{fx}"], "no rates for 'JPY'"),
        (["--currency", "EURO" * 1000, "--fx-rates", "{fx}"], "--currency must be a three-letter code"),
        (["--currency", "EUR", "--fx-rates", "{fx}", "--as-of", "2026-09-30"], "no EUR rate on or before 2026-09-30"),
    ],
)
def test_missing_or_uncovered_rates_are_one_line_errors(rates_file: Path, extra: list[str], message: str) -> None:
    code, _, err = _run("estimate", *DOC, *[part.replace("{fx}", str(rates_file)) for part in extra])
    assert code == 2 and message in err and err.count("\n") == 1


def test_conversion_is_exact_for_long_amounts(rates_file: Path) -> None:
    rates = load_exchange_rates(rates_file)
    amount = D("123456789012345.123456789012345")  # 30 digits: past the default 28-digit context
    converted = convert_figures(rates, "EUR", dt.date(2026, 12, 1), {("x",): amount, ("none",): None})
    with localcontext(Context(prec=80)):
        exact = amount * D("0.9231")
    assert converted.amount("x") == exact == D("113962961937295.7834629619372956695")  # 34 digits, none dropped
    assert converted.amount("none") is None
    assert rates.convert(amount, "EUR", dt.date(2026, 12, 1)).amount == converted.amount("x")
    assert format_money(D("1234.567"), "EUR") == "1,234.57 EUR" and format_money(None, "EUR") == "—"


def test_rates_read_from_text_and_a_giant_field_is_one_error() -> None:
    rates = parse_exchange_rates(RATES, source_name="upload.csv")
    assert rates.source_name == "upload.csv" and rates.rate_on("EUR", dt.date(2026, 10, 31)) == (
        dt.date(2026, 10, 1), D("0.9150"),
    )  # fmt: skip
    with pytest.raises(ExchangeRateError, match=r"upload\.csv:2: not CSV rates") as caught:
        parse_exchange_rates("date,currency,per_usd\n2026-01-01,EUR," + "9" * 200_000 + "\n", source_name="upload.csv")
    assert "\n" not in str(caught.value)
