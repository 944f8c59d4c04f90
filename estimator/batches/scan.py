"""Reading batch files once: every line validated, every valid request cut at its cache breakpoints, its texts
sent to the tokenizer pool, and what its costs need kept in compact columns (`records.RequestRecords`).

The loop is the dry run's hot path (100,000 requests a file): per request it does the checks the API would make,
`cache_pieces` (a direct path for text-only requests), a handful of per-model lookups memoized in `ModelFacts`,
and appends a row. Everything else (notes, samples, media) is paid only by the requests that have it.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import IO, Any

from estimator.batches.counter import CHUNK_CHARACTERS, CHUNK_REQUESTS, PrefixCounter
from estimator.batches.reader import iter_items
from estimator.batches.records import (
    FLAG_CODE_EXECUTION,
    FLAG_GEO_US,
    FLAG_MULTI_TURN,
    FLAG_TOOL_ALLOWANCE,
    FLAG_TOOLS,
    FLAG_TOOLS_FORCED,
    RequestRecords,
)
from estimator.batches.request_facts import (
    ModelFacts,
    OutputAssumptions,
    ServerTools,
    server_tools,
    thinking_budget,
)
from estimator.batches.validation import LineProblem, LineValidator, SeenLines
from estimator.planning import lifecycle_warnings
from estimator.tokens.anatomy import RequestPieces, cache_pieces
from estimator.tokens.media import ImageSize, TokenRange
from pricing import PriceTable

__all__ = ["MediaTally", "Sample", "Scanner", "ServerToolTally"]

_SAMPLE_SEED = 20_241_008
_TTL_CODES = {"5m": 0, "1h": 1}
_ZERO_RANGE = TokenRange(0, 0, 0)

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Sample:
    row: int
    params: Mapping[str, Any]


class Reservoir:
    """A uniform random sample of each model's requests (Algorithm R), reproducible by its seed."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.seen: dict[str, int] = defaultdict(int)
        self.items: dict[str, list[Sample]] = defaultdict(list)
        self._random = random.Random(_SAMPLE_SEED)

    def offer(self, model_id: str, sample: Sample) -> None:
        self.seen[model_id] += 1
        bucket = self.items[model_id]
        if len(bucket) < self.size:
            bucket.append(sample)
            return
        slot = self._random.randrange(self.seen[model_id])
        if slot < self.size:
            bucket[slot] = sample


@dataclass
class MediaTally:
    images: int = 0
    image_tokens: TokenRange = _ZERO_RANGE
    pdfs: int = 0
    pdf_pages: int = 0
    pdf_tokens: TokenRange = _ZERO_RANGE


@dataclass
class ServerToolTally:
    web_search_requests: int = 0
    web_fetch_requests: int = 0
    code_execution_requests: int = 0
    code_execution_free_requests: int = 0


@dataclass
class FileScan:
    name: str
    bytes_read: int = 0
    lines: int = 0
    invalid_lines: int = 0
    unlisted_problems: int = 0
    problems: list[LineProblem] = field(default_factory=list)


@dataclass
class _RequestNotes:
    """What the offline count could not see, per kind, with the requests (lines) it concerns."""

    uncounted: dict[str, tuple[int, int, int, SeenLines]] = field(default_factory=dict)  # kind → blocks, min, max
    other: dict[str, SeenLines] = field(default_factory=dict)
    custom_ids: dict[int, str] = field(default_factory=dict)  # first line of each note → its custom_id

    def add(self, line: int, custom_id: str | None, problems: tuple[str, ...], uncounted: Mapping[str, int]) -> None:
        for kind, blocks in uncounted.items():
            total, low, high, lines = self.uncounted.get(kind, (0, blocks, blocks, SeenLines()))
            lines.add(line)
            self.uncounted[kind] = (total + blocks, min(low, blocks), max(high, blocks), lines)
            self._first(line, custom_id)
        for note in problems:
            self.note(note, line, custom_id)

    def note(self, note: str, line: int, custom_id: str | None = None) -> None:
        self.other.setdefault(note, SeenLines()).add(line)
        self._first(line, custom_id)

    def _first(self, line: int, custom_id: str | None) -> None:
        if custom_id is not None and len(self.custom_ids) < 10_000:
            self.custom_ids.setdefault(line, custom_id)

    def problems(self) -> list[LineProblem]:
        found = []
        for kind, (total, low, high, lines) in sorted(self.uncounted.items()):
            per_request = f"{low:,} per request" if low == high else f"{low:,} to {high:,} per request"
            requests = f"{lines.count:,} request{'s' if lines.count != 1 else ''}"
            in_all = f", {total:,} in all" if lines.count > 1 else ""
            message = (
                f"{_plural_kind(kind, total)} not counted offline ({per_request} in {requests}{in_all}; "
                f"{lines.where()}): the input estimate leaves them out; --api counts them exactly"
            )
            found.append(self._problem(lines, message))
        for note, lines in self.other.items():
            requests = f"{lines.count:,} request{'s' if lines.count != 1 else ''}"
            found.append(self._problem(lines, f"{note} ({requests}: {lines.where()})"))
        return found

    def _problem(self, lines: SeenLines, message: str) -> LineProblem:
        first = lines.lines[0]
        return LineProblem(
            first, self.custom_ids.get(first), "warning", "request_note", message, None, tuple(lines.lines)
        )


