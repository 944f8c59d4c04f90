"""The workload form's state: widget values from a Workload, and a Workload (or per-field errors) back.

Widgets hold display units (a hit rate in percent, dates, floats for fractional inputs); the Workload holds
the estimator's. The conversions live here so the app script holds no arithmetic.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from estimator.batches.dry_run import DEFAULT_HIT_RATE, DEFAULT_OUTPUT_RATIO, DEFAULT_THINKING_RATIO
from estimator.costs import Estimate, estimate
from estimator.errors import EstimatorError
from estimator.planning import hit_rate_from_traffic
from estimator.results import EstimateWarning
from estimator.workload import Workload, to_decimal
from pricing import Model, PriceTable, PricingError
from ui.scenario import DEFAULT_WORKLOAD, MAX_REQUESTS_PER_HOUR, apply_fields

__all__ = [
    "DEFAULT_REQUESTS_PER_HOUR",
    "HIT_FROM_TRAFFIC",
    "HIT_FROM_VALUE",
    "MEASURED_FOR_PLAN_MODEL",
    "OPTION_FALLBACKS",
    "PERIODS",
    "FormResult",
    "PricedPlan",
    "error_field",
    "model_options",
    "offered",
    "page_defaults",
    "price_plan",
    "widget_decimal",
    "widget_state",
    "workload_from_widgets",
]

HIT_FROM_VALUE = "Set a value"
HIT_FROM_TRAFFIC = "From traffic"
PERIODS = ("run", "hour", "day", "week", "month")
DEFAULT_REQUESTS_PER_HOUR = Decimal(60)
DEFAULT_BUDGET_USD = 100.0
MEASURED_FOR_PLAN_MODEL = "plan"
"""The compare page's "token figures were counted for" choice meaning the plan's own model."""
DIFF_DEFAULT_DAYS = 90

# Widget keys that map one-to-one onto Workload fields (same name, same unit).
_DIRECT_FIELDS = (
    "model",
    "requests",
    "period",
    "prefix_tokens",
    "unique_input_tokens",
    "output_tokens",
    "cache_ttl",
    "tool_use",
    "geo",
    "fast",
    "thinking_tokens",
    "tokens_per_web_fetch",
    "code_execution_with_web_tools",
    "channel",
    "endpoint",
)
_DECIMAL_FIELDS = (
    "web_searches_per_request",
    "web_fetches_per_request",
    "code_execution_sessions_per_request",  # before the minutes: minutes without sessions are refused
    "code_execution_minutes_per_session",
)
"""Workload fields held by float widgets (fractions allowed): read back as the Decimal each one shows."""

# Errors raised while pricing a valid workload, by the words they start with (the estimator's
# InvalidWorkloadError carries no field name yet; see the app's report).


@dataclass(frozen=True)
class FormResult:
    """The form read as a workload. `errors` maps a field name to a message to show beside it."""

    workload: Workload | None
    requests_per_hour: Decimal | None = None
    errors: dict[str, str] = field(default_factory=dict)


OPTION_FALLBACKS: dict[str, Any] = {"geo": "global", "fast": False, "cache_ttl": "5m", "endpoint": "global"}
"""Options a model (or a channel) may not offer, and the value the plan falls back to when it does not."""
_OPTION_TRIALS: dict[str, Any] = {"geo": "us", "fast": True, "cache_ttl": "1h", "endpoint": "regional"}


@dataclass(frozen=True)
class PricedPlan:
    """The form priced: the estimate (or the errors to show beside their inputs), and the options the
    model does not offer, each with the estimator's reason.

    An option the model lacks never wipes the plan: it is priced without it (`OPTION_FALLBACKS`) and the
    input is marked (`fell_back`); one not chosen is offered disabled, with the reason."""

    form: FormResult
    result: Estimate | None
    errors: dict[str, str] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)

    @property
    def warnings(self) -> tuple[EstimateWarning, ...]:
        return self.result.warnings if self.result is not None else ()

    def fell_back(self, name: str) -> bool:
        """True when the plan asks for option `name` but is priced without it."""
        workload = self.form.workload
        return name in self.unavailable and workload is not None and getattr(workload, name) != OPTION_FALLBACKS[name]


def price_plan(form: FormResult, *, table: PriceTable) -> PricedPlan:
    """Price the form's workload; an option the model lacks falls back (marked), never wiping the plan."""
    if form.workload is None:
        return PricedPlan(form, None, dict(form.errors))
    workload = form.workload
    unavailable: dict[str, str] = {}
    while True:
        try:
            result = estimate(workload, table=table)
            break
        except (EstimatorError, PricingError) as error:
            name = error_field(error)
            if name not in OPTION_FALLBACKS or name in unavailable:
                return PricedPlan(form, None, {name: str(error)}, unavailable)
            unavailable[name] = str(error)
            workload = dataclasses.replace(workload, **{name: OPTION_FALLBACKS[name]})
    for name, trial in _OPTION_TRIALS.items():
        if name in unavailable or getattr(workload, name) == trial:
            continue
        try:
            estimate(dataclasses.replace(workload, **{name: trial}), table=table)
        except (EstimatorError, PricingError) as error:
            if error_field(error) == name:
                unavailable[name] = str(error)
    return PricedPlan(form, result, {}, unavailable)


