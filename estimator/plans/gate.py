"""The cost gate: price a plan, hold it to its budgets and to a baseline, and say why the cost moved.

Verdict: a plan fails when a workload or the total costs more than its budget, or when, against a
baseline lock, a workload or the total rose by more than the allowed increase. Everything is compared
in the plan's period (see `estimator.plans.limits` for the conventions).

Attribution against a baseline is exact, per workload, with old = the locked cost and new = today's:

    new − old = [cost(old workload, new prices) − old]  +  [new − cost(old workload, new prices)]
                 └──────────── prices changed ────────┘     └────────── workload changed ──────────┘

"New prices" are the table in use on the check's date, so a price row that took effect since the lock
(or an edited table) is a price change, never "you changed". The old workload is the one stored in the
lock. When the old workload cannot be priced again (a batch file or usage export that has since changed:
the lock keeps only its digest), the same split is taken the other way round, through
cost(new workload, old prices), priced on the lock's date; when neither is possible the change is
reported as unattributed rather than guessed. Named with it: the rate changes between the two dates
(`pricing.diff`), the rows edited in the table, and the workload fields that differ.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Context, Decimal, localcontext
from fractions import Fraction
from typing import Literal

from estimator.costs import EXACT
from estimator.errors import EstimatorError
from estimator.format import format_usd
from estimator.plans.costing import (
    PricedPlan,
    PricedWorkload,
    choose_mode,
    estimate_modes,
    price_plan,
    price_row,
    price_workload,
    rules_of,
)
from estimator.plans.limits import Budget, IncreaseLimit, Period, convert, convert_exact, parse_increase
from estimator.plans.loading import load_plan
from estimator.plans.lock import CostLock, LockedWorkload, read_lock
from estimator.plans.plan import Plan, PlanWorkload, WorkloadKind
from estimator.version import __version__
from estimator.workload import workload_from
from pricing import PriceTable, PricingError, load_price_table
from pricing.diff import RateChange, diff_dates

__all__ = ["Attribution", "PlanCheck", "WorkloadChange", "WorkloadCheck", "check_plan", "check_priced"]

_RATIO = Context(prec=28)


@dataclass(frozen=True)
class WorkloadChange:
    """One workload against the baseline, in the plan's period: `change_usd` = `price_effect_usd` +
    `workload_effect_usd` + `unattributed_usd`, exactly."""

    name: str
    old_usd: Decimal | None
    new_usd: Decimal | None
    price_effect_usd: Decimal
    workload_effect_usd: Decimal
    unattributed_usd: Decimal = Decimal(0)
    workload_changes: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    limit: IncreaseLimit | None = None
    within_limit: bool = True

    @property
    def status(self) -> Literal["added", "removed", "changed", "unchanged"]:
        if self.old_usd is None:
            return "added"
        if self.new_usd is None:
            return "removed"
        return "changed" if self.new_usd != self.old_usd or self.workload_changes else "unchanged"

    @property
    def change_usd(self) -> Decimal:
        with localcontext(EXACT):
            return (self.new_usd or Decimal(0)) - (self.old_usd or Decimal(0))

    @property
    def change_pct(self) -> Decimal | None:
        return _percent(self.change_usd, self.old_usd)


@dataclass(frozen=True)
class WorkloadCheck:
    name: str
    kind: WorkloadKind
    line: int
    description: str | None
    period: Period
    mode_setting: str
    mode: str
    model_ids: tuple[str, ...]
    cost_usd: Decimal
    """Per the workload's own period, in `mode`; exact."""
    plan_period_usd: Decimal
    """The same, per the plan's period."""
    modes: tuple[tuple[str, Decimal | None], ...]
    budget: Budget | None
    within_budget: bool
    change: WorkloadChange | None
    warnings: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return self.within_budget and (self.change is None or self.change.within_limit)

    def _cost_per(self, period: Period) -> str:
        own = f"{format_usd(self.cost_usd)} per {self.period}"
        if period == self.period:
            return own
        return f"{format_usd(convert(self.cost_usd, self.period, period))} per {period} ({own})"

    @property
    def failures(self) -> tuple[str, ...]:
        found = []
        if not self.within_budget and self.budget is not None:
            found.append(f"over budget: costs {self._cost_per(self.budget.period)}, budget {self.budget.describe()}")
        if self.change is not None and not self.change.within_limit and self.change.limit is not None:
            found.append(f"rose beyond {self.change.limit.describe()}: {_change_text(self.change)}")
        return tuple(found)


