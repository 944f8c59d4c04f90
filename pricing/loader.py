"""Read `prices.yaml` into a validated `PriceTable`: Decimal from the text, strict, bounded, cached.

Errors name the file, the line, the model and the field, on one line, e.g.
`prices.yaml:412: model 'claude-haiku-5-5': prices[0].tiers[0].input_mtok: must be greater than 0 (got 0)`.

Hostile or mistaken input gets the same treatment, never a traceback or a hang: a path that is not a
regular file (a directory, a FIFO, /dev/zero) is refused before anything is read (`pricing.files` opens
without blocking and checks the open descriptor), reads stop after `MAX_TABLE_BYTES` bytes actually read
(not only the size the file claims), binary or non-UTF-8 files are named as such, and the YAML reader
refuses what would silently mislead or crash downstream: integers beyond 20 digits, numbers out of any
price's range, sexagesimal (`1:30`), octal or hex numbers, impossible calendar dates, keys that are lists
or mappings, duplicate keys, and nesting deeper than `MAX_DEPTH`.
"""

from __future__ import annotations

import functools
import importlib.resources
import os
import re
import time
from collections.abc import Hashable, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from pricing.errors import PriceTableError
from pricing.files import NotRegularFileError, open_regular_file, read_bounded, special_file_kind
from pricing.schema import PriceTableData
from pricing.table import PriceTable

__all__ = [
    "DEFAULT_RECHECK_S",
    "DEFAULT_TABLE_PATH",
    "MAX_DEPTH",
    "MAX_TABLE_BYTES",
    "default_table_text",
    "load_price_table",
    "parse_price_table",
    "read_regular_file",
    "reload_price_table",
]

_DEFAULT_RESOURCE = importlib.resources.files("pricing").joinpath("prices.yaml")
DEFAULT_TABLE_PATH = Path(str(_DEFAULT_RESOURCE))
"""Where the shipped table is, found through the package's resources (never relative to a checkout).
A real path whenever the package is installed as files, the usual case."""

MAX_TABLE_BYTES = 5_000_000
"""A price table is a few tens of KB; anything this large is the wrong file."""
MAX_DEPTH = 64
"""A price table nests about eight levels; anything deeper is not one (and would exhaust the stack)."""
MAX_INT_DIGITS = 20

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_PLAIN_INT = re.compile(r"[-+]?(0|[1-9][0-9_]*)")


class _DecimalLoader(_BaseLoader):  # type: ignore[valid-type,misc]
    """Safe YAML loading, stricter: floats become Decimal from their text; numbers a price table never holds,
    impossible dates, unhashable and duplicate keys fail with the line."""


def _fail(problem: str, node: yaml.Node) -> yaml.constructor.ConstructorError:
    return yaml.constructor.ConstructorError(None, None, problem, node.start_mark)


def _construct_decimal(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Decimal:
    raw = str(loader.construct_scalar(node))
    text = raw.replace("_", "").lower()
    if ":" in text:
        raise _fail(f"{raw!r} is a sexagesimal (base-60) number; write the value as a plain decimal", node)
    if len(text) > 64:
        raise _fail(f"a number of {len(text):,} characters is not a value a price table can hold", node)
    special = {".inf": "Infinity", "+.inf": "Infinity", "-.inf": "-Infinity", ".nan": "NaN"}
    try:
        return Decimal(special.get(text, text))
    except InvalidOperation:
        raise _fail(f"{raw!r} is not a decimal number", node) from None


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    raw = str(loader.construct_scalar(node))
    if not _PLAIN_INT.fullmatch(raw):
        shown = raw if len(raw) <= 40 else raw[:20] + "…"
        raise _fail(
            f"{shown!r} is not a plain decimal integer (YAML would read it as octal, hex, binary or base 60); "
            "write the value in plain digits",
            node,
        )
    digits = raw.lstrip("+-").replace("_", "")
    if len(digits) > MAX_INT_DIGITS:
        raise _fail(f"an integer of {len(digits):,} digits is too large for a price table", node)
    return int(digits) * (-1 if raw.startswith("-") else 1)


def _construct_timestamp(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> object:
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
    except (ValueError, OverflowError) as error:
        raise _fail(f"{loader.construct_scalar(node)!r} is not a valid date ({error})", node) from None


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
    loader.flatten_mapping(node)
    mapping: dict[Hashable, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError:
            raise _fail(f"a mapping key must be a plain value, not a {type(key).__name__}", key_node) from None
        if key in mapping:
            raise _fail(f"duplicate key {key!r} (the later value would silently win)", key_node)
        mapping[key] = loader.construct_object(value_node, deep=deep)
    return mapping


_DecimalLoader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)
_DecimalLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_DecimalLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)
_DecimalLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)


