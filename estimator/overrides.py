"""Negotiated rates: a user's own overrides file, applied on top of the public price table.

The file is YAML:

    name: Acme agreement 2026                  # optional
    overrides:
      - model: claude-sonnet-4-6               # an id, alias or name; "*" for every model
        effective_from: 2026-01-01
        effective_until: 2026-12-31            # optional: the last day it applies
        discount: 0.15                         # 15% off every token rate, in every mode
      - model: claude-opus-5
        effective_from: 2026-07-24
        discount: {output: 0.25, input: 0.10}  # per category
      - model: claude-haiku-4-5
        effective_from: 2026-03-01
        rates: {input_mtok: 0.80, output_mtok: 4, batch_input_mtok: 0.40}   # explicit per-MTok rates

How a rule applies (`apply_overrides` returns a price table whose rows carry them, so everything that takes
`table=` prices with them: `estimate`, `compare_models`, `budget`, the dry run, actual costs):

- A **discount** (a fraction below 1) multiplies a category's rates by (1 − discount): the standard and batch
  rates, the prompt-length tiers and fast mode. Categories: `input`, `output` (thinking is billed as output),
  `cache_write_5m`, `cache_write_1h`, `cache_read`; a single number means all of them.
- **Explicit rates** replace exactly the named rates (`RATE_FIELDS`: `input_mtok` … `batch_cache_read_mtok`) of
  the model's base row where the public row has them; the tiers and fast mode keep their public rates, and a
  rate the public table does not publish is not invented (the estimate's note says it was not applied).
- Web search and code execution keep their list prices (they are table-wide, not per model).
- Dates split the model's price periods: before `effective_from` and after `effective_until` the public prices
  apply. On any day a rule naming the model wins over a `*` rule; two rules of the same kind that overlap are
  an error naming both lines.

Loading is strict: a regular file of at most `MAX_OVERRIDES_BYTES`, numbers read as Decimal from their text, no
floats, aliases, duplicate keys or unknown fields; every problem is one `OverridesError` naming the file and line.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import weakref
from dataclasses import dataclass, field
from decimal import Context, Decimal, Inexact, InvalidOperation, localcontext
from pathlib import Path
from typing import Any

from estimator.errors import EstimatorError
from estimator.format import decimal_text, format_percent
from estimator.results import NegotiatedTerms
from pricing import (
    RATE_FIELDS,
    FastRates,
    Model,
    PricePeriod,
    PriceTable,
    PricingError,
    PromptTier,
    RateSet,
    UnknownModelError,
    load_price_table,
)
from pricing.loader import decode_text, read_regular_file

__all__ = [
    "DISCOUNT_CATEGORIES",
    "MAX_OVERRIDES_BYTES",
    "NegotiatedPriceTable",
    "NegotiatedRates",
    "OverrideRule",
    "OverridesError",
    "apply_overrides",
    "load_overrides",
    "negotiated_terms",
    "parse_overrides",
]

MAX_OVERRIDES_BYTES = 1_000_000
"""An agreement's rates fit in a few KB; a file this large is the wrong file."""
MAX_RULES = 10_000
_MAX_DEPTH = 16
_MAX_NUMBER_CHARACTERS = 40
_MAX_MODEL_NAME = 200
_MAX_RATE = Decimal(10) ** 6
_MAX_PLACES = 15
DISCOUNT_CATEGORIES = ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read")
ALL_MODELS = "*"
_EXACT = Context(prec=80, traps=[Inexact, InvalidOperation])
_TOP_KEYS = {"name", "note", "overrides"}
_RULE_KEYS = {"model", "effective_from", "effective_until", "discount", "rates", "note"}


class OverridesError(EstimatorError):
    """An overrides file that cannot be used; the message names the file and the line."""


