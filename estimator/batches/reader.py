"""Reading a Message Batches file as a stream of items: JSONL lines, JSON array elements, or one request.

Each item carries the line it starts on, its decoded value (or the problem that kept it from being decoded, with
a code) and its size in bytes; memory stays near one line (one array element) whatever the file's size.

What is accepted is exactly one of three shapes, and anything else is reported with its line number:

- JSONL: one JSON value per line (blank lines are skipped);
- one JSON array of requests: `[` ... `]`, elements separated by single commas; content after the closing `]`
  is reported, and read on as JSONL so that the lines it holds are checked too; an array that never closes is
  reported (a truncated file);
- one request pretty-printed over several lines (the first line holds only the start of it).

Limits, each reported rather than obeyed silently: a line (or array element) over `MAX_LINE_BYTES` is reported
and skipped without being held in memory; a file is read up to the caller's byte limit, counted on the bytes
actually read (a FIFO or `/dev/zero` reports no size); JSON nested deeper than the parser's recursion limit and
integers beyond Python's 4,300-digit limit are reported on their line. Only regular files are opened (a FIFO
would block, a device may never end): standard input is read only when asked for with `-`.
"""

from __future__ import annotations

import codecs
import io
import json
import os
import sys
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, NamedTuple

from estimator.errors import BatchFileError
from pricing import files

__all__ = [
    "MAX_LINE_BYTES",
    "STDIN_NAME",
    "RawItem",
    "iter_items",
    "open_regular_file",
    "open_source",
    "read_bounded",
]

MAX_LINE_BYTES = 32_000_000
"""The Messages API's request size limit (32 MB): a line (or array element) above it cannot be a request the
API would take, so it is reported without being parsed or kept in memory."""

STDIN_NAME = "-"
"""The path that means standard input, as for most command-line tools."""

_CHUNK_BYTES = 1 << 20
# Batch messages have always used the short words.
_KIND_WORDS = {"a FIFO (named pipe)": "a FIFO", "a character device": "a device", "a block device": "a device"}

# orjson parses a batch line 2-3x faster than json (README, "Speed of a maximum-size dry run"); whatever it refuses
# goes to json, which decides and words the problem as before. One difference remains: an integer beyond 64 bits
# comes out as the nearest float. No field of a batch line takes such a number (the API's integers are 64-bit at most;
# max_tokens, budgets and limits are far smaller): where one is checked, the float is refused as not a whole number;
# inside content (a tool's input) the count may move by a token or two. Checking every line for 20-digit runs would
# cost more than orjson saves (a regular expression takes ~20 µs a line, orjson ~3).
_fast_loads: Callable[[bytes], Any] | None
try:
    from orjson import loads as _fast_loads
except ImportError:  # pragma: no cover - orjson is a dependency, json the fallback
    _fast_loads = None
_WHITESPACE = " \t\r\n"
_BOM = b"\xef\xbb\xbf"


class RawItem(NamedTuple):
    """One line (array element) of the file: its value, or `code` and `error` saying why it has none (a named
    tuple: one is built per line of a 100,000-line file, at a quarter of a frozen dataclass's cost)."""

    line: int
    value: Any
    error: str | None
    size_bytes: int
    code: str = "invalid_json"


# --- opening -------------------------------------------------------------------------------------------


def open_regular_file(path: str | os.PathLike[str], *, what: str = "file") -> tuple[IO[bytes], int]:
    """A regular file opened for binary reading, with its size; anything else (a FIFO, a device, a directory,
    a socket) is refused with a BatchFileError that says so, without blocking (`pricing.files`)."""
    try:
        return files.open_regular_file(path)
    except files.NotRegularFileError as refused:
        kind = _KIND_WORDS.get(refused.kind, refused.kind)
        raise BatchFileError(f"{path}: not a regular file ({kind}); give a file, or - for standard input") from None
    except OSError as error:
        raise BatchFileError(f"{path}: cannot read the {what} ({error.strerror})") from None


def open_source(source: str | os.PathLike[str] | IO[bytes]) -> tuple[IO[bytes], int | None, str, bool]:
    """(stream, size if known, name, whether the caller must close it) for a path, `-` or a binary stream."""
    if isinstance(source, str | os.PathLike):
        if os.fspath(source) == STDIN_NAME:
            return sys.stdin.buffer, None, "<stdin>", False
        stream, size = open_regular_file(source, what="batch file")
        return stream, size, str(Path(source)), True
    remaining: int | None = None
    if source.seekable():
        position = source.tell()
        remaining = source.seek(0, io.SEEK_END) - position
        source.seek(position)
    return source, remaining, str(getattr(source, "name", "<upload>")), False


