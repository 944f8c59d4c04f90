"""Load a plan file strictly: every problem is one line naming the file, the line and the fix.

    costs.yaml:12: workload 'support-bot': unknown key 'prefix_token' (did you mean 'prefix_tokens'?)
    costs.yaml:7: workload 'nightly': model: Unknown model 'claude-sonet-4-6'. Did you mean: ...?
    costs.yaml:9: workload 'nightly': requests: must be 0 or more (got -5)

The file must be a regular file (a FIFO or device is refused, never waited on) of at most 1 MB of UTF-8
YAML. Numbers are read as Decimal from their text; duplicate keys and YAML aliases are refused. Token
figures may name a text file to count (`prefix_tokens: {file: prompts/system.md}`), offline by default
or exactly with `exact_tokens=True` and an API key. Paths in a plan are relative to the plan file.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import os
from collections.abc import Hashable, Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from estimator.errors import EstimatorError, InvalidWorkloadError
from estimator.plans.errors import PlanFileError
from estimator.plans.files import open_regular_file, read_regular_file
from estimator.plans.limits import Budget, IncreaseLimit, Period, parse_increase
from estimator.plans.plan import ActualsRef, BatchFileRef, Plan, PlanWorkload, TokenFile
from estimator.plans.sources import count_text_file
from estimator.workload import DEFAULT_HIT_RATE, Workload, workload_from
from pricing import PriceTable, PricingError, load_price_table

if TYPE_CHECKING:
    from pydantic import ValidationError

    from estimator.plans.model import ActualsSpec, BatchFileSpec, BudgetSpec, PlanFile, WorkloadSpec

__all__ = ["MAX_PLAN_BYTES", "MAX_TEXT_FILE_BYTES", "load_plan", "parse_plan"]

MAX_PLAN_BYTES = 1_000_000
"""A plan is a page of YAML; a megabyte of it is the wrong file."""
MAX_TEXT_FILE_BYTES = 20_000_000
"""A prompt or document to count: 20 MB is far beyond any context window."""
TOKEN_FIELDS = ("prefix_tokens", "unique_input_tokens", "output_tokens")

_HINTS = {
    "as_of": "the price date is given to `check --as-of` for the whole plan, not per workload",
    "name": "a workload's name is its key under `workloads:`",
    "input_tokens": "did you mean 'unique_input_tokens' (the input after the shared prefix)?",
    "hit_rate": "did you mean 'cache_hit_rate'?",
}


def load_plan(
    path: str | os.PathLike[str],
    *,
    table: PriceTable | None = None,
    exact_tokens: bool = False,
    api_key: str | None = None,
    base_url: str | None = None,
) -> Plan:
    """Read, validate and resolve a plan file; raises `PlanFileError` listing every problem, one per line."""
    plan_path = Path(path)
    data = read_regular_file(plan_path, "plan file", MAX_PLAN_BYTES, PlanFileError)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise PlanFileError(f"{plan_path}: not UTF-8 text (byte {error.start})") from None
    return parse_plan(
        text,
        source_name=str(plan_path),
        base_dir=plan_path.parent,
        table=table,
        exact_tokens=exact_tokens,
        api_key=api_key,
        base_url=base_url,
    )


def parse_plan(
    text: str,
    *,
    source_name: str = "<plan>",
    base_dir: Path | None = None,
    table: PriceTable | None = None,
    exact_tokens: bool = False,
    api_key: str | None = None,
    base_url: str | None = None,
) -> Plan:
    """A plan from YAML text. With `base_dir=None` (an upload) a plan that names files is refused: the
    files it names would be read from wherever the code runs, not from the plan's author."""
    from pydantic import ValidationError

    from estimator.plans.model import PlanFile

    root, raw = _compose(text, source_name)
    lines = _Lines(root, source_name)
    if not isinstance(raw, dict):
        raise PlanFileError(f"{source_name}:1: a plan is a mapping with a `workloads:` key, got {_kind(raw)}")
    try:
        spec = PlanFile.model_validate(raw)
    except ValidationError as error:
        raise PlanFileError(_validation_problems(error, raw, lines)) from None
    resolver = _Resolver(spec, lines, base_dir, table or load_price_table(), exact_tokens, api_key, base_url)
    return resolver.plan(hashlib.sha256(text.encode("utf-8")).hexdigest())


# --- YAML with lines --------------------------------------------------------------------------------


