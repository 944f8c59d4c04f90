"""Which files to read, and how: paths, directories and globs expanded; each file's format told by its
first bytes (Parquet's magic number, a JSON value, or CSV), and a JSON file's kind by its first value.

The shape of the data decides, never the file's name: a `.jsonl` of flat rows (`model`, `input_tokens`, …)
is a flat usage table; a file whose values carry `result`, `usage`, `response` or `message` is read as
batch results / responses, as the Python reader reads them.
"""

from __future__ import annotations

import glob
import json
import os
import stat
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from estimator.bulk.sql import FLAT_ALIASES
from estimator.usage.errors import UsageFileError
from pricing.files import NotRegularFileError, open_regular_file

__all__ = [
    "HEAD_BYTES",
    "TABULAR",
    "InputFile",
    "InputKind",
    "discover",
    "flat_json_keys",
    "group_by_kind",
    "kind_of",
    "total_bytes",
]

InputKind = Literal["parquet", "csv", "json_flat", "json_usage"]
"""parquet / csv / json_flat: flat usage tables; json_usage: batch results and Messages responses."""

TABULAR: frozenset[InputKind] = frozenset({"parquet", "csv", "json_flat"})
"""Flat usage tables: only the bulk engines read them."""

_PARQUET_MAGIC = b"PAR1"
HEAD_BYTES = 1 << 16
"""What `kind_of` looks at."""
_KEYS_HEAD_BYTES = 1 << 20
_NESTED_KEYS = frozenset({"result", "usage", "response", "message", "data", "params", "type"})
_GLOB_CHARACTERS = frozenset("*?[")
_REMOTE = ("s3://", "s3a://", "gs://", "abfss://", "hdfs://", "http://", "https://")


@dataclass(frozen=True)
class InputFile:
    path: str
    kind: InputKind
    size_bytes: int


def discover(paths: Iterable[str | os.PathLike[str]]) -> tuple[InputFile, ...]:
    """Every regular file named by `paths` (files, directories read recursively, or glob patterns), with
    its kind. A missing path, an empty glob or a FIFO/device is a `UsageFileError` naming it."""
    found: list[InputFile] = []
    seen: set[str] = set()
    for entry in paths:
        for path in _expand(os.fspath(entry)):
            if path not in seen:
                seen.add(path)
                found.append(_classify(path))
    if not found:
        raise UsageFileError("no usage files given")
    return tuple(found)


def group_by_kind(files: Sequence[InputFile]) -> dict[InputKind, list[InputFile]]:
    groups: dict[InputKind, list[InputFile]] = {}
    for item in files:
        groups.setdefault(item.kind, []).append(item)
    return groups


def total_bytes(files: Sequence[InputFile]) -> int:
    return sum(item.size_bytes for item in files)


def _expand(path: str) -> list[str]:
    if path.startswith(_REMOTE):
        raise UsageFileError(
            f"{path}: object storage is read by Spark (`spark-submit -m estimator.bulk.spark_job`), not on this machine"
        )
    if _GLOB_CHARACTERS & set(path):
        matches = sorted(match for match in glob.glob(path, recursive=True) if os.path.isfile(match))
        if not matches:
            raise UsageFileError(f"{path}: no file matches this pattern")
        return matches
    try:
        info = os.stat(path)
    except OSError as error:
        raise UsageFileError(f"{path}: cannot read it ({error.strerror})") from None
    if stat.S_ISDIR(info.st_mode):
        files = sorted(
            str(child) for child in Path(path).rglob("*") if child.is_file() and not child.name.startswith((".", "_"))
        )
        if not files:
            raise UsageFileError(f"{path}: the directory holds no files")
        return files
    return [path]


def _classify(path: str) -> InputFile:
    try:
        stream, size = open_regular_file(path)  # never blocks on a FIFO (pricing.files)
    except NotRegularFileError as refused:
        raise UsageFileError(f"{path}: {refused.kind}, not a regular file; give a usage file") from None
    except OSError as error:
        raise UsageFileError(f"{path}: cannot read it ({error.strerror})") from None
    try:
        with stream:
            head = stream.read(HEAD_BYTES)
    except OSError as error:
        raise UsageFileError(f"{path}: cannot read it ({error.strerror})") from None
    kind = kind_of(head)
    if kind is None:
        raise UsageFileError(f"{path}: the file is empty")
    return InputFile(path, kind, size)


def kind_of(head: bytes) -> InputKind | None:
    """How a file is read, told by its first bytes (up to 64 KiB): Parquet's magic number, a JSON value (a
    flat row, or results / responses), or CSV; None for an empty file."""
    if head.startswith(_PARQUET_MAGIC):
        return "parquet"
    stripped = head.lstrip()
    if not stripped:
        return None
    if stripped[:1] in (b"{", b"["):
        return _json_kind(stripped)
    return "csv"


def _json_kind(head: bytes) -> InputKind:
    """A flat usage table when the first value is a flat row with token columns; otherwise results/responses."""
    first = _first_value(head)
    if isinstance(first, dict) and not (_NESTED_KEYS & set(first)) and "input_tokens" in first and "model" in first:
        return "json_flat"
    return "json_usage"


def _first_value(head: bytes) -> object:
    text = head.decode("utf-8", errors="replace")
    if text.startswith("["):
        text = text[1:].lstrip()
    try:
        value, _ = json.JSONDecoder().raw_decode(text)
    except (ValueError, RecursionError):
        return None
    return value


def flat_json_keys(path: str) -> list[str]:
    """The usage keys present in the first values of a flat JSON file (read as text: the SQL checks them)."""
    known = {alias for aliases in FLAT_ALIASES.values() for alias in aliases}
    keys: dict[str, None] = {}
    stream, _ = open_regular_file(path)  # found by `discover`, but it may have been swapped for a FIFO since
    with stream:
        head = stream.read(_KEYS_HEAD_BYTES)
    for line in head.splitlines():
        text = line.strip().lstrip(b"[").rstrip(b",]")
        if not text:
            continue
        try:
            value = json.loads(text)
        except ValueError:
            continue
        if isinstance(value, Mapping):
            keys.update(dict.fromkeys(key for key in value if key in known))
    return list(keys) or ["input_tokens", "output_tokens"]
