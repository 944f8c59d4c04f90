"""The gate's verdict for people and for CI: a text table, JSON, Markdown for a pull request, JUnit XML.

Every format puts the verdict first. JSON carries exact decimal text; the others round for reading
(`estimator.format`). Markdown is sized for a pull-request comment or a job summary: the verdict, one
small table, the failures, why the cost moved, and the warnings folded away. JUnit XML makes each
workload (and the total) a test case, failed when over its budget or its allowed increase.
"""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, get_args

from estimator.format import decimal_text, format_usd
from estimator.plans.gate import Attribution, PlanCheck, WorkloadChange, WorkloadCheck
from estimator.plans.limits import Budget
from pricing.diff import RateChange
from pricing.text_table import render_text_table

__all__ = [
    "FORMATS",
    "Format",
    "attribution_sections",
    "markdown_text",
    "rate_change_text",
    "render",
    "render_json",
    "render_junit",
    "render_markdown",
    "render_table",
    "to_dict",
]

Format = Literal["table", "json", "markdown", "junit"]
FORMATS: tuple[Format, ...] = get_args(Format)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def render(check: PlanCheck, output_format: Format) -> str:
    renderers = {"table": render_table, "json": render_json, "markdown": render_markdown, "junit": render_junit}
    return renderers[output_format](check)


# --- shared wording ---------------------------------------------------------------------------------------


def _headline(check: PlanCheck) -> str:
    total = f"{format_usd(check.total_usd)} per {check.period}"
    if check.passed:
        return f"Claude costs pass: {total}" + (f" (budget {_budget(check.budget)})" if check.budget else "")
    count = len(check.failures)
    return f"Claude costs fail ({count} check{'s' if count != 1 else ''}): {total}"


def _budget(budget: Budget | None) -> str:
    return "—" if budget is None else f"{format_usd(budget.usd)} / {budget.period}"


def _signed_usd(value: Decimal) -> str:
    if value == 0:
        return "$0"
    return ("+" if value > 0 else "") + format_usd(value)


def _signed_pct(value: Decimal | None) -> str:
    if value is None:
        return ""
    return f"{value:+.1f}%".replace("-", "−")


def _change_cell(change: WorkloadChange | None) -> str:
    if change is None:
        return "—"
    if change.status == "added":
        return "new"
    pct = _signed_pct(change.change_pct)
    return _signed_usd(change.change_usd) + (f" ({pct})" if pct else "")


def _status(item: WorkloadCheck) -> str:
    if not item.within_budget:
        return "over budget"
    if item.change is not None and not item.change.within_limit:
        return "over increase"
    return "ok"


def _models(item: WorkloadCheck) -> str:
    return ", ".join(item.model_ids) or "—"


def _mode(item: WorkloadCheck) -> str:
    return f"{item.mode} (cheapest)" if item.mode_setting == "cheapest" else item.mode


def rate_change_text(change: RateChange) -> str:
    """`claude-sonnet-5-5 cache_read_mtok: 0.20 → 0.10 (in effect)` — one rate that moved."""
    unit = "" if change.model_id == "rules" or not change.field.endswith("mtok") else " $/MTok"
    old = "—" if change.old_mtok is None else str(change.old_mtok)
    new = "—" if change.new_mtok is None else str(change.new_mtok)
    return f"{change.model_id} {change.field}: {old} → {new}{unit} ({change.where})"


def attribution_sections(attribution: Attribution) -> list[tuple[str, list[str]]]:
    """(heading, details) pairs: prices, workloads, and anything that could not be split."""
    sections = [
        (
            f"Prices changed: {_signed_usd(attribution.price_effect_usd)}",
            [
                *(rate_change_text(c) for c in attribution.price_changes),
                *attribution.price_notes,
            ],
        ),
        (f"Workloads changed: {_signed_usd(attribution.workload_effect_usd)}", list(attribution.workload_changes)),
    ]
    if attribution.unattributed_usd:
        sections.append((f"Not attributable: {_signed_usd(attribution.unattributed_usd)}", []))
    return sections


