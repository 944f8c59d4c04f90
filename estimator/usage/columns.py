"""Adding up columns of usage fast: the engine under `price_columns`.

`UsageAccumulator.add` takes one request at a time, with every check; a million rows spend most of their
time in that call. Here the rows are added to the accumulator's own integer sums (the same keys: day,
model, service tier, data residency, speed, prompt-length tier, cache use) by a loop compiled for the
columns given, and only the rows that need more than additions go through `add` itself:

- a key's first row: `add` creates the key, resolves its rates, says its warnings and refusals, in row
  order, exactly as row by row; the loop then adds the key's next rows to the sums `add` made.
- every row of a refused key (unknown model, date before the first price, no price for the tier, ...):
  `add` lists it under its refusal, so refusals keep their counts and first lines.
- a row with a bad count (not an int, a bool, negative): refused with its row number and the message the
  row-by-row path gave. Counts are checked at C speed, a chunk at a time (`all_counts`); a chunk that
  fails has its bad rows found one by one and set aside.

A model with prompt-length tiers (Haiku 5.5 over 100K) costs its rows one more step: its keys are not in
the loop's main table, and on the miss the loop adds up the row's prompt and picks the tier's sums.

Why a loop rather than partitioning at C speed (`itertools.compress` per group, a sort, `list.append` into
buckets): usage has thousands of keys (six models × 55 days × tiers, geos and cache use make ~4,000), so
selecting each group's rows costs a pass over the rows per group, and a sort or buckets move every count
through memory in random order. On `benchmarks/bench_columns.py`'s records, partitioning level by level
took ~3x the row-by-row path's time; this loop takes a fraction of it.

The columns are read `CHUNK_ROWS` rows at a time: the checks and the loop find a chunk's values in the CPU
cache, and the extra memory is a chunk's slices, whatever the number of rows.
"""

from __future__ import annotations

import datetime as dt
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from itertools import count
from typing import Any, Protocol

from estimator.usage.records import COUNT_FIELDS, ResultType, UsageProblem

__all__ = ["CHUNK_ROWS", "SUM_FIELDS", "RowSink", "all_counts", "bad_count_problem", "sum_columns"]

CHUNK_ROWS = 4_096
"""Rows read and checked at a time: small enough that a chunk's values stay in the CPU cache between the
checks and the loop, large enough that the steps per chunk cost little per row."""

SUM_FIELDS = ("requests", "records", *COUNT_FIELDS[:-1])
"""The layout of a key's integer sums in the accumulator: requests, records, then the count fields."""

_POSITION = {name: index for index, name in enumerate(SUM_FIELDS)}
_PROMPT_FIELDS = COUNT_FIELDS[:5]  # input, cache writes (5m, 1h, unsplit), cache reads: a tier's measure
_DENSE_FIELDS = ("input_tokens", "output_tokens", "requests")  # seldom 0: added without a test
_KEY_NAMES = ("model", "day", "service_tier", "geo", "speed")
_TEXT_OR_NONE = frozenset({str, type(None)})
_KEY_TYPES = (frozenset({str}), frozenset({dt.date}), _TEXT_OR_NONE, _TEXT_OR_NONE, _TEXT_OR_NONE)
"""The types a key column's values may have (exactly: a datetime is not a day, and has no one UTC day here)."""
_KEY_WORDS = {
    "model": "a model id or name (text)",
    "day": "a datetime.date (for a timestamp, its .date())",
    "service_tier": "text or None",
    "geo": "text or None",
    "speed": "text or None",
}
_INT = frozenset({int})


class RowSink(Protocol):
    """What the engine needs from the accumulator (`UsageAccumulator` is one)."""

    @property
    def requests_by_result(self) -> MutableMapping[ResultType, int]: ...

    def add(self, *row: Any) -> None:
        """One row, positionally as `UsageAccumulator.add` takes it."""

    def problem(self, problem: UsageProblem, *, unpriced: bool = False) -> None: ...

    def sums_for(
        self, model: Any, day: Any, service_tier: Any, geo: Any, speed: Any, tier: int | None, cached: int
    ) -> list[int] | None:
        """The live sums of a key once `add` has made it; None when it was refused."""

    def prompt_tiers(self, model: Any, day: Any) -> tuple[int, ...]:
        """The prompt-length thresholds of the model's prices on that day, once `add` has seen them."""


