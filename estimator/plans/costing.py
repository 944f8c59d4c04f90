"""Price every workload of a plan on one date: each mode's exact cost, the mode used, the price rows read.

A workload of figures is priced by `estimator.estimate`; a batch file by its dry run (the expected
figure of its range); actual usage by `estimator.usage`. The mode is the plan's choice ("cheapest" picks
the lowest available mode on that date, so a price change can move it). Costs are per the workload's own
period and exact; `estimator.plans.limits` converts them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from estimator.costs import Estimate, estimate
from estimator.errors import EstimatorError
from estimator.plans.errors import PlanFileError
from estimator.plans.limits import Period
from estimator.plans.plan import Plan, PlanWorkload, WorkloadKind
from estimator.plans.sources import actual_costs_of, dry_run_batch_file
from estimator.workload import MODES, Workload
from pricing import PricePeriod, PriceTable, PricingError, load_price_table

__all__ = [
    "ACTUAL_MODE",
    "Identity",
    "PriceRow",
    "PricedPlan",
    "PricedWorkload",
    "choose_mode",
    "estimate_modes",
    "price_plan",
    "price_row",
    "price_workload",
    "rules_of",
    "workload_identity",
]

ACTUAL_MODE = "actual"
"""The one 'mode' of actual usage: whatever modes the records were billed in."""

IdentityValue = str | int | bool | None
Identity = tuple[tuple[str, IdentityValue], ...]
"""What a workload is, as JSON scalars (decimals as text): the lock keeps it, changes are read from it."""


@dataclass(frozen=True)
class PriceRow:
    """The price row of a model in effect on a date, flattened: every rate it holds, by name."""

    model_id: str
    effective_from: dt.date
    rates: tuple[tuple[str, Decimal], ...]

    def as_dict(self) -> dict[str, Decimal]:
        return dict(self.rates)


@dataclass(frozen=True)
class PricedWorkload:
    name: str
    kind: WorkloadKind
    line: int
    period: Period
    mode_setting: str
    mode: str
    cost_usd: Decimal
    """In `mode`, per `period`, exact."""
    modes: tuple[tuple[str, Decimal | None], ...]
    """Every mode's cost (None where the table publishes no price for it)."""
    model_ids: tuple[str, ...]
    identity: Identity
    warnings: tuple[str, ...] = ()

    def mode_cost(self, mode: str) -> Decimal | None:
        return dict(self.modes).get(mode)


@dataclass(frozen=True)
class PricedPlan:
    plan: Plan
    as_of: dt.date
    table_source: str
    table_checked: dt.date
    workloads: tuple[PricedWorkload, ...]
    price_rows: tuple[PriceRow, ...]
    rules: tuple[tuple[str, Decimal], ...]


def price_plan(plan: Plan, *, as_of: dt.date | None = None, table: PriceTable | None = None) -> PricedPlan:
    """Every workload priced as of `as_of` (default today) with the table (default the shipped one)."""
    table = table or load_price_table()
    day = as_of or dt.date.today()
    priced = tuple(price_workload(item, plan, as_of=day, table=table) for item in plan.workloads)
    model_ids = sorted({model_id for item in priced for model_id in item.model_ids})
    rows = tuple(price_row(table, model_id, day) for model_id in model_ids)
    return PricedPlan(plan, day, table.source_name, table.checked, priced, rows, rules_of(table))


def price_workload(item: PlanWorkload, plan: Plan, *, as_of: dt.date, table: PriceTable) -> PricedWorkload:
    """One workload priced; a failure names the plan's line (the workload's entry)."""
    try:
        if item.batch_file is not None:
            return _price_batch_file(item, as_of, table)
        if item.actuals is not None:
            return _price_actuals(item, as_of, table)
        if item.workload is None:
            raise EstimatorError("internal: a workload entry without figures")
        return price_figures(item.workload, item, as_of=as_of, table=table)
    except (EstimatorError, PricingError) as error:
        if isinstance(error, PlanFileError):
            raise
        raise PlanFileError(f"{plan.source_name}:{item.line}: workload {item.name!r}: {error}") from None


ModeCosts = tuple[tuple[str, Decimal | None], ...]


def price_figures(workload: Workload, item: PlanWorkload, *, as_of: dt.date, table: PriceTable) -> PricedWorkload:
    result = estimate(dataclasses.replace(workload, as_of=as_of), table=table)
    modes, reasons = estimate_modes(result)
    mode = choose_mode(modes, item.mode, reasons)
    warnings = [w.message for w in result.warnings if w.severity == "warning"]
    warnings += [f"{f.field} counted from {f.path}: {f.tokens:,} tokens, {f.detail}" for f in item.token_files]
    return PricedWorkload(
        name=item.name,
        kind="workload",
        line=item.line,
        period=item.period,
        mode_setting=item.mode,
        mode=mode,
        cost_usd=dict(modes)[mode] or Decimal(0),
        modes=modes,
        model_ids=(result.model_id,),
        identity=workload_identity(workload, item),
        warnings=tuple(warnings),
    )


