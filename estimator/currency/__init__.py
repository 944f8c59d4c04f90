"""Totals in another currency, from a user-supplied, dated exchange-rate file. USD stays the exact base.

The file is CSV with a header `date,currency,per_usd` (units of the currency that one US dollar buys on that
date), one row per date and currency, e.g. `2026-11-02,EUR,0.9231`. A figure dated D converts at the newest rate
on or before D, so historical totals keep the rate of their own date; a figure dated before the first rate is an
error, never a guess. The product of a Decimal amount and a Decimal rate is exact; rounding happens only for
display, like every other money figure.
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import io
import os
import re
import stat
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from estimator.errors import EstimatorError

__all__ = ["MAX_RATES_FILE_BYTES", "ConvertedAmount", "ExchangeRateError", "ExchangeRates", "load_exchange_rates"]

MAX_RATES_FILE_BYTES = 20_000_000
"""Decades of daily rates for every currency fit in a few MB; anything larger is the wrong file."""
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_MAX_RATE = Decimal(10) ** 9
_MAX_PLACES = 12


class ExchangeRateError(EstimatorError):
    """An exchange-rate file that cannot be used, or a date or currency it does not cover."""


@dataclass(frozen=True)
class ConvertedAmount:
    usd: Decimal
    currency: str
    amount: Decimal
    rate_per_usd: Decimal
    rate_date: dt.date


@dataclass(frozen=True)
class ExchangeRates:
    """Rates per currency, sorted by date."""

    source_name: str
    rates: dict[str, tuple[tuple[dt.date, Decimal], ...]]

    @property
    def currencies(self) -> tuple[str, ...]:
        return tuple(sorted(self.rates))

    def rate_on(self, currency: str, day: dt.date) -> tuple[dt.date, Decimal]:
        """The newest rate on or before `day`, with its date."""
        series = self.rates.get(currency.upper())
        if series is None:
            known = ", ".join(self.currencies) or "none"
            raise ExchangeRateError(f"{self.source_name}: no rates for {currency!r} (the file has {known})")
        position = bisect.bisect_right([day for day, _ in series], day)
        if position == 0:
            raise ExchangeRateError(
                f"{self.source_name}: no {currency.upper()} rate on or before {day} (the first is {series[0][0]})"
            )
        return series[position - 1]

    def convert(self, usd: Decimal, currency: str, day: dt.date) -> ConvertedAmount:
        rate_date, rate = self.rate_on(currency, day)
        return ConvertedAmount(usd, currency.upper(), usd * rate, rate, rate_date)


def load_exchange_rates(path: str | os.PathLike[str]) -> ExchangeRates:
    """Read a rates file (see the module docstring); every problem is one error naming the line."""
    path = Path(path)
    text = _read_regular_file(path)
    rows = csv.reader(io.StringIO(text))
    header = next(rows, None)
    if header is None or [cell.strip().lower() for cell in header] != ["date", "currency", "per_usd"]:
        raise ExchangeRateError(f"{path.name}:1: the header must be 'date,currency,per_usd'")
    series: dict[str, dict[dt.date, Decimal]] = {}
    for line, row in enumerate(rows, start=2):
        if not row or all(not cell.strip() for cell in row):
            continue
        day, currency, rate = _parse_row(row, f"{path.name}:{line}")
        if day in series.setdefault(currency, {}):
            raise ExchangeRateError(f"{path.name}:{line}: a second {currency} rate for {day}")
        series[currency][day] = rate
    if not series:
        raise ExchangeRateError(f"{path.name}: no rates in the file")
    return ExchangeRates(path.name, {c: tuple(sorted(days.items())) for c, days in series.items()})


def _parse_row(row: list[str], where: str) -> tuple[dt.date, str, Decimal]:
    if len(row) != 3:
        raise ExchangeRateError(f"{where}: expected 3 columns (date, currency, per_usd), got {len(row)}")
    day_text, currency, rate_text = (cell.strip() for cell in row)
    try:
        day = dt.date.fromisoformat(day_text)
    except ValueError:
        raise ExchangeRateError(f"{where}: date {day_text[:40]!r} is not a date (YYYY-MM-DD)") from None
    currency = currency.upper()
    if not _CURRENCY.match(currency):
        raise ExchangeRateError(f"{where}: currency {currency[:40]!r} is not a three-letter code such as EUR")
    if len(rate_text) > 40:
        raise ExchangeRateError(f"{where}: per_usd is not a rate (too long)")
    try:
        rate = Decimal(rate_text)
    except InvalidOperation:
        raise ExchangeRateError(f"{where}: per_usd {rate_text!r} is not a number") from None
    if not rate.is_finite() or rate <= 0 or rate > _MAX_RATE:
        raise ExchangeRateError(f"{where}: per_usd must be a positive number, got {rate_text}")
    exponent = rate.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > _MAX_PLACES:
        raise ExchangeRateError(f"{where}: per_usd has more than {_MAX_PLACES} decimal places")
    return day, currency, rate


def _read_regular_file(path: Path) -> str:
    try:
        info = path.stat()
    except OSError as error:
        raise ExchangeRateError(f"{path}: cannot read the exchange-rate file ({error.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        raise ExchangeRateError(f"{path}: not a regular file (a FIFO, a device or a directory cannot be read)")
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_RATES_FILE_BYTES + 1)  # bounded by what is read, not by st_size
    except OSError as error:
        raise ExchangeRateError(f"{path}: cannot read the exchange-rate file ({error.strerror})") from None
    if len(data) > MAX_RATES_FILE_BYTES:
        raise ExchangeRateError(f"{path}: larger than {MAX_RATES_FILE_BYTES // 1_000_000} MB: not a rates file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ExchangeRateError(f"{path}: not UTF-8 text (byte {error.start})") from None