def sum_columns(
    sink: RowSink,
    keys: Sequence[Sequence[Any] | None],
    counts: Mapping[str, Sequence[Any]],
    rows: int,
    source: str,
) -> None:
    """Add `rows` rows to `sink`. `keys`: the models, days, service tiers, inference geos and speeds columns
    (None: absent, every row None); `counts`: the count columns given, by `COUNT_FIELDS` name (an absent
    count is 0, an absent `requests` 1). Every column has `rows` rows."""
    present = tuple(name for name in COUNT_FIELDS if name in counts)
    key_names = tuple(name for name, column in zip(_KEY_NAMES, keys, strict=True) if column is not None)
    loop = _compiled_loop(key_names, present)
    summer = _Summer(sink, keys, [counts.get(name) for name in COUNT_FIELDS], loop, source)
    for start in range(0, rows, CHUNK_ROWS):
        summer.chunk(start, min(rows, start + CHUNK_ROWS))
    if "requests" not in counts:
        # Every row was one request: the loop counted records only (`add` counts both, alike).
        for sums in summer.registered:
            sums[_POSITION["requests"]] = sums[_POSITION["records"]]


class _Summer:
    """The state across chunks: the loop's tables (loop key → sums; for a tiered key, its thresholds and
    each tier's sums) and the current chunk's slices."""

    def __init__(
        self,
        sink: RowSink,
        keys: Sequence[Sequence[Any] | None],
        counts: list[Sequence[Any] | None],
        loop: _Loop,
        source: str,
    ) -> None:
        self.sink = sink
        self.keys = keys
        self.counts = counts
        self.loop = loop
        self.source = source
        self.fast: dict[Any, list[int]] = {}
        self.tiered: dict[Any, tuple[tuple[int, ...], list[list[int] | None]]] = {}
        self.registered: list[list[int]] = []
        self.first_row = 1
        self.key_slices: list[Sequence[Any] | None] = []
        self.count_slices: list[Sequence[Any] | None] = []

    def chunk(self, start: int, end: int) -> None:
        self.first_row = start + 1
        self.key_slices = [None if column is None else _slice(column, start, end) for column in self.keys]
        self.count_slices = [None if column is None else _slice(column, start, end) for column in self.counts]
        size = end - start
        begin = 0
        for index in [*sorted(self._bad_rows()), size]:
            if index > begin:
                self._run(begin, index)
            if index < size:
                self._add_bad_row(index)
            begin = index + 1

    def _bad_rows(self) -> set[int]:
        """Rows of this chunk with a count that is not an int ≥ 0, or a key of the wrong type (a model that is
        not text, a day that is not a date): checked at C speed, sought row by row only in a column that
        has one. (A key of the wrong type would reach the pricer, or be unhashable in the loop's table.)"""
        bad: set[int] = set()
        for values in self.count_slices:
            if values is None or all_counts(values):
                continue
            bad.update(index for index, value in enumerate(values) if type(value) is not int or value < 0)
        for values, allowed in zip(self.key_slices, _KEY_TYPES, strict=True):
            if values is None or allowed.issuperset(map(type, values)):
                continue
            bad.update(index for index, value in enumerate(values) if type(value) not in allowed)
        return bad

    def _run(self, begin: int, end: int) -> None:
        """The compiled loop over rows [begin, end) of the chunk, none of them bad."""
        whole = begin == 0 and end == len(self.key_slices[0] or ())
        keys = [v if whole else v[begin:end] for v in self.key_slices if v is not None]
        counts = [v if whole else v[begin:end] for v in self.count_slices if v is not None]
        rows = zip(count(self.first_row + begin), *keys, *counts)
        self.loop(rows, self.fast.get, self.tiered.get, self._through_add)
        requests = self.count_slices[-1]
        self.sink.requests_by_result["succeeded"] += end - begin if requests is None else sum(counts[-1])

    def _through_add(self, row: int, loop_key: Any) -> None:
        """A row the loop has no sums for (its key's first row, a refused key's, a new tier's): added by
        `add`, after which the loop adds the key's next rows itself when the key is priced."""
        index = row - self.first_row
        model, day, service_tier, geo, speed = (None if v is None else v[index] for v in self.key_slices)
        numbers = self._numbers(index)
        self.sink.add(model, day, service_tier, geo, speed, *numbers, self.source, row)
        cached = 2 if numbers[2] else int(bool(numbers[1] or numbers[3] or numbers[4]))  # as `add` has it
        thresholds = self.sink.prompt_tiers(model, day)
        if not thresholds:
            sums = self.sink.sums_for(model, day, service_tier, geo, speed, None, cached)
            if sums is not None:
                self.fast[loop_key] = sums
                self.registered.append(sums)
            return
        if list(thresholds) != sorted(set(thresholds)):
            return  # never seen in the table; `add` takes every row of such a key
        tiers = self.tiered.get(loop_key)
        if tiers is None:
            tiers = self.tiered[loop_key] = (thresholds, [None] * (len(thresholds) + 1))
        crossed = bisect_left(thresholds, sum(numbers[:5]))  # how many thresholds the prompt is over
        tier = thresholds[crossed - 1] if crossed else None
        sums = self.sink.sums_for(model, day, service_tier, geo, speed, tier, cached)
        if sums is not None:
            tiers[1][crossed] = sums
            self.registered.append(sums)

    def _add_bad_row(self, index: int) -> None:
        """A row with a key of the wrong type or a bad count, refused as the row-by-row path refused it: its
        first bad key or count named."""
        row = self.first_row + index
        for name, values, allowed in zip(_KEY_NAMES, self.key_slices, _KEY_TYPES, strict=True):
            if values is not None and type(values[index]) not in allowed:
                message = f"{name} must be {_KEY_WORDS[name]}, got {_shown(values[index])}"
                self.sink.problem(UsageProblem(self.source, row, "error", "invalid_key", message), unpriced=True)
                return
        numbers = self._numbers(index)
        bad = next(i for i, v in enumerate(numbers) if type(v) is not int or v < 0)
        self.sink.problem(bad_count_problem(self.source, row, COUNT_FIELDS[bad], numbers[bad]), unpriced=True)

    def _numbers(self, index: int) -> list[Any]:
        """Row `index`'s counts in `COUNT_FIELDS` order (absent: 0, and 1 request)."""
        numbers = [0 if v is None else v[index] for v in self.count_slices]
        if self.count_slices[-1] is None:
            numbers[-1] = 1
        return numbers