def _baseline_line(check: PlanCheck, attribution: Attribution) -> str:
    pct = _signed_pct(attribution.change_pct)
    limit = f"; allowed {attribution.limit.describe()}" if attribution.limit else ""
    return (
        f"Since the baseline locked {attribution.baseline_created} (prices as of {attribution.baseline_as_of}; "
        f"reason: {attribution.baseline_reason}): {format_usd(attribution.old_total_usd)} → "
        f"{format_usd(attribution.new_total_usd)} per {check.period}, {_signed_usd(attribution.change_usd)}"
        + (f" ({pct})" if pct else "")
        + limit
    )


# --- text table -------------------------------------------------------------------------------------------


def render_table(check: PlanCheck) -> str:
    lines = [
        _headline(check),
        f"{check.plan_source}: prices as of {check.as_of} (table checked {check.table_checked}), "
        f"totals per {check.period}",
        "",
    ]
    headers = ["Workload", "Model", "Mode", "Cost", f"Per {check.period}", "Budget", "Change", "Status"]
    rows = [
        [
            item.name,
            _models(item),
            _mode(item),
            f"{format_usd(item.cost_usd)} / {item.period}",
            format_usd(item.plan_period_usd),
            _budget(item.budget),
            _change_cell(item.change),
            _status(item),
        ]
        for item in check.workloads
    ]
    rows.append(["Total", "", "", "", format_usd(check.total_usd), _budget(check.budget), _total_change(check), ""])
    lines.append(render_text_table(headers, rows, right_aligned=(3, 4, 5, 6)))
    if check.attribution is not None:
        lines += ["", _baseline_line(check, check.attribution)]
        for heading, details in attribution_sections(check.attribution):
            lines.append(f"  {heading}")
            lines += [f"    - {detail}" for detail in details]
    if check.failures:
        lines += ["", "Failures:", *(f"  ✗ {failure}" for failure in check.failures)]
    if check.warnings:
        lines += ["", "Warnings:", *(f"  ! {warning}" for warning in check.warnings)]
    lines += ["", "Rounded for reading; `--format json` gives the exact figures."]
    return "\n".join(lines) + "\n"


def _total_change(check: PlanCheck) -> str:
    attribution = check.attribution
    if attribution is None:
        return "—"
    pct = _signed_pct(attribution.change_pct)
    return _signed_usd(attribution.change_usd) + (f" ({pct})" if pct else "")


# --- JSON -------------------------------------------------------------------------------------------------


def to_dict(check: PlanCheck) -> dict[str, Any]:
    """The verdict as JSON-ready data: every amount exact decimal text."""
    return {
        "verdict": "pass" if check.passed else "fail",
        "exit_code": check.exit_code,
        "plan": check.plan_source,
        "as_of": check.as_of.isoformat(),
        "price_table": {"source": Path(check.table_source).name, "checked": check.table_checked.isoformat()},
        "period": check.period,
        "total_usd": decimal_text(check.total_usd),
        "budget": _budget_dict(check.budget),
        "within_budget": check.within_budget,
        "workloads": [_workload_dict(item) for item in check.workloads],
        "baseline": _attribution_dict(check.attribution) if check.attribution else None,
        "failures": list(check.failures),
        "warnings": list(check.warnings),
    }


def render_json(check: PlanCheck) -> str:
    return json.dumps(to_dict(check), indent=2, ensure_ascii=False) + "\n"


def _budget_dict(budget: Budget | None) -> dict[str, str | None] | None:
    return None if budget is None else {"usd": decimal_text(budget.usd), "per": budget.period}


