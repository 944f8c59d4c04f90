"""Throughput on the Plan page: whether the plan fits an account tier's rate limits, and how long it takes.

Pure functions of `estimator.throughput.ThroughputFit` (no Streamlit): a verdict, the share of each limit as a
table of numbers, the time real-time takes at the limit in words, and the batch plan. Limits a model has no
published row for say "not published", never a guessed figure.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Literal, get_args

from estimator.format import count_noun, format_tokens
from estimator.throughput import AccountTier, ThroughputFit
from estimator.workload import Workload
from pricing import PriceTable
from ui.labels import plain

__all__ = [
    "ACCOUNT_TIERS",
    "NOT_PUBLISHED",
    "TIER_LABELS",
    "Verdict",
    "batch_text",
    "channel_note",
    "counted_input_text",
    "duration_text",
    "limit_rows",
    "markdown_table",
    "percent_text",
    "source_text",
    "verdict",
]

ACCOUNT_TIERS: tuple[AccountTier, ...] = get_args(AccountTier)
TIER_LABELS: dict[AccountTier, str] = {"start": "Start", "build": "Build", "scale": "Scale"}
NOT_PUBLISHED = "not published"
LIMIT_LABELS = {"requests": "Requests", "input tokens": "Input tokens", "output tokens": "Output tokens"}
"""The estimator's names of the three per-minute limits, as the page shows them."""

Verdict = tuple[Literal["fits", "does not fit", "time", "not published"], str]


def verdict(fit: ThroughputFit, *, requests: int, period: str) -> Verdict:
    """(kind, sentence): whether the plan fits the tier's per-minute limits spread over its period (a period
    with a length: hour, day, week, month), else how fast real-time can send it; "not published" when the
    model has no published limits for the tier."""
    tier = TIER_LABELS[fit.tier]
    if fit.limits is None or fit.minutes_for_all_requests is None:
        return "not published", f"Rate limits {NOT_PUBLISHED}: {fit.unavailable_reason}."
    binding = LIMIT_LABELS.get(fit.binding_limit or "", fit.binding_limit or "").lower()
    fastest = (
        f"at the limit, real-time sends the {count_noun(requests, 'request')} in "
        f"{duration_text(fit.minutes_for_all_requests)} ({binding} per minute bind first)"
    )
    if fit.fits is None or fit.share_of_limits is None:
        return "time", (
            f"On the {tier} tier, {fastest}. A “{period}” has no set length: choose hour, day, week or month as the "
            "period to see whether the plan fits the limits."
        )
    busiest = percent_text(max(fit.share_of_limits.values()))
    if fit.fits:
        return "fits", (
            f"Fits the {tier} tier's rate limits: spread over the {period}, it uses at most {busiest} of a limit; "
            f"{fastest}."
        )
    return "does not fit", (
        f"Does not fit the {tier} tier's rate limits: spread over the {period}, it needs {busiest} of the "
        f"{binding}-per-minute limit; {fastest}. Batches do not draw on these limits; a higher tier or a longer "
        "period gives more room."
    )


def limit_rows(fit: ThroughputFit) -> list[dict[str, str]]:
    """One row per per-minute limit: the tier's limit and, when the period has a duration, the share the plan
    uses spread evenly over it. Text, for a small static table (three rows need no sorting)."""
    if fit.limits is None:
        return []
    limits = {
        "requests": fit.limits.requests_per_minute,
        "input tokens": fit.limits.input_tokens_per_minute,
        "output tokens": fit.limits.output_tokens_per_minute,
    }
    shares = fit.share_of_limits
    rows = []
    for name, limit in limits.items():
        row = {"Per minute": LIMIT_LABELS[name], f"{TIER_LABELS[fit.tier]} limit": format_tokens(limit)}
        if shares is not None:  # a period without a length ("run") has no share to show
            row["Share used"] = percent_text(shares[name])
        row["Binds first"] = "yes" if name == fit.binding_limit else ""
        rows.append(row)
    return rows