def read_regular_file(path: str | os.PathLike[str], *, limit: int, what: str = "price table") -> bytes:
    """The bytes of a regular file, at most `limit` of them. Anything else (missing, a directory, a FIFO, a
    device) is refused before it is read, so nothing blocks (`pricing.files`); a file that says it is larger than
    `limit` is refused unread, and the bound also counts the bytes actually read (`/proc` files say 0)."""
    name = os.fspath(path)
    try:
        stream, size = open_regular_file(name)
    except NotRegularFileError as refused:
        raise _not_regular(name, what, refused.kind) from None
    except OSError as error:
        raise _cannot_read(name, what, error) from None
    with stream:
        if size > limit:
            raise PriceTableError(f"{name}: {size:,} bytes is too large for a {what} (limit {limit:,})")
        try:
            data = read_bounded(stream, limit)
        except OSError as error:
            raise _cannot_read(name, what, error) from None
    if len(data) > limit:
        raise PriceTableError(f"{name}: more than {limit:,} bytes is too large for a {what}")
    return data


def _not_regular(name: str, what: str, kind: str) -> PriceTableError:
    return PriceTableError(f"{name}: cannot read the {what}: it is {kind}, not a regular file")


def _cannot_read(name: str, what: str, error: OSError) -> PriceTableError:
    return PriceTableError(f"{name}: cannot read the {what} ({error.strerror or error})")


def decode_text(data: bytes, name: str, *, what: str = "price table") -> str:
    """UTF-8 text, or an error naming the line of the first bad byte (or saying the file is binary)."""
    if b"\x00" in data:
        raise PriceTableError(f"{name}: cannot read the {what}: it is a binary file, not YAML text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        raise PriceTableError(
            f"{name}:{line}: the {what} is not UTF-8 text (byte 0x{data[error.start]:02x} at column {column})"
        ) from None


def default_table_text() -> str:
    """The shipped table's text, read through the package's resources."""
    return decode_text(_DEFAULT_RESOURCE.read_bytes(), str(DEFAULT_TABLE_PATH))


DEFAULT_RECHECK_S = 1.0
"""How often, at most, `load_price_table()` (no path) looks at the shipped file again: an edit to the table shows
within a second, and the common call (every `estimate` without a table) costs a clock read, not a `stat`."""

# (time.monotonic() of the last look at the file, the table it gave). One tuple, replaced whole: threads that
# race here at worst both look at the file.
_default_table: tuple[float, PriceTable] | None = None
_monotonic = time.monotonic  # a seam for tests


def load_price_table(path: str | os.PathLike[str] | None = None) -> PriceTable:
    """Load and validate a price table (the shipped one by default); cached until the file changes.

    With a path, the file's size and modification time are checked on every call. Without one, at most once per
    `DEFAULT_RECHECK_S` (an edit to the shipped table shows within a second); `reload_price_table()` looks now."""
    if path is None:
        cached = _default_table
        if cached is not None and _monotonic() - cached[0] < DEFAULT_RECHECK_S:
            return cached[1]
        return reload_price_table()
    return _load_path(Path(path))


def reload_price_table() -> PriceTable:
    """The shipped table, looking at its file now (re-read only if its size or modification time changed)."""
    global _default_table
    checked_at = _monotonic()
    if not isinstance(_DEFAULT_RESOURCE, os.PathLike):
        table = _load_default_resource()  # packaged in a zip: no path to stat, and it cannot change
    else:
        table = _load_path(DEFAULT_TABLE_PATH)
    _default_table = (checked_at, table)
    return table


def _load_path(table_path: Path) -> PriceTable:
    try:
        info = os.stat(table_path)  # the cache's key; the read itself goes through open_regular_file
    except OSError as error:
        raise _cannot_read(str(table_path), "price table", error) from None
    kind = special_file_kind(info.st_mode)
    if kind is not None:
        raise _not_regular(str(table_path), "price table", kind)
    if info.st_size > MAX_TABLE_BYTES:
        raise PriceTableError(
            f"{table_path}: {info.st_size:,} bytes is too large for a price table (limit {MAX_TABLE_BYTES:,})"
        )
    return _load_cached(str(table_path.resolve()), info.st_mtime_ns, info.st_size)


@functools.lru_cache(maxsize=8)
def _load_cached(resolved_path: str, mtime_ns: int, size_bytes: int) -> PriceTable:
    data = read_regular_file(resolved_path, limit=MAX_TABLE_BYTES)
    return parse_price_table(decode_text(data, resolved_path), source_name=resolved_path)


@functools.lru_cache(maxsize=1)
def _load_default_resource() -> PriceTable:
    return parse_price_table(default_table_text(), source_name=str(DEFAULT_TABLE_PATH))