def read_bounded(stream: IO[bytes], limit: int, name: str) -> bytes:
    """All of `stream`, refused once more than `limit` bytes have actually been read (whatever the size said)."""
    data = files.read_bounded(stream, limit)
    if len(data) > limit:
        raise BatchFileError(f"{name}: more than {limit:,} bytes; this input is limited to {limit:,}")
    return data


class _Counted(io.RawIOBase):
    """Reports every byte read from the source, and stops the read once `limit` bytes have gone by."""

    def __init__(self, source: IO[bytes], on_bytes: Callable[[int], None], limit: int | None, name: str) -> None:
        self._source = source
        self._on_bytes = on_bytes
        self._limit = limit
        self._name = name
        self.total = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        source_readinto = getattr(self._source, "readinto", None)
        if source_readinto is not None:  # straight into the buffer: no 1 MB copy per read
            size = source_readinto(buffer) or 0
        else:
            data = self._source.read(len(buffer))
            size = len(data)
            buffer[:size] = data
        if not size:
            return 0
        self.total += size
        if self._limit is not None and self.total > self._limit:
            raise BatchFileError(
                f"{self._name}: more than {self._limit:,} bytes, over the dry run's limit; split the file first"
            )
        self._on_bytes(size)
        return int(size)


class _Prepend(io.RawIOBase):
    """A stream that replays bytes already read before continuing with the source."""

    def __init__(self, head: bytes, tail: io.RawIOBase | io.BufferedIOBase) -> None:
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
        return self._tail.readinto(buffer) or 0


# --- items -------------------------------------------------------------------------------------------


def iter_items(
    stream: IO[bytes],
    on_bytes: Callable[[int], None],
    *,
    max_bytes: int | None = None,
    name: str = "<input>",
    max_line_bytes: int = MAX_LINE_BYTES,
) -> Iterator[RawItem]:
    """The items of a batch file, in order, with structural problems as items of their own (see the module).
    Raises BatchFileError once more than `max_bytes` have been read."""
    counted = _Counted(stream, on_bytes, max_bytes, name)
    head = _read_head(counted)
    if head.startswith(_BOM):
        head = head[len(_BOM) :]
    if head.lstrip().startswith(b"["):
        remainder, line = yield from _array_items(head, counted, max_line_bytes)
        if remainder is not None:
            yield from _jsonl_items(_buffered(_Prepend(remainder, counted)), line, max_line_bytes)
        return
    reader = _buffered(_Prepend(head, counted))
    yield from _jsonl_or_document(reader, max_line_bytes)


def _buffered(raw: io.RawIOBase) -> io.BufferedReader[Any]:
    # Reads of 1 MB, not 8 KB: each read releases the GIL, and getting it back from the tokenizer threads can take
    # a while (~0.5 ms measured); 8 KB reads spent more time there than in parsing.
    return io.BufferedReader(raw, buffer_size=_CHUNK_BYTES)


def _read_head(counted: _Counted) -> bytes:
    # Enough to see the first non-blank byte even after a run of blank lines.
    head = counted.read(1 << 16) or b""
    while head and not head.strip() and len(head) < 1 << 20:
        more = counted.read(1 << 16)
        if not more:
            break
        head += more
    return head


@dataclass(frozen=True, slots=True)
class _Line:
    raw: bytes  # empty at the end of the file
    size_bytes: int
    too_long: bool = False


def _read_line(reader: io.BufferedIOBase, max_line_bytes: int) -> _Line:
    """The next line; one longer than the limit is read on and dropped, so that a line without end (`/dev/zero`
    through stdin) costs time bounded by the file limit, never memory."""
    raw = reader.readline(max_line_bytes + 1)
    if len(raw) <= max_line_bytes or raw.endswith(b"\n"):
        return _Line(raw, len(raw))
    return _Line(b"-", len(raw) + _skip_rest_of_line(reader), too_long=True)


def _skip_rest_of_line(reader: io.BufferedIOBase) -> int:
    """Read on to the end of the line, a chunk at a time, keeping none of it; the bytes skipped."""
    size = 0
    while True:
        more = reader.readline(_CHUNK_BYTES)
        size += len(more)
        if not more or more.endswith(b"\n"):
            return size


def _jsonl_or_document(reader: io.BufferedReader[Any], max_line_bytes: int) -> Iterator[RawItem]:
    """JSONL, unless the first line opens a request that continues on the next lines (pretty-printed)."""
    number = 0
    while True:
        line = _read_line(reader, max_line_bytes)
        if not line.raw:
            return
        number += 1
        text = line.raw.strip()
        if line.too_long:
            yield _too_large(number, line.size_bytes)
            break
        if not text:
            continue
        if text.startswith(b"{") and _opens_a_document(text):
            yield from _document(line.raw, reader, number, max_line_bytes)
            return
        yield _decoded(number, text, line.size_bytes)
        break
    yield from _jsonl_items(reader, number, max_line_bytes)


