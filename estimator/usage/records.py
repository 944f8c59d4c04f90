"""What the readers produce: one usage record per priced unit, cost-report rows, and problems.

A `UsageRecord` is one request's usage (or one iteration of it, or one row of an Admin usage report, which
sums many requests). Field names follow the SDK's `usage` object with units spelled out:
`input_tokens` excludes every cache token (the SDK's own definition); the cache writes are split by TTL
(`cache_write_5m_tokens`, `cache_write_1h_tokens`) when the source says how, and otherwise left in
`cache_write_unsplit_tokens` (old responses carry only `cache_creation_input_tokens`); `output_tokens`
includes thinking, and `thinking_tokens` is the informational split of it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, get_args

from estimator.usage.errors import UsageFileError

__all__ = [
    "COUNT_FIELDS",
    "RESULT_TYPES",
    "CostReportRow",
    "RecordKind",
    "ResultType",
    "Severity",
    "UsageProblem",
    "UsageRecord",
]

ResultType = Literal["succeeded", "errored", "canceled", "expired"]
RESULT_TYPES: tuple[ResultType, ...] = get_args(ResultType)
"""Message Batches result types; only `succeeded` is billed."""

RecordKind = Literal["batch_result", "message", "usage", "usage_report", "analytics_usage"]
Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class UsageRecord:
    """One priced unit of usage. `requests` is 1 for a request, 0 for a further iteration of the same
    request, and the report's count for an Admin report row (0 when the legacy report does not say)."""

    model: str | None
    day: dt.date | None = None
    service_tier: str | None = None
    inference_geo: str | None = None
    speed: str | None = None
    input_tokens: int = 0
    cache_write_5m_tokens: int = 0
    cache_write_1h_tokens: int = 0
    cache_write_unsplit_tokens: int = 0
    cache_read_tokens: int = 0
    output_tokens: int = 0
    thinking_tokens: int = 0
    web_search_requests: int = 0
    web_fetch_requests: int = 0
    requests: int = 1
    result_type: ResultType = "succeeded"
    custom_id: str | None = None
    kind: RecordKind = "message"
    context_window: str | None = None
    source: str = ""
    line: int = 0

    def __post_init__(self) -> None:
        # Records built by hand (price_usage, the bulk oracle) get the readers' check: a negative or fractional
        # count would price as a credit or a fraction of a token, a silently wrong figure.
        for name in COUNT_FIELDS:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                where = f"{self.source}:{self.line}: " if self.source else ""
                raise UsageFileError(f"{where}{name} must be a whole number of 0 or more, got {value!r}")

    @property
    def cache_write_tokens(self) -> int:
        return self.cache_write_5m_tokens + self.cache_write_1h_tokens + self.cache_write_unsplit_tokens

    @property
    def prompt_tokens(self) -> int:
        """Input + cache writes + cache reads: what a prompt-length tier is measured on."""
        return self.input_tokens + self.cache_write_tokens + self.cache_read_tokens


COUNT_FIELDS = (  # every count a record carries: each must be a whole number ≥ 0
    "input_tokens",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
    "cache_write_unsplit_tokens",
    "cache_read_tokens",
    "output_tokens",
    "thinking_tokens",
    "web_search_requests",
    "web_fetch_requests",
    "requests",
)


@dataclass(frozen=True, slots=True)
class CostReportRow:
    """One row of an Admin cost report. `amount_cents` is the report's own string read as a Decimal in
    cents (the API's unit: "123.45" means $1.2345), never a float."""

    day: dt.date
    amount_cents: Decimal
    currency: str
    model: str | None = None
    cost_type: str | None = None
    token_type: str | None = None
    description: str | None = None
    service_tier: str | None = None
    context_window: str | None = None
    inference_geo: str | None = None
    list_amount_cents: Decimal | None = None
    source: str = ""
    line: int = 0

    @property
    def amount_usd(self) -> Decimal:
        return self.amount_cents / 100


@dataclass(frozen=True, slots=True)
class UsageProblem:
    """Something wrong with the input, named with its file and line. An `error` left records unpriced
    (`records` of them); a `warning` priced them and says what to know."""

    source: str
    line: int
    severity: Severity
    code: str
    message: str
    custom_id: str | None = None
    records: int = 1

    def text(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        who = f" ({self.custom_id})" if self.custom_id else ""
        more = f" [{self.records:,} records]" if self.records > 1 else ""
        return f"{where}{who} [{self.severity}] {self.code}: {self.message}{more}"