def parse_price_table(text: str, *, source_name: str = "<text>") -> PriceTable:
    """Validate a price table given as YAML text; `source_name` is used in error messages."""
    try:
        raw = _load_yaml(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"{source_name}:{mark.line + 1}" if mark is not None else source_name
        raise PriceTableError(f"{where}: invalid YAML: {_one_line(error.problem or error.context)}") from None
    except yaml.YAMLError as error:
        raise PriceTableError(f"{source_name}: invalid YAML: {_one_line(str(error))}") from None
    except RecursionError:
        raise PriceTableError(f"{source_name}: invalid YAML: nested or self-referencing too deeply") from None
    if not isinstance(raw, dict):
        raise PriceTableError(f"{source_name}: expected a mapping at the top level, got {type(raw).__name__}")
    try:
        data = PriceTableData.model_validate(raw)
    except ValidationError as error:
        raise PriceTableError(_describe_validation_error(error, raw, text, source_name)) from None
    except RecursionError:
        raise PriceTableError(f"{source_name}: the price table refers to itself (a recursive YAML alias)") from None
    return PriceTable(data, source_name=source_name)


def _load_yaml(text: str) -> Any:
    loader = _DecimalLoader(text)  # a SafeLoader subclass
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_depth(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _check_depth(root: yaml.Node) -> None:
    """Refuse nesting deeper than MAX_DEPTH before anything recursive walks it (level by level; a node that
    aliases share is visited once, so an alias bomb costs nothing here)."""
    level: list[yaml.Node] = [root]
    seen: set[int] = set()
    depth = 1
    while level:
        if depth > MAX_DEPTH:
            raise _fail(f"nested more than {MAX_DEPTH} levels deep; a price table nests about eight", level[0])
        below: list[yaml.Node] = []
        for node in level:
            if isinstance(node, yaml.MappingNode):
                children = [child for pair in node.value for child in pair]
            elif isinstance(node, yaml.SequenceNode):
                children = node.value
            else:
                continue
            for child in children:
                if not isinstance(child, yaml.ScalarNode) and id(child) not in seen:
                    seen.add(id(child))
                    below.append(child)
        level = below
        depth += 1


def _one_line(text: str | None) -> str:
    return " ".join(str(text).split())


def _describe_validation_error(error: ValidationError, raw: dict[str, Any], text: str, source_name: str) -> str:
    details = error.errors(include_url=False)
    if len(details) == 1:
        return _describe_one(details[0], raw, text, source_name, full_name=True)
    lines = [_describe_one(detail, raw, text, source_name) for detail in details]
    count = len(lines)
    header = f"{source_name}: {count} problems in the price table:"
    return "\n".join([header, *(f"  {line}" for line in lines)])


def _describe_one(detail: Any, raw: dict[str, Any], text: str, source_name: str, *, full_name: bool = False) -> str:
    loc: tuple[int | str, ...] = tuple(detail["loc"])
    line = _line_of(text, loc)
    name = source_name if full_name else Path(source_name).name
    where = f"{name}:{line}" if line else name
    message = _one_line(str(detail["msg"]).removeprefix("Value error, "))
    subject = _subject(loc, raw)
    return f"{where}: {subject}{message}{_got(detail, message)}"


def _got(detail: Any, message: str) -> str:
    """The offending value, when it is a short scalar the message does not already quote."""
    value = detail.get("input")
    if detail["type"] == "missing" or isinstance(value, dict | list) or "got" in message:
        return ""
    shown = str(value) if isinstance(value, Decimal) else repr(value)
    return f" (got {shown})" if len(shown) <= 80 else ""


def _subject(loc: tuple[int | str, ...], raw: dict[str, Any]) -> str:
    if len(loc) >= 2 and loc[0] == "models" and isinstance(loc[1], int):
        model_id = _model_id_at(raw, loc[1])
        field = _format_loc(loc[2:])
        return f"model {model_id!r}: {field + ': ' if field else ''}"
    field = _format_loc(loc)
    return f"{field}: " if field else ""


def _model_id_at(raw: dict[str, Any], index: int) -> str:
    models = raw.get("models")
    if isinstance(models, list) and index < len(models) and isinstance(models[index], dict):
        return str(models[index].get("id", f"models[{index}]"))
    return f"models[{index}]"


def _format_loc(loc: Sequence[int | str]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _line_of(text: str, loc: tuple[int | str, ...]) -> int | None:
    """The 1-based line of the deepest YAML node on `loc`, found only when reporting an error."""
    try:
        node = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (yaml.YAMLError, RecursionError):
        return None
    for part in loc:
        child = _child_node(node, part)
        if child is None:
            break
        node = child
    return node.start_mark.line + 1 if node is not None else None


def _child_node(node: yaml.Node | None, part: int | str) -> yaml.Node | None:
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        child: yaml.Node = node.value[part]
        return child
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if key_node.value == str(part):
                return value_node  # type: ignore[no-any-return]
    return None
