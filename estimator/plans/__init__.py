"""Plans as files, and a cost gate for CI.

A plan file (`costs.yaml`) names a team's workloads — figures, a batch file to dry-run, or usage to price
as actuals — with the mode each uses, budgets and allowed increases. `check_plan` prices it and gives a
verdict; `lock_plan` records the baseline (`costs.lock.json`) with a reason; against a baseline, the check
attributes every change to prices or to the workloads. `assert_cost_within` does it from a test suite.

    from estimator.plans import check_plan

    check = check_plan("costs.yaml", baseline="costs.lock.json", max_increase="10%")
    check.exit_code   # 0 within every limit, 1 over one
    check.failures    # one line per failed check
"""

from __future__ import annotations

from estimator.plans.errors import LockFileError, PlanFileError
from estimator.plans.gate import Attribution, PlanCheck, WorkloadChange, WorkloadCheck, check_plan
from estimator.plans.limits import Budget, IncreaseLimit, parse_increase
from estimator.plans.loading import load_plan, parse_plan
from estimator.plans.lock import CostLock, LockedWorkload, lock_plan, read_lock, write_lock
from estimator.plans.plan import Plan, PlanWorkload
from estimator.plans.testing import assert_cost_within

__all__ = [
    "Attribution",
    "Budget",
    "CostLock",
    "IncreaseLimit",
    "LockFileError",
    "LockedWorkload",
    "Plan",
    "PlanCheck",
    "PlanFileError",
    "PlanWorkload",
    "WorkloadChange",
    "WorkloadCheck",
    "assert_cost_within",
    "check_plan",
    "load_plan",
    "lock_plan",
    "parse_increase",
    "parse_plan",
    "read_lock",
    "write_lock",
]