class _PlanLoader(yaml.SafeLoader):
    """Safe YAML, pure Python (a plan is small): Decimal floats, no duplicate keys, no aliases."""

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None, None, "YAML aliases (*name) are not accepted in a plan: write the value out", event.start_mark
            )
        return super().compose_node(parent, index)


def _construct_decimal(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Decimal:
    text = str(loader.construct_scalar(node)).replace("_", "").lower()
    special = {".inf": "Infinity", "+.inf": "Infinity", "-.inf": "-Infinity", ".nan": "NaN"}
    return Decimal(special.get(text, text))


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
    loader.flatten_mapping(node)
    seen: set[Hashable] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if not isinstance(key, Hashable):
            raise yaml.constructor.ConstructorError(None, None, "a key must be a plain value", key_node.start_mark)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (the later value would silently win)", key_node.start_mark
            )
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep=True)


_PlanLoader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)
_PlanLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)


def _compose(text: str, source_name: str) -> tuple[yaml.Node | None, Any]:
    loader = _PlanLoader(text)
    try:
        node = loader.get_single_node()
        raw = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        raise PlanFileError(f"{source_name}{line}: invalid YAML: {error.problem or error.context}") from None
    except yaml.YAMLError as error:
        raise PlanFileError(f"{source_name}: invalid YAML: {error}") from None
    except RecursionError:
        raise PlanFileError(f"{source_name}: invalid YAML: nested too deeply to be a plan") from None
    finally:
        loader.dispose()
    return node, raw


class _Lines:
    """Finds the line of a key path (`workloads`, name, field, ...) in the composed YAML."""

    def __init__(self, root: yaml.Node | None, source_name: str) -> None:
        self.root = root
        self.source_name = source_name

    def line(self, path: Iterable[int | str]) -> int:
        node, line = self.root, 1 if self.root is None else self.root.start_mark.line + 1
        for part in path:
            found = _child(node, part)
            if found is None:
                break
            line, node = found
        return line

    def problem(self, path: tuple[int | str, ...], message: str, *, at: tuple[int | str, ...] | None = None) -> str:
        """`file:line: where: message`; the line is that of `at` (default: of `path`)."""
        return f"{self.source_name}:{self.line(path if at is None else at)}: {_where(path)}{message}"


def _child(node: yaml.Node | None, part: int | str) -> tuple[int, yaml.Node] | None:
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        item: yaml.Node = node.value[part]
        return item.start_mark.line + 1, item
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(part):
                return key_node.start_mark.line + 1, value_node
    return None


def _where(path: tuple[int | str, ...]) -> str:
    if len(path) >= 2 and path[0] == "workloads":
        rest = _dotted(path[2:])
        return f"workload {path[1]!r}: " + (f"{rest}: " if rest else "")
    dotted = _dotted(path)
    return f"{dotted}: " if dotted else ""


