"""A token estimate as a stable JSON-ready dict."""

from __future__ import annotations

from typing import Any

from estimator.tokens.counting import TokenEstimate

__all__ = ["token_estimate_to_dict"]


def token_estimate_to_dict(result: TokenEstimate) -> dict[str, Any]:
    return {
        "tokens": {"low": result.low_tokens, "expected": result.expected_tokens, "high": result.high_tokens},
        "source": result.source,
        "detail": result.detail,
        "notes": list(result.notes),
    }
