"""A dry run as a stable JSON-ready dict (exact decimal strings), for CI users and downloads."""

from __future__ import annotations

from typing import Any

from estimator.batches.results import DryRunResult, FileDryRun, ModelDryRun, ModeRange
from estimator.format import decimal_text

__all__ = ["dry_run_to_dict"]


def _mode_range(item: ModeRange) -> dict[str, Any]:
    if not item.available:
        return {"available": False, "reason": item.unavailable_reason}
    return {
        "available": True,
        "low_usd": decimal_text(item.low_usd),
        "expected_usd": decimal_text(item.expected_usd),
        "high_usd": decimal_text(item.high_usd),
    }


def _model(m: ModelDryRun) -> dict[str, Any]:
    media, tools = m.media, m.server_tools
    return {
        "model": m.model_id,
        "requests": m.requests,
        "input_tokens": {"low": m.input_tokens_low, "expected": m.input_tokens_expected, "high": m.input_tokens_high},
        "count_source": m.count_source,
        "count_detail": m.count_detail,
        "cacheable_prefix_tokens": m.cacheable_tokens,
        "cache_write_tokens": decimal_text(m.cache_write_tokens),
        "cache_read_tokens": decimal_text(m.cache_read_tokens),
        "distinct_prefixes": m.distinct_prefixes,
        "output_tokens": {
            "expected": m.output_tokens_expected,
            "max": m.output_tokens_max,
            "visible_expected": m.visible_output_tokens_expected,
            "thinking_expected": m.thinking_tokens_expected,
        },
        "thinking_requests": m.thinking_requests,
        "multi_turn_requests": m.multi_turn_requests,
        "media": {
            "images": media.images,
            "image_tokens": {
                "low": media.image_tokens_low,
                "expected": media.image_tokens_expected,
                "high": media.image_tokens_high,
            },
            "pdfs": media.pdfs,
            "pdf_pages": media.pdf_pages,
            "pdf_tokens": {
                "low": media.pdf_tokens_low,
                "expected": media.pdf_tokens_expected,
                "high": media.pdf_tokens_high,
            },
        },
        "server_tools": {
            "web_search_requests": tools.web_search_requests,
            "web_searches": {"expected": tools.web_searches_expected, "high": tools.web_searches_high},
            "web_search_usd_expected": decimal_text(tools.web_search_usd_expected),
            "web_fetch_requests": tools.web_fetch_requests,
            "code_execution_requests": tools.code_execution_requests,
            "code_execution_free_requests": tools.code_execution_free_requests,
            "code_execution_hours": decimal_text(tools.code_execution_hours),
            "code_execution_usd": None if tools.code_execution_usd is None else decimal_text(tools.code_execution_usd),
        },
        "modes": {c.mode: _mode_range(c) for c in m.costs},
    }


def _file(f: FileDryRun) -> dict[str, Any]:
    return {
        "file": f.name,
        "bytes": f.bytes_read,
        "lines": f.lines,
        "requests": f.requests,
        "invalid_lines": f.invalid_lines,
        "errors": f.errors,
        "warnings": f.warnings,
        "input_tokens_expected": f.input_tokens_expected,
        "output_tokens_expected": f.output_tokens_expected,
        "thinking_tokens_expected": f.thinking_tokens_expected,
        "totals": {t.mode: _mode_range(t) for t in f.totals},
    }


def dry_run_to_dict(result: DryRunResult) -> dict[str, Any]:
    return {
        "file": result.source_name,
        "bytes": result.bytes_read,
        "lines": result.lines,
        "requests": result.requests,
        "invalid_lines": result.invalid_lines,
        "hit_rate": decimal_text(result.hit_rate),
        "output_assumption": result.output_assumption,
        "assumptions": list(result.assumptions),
        "files": [_file(f) for f in result.files],
        "models": [_model(m) for m in result.models],
        "totals": {t.mode: _mode_range(t) for t in result.totals},
        "split": [
            {
                "batch": s.index,
                "file": s.file or result.source_name,
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
                "file": p.file,
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
