"""Numbers for people, and exact numbers for machines. The only place money is rounded: for display.

format_usd(Decimal("1234567.891")) -> "$1.23M"       format_usd(Decimal("0.0041625")) -> "$0.00416"
decimal_text(Decimal("16.22625000")) -> "16.22625"   (exact, never in exponent notation)
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

__all__ = ["count_noun", "decimal_text", "format_percent", "format_tokens", "format_usd"]

_SUFFIXES = ((Decimal(10) ** 12, "T"), (Decimal(10) ** 9, "B"), (Decimal(10) ** 6, "M"))


def decimal_text(value: Decimal | None) -> str | None:
    """The exact value as plain text without needless trailing zeros (for JSON and CSV)."""
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def format_usd(value: Decimal | None) -> str:
    """Dollars for reading: $1.23M, $12,346, $45.00, $0.0162, $0.00042 (3 significant digits below $1)."""
    if value is None:
        return "—"
    sign = "−" if value < 0 else ""
    amount = abs(value)
    if amount == 0:
        return "$0"
    for size, suffix in _SUFFIXES:
        if amount >= size:
            return f"{sign}${_significant(amount / size, 3)}{suffix}"
    if amount >= 100_000:
        return f"{sign}${amount.quantize(Decimal(1), rounding=ROUND_HALF_UP):,}"
    if amount >= 1:
        return f"{sign}${amount.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,}"
    return f"{sign}${_small(amount)}"


def _significant(value: Decimal, digits: int) -> str:
    exponent = value.adjusted() - digits + 1
    rounded = value.quantize(Decimal(1).scaleb(exponent), rounding=ROUND_HALF_UP)
    text = format(rounded, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _small(amount: Decimal) -> str:
    """Below $1: three significant digits, at least two decimals ($0.50, $0.039, $0.0162)."""
    text = _significant(amount, 3)
    if "." not in text:
        return f"{text}.00"
    decimals = len(text.split(".")[1])
    return text + "0" * max(0, 2 - decimals)


def format_tokens(value: int | Decimal) -> str:
    """1,234,567 — fractional expected counts keep one decimal."""
    if isinstance(value, Decimal) and value != value.to_integral_value():
        return f"{value.quantize(Decimal('0.1'), rounding=ROUND_HALF_UP):,}"
    return f"{int(value):,}"


def count_noun(count: int, noun: str, many: str | None = None) -> str:
    """A count with its noun, for reading: '1 error', '2 errors', '1 batch', '3 batches', '12,500 requests'."""
    return f"{count:,} {noun if count == 1 else (many or noun + 's')}"


def format_percent(value: Decimal | None) -> str:
    """A percentage for reading: 85%, 21.7%, −3.2%."""
    if value is None:
        return "—"
    rounded = value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    text = format(rounded, "f")
    text = text[:-2] if text.endswith(".0") else text
    return text.replace("-", "−") + "%"
