"""A cost check for a team's own test suite: `assert_cost_within(plan, baseline, max_increase="10%")`.

    def test_claude_costs_stay_within_the_baseline():
        assert_cost_within("costs.yaml", "costs.lock.json", max_increase="10%")

It fails with an `AssertionError` whose message says which budget or limit was crossed and why the cost
moved (prices or workloads); a bad plan or lock file raises its own error (`PlanFileError`,
`LockFileError`), so a broken file is never mistaken for a cost regression.
"""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal

from estimator.format import format_usd
from estimator.plans.gate import PlanCheck, check_plan
from estimator.plans.limits import IncreaseLimit
from estimator.plans.render import rate_change_text
from pricing import PriceTable

__all__ = ["assert_cost_within", "failure_message"]


def assert_cost_within(
    plan_path: str | os.PathLike[str],
    baseline_path: str | os.PathLike[str] | None = None,
    max_increase: str | IncreaseLimit | None = None,
    *,
    max_workload_increase: str | IncreaseLimit | None = None,
    as_of: dt.date | None = None,
    table: PriceTable | None = None,
) -> PlanCheck:
    """Check the plan (against the baseline lock, if given) and fail the test when any limit is crossed.

    Returns the check, so a test can go on to assert on figures."""
    check = check_plan(
        plan_path,
        as_of=as_of,
        baseline=baseline_path,
        max_increase=max_increase,
        max_workload_increase=max_workload_increase,
        table=table,
    )
    if not check.passed:
        raise AssertionError(failure_message(check))
    return check


def failure_message(check: PlanCheck) -> str:
    """What failed, then why the cost moved: enough to act on without rerunning anything."""
    lines = [f"Claude costs of {check.plan_source} (as of {check.as_of}, per {check.period}):"]
    lines += [f"  ✗ {failure}" for failure in check.failures]
    attribution = check.attribution
    if attribution is not None:
        lines.append(
            f"  since the baseline ({attribution.baseline_as_of}, reason: {attribution.baseline_reason}): "
            f"{format_usd(attribution.old_total_usd)} → {format_usd(attribution.new_total_usd)}"
        )
        lines.append(f"    prices changed: {_signed(attribution.price_effect_usd)}")
        lines += [f"      {rate_change_text(change)}" for change in attribution.price_changes]
        lines += [f"      {note}" for note in attribution.price_notes]
        lines.append(f"    workloads changed: {_signed(attribution.workload_effect_usd)}")
        lines += [f"      {text}" for text in attribution.workload_changes]
        if attribution.unattributed_usd:
            lines.append(f"    not attributable: {_signed(attribution.unattributed_usd)}")
    lines.append('  If the new costs are intended: python -m estimator lock PLAN --reason "..." and commit the lock.')
    return "\n".join(lines)


def _signed(value: Decimal) -> str:
    return format_usd(value) if value < 0 else f"+{format_usd(value)}"
