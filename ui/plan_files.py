"""Rows and text for the Plan files page: a plan file as an editable table, back to YAML, and the verdict.

Pure functions, no Streamlit: a loaded `Plan` becomes table rows (one per workload), edited rows become a
plan file again (`plan_yaml`, validated by the same loader as the CLI's), and a `PlanCheck` becomes a table
with its total, a one-line verdict and the attribution against a baseline. Money in rows is rounded for
display (`ui.columns`); the exact figures are in the downloads.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml

from estimator.format import format_usd
from estimator.plans import Plan, PlanCheck
from estimator.plans.limits import PERIODS
from estimator.plans.plan import MODE_CHOICES
from estimator.plans.render import attribution_sections, markdown_text
from ui.columns import Cell, Table, display_number, money_column, money_decimals, text_column

__all__ = [
    "COLUMNS",
    "DEFAULT_ROWS",
    "DEFAULT_SETTINGS",
    "PlanSettings",
    "RowsError",
    "attribution_markdown",
    "check_table",
    "plan_yaml",
    "rows_from_plan",
    "settings_from_plan",
    "verdict_text",
]


@dataclass(frozen=True)
class EditColumn:
    """One editable column: `kind` is text, whole (a count), number (a decimal), flag, or choice."""

    name: str
    label: str
    kind: str
    options: tuple[str, ...] = ()
    help: str | None = None


COLUMNS: tuple[EditColumn, ...] = (
    EditColumn("name", "Workload", "text", help="The workload's name (unique in the plan)"),
    EditColumn("model", "Model", "text", help="Model id, alias or display name"),
    EditColumn("requests", "Requests", "whole", help="Requests per period"),
    EditColumn("period", "Per", "choice", PERIODS[1:], help="The period the requests cover"),
    EditColumn("prefix_tokens", "Prefix tokens", "whole", help="Shared cacheable prefix per request"),
    EditColumn("unique_input_tokens", "Input tokens", "whole", help="Input after the prefix, per request"),
    EditColumn("output_tokens", "Output tokens", "whole", help="Output per request"),
    EditColumn("cache_hit_rate", "Hit rate", "number", help="Cache hit rate, 0 to 1"),
    EditColumn("cache_ttl", "TTL", "choice", ("5m", "1h")),
    EditColumn("mode", "Mode", "choice", MODE_CHOICES, help="The mode the team uses"),
    EditColumn("budget_usd", "Budget $", "number", help="At most this much per the budget's period"),
    EditColumn("budget_per", "Budget per", "choice", PERIODS[1:]),
    EditColumn("max_increase", "Max increase", "text", help="Allowed rise over the baseline: 10% or $5"),
    EditColumn("geo", "Geo", "choice", ("global", "us")),
    EditColumn("fast", "Fast", "flag"),
    EditColumn("tool_use", "Tools", "choice", ("off", "auto", "any")),
    EditColumn("web_searches_per_request", "Web searches", "number", help="Web searches per request"),
)
_BY_NAME = {column.name: column for column in COLUMNS}
_WORKLOAD_DEFAULTS: Mapping[str, object] = {
    "prefix_tokens": 0,
    "unique_input_tokens": 0,
    "output_tokens": 0,
    "cache_ttl": "5m",
    "geo": "global",
    "fast": False,
    "tool_use": "off",
    "web_searches_per_request": Decimal(0),
}


@dataclass(frozen=True)
class PlanSettings:
    """What the plan says besides its workloads."""

    period: str = "month"
    mode: str = "cheapest"
    budget_usd: Decimal | None = None
    max_increase: str | None = None


DEFAULT_SETTINGS = PlanSettings(budget_usd=Decimal(1500), max_increase="10%")

DEFAULT_ROWS: tuple[dict[str, Cell], ...] = (
    {
        "name": "support-bot",
        "model": "claude-sonnet-4-6",
        "requests": 2000,
        "period": "day",
        "prefix_tokens": 3000,
        "unique_input_tokens": 200,
        "output_tokens": 350,
        "cache_hit_rate": 0.9,
        "cache_ttl": "5m",
        "mode": "realtime_cached",
        "budget_usd": 600.0,
        "budget_per": "month",
        "max_increase": None,
        "geo": "global",
        "fast": False,
        "tool_use": "off",
        "web_searches_per_request": 0.0,
    },
    {
        "name": "weekly-survey",
        "model": "claude-haiku-5-5",
        "requests": 5000,
        "period": "week",
        "prefix_tokens": 1500,
        "unique_input_tokens": 500,
        "output_tokens": 200,
        "cache_hit_rate": 0.9,
        "cache_ttl": "5m",
        "mode": "cheapest",
        "budget_usd": None,
        "budget_per": None,
        "max_increase": "25%",
        "geo": "global",
        "fast": False,
        "tool_use": "off",
        "web_searches_per_request": 0.0,
    },
)


class RowsError(ValueError):
    """Edited rows that cannot become a plan file; `problems` holds one line per row at fault."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(self.problems))


