"""Message Batches files: read them (streaming, JSONL or a JSON array), validate each line as the API
would, and dry-run them (tokens, cache breakpoints, costs per mode with a range, a split plan)."""

from __future__ import annotations

from estimator.batches.dry_run import DryRunResult, analyze_batch_file

__all__ = ["DryRunResult", "analyze_batch_file"]
