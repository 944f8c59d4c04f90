"""A dry run as a stable JSON-ready dict (exact decimal strings), for CI users and downloads."""

from __future__ import annotations

from typing import Any

from estimator.batches.dry_run import DryRunResult
from estimator.format import decimal_text

__all__ = ["dry_run_to_dict"]


def dry_run_to_dict(result: DryRunResult) -> dict[str, Any]:
    def mode_range(item: Any) -> dict[str, Any]:
        if not item.available:
            return {"available": False, "reason": item.unavailable_reason}
        return {
            "available": True,
            "low_usd": decimal_text(item.low_usd),
            "expected_usd": decimal_text(item.expected_usd),
            "high_usd": decimal_text(item.high_usd),
        }

    return {
        "file": result.source_name,
        "bytes": result.bytes_read,
        "lines": result.lines,
        "requests": result.requests,
        "invalid_lines": result.invalid_lines,
        "hit_rate": decimal_text(result.hit_rate),
        "output_assumption": result.output_assumption,
        "models": [
            {
                "model": m.model_id,
                "requests": m.requests,
                "input_tokens": {
                    "low": m.input_tokens_low,
                    "expected": m.input_tokens_expected,
                    "high": m.input_tokens_high,
                },
                "count_source": m.count_source,
                "count_detail": m.count_detail,
                "cacheable_prefix_tokens": m.cacheable_tokens,
                "cache_write_tokens": decimal_text(m.cache_write_tokens),
                "cache_read_tokens": decimal_text(m.cache_read_tokens),
                "distinct_prefixes": m.distinct_prefixes,
                "output_tokens": {"expected": m.output_tokens_expected, "max": m.output_tokens_max},
                "modes": {c.mode: mode_range(c) for c in m.costs},
            }
            for m in result.models
        ],
        "totals": {t.mode: mode_range(t) for t in result.totals},
        "split": [
            {
                "batch": s.index,
                "first_line": s.first_line,
                "last_line": s.last_line,
                "requests": s.requests,
                "bytes": s.bytes,
            }
            for s in result.split
        ],
        "notes": list(result.notes),
        "problems": [
            {
                "line": p.line,
                "custom_id": p.custom_id,
                "severity": p.severity,
                "code": p.code,
                "message": p.message,
                "source": p.source,
                "lines": list(p.lines) or [p.line],
                "count": p.count,
            }
            for p in result.problems
        ],
        "unlisted_problems": result.unlisted_problems,
    }
