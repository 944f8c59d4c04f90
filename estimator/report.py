"""Estimates as stable JSON-ready dicts and CSV rows (exact decimal strings), for CI users and downloads."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from estimator.costs import CATEGORIES, Estimate, EstimateWarning, ModeCost
from estimator.format import decimal_text
from estimator.planning import BreakEven, BudgetResult, ModelComparison
from estimator.rates import ChannelTerms
from estimator.results import CodeExecutionTerms, NegotiatedTerms
from estimator.workload import MODES, Workload

__all__ = [
    "CSV_COLUMNS",
    "break_even_to_dict",
    "budget_to_dict",
    "channel_to_dict",
    "comparison_rows",
    "comparison_to_dict",
    "estimate_rows",
    "estimate_to_dict",
    "negotiated_to_dict",
    "price_basis",
    "workload_to_dict",
]

CSV_COLUMNS = (
    "model",
    "as_of",
    "mode",
    "available",
    "total_usd",
    "per_request_usd",
    "savings_usd",
    "savings_pct",
    "rank",
    *(f"{category}_usd" for category in CATEGORIES),
    "channel",
    "price_basis",
)
"""One `<category>_usd` column per cost category, in `CATEGORIES` order (new categories at the end), then where
the tokens are bought and what the prices are (partner or negotiated), so a CSV says it too."""


def workload_to_dict(workload: Workload) -> dict[str, Any]:
    return {
        "model": workload.model,
        "requests": workload.requests,
        "period": workload.period,
        "prefix_tokens": workload.prefix_tokens,
        "unique_input_tokens": workload.unique_input_tokens,
        "output_tokens": workload.output_tokens,
        "cache_hit_rate": decimal_text(workload.cache_hit_rate),
        "cache_ttl": workload.cache_ttl,
        "web_searches_per_request": decimal_text(workload.web_searches_per_request),
        "tool_use": workload.tool_use,
        "geo": workload.geo,
        "fast": workload.fast,
        "as_of": workload.as_of.isoformat() if workload.as_of else None,
        "tokens_measured_for": workload.tokens_measured_for,
        "thinking_tokens": workload.thinking_tokens,
        "web_fetches_per_request": decimal_text(workload.web_fetches_per_request),
        "tokens_per_web_fetch": workload.tokens_per_web_fetch,
        "code_execution_sessions_per_request": decimal_text(workload.code_execution_sessions_per_request),
        "code_execution_minutes_per_session": decimal_text(workload.code_execution_minutes_per_session),
        "code_execution_with_web_tools": workload.code_execution_with_web_tools,
        "channel": workload.channel,
        "endpoint": workload.endpoint,
    }


def channel_to_dict(channel: ChannelTerms | None) -> dict[str, Any] | None:
    if channel is None:
        return None
    return {
        "channel": channel.channel,
        "name": channel.name,
        "endpoint": channel.endpoint,
        "regional_endpoint": channel.regional_endpoint,
        "prices_set_by": channel.prices_set_by,
        "multiplier": decimal_text(channel.multiplier),
        "basis": channel.basis,
    }


def negotiated_to_dict(terms: NegotiatedTerms | None) -> dict[str, Any] | None:
    if terms is None:
        return None
    return {"file": terms.source_name, "applied": list(terms.applied), "note": terms.sentence}


def _code_execution_to_dict(terms: CodeExecutionTerms | None, requests: int) -> dict[str, Any] | None:
    if terms is None or not terms.used:
        return None
    return {
        "sessions_per_request": decimal_text(terms.sessions_per_request),
        "billed_minutes_per_session": decimal_text(terms.billed_minutes_per_session),
        "container_hours_per_request": decimal_text(terms.hours_per_request),
        "container_hours": decimal_text(terms.hours_per_request * requests),
        "usd_per_container_hour": decimal_text(terms.usd_per_container_hour),
        "minimum_minutes_per_session": decimal_text(terms.minimum_minutes_per_session),
        "free_hours_per_month_not_subtracted": decimal_text(terms.free_hours_per_month),
        "free_with_web_tools": terms.free_with_web_tools,
        "usd_per_request": decimal_text(terms.usd_per_request),
    }


def price_basis(channel: ChannelTerms | None, negotiated: NegotiatedTerms | None) -> str:
    """What the figures are, in one line: list prices, a partner's channel, negotiated rates."""
    parts = [channel.basis if channel is not None else "Anthropic's list prices (Claude API)."]
    if negotiated is not None:
        sentence = negotiated.sentence
        parts.append(sentence[0].upper() + sentence[1:] + ".")
    return " ".join(parts)


def _mode_to_dict(mode: ModeCost) -> dict[str, Any]:
    if not mode.available:
        return {"available": False, "reason": mode.unavailable_reason}
    return {
        "available": True,
        "total_usd": decimal_text(mode.total_usd),
        "per_request_usd": decimal_text(mode.per_request_usd),
        "savings_usd": decimal_text(mode.savings_usd),
        "savings_pct": decimal_text(mode.savings_pct),
        "rank": mode.rank,
        "caching_applied": mode.caching_applied,
        "breakdown": {
            line.category: {
                "usd": decimal_text(line.usd),
                "quantity": decimal_text(line.quantity),
                "rate_mtok": decimal_text(line.rate_mtok),
            }
            for line in mode.lines
        },
    }


def _warning_to_dict(warning: EstimateWarning) -> dict[str, Any]:
    return {
        "code": warning.code,
        "severity": warning.severity,
        "field": warning.field,
        "message": warning.message,
    }