@dataclass(frozen=True)
class OverrideRule:
    """One rule of an overrides file: a discount per category, or explicit per-MTok rates, over a period."""

    line: int
    model_id: str | None
    """None: every model (`*`)."""
    effective_from: dt.date
    effective_until: dt.date | None
    discounts: tuple[tuple[str, Decimal], ...] = ()
    rates: tuple[tuple[str, Decimal], ...] = ()

    def covers(self, day: dt.date) -> bool:
        return self.effective_from <= day and (self.effective_until is None or day <= self.effective_until)

    @property
    def end_exclusive(self) -> dt.date | None:
        return None if self.effective_until is None else self.effective_until + dt.timedelta(days=1)

    def discount(self, category: str) -> Decimal | None:
        return dict(self.discounts).get(category)

    def describe(self, skipped: tuple[str, ...] = ()) -> str:
        """The rule in words, e.g. 'claude-sonnet-4-6: 15% off every token rate (from 2026-01-01)'."""
        who = "every model" if self.model_id is None else self.model_id
        if self.discounts:
            values = {value for _, value in self.discounts}
            if len(self.discounts) == len(DISCOUNT_CATEGORIES) and len(values) == 1:
                what = f"{_percent(next(iter(values)))} off every token rate"
            else:
                what = ", ".join(f"{_percent(value)} off {category}" for category, value in self.discounts)
        else:
            what = ", ".join(f"{name} {decimal_text(value)}" for name, value in self.rates) + " (explicit rates)"
        until = f" until {self.effective_until}" if self.effective_until else ""
        not_applied = f"; not in the public table, so not applied: {', '.join(skipped)}" if skipped else ""
        return f"{who}: {what}, from {self.effective_from}{until}{not_applied}"


@dataclass(frozen=True)
class NegotiatedRates:
    """The rules of one overrides file, with the file's name (as outputs quote it)."""

    source_name: str
    rules: tuple[OverrideRule, ...]
    name: str | None = None

    def rule_for(self, model_id: str, day: dt.date) -> OverrideRule | None:
        """The rule in force for `model_id` on `day`: one naming the model wins over a `*` rule."""
        found = [rule for rule in self.rules if rule.model_id in (model_id, None) and rule.covers(day)]
        found.sort(key=lambda rule: rule.model_id is None)
        return found[0] if found else None


class NegotiatedPriceTable(PriceTable):
    """The public table with negotiated rates applied; `public` is the table they were applied to."""

    def __init__(self, public: PriceTable, negotiated: NegotiatedRates) -> None:
        models = tuple(_model_with_overrides(model, negotiated) for model in public.models)
        super().__init__(public.data.model_copy(update={"models": models}), source_name=public.source_name)
        self.public = public
        self.negotiated = negotiated

    def __repr__(self) -> str:
        return f"NegotiatedPriceTable({self.source_name!r} + {self.negotiated.source_name!r})"


_APPLIED: weakref.WeakKeyDictionary[PriceTable, dict[NegotiatedRates, NegotiatedPriceTable]] = (
    weakref.WeakKeyDictionary()
)


def apply_overrides(table: PriceTable, negotiated: NegotiatedRates) -> NegotiatedPriceTable:
    """`table` with the negotiated rates applied (cached per table and file: the app asks again on every rerun)."""
    if isinstance(table, NegotiatedPriceTable):
        table = table.public  # one agreement at a time: applying a second replaces the first
    cache = _APPLIED.setdefault(table, {})
    applied = cache.get(negotiated)
    if applied is None:
        if len(cache) >= 16:
            cache.clear()
        applied = cache[negotiated] = NegotiatedPriceTable(table, negotiated)
    return applied


def negotiated_terms(table: PriceTable, model_id: str, day: dt.date) -> NegotiatedTerms | None:
    """What the table's negotiated rates change for `model_id` on `day`, in words (None for a public table)."""
    if not isinstance(table, NegotiatedPriceTable):
        return None
    rule = table.negotiated.rule_for(model_id, day)
    if rule is None:
        return NegotiatedTerms(table.negotiated.source_name, ())
    skipped: tuple[str, ...] = ()
    if rule.rates:
        public = table.public.model(model_id).launch_period_as_of(day)
        skipped = tuple(name for name, _ in rule.rates if public.rate(name) is None)
    return NegotiatedTerms(table.negotiated.source_name, (rule.describe(skipped),))


# --- applying --------------------------------------------------------------------------------------


def _model_with_overrides(model: Model, negotiated: NegotiatedRates) -> Model:
    """The model with its price periods split at the rules' dates and each segment's rates adjusted."""
    rules = [rule for rule in negotiated.rules if rule.model_id in (model.id, None)]
    periods = model.periods_in_effect
    if not rules or not periods:
        return model
    first = periods[0].effective_from
    starts = {period.effective_from for period in periods}
    for rule in rules:
        starts.add(max(first, rule.effective_from))
        end = rule.end_exclusive
        if end is not None and end > first:
            starts.add(end)
    segments = []
    for start in sorted(starts):
        base = next(period for period in reversed(periods) if period.effective_from <= start)
        in_force = negotiated.rule_for(model.id, start)
        adjusted = base if in_force is None else _adjusted_period(base, in_force)
        segments.append(
            adjusted if adjusted.effective_from == start else adjusted.model_copy(update={"effective_from": start})
        )
    cancelled = tuple(period for period in model.prices if period.status != "in_effect")
    return model.model_copy(update={"prices": (*segments, *cancelled)})


