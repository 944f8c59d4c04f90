"""Where a plan reaches into the other capabilities: token counting, batch-file dry runs, actual costs.

Kept in one module so that the plan package's dependencies on its siblings are few and visible:
`estimator.tokens` (count a prompt file), `estimator.batches` (dry-run a batch file, read-only) and
`estimator.usage` (price results files or usage exports as actuals). Each is imported inside the
function that needs it: loading a plan of plain figures imports none of them (nor tiktoken).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from estimator.errors import EstimatorError
from estimator.plans.files import file_sha256, open_regular_file
from estimator.plans.plan import ActualsRef, BatchFileRef
from pricing import PriceTable

if TYPE_CHECKING:
    from estimator.batches import DryRunResult

__all__ = ["ActualsCost", "TextCount", "actual_costs_of", "count_text_file", "dry_run_batch_file"]


@dataclass(frozen=True)
class TextCount:
    tokens: int
    detail: str
    notes: tuple[str, ...]


def count_text_file(
    text: str, model: str, *, table: PriceTable, exact: bool, api_key: str | None, base_url: str | None
) -> TextCount:
    """Tokens of a text: offline (expected value of the calibrated range) or exact via count_tokens.

    The exact count sends the text as one user message, so it includes that message's few frame tokens."""
    if exact:
        from estimator.tokens import count_tokens

        found = count_tokens(text, model=model, use_api=True, api_key=api_key, base_url=base_url, table=table)
    else:
        from estimator.tokens import count_text

        found = count_text(text, model, table=table)
    return TextCount(found.expected_tokens, found.detail, found.notes)


def dry_run_batch_file(ref: BatchFileRef, *, as_of: dt.date, table: PriceTable, what: str) -> tuple[DryRunResult, str]:
    """The dry run of the batch file (never sent anywhere), and the file's sha256."""
    from estimator.batches import analyze_batch_file

    with open_regular_file(ref.resolved, what) as stream:
        digest = file_sha256(stream)
        result = analyze_batch_file(
            stream,
            hit_rate=ref.hit_rate,
            output_ratio=ref.output_ratio,
            output_tokens=ref.output_tokens,
            as_of=as_of,
            table=table,
        )
    return result, digest


@dataclass(frozen=True)
class ActualsCost:
    total_usd: Decimal
    sha256: str
    """One digest over every file, in the order the plan names them."""
    model_ids: tuple[str, ...]
    notes: tuple[str, ...]


def actual_costs_of(ref: ActualsRef, *, as_of: dt.date, table: PriceTable) -> ActualsCost:
    """The files priced as actual usage: each record at its own date's prices, undated records (batch
    results carry no date) at `as_of`'s. A record that cannot be priced fails the workload: leaving it out
    would make the total silently low."""
    from estimator.usage import actual_costs

    digest = hashlib.sha256()
    for path in ref.resolved:
        with open_regular_file(path, "usage file") as stream:  # refuse FIFOs before the reader opens them
            digest.update(file_sha256(stream).encode())
    costs = actual_costs(list(ref.resolved), model=ref.model, as_of=as_of, table=table)
    if costs.errors or costs.unpriced_records:
        first = costs.errors[0].text() if costs.errors else "no detail"
        raise EstimatorError(
            f"{costs.unpriced_records:,} usage record(s) could not be priced, first: {first} "
            "(`python -m estimator actual` lists them)"
        )
    notes = [*costs.notes, *(problem.text() for problem in costs.problems)]
    return ActualsCost(
        total_usd=costs.total_usd,
        sha256=digest.hexdigest(),
        model_ids=tuple(model.model_id for model in costs.models),
        notes=tuple(notes),
    )
