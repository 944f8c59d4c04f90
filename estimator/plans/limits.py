"""Periods, budgets and allowed increases: the rules a plan's costs are held to.

Periods are converted with a stated convention: a week is 7 days, a year 365.25 days (the mean Julian
year) and a month a twelfth of it, 30.4375 days. So $10 a day is $304.375 a month and $70 a week. A
"run" has no length (one pass of a batch job, one test run): it is never converted, so a plan totalled
per run holds only per-run workloads.

Conversions are computed as exact fractions. The result is an exact Decimal whenever it has a finite
decimal expansion — always, except when weeks are converted to months or years and the other way
round (a factor of 7 or 487 in the denominator); those are rounded to 28 significant digits. Verdicts
compare exact fractions, so rounding can never flip one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation, localcontext
from fractions import Fraction
from typing import Literal, get_args

from estimator.errors import EstimatorError, InvalidWorkloadError
from estimator.format import format_usd

__all__ = [
    "DAYS_PER_MONTH",
    "PERIOD_DAYS",
    "Budget",
    "IncreaseLimit",
    "Period",
    "convert",
    "convert_exact",
    "fraction_to_decimal",
    "parse_increase",
]

Period = Literal["run", "day", "week", "month", "year"]
PERIODS: tuple[Period, ...] = get_args(Period)

DAYS_PER_YEAR = Fraction(1461, 4)
DAYS_PER_MONTH = DAYS_PER_YEAR / 12
"""30.4375 days: a twelfth of the mean Julian year (365.25 days)."""

PERIOD_DAYS: dict[Period, Fraction] = {
    "day": Fraction(1),
    "week": Fraction(7),
    "month": DAYS_PER_MONTH,
    "year": DAYS_PER_YEAR,
}

MAX_USD = Decimal(10) ** 12
"""A trillion dollars per period is beyond any budget or allowed increase: larger values are typos."""

_ROUNDED = Context(prec=28, rounding=ROUND_HALF_EVEN)
_EXACT_DIVISION = Context(prec=120, traps=[InvalidOperation])


def convert_exact(amount: Decimal | Fraction, source: str, target: str) -> Fraction:
    """`amount` per `source` period, per `target` period, as an exact fraction."""
    if source == target:
        return Fraction(amount)
    if source == "run" or target == "run":
        raise EstimatorError(
            f"a cost per {source} cannot be expressed per {target}: a run has no length; "
            "give the workload's requests per day, week or month"
        )
    return Fraction(amount) * PERIOD_DAYS[target] / PERIOD_DAYS[source]  # type: ignore[index]


def convert(amount: Decimal, source: str, target: str) -> Decimal:
    """`amount` per `source` period, per `target` period (exact unless weeks meet months or years)."""
    return fraction_to_decimal(convert_exact(amount, source, target))


def fraction_to_decimal(value: Fraction) -> Decimal:
    """The exact Decimal when the fraction has a finite decimal expansion, else 28 significant digits."""
    denominator = value.denominator
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
    context = _EXACT_DIVISION if denominator == 1 else _ROUNDED
    with localcontext(context):
        return Decimal(value.numerator) / Decimal(value.denominator)


@dataclass(frozen=True)
class Budget:
    """At most `usd` per `period` (the cost may equal the budget; only more than it is over)."""

    usd: Decimal
    period: Period

    def allows(self, amount_usd: Decimal | Fraction, amount_period: str) -> bool:
        return convert_exact(amount_usd, amount_period, self.period) <= Fraction(self.usd)

    def describe(self) -> str:
        return f"{format_usd(self.usd)} per {self.period}"


@dataclass(frozen=True)
class IncreaseLimit:
    """How much a cost may rise over its baseline: a percentage of it, or dollars per period."""

    kind: Literal["percent", "usd"]
    amount: Decimal
    text: str

    def allows(self, old_usd: Decimal | Fraction, new_usd: Decimal | Fraction) -> bool:
        rise = Fraction(new_usd) - Fraction(old_usd)
        if self.kind == "usd":
            return rise <= Fraction(self.amount)
        return rise <= Fraction(old_usd) * Fraction(self.amount) / 100

    def describe(self) -> str:
        return f"+{self.amount}%" if self.kind == "percent" else f"+${self.amount}"


_NUMBER = r"[0-9][0-9_,]*(?:\.[0-9]+)?"
_PERCENT = re.compile(rf"^\+?\s*(?P<number>{_NUMBER})\s*%$")
_DOLLARS = re.compile(rf"^\+?\s*(?:\$\s*(?P<a>{_NUMBER})|(?P<b>{_NUMBER})\s*(?:\$|usd))$")


def parse_increase(text: object, name: str = "max_increase") -> IncreaseLimit:
    """`10%` (relative to the baseline) or `$5` / `5 USD` (absolute, per period); a bare number is refused
    because it could mean either."""
    if isinstance(text, bool) or not isinstance(text, str | int | Decimal):
        raise InvalidWorkloadError(f"{name} must be a text such as '10%' or '$5', got {text!r}", field=name)
    raw = str(text).strip().lower()
    percent, dollars = _PERCENT.match(raw), _DOLLARS.match(raw)
    if percent is None and dollars is None:
        raise InvalidWorkloadError(
            f"{name} must be a percentage such as '10%' or an amount such as '$5', got {text!r}", field=name
        )
    if percent is not None:
        kind: Literal["percent", "usd"] = "percent"
        digits = percent["number"]
    else:
        assert dollars is not None
        kind, digits = "usd", dollars["a"] or dollars["b"]
    amount = Decimal(digits.replace(",", "").replace("_", ""))
    if amount > MAX_USD:
        raise InvalidWorkloadError(f"{name} = {text} is beyond any real limit; a typo?", field=name)
    return IncreaseLimit(kind, amount, str(text).strip())