def _opens_a_document(line: bytes) -> bool:
    """Whether a first line starting with `{` is the start of a longer JSON text: it fails only at its end."""
    try:
        json.loads(line)
    except json.JSONDecodeError as error:
        return error.pos >= len(error.doc) - 1
    except (ValueError, RecursionError):
        return False
    return False


def _document(first: bytes, reader: io.BufferedReader[Any], number: int, max_line_bytes: int) -> Iterator[RawItem]:
    """One pretty-printed request; if the text is not one JSON value, the same bytes are read as JSONL."""
    text = first + (reader.read(max_line_bytes + 1 - len(first)) or b"")
    if len(text) > max_line_bytes:
        yield _too_large(number, len(text))
        return
    try:
        decoded = text.decode("utf-8")
        value, end = json.JSONDecoder().raw_decode(decoded, decoded.index("{"))
    except (ValueError, RecursionError):
        yield from _jsonl_items(_buffered(_Prepend(text, reader)), number - 1, max_line_bytes)
        return
    yield RawItem(number, value, None, len(decoded[:end].strip().encode()) + 1)
    rest = decoded[end:]
    content_at = end + len(rest) - len(rest.lstrip(_WHITESPACE))
    if content_at < len(decoded) or reader.peek(1):
        yield RawItem(
            number + decoded.count("\n", 0, content_at),
            None,
            "content after the pretty-printed request: a batch file is JSONL (one request per line), one JSON "
            "array, or one request; the rest is not read",
            0,
            "trailing_content",
        )


def _jsonl_items(reader: io.BufferedIOBase, number: int, max_line_bytes: int) -> Iterator[RawItem]:
    readline = reader.readline
    while True:
        raw = readline(max_line_bytes + 1)
        if not raw:
            return
        number += 1
        if len(raw) > max_line_bytes and not raw.endswith(b"\n"):
            yield _too_large(number, len(raw) + _skip_rest_of_line(reader))
            continue
        if not raw.isspace():
            yield _decoded(number, raw, len(raw))


def _too_large(number: int, size: int) -> RawItem:
    limit = f"{MAX_LINE_BYTES // 1_000_000} MB, the Messages API's request size limit"
    return RawItem(number, None, f"{size:,} bytes, over {limit}; not read", size, "line_too_large")


_TOO_DEEP = "JSON nested too deeply to read (deeper than Python's recursion limit of about 1,000 levels)"


def _decoded(number: int, line: bytes, size: int) -> RawItem:
    if _fast_loads is not None:
        try:
            return RawItem(number, _fast_loads(line), None, size)
        except ValueError:  # orjson's JSONDecodeError: json decides, and words the problem, as it always has
            pass
    line = line.strip()  # json's column numbers count from the first non-blank byte, as they always have
    try:
        return RawItem(number, json.loads(line), None, size)
    except json.JSONDecodeError as error:
        return RawItem(number, None, f"not valid JSON: {error.msg} (column {error.colno})", size)
    except UnicodeDecodeError:
        return RawItem(number, None, "not valid UTF-8 text", size)
    except RecursionError:
        return RawItem(number, None, _TOO_DEEP, size, "nested_too_deeply")
    except ValueError as error:  # an integer beyond Python's int-string digit limit (4,300 digits)
        return RawItem(number, None, f"not usable JSON: {_value_error_text(error)}", size)


def _value_error_text(error: ValueError) -> str:
    text = str(error)
    if "digits" in text:
        return f"a number has more than {sys.get_int_max_str_digits():,} digits"
    return text.split(";")[0][:80]


# --- one JSON array ------------------------------------------------------------------------------------


class _ArrayText:
    """The array's text, decoded strictly as UTF-8 chunk by chunk, with the line of the current position."""

    def __init__(self, head: bytes, source: _Counted) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
        self._source = source
        self.text = ""
        self.position = 0
        self.line = 1
        self.eof = False
        self._head: bytes | None = head

    def more(self) -> bool:
        """Read another chunk, dropping what was consumed; False when nothing new came (the end of the file)."""
        if self._head is not None:
            chunk, self._head = self._head, None
        else:
            if self.eof:
                return False
            chunk = self._source.read(_CHUNK_BYTES) or b""
            self.eof = not chunk
        before = len(self.text) - self.position
        self.text = self.text[self.position :] + self._decoder.decode(chunk, final=self.eof)
        self.position = 0
        return len(self.text) > before

    @property
    def pending(self) -> int:
        return len(self.text) - self.position

    def peek(self) -> str | None:
        """The next non-blank character (not consumed), reading on as needed; None at the end of the file."""
        while True:
            text, stop = self.text, self.position
            while stop < len(text) and text[stop] in _WHITESPACE:
                stop += 1
            self.line += text.count("\n", self.position, stop)
            self.position = stop
            if stop < len(text):
                return text[stop]
            if not self.more():
                return None

    def take(self) -> None:
        self.position += 1

    def rest_bytes(self) -> bytes:
        return self.text[self.position :].encode("utf-8")