def markdown_table(rows: list[dict[str, str]]) -> str:
    """Rows of text as a Markdown table: Streamlit draws it with the page's own text renderer, so the Plan
    page loads no table component (its Arrow scripts are ~1 MB a first-time visitor would wait for)."""
    if not rows:
        return ""
    columns = list(rows[0])
    lines = [_markdown_row(columns), "|" + "---|" * len(columns)]
    lines += [_markdown_row([row.get(column, "") for column in columns]) for row in rows]
    return "\n".join(lines)


def _markdown_row(cells: list[str]) -> str:
    return "| " + " | ".join(plain(cell) or " " for cell in cells) + " |"


def channel_note(table: PriceTable, workload: Workload) -> str | None:
    """On a partner channel the Claude API's limits do not apply: say whose quotas do."""
    if workload.channel == "anthropic":
        return None
    name = table.rules.channels.rule(workload.channel).name
    return f"These are the Claude API's limits; on {name} its own quotas apply."


def counted_input_text(fit: ThroughputFit) -> str:
    """What counts towards the input limit, in words."""
    counted = format_tokens(int(fit.counted_input_tokens_per_request.to_integral_value(ROUND_HALF_UP)))
    whole = format_tokens(fit.uncached_counted_input_tokens_per_request)
    reads = "count" if fit.limits is not None and fit.limits.cache_reads_count else "do not count"
    return (
        f"Input counted towards the limit: about {counted} tokens per request of {whole} sent (cache reads "
        f"{reads} on this model's limits)."
    )


def batch_text(fit: ThroughputFit) -> str:
    """The batch plan: how many batches, in how many waves, and when results come back."""
    plan = fit.batch
    if plan.batches == 0:
        return "No requests, no batch."
    batches = f"{format_tokens(plan.batches)} batch" + ("" if plan.batches == 1 else "es")
    waves = "" if plan.waves <= 1 else f", in {plan.waves} waves"
    return (
        f"Batch: {batches} of up to {format_tokens(plan.requests_per_batch_limit)} requests{waves} "
        f"(the {TIER_LABELS[fit.tier]} tier's queue holds {format_tokens(plan.queue_limit_requests)}); "
        f"{plan.timing}. Batches do not draw on the per-minute limits."
    )


def source_text(fit: ThroughputFit) -> str | None:
    """Where the limits come from, when they are a third party's reading or carry a note."""
    if fit.limits is None:
        return None
    parts = [f"Limits of the {fit.limits.model_class} class, from Anthropic's rate-limits page"]
    if fit.limits.third_party:
        parts.append("read from a third-party copy of Anthropic's page")
    if fit.limits.notes:
        parts.append(fit.limits.notes)
    return "; ".join(parts) + "."


def duration_text(minutes: Decimal) -> str:
    """A duration for reading: '45 s', '12 min', '3 h 20 min', '2.5 days' (rounded half-up)."""
    seconds = _whole(minutes * 60)
    if seconds < 1:
        return "under a second"
    if seconds < 60:
        return f"{seconds} s"
    whole_minutes = _whole(minutes)  # units chosen on rounded values: 59.6 minutes reads "1 h", not "60 min"
    if whole_minutes < 60:
        return f"{whole_minutes} min"
    if whole_minutes < 24 * 60:
        hours, rest = divmod(whole_minutes, 60)
        return f"{hours} h {rest} min" if rest else f"{hours} h"
    days = (minutes / (24 * 60)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"{days.normalize():,f} day" + ("" if days == 1 else "s")


def percent_text(share: Decimal) -> str:
    """A share of a limit (1.5 → '150%'; three significant digits below 10%)."""
    percent = share * 100
    places = Decimal("0.1") if percent < 10 else Decimal(1)
    return f"{percent.quantize(places, rounding=ROUND_HALF_UP):,f}%"


def _whole(value: Decimal) -> int:
    return int(value.to_integral_value(ROUND_HALF_UP))
