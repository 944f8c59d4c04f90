"""Counting a batch file's text with cl100k on every core while the main thread goes on reading it.

The main thread parses and validates (Python, holding the GIL); tiktoken encodes with the GIL released, so the
texts are handed over in chunks of about a thousand requests to a pool with one worker per core, and the main
thread waits only when more chunks are in flight than the workers can take. Each distinct cached prefix is
tokenized once: a prefix key seen before (even in a chunk still being counted) is referred to by its interned id,
and its count is read when the chunk that counts it is collected, chunks being collected in the order they were
sent.
"""

from __future__ import annotations

import os
from array import array
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from estimator.batches.records import RequestRecords
from estimator.tokens.anatomy import RequestPieces
from estimator.tokens.offline import cl100k_token_counts, non_latin_letter_share

__all__ = ["CHUNK_CHARACTERS", "CHUNK_REQUESTS", "PrefixCounter"]

CHUNK_REQUESTS = 1_000
CHUNK_CHARACTERS = 1 << 19
"""A chunk is sent at 1,000 requests or 512 K characters of text, whichever comes first: ~40 ms of tokenizing,
small enough to keep the workers fed, and at most cores + 2 chunks in memory at once (a few MB)."""

_Pending = list[tuple[int, int, int]]  # (key id, previous key id or -1, index of the piece's text in the chunk)
_Rows = list[tuple[int, int, int]]  # (record row, last key id or -1, index of the tail's text in the chunk)


def _count_texts(texts: Sequence[str]) -> list[int]:
    # One thread per chunk: the pool gives each core a chunk of its own.
    return cl100k_token_counts(texts, num_threads=1)


class PrefixCounter:
    """Interns prefix keys, batches texts, counts them on a pool, and writes the counts into the records."""

    def __init__(self, records: RequestRecords, threads: int | None = None) -> None:
        self.records = records
        self.key_ids: dict[str, int] = {}
        self.key_cl100k = array("I")  # cumulative cl100k tokens of each interned prefix, once counted
        self._texts: list[str] = []
        self.buffered_characters = 0
        self._pending: _Pending = []
        self._rows: _Rows = []
        workers = threads or _usable_cpus()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cl100k")
        self._max_in_flight = workers + 1
        self._in_flight: deque[tuple[Future[list[int]], _Pending, _Rows]] = deque()
        self.letters_non_latin = 0.0
        self.letters_sampled = 0

    @property
    def buffered_requests(self) -> int:
        return len(self._rows)

    def add(self, row: int, request: RequestPieces) -> None:
        """Queue a request's texts; its breakpoints' prefix ids go into the records now."""
        key_ids, texts = self.key_ids, self._texts
        previous = -1
        for piece in request.pieces:
            key_id = key_ids.get(piece.prefix_key)
            if key_id is None:
                key_id = key_ids[piece.prefix_key] = len(key_ids)
                self.key_cl100k.append(0)
                self._pending.append((key_id, previous, len(texts)))
                texts.append(piece.text)
                self.buffered_characters += len(piece.text)
            self.records.breakpoint_key.append(key_id)
            previous = key_id
        self._rows.append((row, previous, len(texts)))
        texts.append(request.tail_text)
        self.buffered_characters += len(request.tail_text)

    def flush(self) -> None:
        """Send the buffered chunk to the pool; collect the oldest chunks while too many are in flight."""
        if self._rows:
            self._sample_scripts(self._texts)
            future = self._pool.submit(_count_texts, self._texts)
            self._in_flight.append((future, self._pending, self._rows))
            self._texts, self._pending, self._rows = [], [], []
            self.buffered_characters = 0
        while len(self._in_flight) > self._max_in_flight:
            self._collect(*self._in_flight.popleft())

    def finish(self) -> None:
        """Count everything still buffered or in flight, and stop the pool."""
        try:
            self.flush()
            while self._in_flight:
                self._collect(*self._in_flight.popleft())
        finally:
            self.close()

    def close(self) -> None:
        for future, _, _ in self._in_flight:
            future.cancel()
        self._in_flight.clear()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _collect(self, future: Future[list[int]], pending: _Pending, rows: _Rows) -> None:
        counts = future.result()
        key_cl100k, text_cl100k = self.key_cl100k, self.records.text_cl100k
        for key_id, previous, index in pending:  # in insertion order: a piece's predecessor is counted first
            key_cl100k[key_id] = (key_cl100k[previous] if previous >= 0 else 0) + counts[index]
        for row, last_key, index in rows:
            text_cl100k[row] = (key_cl100k[last_key] if last_key >= 0 else 0) + counts[index]

    def _sample_scripts(self, texts: list[str]) -> None:
        # Script detection on every byte would cost as much as tokenizing; a sample per chunk suffices.
        for text in texts[:: max(1, len(texts) // 50)]:
            sample = text[:2000]
            self.letters_non_latin += non_latin_letter_share(sample) * len(sample)
            self.letters_sampled += len(sample)

    @property
    def non_latin_share(self) -> float:
        return self.letters_non_latin / self.letters_sampled if self.letters_sampled else 0.0


def _usable_cpus() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not available on macOS and Windows
        return max(1, os.cpu_count() or 1)