def _workload_dict(item: WorkloadCheck) -> dict[str, Any]:
    return {
        "name": item.name,
        "kind": item.kind,
        "line": item.line,
        "models": list(item.model_ids),
        "period": item.period,
        "mode_setting": item.mode_setting,
        "mode": item.mode,
        "cost_usd": decimal_text(item.cost_usd),
        "plan_period_usd": decimal_text(item.plan_period_usd),
        "modes": {mode: decimal_text(cost) for mode, cost in item.modes},
        "budget": _budget_dict(item.budget),
        "within_budget": item.within_budget,
        "change": _change_dict(item.change) if item.change else None,
        "failures": list(item.failures),
        "warnings": list(item.warnings),
    }


def _change_dict(change: WorkloadChange) -> dict[str, Any]:
    return {
        "status": change.status,
        "old_usd": decimal_text(change.old_usd),
        "new_usd": decimal_text(change.new_usd),
        "change_usd": decimal_text(change.change_usd),
        "change_pct": decimal_text(change.change_pct),
        "price_effect_usd": decimal_text(change.price_effect_usd),
        "workload_effect_usd": decimal_text(change.workload_effect_usd),
        "unattributed_usd": decimal_text(change.unattributed_usd),
        "workload_changes": list(change.workload_changes),
        "notes": list(change.notes),
        "max_increase": change.limit.text if change.limit else None,
        "within_limit": change.within_limit,
    }


def _attribution_dict(attribution: Attribution) -> dict[str, Any]:
    return {
        "reason": attribution.baseline_reason,
        "created": attribution.baseline_created.isoformat(),
        "as_of": attribution.baseline_as_of.isoformat(),
        "table_checked": attribution.baseline_table_checked.isoformat(),
        "package_version": attribution.baseline_package_version,
        "old_total_usd": decimal_text(attribution.old_total_usd),
        "new_total_usd": decimal_text(attribution.new_total_usd),
        "change_usd": decimal_text(attribution.change_usd),
        "change_pct": decimal_text(attribution.change_pct),
        "price_effect_usd": decimal_text(attribution.price_effect_usd),
        "workload_effect_usd": decimal_text(attribution.workload_effect_usd),
        "unattributed_usd": decimal_text(attribution.unattributed_usd),
        "price_changes": [
            {
                "model_id": change.model_id,
                "where": change.where,
                "field": change.field,
                "old_mtok": decimal_text(change.old_mtok),
                "new_mtok": decimal_text(change.new_mtok),
            }
            for change in attribution.price_changes
        ],
        "price_notes": list(attribution.price_notes),
        "workload_changes": list(attribution.workload_changes),
        "removed": [change.name for change in attribution.removed],
        "max_increase": attribution.limit.text if attribution.limit else None,
        "within_limit": attribution.within_limit,
    }


# --- Markdown ---------------------------------------------------------------------------------------------


def markdown_text(text: str) -> str:
    """Text safe inside a Markdown table cell or list item (no HTML, no cell breaks, no emphasis)."""
    escaped = html.escape(_CONTROL.sub("", text), quote=False)
    # `$` would open GitHub's inline math between two amounts; `~` its strikethrough.
    return re.sub(r"([|\\`*_\[\]$~])", r"\\\1", escaped)