@dataclass(frozen=True)
class Attribution:
    """The whole plan against its baseline, per the plan's period."""

    old_total_usd: Decimal
    new_total_usd: Decimal
    price_effect_usd: Decimal
    workload_effect_usd: Decimal
    unattributed_usd: Decimal
    price_changes: tuple[RateChange, ...]
    price_notes: tuple[str, ...]
    workload_changes: tuple[str, ...]
    removed: tuple[WorkloadChange, ...]
    limit: IncreaseLimit | None
    within_limit: bool
    baseline_reason: str
    baseline_created: dt.date
    baseline_as_of: dt.date
    baseline_table_checked: dt.date
    baseline_package_version: str

    @property
    def change_usd(self) -> Decimal:
        with localcontext(EXACT):
            return self.new_total_usd - self.old_total_usd

    @property
    def change_pct(self) -> Decimal | None:
        return _percent(self.change_usd, self.old_total_usd)


@dataclass(frozen=True)
class PlanCheck:
    """The gate's verdict on a plan: `exit_code` is 0 when it passes, 1 when it does not."""

    plan_source: str
    as_of: dt.date
    table_source: str
    table_checked: dt.date
    period: Period
    workloads: tuple[WorkloadCheck, ...]
    total_usd: Decimal
    budget: Budget | None
    within_budget: bool
    attribution: Attribution | None
    warnings: tuple[str, ...]

    @property
    def passed(self) -> bool:
        total_ok = self.attribution is None or self.attribution.within_limit
        return self.within_budget and total_ok and all(item.passed for item in self.workloads)

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else 1

    @property
    def total_failures(self) -> tuple[str, ...]:
        found = []
        if not self.within_budget and self.budget is not None:
            total = format_usd(self.total_usd)
            found.append(f"over budget: {total} per {self.period}, budget {self.budget.describe()}")
        attribution = self.attribution
        if attribution is not None and not attribution.within_limit and attribution.limit is not None:
            found.append(
                f"rose beyond {attribution.limit.describe()}: {format_usd(attribution.old_total_usd)} → "
                f"{format_usd(attribution.new_total_usd)} per {self.period} ({_signed_pct(attribution.change_pct)})"
            )
        return tuple(found)

    @property
    def failures(self) -> tuple[str, ...]:
        """Every failed check, one line each: `name: what` for workloads, `total: what` for the plan."""
        found = [f"{item.name}: {failure}" for item in self.workloads for failure in item.failures]
        return (*found, *(f"total: {failure}" for failure in self.total_failures))

    def workload(self, name: str) -> WorkloadCheck:
        return next(item for item in self.workloads if item.name == name)


def check_plan(
    plan: Plan | str | os.PathLike[str],
    *,
    as_of: dt.date | None = None,
    baseline: CostLock | str | os.PathLike[str] | None = None,
    max_increase: str | IncreaseLimit | None = None,
    max_workload_increase: str | IncreaseLimit | None = None,
    table: PriceTable | None = None,
) -> PlanCheck:
    """Price the plan as of `as_of` (default today) and hold it to its budgets and, given a baseline lock,
    to the allowed increases (arguments override the plan's own `max_increase` settings)."""
    table = table or load_price_table()
    loaded = plan if isinstance(plan, Plan) else load_plan(plan, table=table)
    locked = baseline if isinstance(baseline, CostLock | None) else read_lock(baseline)
    priced = price_plan(loaded, as_of=as_of, table=table)
    return check_priced(
        priced,
        table=table,
        baseline=locked,
        max_increase=_limit(max_increase, "max_increase"),
        max_workload_increase=_limit(max_workload_increase, "max_workload_increase"),
    )


def _limit(value: str | IncreaseLimit | None, name: str) -> IncreaseLimit | None:
    if value is None or isinstance(value, IncreaseLimit):
        return value
    return parse_increase(value, name)


