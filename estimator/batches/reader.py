"""Reading a Message Batches file as a stream of items: JSONL lines, JSON array elements, or one request.

Each item carries the line it starts on, its decoded value (or why it could not be decoded) and its size
in bytes; memory stays near one line (one array element) whatever the file's size.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from estimator.errors import BatchFileError

__all__ = ["RawItem", "iter_items", "open_source"]

_SEPARATORS = re.compile(r"[\s,]*")


@dataclass(frozen=True)
class RawItem:
    line: int
    text: bytes | None
    value: Any
    error: str | None
    size_bytes: int


def open_source(source: str | os.PathLike[str] | IO[bytes]) -> tuple[IO[bytes], int | None, str, bool]:
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        try:
            size = path.stat().st_size
            stream: IO[bytes] = path.open("rb")
        except OSError as error:
            raise BatchFileError(f"{path}: cannot read the batch file ({error.strerror})") from None
        return stream, size, str(path), True
    remaining: int | None = None
    if source.seekable():
        position = source.tell()
        remaining = source.seek(0, io.SEEK_END) - position
        source.seek(position)
    return source, remaining, str(getattr(source, "name", "<upload>")), False


def iter_items(stream: IO[bytes], on_bytes: Callable[[int], None]) -> Iterator[RawItem]:
    """JSONL lines; or, when the file starts with `[` or is one pretty-printed object, its elements."""
    first = stream.read(1 << 16)
    stripped = first.lstrip()
    if stripped.startswith(b"["):
        yield from _array_items(first, stream, on_bytes)
        return
    rest = io.BufferedReader(_Prepend(first, stream))
    first_line = True
    for number, raw in enumerate(rest, start=1):
        on_bytes(len(raw))
        line = raw.strip()
        if not line:
            continue
        if first_line and line == b"{":
            # A single pretty-printed request: read it whole (it is one request, so it is small).
            text = line + b"\n" + rest.read()
            on_bytes(len(text))
            yield _decoded(number, text)
            return
        first_line = False
        yield _decoded(number, line)


class _Prepend(io.RawIOBase):
    """A stream that replays bytes already read before continuing with the source."""

    def __init__(self, head: bytes, tail: IO[bytes]) -> None:
        self._head = head
        self._tail = tail

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head:
            size = min(len(buffer), len(self._head))
            buffer[:size] = self._head[:size]
            self._head = self._head[size:]
            return size
        data = self._tail.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _decoded(number: int, line: bytes) -> RawItem:
    try:
        return RawItem(number, line, json.loads(line), None, len(line) + 1)
    except json.JSONDecodeError as error:
        return RawItem(number, line, None, f"not valid JSON: {error.msg} (column {error.colno})", len(line) + 1)
    except UnicodeDecodeError:
        return RawItem(number, line, None, "not valid UTF-8 text", len(line) + 1)


def _array_items(head: bytes, stream: IO[bytes], on_bytes: Callable[[int], None]) -> Iterator[RawItem]:
    """Elements of a top-level JSON array, decoded one by one so memory stays near one element."""
    decoder = json.JSONDecoder()
    buffer = head.decode("utf-8", errors="replace")
    on_bytes(len(head))
    position = buffer.index("[") + 1
    line = 1 + buffer.count("\n", 0, position)
    eof = False
    while True:
        while True:
            match = _SEPARATORS.match(buffer, position)
            skipped = match.end() if match else position
            line += buffer.count("\n", position, skipped)
            position = skipped
            if position < len(buffer) or eof:
                break
            more = stream.read(1 << 20)
            on_bytes(len(more))
            eof = not more
            buffer = buffer[position:] + more.decode("utf-8", errors="replace")
            position = 0
        if position >= len(buffer) or buffer[position] == "]":
            return
        try:
            value, end = decoder.raw_decode(buffer, position)
        except json.JSONDecodeError as error:
            if not eof:
                more = stream.read(1 << 20)
                on_bytes(len(more))
                eof = not more
                buffer = buffer[position:] + more.decode("utf-8", errors="replace")
                position = 0
                continue
            yield RawItem(line, None, None, f"not valid JSON: {error.msg}; the rest of the array is not read", 0)
            return
        size = len(buffer[position:end].encode())
        yield RawItem(line, None, value, None, size)
        line += buffer.count("\n", position, end)
        position = end