def _adjusted_period(period: PricePeriod, rule: OverrideRule) -> PricePeriod:
    with localcontext(_EXACT):
        update: dict[str, Any] = _discounted(period, RATE_FIELDS, rule)
        if rule.discounts:
            update["tiers"] = tuple(_discounted_row(tier, rule) for tier in period.tiers)
            if period.fast is not None:
                update["fast"] = period.fast.model_copy(update=_discounted(period.fast, _FAST_FIELDS, rule))
        replaced = [name for name, _ in rule.rates if period.rate(name) is not None]
        update.update({name: value for name, value in rule.rates if name in replaced})
        if replaced:  # the user's figure replaces a third-party or derived reading: its flag no longer applies
            update["third_party"] = tuple(f for f in period.third_party if f not in replaced)
            update["derived"] = tuple(f for f in period.derived if f not in replaced)
    return period.model_copy(update=update)


_FAST_FIELDS = ("input_mtok", "output_mtok", "cache_write_5m_mtok", "cache_write_1h_mtok", "cache_read_mtok")


def _discounted_row(row: PromptTier, rule: OverrideRule) -> PromptTier:
    return row.model_copy(update=_discounted(row, RATE_FIELDS, rule))


def _discounted(row: RateSet | FastRates, fields: tuple[str, ...], rule: OverrideRule) -> dict[str, Any]:
    """Each rate the row has, times (1 − its category's discount); inside the exact context."""
    update: dict[str, Any] = {}
    for name in fields:
        value = row.rate(name)
        discount = rule.discount(name.removeprefix("batch_").removesuffix("_mtok"))
        if value is not None and discount:
            update[name] = value * (1 - discount)
    return update


def _percent(fraction: Decimal) -> str:
    return format_percent(fraction * 100)


# --- loading ---------------------------------------------------------------------------------------


def load_overrides(path: str | os.PathLike[str], *, table: PriceTable | None = None) -> NegotiatedRates:
    """Read an overrides file (see the module docstring); models are checked against `table` (default: the
    shipped one). Every problem is one `OverridesError` naming the file and the line."""
    name = os.fspath(path)
    try:
        text = decode_text(read_regular_file(name, limit=MAX_OVERRIDES_BYTES, what="overrides file"), name,
                           what="overrides file")  # fmt: skip
    except PricingError as error:
        raise OverridesError(str(error)) from None
    return parse_overrides(text, source_name=Path(name).name, table=table)


def parse_overrides(text: str, *, source_name: str = "<overrides>", table: PriceTable | None = None) -> NegotiatedRates:
    """The same, from YAML text; `source_name` is what messages and outputs call the file."""
    root = _Reader(source_name).document(text)
    reader = _RuleReader(source_name, table or load_price_table())
    if not isinstance(root, _Map):
        raise OverridesError(f"{source_name}:1: expected a mapping with an 'overrides' list")
    reader.no_unknown(root, _TOP_KEYS, "the file")
    items = root.get("overrides")
    if not isinstance(items, _Seq) or not items:
        raise OverridesError(
            f"{source_name}:{root.line_of('overrides')}: 'overrides' must be a non-empty list of rules"
        )
    if len(items) > MAX_RULES:
        raise OverridesError(f"{source_name}:{items.line}: more than {MAX_RULES:,} rules; not an agreement")
    rules = tuple(reader.rule(item, items.lines[index]) for index, item in enumerate(items))
    _check_overlaps(rules, source_name)
    name = root.get("name")
    if name is not None and not isinstance(name, str):
        raise OverridesError(f"{source_name}:{root.line_of('name')}: name must be text")
    return NegotiatedRates(source_name, rules, name)


def _check_overlaps(rules: tuple[OverrideRule, ...], source_name: str) -> None:
    for index, rule in enumerate(rules):
        for other in rules[:index]:
            if other.model_id != rule.model_id:
                continue
            ends = [r.effective_until or dt.date.max for r in (rule, other)]
            if rule.effective_from <= ends[1] and other.effective_from <= ends[0]:
                who = "every model" if rule.model_id is None else rule.model_id
                raise OverridesError(
                    f"{source_name}:{rule.line}: the rule for {who} overlaps the one on line {other.line}; on any day "
                    "one rule per model applies (end the first with effective_until)"
                )


