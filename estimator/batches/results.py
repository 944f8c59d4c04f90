"""What a dry run returns: frozen records of figures (tokens as ints, money as exact Decimal), never text to parse."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from estimator.batches.validation import LineProblem
from estimator.tokens.counting import CountSource
from estimator.workload import Mode

__all__ = ["BatchSlice", "DryRunResult", "FileDryRun", "MediaTokens", "ModeRange", "ModelDryRun", "ServerToolUse"]


@dataclass(frozen=True)
class BatchSlice:
    """One batch of a split plan: lines `first_line`..`last_line` of `file` (a batch never spans two files)."""

    index: int
    first_line: int
    last_line: int
    requests: int
    bytes: int
    file: str = ""


@dataclass(frozen=True)
class ModeRange:
    mode: Mode
    low_usd: Decimal | None
    expected_usd: Decimal | None
    high_usd: Decimal | None
    unavailable_reason: str | None = None

    @property
    def available(self) -> bool:
        return self.unavailable_reason is None


@dataclass(frozen=True)
class MediaTokens:
    """Images and PDFs counted offline from their headers, with the range their rules allow."""

    images: int = 0
    image_tokens_low: int = 0
    image_tokens_expected: int = 0
    image_tokens_high: int = 0
    pdfs: int = 0
    pdf_pages: int = 0
    pdf_tokens_low: int = 0
    pdf_tokens_expected: int = 0
    pdf_tokens_high: int = 0

    @property
    def tokens_expected(self) -> int:
        return self.image_tokens_expected + self.pdf_tokens_expected


@dataclass(frozen=True)
class ServerToolUse:
    """Server tools found in the requests' `tools`, and what the priced ones are expected to cost."""

    web_search_requests: int = 0
    web_searches_expected: int = 0
    web_searches_high: int = 0
    web_search_usd_expected: Decimal = Decimal(0)
    web_fetch_requests: int = 0
    code_execution_requests: int = 0
    """Requests that pay container time (free alongside the dated web tools otherwise)."""
    code_execution_free_requests: int = 0
    code_execution_hours: Decimal = Decimal(0)
    code_execution_usd: Decimal | None = Decimal(0)
    """None: the price table has no code-execution rate."""


@dataclass(frozen=True)
class ModelDryRun:
    model_id: str
    model_name: str
    requests: int
    input_tokens_low: int
    input_tokens_expected: int
    input_tokens_high: int
    cacheable_tokens: int
    cache_write_tokens: Decimal
    cache_read_tokens: Decimal
    distinct_prefixes: int
    output_tokens_max: int
    output_tokens_expected: int
    """Visible output and thinking together, as billed (thinking is output)."""
    count_source: CountSource
    count_detail: str
    costs: tuple[ModeRange, ...]
    thinking_tokens_expected: int = 0
    thinking_requests: int = 0
    multi_turn_requests: int = 0
    media: MediaTokens = MediaTokens()
    server_tools: ServerToolUse = ServerToolUse()

    @property
    def visible_output_tokens_expected(self) -> int:
        return self.output_tokens_expected - self.thinking_tokens_expected

    def cost(self, mode: Mode) -> ModeRange:
        return next(item for item in self.costs if item.mode == mode)


@dataclass(frozen=True)
class FileDryRun:
    """One file's share of a dry run of several."""

    name: str
    bytes_read: int
    lines: int
    requests: int
    invalid_lines: int
    errors: int
    warnings: int
    input_tokens_expected: int
    output_tokens_expected: int
    thinking_tokens_expected: int
    totals: tuple[ModeRange, ...]

    def total(self, mode: Mode) -> ModeRange:
        return next(item for item in self.totals if item.mode == mode)


@dataclass(frozen=True)
class DryRunResult:
    source_name: str
    bytes_read: int
    lines: int
    requests: int
    invalid_lines: int
    problems: tuple[LineProblem, ...]
    models: tuple[ModelDryRun, ...]
    totals: tuple[ModeRange, ...]
    split: tuple[BatchSlice, ...]
    hit_rate: Decimal
    output_assumption: str
    notes: tuple[str, ...]
    unlisted_problems: int = 0
    """Problems counted but not listed (past MAX_LISTED_PER_CODE of one code); the list says so per code."""
    files: tuple[FileDryRun, ...] = ()
    """Per file, in the order given (one entry for a single file)."""
    assumptions: tuple[str, ...] = ()
    """Every assumption the costs rest on, in words (output, thinking, hit rate, server tools, media)."""

    @property
    def needs_split(self) -> bool:
        """Whether some file holds more than one batch can take."""
        return len(self.split) > max(1, len(self.files))

    @property
    def errors(self) -> tuple[LineProblem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    def total(self, mode: Mode) -> ModeRange:
        return next(item for item in self.totals if item.mode == mode)
