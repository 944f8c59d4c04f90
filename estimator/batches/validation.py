"""Validating the lines of a Message Batches file like the API would, collecting every problem."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from estimator.batches.reader import RawItem
from pricing import Model, PriceTable, UnknownModelError

__all__ = ["LineProblem", "LineValidator"]

_KNOWN_LINE_KEYS = frozenset({"custom_id", "params"})


@dataclass(frozen=True)
class LineProblem:
    line: int
    custom_id: str | None
    severity: Literal["error", "warning"]
    code: str
    message: str


@dataclass
class LineValidator:
    table: PriceTable
    day: dt.date
    problems: list[LineProblem] = field(default_factory=list)
    seen_ids: dict[str, int] = field(default_factory=dict)
    models: dict[str, Model | None] = field(default_factory=dict)
    custom_id_pattern: re.Pattern[str] = field(init=False)

    def __post_init__(self) -> None:
        self.custom_id_pattern = re.compile(self.table.rules.batch.custom_id_pattern)

    def report(self, line: int, custom_id: str | None, severity: str, code: str, message: str) -> None:
        self.problems.append(LineProblem(line, custom_id, severity, code, message))  # type: ignore[arg-type]

    def check(self, item: RawItem) -> tuple[str | None, Mapping[str, Any] | None, Model | None]:
        """The custom_id, params and model of a valid line, or Nones after reporting every problem."""
        if item.error is not None:
            self.report(item.line, None, "error", "invalid_json", item.error)
            return None, None, None
        value = item.value
        if not isinstance(value, dict):
            self.report(item.line, None, "error", "not_an_object", "each line must be a JSON object")
            return None, None, None
        custom_id = self._custom_id(item.line, value.get("custom_id"))
        errors_before = len([p for p in self.problems if p.severity == "error"])
        for key in sorted(set(value) - _KNOWN_LINE_KEYS):
            self.report(
                item.line,
                custom_id,
                "error",
                "unknown_key",
                f"unexpected key {key!r} (lines hold custom_id and params)",
            )
        params = value.get("params")
        model = None
        if not isinstance(params, dict):
            self.report(item.line, custom_id, "error", "params_missing", "params is missing or not an object")
        else:
            model = self._params(item.line, custom_id, params)
        errors_after = len([p for p in self.problems if p.severity == "error"])
        if custom_id is None or errors_after > errors_before or model is None or not isinstance(params, dict):
            return None, None, None
        return custom_id, params, model

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
                f"custom_id {custom_id!r} must be 1-64 letters, digits, '_' or '-' "
                f"({self.table.rules.batch.custom_id_pattern})",
            )
            return None
        first = self.seen_ids.setdefault(custom_id, line)
        if first != line:
            self.report(
                line, custom_id, "error", "custom_id_duplicate", f"custom_id {custom_id!r} already used on line {first}"
            )
            return None
        return custom_id

    def _params(self, line: int, custom_id: str | None, params: Mapping[str, Any]) -> Model | None:
        for name in self.table.rules.batch.forbidden_params:
            if name in params and not (name == "stream" and params[name] is False):
                self.report(
                    line, custom_id, "error", f"{name}_not_allowed", f"{name!r} is not allowed in a batch request"
                )
        messages = params.get("messages")
        if not isinstance(messages, list) or not messages:
            self.report(line, custom_id, "error", "messages_missing", "params.messages must be a non-empty list")
        model = self._model(line, custom_id, params.get("model"))
        self._max_tokens(line, custom_id, params.get("max_tokens"), model)
        if model is not None and params.get("inference_geo") == "us" and not model.data_residency_us:
            self.report(
                line, custom_id, "error", "geo_not_supported", f"inference_geo 'us' is not available for {model.name}"
            )
        return model

    def _model(self, line: int, custom_id: str | None, name: object) -> Model | None:
        if not isinstance(name, str) or not name:
            self.report(line, custom_id, "error", "model_missing", "params.model is missing")
            return None
        if name not in self.models:
            try:
                self.models[name] = self.table.model(name)
            except UnknownModelError as error:
                self.models[name] = None
                self.report(line, custom_id, "error", "model_unknown", str(error))
                return None
        model = self.models[name]
        if model is None:
            self.report(line, custom_id, "error", "model_unknown", f"unknown model {name!r} (see its first line)")
            return None
        status = model.status_as_of(self.day)
        if status == "retired":
            self.report(
                line, custom_id, "error", "model_retired", f"{model.name} was retired on {model.lifecycle.retired}"
            )
            return None
        if status == "unreleased":
            self.report(line, custom_id, "error", "model_unreleased", f"{model.name} is not released on {self.day}")
            return None
        return model

    def _max_tokens(self, line: int, custom_id: str | None, value: object, model: Model | None) -> None:
        if value is None:
            self.report(line, custom_id, "error", "max_tokens_missing", "params.max_tokens is missing")
            return
        if isinstance(value, bool) or not isinstance(value, int):
            self.report(
                line, custom_id, "error", "max_tokens_invalid", f"max_tokens must be a whole number, got {value!r}"
            )
            return
        if value < 1:
            self.report(line, custom_id, "error", "max_tokens_invalid", f"max_tokens must be at least 1, got {value}")
            return
        if model is None or model.max_output_tokens is None:
            return
        batch_limit = model.batch_max_output_tokens or model.max_output_tokens
        if value > batch_limit:
            self.report(
                line, custom_id, "error", "max_tokens_too_large",
                f"max_tokens {value:,} exceeds {model.name}'s batch maximum of {batch_limit:,}",
            )  # fmt: skip
        elif value > model.max_output_tokens:
            header = self.table.rules.batch.extended_output_beta_header
            self.report(
                line, custom_id, "warning", "needs_beta_header",
                f"max_tokens {value:,} is above {model.max_output_tokens:,}: needs the beta header {header}",
            )  # fmt: skip