def estimate_to_dict(result: Estimate) -> dict[str, Any]:
    """The CLI's `--format json` shape: stable keys, money as exact decimal strings."""
    band = result.batch_cached_hit_band
    return {
        "model": result.model_id,
        "model_name": result.model_name,
        "as_of": result.as_of.isoformat(),
        "prices_effective_from": result.prices_effective_from.isoformat(),
        "workload": workload_to_dict(result.workload),
        "prompt_tokens_per_request": result.prompt_tokens,
        "cacheable_prefix_tokens": result.cacheable_prefix_tokens,
        "tool_system_prompt_tokens": result.tool_system_prompt_tokens,
        "caching_possible": result.caching_possible,
        "tier_above_prompt_tokens": result.tier_threshold_tokens,
        "web_fetch_tokens_per_request": decimal_text(result.web_fetch_tokens_per_request),
        "channel": channel_to_dict(result.channel),
        "negotiated_rates": negotiated_to_dict(result.negotiated),
        "price_basis": price_basis(result.channel, result.negotiated),
        "code_execution": _code_execution_to_dict(result.code_execution, result.workload.requests),
        "modes": {mode.mode: _mode_to_dict(mode) for mode in result.modes},
        "ranking": [mode.mode for mode in result.ranking],
        "batch_cached_hit_rate_band": None
        if band is None
        else {
            "low_hit_rate": decimal_text(band.low_hit_rate),
            "high_hit_rate": decimal_text(band.high_hit_rate),
            "total_at_low_hit_rate_usd": decimal_text(band.total_at_low_hit_rate_usd),
            "total_at_high_hit_rate_usd": decimal_text(band.total_at_high_hit_rate_usd),
        },
        "warnings": [_warning_to_dict(w) for w in result.warnings],
    }


def estimate_rows(result: Estimate) -> list[dict[str, str]]:
    """One CSV row per mode, columns as in CSV_COLUMNS."""
    rows = []
    for mode in result.modes:
        row = {
            "model": result.model_id,
            "as_of": result.as_of.isoformat(),
            "mode": mode.mode,
            "available": "yes" if mode.available else "no",
            "total_usd": _text(mode.total_usd, mode.available),
            "per_request_usd": _text(mode.per_request_usd, mode.available),
            "savings_usd": decimal_text(mode.savings_usd) or "",
            "savings_pct": decimal_text(mode.savings_pct) or "",
            "rank": str(mode.rank or ""),
        }
        for line in mode.lines:
            row[f"{line.category}_usd"] = _text(line.usd, mode.available)
        row["channel"] = result.workload.channel + ("" if result.workload.endpoint == "global" else " (regional)")
        row["price_basis"] = price_basis(result.channel, result.negotiated)
        rows.append(row)
    return rows


def _text(value: Any, available: bool) -> str:
    return (decimal_text(value) or "") if available else ""


def comparison_to_dict(results: Iterable[ModelComparison]) -> dict[str, Any]:
    models = []
    for item in results:
        entry: dict[str, Any] = {
            "model": item.model_id,
            "model_name": item.model_name,
            "status": item.status,
            "error": item.error,
            "cheapest_total_usd": decimal_text(item.cheapest_total_usd),
        }
        if item.scale is not None and item.scale.converts:
            entry["token_conversion"] = {
                "from": item.scale.source,
                "to": item.scale.target,
                "expected": decimal_text(item.scale.expected),
                "low": decimal_text(item.scale.low),
                "high": decimal_text(item.scale.high),
            }
        if item.estimate is not None:
            entry["estimate"] = estimate_to_dict(item.estimate)
        if item.low is not None and item.high is not None:
            entry["range_usd"] = {
                mode: [decimal_text(_total(item.low, mode)), decimal_text(_total(item.high, mode))] for mode in MODES
            }
        models.append(entry)
    return {"models": models}


def _total(result: Estimate, mode: str) -> Any:
    cost = result.mode(mode)  # type: ignore[arg-type]
    return cost.total_usd if cost.available else None


def comparison_rows(results: Iterable[ModelComparison]) -> list[dict[str, str]]:
    rows = []
    for item in results:
        if item.estimate is None:
            rows.append({"model": item.model_id, "as_of": "", "mode": "", "available": "no", "total_usd": ""})
            continue
        rows.extend(estimate_rows(item.estimate))
    return rows


def break_even_to_dict(model: str, as_of: str, results: Iterable[BreakEven]) -> dict[str, Any]:
    return {
        "model": model,
        "as_of": as_of,
        "ttls": {
            r.ttl: {
                "break_even_hit_rate": decimal_text(r.hit_rate),
                "reads_to_pay_off": r.reads_to_pay_off,
                "input_mtok": decimal_text(r.input_mtok),
                "write_mtok": decimal_text(r.write_mtok),
                "read_mtok": decimal_text(r.read_mtok),
            }
            for r in results
        },
    }


def budget_to_dict(
    budget_usd: str,
    results: Iterable[BudgetResult],
    *,
    channel: ChannelTerms | None = None,
    negotiated: NegotiatedTerms | None = None,
) -> dict[str, Any]:
    return {
        "budget_usd": budget_usd,
        "channel": channel_to_dict(channel),
        "negotiated_rates": negotiated_to_dict(negotiated),
        "price_basis": price_basis(channel, negotiated),
        "modes": {
            r.mode: {
                "max_requests": r.max_requests,
                "unlimited": r.unlimited,
                "per_request_usd": decimal_text(r.per_request_usd),
                "total_usd": decimal_text(r.total_usd),
                "reason": r.unavailable_reason,
            }
            for r in results
        },
    }
