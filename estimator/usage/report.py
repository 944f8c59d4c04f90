"""Actual costs and reconciliations as stable JSON-ready dicts and CSV rows (exact decimal strings).

The JSON of `actual` (CI users read it):

    {"total_usd": "12.3456", "currency": "USD", "fully_priced": true,
     "requests": {"succeeded": 97, "errored": 2, "canceled": 0, "expired": 1},
     "records": {"priced": 97, "unpriced": 0, "undated": 97, "priced_as_of": "2026-12-03"},
     "models": [{"model", "name", "requests", "total_usd", "categories": {"uncached_input": {"tokens", "usd"}, ...}}],
     "categories": {"uncached_input" | "cache_write_5m" | "cache_write_1h" | "cache_read" | "output" | "web_search":
                    {"tokens", "usd"}},
     "days": [{"date", "total_usd", "models": {"claude-...": "usd"}}],
     "cache": {"hit_rate", "read_tokens", "write_tokens", "unsplit_write_tokens", "upper_bound_total_usd"},
     "output_tokens_per_request", "thinking_tokens", "web_fetch_requests",
     "what_if": {"modes": {"realtime": {"available", "total_usd", "billed"}, ...}, "model": {...} | null},
     "cost_report": {...} | null, "calibrated_plan": {...workload...} | null,
     "problems": [{"source", "line", "severity", "code", "message", "custom_id", "records"}],
     "problems_not_listed", "not_billed": [...], "notes": [...]}
"""

from __future__ import annotations

from typing import Any

from estimator.errors import EstimatorError
from estimator.format import decimal_text
from estimator.report import workload_to_dict
from estimator.results import CATEGORIES
from estimator.usage.actuals import ActualCosts
from estimator.usage.cost_report import CostComparison
from estimator.usage.pricer import ModelWhatIf
from estimator.usage.reconcile import Reconciliation
from estimator.usage.records import UsageProblem

__all__ = [
    "ACTUAL_CSV_COLUMNS",
    "RECONCILE_CSV_COLUMNS",
    "actual_costs_rows",
    "actual_costs_to_dict",
    "problem_to_dict",
    "reconciliation_rows",
    "reconciliation_to_dict",
]

ACTUAL_CSV_COLUMNS = (
    "date",
    "model",
    "service_tier",
    "inference_geo",
    "speed",
    "prompt_tier_above_tokens",
    "prices_effective_from",
    "requests",
    *(f"{category}_tokens" for category in CATEGORIES if category != "web_search"),
    "web_search_requests",
    *(f"{category}_usd" for category in CATEGORIES),
    "total_usd",
)

RECONCILE_CSV_COLUMNS = (
    "custom_id",
    "request_line",
    "result_line",
    "model",
    "result_type",
    "max_tokens",
    "prompt_tokens_low",
    "prompt_tokens_expected",
    "prompt_tokens_high",
    "prompt_tokens_actual",
    "output_tokens_expected",
    "output_tokens_actual",
    "low_usd",
    "expected_usd",
    "high_usd",
    "actual_usd",
    "error_usd",
    "error_pct",
    "inside_range",
    "unpriced_reason",
)


def problem_to_dict(problem: UsageProblem) -> dict[str, Any]:
    return {
        "source": problem.source,
        "line": problem.line,
        "severity": problem.severity,
        "code": problem.code,
        "message": problem.message,
        "custom_id": problem.custom_id,
        "records": problem.records,
    }


