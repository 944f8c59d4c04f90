"""Exchange-rate files: conversion at the rate of each figure's date, exact, and bad files named by line."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path

import pytest

from estimator.currency import ExchangeRateError, load_exchange_rates

RATES = "date,currency,per_usd\n2026-10-01,EUR,0.9150\n2026-11-02,EUR,0.9231\n2026-11-02,GBP,0.7702\n"


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rates.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_total_converts_at_the_rate_of_its_own_date(tmp_path: Path) -> None:
    rates = load_exchange_rates(_file(tmp_path, RATES))
    october = rates.convert(Decimal("1234.5678"), "eur", dt.date(2026, 10, 15))
    november = rates.convert(Decimal("1234.5678"), "EUR", dt.date(2026, 11, 2))
    assert (october.rate_date, october.amount) == (dt.date(2026, 10, 1), Decimal("1234.5678") * Decimal("0.9150"))
    assert (november.rate_date, november.amount) == (dt.date(2026, 11, 2), Decimal("1234.5678") * Decimal("0.9231"))
    assert rates.currencies == ("EUR", "GBP")


def test_dates_and_currencies_the_file_does_not_cover_are_errors(tmp_path: Path) -> None:
    rates = load_exchange_rates(_file(tmp_path, RATES))
    with pytest.raises(ExchangeRateError, match="first is 2026-10-01"):
        rates.convert(Decimal(1), "EUR", dt.date(2026, 9, 30))
    with pytest.raises(ExchangeRateError, match="no rates for 'JPY'"):
        rates.convert(Decimal(1), "JPY", dt.date(2026, 11, 2))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("when,ccy,rate\n", "rates.csv:1: the header"),
        ("date,currency,per_usd\n2026-02-30,EUR,0.9\n", "rates.csv:2: date"),
        ("date,currency,per_usd\n2026-11-02,EURO,0.9\n", "rates.csv:2: currency"),
        ("date,currency,per_usd\n2026-11-02,EUR,NaN\n", "rates.csv:2: per_usd must be a positive"),
        ("date,currency,per_usd\n2026-11-02,EUR,-1\n", "rates.csv:2: per_usd must be a positive"),
        ("date,currency,per_usd\n2026-11-02,EUR,1e999999999\n", "rates.csv:2: per_usd must be a positive"),
        ("date,currency,per_usd\n2026-11-02,EUR," + "9" * 5000 + "\n", "rates.csv:2: per_usd is not a rate"),
        ("date,currency,per_usd\n2026-11-02,EUR,zero\n", "rates.csv:2: per_usd 'zero'"),
        ("date,currency,per_usd\n2026-11-02,EUR\n", "rates.csv:2: expected 3 columns"),
        ("date,currency,per_usd\n2026-11-02,EUR,0.9\n2026-11-02,EUR,0.8\n", "rates.csv:3: a second EUR rate"),
        ("date,currency,per_usd\n", "no rates in the file"),
    ],
)
def test_bad_files_give_one_line_naming_the_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ExchangeRateError) as caught:
        load_exchange_rates(_file(tmp_path, text))
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_special_files_are_refused_without_reading(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(ExchangeRateError, match="not a regular file"):
        load_exchange_rates(fifo)
    with pytest.raises(ExchangeRateError, match="not a regular file"):
        load_exchange_rates(tmp_path)
    with pytest.raises(ExchangeRateError, match="cannot read"):
        load_exchange_rates(tmp_path / "missing.csv")
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ExchangeRateError, match="not UTF-8"):
        load_exchange_rates(binary)
