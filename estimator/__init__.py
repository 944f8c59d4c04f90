"""Claude API cost estimator: a workload's cost in every mode, exact, with the traps shown.

    >>> from estimator import Workload, estimate
    >>> result = estimate(Workload(model="claude-sonnet-4-6", requests=1, prefix_tokens=3000,
    ...                            unique_input_tokens=5000, output_tokens=1000))
    >>> result.mode("realtime").total_usd
    Decimal('0.039')

Names are loaded on first use, so `import estimator` stays light: it never imports streamlit, plotly,
tiktoken or anthropic, and the price table loads only when a function needs it.

Errors (all ValueError):
    EstimatorError ─┬─ InvalidWorkloadError, BatchFileError, PlanFileError, LockFileError, OverridesError
                    └─ TokenCountError ── TokenizerDataError, ExactCountError
    pricing.PricingError ─┬─ UnknownModelError (re-exported here; also a LookupError)
                          └─ PriceTableError, PriceNotAvailableError
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from estimator.errors import (
    BatchFileError,
    EstimatorError,
    ExactCountError,
    InvalidWorkloadError,
    TokenCountError,
    TokenizerDataError,
)

if TYPE_CHECKING:
    from estimator.batches.dry_run import DryRunResult, analyze_batch_file, analyze_batch_files
    from estimator.bulk.actuals import price_files_bulk
    from estimator.bulk.columns import price_columns_bulk
    from estimator.conversations import Conversation, ConversationEstimate, estimate_conversation, sweep_turns
    from estimator.costs import CostLine, Estimate, EstimateWarning, HitRateBand, ModeCost, estimate
    from estimator.format import decimal_text, format_percent, format_tokens, format_usd
    from estimator.overrides import NegotiatedRates, OverridesError, apply_overrides, load_overrides
    from estimator.planning import (
        BreakEven,
        BudgetResult,
        ModelComparison,
        Sweep,
        SweepPoint,
        break_even,
        budget,
        compare_models,
        hit_rate_from_traffic,
        sweep_hit_rate,
        sweep_prefix_tokens,
        sweep_requests,
    )
    from estimator.plans import (
        Attribution,
        CostLock,
        LockFileError,
        Plan,
        PlanCheck,
        PlanFileError,
        WorkloadChange,
        WorkloadCheck,
        assert_cost_within,
        check_plan,
        load_plan,
        lock_plan,
    )
    from estimator.report import comparison_to_dict, estimate_to_dict
    from estimator.throughput import ThroughputFit, throughput
    from estimator.tokens.counting import TokenEstimate, count_request, count_text, count_tokens
    from estimator.usage.actuals import ActualCosts, actual_costs
    from estimator.usage.pricer import price_usage
    from estimator.usage.reconcile import Reconciliation, reconcile
    from estimator.usage.records import UsageRecord
    from estimator.workload import MODES, CacheTTL, Channel, Endpoint, Geo, Mode, Workload
    from pricing import PriceTable, UnknownModelError, load_price_table

_LAZY = {
    "ThroughputFit": "estimator.throughput",
    "throughput": "estimator.throughput",
    "Conversation": "estimator.conversations",
    "ConversationEstimate": "estimator.conversations",
    "estimate_conversation": "estimator.conversations",
    "sweep_turns": "estimator.conversations",
    "CostLine": "estimator.costs",
    "Estimate": "estimator.costs",
    "EstimateWarning": "estimator.costs",
    "HitRateBand": "estimator.costs",
    "ModeCost": "estimator.costs",
    "estimate": "estimator.costs",
    "decimal_text": "estimator.format",
    "format_percent": "estimator.format",
    "format_tokens": "estimator.format",
    "format_usd": "estimator.format",
    "BreakEven": "estimator.planning",
    "BudgetResult": "estimator.planning",
    "ModelComparison": "estimator.planning",
    "Sweep": "estimator.planning",
    "SweepPoint": "estimator.planning",
    "break_even": "estimator.planning",
    "budget": "estimator.planning",
    "compare_models": "estimator.planning",
    "hit_rate_from_traffic": "estimator.planning",
    "sweep_hit_rate": "estimator.planning",
    "sweep_prefix_tokens": "estimator.planning",
    "sweep_requests": "estimator.planning",
    "Attribution": "estimator.plans",
    "CostLock": "estimator.plans",
    "LockFileError": "estimator.plans",
    "Plan": "estimator.plans",
    "PlanCheck": "estimator.plans",
    "PlanFileError": "estimator.plans",
    "WorkloadChange": "estimator.plans",
    "WorkloadCheck": "estimator.plans",
    "assert_cost_within": "estimator.plans",
    "check_plan": "estimator.plans",
    "load_plan": "estimator.plans",
    "lock_plan": "estimator.plans",
    "NegotiatedRates": "estimator.overrides",
    "OverridesError": "estimator.overrides",
    "apply_overrides": "estimator.overrides",
    "load_overrides": "estimator.overrides",
    "comparison_to_dict": "estimator.report",
    "estimate_to_dict": "estimator.report",
    "TokenEstimate": "estimator.tokens.counting",
    "count_request": "estimator.tokens.counting",
    "count_text": "estimator.tokens.counting",
    "count_tokens": "estimator.tokens.counting",
    "DryRunResult": "estimator.batches.dry_run",
    "analyze_batch_file": "estimator.batches.dry_run",
    "analyze_batch_files": "estimator.batches.dry_run",
    "price_files_bulk": "estimator.bulk.actuals",
    "price_columns_bulk": "estimator.bulk.columns",
    "ActualCosts": "estimator.usage.actuals",
    "actual_costs": "estimator.usage.actuals",
    "price_usage": "estimator.usage.pricer",
    "Reconciliation": "estimator.usage.reconcile",
    "reconcile": "estimator.usage.reconcile",
    "UsageRecord": "estimator.usage.records",
    "MODES": "estimator.workload",
    "CacheTTL": "estimator.workload",
    "Channel": "estimator.workload",
    "Endpoint": "estimator.workload",
    "Geo": "estimator.workload",
    "Mode": "estimator.workload",
    "Workload": "estimator.workload",
    "PriceTable": "pricing",
    "UnknownModelError": "pricing",
    "load_price_table": "pricing",
}

__all__ = [
    "MODES",
    "ActualCosts",
    "Attribution",
    "BatchFileError",
    "BreakEven",
    "BudgetResult",
    "CacheTTL",
    "Channel",
    "Conversation",
    "ConversationEstimate",
    "CostLine",
    "CostLock",
    "DryRunResult",
    "Endpoint",
    "Estimate",
    "EstimateWarning",
    "EstimatorError",
    "ExactCountError",
    "Geo",
    "HitRateBand",
    "InvalidWorkloadError",
    "LockFileError",
    "Mode",
    "ModeCost",
    "ModelComparison",
    "NegotiatedRates",
    "OverridesError",
    "Plan",
    "PlanCheck",
    "PlanFileError",
    "PriceTable",
    "Reconciliation",
    "Sweep",
    "SweepPoint",
    "ThroughputFit",
    "TokenCountError",
    "TokenEstimate",
    "TokenizerDataError",
    "UnknownModelError",
    "UsageRecord",
    "Workload",
    "WorkloadChange",
    "WorkloadCheck",
    "actual_costs",
    "analyze_batch_file",
    "analyze_batch_files",
    "apply_overrides",
    "assert_cost_within",
    "break_even",
    "budget",
    "check_plan",
    "compare_models",
    "comparison_to_dict",
    "count_request",
    "count_text",
    "count_tokens",
    "decimal_text",
    "estimate",
    "estimate_conversation",
    "estimate_to_dict",
    "format_percent",
    "format_tokens",
    "format_usd",
    "hit_rate_from_traffic",
    "load_overrides",
    "load_plan",
    "load_price_table",
    "lock_plan",
    "price_columns_bulk",
    "price_files_bulk",
    "price_usage",
    "reconcile",
    "sweep_hit_rate",
    "sweep_prefix_tokens",
    "sweep_requests",
    "sweep_turns",
    "throughput",
]


def __getattr__(name: str) -> Any:
    if name == "__version__":  # shared with pricing, whose import loads pydantic: only when asked for
        from estimator.version import __version__

        return __version__
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'estimator' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
