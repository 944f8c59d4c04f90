"""Opening the files a plan names: regular files only, opened without blocking, read within a limit.

A plan is committed text that CI runs unattended, so a path that turns out to be a FIFO, a device or a
directory must fail at once with a one-line error, never hang the job or read without end.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import BinaryIO

from estimator.errors import EstimatorError
from pricing import files

__all__ = ["file_sha256", "open_regular_file", "read_regular_file"]

_CHUNK_BYTES = 1 << 20
# Plan messages have always said "a device" for character and block devices alike.
_KIND_WORDS = {"a character device": "a device", "a block device": "a device"}


def open_regular_file(path: Path, what: str, error: type[EstimatorError] = EstimatorError) -> BinaryIO:
    """The file opened for binary reading, once its descriptor is known to be a regular file (`pricing.files`)."""
    try:
        stream, _ = files.open_regular_file(path)
    except files.NotRegularFileError as refused:
        kind = _KIND_WORDS.get(refused.kind, refused.kind)
        raise error(f"{path}: the {what} must be a regular file, not {kind}") from None
    except OSError as failure:
        raise error(f"{path}: cannot read the {what} ({failure.strerror})") from None
    return stream


def read_regular_file(path: Path, what: str, limit_bytes: int, error: type[EstimatorError] = EstimatorError) -> bytes:
    """The whole file, refused when it is larger than `limit_bytes` (read no further than the limit)."""
    with open_regular_file(path, what, error) as stream:
        data = files.read_bounded(stream, limit_bytes)
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