def _plural_kind(kind: str, count: int) -> str:
    names = {"image": "image", "document": "document (PDF or file)", "redacted_thinking": "redacted thinking block"}
    name = names.get(kind, f"{kind} block")
    if count == 1:
        return name
    return name.replace("document (", "documents (") if kind == "document" else f"{name}s"


_WEB_FETCH_NOTE = (
    "web fetch: the fetched content is billed as input tokens, which cannot be counted offline (about 2,500 tokens "
    "for a 10 kB page; cap them with max_content_tokens)"
)
_WEB_SEARCH_NOTE = "web search: the result tokens are billed as input and cannot be counted offline"
_CODE_FREE_NOTE = "code execution: free alongside the request's web search / web fetch tool version"


class Scanner:
    """Reads the files one after the other into one set of records, one tokenizer pool and per-file problems."""

    def __init__(
        self,
        table: PriceTable,
        day: dt.date,
        assumptions: OutputAssumptions,
        *,
        sample_size: int,
        max_bytes: int,
        on_progress: Progress | None,
        total_bytes: int,
    ) -> None:
        self.table = table
        self.day = day
        self.assumptions = assumptions
        self.records = RequestRecords()
        self.counter = PrefixCounter(self.records)
        self.reservoir = Reservoir(sample_size) if sample_size else None
        self.files: list[FileScan] = []
        self.facts: dict[str, ModelFacts] = {}
        self.media: dict[str, MediaTally] = defaultdict(MediaTally)
        self.tools: dict[str, ServerToolTally] = defaultdict(ServerToolTally)
        self.max_bytes = max_bytes
        self._on_progress = on_progress
        self._total_bytes = total_bytes
        self._bytes_before = 0
        self._visible: dict[int, int] = {}  # expected visible output by max_tokens (a file has few values)
        self._thinking: dict[tuple[int, int | None], int] = {}  # expected thinking by (max_tokens, budget)
        rules = getattr(table.rules, "code_execution", None)
        self._code_free_from: dt.date | None = getattr(rules, "free_with_web_tools_from", None)

    def scan(self, stream: IO[bytes], size: int | None, name: str) -> FileScan:
        """Read one file; its requests join the records, its problems stay with it."""
        scan = FileScan(name)
        self.files.append(scan)
        self.records.file_starts.append(len(self.records))
        validator = LineValidator(self.table, self.day)
        notes = _RequestNotes()
        total = max(self._total_bytes, size or 0)

        def on_bytes(count: int) -> None:
            scan.bytes_read += count
            if self._on_progress is not None:
                done = self._bytes_before + scan.bytes_read
                self._on_progress("reading", done, max(total, done))

        try:
            for item in iter_items(stream, on_bytes, max_bytes=self.max_bytes, name=name):
                line = item.line
                if line > scan.lines:
                    scan.lines = line
                custom_id, params, model = validator.check(item)
                if params is None or model is None:
                    continue
                facts = self.facts.get(model.id)
                if facts is None:
                    facts = self.facts[model.id] = ModelFacts(model, len(self.records.model_ids), self.table)
                    self.records.model_ids.append(model.id)
                    self.records.fixed_by_model.append(facts.fixed_totals)
                request = cache_pieces(params)
                if request.problems or request.uncounted_blocks:
                    notes.add(line, custom_id, request.problems, request.uncounted_blocks)
                self._append(line, item.size_bytes, params, facts, request, notes, custom_id)
                counter = self.counter
                if counter.buffered_requests >= CHUNK_REQUESTS or counter.buffered_characters >= CHUNK_CHARACTERS:
                    counter.flush()
        except BaseException:
            self.counter.close()
            raise
        self._bytes_before += scan.bytes_read
        problems = validator.finish() + notes.problems() + _lifecycle_problems(validator, self.table, self.day)
        problems.sort(key=lambda p: p.line)
        scan.problems = [replace(problem, file=name) for problem in problems]
        scan.invalid_lines = validator.invalid_lines
        scan.unlisted_problems = sum(validator.unlisted.values())
        return scan

    def finish(self) -> None:
        self.counter.finish()

    def visible_of(self, max_tokens: int) -> int:
        """The expected visible output of a request, by the output assumption (memoized: few distinct values)."""
        visible = self._visible.get(max_tokens)
        if visible is None:
            visible = self._visible[max_tokens] = self.assumptions.visible_tokens(max_tokens)
        return visible

    def _append(
        self,
        line: int,
        size_bytes: int,
        params: Mapping[str, Any],
        facts: ModelFacts,
        request: RequestPieces,
        notes: _RequestNotes,
        custom_id: str | None,
    ) -> None:
        records = self.records
        row = len(records.line)
        max_tokens: int = params["max_tokens"]
        flags = FLAG_GEO_US if params.get("inference_geo") == "us" else 0
        searches = 0
        if "tools" in params:
            fixed = facts.fixed(params)
            if fixed.total_tokens != facts.without_tools.total_tokens or fixed.notes:
                flags |= FLAG_TOOLS | (FLAG_TOOLS_FORCED if fixed.total_tokens != facts.with_tools.total_tokens else 0)
            if fixed.notes:
                for note in fixed.notes:
                    notes.note(note, line, custom_id)
                if fixed.tool_prompt_allowance:
                    flags |= FLAG_TOOL_ALLOWANCE
            tools = server_tools(params["tools"], self._code_free_from)
            if tools is not None:
                tool_flags, searches = self._server_tools(tools, row, facts.model.id, line, notes)
                flags |= tool_flags
        if request.user_turns > 1:
            flags |= FLAG_MULTI_TURN
        visible = self._visible.get(max_tokens)
        if visible is None:
            visible = self._visible[max_tokens] = self.assumptions.visible_tokens(max_tokens)
        thinking = 0
        if "thinking" in params or facts.thinks_by_default:
            budget = thinking_budget(params, facts.model.id)
            if budget is not False:
                key = (max_tokens, budget)
                thinking = self._thinking.get(key, -1)
                if thinking < 0:
                    thinking = self._thinking[key] = self.assumptions.thinking_tokens(max_tokens, visible, budget)
        media = 0
        if request.has_media:
            media = self._media(request, facts, row)
        elif request.pieces:
            records.breakpoint_media.extend(bytes(len(request.pieces)))
        records.line.append(line)
        records.model.append(facts.index)
        records.max_tokens.append(max_tokens)
        records.flags.append(flags)
        records.size_bytes.append(size_bytes)
        records.text_cl100k.append(0)
        records.thinking_output.append(thinking)
        records.media_tokens.append(media)
        records.web_searches.append(searches)
        records.breakpoint_count.append(len(request.pieces))
        for piece in request.pieces:
            records.breakpoint_ttl.append(_TTL_CODES[piece.ttl])
        self.counter.add(row, request)
        if self.reservoir is not None:
            self.reservoir.offer(facts.model.id, Sample(row, params))

    def _server_tools(
        self, tools: ServerTools, row: int, model_id: str, line: int, notes: _RequestNotes
    ) -> tuple[int, int]:
        """(flags, expected web searches) of a request with server tools; notes and per-model counts on the way."""
        tally, flags, searches = self.tools[model_id], 0, 0
        if tools.web_search:
            tally.web_search_requests += 1
            expected = self.assumptions.web_searches
            if tools.web_search_max_uses is not None:
                expected = min(expected, tools.web_search_max_uses)
                if tools.web_search_max_uses > expected:
                    self.records.web_search_high[row] = min(tools.web_search_max_uses, 65_535)
            searches = expected
            notes.note(_WEB_SEARCH_NOTE, line)
        if tools.web_fetch:
            tally.web_fetch_requests += 1
            notes.note(_WEB_FETCH_NOTE, line)
        if tools.code_execution:
            if tools.code_execution_free:
                tally.code_execution_free_requests += 1
                notes.note(_CODE_FREE_NOTE, line)
            else:
                tally.code_execution_requests += 1
                flags |= FLAG_CODE_EXECUTION
        return flags, searches

    def _media(self, request: RequestPieces, facts: ModelFacts, row: int) -> int:
        """The request's media tokens (expected); the media before each breakpoint; the range kept aside."""
        records, tally = self.records, self.media[facts.model.id]
        total = _ZERO_RANGE
        for piece in request.pieces:
            total = total + self._media_range(piece.media, facts, tally)
            records.breakpoint_media.append(total.expected_tokens)
        total = total + self._media_range(request.tail_media, facts, tally)
        below, above = total.expected_tokens - total.low_tokens, total.high_tokens - total.expected_tokens
        if below or above:
            records.media_band[row] = (below, above)
        return total.expected_tokens

    @staticmethod
    def _media_range(items: tuple[Any, ...], facts: ModelFacts, tally: MediaTally) -> TokenRange:
        total = _ZERO_RANGE
        for item in items:
            tokens = facts.media_tokens(item)
            total = total + tokens
            if isinstance(item, ImageSize):
                tally.images += 1
                tally.image_tokens = tally.image_tokens + tokens
            else:
                tally.pdfs += 1
                tally.pdf_pages += item.pages
                tally.pdf_tokens = tally.pdf_tokens + tokens
        return total


def _lifecycle_problems(validator: LineValidator, table: PriceTable, day: dt.date) -> list[LineProblem]:
    """The warnings `estimate` gives for a deprecated model, word for word, with the lines that use it."""
    problems = []
    for model_id, lines in validator.deprecated.items():
        for warning in lifecycle_warnings(model_id, day, table=table):
            if warning.code == "deprecated":
                message = (
                    f"{warning.message} ({lines.count:,} request{'s' if lines.count != 1 else ''}: {lines.where()})"
                )
                problems.append(
                    LineProblem(lines.lines[0], None, "warning", "model_deprecated", message, None, tuple(lines.lines))
                )
    return problems