def actual_costs_to_dict(result: ActualCosts, *, with_plan: bool = True) -> dict[str, Any]:
    tokens = result.tokens
    return {
        "total_usd": decimal_text(result.total_usd),
        "currency": "USD",
        "fully_priced": result.fully_priced,
        "sources": list(result.sources),
        "requests": dict(result.requests),
        "records": {
            "priced": result.priced_records,
            "unpriced": result.unpriced_records,
            "undated": result.undated_records,
            "priced_as_of": result.default_day.isoformat(),
        },
        "models": [
            {
                "model": model.model_id,
                "name": model.model_name,
                "requests": model.requests,
                "total_usd": decimal_text(model.total_usd),
                "categories": {
                    c: {"tokens": model.tokens.quantity(c), "usd": decimal_text(model.usd[c])} for c in CATEGORIES
                },
            }
            for model in result.models
        ],
        "categories": {
            c: {"tokens": item.tokens, "usd": decimal_text(item.usd)} for c, item in result.categories.items()
        },
        "days": [
            {
                "date": day.day.isoformat(),
                "total_usd": decimal_text(day.total_usd),
                "models": {model: decimal_text(usd) for model, usd in day.by_model_usd.items()},
            }
            for day in result.days
        ],
        "cache": {
            "hit_rate": decimal_text(result.hit_rate),
            "read_tokens": tokens.cache_read_tokens,
            "write_tokens": tokens.cache_write_tokens,
            "unsplit_write_tokens": tokens.cache_write_unsplit_tokens,
            "upper_bound_total_usd": decimal_text(result.upper_bound_total_usd),
        },
        "output_tokens_per_request": decimal_text(result.output_tokens_per_request),
        "thinking_tokens": tokens.thinking_tokens,
        "web_fetch_requests": tokens.web_fetch_requests,
        "what_if": {
            "modes": {
                item.mode: {"available": True, "total_usd": decimal_text(item.total_usd), "billed": item.billed}
                if item.total_usd is not None
                else {"available": False, "reason": item.reason}
                for item in result.what_if
            },
            "model": _model_what_if(result.what_if_model),
        },
        "cost_report": _cost_report(result.cost_report),
        "calibrated_plan": _plan(result) if with_plan else None,
        "problems": [problem_to_dict(p) for p in result.problems],
        "problems_not_listed": result.problems_not_listed,
        "not_billed": [
            {
                "custom_id": n.custom_id,
                "result_type": n.result_type,
                "source": n.source,
                "line": n.line,
                "detail": n.detail,
            }
            for n in result.not_billed
        ],
        "notes": list(result.notes),
    }


def _plan(result: ActualCosts) -> dict[str, Any] | None:
    try:
        return workload_to_dict(result.calibrated_workload())
    except EstimatorError:
        return None


def _model_what_if(item: ModelWhatIf | None) -> dict[str, Any] | None:
    if item is None:
        return None
    if not item.available:
        return {"model": item.model_id, "available": False, "reason": item.unavailable_reason}
    return {
        "model": item.model_id,
        "available": True,
        "low_usd": decimal_text(item.low_usd),
        "expected_usd": decimal_text(item.expected_usd),
        "high_usd": decimal_text(item.high_usd),
        "categories": {c: decimal_text(v) for c, v in item.expected_by_category.items()},
        "token_conversion": item.scale_note,
        "notes": list(item.notes),
    }


def _cost_report(comparison: CostComparison | None) -> dict[str, Any] | None:
    if comparison is None:
        return None
    return {
        "ours_total_usd": decimal_text(comparison.ours_total_usd),
        "reported_total_usd": decimal_text(comparison.reported_total_usd),
        "difference_usd": decimal_text(comparison.difference_usd),
        "to_the_cent": comparison.to_the_cent,
        "rows": [
            {
                "date": row.day.isoformat(),
                "model": row.model_id,
                "ours_usd": decimal_text(row.ours_usd),
                "reported_usd": decimal_text(row.reported_usd),
                "reported_list_usd": decimal_text(row.reported_list_usd),
                "difference_usd": decimal_text(row.difference_usd),
            }
            for row in comparison.rows
        ],
        "notes": list(comparison.notes),
    }


