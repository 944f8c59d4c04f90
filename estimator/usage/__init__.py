"""Actual costs: price what Claude really billed, and hold every estimate against it.

Reads Message Batches results, Messages responses (or bare usage objects) and Admin API usage and cost
reports, detected by shape and streamed (`readers`); prices them exactly at each record's date (`pricer`);
reports totals per model, category and day with what-ifs (`actuals`); reconciles a batch file's dry run with
its results (`reconcile`); compares our figures with Anthropic's cost report (`cost_report`); fetches the
reports with an Admin key (`admin_client`). Names load on first use, like `estimator`'s.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from estimator.usage.actuals import ActualCosts, actual_costs
    from estimator.usage.pricer import PricedUsage, price_columns, price_usage
    from estimator.usage.reconcile import Reconciliation, reconcile
    from estimator.usage.records import CostReportRow, UsageProblem, UsageRecord

_LAZY = {
    "ActualCosts": "estimator.usage.actuals",
    "actual_costs": "estimator.usage.actuals",
    "PricedUsage": "estimator.usage.pricer",
    "price_columns": "estimator.usage.pricer",
    "price_usage": "estimator.usage.pricer",
    "Reconciliation": "estimator.usage.reconcile",
    "reconcile": "estimator.usage.reconcile",
    "CostReportRow": "estimator.usage.records",
    "UsageProblem": "estimator.usage.records",
    "UsageRecord": "estimator.usage.records",
}

__all__ = [
    "ActualCosts",
    "CostReportRow",
    "PricedUsage",
    "Reconciliation",
    "UsageProblem",
    "UsageRecord",
    "actual_costs",
    "price_columns",
    "price_usage",
    "reconcile",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'estimator.usage' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