def _shown(value: Any) -> str:
    """A bad key in a message: its type and a short repr (a value may be anything, of any size)."""
    text = repr(value)
    return f"{type(value).__name__} {text[:60] + '…' if len(text) > 60 else text}"


def _slice(column: Sequence[Any], start: int, end: int) -> Sequence[Any]:
    """Rows [start, end) as a list or tuple (what the C-level checks and the loop read fastest)."""
    if start == 0 and end == len(column) and isinstance(column, list | tuple):
        return column
    part = column[start:end]
    return part if isinstance(part, list | tuple) else list(part)


def bad_count_problem(source: str, row: int, field: str, value: object) -> UsageProblem:
    """A row refused for its first bad count, in the words of every columnar path."""
    return UsageProblem(source, row, "error", "invalid_count", f"{field} must be an int ≥ 0, got {value!r}")


def all_counts(values: Sequence[Any]) -> bool:
    """Every value an int (not a bool, not a subclass) ≥ 0, checked at C speed: the types first, then an
    unsigned 64-bit array takes them all only if none is negative (a count of 2**64 or more fails here too,
    and is then found valid row by row)."""
    if not _INT.issuperset(map(type, values)):
        return False
    try:
        array("Q", values)
    except OverflowError:
        return False
    return True


# --- the compiled loop ------------------------------------------------------------------------------

_Loop = Callable[
    [Iterator[tuple[Any, ...]], Callable[[Any], Any], Callable[[Any], Any], Callable[[int, Any], None]], None
]
_LOOPS: dict[tuple[tuple[str, ...], tuple[str, ...]], _Loop] = {}


def _compiled_loop(keys: tuple[str, ...], present: tuple[str, ...]) -> _Loop:
    """The row loop for these key and count columns, written out and compiled once (as `namedtuple` and
    `dataclasses` do): a column that was not given costs nothing per row, rather than an addition of 0."""
    loop = _LOOPS.get((keys, present))
    if loop is None:
        namespace: dict[str, Any] = {"bisect_left": bisect_left}
        exec(_loop_source(keys, present), namespace)  # the source is built from our own names only
        loop = _LOOPS[(keys, present)] = namespace["loop"]
    return loop


def _loop_source(keys: tuple[str, ...], present: tuple[str, ...]) -> str:
    """The loop's source. Per row: its loop key (the key columns given and the cache use, as `add`
    computes it), one dict look-up, and an addition per count column given (skipped when the count is 0,
    as most cache and search counts are)."""
    writes = [name for name in _PROMPT_FIELDS[1:] if name in present and name != "cache_write_1h_tokens"]
    cached = f"1 if {' or '.join(writes)} else 0" if writes else "0"
    if "cache_write_1h_tokens" in present:
        cached = f"2 if cache_write_1h_tokens else {cached}"
    prompt = " + ".join(name for name in _PROMPT_FIELDS if name in present) or "0"
    lines = [
        "def loop(rows, get, get_tiered, through_add):",
        f"    for {', '.join(('row', *keys, *present))} in rows:",
        f"        loop_key = ({', '.join(keys)}, {cached})",
        "        sums = get(loop_key)",
        "        if sums is None:",
        "            tiers = get_tiered(loop_key)",
        "            if tiers is not None:",
        f"                sums = tiers[1][bisect_left(tiers[0], {prompt})]",
        "            if sums is None:",
        "                through_add(row, loop_key)",
        "                continue",
        f"        sums[{_POSITION['records']}] += 1",
    ]
    for name in present:
        add_line = f"sums[{_POSITION[name]}] += {name}"
        lines.append(f"        {add_line}" if name in _DENSE_FIELDS else f"        if {name}: {add_line}")
    return "\n".join(lines) + "\n"