def offered(plan: PricedPlan, name: str, help: str | None) -> dict[str, Any]:
    """An option widget's `disabled` and `help`: an option the model lacks is disabled unless the plan asked for
    it (then it stays enabled, so it can be turned off, and is marked beside it)."""
    reason = plan.unavailable.get(name)
    if reason is None:
        return {"help": help}
    return {"disabled": not plan.fell_back(name), "help": f"Not offered: {reason}"}


def widget_state(
    workload: Workload, *, requests_per_hour: Decimal | None, today: dt.date, table: PriceTable
) -> dict[str, Any]:
    """Initial widget values (by widget key) that show `workload`."""
    state: dict[str, Any] = {name: getattr(workload, name) for name in _DIRECT_FIELDS}
    state.update(
        include_retired=table.model(workload.model).status_as_of(today) == "retired",
        hit_rate_source=HIT_FROM_VALUE if requests_per_hour is None else HIT_FROM_TRAFFIC,
        cache_hit_rate_pct=float(workload.cache_hit_rate * 100),
        requests_per_hour=float(requests_per_hour if requests_per_hour is not None else DEFAULT_REQUESTS_PER_HOUR),
        **{name: float(getattr(workload, name)) for name in _DECIMAL_FIELDS},
        as_of=workload.as_of or today,
        tokens_measured_for=workload.tokens_measured_for or MEASURED_FOR_PLAN_MODEL,
    )
    return state


def page_defaults(workload: Workload, *, today: dt.date) -> dict[str, Any]:
    """Initial values of the pages' own widgets (budget, comparison and price-table choices)."""
    return {
        "budget_usd": DEFAULT_BUDGET_USD,
        "compare_include_retired": False,
        "prices_as_of": today,
        "prices_include_all": False,
        "prices_model": workload.model,
        "prices_diff_from": today - dt.timedelta(days=DIFF_DEFAULT_DAYS),
        "prices_diff_to": today,
        "api_key_input": "",
        "prompt_text": "",
        "token_count": None,
        "dry_run_input": "Upload a file",
        "batch_paste": "",
        "dry_run_hit_rate_pct": float(DEFAULT_HIT_RATE * 100),
        "dry_run_output_pct": float(DEFAULT_OUTPUT_RATIO * 100),
        "dry_run_thinking_pct": float(DEFAULT_THINKING_RATIO * 100),
        "dry_run_counting": "none",
        "dry_run_as_of": workload.as_of or today,
        "throughput_tier": "start",
        "currency_code": "",
    }


FORM_KEYS = (
    *_DIRECT_FIELDS,
    *_DECIMAL_FIELDS,
    "as_of",
    "tokens_measured_for",
    "hit_rate_source",
    "requests_per_hour",
    "cache_hit_rate_pct",
)
"""Every session key `workload_from_widgets` reads: the same values give the same form."""


def workload_from_widgets(state: Mapping[str, Any], *, today: dt.date, table: PriceTable) -> FormResult:
    """The workload the widgets describe. A date equal to today means "today": the link then carries
    no date, so it prices the plan on the day it is opened."""
    raw: dict[str, object] = {name: state[name] for name in _DIRECT_FIELDS}
    raw.update({name: widget_decimal(state[name]) for name in _DECIMAL_FIELDS})
    chosen_day = state["as_of"]
    raw["as_of"] = None if chosen_day in (None, today) else chosen_day
    measured = state["tokens_measured_for"]
    raw["tokens_measured_for"] = None if measured == MEASURED_FOR_PLAN_MODEL else measured
    requests_per_hour = None
    errors: dict[str, str] = {}
    if state["hit_rate_source"] == HIT_FROM_TRAFFIC:
        try:
            requests_per_hour = to_decimal(
                widget_decimal(state["requests_per_hour"]), "requests_per_hour", maximum=MAX_REQUESTS_PER_HOUR
            )
            raw["cache_hit_rate"] = hit_rate_from_traffic(requests_per_hour, state["cache_ttl"], table=table)
        except EstimatorError as error:
            errors["cache_hit_rate"] = str(error)
        except (ValueError, ArithmeticError):  # e.g. an overflow the estimator does not name
            errors["cache_hit_rate"] = "requests_per_hour is too large to use"
    else:
        pct = widget_decimal(state["cache_hit_rate_pct"])
        raw["cache_hit_rate"] = None if pct is None else pct / 100
    workload, field_errors = apply_fields(DEFAULT_WORKLOAD, raw)
    errors.update(field_errors)
    if errors:
        return FormResult(None, requests_per_hour, errors)
    return FormResult(workload, requests_per_hour)


def error_field(error: Exception) -> str:
    """The input an estimator or pricing error is about, to show the message beside it; errors that
    name no field (an unknown model, a price the table lacks) belong to the model."""
    field = getattr(error, "field", None)
    return field if isinstance(field, str) else "model"


def model_options(table: PriceTable, *, today: dt.date, include_retired: bool, current: str | None) -> list[Model]:
    """Models callable today (and retired ones on request); the current choice always stays listed, so
    unticking "include retired" never silently switches the plan to another model."""
    models = list(table.models_as_of(today, include_retired=include_retired))
    if current is not None:
        chosen = table.model(current)
        if chosen.id not in {model.id for model in models}:
            models.append(chosen)
    return models


def widget_decimal(value: object) -> Decimal | None:
    """A widget's number as the Decimal of its shortest text (85.1 → 85.1, never 85.0999…)."""
    if value is None:
        return None
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(str(value))