def actual_costs_rows(result: ActualCosts) -> list[dict[str, str]]:
    """One CSV row per day × model × rate key, exact figures, and a total row."""
    rows = []
    for line in result.lines:
        row = {
            "date": line.day.isoformat(),
            "model": line.model_id,
            "service_tier": line.service_tier,
            "inference_geo": line.inference_geo,
            "speed": line.speed,
            "prompt_tier_above_tokens": str(line.tier_above_tokens or ""),
            "prices_effective_from": line.prices_effective_from.isoformat(),
            "requests": str(line.tokens.requests),
            "web_search_requests": str(line.tokens.web_search_requests),
            "total_usd": decimal_text(line.total_usd) or "0",
        }
        for category in CATEGORIES:
            if category != "web_search":
                row[f"{category}_tokens"] = str(line.tokens.quantity(category))
            row[f"{category}_usd"] = decimal_text(line.usd[category]) or "0"
        rows.append(row)
    total = {"date": "total", "model": "", "requests": str(result.tokens.requests)}
    total["total_usd"] = decimal_text(result.total_usd) or "0"
    for category, item in result.categories.items():
        if category != "web_search":
            total[f"{category}_tokens"] = str(item.tokens)
        total[f"{category}_usd"] = decimal_text(item.usd) or "0"
    total["web_search_requests"] = str(result.tokens.web_search_requests)
    rows.append(total)
    return rows


def reconciliation_to_dict(result: Reconciliation) -> dict[str, Any]:
    total = result.total
    return {
        "requests_file": result.requests_source,
        "results_file": result.results_source,
        "hit_rate": decimal_text(result.hit_rate),
        "output_assumption": result.output_assumption,
        "requests": dict(result.by_result),
        "matched": result.matched,
        "total": {
            "mode": total.mode,
            "low_usd": decimal_text(total.low_usd),
            "expected_usd": decimal_text(total.expected_usd),
            "high_usd": decimal_text(total.high_usd),
            "actual_usd": decimal_text(total.actual_usd),
            "error_usd": decimal_text(total.error_usd),
            "error_pct": decimal_text(total.error_pct),
            "inside_range": total.inside,
            "unavailable_reason": total.unavailable_reason,
        },
        "total_usd": decimal_text(total.actual_usd),
        "per_request": {
            "coverage": decimal_text(result.coverage),
            "mean_absolute_error_pct": decimal_text(result.mean_absolute_error_pct),
            "requests": [_request_dict(row) for row in reconciliation_rows(result)],
        },
        "observed": {
            "output_ratio": decimal_text(result.observed_output_ratio),
            "hit_rate": decimal_text(result.observed_hit_rate),
        },
        "suggested": {k: decimal_text(v) for k, v in result.dry_run_parameters().items()},
        "calibrated_plan": _plan(result.actual),
        "actual": actual_costs_to_dict(result.actual, with_plan=False),
        "problems": [problem_to_dict(p) for p in result.problems],
        "notes": list(result.notes),
    }


def _request_dict(row: dict[str, str]) -> dict[str, Any]:
    return {key: (value if value != "" else None) for key, value in row.items()}


def reconciliation_rows(result: Reconciliation) -> list[dict[str, str]]:
    rows = []
    for item in result.per_request:
        low, expected, high = item.estimated_prompt_tokens or (None, None, None)
        rows.append(
            {
                "custom_id": item.custom_id,
                "request_line": str(item.request_line),
                "result_line": _text(item.result_line),
                "model": item.model_id or "",
                "result_type": item.result_type,
                "max_tokens": _text(item.max_tokens),
                "prompt_tokens_low": _text(low),
                "prompt_tokens_expected": _text(expected),
                "prompt_tokens_high": _text(high),
                "prompt_tokens_actual": _text(item.actual_prompt_tokens),
                "output_tokens_expected": _text(item.estimated_output_tokens),
                "output_tokens_actual": _text(item.actual_output_tokens),
                "low_usd": decimal_text(item.low_usd) or "",
                "expected_usd": decimal_text(item.expected_usd) or "",
                "high_usd": decimal_text(item.high_usd) or "",
                "actual_usd": decimal_text(item.actual_usd) or "",
                "error_usd": decimal_text(item.error_usd) or "",
                "error_pct": decimal_text(item.error_pct) or "",
                "inside_range": "" if item.inside is None else str(item.inside).lower(),
                "unpriced_reason": item.unpriced_reason or "",
            }
        )
    return rows


def _text(value: object) -> str:
    return "" if value is None else str(value)