# --- plan → rows --------------------------------------------------------------------------------------------


def rows_from_plan(plan: Plan) -> tuple[list[dict[str, Cell]], list[str]]:
    """One row per workload of figures, and the names of the workloads a table cannot hold (a batch file,
    usage files: those are checked with `python -m estimator check`)."""
    rows: list[dict[str, Cell]] = []
    skipped: list[str] = []
    for item in plan.workloads:
        workload = item.workload
        if workload is None:
            skipped.append(item.name)
            continue
        rows.append(
            {
                "name": item.name,
                "model": workload.model,
                "requests": workload.requests,
                "period": item.period,
                "prefix_tokens": workload.prefix_tokens,
                "unique_input_tokens": workload.unique_input_tokens,
                "output_tokens": workload.output_tokens,
                "cache_hit_rate": float(workload.cache_hit_rate),
                "cache_ttl": workload.cache_ttl,
                "mode": item.mode,
                "budget_usd": float(item.budget.usd) if item.budget else None,
                "budget_per": item.budget.period if item.budget else None,
                "max_increase": item.max_increase.text if item.max_increase else None,
                "geo": workload.geo,
                "fast": workload.fast,
                "tool_use": workload.tool_use,
                "web_searches_per_request": float(workload.web_searches_per_request),
            }
        )
    return rows, skipped


def settings_from_plan(plan: Plan) -> PlanSettings:
    return PlanSettings(
        period=plan.period,
        mode=plan.mode,
        budget_usd=plan.budget.usd if plan.budget else None,
        max_increase=plan.max_increase.text if plan.max_increase else None,
    )


# --- rows → plan file ---------------------------------------------------------------------------------------


class _PlanDumper(yaml.SafeDumper):
    """Decimals written as YAML numbers from their exact text (never through a float)."""


def _represent_decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.Node:
    text = format(value.normalize(), "f")
    tag = "tag:yaml.org,2002:int" if "." not in text else "tag:yaml.org,2002:float"
    return dumper.represent_scalar(tag, text)


_PlanDumper.add_representer(Decimal, _represent_decimal)


def plan_yaml(rows: Sequence[Mapping[str, Any]], settings: PlanSettings) -> str:
    """The plan file for these rows and settings. Rows are checked only for what YAML cannot say (a name,
    unique); every value is then checked by the plan loader, as the CLI would."""
    document: dict[str, Any] = {"version": 1, "period": settings.period, "mode": settings.mode}
    if settings.budget_usd is not None:
        document["budget"] = {"usd": settings.budget_usd, "per": settings.period}
    if settings.max_increase:
        document["max_increase"] = settings.max_increase
    workloads: dict[str, dict[str, Any]] = {}
    problems: list[str] = []
    for number, row in enumerate(rows, start=1):
        values = {name: _cell(row.get(name)) for name in _BY_NAME}
        if all(value is None or value == "" for value in values.values()):
            continue  # an empty row the editor added
        name = str(values.pop("name") or "").strip()
        if not name:
            problems.append(f"row {number}: a workload needs a name")
            continue
        if name in workloads:
            problems.append(f"row {number}: the name {name!r} is already used by another row")
            continue
        workloads[name] = _entry(values, settings)
    if problems:
        raise RowsError(problems)
    if not workloads:
        raise RowsError(["add at least one workload"])
    document["workloads"] = workloads
    header = "# A Claude cost plan: `python -m estimator check costs.yaml` prices it (see the README).\n"
    return header + yaml.dump(document, Dumper=_PlanDumper, sort_keys=False, allow_unicode=True, width=120)


