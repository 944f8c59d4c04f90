"""Read `prices.yaml` into a validated `PriceTable`: Decimal from the text, strict, cached.

Errors name the file, the line, the model and the field, e.g.
`prices.yaml:412: model 'claude-haiku-5-5': prices[0].tiers[0].input_mtok: must be greater than 0 (got 0)`.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Hashable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from pricing.errors import PriceTableError
from pricing.schema import PriceTableData
from pricing.table import PriceTable

__all__ = ["DEFAULT_TABLE_PATH", "MAX_TABLE_BYTES", "load_price_table", "parse_price_table"]

DEFAULT_TABLE_PATH = Path(__file__).with_name("prices.yaml")
MAX_TABLE_BYTES = 5_000_000
"""A price table is a few tens of KB; anything this large is the wrong file."""

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _DecimalLoader(_BaseLoader):  # type: ignore[valid-type,misc]
    """Safe YAML loading with two changes: floats become Decimal from their text; duplicate keys fail."""


def _construct_decimal(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Decimal:
    text = str(loader.construct_scalar(node)).replace("_", "").lower()
    special = {".inf": "Infinity", "+.inf": "Infinity", "-.inf": "-Infinity", ".nan": "NaN"}
    return Decimal(special.get(text, text))


def _construct_mapping_without_duplicates(
    loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False
) -> dict[Hashable, Any]:
    loader.flatten_mapping(node)
    seen: set[Hashable] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (the later value would silently win)", key_node.start_mark
            )
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_DecimalLoader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)
_DecimalLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping_without_duplicates)


def load_price_table(path: str | os.PathLike[str] | None = None) -> PriceTable:
    """Load and validate a price table (the shipped one by default); cached until the file changes."""
    table_path = Path(path) if path is not None else DEFAULT_TABLE_PATH
    try:
        stat = table_path.stat()
    except OSError as error:
        raise PriceTableError(f"{table_path}: cannot read the price table ({error.strerror})") from None
    if stat.st_size > MAX_TABLE_BYTES:
        raise PriceTableError(
            f"{table_path}: {stat.st_size:,} bytes is too large for a price table (limit {MAX_TABLE_BYTES:,})"
        )
    return _load_cached(str(table_path.resolve()), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _load_cached(resolved_path: str, mtime_ns: int, size_bytes: int) -> PriceTable:
    path = Path(resolved_path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise PriceTableError(f"{path}: cannot read the price table ({error})") from None
    return parse_price_table(text, source_name=str(path))


def parse_price_table(text: str, *, source_name: str = "<text>") -> PriceTable:
    """Validate a price table given as YAML text; `source_name` is used in error messages."""
    try:
        raw = yaml.load(text, Loader=_DecimalLoader)  # a SafeLoader subclass
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"{source_name}:{mark.line + 1}" if mark is not None else source_name
        raise PriceTableError(f"{where}: invalid YAML: {error.problem or error.context}") from None
    except yaml.YAMLError as error:
        raise PriceTableError(f"{source_name}: invalid YAML: {error}") from None
    if not isinstance(raw, dict):
        raise PriceTableError(f"{source_name}: expected a mapping at the top level, got {type(raw).__name__}")
    try:
        data = PriceTableData.model_validate(raw)
    except ValidationError as error:
        raise PriceTableError(_describe_validation_error(error, raw, text, source_name)) from None
    return PriceTable(data, source_name=source_name)


def _describe_validation_error(error: ValidationError, raw: dict[str, Any], text: str, source_name: str) -> str:
    lines = [_describe_one(detail, raw, text, source_name) for detail in error.errors(include_url=False)]
    count = len(lines)
    header = f"{source_name}: {count} problem{'s' if count != 1 else ''} in the price table:"
    return "\n".join([header, *(f"  {line}" for line in lines)])


def _describe_one(detail: Any, raw: dict[str, Any], text: str, source_name: str) -> str:
    loc: tuple[int | str, ...] = tuple(detail["loc"])
    line = _line_of(text, loc)
    where = f"{Path(source_name).name}:{line}" if line else Path(source_name).name
    message = str(detail["msg"]).removeprefix("Value error, ")
    subject = _subject(loc, raw)
    return f"{where}: {subject}{message}{_got(detail, message)}"


def _got(detail: Any, message: str) -> str:
    """The offending value, when it is a scalar the message does not already quote."""
    value = detail.get("input")
    if detail["type"] == "missing" or isinstance(value, dict | list) or "got" in message:
        return ""
    return f" (got {value})" if isinstance(value, Decimal) else f" (got {value!r})"


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
    except yaml.YAMLError:
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