def _price_batch_file(item: PlanWorkload, as_of: dt.date, table: PriceTable) -> PricedWorkload:
    ref = item.batch_file
    assert ref is not None
    result, digest = dry_run_batch_file(ref, as_of=as_of, table=table, what="batch file")
    if result.errors:
        first = result.errors[0]
        raise EstimatorError(
            f"{ref.path}: {len(result.errors):,} request(s) the Batches API would reject, first on line "
            f"{first.line}: {first.message} (`python -m estimator dry-run {ref.path}` lists them all)"
        )
    if result.requests == 0:
        raise EstimatorError(f"{ref.path}: the batch file holds no requests")
    modes: ModeCosts = tuple((str(t.mode), t.expected_usd if t.available else None) for t in result.totals)
    reasons = {str(t.mode): t.unavailable_reason for t in result.totals if not t.available}
    mode = choose_mode(modes, item.mode, reasons)
    identity: Identity = (
        ("batch_file", ref.path),
        ("sha256", digest),
        ("hit_rate", _text(ref.hit_rate)),
        ("output_ratio", _text(ref.output_ratio)),
        ("output_tokens", ref.output_tokens),
        ("period", item.period),
        ("mode", item.mode),
    )
    warnings = [f"{ref.path}: {note}" for note in result.notes]
    warnings.append(
        f"{ref.path}: {result.requests:,} requests, tokens counted offline; costs are the dry run's expected "
        f"figure ({result.output_assumption})"
    )
    return PricedWorkload(
        name=item.name,
        kind="batch_file",
        line=item.line,
        period=item.period,
        mode_setting=item.mode,
        mode=mode,
        cost_usd=dict(modes)[mode] or Decimal(0),
        modes=modes,
        model_ids=tuple(model.model_id for model in result.models),
        identity=identity,
        warnings=tuple(warnings),
    )


def _price_actuals(item: PlanWorkload, as_of: dt.date, table: PriceTable) -> PricedWorkload:
    ref = item.actuals
    assert ref is not None
    found = actual_costs_of(ref, as_of=as_of, table=table)
    identity: Identity = (
        ("actuals", "\n".join(ref.paths)),
        ("sha256", found.sha256),
        ("model", ref.model),
        ("period", item.period),
    )
    return PricedWorkload(
        name=item.name,
        kind="actuals",
        line=item.line,
        period=item.period,
        mode_setting=ACTUAL_MODE,
        mode=ACTUAL_MODE,
        cost_usd=found.total_usd,
        modes=((ACTUAL_MODE, found.total_usd),),
        model_ids=found.model_ids,
        identity=identity,
        warnings=(f"actual usage from {', '.join(ref.paths)}, each record at its own date's prices", *found.notes),
    )


def estimate_modes(result: Estimate) -> tuple[ModeCosts, dict[str, str | None]]:
    """Each mode's total (None where unpriced) and why the unpriced ones are."""
    modes: ModeCosts = tuple((str(cost.mode), cost.total_usd if cost.available else None) for cost in result.modes)
    reasons = {str(cost.mode): cost.unavailable_reason for cost in result.modes if not cost.available}
    return modes, reasons


def choose_mode(modes: ModeCosts, setting: str, reasons: dict[str, str | None] | None = None) -> str:
    """The mode a workload pays: the one it names, or the cheapest available (ties: the simpler mode)."""
    costs = dict(modes)
    if setting == "cheapest":
        available = [(cost, _order(mode), mode) for mode, cost in modes if cost is not None]
        if not available:
            raise EstimatorError("no mode is priced for this workload")
        return min(available)[2]
    if costs.get(setting) is None:
        reason = (reasons or {}).get(setting) or "the table holds no price for it"
        raise EstimatorError(f"mode {setting} is not priced: {reason}; choose another mode or 'cheapest'")
    return setting


def _order(mode: str) -> int:
    names: tuple[str, ...] = MODES
    return names.index(mode) if mode in names else len(names)


def workload_identity(workload: Workload, item: PlanWorkload) -> Identity:
    """The workload's fields (the price date excluded: it belongs to the check) and the mode it uses."""
    fields: list[tuple[str, IdentityValue]] = []
    for field in dataclasses.fields(Workload):
        if field.name == "as_of":
            continue
        value: Any = getattr(workload, field.name)
        fields.append((field.name, _text(value) if isinstance(value, Decimal) else value))
    fields.append(("mode", item.mode))
    return tuple(fields)


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


def price_row(table: PriceTable, model_id: str, day: dt.date) -> PriceRow:
    """The model's row in effect on `day` (its first row before its release, as the estimator prices it)."""
    model = table.model(model_id)
    period = model.period_as_of(day) or model.periods_in_effect[0]
    return PriceRow(model.id, period.effective_from, _flat_rates(period))


def _flat_rates(period: PricePeriod) -> tuple[tuple[str, Decimal], ...]:
    rates = [(name, value) for name, value in period.rates().items() if value is not None]
    for tier in period.tiers:
        prefix = f"prompt > {tier.above_prompt_tokens:,} tokens: "
        rates += [(prefix + name, value) for name, value in tier.rates().items() if value is not None]
    if period.fast is not None:
        rates += [("fast_input_mtok", period.fast.input_mtok), ("fast_output_mtok", period.fast.output_mtok)]
    return tuple(rates)


def rules_of(table: PriceTable) -> tuple[tuple[str, Decimal], ...]:
    """The table-wide prices a workload may pay besides its model's row."""
    rules = table.rules
    channel_rates = [
        (f"{name}_regional_multiplier", rule.regional_multiplier)
        for name in ("anthropic", "bedrock", "vertex", "foundry")
        if (rule := rules.channels.rule(name)).regional_multiplier is not None
    ]
    return (
        ("us_data_residency_multiplier", rules.data_residency.us_multiplier),
        ("web_search_usd_per_1000_searches", rules.web_search.usd_per_1000_searches),
        ("code_execution_usd_per_container_hour", rules.code_execution.usd_per_container_hour),
        ("code_execution_minimum_minutes_per_session", rules.code_execution.minimum_minutes_per_session),
        *channel_rates,
    )