def _dotted(path: Iterable[int | str]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _kind(value: Any) -> str:
    return "nothing" if value is None else f"a {type(value).__name__}"


# --- schema errors, one line each --------------------------------------------------------------------


def _validation_problems(error: ValidationError, raw: dict[str, Any], lines: _Lines) -> list[str]:
    from estimator.plans.model import WORKLOAD_TAGS

    details = []
    for detail in error.errors(include_url=False):
        loc = tuple(part for part in detail["loc"] if part not in WORKLOAD_TAGS)
        details.append((loc, detail))
    unknown = {loc[:-1]: str(loc[-1]) for loc, d in details if d["type"] == "extra_forbidden" and loc}
    problems: list[str] = []
    seen: set[tuple[int | str, ...]] = set()
    for loc, detail in details:
        if loc in seen or _explained_by_unknown_key(loc, detail, unknown):
            continue
        seen.add(loc)
        where = loc[:-1] if detail["type"] == "extra_forbidden" else loc
        problems.append(lines.problem(where, _message(loc, detail, raw), at=loc))
    return problems


def _explained_by_unknown_key(
    loc: tuple[int | str, ...], detail: Any, unknown: Mapping[tuple[int | str, ...], str]
) -> bool:
    """A key missing beside an unknown one is most often the same typo (`batch_fille` leaves an entry that
    looks like figures without a model): report the unknown key alone; a real omission shows next run."""
    return detail["type"] == "missing" and loc[:-1] in unknown


def _message(loc: tuple[int | str, ...], detail: Any, raw: dict[str, Any]) -> str:
    kind, context, value = detail["type"], detail.get("ctx") or {}, detail.get("input")
    if kind == "extra_forbidden":
        key = str(loc[-1])
        return f"unknown key {key!r}{_hint(key, _allowed_keys(loc[:-1], raw))}"
    if kind == "missing":
        return f"missing required key {loc[-1]!r}" if loc else "missing"
    simple = {
        "int_type": "must be a whole number",
        "int_from_float": "must be a whole number",
        "bool_type": "must be true or false",
        "string_type": "must be text",
        "decimal_type": "must be a number",
        "decimal_parsing": "must be a number",
        "finite_number": "must be a finite number (not NaN or infinity)",
        "dict_type": "must be a mapping of keys to values",
        "model_type": "must be a mapping of keys to values",
        "model_attributes_type": "must be a mapping of keys to values",
        "list_type": "must be a list",
        "string_pattern_mismatch": "must be a percentage such as '10%' or an amount such as '$5'",
    }
    if loc and loc[-1] in ("max_increase", "max_workload_increase") and kind == "string_type":
        message = simple["string_pattern_mismatch"]
    elif kind in simple:
        message = simple[kind]
    elif kind == "less_than_equal" and str(context.get("le")) == "1":
        message = "must be between 0 and 1 (0.85 for 85%)"
    elif kind == "greater_than_equal":
        message = f"must be {context.get('ge')} or more"
    elif kind == "less_than_equal":
        message = f"must be at most {_number(context.get('le'))}; larger values are typos"
    elif kind == "literal_error":
        message = f"must be one of {context.get('expected')}"
    elif kind == "too_short" and loc == ("workloads",):
        return "a plan needs at least one workload"
    elif kind in ("too_short", "string_too_short"):
        message = "must not be empty"
    else:
        message = str(detail["msg"]).removeprefix("Value error, ")
    return message + _got(value)


def _got(value: Any) -> str:
    if isinstance(value, dict | list) or value is None:
        return ""
    shown = str(value) if isinstance(value, Decimal) else repr(value)
    return f" (got {shown[:80]})"


def _number(value: Any) -> str:
    try:
        return f"{Decimal(str(value)).normalize():,f}"
    except ArithmeticError:
        return str(value)


def _hint(key: str, allowed: tuple[str, ...]) -> str:
    if key in _HINTS:
        return f" ({_HINTS[key]})"
    close = _suggestions(key, allowed)
    if close:
        return f" (did you mean {' or '.join(repr(name) for name in close)}?)"
    return f"; expected one of: {', '.join(allowed)}" if allowed else ""


def _suggestions(key: str, allowed: tuple[str, ...]) -> list[str]:
    return difflib.get_close_matches(key, allowed, n=2, cutoff=0.6)


def _allowed_keys(loc: tuple[int | str, ...], raw: dict[str, Any]) -> tuple[str, ...]:
    from pydantic import BaseModel

    from estimator.plans.model import (
        ActualsRefSpec,
        ActualsSpec,
        BatchFileRefSpec,
        BatchFileSpec,
        BudgetSpec,
        PlanFile,
        TokenFileSpec,
        WorkloadSpec,
        workload_kind,
    )

    models: dict[str, type[BaseModel]] = {"budget": BudgetSpec}
    if not loc:
        return tuple(PlanFile.model_fields)
    if len(loc) == 1:
        found = models.get(str(loc[0]))
        return tuple(found.model_fields) if found else ()
    if loc[0] != "workloads":
        return ()
    entry = raw.get("workloads", {}).get(loc[1]) if isinstance(raw.get("workloads"), dict) else None
    kinds: dict[str, type[BaseModel]] = {
        "Workload": WorkloadSpec,
        "BatchFileWorkload": BatchFileSpec,
        "ActualsWorkload": ActualsSpec,
    }
    spec = kinds[workload_kind(entry)]
    if len(loc) == 2:
        # Suggest across the kinds: a misspelt `batch_file` leaves an entry that looks like figures.
        every = [*spec.model_fields, *(name for k in kinds.values() for name in k.model_fields)]
        return tuple(dict.fromkeys(every))
    inner_models: dict[str, type[BaseModel]] = {
        "budget": BudgetSpec,
        "batch_file": BatchFileRefSpec,
        "actuals": ActualsRefSpec,
        **dict.fromkeys(TOKEN_FIELDS, TokenFileSpec),
    }
    inner = inner_models.get(str(loc[2]))
    return tuple(inner.model_fields) if inner is not None and len(loc) == 3 else ()


# --- resolving: models, files, token counts, workloads -------------------------------------------------


class _Resolver:
    """Turns the validated file into a `Plan`, collecting every problem with its line."""

    def __init__(
        self,
        spec: PlanFile,
        lines: _Lines,
        base_dir: Path | None,
        table: PriceTable,
        exact_tokens: bool,
        api_key: str | None,
        base_url: str | None,
    ) -> None:
        self.spec, self.lines, self.base_dir, self.table = spec, lines, base_dir, table
        self.exact_tokens, self.api_key, self.base_url = exact_tokens, api_key, base_url
        self.problems: list[str] = []

    def plan(self, sha256: str) -> Plan:
        spec = self.spec
        budget = self._budget(spec.budget, ("budget",), spec.period)
        max_increase = self._increase(spec.max_increase, ("max_increase",))
        max_workload = self._increase(spec.max_workload_increase, ("max_workload_increase",))
        workloads = []
        for name, entry in spec.workloads.items():
            resolved = self._workload(name, entry)
            if resolved is not None:
                workloads.append(resolved)
        if self.problems:
            raise PlanFileError(self.problems)
        return Plan(
            source_name=self.lines.source_name,
            period=spec.period,
            mode=spec.mode,
            workloads=tuple(workloads),
            sha256=sha256,
            budget=budget,
            max_increase=max_increase,
            max_workload_increase=max_workload,
            base_dir=self.base_dir,
        )

    def _fail(self, path: tuple[int | str, ...], message: str) -> None:
        self.problems.append(self.lines.problem(path, message))

    def _budget(self, spec: BudgetSpec | None, path: tuple[str, ...], period: Period) -> Budget | None:
        if spec is None:
            return None
        if (spec.per == "run") != (period == "run"):
            self._fail(
                (*path, "per"),
                f"a budget per {spec.per} cannot hold costs per {period}: a run has no length "
                "(use day, week, month or year for both, or run for both)",
            )
            return None
        return Budget(spec.usd, spec.per)

    def _increase(self, text: str | None, path: tuple[str, ...]) -> IncreaseLimit | None:
        if text is None:
            return None
        try:
            return parse_increase(text, str(path[-1]))
        except InvalidWorkloadError as error:
            self._fail(path, str(error))
            return None

    def _workload(self, name: str, entry: WorkloadSpec | BatchFileSpec | ActualsSpec) -> PlanWorkload | None:
        from estimator.plans.model import ActualsSpec, BatchFileSpec

        path: tuple[str, ...] = ("workloads", name)
        period: Period = entry.period or self.spec.period
        before = len(self.problems)
        if (period == "run") != (self.spec.period == "run"):
            self._fail(
                (*path, "period"),
                f"costs per {period} cannot be added to a plan totalled per {self.spec.period}: a run has no "
                "length (give requests per day, week or month, or make the plan's period run)",
            )
        common = PlanWorkload(
            name=name,
            line=self.lines.line(path),
            period=period,
            mode=(entry.mode if not isinstance(entry, ActualsSpec) else None) or self.spec.mode,
            budget=self._budget(entry.budget, (*path, "budget"), period),
            max_increase=self._increase(entry.max_increase, (*path, "max_increase")),
            description=entry.description,
        )
        if isinstance(entry, BatchFileSpec):
            resolved = self._batch_file(common, entry)
        elif isinstance(entry, ActualsSpec):
            resolved = self._actuals(common, entry)
        else:
            resolved = self._figures(common, entry)
        return resolved if len(self.problems) == before else None

    def _file(self, text: str, path: tuple[int | str, ...], what: str) -> Path | None:
        if self.base_dir is None:
            self._fail(path, f"names a file ({text}), which is only read when the plan is loaded from a file")
            return None
        resolved = self.base_dir / text
        try:
            open_regular_file(resolved, what).close()
        except EstimatorError as error:
            self._fail(path, str(error))
            return None
        return resolved

    def _batch_file(self, common: PlanWorkload, entry: BatchFileSpec) -> PlanWorkload | None:
        ref = entry.batch_file
        path = ("workloads", common.name, "batch_file")
        if ref.output_ratio is not None and ref.output_tokens is not None:
            self._fail((*path, "output_tokens"), "give output_ratio or output_tokens, not both")
        resolved = self._file(ref.path, (*path, "path"), "batch file")
        if resolved is None:
            return None
        hit_rate = ref.hit_rate if ref.hit_rate is not None else DEFAULT_HIT_RATE
        batch = BatchFileRef(ref.path, resolved, hit_rate, ref.output_ratio, ref.output_tokens)
        return dataclasses.replace(common, batch_file=batch)

    def _actuals(self, common: PlanWorkload, entry: ActualsSpec) -> PlanWorkload | None:
        ref = entry.actuals
        path = ("workloads", common.name, "actuals")
        model = self._model(ref.model, (*path, "model")) if ref.model is not None else None
        resolved = [self._file(text, (*path, "paths", index), "usage file") for index, text in enumerate(ref.paths)]
        if any(item is None for item in resolved):
            return None
        files = tuple(item for item in resolved if item is not None)
        return dataclasses.replace(common, actuals=ActualsRef(tuple(ref.paths), files, model))

    def _model(self, name: str, path: tuple[int | str, ...]) -> str | None:
        try:
            return self.table.model(name).id
        except PricingError as error:
            self._fail(path, str(error))
            return None

    def _figures(self, common: PlanWorkload, entry: WorkloadSpec) -> PlanWorkload | None:
        path = ("workloads", common.name)
        model = self._model(entry.model, (*path, "model"))
        if model is None:
            return None
        tokens: dict[str, int] = {}
        counted: list[TokenFile] = []
        for field in TOKEN_FIELDS:
            value = getattr(entry, field)
            if isinstance(value, int):
                tokens[field] = value
                continue
            count = self._count(value.file, model, (*path, field, "file"))
            if count is not None:
                tokens[field] = count.tokens
                counted.append(dataclasses.replace(count, field=field))
        if len(tokens) < len(TOKEN_FIELDS):
            return None
        hit_rate = self._hit_rate(entry, path)
        if hit_rate is None:
            return None
        fields = {
            "model": model,
            "requests": entry.requests,
            "period": common.period,
            **tokens,
            "cache_hit_rate": hit_rate,
            "cache_ttl": entry.cache_ttl,
            "web_searches_per_request": entry.web_searches_per_request,
            "tool_use": entry.tool_use,
            "geo": entry.geo,
            "fast": entry.fast,
            "tokens_measured_for": entry.tokens_measured_for,
            "thinking_tokens": entry.thinking_tokens,
            "web_fetches_per_request": entry.web_fetches_per_request,
            "tokens_per_web_fetch": entry.tokens_per_web_fetch,
            "code_execution_sessions_per_request": entry.code_execution_sessions_per_request,
            "code_execution_minutes_per_session": entry.code_execution_minutes_per_session,
            "code_execution_with_web_tools": entry.code_execution_with_web_tools,
            "channel": entry.channel,
            "endpoint": entry.endpoint,
        }
        workload = self._checked_workload(fields, path)
        if workload is None:
            return None
        return dataclasses.replace(
            common, workload=workload, requests_per_hour=entry.requests_per_hour, token_files=tuple(counted)
        )

    def _hit_rate(self, entry: WorkloadSpec, path: tuple[str, ...]) -> Decimal | None:
        if entry.requests_per_hour is None:
            return entry.cache_hit_rate if entry.cache_hit_rate is not None else DEFAULT_HIT_RATE
        if entry.cache_hit_rate is not None:
            self._fail((*path, "requests_per_hour"), "give cache_hit_rate or requests_per_hour, not both")
            return None
        from estimator.planning import hit_rate_from_traffic

        return hit_rate_from_traffic(entry.requests_per_hour, entry.cache_ttl, table=self.table)

    def _checked_workload(self, fields: dict[str, Any], path: tuple[str, ...]) -> Workload | None:
        from estimator.costs import prepare

        try:
            workload = workload_from(**fields)
            prepare(workload, self.table)  # options the model lacks (US residency, fast mode) fail here
        except InvalidWorkloadError as error:
            self._fail((*path, error.field) if error.field else path, str(error))
            return None
        except (EstimatorError, PricingError) as error:
            self._fail(path, str(error))
            return None
        return workload

    def _count(self, text: str, model: str, path: tuple[int | str, ...]) -> TokenFile | None:
        resolved = self._file(text, path, "text file")
        if resolved is None:
            return None
        try:
            data = read_regular_file(resolved, "text file", MAX_TEXT_FILE_BYTES)
            counted = count_text_file(
                data.decode("utf-8"),
                model,
                table=self.table,
                exact=self.exact_tokens,
                api_key=self.api_key,
                base_url=self.base_url,
            )
        except UnicodeDecodeError as error:
            self._fail(path, f"{resolved}: not UTF-8 text (byte {error.start}); count only text files")
            return None
        except (EstimatorError, PricingError) as error:
            self._fail(path, str(error))
            return None
        detail = "; ".join((counted.detail, *counted.notes))
        return TokenFile(field=str(path[-2]), path=text, tokens=counted.tokens, detail=detail)