_ArrayResult = Generator[RawItem, None, tuple[bytes | None, int]]


def _array_items(head: bytes, source: _Counted, max_line_bytes: int) -> _ArrayResult:
    """Elements of a top-level JSON array, decoded one by one so memory stays near one element. Returns the bytes
    after the closing `]` (None when the file ends there or cannot be read on) and the line before them."""
    text = _ArrayText(head, source)
    try:
        text.peek()
        text.take()  # the `[`
        opened_on = text.line
        closed = yield from _array_body(text, opened_on, max_line_bytes)
        if not closed:
            return None, text.line
        if text.peek() is None:
            return None, text.line
    except UnicodeDecodeError as error:
        yield _structure(text.line, "invalid_json", f"not valid UTF-8 text ({error.reason}); the rest is not read")
        return None, text.line
    yield _structure(
        text.line,
        "trailing_content",
        "content after the JSON array's closing ']': a batch file is one JSON array, JSONL (one request per line) "
        "or one request, not a mix; the lines from here are read as JSONL",
    )
    return text.rest_bytes(), text.line - 1


def _array_body(text: _ArrayText, opened_on: int, max_line_bytes: int) -> Generator[RawItem, None, bool]:
    """The elements up to the closing `]`; returns whether the array closed (False: reported, stop reading)."""
    decoder = json.JSONDecoder()
    following = text.peek()
    if following == "]":
        text.take()
        return True
    while True:
        if following is None:
            yield _structure(text.line, "array_not_closed", _not_closed(opened_on, text.line))
            return False
        read = yield from _element(text, decoder, max_line_bytes, opened_on)
        if not read:
            return False
        following = text.peek()
        if following == "]":
            text.take()
            return True
        if following is None:
            yield _structure(text.line, "array_not_closed", _not_closed(opened_on, text.line))
            return False
        if following != ",":
            yield _structure(
                text.line,
                "array_malformed",
                f"expected ',' or ']' after an element, found {following!r}; the rest of the array is not read",
            )
            return False
        text.take()
        following = text.peek()
        if following == "]":
            yield _structure(text.line, "array_malformed", "a comma before the closing ']' (not valid JSON)")
            text.take()
            return True


_INCOMPLETE_MARGIN = 16
"""A decoding error this close to the end of the text read so far may only mean the element goes on."""


def _element(
    text: _ArrayText, decoder: json.JSONDecoder, max_line_bytes: int, opened_on: int
) -> Generator[RawItem, None, bool]:
    """Yield the element at the current position; return False when the array cannot be read on."""
    line = text.line
    while True:
        try:
            value, end = decoder.raw_decode(text.text, text.position)
        except json.JSONDecodeError as error:
            unterminated = error.msg.startswith("Unterminated string")
            if (
                (unterminated or error.pos >= len(text.text) - _INCOMPLETE_MARGIN)
                and text.pending <= max_line_bytes
                and not text.eof
            ):
                text.more()  # the text is re-based: decode again, at the end of the file if nothing came
                continue
            # At the end of the file: cut short if the parser ran into the end, malformed otherwise.
            cut_short = unterminated or error.pos >= len(text.text.rstrip(_WHITESPACE)) - 1
            if text.pending > max_line_bytes:
                too_large = f"an element over {max_line_bytes:,} bytes (the Messages API's request size limit)"
                yield _structure(line, "line_too_large", f"{too_large}; the rest of the array is not read")
            elif cut_short:
                last = line + text.text.count("\n", text.position)
                yield _structure(
                    line, "array_not_closed", f"the file ends inside this element: {_not_closed(opened_on, last)}"
                )
            else:
                at = line + text.text.count("\n", text.position, error.pos)
                yield _structure(at, "invalid_json", f"not valid JSON: {error.msg}; the rest of the array is not read")
            return False
        except RecursionError:
            yield _structure(line, "nested_too_deeply", _TOO_DEEP + "; the rest of the array is not read")
            return False
        except ValueError as error:
            yield _structure(
                line, "invalid_json", f"not usable JSON: {_value_error_text(error)}; the rest of the array is not read"
            )
            return False
        yield RawItem(line, value, None, len(text.text[text.position : end].encode("utf-8")))
        text.line += text.text.count("\n", text.position, end)
        text.position = end
        return True


def _structure(line: int, code: str, message: str) -> RawItem:
    return RawItem(line, None, message, 0, code)


def _not_closed(opened_on: int, last: int) -> str:
    return f"the JSON array opened on line {opened_on} is never closed (the file ends on line {last}): truncated?"