class _RuleReader:
    def __init__(self, source_name: str, table: PriceTable) -> None:
        self.source_name = source_name
        self.table = table

    def fail(self, line: int, message: str) -> OverridesError:
        return OverridesError(f"{self.source_name}:{line}: {message}")

    def no_unknown(self, mapping: _Map, allowed: set[str], where: str) -> None:
        for key in mapping:
            if key not in allowed:
                raise self.fail(
                    mapping.line_of(key),
                    f"unknown field {str(key)[:40]!r} in {where}; expected: {', '.join(sorted(allowed))}",
                )

    def rule(self, item: object, line: int) -> OverrideRule:
        if not isinstance(item, _Map):
            raise self.fail(line, "each rule must be a mapping with model, effective_from and a discount or rates")
        self.no_unknown(item, _RULE_KEYS, "a rule")
        for required in ("model", "effective_from"):
            if required not in item:
                raise self.fail(line, f"the rule has no {required}")
        if ("discount" in item) == ("rates" in item):
            raise self.fail(line, "a rule gives either a discount or explicit rates (one of them)")
        model_id = self.model(item["model"], item.line_of("model"))
        start = self.date(item["effective_from"], item.line_of("effective_from"), "effective_from")
        until = None
        if item.get("effective_until") is not None:
            until = self.date(item["effective_until"], item.line_of("effective_until"), "effective_until")
            if until < start:
                raise self.fail(
                    item.line_of("effective_until"), f"effective_until {until} is before effective_from {start}"
                )
        if "discount" in item:
            discounts = self.discounts(item["discount"], item.line_of("discount"))
            return OverrideRule(line, model_id, start, until, discounts=discounts)
        return OverrideRule(line, model_id, start, until, rates=self.rates(item["rates"], item.line_of("rates")))

    def model(self, value: object, line: int) -> str | None:
        if not isinstance(value, str) or not value.strip() or len(value) > _MAX_MODEL_NAME:
            raise self.fail(line, "model must be a model id, alias or name (or '*' for every model)")
        if value.strip() == ALL_MODELS:
            return None
        try:
            return self.table.model(value).id
        except UnknownModelError as error:
            raise self.fail(line, str(error)) from None

    def date(self, value: object, line: int, name: str) -> dt.date:
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        if isinstance(value, str):  # a quoted date
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError:
                pass
        raise self.fail(line, f"{name} must be a date (YYYY-MM-DD), got {_shown(value)}")

    def discounts(self, value: object, line: int) -> tuple[tuple[str, Decimal], ...]:
        if isinstance(value, _Map):
            self.no_unknown(value, set(DISCOUNT_CATEGORIES), "discount")
            if not value:
                raise self.fail(line, "discount names no category")
            return tuple(
                (category, self.fraction(value[category], value.line_of(category), f"discount.{category}"))
                for category in DISCOUNT_CATEGORIES
                if category in value
            )
        fraction = self.fraction(value, line, "discount")
        return tuple((category, fraction) for category in DISCOUNT_CATEGORIES)

    def fraction(self, value: object, line: int, name: str) -> Decimal:
        number = self.number(value, line, name)
        if number < 0 or number >= 1:
            hint = f" (write {number / 100} for {decimal_text(number)}%)" if 1 < number < 100 else ""
            raise self.fail(
                line, f"{name} must be a fraction from 0 up to (not including) 1{hint}, got {_shown(value)}"
            )
        return number

    def rates(self, value: object, line: int) -> tuple[tuple[str, Decimal], ...]:
        if not isinstance(value, _Map) or not value:
            raise self.fail(
                line,
                f"rates must map rate names to USD per MTok, e.g. {{input_mtok: 2.4}}; names: {', '.join(RATE_FIELDS)}",
            )
        self.no_unknown(value, set(RATE_FIELDS), "rates")
        result = []
        for name in RATE_FIELDS:
            if name in value:
                rate = self.number(value[name], value.line_of(name), f"rates.{name}")
                if rate <= 0 or rate > _MAX_RATE:
                    raise self.fail(
                        value.line_of(name),
                        f"rates.{name} must be a price above 0 (USD per MTok), got {_shown(value[name])}",
                    )
                result.append((name, rate))
        return tuple(result)

    def number(self, value: object, line: int, name: str) -> Decimal:
        if not isinstance(value, Decimal) or not value.is_finite():
            raise self.fail(line, f"{name} must be a number, got {_shown(value)}")
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and -exponent > _MAX_PLACES:
            raise self.fail(line, f"{name} has more than {_MAX_PLACES} decimal places")
        return value


