"""Opening the files a plan names: regular files only, opened without blocking, read within a limit.

A plan is committed text that CI runs unattended, so a path that turns out to be a FIFO, a device or a
directory must fail at once with a one-line error, never hang the job or read without end.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path
from typing import BinaryIO

from estimator.errors import EstimatorError

__all__ = ["file_sha256", "open_regular_file", "read_regular_file"]

_CHUNK_BYTES = 1 << 20


def open_regular_file(path: Path, what: str, error: type[EstimatorError] = EstimatorError) -> BinaryIO:
    """The file opened for binary reading, once it is known to be a regular file."""
    try:
        # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer, forever in CI.
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as failure:
        raise error(f"{path}: cannot read the {what} ({failure.strerror})") from None
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            raise error(f"{path}: the {what} must be a regular file, not {_kind(mode)}")
        os.set_blocking(descriptor, True)
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def read_regular_file(path: Path, what: str, limit_bytes: int, error: type[EstimatorError] = EstimatorError) -> bytes:
    """The whole file, refused when it is larger than `limit_bytes` (read no further than the limit)."""
    with open_regular_file(path, what, error) as stream:
        data = stream.read(limit_bytes + 1)
    if len(data) > limit_bytes:
        raise error(f"{path}: the {what} is larger than {limit_bytes:,} bytes; is it the right file?")
    return data


def file_sha256(stream: BinaryIO) -> str:
    """The hex digest of the rest of the stream, which is then rewound to where it was."""
    start = stream.tell()
    digest = hashlib.sha256()
    while chunk := stream.read(_CHUNK_BYTES):
        digest.update(chunk)
    stream.seek(start)
    return digest.hexdigest()


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"