def _entry(values: dict[str, Any], settings: PlanSettings) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    budget_usd, budget_per = values.pop("budget_usd"), values.pop("budget_per")
    for name, value in values.items():
        if value is None or value == "":
            continue
        if name == "mode" and value == settings.mode:
            continue
        if name in _WORKLOAD_DEFAULTS and value == _WORKLOAD_DEFAULTS[name]:
            continue
        entry[name] = value
    if budget_usd is not None:
        entry["budget"] = {"usd": budget_usd, "per": budget_per or entry.get("period") or settings.period}
    return entry


def _cell(value: Any) -> Any:
    """An editor cell as a plain value: None for empty, numbers as int or exact Decimal (floats through
    their shortest text, so 0.9 stays 0.9), text stripped."""
    if hasattr(value, "item"):  # numpy scalars from the editor's dataframe
        value = value.item()
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 2**53:
            return int(value)
        try:
            return Decimal(repr(value))
        except InvalidOperation:
            return value
    if isinstance(value, str):
        return value.strip() or None
    return value


# --- the verdict --------------------------------------------------------------------------------------------


def verdict_text(check: PlanCheck) -> str:
    total = f"{format_usd(check.total_usd)} per {check.period}"
    if check.passed:
        return f"Within every limit: {total}."
    count = len(check.failures)
    return f"{count} check{'s' if count != 1 else ''} failed: {total}."


def check_table(check: PlanCheck) -> Table:
    """One row per workload and a total: cost per its own period and per the plan's, budget, change."""
    per_plan = f"Per {check.period}"
    amounts = [item.plan_period_usd for item in check.workloads] + [check.total_usd]
    money = money_column(money_decimals(amounts))
    rows: list[dict[str, Cell]] = []
    for item in check.workloads:
        rows.append(
            {
                "Workload": item.name,
                "Model": ", ".join(item.model_ids),
                "Mode": f"{item.mode} (cheapest)" if item.mode_setting == "cheapest" else item.mode,
                "Cost": f"{format_usd(item.cost_usd)} / {item.period}",
                per_plan: display_number(item.plan_period_usd, money_decimals(amounts)),
                "Budget": f"{format_usd(item.budget.usd)} / {item.budget.period}" if item.budget else "",
                "Change": _change(item.change.change_usd if item.change else None, item.change is not None),
                "Status": "ok" if item.passed else "; ".join(item.failures),
            }
        )
    attribution = check.attribution
    rows.append(
        {
            "Workload": "Total",
            "Model": "",
            "Mode": "",
            "Cost": "",
            per_plan: display_number(check.total_usd, money_decimals(amounts)),
            "Budget": f"{format_usd(check.budget.usd)} / {check.budget.period}" if check.budget else "",
            "Change": _change(attribution.change_usd if attribution else None, attribution is not None),
            "Status": "ok" if not check.total_failures else "; ".join(check.total_failures),
        }
    )
    columns = {
        "Workload": text_column(),
        "Model": text_column(),
        "Mode": text_column(),
        "Cost": text_column("Per the workload's own period"),
        per_plan: money,
        "Budget": text_column(),
        "Change": text_column("Since the baseline lock"),
        "Status": text_column(width="large"),
    }
    return Table(rows, columns)


def _change(value: Decimal | None, compared: bool) -> str:
    if not compared:
        return ""
    if value is None:
        return "new"
    return ("+" if value > 0 else "") + format_usd(value)


def attribution_markdown(check: PlanCheck) -> str | None:
    """Why the total moved since the baseline, as a Markdown list (no HTML), or None without a baseline."""
    attribution = check.attribution
    if attribution is None:
        return None
    lines = [
        markdown_text(
            f"Baseline locked {attribution.baseline_created} with prices as of {attribution.baseline_as_of} "
            f"(reason: {attribution.baseline_reason}): {format_usd(attribution.old_total_usd)} → "
            f"{format_usd(attribution.new_total_usd)} per {check.period}."
        ),
        "",
    ]
    for heading, details in attribution_sections(attribution):
        lines.append(f"- **{markdown_text(heading)}**")
        lines += [f"  - {markdown_text(detail)}" for detail in details]
    return "\n".join(lines)
