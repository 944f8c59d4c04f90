"""Validating the lines of a Message Batches file like the API would, collecting every problem.

Linear in the number of lines whatever their problems: counts are kept as they go (never recounted from the
list), and a problem code met more than `MAX_LISTED_PER_CODE` times is listed that many times, the rest counted
(`unlisted`) and summed up in one closing problem. Lines in OpenAI's batch format are reported once for the
whole file, not once per line.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from estimator.batches.api_rules import RULES
from estimator.batches.reader import RawItem
from estimator.batches.records import SeenIds
from estimator.batches.request_checks import check_params
from estimator.workload import quoted
from pricing import Model, PriceTable, UnknownModelError

__all__ = ["MAX_LISTED_PER_CODE", "LineProblem", "LineValidator", "SeenLines"]

MAX_LISTED_PER_CODE = 1_000
"""Problems of one code listed before the rest are only counted: a file of 100,000 misspelt models needs its
first lines to be fixed, not 100,000 copies of the same sentence."""

_KNOWN_LINE_KEYS = frozenset({"custom_id", "params"})
_OPENAI_LINE_KEYS = frozenset({"method", "url", "body"})
_SHOWN_LINES = 5

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class LineProblem:
    """A problem on `line` (the first of `lines` when it concerns several); `source` documents the rule."""

    line: int
    custom_id: str | None
    severity: Severity
    code: str
    message: str
    source: str | None = None
    lines: tuple[int, ...] = ()
    unlisted: int = 0
    """For the closing summary of a code met too often: how many problems it stands for (0 otherwise)."""
    file: str | None = None
    """The file the line is in (set by the dry run; it matters when several files are read)."""

    @property
    def count(self) -> int:
        """How many problems this entry stands for: 1, or the number a summary counts."""
        return self.unlisted or 1


@dataclass
class SeenLines:
    """Lines of the file that share something (a model, a format), counted in full, the first few kept."""

    count: int = 0
    lines: list[int] = field(default_factory=list)

    def add(self, line: int) -> None:
        self.count += 1
        if len(self.lines) < _SHOWN_LINES and (not self.lines or self.lines[-1] != line):
            self.lines.append(line)

    def where(self) -> str:
        shown_lines = ", ".join(f"{line:,}" for line in self.lines)
        more = self.count - len(self.lines)
        return f"line{'s' if self.count > 1 else ''} {shown_lines}" + (f" and {more:,} more" if more > 0 else "")


@dataclass(frozen=True)
class _Lookup:
    model: Model | None
    exact: bool  # the name is the model's API id or alias as published, not a spelling the planner tolerates
    first_line: int
    status: str = "active"  # on the validator's day (fixed for the file)


@dataclass
class LineValidator:
    table: PriceTable
    day: dt.date
    problems: list[LineProblem] = field(default_factory=list)
    seen_ids: SeenIds = field(default_factory=SeenIds)
    models: dict[str, _Lookup] = field(default_factory=dict)
    listed: Counter[str] = field(default_factory=Counter)
    unlisted: Counter[str] = field(default_factory=Counter)
    first_unlisted: dict[str, tuple[int, Severity]] = field(default_factory=dict)
    deprecated: dict[str, SeenLines] = field(default_factory=dict)
    unchecked_output: dict[str, SeenLines] = field(default_factory=dict)
    openai: SeenLines = field(default_factory=SeenLines)
    items: int = 0
    invalid_lines: int = 0
    errors: int = 0
    custom_id_pattern: re.Pattern[str] = field(init=False)
    forbidden_params: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        self.custom_id_pattern = re.compile(self.table.rules.batch.custom_id_pattern)
        # Only speed "fast" is refused in batches, not speed itself: request_checks applies that rule.
        self.forbidden_params = tuple(name for name in self.table.rules.batch.forbidden_params if name != "speed")

    def report(
        self, line: int, custom_id: str | None, severity: Severity, code: str, message: str, source: str | None = None
    ) -> None:
        if severity == "error":
            self.errors += 1
        if self.listed[code] >= MAX_LISTED_PER_CODE:
            self.unlisted[code] += 1
            self.first_unlisted.setdefault(code, (line, severity))
            return
        self.listed[code] += 1
        self.problems.append(LineProblem(line, custom_id, severity, code, message, source))

    def check(self, item: RawItem) -> tuple[str | None, Mapping[str, Any] | None, Model | None]:
        """The custom_id, params and model of a valid line, or Nones after reporting every problem."""
        self.items += 1
        errors_before = self.errors
        result = self._check(item)
        if self.errors > errors_before:
            self.invalid_lines += 1
            return None, None, None
        return result

    def finish(self) -> list[LineProblem]:
        """The problems found, with the summaries only the whole file can give (counts, formats, models)."""
        if self.openai.count:
            self._report_openai()
        if self.items == 0:  # a file-wide error: no line is invalid, for there is none
            rule = RULES["empty_batch"]
            self.report(1, None, "error", rule.code, f"the file holds no requests — {rule.says}", rule.source)
        for model_id, seen in self.unchecked_output.items():
            model = self.table.model(model_id)
            self.problems.append(
                LineProblem(
                    seen.lines[0], None, "warning", "max_tokens_unchecked",
                    f"{model.name}: the price table has no max output for this model, so max_tokens was not checked "
                    f"({seen.count:,} request{'s' if seen.count != 1 else ''}, {seen.where()})",
                    lines=tuple(seen.lines),
                )
            )  # fmt: skip
        for code, count in self.unlisted.items():
            line, severity = self.first_unlisted[code]
            self.problems.append(
                LineProblem(
                    line, None, severity, code,
                    f"{count:,} more line{'s' if count != 1 else ''} with {code} from here on, not listed (the first "
                    f"{MAX_LISTED_PER_CODE:,} are)",
                    unlisted=count,
                )
            )  # fmt: skip
        return self.problems

    # --- one line ------------------------------------------------------------------------------------

    def _check(self, item: RawItem) -> tuple[str | None, Mapping[str, Any] | None, Model | None]:
        if item.error is not None:
            self.report(item.line, None, "error", item.code, item.error)
            return None, None, None
        value = item.value
        if not isinstance(value, dict):
            self.report(item.line, None, "error", "not_an_object", "each line must be a JSON object")
            return None, None, None
        if "params" not in value and set(value) >= _OPENAI_LINE_KEYS:
            # One report for the whole file (made at the end), not four errors on every line.
            self.openai.add(item.line)
            self.errors += 1
            return None, None, None
        custom_id = self._custom_id(item.line, value.get("custom_id"))
        for key in () if _KNOWN_LINE_KEYS.issuperset(value) else sorted(str(k) for k in set(value) - _KNOWN_LINE_KEYS):
            self.report(
                item.line,
                custom_id,
                "error",
                "unknown_key",
                f"unexpected key {quoted(key)} (lines hold custom_id and params)",
            )
        params = value.get("params")
        if not isinstance(params, dict):
            self.report(item.line, custom_id, "error", "params_missing", "params is missing or not an object")
            return None, None, None
        model = self._params(item.line, custom_id, params)
        if custom_id is None or model is None:
            return None, None, None
        return custom_id, params, model

    def _report_openai(self) -> None:
        rule = RULES["openai_batch_format"]
        self.problems.append(
            LineProblem(
                self.openai.lines[0],
                None,
                "error",
                rule.code,
                f"this is an OpenAI Batch API file ({self.openai.count:,} line{'s' if self.openai.count != 1 else ''} "
                f"with method, url and body: {self.openai.where()}). A Claude Message Batch line is "
                '{"custom_id": "...", "params": {"model": "claude-...", "max_tokens": N, "messages": [...]}}: '
                "move body.messages into params (a system message becomes the top-level system parameter) and "
                "pick a Claude model.",
                rule.source,
                tuple(self.openai.lines),
            )
        )

    def _custom_id(self, line: int, custom_id: object) -> str | None:
        if custom_id is None:
            self.report(line, None, "error", "custom_id_missing", "custom_id is missing")
            return None
        if not isinstance(custom_id, str) or not self.custom_id_pattern.fullmatch(custom_id):
            self.report(
                line,
                None,
                "error",
                "custom_id_invalid",
                f"custom_id {quoted(custom_id)} must be 1-64 letters, digits, '_' or '-' "
                f"({self.table.rules.batch.custom_id_pattern})",
            )
            return None
        first = self.seen_ids.first_line(custom_id, line)
        if first is not None:
            self.report(
                line, custom_id, "error", "custom_id_duplicate", f"custom_id {custom_id!r} already used on line {first}"
            )
            return None
        return custom_id

    def _params(self, line: int, custom_id: str | None, params: Mapping[str, Any]) -> Model | None:
        for name in self.forbidden_params:
            if name in params and not (name == "stream" and params[name] is False):
                self.report(
                    line, custom_id, "error", f"{name}_not_allowed", f"{name!r} is not allowed in a batch request"
                )
        messages = params.get("messages")
        if not isinstance(messages, list) or not messages:
            self.report(line, custom_id, "error", "messages_missing", "params.messages must be a non-empty list")
        model = self._model(line, custom_id, params.get("model"))
        self._max_tokens(line, custom_id, params.get("max_tokens"), model)
        if model is not None:
            for finding in check_params(params, model):
                self.report(line, custom_id, finding.severity, finding.code, finding.message, finding.source)
        return model

    def _model(self, line: int, custom_id: str | None, name: object) -> Model | None:
        if not isinstance(name, str) or not name:
            self.report(line, custom_id, "error", "model_missing", "params.model is missing")
            return None
        lookup = self.models.get(name)
        if lookup is None:
            lookup = self.models[name] = self._look_up(line, custom_id, name)
            if lookup.model is None:
                return None
        elif lookup.model is None:
            self.report(
                line,
                custom_id,
                "error",
                "model_unknown",
                f"unknown model {quoted(name)} (see line {lookup.first_line})",
            )
            return None
        model = lookup.model
        if not lookup.exact:
            rule = RULES["model_not_an_api_id"]
            self.report(
                line, custom_id, "error", rule.code,
                f"model {quoted(name)} is how the planner reads {model.name}, but the API would reject it: use "
                f"{model.id!r} — {rule.says}",
                rule.source,
            )  # fmt: skip
        status = lookup.status
        if status == "retired":
            self.report(
                line, custom_id, "error", "model_retired", f"{model.name} was retired on {model.lifecycle.retired}"
            )
            return None
        if status == "unreleased":
            self.report(line, custom_id, "error", "model_unreleased", f"{model.name} is not released on {self.day}")
            return None
        if status == "deprecated":
            self.deprecated.setdefault(model.id, SeenLines()).add(line)
        return model

    def _look_up(self, line: int, custom_id: str | None, name: str) -> _Lookup:
        try:
            model = self.table.model(name)
        except UnknownModelError as error:
            self.report(line, custom_id, "error", "model_unknown", str(error))
            return _Lookup(None, False, line)
        return _Lookup(model, name in (model.id, *model.aliases), line, model.status_as_of(self.day))

    def _max_tokens(self, line: int, custom_id: str | None, value: object, model: Model | None) -> None:
        if type(value) is int and model is not None and 1 <= value <= (model.max_output_tokens or 0):
            return  # the common case, within the model's standard maximum: nothing to report
        if value is None:
            self.report(line, custom_id, "error", "max_tokens_missing", "params.max_tokens is missing")
            return
        if isinstance(value, bool) or not isinstance(value, int):
            self.report(
                line,
                custom_id,
                "error",
                "max_tokens_invalid",
                f"max_tokens must be a whole number, got {quoted(value)}",
            )
            return
        if value < 1:
            self.report(
                line, custom_id, "error", "max_tokens_invalid", f"max_tokens must be at least 1, got {quoted(value)}"
            )
            return
        if model is None:
            return
        if model.max_output_tokens is None:
            if value > model.context_window_tokens:  # output is part of the context window
                self.report(
                    line, custom_id, "error", "max_tokens_too_large",
                    f"max_tokens {_count(value)} exceeds {model.name}'s context window of "
                    f"{model.context_window_tokens:,} tokens",
                )  # fmt: skip
                return
            self.unchecked_output.setdefault(model.id, SeenLines()).add(line)
            return
        batch_limit = model.batch_max_output_tokens or model.max_output_tokens
        if value > batch_limit:
            self.report(
                line, custom_id, "error", "max_tokens_too_large",
                f"max_tokens {_count(value)} exceeds {model.name}'s batch maximum of {batch_limit:,}",
            )  # fmt: skip
        elif value > model.max_output_tokens:
            header = self.table.rules.batch.extended_output_beta_header
            self.report(
                line, custom_id, "warning", "needs_beta_header",
                f"max_tokens {value:,} is above {model.max_output_tokens:,}: needs the beta header {header}",
            )  # fmt: skip


def _count(value: int) -> str:
    return f"{value:,}" if value.bit_length() <= 64 else quoted(value)
