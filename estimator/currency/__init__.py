"""Totals in another currency, from a user-supplied, dated exchange-rate file. USD stays the exact base.

The file is CSV with a header `date,currency,per_usd` (units of the currency that one US dollar buys on that
date), one row per date and currency, e.g. `2026-11-02,EUR,0.9231`. A figure dated D converts at the newest rate
on or before D, so historical totals keep the rate of their own date; a figure dated before the first rate is an
error, never a guess. The product of a Decimal amount and a Decimal rate is exact; rounding happens only for
display, like every other money figure.

`convert_figures` converts a set of USD figures named by paths (an estimate's modes, a comparison's models, a
conversation's modes) at the rate of the day they are for, and `Converted.to_dict` is the `"currency"` block of
the commands' JSON: the code, the rate, its date, the file, and the converted amounts beside the exact USD.
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import io
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Context, Decimal, Inexact, InvalidOperation, localcontext
from pathlib import Path
from typing import Any

from estimator.errors import EstimatorError
from estimator.format import decimal_text, format_usd
from pricing.files import NotRegularFileError, open_regular_file, read_bounded

__all__ = [
    "MAX_RATES_FILE_BYTES",
    "Converted",
    "ConvertedAmount",
    "ExchangeRateError",
    "ExchangeRates",
    "convert_figures",
    "format_money",
    "load_exchange_rates",
    "parse_exchange_rates",
]

_EXACT = Context(prec=80, traps=[Inexact, InvalidOperation])
"""An amount (at most ~30 digits) times a rate (at most 22): exact at 80 digits, and any rounding is an error."""

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
        with localcontext(_EXACT):
            amount = usd * rate
        return ConvertedAmount(usd, currency.upper(), amount, rate, rate_date)


@dataclass(frozen=True)
class Converted:
    """Named USD figures converted at the rate in force on `day` (the newest on or before it, from `rate_date`).
    An unpriced figure (None) stays None: a mode without a price has no price in any currency."""

    currency: str
    rate_per_usd: Decimal
    rate_date: dt.date
    day: dt.date
    source_name: str
    amounts: tuple[tuple[tuple[str, ...], Decimal | None], ...]

    def amount(self, *path: str) -> Decimal | None:
        return dict(self.amounts)[path]

    def to_dict(self) -> dict[str, Any]:
        """The JSON `"currency"` block; amounts are exact decimal strings, nested along their paths."""
        amounts: dict[str, Any] = {}
        for (*path, leaf), value in self.amounts:
            node = amounts
            for part in path:
                node = node.setdefault(part, {})
            node[leaf] = decimal_text(value)
        return {
            "code": self.currency,
            "rate_per_usd": decimal_text(self.rate_per_usd),
            "rate_date": self.rate_date.isoformat(),
            "for_date": self.day.isoformat(),
            "source": self.source_name,
            "note": f"USD stays the exact base; {self.currency} figures are USD × {decimal_text(self.rate_per_usd)}, "
            f"the rate of {self.rate_date} from {self.source_name}",
            "amounts": amounts,
        }


def convert_figures(
    rates: ExchangeRates, currency: str, day: dt.date, figures: Mapping[tuple[str, ...], Decimal | None]
) -> Converted:
    """Convert USD figures named by a path (e.g. `{("realtime", "total"): ...}`) at the rate of `day`; exact."""
    rate_date, rate = rates.rate_on(currency, day)
    with localcontext(_EXACT):
        amounts = tuple((name, None if usd is None else usd * rate) for name, usd in figures.items())
    return Converted(currency.upper(), rate, rate_date, day, rates.source_name, amounts)


def format_money(value: Decimal | None, currency: str) -> str:
    """An amount for reading in any currency, rounded as dollars are: 1.23M EUR, 1,234.57 EUR, 0.0162 EUR."""
    if value is None:
        return "—"
    return f"{format_usd(value).replace('$', '', 1)} {currency}"


def load_exchange_rates(path: str | os.PathLike[str]) -> ExchangeRates:
    """Read a rates file (see the module docstring); every problem is one error naming the line."""
    path = Path(path)
    return parse_exchange_rates(_read_regular_file(path), source_name=path.name)


def parse_exchange_rates(text: str, *, source_name: str = "<rates>") -> ExchangeRates:
    """The same from the file's text (an upload, say); `source_name` is what messages and outputs call it."""
    rows = csv.reader(io.StringIO(text))
    try:
        header = next(rows, None)
        if header is None or [cell.strip().lower() for cell in header] != ["date", "currency", "per_usd"]:
            raise ExchangeRateError(f"{source_name}:1: the header must be 'date,currency,per_usd'")
        series: dict[str, dict[dt.date, Decimal]] = {}
        for row in rows:
            line = rows.line_num
            if not row or all(not cell.strip() for cell in row):
                continue
            day, currency, rate = _parse_row(row, f"{source_name}:{line}")
            if day in series.setdefault(currency, {}):
                raise ExchangeRateError(f"{source_name}:{line}: a second {currency} rate for {day}")
            series[currency][day] = rate
    except csv.Error as error:  # e.g. a field past the csv module's size limit: not a rates file
        raise ExchangeRateError(f"{source_name}:{rows.line_num}: not CSV rates ({error})") from None
    if not series:
        raise ExchangeRateError(f"{source_name}: no rates in the file")
    return ExchangeRates(source_name, {c: tuple(sorted(days.items())) for c, days in series.items()})


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
        stream, _ = open_regular_file(path)  # never blocks on a FIFO (pricing.files)
    except NotRegularFileError as refused:
        raise ExchangeRateError(f"{path}: {refused.kind}, not a regular file: give an exchange-rate file") from None
    except OSError as error:
        raise ExchangeRateError(f"{path}: cannot read the exchange-rate file ({error.strerror})") from None
    try:
        with stream:
            data = read_bounded(stream, MAX_RATES_FILE_BYTES)  # bounded by what is read, not by st_size
    except OSError as error:
        raise ExchangeRateError(f"{path}: cannot read the exchange-rate file ({error.strerror})") from None
    if len(data) > MAX_RATES_FILE_BYTES:
        raise ExchangeRateError(f"{path}: larger than {MAX_RATES_FILE_BYTES // 1_000_000} MB: not a rates file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ExchangeRateError(f"{path}: not UTF-8 text (byte {error.start})") from None
