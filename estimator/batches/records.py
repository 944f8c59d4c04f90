"""What the dry run keeps of each request, in compact columns: about 30 bytes a request plus 9 per cache breakpoint.

A 100,000-request batch file kept as one Python object per request costs ~50 MB (0.5 KB each); kept here in
`array` columns it costs ~5 MB. The columns hold only what the costs need once the file has been read: where the
request is (its line), its model, its size, its token figures and its cache breakpoints (by interned prefix id).
Requests are appended in file order; those of one file are contiguous (`file_starts`).

What can be derived is not stored: the fixed tokens (message frame, tool-use system prompt) from the model and
two flags, the expected visible output from max_tokens.

`SeenIds` remembers the custom_ids of a file in 12 bytes each (a 64-bit hash and a line, in an open-addressing
table at most three quarters full: 16 to 32 bytes a request), where a `dict[str, int]` takes ~150. Two different
ids share a hash with probability ~n²/2⁶⁵ (3·10⁻¹⁰ for a full batch): such a pair would be reported as a duplicate,
never passed silently.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field

__all__ = [
    "FLAG_CODE_EXECUTION",
    "FLAG_GEO_US",
    "FLAG_MULTI_TURN",
    "FLAG_TOOLS",
    "FLAG_TOOLS_FORCED",
    "FLAG_TOOL_ALLOWANCE",
    "RequestRecords",
    "SeenIds",
]

FLAG_GEO_US = 1
"""`inference_geo: "us"`: every token rate × the residency multiplier."""
FLAG_TOOL_ALLOWANCE = 2
"""The model's tool-use system prompt is not published: the high estimate allows for the largest one."""
FLAG_CODE_EXECUTION = 4
"""The request carries the code-execution tool and pays for container time (not free alongside web tools)."""
FLAG_MULTI_TURN = 8
"""The request is a conversation: more than one user message (tool results included)."""
FLAG_TOOLS = 16
"""The request carries tools: the model's tool-use system prompt is added."""
FLAG_TOOLS_FORCED = 32
"""... with tool_choice any / tool (the larger prompt, where published)."""

_HASH_MASK = (1 << 64) - 1


@dataclass
class RequestRecords:
    """Columns of the valid requests, one row per request, in file order."""

    line: array[int] = field(default_factory=lambda: array("I"))
    model: array[int] = field(default_factory=lambda: array("H"))  # index into `model_ids`
    max_tokens: array[int] = field(default_factory=lambda: array("I"))
    flags: array[int] = field(default_factory=lambda: array("B"))
    size_bytes: array[int] = field(default_factory=lambda: array("I"))
    text_cl100k: array[int] = field(default_factory=lambda: array("I"))  # set once the request's chunk is counted
    thinking_output: array[int] = field(default_factory=lambda: array("I"))  # expected, by the thinking assumption
    media_tokens: array[int] = field(default_factory=lambda: array("I"))  # images and PDFs, expected
    web_searches: array[int] = field(default_factory=lambda: array("H"))  # expected uses
    breakpoint_count: array[int] = field(default_factory=lambda: array("B"))
    # One row per cache breakpoint, in request order: the interned prefix, its TTL, and the media tokens up to it.
    breakpoint_key: array[int] = field(default_factory=lambda: array("I"))
    breakpoint_ttl: array[int] = field(default_factory=lambda: array("B"))  # 0: 5m, 1: 1h
    breakpoint_media: array[int] = field(default_factory=lambda: array("I"))
    media_band: dict[int, tuple[int, int]] = field(default_factory=dict)
    """Per request with media whose range is not a point: (tokens below expected, tokens above expected)."""
    web_search_high: dict[int, int] = field(default_factory=dict)
    """Per request whose web-search tool allows more uses than expected: its `max_uses`."""
    model_ids: list[str] = field(default_factory=list)
    fixed_by_model: list[tuple[int, int, int]] = field(default_factory=list)
    """Per model: the fixed tokens of a request without tools, with tools, with a forced tool choice."""
    file_starts: list[int] = field(default_factory=list)
    """The row of each file's first request (a file with no valid request starts where the next one does)."""

    def __len__(self) -> int:
        return len(self.line)

    def fixed_tokens(self, row: int) -> int:
        """The message frame and tool-use system prompt of a request (known exactly, not estimated)."""
        flags, fixed = self.flags[row], self.fixed_by_model[self.model[row]]
        return fixed[0] if not flags & FLAG_TOOLS else fixed[2] if flags & FLAG_TOOLS_FORCED else fixed[1]

    def file_of(self, row: int) -> int:
        """The index of the file a row belongs to (rows of a file are contiguous)."""
        found = 0
        for index, start in enumerate(self.file_starts):
            if start <= row:
                found = index
        return found

    def file_rows(self, index: int) -> range:
        end = self.file_starts[index + 1] if index + 1 < len(self.file_starts) else len(self)
        return range(self.file_starts[index], end)


class SeenIds:
    """The custom_ids seen in one file, as 64-bit hashes with the line of their first use."""

    def __init__(self) -> None:
        self._hashes = array("Q", bytes(8 * 1024))
        self._lines = array("I", bytes(4 * 1024))
        self._mask = 1023
        self._count = 0

    def first_line(self, custom_id: str, line: int) -> int | None:
        """The line where `custom_id` was first seen, or None (and it is recorded here, on `line`)."""
        wanted = (hash(custom_id) & _HASH_MASK) | 1  # 0 marks an empty slot
        hashes, mask = self._hashes, self._mask
        slot = wanted & mask
        while True:
            found = hashes[slot]
            if found == 0:
                break
            if found == wanted:
                return self._lines[slot]
            slot = (slot + 1) & mask
        hashes[slot] = wanted
        self._lines[slot] = line
        self._count += 1
        if self._count * 4 > mask * 3:
            self._grow()
        return None

    def _grow(self) -> None:
        old_hashes, old_lines = self._hashes, self._lines
        size = (self._mask + 1) * 2
        self._hashes = hashes = array("Q", bytes(8 * size))
        self._lines = lines = array("I", bytes(4 * size))
        self._mask = mask = size - 1
        for index, wanted in enumerate(old_hashes):
            if wanted:
                slot = wanted & mask
                while hashes[slot]:
                    slot = (slot + 1) & mask
                hashes[slot] = wanted
                lines[slot] = old_lines[index]
