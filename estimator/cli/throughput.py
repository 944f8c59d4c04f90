"""`throughput`: whether a workload fits an account tier's rate limits, and its batch plan."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from estimator.cli.common import dump_json, workload_arguments, workload_from_args
from estimator.format import decimal_text, format_percent, format_tokens
from estimator.throughput import ACCOUNT_TIERS, ThroughputFit, throughput

__all__ = ["add_throughput_command", "throughput_to_dict"]


def add_throughput_command(commands: Any) -> None:
    parser = commands.add_parser(
        "throughput",
        help="does the workload fit the rate limits of an account tier; how long it takes; how many batches",
        allow_abbrev=False,
    )
    workload_arguments(parser, model_required=True)
    parser.add_argument("--tier", choices=ACCOUNT_TIERS, default="start", help="account tier (default start)")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.set_defaults(handler=_cmd_throughput)


def _cmd_throughput(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    fit = throughput(workload_from_args(args), tier=args.tier)
    if args.format == "json":
        dump_json(throughput_to_dict(fit), out)
    else:
        out.write(render_throughput(fit, args.period))
    return 0


def throughput_to_dict(fit: ThroughputFit) -> dict[str, Any]:
    limits = fit.limits
    return {
        "tier": fit.tier,
        "limits": None
        if limits is None
        else {
            "model_class": limits.model_class,
            "requests_per_minute": limits.requests_per_minute,
            "input_tokens_per_minute": limits.input_tokens_per_minute,
            "output_tokens_per_minute": limits.output_tokens_per_minute,
            "source": limits.source,
            "third_party": limits.third_party,
        },
        "unavailable_reason": fit.unavailable_reason,
        "counted_input_tokens_per_request": decimal_text(fit.counted_input_tokens_per_request),
        "minutes_for_all_requests": decimal_text(fit.minutes_for_all_requests),
        "binding_limit": fit.binding_limit,
        "share_of_limits": None
        if fit.share_of_limits is None
        else {name: decimal_text(value) for name, value in fit.share_of_limits.items()},
        "fits": fit.fits,
        "batch": {
            "batches": fit.batch.batches,
            "waves": fit.batch.waves,
            "queue_limit_requests": fit.batch.queue_limit_requests,
            "timing": fit.batch.timing,
        },
    }


def render_throughput(fit: ThroughputFit, period: str) -> str:
    lines = []
    if fit.limits is None:
        lines.append(f"Real-time: {fit.unavailable_reason}.")
    else:
        limits = fit.limits
        lines.append(
            f"Real-time, {fit.tier} tier ({limits.model_class}): {format_tokens(limits.requests_per_minute)} "
            f"requests, {format_tokens(limits.input_tokens_per_minute)} input and "
            f"{format_tokens(limits.output_tokens_per_minute)} output tokens per minute"
            f"{' (third-party reading)' if limits.third_party else ''}."
        )
        if fit.share_of_limits is not None:
            shares = ", ".join(f"{name} {format_percent(share * 100)}" for name, share in fit.share_of_limits.items())
            verdict = "fits" if fit.fits else "does NOT fit"
            lines.append(f"Per {period}, the workload {verdict}: it uses {shares} of the limits.")
        minutes = fit.minutes_for_all_requests
        if minutes is not None:
            lines.append(
                f"At the limit, all requests take {format_tokens(int(minutes.to_integral_value()))} minutes "
                f"(bound by {fit.binding_limit})."
            )
    plan = fit.batch
    lines.append(f"Batch: {plan.batches:,} batch{'es' if plan.batches != 1 else ''}; {plan.timing}.")
    return "\n".join(lines) + "\n"