def render_markdown(check: PlanCheck) -> str:
    mark = "✅" if check.passed else "❌"
    lines = [
        f"### {mark} {markdown_text(_headline(check))}",
        "",
        f"Plan `{_code(check.plan_source)}` · prices as of {check.as_of} (table checked {check.table_checked}) · "
        f"totals per {check.period}",
        "",
        f"| Workload | Model | Mode | Per {check.period} | Budget | Change | |",
        "|---|---|---|--:|--:|--:|---|",
    ]
    for item in check.workloads:
        icon = "✅" if item.passed else "❌"
        cells = [
            item.name,
            _models(item),
            _mode(item),
            format_usd(item.plan_period_usd),
            _budget(item.budget),
            _change_cell(item.change),
            f"{icon} {_status(item)}",
        ]
        lines.append("| " + " | ".join(markdown_text(cell) for cell in cells) + " |")
    total_ok = not check.total_failures
    total = [
        markdown_text(format_usd(check.total_usd)),
        markdown_text(_budget(check.budget)),
        markdown_text(_total_change(check)),
    ]
    lines.append(f"| **Total** | | | **{total[0]}** | {total[1]} | {total[2]} | {'✅' if total_ok else '❌'} |")
    if check.failures:
        lines += ["", "**Failures**", "", *(f"- {markdown_text(failure)}" for failure in check.failures)]
    if check.attribution is not None:
        lines += ["", f"**Against the baseline.** {markdown_text(_baseline_line(check, check.attribution))}", ""]
        for heading, details in attribution_sections(check.attribution):
            lines.append(f"- {markdown_text(heading)}")
            lines += [f"  - {markdown_text(detail)}" for detail in details]
    if check.warnings:
        lines += ["", f"<details><summary>Warnings ({len(check.warnings)})</summary>", ""]
        lines += [f"- {markdown_text(warning)}" for warning in check.warnings]
        lines += ["", "</details>"]
    lines += ["", "<sub>Estimates from the price table, not invoices; rounded for reading.</sub>"]
    return "\n".join(lines) + "\n"


def _code(text: str) -> str:
    return _CONTROL.sub("", text).replace("`", "'")


# --- JUnit XML --------------------------------------------------------------------------------------------


def render_junit(check: PlanCheck) -> str:
    """JUnit XML: one test case per workload and one for the total, failed when over a limit."""
    cases = [(item.name, item.failures, _workload_out(check, item)) for item in check.workloads]
    cases.append(("plan total", check.total_failures, _total_out(check)))
    failed = sum(1 for _, failures, _ in cases if failures)
    suites = ET.Element("testsuites", name="Claude cost check", tests=str(len(cases)), failures=str(failed))
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=_xml(check.plan_source),
        tests=str(len(cases)),
        failures=str(failed),
        errors="0",
        skipped="0",
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("as_of", check.as_of.isoformat()),
        ("table_checked", check.table_checked.isoformat()),
        ("period", check.period),
        ("total_usd", decimal_text(check.total_usd) or "0"),
    ):
        ET.SubElement(properties, "property", name=name, value=value)
    classname = "claude_costs." + re.sub(r"[^A-Za-z0-9_]+", "_", Path(check.plan_source).stem)
    for name, failures, out in cases:
        case = ET.SubElement(suite, "testcase", classname=classname, name=_xml(name), time="0")
        for failure in failures:
            kind = "over_budget" if failure.startswith("over budget") else "over_increase"
            ET.SubElement(case, "failure", message=_xml(failure), type=kind).text = _xml(failure)
        ET.SubElement(case, "system-out").text = _xml(out)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def _xml(text: str) -> str:
    return _CONTROL.sub("", text)


def _workload_out(check: PlanCheck, item: WorkloadCheck) -> str:
    lines = [
        f"{format_usd(item.cost_usd)} per {item.period} ({decimal_text(item.cost_usd)} exact) in {_mode(item)}, "
        f"{format_usd(item.plan_period_usd)} per {check.period}; budget {_budget(item.budget)}"
    ]
    if item.change is not None:
        change = item.change
        lines.append(
            f"since the baseline: {_change_cell(change)}; prices {_signed_usd(change.price_effect_usd)}, "
            f"workload {_signed_usd(change.workload_effect_usd)}"
        )
        lines += [f"changed: {text}" for text in change.workload_changes]
        lines += list(change.notes)
    lines += [f"warning: {warning}" for warning in item.warnings]
    return "\n".join(lines)


def _total_out(check: PlanCheck) -> str:
    lines = [f"{format_usd(check.total_usd)} per {check.period}; budget {_budget(check.budget)}"]
    if check.attribution is not None:
        lines.append(_baseline_line(check, check.attribution))
        for heading, details in attribution_sections(check.attribution):
            lines.append(heading)
            lines += [f"  {detail}" for detail in details]
    return "\n".join(lines)