def _shown(value: object) -> str:
    text = repr(value) if not isinstance(value, Decimal) else decimal_text(value) or "?"
    return text if len(text) <= 40 else text[:30] + "…"


# --- a strict YAML reader that keeps line numbers ---------------------------------------------------


class _Map(dict[str, Any]):
    """A mapping that remembers its line and each key's line."""

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.lines: dict[str, int] = {}

    def line_of(self, key: str) -> int:
        return self.lines.get(key, self.line)


class _Seq(list[Any]):
    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.lines: list[int] = []


_INT = re.compile(r"[-+]?[0-9][0-9_]*")
_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")


@dataclass
class _Reader:
    source_name: str
    seen: set[int] = field(default_factory=set)

    def fail(self, node: Any, message: str) -> OverridesError:
        return OverridesError(f"{self.source_name}:{node.start_mark.line + 1}: {message}")

    def document(self, text: str) -> object:
        import yaml  # loaded on first use: `import estimator` stays light

        loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        try:
            node = yaml.compose(text, Loader=loader_class)
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            line = f":{mark.line + 1}" if mark is not None else ""
            raise OverridesError(
                f"{self.source_name}{line}: invalid YAML: {' '.join(str(error.problem).split())}"
            ) from None
        except yaml.YAMLError as error:
            raise OverridesError(f"{self.source_name}: invalid YAML: {' '.join(str(error).split())}") from None
        except RecursionError:
            raise OverridesError(f"{self.source_name}: invalid YAML: nested too deeply") from None
        if node is None:
            raise OverridesError(f"{self.source_name}: the file is empty; expected an 'overrides' list")
        return self.value(node, 1)

    def value(self, node: Any, depth: int) -> object:
        import yaml

        if depth > _MAX_DEPTH:
            raise self.fail(node, f"nested more than {_MAX_DEPTH} levels deep; an overrides file nests four")
        if id(node) in self.seen:
            raise self.fail(node, "YAML aliases (*name) are not accepted in an overrides file; write the value out")
        self.seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, depth)
        if isinstance(node, yaml.SequenceNode):
            items = _Seq(node.start_mark.line + 1)
            for child in node.value:
                items.lines.append(child.start_mark.line + 1)
                items.append(self.value(child, depth + 1))
            return items
        return self.scalar(node)

    def mapping(self, node: Any, depth: int) -> _Map:
        import yaml

        result = _Map(node.start_mark.line + 1)
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                raise self.fail(key_node, "a key must be a plain name (no lists, mappings or merges as keys)")
            key = str(key_node.value)
            if key in result:
                raise self.fail(key_node, f"duplicate key {key[:40]!r} (the later value would silently win)")
            result.lines[key] = key_node.start_mark.line + 1
            result[key] = self.value(value_node, depth + 1)
        return result

    def scalar(self, node: Any) -> object:
        text, tag = str(node.value), node.tag
        if tag in _NUMBER_TAGS:
            return self.number(node, text)
        if tag == "tag:yaml.org,2002:timestamp":
            try:
                return dt.date.fromisoformat(text.strip())
            except ValueError:
                raise self.fail(node, f"{text[:40]!r} is not a date (YYYY-MM-DD, no time)") from None
        if tag == "tag:yaml.org,2002:bool":
            return text.lower() in ("true", "yes", "on")
        if tag == "tag:yaml.org,2002:null":
            return None
        return text

    def number(self, node: Any, text: str) -> Decimal:
        cleaned = text.replace("_", "")
        if len(cleaned) > _MAX_NUMBER_CHARACTERS:
            raise self.fail(node, f"a number of {len(cleaned):,} characters is not a rate")
        if node.tag.endswith(":int") and not _INT.fullmatch(text):
            raise self.fail(node, f"{text!r} is not a plain decimal number (octal, hex and base 60 are refused)")
        try:
            number = Decimal(cleaned)
        except InvalidOperation:
            raise self.fail(node, f"{text!r} is not a decimal number") from None
        if not number.is_finite() or abs(number.adjusted()) > 15:
            raise self.fail(node, f"{text!r} is not a usable number")
        return number
