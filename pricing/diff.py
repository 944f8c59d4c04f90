"""Differences between two price tables, or between two dates of one table, for reviewing price updates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, TypeVar

from pricing.schema import Model, PricePeriod, RateSet
from pricing.table import PriceTable

__all__ = ["RateChange", "TableDiff", "diff_dates", "diff_tables"]

Kind = Literal["added", "removed", "changed"]
K = TypeVar("K")


@dataclass(frozen=True)
class RateChange:
    """One rate that differs. `where` says which row: a period, a tier, fast mode or a multiplier."""

    model_id: str
    where: str
    field: str
    old_mtok: Decimal | None
    new_mtok: Decimal | None

    @property
    def change_pct(self) -> Decimal | None:
        """The relative change in percent, for a changed rate (a ratio, rounded to 28 digits)."""
        if self.old_mtok is None or self.new_mtok is None or self.old_mtok == 0:
            return None
        return (self.new_mtok - self.old_mtok) / self.old_mtok * 100

    @property
    def kind(self) -> Kind:
        if self.old_mtok is None:
            return "added"
        if self.new_mtok is None:
            return "removed"
        return "changed"


@dataclass(frozen=True)
class FieldChange:
    """A non-rate fact that differs (lifecycle, limits, status of a period, ...)."""

    model_id: str
    field: str
    old: str
    new: str


@dataclass(frozen=True)
class TableDiff:
    old_label: str
    new_label: str
    models_added: tuple[str, ...]
    models_removed: tuple[str, ...]
    rate_changes: tuple[RateChange, ...]
    field_changes: tuple[FieldChange, ...]

    @property
    def identical(self) -> bool:
        return not (self.models_added or self.models_removed or self.rate_changes or self.field_changes)

    def count(self, kind: Kind) -> int:
        return sum(1 for change in self.rate_changes if change.kind == kind)


def diff_tables(old: PriceTable, new: PriceTable) -> TableDiff:
    """Every rate and fact that differs between two tables, period by period and tier by tier."""
    old_models = {model.id: model for model in old.models}
    new_models = {model.id: model for model in new.models}
    rate_changes: list[RateChange] = []
    field_changes: list[FieldChange] = []
    for model_id in _union(old_models, new_models):
        before, after = old_models.get(model_id), new_models.get(model_id)
        rate_changes += _diff_history(model_id, before, after)
        if before is not None and after is not None:
            field_changes += _diff_facts(model_id, before, after)
    return TableDiff(
        old_label=old.source_name,
        new_label=new.source_name,
        models_added=tuple(m for m in new_models if m not in old_models),
        models_removed=tuple(m for m in old_models if m not in new_models),
        rate_changes=tuple(rate_changes),
        field_changes=tuple(field_changes),
    )


def diff_dates(table: PriceTable, old_day: dt.date, new_day: dt.date) -> TableDiff:
    """How the prices in effect on `old_day` differ from those in effect on `new_day`."""
    rate_changes: list[RateChange] = []
    added: list[str] = []
    removed: list[str] = []
    for model in table.models:
        before, after = model.period_as_of(old_day), model.period_as_of(new_day)
        if before is None and after is not None:
            added.append(model.id)
        elif before is not None and after is None:
            removed.append(model.id)
        rate_changes += _diff_period(model.id, "in effect", before, after)
    return TableDiff(
        old_label=f"{table.source_name} as of {old_day}",
        new_label=f"{table.source_name} as of {new_day}",
        models_added=tuple(added),
        models_removed=tuple(removed),
        rate_changes=tuple(rate_changes),
        field_changes=(),
    )


def _union(first: Mapping[K, Any], second: Mapping[K, Any]) -> list[K]:
    return list(first) + [key for key in second if key not in first]


def _diff_history(model_id: str, before: Model | None, after: Model | None) -> Iterator[RateChange]:
    old_periods = _periods_by_key(before)
    new_periods = _periods_by_key(after)
    for key in _union(old_periods, new_periods):
        where = f"prices from {key[0]}" + (" (cancelled)" if key[1] == "cancelled" else "")
        yield from _diff_period(model_id, where, old_periods.get(key), new_periods.get(key))


def _periods_by_key(model: Model | None) -> dict[tuple[dt.date, str], PricePeriod]:
    if model is None:
        return {}
    return {(period.effective_from, period.status): period for period in model.prices}


def _diff_period(
    model_id: str, where: str, before: PricePeriod | None, after: PricePeriod | None
) -> Iterator[RateChange]:
    yield from _diff_rates(model_id, where, before, after)
    old_tiers = {tier.above_prompt_tokens: tier for tier in (before.tiers if before else ())}
    new_tiers = {tier.above_prompt_tokens: tier for tier in (after.tiers if after else ())}
    for threshold in _union(old_tiers, new_tiers):
        tier_where = f"{where}, prompt > {threshold:,} tokens"
        yield from _diff_rates(model_id, tier_where, old_tiers.get(threshold), new_tiers.get(threshold))
    yield from _diff_values(model_id, f"{where}, fast mode", _fast(before), _fast(after))
    yield from _diff_values(model_id, f"{where}, cache multipliers", _multipliers(before), _multipliers(after))


def _diff_rates(model_id: str, where: str, before: RateSet | None, after: RateSet | None) -> Iterator[RateChange]:
    old_rates = before.rates() if before else {}
    new_rates = after.rates() if after else {}
    yield from _diff_values(model_id, where, old_rates, new_rates)


def _diff_values(
    model_id: str, where: str, old: Mapping[str, Decimal | None], new: Mapping[str, Decimal | None]
) -> Iterator[RateChange]:
    for field in _union(old, new):
        before, after = old.get(field), new.get(field)
        if before != after:
            yield RateChange(model_id, where, field, before, after)


def _fast(period: PricePeriod | None) -> dict[str, Decimal | None]:
    if period is None or period.fast is None:
        return {}
    return {f"fast_{field}": value for field, value in period.fast.rates().items()}


def _multipliers(period: PricePeriod | None) -> dict[str, Decimal | None]:
    if period is None or period.cache_multipliers is None:
        return {}
    m = period.cache_multipliers
    return {"write_5m": m.write_5m, "write_1h": m.write_1h, "read": m.read}


def _diff_facts(model_id: str, before: Model, after: Model) -> Iterator[FieldChange]:
    old = _flatten(before.model_dump(exclude={"prices"}))
    new = _flatten(after.model_dump(exclude={"prices"}))
    for field in _union(old, new):
        if old.get(field) != new.get(field):
            yield FieldChange(model_id, field, str(old.get(field, "—")), str(new.get(field, "—")))


def _flatten(value: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, item in value.items():
        name = f"{prefix}{key}"
        if isinstance(item, Mapping):
            flat.update(_flatten(item, f"{name}."))
        else:
            flat[name] = item
    return flat