def check_priced(
    priced: PricedPlan,
    *,
    table: PriceTable,
    baseline: CostLock | None = None,
    max_increase: IncreaseLimit | None = None,
    max_workload_increase: IncreaseLimit | None = None,
) -> PlanCheck:
    plan = priced.plan
    changes: dict[str, WorkloadChange] = {}
    attribution = None
    if baseline is not None:
        total_limit = max_increase or plan.max_increase
        workload_limit = max_workload_increase or plan.max_workload_increase
        attribution, changes = _attribute(priced, baseline, table, total_limit, workload_limit)
    checks = tuple(_workload_check(item, plan, changes.get(item.name)) for item in priced.workloads)
    with localcontext(EXACT):
        total = sum((item.plan_period_usd for item in checks), Decimal(0))
    exact_total = sum((convert_exact(item.cost_usd, item.period, plan.period) for item in checks), Fraction(0))
    warnings = tuple(f"{item.name}: {warning}" for item in priced.workloads for warning in item.warnings)
    if baseline is not None and baseline.package_version != __version__:
        warnings += (f"the baseline was written by version {baseline.package_version}, this is {__version__}",)
    return PlanCheck(
        plan_source=plan.source_name,
        as_of=priced.as_of,
        table_source=priced.table_source,
        table_checked=priced.table_checked,
        period=plan.period,
        workloads=checks,
        total_usd=total,
        budget=plan.budget,
        within_budget=plan.budget is None or plan.budget.allows(exact_total, plan.period),
        attribution=attribution,
        warnings=warnings,
    )


def _workload_check(item: PricedWorkload, plan: Plan, change: WorkloadChange | None) -> WorkloadCheck:
    entry = plan.workload(item.name)
    return WorkloadCheck(
        name=item.name,
        kind=item.kind,
        line=item.line,
        description=entry.description,
        period=item.period,
        mode_setting=item.mode_setting,
        mode=item.mode,
        model_ids=item.model_ids,
        cost_usd=item.cost_usd,
        plan_period_usd=convert(item.cost_usd, item.period, plan.period),
        modes=item.modes,
        budget=entry.budget,
        within_budget=entry.budget is None or entry.budget.allows(item.cost_usd, item.period),
        change=change,
        warnings=item.warnings,
    )


# --- attribution --------------------------------------------------------------------------------------


def _attribute(
    priced: PricedPlan,
    baseline: CostLock,
    table: PriceTable,
    total_limit: IncreaseLimit | None,
    workload_limit: IncreaseLimit | None,
) -> tuple[Attribution, dict[str, WorkloadChange]]:
    plan = priced.plan
    changes: dict[str, WorkloadChange] = {}
    for item in priced.workloads:
        old = baseline.workload(item.name)
        entry = plan.workload(item.name)
        if old is None:
            new_usd = convert(item.cost_usd, item.period, plan.period)
            added = WorkloadChange(item.name, None, new_usd, Decimal(0), new_usd, workload_changes=("added",))
            changes[item.name] = added
            continue
        limit = entry.max_increase or workload_limit
        changes[item.name] = _workload_change(item, entry, old, priced, baseline, table, limit)
    removed = tuple(
        _removed(old, plan.period) for old in baseline.workloads if old.name not in {w.name for w in priced.workloads}
    )
    every = [*changes.values(), *removed]
    with localcontext(EXACT):
        old_total = sum((c.old_usd or Decimal(0) for c in every), Decimal(0))
        new_total = sum((c.new_usd or Decimal(0) for c in every), Decimal(0))
        price_effect = sum((c.price_effect_usd for c in every), Decimal(0))
        workload_effect = sum((c.workload_effect_usd for c in every), Decimal(0))
        unattributed = sum((c.unattributed_usd for c in every), Decimal(0))
    old_exact = sum((convert_exact(old.cost_usd, old.period, plan.period) for old in baseline.workloads), Fraction(0))
    new_exact = sum((convert_exact(w.cost_usd, w.period, plan.period) for w in priced.workloads), Fraction(0))
    model_ids = sorted({model_id for old in baseline.workloads for model_id in old.model_ids})
    rate_changes, price_notes = _price_changes(baseline, table, priced.as_of, model_ids)
    described = [f"{c.name}: {'; '.join(c.workload_changes)}" for c in every if c.workload_changes]
    notes = [f"{c.name}: {note}" for c in every for note in c.notes]
    attribution = Attribution(
        old_total_usd=old_total,
        new_total_usd=new_total,
        price_effect_usd=price_effect,
        workload_effect_usd=workload_effect,
        unattributed_usd=unattributed,
        price_changes=rate_changes,
        price_notes=(*price_notes, *notes),
        workload_changes=tuple(described),
        removed=removed,
        limit=total_limit,
        within_limit=total_limit is None or total_limit.allows(old_exact, new_exact),
        baseline_reason=baseline.reason,
        baseline_created=baseline.created,
        baseline_as_of=baseline.as_of,
        baseline_table_checked=baseline.table_checked,
        baseline_package_version=baseline.package_version,
    )
    return attribution, changes


