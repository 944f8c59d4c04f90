"""The user's own terms: negotiated rates (an overrides file) and another currency (an exchange-rate file).

Pure functions, no Streamlit: an upload's bytes read into the estimator's records, with the same limits and
one-line errors as the CLI's `--overrides` and `--fx-rates`; a set of USD figures converted at the rate of
their date (`estimator.currency.convert_figures`, exact); the converted figures as a table. USD stays the
exact base everywhere; a converted amount is for reading.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from estimator.costs import Estimate
from estimator.currency import (
    MAX_RATES_FILE_BYTES,
    Converted,
    ExchangeRateError,
    ExchangeRates,
    convert_figures,
    parse_exchange_rates,
)
from estimator.overrides import MAX_OVERRIDES_BYTES, NegotiatedRates, OverridesError, parse_overrides
from estimator.workload import MODES, Mode
from pricing import PriceTable
from ui.columns import Cell, Column, Table, display_number, money_column, money_decimals, text_column
from ui.labels import MODE_LABELS, NOT_PRICED

__all__ = [
    "Currency",
    "convert_modes",
    "convert_plan",
    "converted_table",
    "currency_code",
    "rate_note",
    "read_exchange_rates",
    "read_overrides",
]

_CODE = re.compile(r"[A-Za-z]{3}")


@dataclass(frozen=True)
class Currency:
    """An exchange-rate file and the currency to show (both needed; either alone converts nothing)."""

    rates: ExchangeRates
    code: str


def read_overrides(name: str, data: bytes, *, table: PriceTable) -> NegotiatedRates:
    """An uploaded overrides file, checked as `--overrides` checks one (size, UTF-8, YAML, models, dates)."""
    if len(data) > MAX_OVERRIDES_BYTES:
        raise OverridesError(f"{name}: larger than {MAX_OVERRIDES_BYTES:,} bytes; is it an overrides file?")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise OverridesError(f"{name}: not UTF-8 text (byte {error.start})") from None
    return parse_overrides(text, source_name=name, table=table)


def read_exchange_rates(name: str, data: bytes) -> ExchangeRates:
    """An uploaded rates file (CSV `date,currency,per_usd`), checked as `--fx-rates` checks one."""
    if len(data) > MAX_RATES_FILE_BYTES:
        raise ExchangeRateError(f"{name}: larger than {MAX_RATES_FILE_BYTES // 1_000_000} MB: not a rates file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ExchangeRateError(f"{name}: not UTF-8 text (byte {error.start})") from None
    return parse_exchange_rates(text, source_name=name)


def currency_code(text: str, rates: ExchangeRates) -> str:
    """The typed code, upper-cased, if the file has rates for it; otherwise an error naming what it has."""
    code = text.strip().upper()
    if not _CODE.fullmatch(code):
        raise ExchangeRateError(f"the currency must be a three-letter code such as EUR, got {text.strip()[:20]!r}")
    rates.rate_on(code, dt.date.max)  # a currency the file lacks fails here, naming the ones it has
    return code


def convert_plan(result: Estimate, currency: Currency) -> Converted:
    """Each mode's total and cost per request, at the rate in force on the plan's as-of date (as the CLI's
    `estimate --currency` does); unpriced modes stay unpriced."""
    figures: dict[tuple[str, ...], Decimal | None] = {}
    for mode in result.modes:
        figures[(mode.mode, "total")] = mode.total_usd if mode.available else None
        figures[(mode.mode, "per_request")] = mode.per_request_usd if mode.available else None
    return convert_figures(currency.rates, currency.code, result.as_of, figures)


def convert_modes(
    totals: Mapping[Mode, Decimal | None], currency: Currency, day: dt.date, what: str = "total"
) -> Converted:
    """Any per-mode figures (a conversation's totals, say) at the rate of `day`."""
    return convert_figures(currency.rates, currency.code, day, {(mode, what): usd for mode, usd in totals.items()})


def converted_table(converted: Converted, usd: Mapping[Mode, Decimal | None], *, what: str = "total") -> Table:
    """One row per mode: the exact USD figure and the converted one, both rounded for reading."""
    amounts = {mode: converted.amount(mode, what) for mode in MODES if (mode, what) in dict(converted.amounts)}
    usd_places = money_decimals(usd.values())
    places = money_decimals(amounts.values())
    rows: list[dict[str, Cell]] = [
        {
            "Mode": MODE_LABELS[mode],
            "USD": display_number(usd.get(mode), usd_places),
            converted.currency: display_number(amount, places),
            "Note": "" if amount is not None else NOT_PRICED,
        }
        for mode, amount in amounts.items()
    ]
    columns = {
        "Mode": text_column(),
        "USD": money_column(usd_places, "The exact base, rounded for reading"),
        converted.currency: Column(
            "number", f"%,.{places}f", f"USD × {converted.rate_per_usd}, the rate of {converted.rate_date}", "small"
        ),
        "Note": text_column(),
    }
    if not any(row["Note"] for row in rows):
        del columns["Note"]
    return Table(rows, columns)


def rate_note(converted: Converted) -> str:
    """The rate a conversion used, in words."""
    return (
        f"{converted.currency} at {converted.rate_per_usd} per USD, the rate of {converted.rate_date} in "
        f"{converted.source_name} (the newest on or before {converted.day}); USD stays the exact base."
    )
