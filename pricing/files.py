"""Opening a user-given path as a regular file, and only as one: the one place that does it, for every layer.

Opening a FIFO for reading waits for a writer, forever if none comes; a device (`/dev/zero`) may never end; a
directory cannot be read. So the path is opened once, non-blocking (`O_NONBLOCK` makes opening a FIFO return at
once), and the descriptor, not the path, is checked with `fstat`: a path swapped for a FIFO between a check and the
open cannot make us wait, because there is no separate check. Anything but a regular file is refused with
`NotRegularFileError`, whose `kind` says what it is ("a FIFO (named pipe)"); each caller words the refusal in its
own error type. Standard library only: `pricing` is the bottom layer, and every layer above uses this module.
"""

from __future__ import annotations

import errno
import os
import stat
from typing import IO, BinaryIO

__all__ = ["NotRegularFileError", "open_regular_file", "read_bounded", "special_file_kind"]

_NONBLOCK: int = getattr(os, "O_NONBLOCK", 0)
# O_NOCTTY: opening a terminal device must not make it this process's controlling terminal.
_OPEN_FLAGS = os.O_RDONLY | _NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
_OPEN_FLAGS |= getattr(os, "O_BINARY", 0)  # Windows: no newline translation
_CHUNK_BYTES = 1 << 20

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def special_file_kind(mode: int) -> str | None:
    """None for a regular file; else what it is: "a directory", "a FIFO (named pipe)", "a character device",
    "a block device", "a socket", or "a special file" (a kind this platform has and the others do not)."""
    if stat.S_ISREG(mode):
        return None
    return next((label for is_kind, label in _KINDS if is_kind(mode)), "a special file")


class NotRegularFileError(OSError):
    """The path names something other than a regular file; `kind` is `special_file_kind`'s label for it.

    An `OSError` (as a failed `open` is), so code that reports `strerror` says something sensible; callers that
    word their own messages catch it before `OSError`."""

    def __init__(self, path: str | os.PathLike[str], kind: str) -> None:
        code = errno.EISDIR if kind == "a directory" else errno.EINVAL
        super().__init__(code, f"{kind}, not a regular file", os.fspath(path))
        self.kind = kind


def open_regular_file(path: str | os.PathLike[str]) -> tuple[BinaryIO, int]:
    """The file opened for binary reading, and its size in bytes (what `fstat` says: `/proc` files say 0).

    Raises `NotRegularFileError` for anything but a regular file (symbolic links are followed: a link to a regular
    file is one), and `OSError` when the path cannot be opened (missing, no permission). Never blocks."""
    try:
        descriptor = os.open(path, _OPEN_FLAGS)
    except OSError:
        kind = _kind_of_path(path)  # a socket cannot be opened at all: say what it is rather than "no such device"
        if kind is not None:
            raise NotRegularFileError(path, kind) from None
        raise
    try:
        info = os.fstat(descriptor)
        kind = special_file_kind(info.st_mode)
        if kind is not None:
            raise NotRegularFileError(path, kind)
        if _NONBLOCK:
            os.set_blocking(descriptor, True)  # a regular file from here on: ordinary reads
        stream = os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise
    return stream, info.st_size


def read_bounded(stream: IO[bytes], limit_bytes: int) -> bytes:
    """The rest of `stream`, but never more than `limit_bytes + 1` bytes: a result longer than `limit_bytes` means
    the input is too large, judged by the bytes actually read (a `/proc` file claims 0, a device has no end)."""
    chunks: list[bytes] = []
    wanted = limit_bytes + 1
    while wanted > 0:
        chunk = stream.read(min(_CHUNK_BYTES, wanted))
        if not chunk:
            break
        chunks.append(chunk)
        wanted -= len(chunk)
    return b"".join(chunks)


def _kind_of_path(path: str | os.PathLike[str]) -> str | None:
    """What the path is, when it exists and is not a regular file; only to word an open that already failed."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    return special_file_kind(mode)