def _removed(old: LockedWorkload, period: Period) -> WorkloadChange:
    old_usd = convert(old.cost_usd, old.period, period)
    with localcontext(EXACT):
        return WorkloadChange(old.name, old_usd, None, Decimal(0), -old_usd, workload_changes=("removed",))


def _workload_change(
    item: PricedWorkload,
    entry: PlanWorkload,
    old: LockedWorkload,
    priced: PricedPlan,
    baseline: CostLock,
    table: PriceTable,
    limit: IncreaseLimit | None,
) -> WorkloadChange:
    period = priced.plan.period
    old_usd = convert(old.cost_usd, old.period, period)
    new_usd = convert(item.cost_usd, item.period, period)
    described = _identity_changes(old, item)
    notes: list[str] = []
    if old.mode_setting == item.mode_setting == "cheapest" and old.mode != item.mode:
        notes.append(f"the cheapest mode is now {item.mode} (was {old.mode})")
    within = limit is None or limit.allows(
        convert_exact(old.cost_usd, old.period, period), convert_exact(item.cost_usd, item.period, period)
    )
    unattributed = Decimal(0)
    middle: Decimal | None = new_usd  # the same workload: every cent of the change is the prices'
    forward = True
    if described:
        middle, forward, reason = _middle(item, entry, old, priced, baseline, table)
        if middle is None:
            notes.append(f"the change cannot be split between prices and workload: {reason}")
    with localcontext(EXACT):
        if middle is None:
            price_effect = workload_effect = Decimal(0)
            unattributed = new_usd - old_usd
        elif forward:  # middle = cost(old workload, new prices)
            price_effect, workload_effect = middle - old_usd, new_usd - middle
        else:  # middle = cost(new workload, old prices)
            price_effect, workload_effect = new_usd - middle, middle - old_usd
    return WorkloadChange(
        name=item.name,
        old_usd=old_usd,
        new_usd=new_usd,
        price_effect_usd=price_effect,
        workload_effect_usd=workload_effect,
        unattributed_usd=unattributed,
        workload_changes=tuple(described),
        notes=tuple(notes),
        limit=limit,
        within_limit=within,
    )


def _middle(
    item: PricedWorkload,
    entry: PlanWorkload,
    old: LockedWorkload,
    priced: PricedPlan,
    baseline: CostLock,
    table: PriceTable,
) -> tuple[Decimal | None, bool, str]:
    """cost(old workload, new prices) when the lock can rebuild the old workload (forward = True);
    otherwise cost(new workload, old prices) when the table still holds the lock's prices (False)."""
    period = priced.plan.period
    if old.kind == "workload":
        try:
            cost = _reprice_locked(old, priced.as_of, table)
        except (EstimatorError, PricingError) as error:
            return None, True, f"the locked workload cannot be priced today ({error})"
        return convert(cost, old.period, period), True, ""
    if not _table_holds_lock_prices(baseline, table, (*old.model_ids, *item.model_ids)):
        return None, False, "the price table no longer holds the prices the lock was made with"
    try:
        then = price_workload(entry, priced.plan, as_of=baseline.as_of, table=table)
    except (EstimatorError, PricingError) as error:
        return None, False, f"the workload cannot be priced as of {baseline.as_of} ({error})"
    return convert(then.cost_usd, then.period, period), False, ""


def _reprice_locked(old: LockedWorkload, as_of: dt.date, table: PriceTable) -> Decimal:
    """The locked workload of figures, priced on `as_of` in the mode it chose by (its own setting)."""
    from estimator.costs import estimate

    fields = {key: value for key, value in old.identity if key != "mode"}
    workload = workload_from(**fields, as_of=as_of)
    modes, reasons = estimate_modes(estimate(workload, table=table))
    mode = choose_mode(modes, old.mode_setting, reasons)
    return dict(modes)[mode] or Decimal(0)


def _table_holds_lock_prices(baseline: CostLock, table: PriceTable, model_ids: Iterable[str]) -> bool:
    try:
        for model_id in set(model_ids):
            stored = baseline.price_row(model_id)
            if stored is not None and stored != price_row(table, model_id, baseline.as_of):
                return False
    except PricingError:
        return False
    return dict(baseline.rules) == dict(rules_of(table))


def _identity_changes(old: LockedWorkload, item: PricedWorkload) -> list[str]:
    if old.kind != item.kind:
        return [f"kind {old.kind} → {item.kind}"]
    before, after = dict(old.identity), dict(item.identity)
    found = []
    for key in [*before, *(k for k in after if k not in before)]:
        if before.get(key) != after.get(key):
            if key == "sha256":
                old_digest, new_digest = str(before.get(key))[:12], str(after.get(key))[:12]
                found.append(f"file content changed (sha256 {old_digest}… → {new_digest}…)")
            else:
                found.append(f"{key} {_shown(before.get(key))} → {_shown(after.get(key))}")
    if old.mode_setting != item.mode_setting and "mode" not in before:
        found.append(f"mode {old.mode_setting} → {item.mode_setting}")
    return found


def _shown(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value).replace("\n", ", ")


def _price_changes(
    baseline: CostLock, table: PriceTable, as_of: dt.date, model_ids: Sequence[str]
) -> tuple[tuple[RateChange, ...], list[str]]:
    """The rate changes that reach the locked workloads' models: between the two dates (from the table's
    history, `pricing.diff.diff_dates`), or, where the table was edited since, between the stored row
    and today's."""
    notes: list[str] = []
    if baseline.as_of != as_of:
        notes.append(f"prices as of {baseline.as_of} → {as_of}")
    if baseline.table_checked != table.checked:
        notes.append(f"price table checked {baseline.table_checked} → {table.checked}")
    dated = diff_dates(table, baseline.as_of, as_of).rate_changes if baseline.as_of != as_of else ()
    changes: list[RateChange] = []
    for model_id in model_ids:
        stored = baseline.price_row(model_id)
        if stored is None:
            continue
        try:
            then, now = price_row(table, model_id, baseline.as_of), price_row(table, model_id, as_of)
        except PricingError:
            notes.append(f"{model_id} is no longer in the price table")
            continue
        if stored.effective_from != now.effective_from:
            notes.append(f"{model_id}: prices from {stored.effective_from} → prices from {now.effective_from}")
        if stored == then:
            changes += [change for change in dated if change.model_id == model_id]
            continue
        notes.append(f"{model_id}: the price table's row from {stored.effective_from} was edited since the lock")
        before, after = stored.as_dict(), now.as_dict()
        for field in [*before, *(f for f in after if f not in before)]:
            if before.get(field) != after.get(field):
                changes.append(RateChange(model_id, "table edited", field, before.get(field), after.get(field)))
    for name, new_value in rules_of(table):
        old_value = dict(baseline.rules).get(name)
        if old_value != new_value:
            changes.append(RateChange("rules", "table rules", name, old_value, new_value))
    return tuple(changes), notes


def _percent(part: Decimal, whole: Decimal | None) -> Decimal | None:
    if whole is None or whole == 0:
        return None
    with localcontext(_RATIO):
        return part * 100 / whole


def _signed_pct(value: Decimal | None) -> str:
    if value is None:
        return "new"
    return f"{value:+.1f}%"


def _change_text(change: WorkloadChange) -> str:
    return f"{format_usd(change.old_usd)} → {format_usd(change.new_usd)} ({_signed_pct(change.change_pct)})"
