"""Read, inspect and compare the Claude API price table.

Examples:
  python -m pricing list                          models callable today, with their rates
  python -m pricing list --all --as-of 2025-01-01 every model, priced as of a date
  python -m pricing list --format json            the same, for scripts
  python -m pricing show claude-sonnet-5-5        one model: limits, history, sources
  python -m pricing diff old.yaml pricing/prices.yaml   review a price update (exit 1 if it differs)
  python -m pricing diff 2026-10-01 2026-10-07    what changed between two dates of the shipped table
  python -m pricing crosscheck --against genai-prices --as-of 2026-12-03
                                                  every disagreement with a peer price map, with our source
  python -m pricing export --format csv --output rates.csv
                                                  the dated rates table (valid_from / valid_to) for SQL joins
  python -m pricing export --format json --output-dir feed/   feed/rates-current.json and rates-historical.json
  python -m pricing schema --check                the JSON Schema file is up to date

All rates are USD per million tokens. A date asked for more than 30 days after the table was checked
gets a warning on stderr (not an error). Exit codes: 0 success (diff: identical; crosscheck: nothing
to check), 1 diff found differences or crosscheck found disagreements to check, 2 bad input (unknown
model, malformed or unreadable table, bad date, missing optional package).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from pricing import crosscheck as peers
from pricing import export
from pricing.diff import RateChange, TableDiff, diff_dates, diff_tables
from pricing.errors import PricingError
from pricing.features import FEATURE_LABELS, Feature
from pricing.loader import load_price_table
from pricing.schema import Model, PricePeriod, PriceTableData
from pricing.table import PriceTable
from pricing.text_table import render_text_table
from pricing.version import __version__

__all__ = ["main"]

SCHEMA_PATH = Path(__file__).with_name("prices.schema.json")

_LIST_COLUMNS = (
    ("input_mtok", "In"),
    ("output_mtok", "Out"),
    ("cache_write_5m_mtok", "5m write"),
    ("cache_write_1h_mtok", "1h write"),
    ("cache_read_mtok", "Read"),
    ("batch_input_mtok", "Batch in"),
    ("batch_output_mtok", "Batch out"),
)


def main(argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        result: int = args.handler(args, out, err)
    except PricingError as error:
        first, *rest = str(error).splitlines() or [""]
        print(f"error: {first}", file=err)
        for line in rest:
            print(line, file=err)
        return 2
    except BrokenPipeError:
        return 0
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pricing",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"claude-cost-planner {__version__}")
    parser.add_argument("--table", type=Path, default=None, help="price table YAML (default: the shipped one)")
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, allow_abbrev=False)
        sub.add_argument("--table", type=Path, default=argparse.SUPPRESS, help="price table YAML (as above)")
        return sub

    listing = command("list", "models with their rates")
    listing.add_argument("--all", action="store_true", help="include retired and not yet released models")
    listing.add_argument("--as-of", type=_date, default=None, metavar="DATE", help="YYYY-MM-DD (default: today)")
    listing.add_argument("--format", choices=("table", "json"), default="table")
    listing.set_defaults(handler=_cmd_list)

    show = command("show", "one model: limits, price history and sources")
    show.add_argument("model", help="model id, alias or name")
    show.add_argument("--as-of", type=_date, default=None, metavar="DATE", help="YYYY-MM-DD (default: today)")
    show.add_argument("--format", choices=("text", "json"), default="text")
    show.set_defaults(handler=_cmd_show)

    diff = command("diff", "rates added, removed or changed between two tables or two dates")
    diff.add_argument("old", help="OLD.yaml, or a date of the table given by --table")
    diff.add_argument("new", help="NEW.yaml, or a date")
    diff.add_argument("--format", choices=("text", "json"), default="text")
    diff.set_defaults(handler=_cmd_diff)

    check = command("crosscheck", "compare with another price map at the same date")
    check.add_argument(
        "--against",
        default="genai-prices",
        metavar="PEER",
        help="genai-prices (default), litellm (their installed packages), or FILE: a JSON price map "
        "(`export --format json` output, or LiteLLM's model_prices_and_context_window.json shape)",
    )
    check.add_argument("--as-of", type=_date, default=None, metavar="DATE", help="YYYY-MM-DD (default: today)")
    check.add_argument("--format", choices=("text", "json"), default="text")
    check.set_defaults(handler=_cmd_crosscheck)

    rates = command("export", "the dated rates table (one row per model, period, mode, tier, category)")
    rates.add_argument("--format", choices=("json", "csv", "parquet"), default="json")
    rates.add_argument("--view", choices=("historical", "current"), default="historical",
                       help="every period (default), or only the rates in force on --as-of")  # fmt: skip
    rates.add_argument("--as-of", type=_date, default=None, metavar="DATE", help="for --view current (default: today)")
    where = rates.add_mutually_exclusive_group()
    where.add_argument("--output", type=Path, default=None, metavar="PATH", help="write here (default: stdout)")
    where.add_argument("--output-dir", type=Path, default=None, metavar="DIR",
                       help="write rates-current.EXT and rates-historical.EXT into DIR")  # fmt: skip
    rates.set_defaults(handler=_cmd_export)

    schema = command("schema", "write the JSON Schema of the YAML (for editors)")
    schema.add_argument("--check", action="store_true", help="exit 1 if the committed schema is out of date")
    schema.set_defaults(handler=_cmd_schema)
    return parser


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; use YYYY-MM-DD") from None


def format_rate(value: Decimal | None) -> str:
    """A per-MTok rate for reading: at least two decimals, never rounded ('0.0625', '8.00')."""
    if value is None:
        return "—"
    exponent = value.normalize().as_tuple().exponent
    places = max(2, -exponent) if isinstance(exponent, int) else 2
    return f"{value:.{places}f}"


def _table(args: argparse.Namespace) -> PriceTable:
    return load_price_table(args.table)


def _warn_if_stale(table: PriceTable, day: dt.date, err: TextIO) -> str | None:
    warning = table.staleness_warning(day)
    if warning is not None:
        print(f"warning: {warning}", file=err)
    return warning


def _cmd_list(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    table = _table(args)
    day = args.as_of or dt.date.today()
    stale = _warn_if_stale(table, day, err)
    models = table.models_as_of(day, include_retired=args.all, include_unreleased=args.all)
    rows = []
    for model in models:
        period = model.period_as_of(day)
        rates = period.rates() if period else {}
        rows.append((model, period, rates))
    if args.format == "json":
        payload = {
            "as_of": day.isoformat(),
            "unit": "USD per million tokens",
            "table_checked": table.checked.isoformat(),
            "days_past_checked": table.staleness_days(day),
            "staleness_warning": stale,
            "models": [_model_summary_json(model, period, day) for model, period, _ in rows],
        }
        json.dump(payload, out, indent=2)
        out.write("\n")
        return 0
    headers = ["Model", "Status", *[label for _, label in _LIST_COLUMNS], "Notes"]
    body = [
        [
            model.id,
            model.status_as_of(day),
            *[format_rate(rates.get(field)) for field, _ in _LIST_COLUMNS],
            ", ".join(part for part in (_flags(period), _gap_notes(model, day) if period else "") if part),
        ]
        for model, period, rates in rows
    ]
    out.write(f"Claude API prices as of {day} (USD per million tokens; table checked {table.checked})\n\n")
    numeric = [i for i in range(len(headers)) if body and all(_looks_numeric(row[i]) for row in body)]
    out.write(render_text_table(headers, body, right_aligned=numeric) + "\n")
    out.write("\nNotes: tier = prompt-length tier applies; fast = fast-mode rates; 3P = third-party reading;\n")
    out.write('derived = rate computed from Anthropic\'s documented rules; "no X until / removed" = a feature that\n')
    out.write("did not exist on that date (never priced). `show MODEL` gives the details.\n")
    return 0


_GAP_LABELS: dict[Feature, str] = {
    "prompt_caching": "caching",
    "message_batches": "batches",
    "cache_ttl_1h": "1h TTL",
    "fast_mode": "fast mode",
}


def _gap_notes(model: Model, day: dt.date) -> str:
    """Short notes for the features a model could not use on `day`: "no batches until 2024-10-08"."""
    notes = []
    for feature in model.unavailable_features(day):
        period = model.feature_period(feature)
        if feature not in _GAP_LABELS or period is None:
            continue
        if day < period.available_from:
            notes.append(f"no {_GAP_LABELS[feature]} until {period.available_from}")
        elif period.removed is not None:
            notes.append(f"{_GAP_LABELS[feature]} removed {period.removed}")
    return ", ".join(notes)


_FLAG_LABELS = {
    "fast": "fast",
    "third_party": "3P",
    "derived": "derived",
    "unpublished_cache_batch": "no cache/batch prices",
}


def _flags(period: PricePeriod | None) -> str:
    if period is None:
        return "no price yet"
    tiers = "tier>" + "/".join(f"{t.above_prompt_tokens // 1000}K" for t in period.tiers)
    return ", ".join(tiers if flag == "tier" else _FLAG_LABELS[flag] for flag in period.flags())


def _looks_numeric(cell: str) -> bool:
    return cell == "—" or cell.replace(".", "", 1).isdigit()


def _model_summary_json(model: Any, period: Any, day: dt.date) -> dict[str, Any]:
    return {
        "id": model.id,
        "name": model.name,
        "aliases": list(model.aliases),
        "status": model.status_as_of(day),
        "effective_from": period.effective_from.isoformat() if period else None,
        "rates_mtok": {k: _decimal_str(v) for k, v in period.rates().items()} if period else None,
        "tiers": [{"above_prompt_tokens": t.above_prompt_tokens, "rates_mtok": _rates_json(t)} for t in period.tiers]
        if period
        else [],
        "fast_mtok": (
            {
                "input": _decimal_str(period.fast.input_mtok),
                "output": _decimal_str(period.fast.output_mtok),
                **{field: _decimal_str(value) for field, value in period.fast.rates().items() if "cache" in field},
            }
            if period and period.fast
            else None
        ),
        "third_party": list(period.third_party) if period else [],
        "derived": list(period.derived) if period else [],
        "unavailable": dict(model.unavailable_features(day)),
    }


def _rates_json(rates: Any) -> dict[str, str | None]:
    return {field: _decimal_str(value) for field, value in rates.rates().items()}


def _decimal_str(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _cmd_show(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    table = _table(args)
    model = table.model(args.model)
    day = args.as_of or dt.date.today()
    _warn_if_stale(table, day, err)
    if args.format == "json":
        payload = model.model_dump(mode="json")
        payload["status_as_of"] = {"date": day.isoformat(), "status": model.status_as_of(day)}
        payload["unavailable_as_of"] = dict(model.unavailable_features(day))
        payload["source_urls"] = table.source_urls(model.sources)
        json.dump(payload, out, indent=2)
        out.write("\n")
        return 0
    out.write(_describe_model(table, model, day))
    return 0


def _describe_model(table: PriceTable, model: Any, day: dt.date) -> str:
    life = model.lifecycle
    tok = table.tokenizer(model)
    lines = [f"{model.name} ({model.id})"]
    if model.aliases:
        lines.append(f"  aliases: {', '.join(model.aliases)}")
    if model.availability:
        lines.append(f"  availability: {model.availability}")
    lines += [
        f"  released {life.released} ({life.released_precision}); deprecated {life.deprecated or '—'}; "
        f"retired {life.retired or '—'}; status on {day}: {model.status_as_of(day)}",
        f"  tokenizer: {model.tokenizer} (offline estimate ≈ {tok.cl100k_factor} × cl100k; "
        f"{table.message_frame_tokens(model)} frame tokens per message)",
        f"  context window {model.context_window_tokens:,} tokens; max output "
        f"{_tokens(model.max_output_tokens)}; batch max output {_tokens(model.batch_max_output_tokens)}"
        + (f" (beta header {table.rules.batch.extended_output_beta_header})" if model.batch_max_output_tokens else ""),
        f"  minimum cacheable prompt: {_tokens(model.min_cacheable_prompt_tokens)}",
        "  tool-use system prompt: " + _tool_tokens(model),
        "  US data residency: "
        + (f"yes, {table.rules.data_residency.us_multiplier}x" if model.data_residency_us else "not available"),
        "",
    ]
    lines += _feature_lines(table, model)
    current = model.period_as_of(day)
    lines.append(f"Prices in effect on {day}" + (f" (since {current.effective_from}):" if current else ": none yet"))
    if current:
        lines += _period_lines(current, indent="  ")
    for reason in model.unavailable_features(day).values():
        lines.append(f"  unavailable: {reason}")
    lines.append("")
    lines.append("History:")
    for period in model.prices:
        status = " CANCELLED, never took effect" if period.status == "cancelled" else ""
        lines.append(f"  from {period.effective_from} ({period.date_precision}){status}")
        lines += _period_lines(period, indent="    ")
    lines.append("")
    lines.append(f"Sources (checked {model.checked}):")
    for key in model.sources:
        source = table.sources[key]
        mark = " [third-party]" if source.third_party else ""
        lines.append(f"  [{key}] {source.location}{mark} — {source.title}")
    if model.notes:
        lines.append("Notes:")
        lines += [f"  - {note}" for note in model.notes]
    return "\n".join(lines) + "\n"


def _feature_lines(table: PriceTable, model: Model) -> list[str]:
    """When each priced feature existed, for this model."""
    lines = ["When features existed (no price outside these periods):"]
    features: list[Feature] = ["prompt_caching", "message_batches", "cache_ttl_1h"]
    if model.data_residency_us:
        features.append("data_residency")
    if model.fast_mode is not None:
        features.append("fast_mode")
    for feature in features:
        period = model.feature_period(feature)
        if period is None:
            continue
        precision = f" ({period.from_precision})" if period.from_precision != "day" else ""
        text = f"  {FEATURE_LABELS[feature]}: from {period.available_from}{precision}"
        if period.deprecated:
            text += f"; deprecated {period.deprecated}"
        if period.removed:
            removed_precision = f" ({period.removed_precision})" if period.removed_precision != "day" else ""
            text += f"; removed {period.removed}{removed_precision}"
        lines.append(f"{text} [{', '.join(period.sources)}]")
    if model.fast_mode is None:
        lines.append("  Fast mode: never offered for this model")
    lines.append("")
    return lines


def _period_lines(period: Any, indent: str) -> list[str]:
    lines = [indent + _rates_line(period)]
    for tier in period.tiers:
        lines.append(f"{indent}prompt > {tier.above_prompt_tokens:,} tokens: {_rates_line(tier)}")
    if period.fast:
        fast = period.fast
        cache = (
            f"; 5m write {format_rate(fast.cache_write_5m_mtok)}, 1h write {format_rate(fast.cache_write_1h_mtok)}, "
            f"read {format_rate(fast.cache_read_mtok)}"
            if fast.has_cache_rates
            else ""
        )
        marks = [f"3P: {', '.join(fast.third_party)}"] if fast.third_party else []
        marks += [f"derived: {', '.join(fast.derived)}"] if fast.derived else []
        lines.append(
            f"{indent}fast mode (real-time only, while offered): in {format_rate(fast.input_mtok)}, "
            f"out {format_rate(fast.output_mtok)}{cache}" + (f" ({'; '.join(marks)})" if marks else "")
        )
    if period.cache_multipliers:
        m = period.cache_multipliers
        lines.append(f"{indent}cache multipliers: 5m write {m.write_5m}x, 1h write {m.write_1h}x, read {m.read}x")
    if period.third_party:
        lines.append(f"{indent}third-party readings: {', '.join(period.third_party)}")
    if period.derived:
        lines.append(f"{indent}derived by the documented rules: {', '.join(period.derived)}")
    if period.note:
        lines.append(f"{indent}note: {period.note}")
    lines.append(f"{indent}sources: {', '.join(period.sources)}")
    return lines


def _rates_line(rates: Any) -> str:
    parts = [f"{label.lower()} {format_rate(rates.rate(field))}" for field, label in _LIST_COLUMNS]
    parts += [
        f"batch 5m write {format_rate(rates.batch_cache_write_5m_mtok)}",
        f"batch 1h write {format_rate(rates.batch_cache_write_1h_mtok)}",
        f"batch read {format_rate(rates.batch_cache_read_mtok)}",
    ]
    return "; ".join(parts)


def _tokens(value: int | None) -> str:
    return f"{value:,} tokens" if value is not None else "not published"


def _tool_tokens(model: Any) -> str:
    tools = model.tool_use_system_prompt_tokens
    if tools is None:
        return "not published"
    any_tool = f"{tools.any_or_tool:,}" if tools.any_or_tool is not None else "not published"
    return f"{tools.auto_or_none:,} tokens (auto/none), {any_tool} (any/tool)"


def _cmd_diff(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    result = _compute_diff(args)
    if args.format == "json":
        json.dump(_diff_json(result), out, indent=2)
        out.write("\n")
    else:
        out.write(render_diff(result))
    return 0 if result.identical else 1


def _compute_diff(args: argparse.Namespace) -> TableDiff:
    old_day, new_day = _maybe_date(args.old), _maybe_date(args.new)
    if old_day is not None and new_day is not None:
        return diff_dates(_table(args), old_day, new_day)
    if (old_day is None) != (new_day is None):
        raise PricingError("diff takes two YAML files or two dates (YYYY-MM-DD), not one of each")
    return diff_tables(load_price_table(args.old), load_price_table(args.new))


def _maybe_date(text: str) -> dt.date | None:
    if Path(text).exists():
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def render_diff(result: TableDiff) -> str:
    """A review-friendly report: one block per model, one line per rate."""
    lines = [f"--- {result.old_label}", f"+++ {result.new_label}"]
    if result.identical:
        return "\n".join([*lines, "No differences.", ""])
    by_model: dict[str, list[RateChange]] = {}
    for change in result.rate_changes:
        by_model.setdefault(change.model_id, []).append(change)
    facts: dict[str, list[str]] = {}
    for fact in result.field_changes:
        facts.setdefault(fact.model_id, []).append(f"    ~ {fact.field}: {fact.old} → {fact.new}")
    for model_id in list(by_model) + [m for m in facts if m not in by_model]:
        status = " (model added)" if model_id in result.models_added else ""
        status = " (model removed)" if model_id in result.models_removed else status
        lines.append("")
        lines.append(f"{model_id}{status}")
        lines += _change_lines(by_model.get(model_id, []))
        lines += facts.get(model_id, [])
    lines.append("")
    lines.append(
        f"{result.count('changed')} rates changed, {result.count('added')} added, "
        f"{result.count('removed')} removed; "
        f"{len(result.models_added)} models added, {len(result.models_removed)} removed; "
        f"{len(result.field_changes)} other facts changed."
    )
    return "\n".join(lines) + "\n"


def _change_lines(changes: list[RateChange]) -> list[str]:
    lines: list[str] = []
    where = None
    for change in changes:
        if change.where != where:
            where = change.where
            lines.append(f"  {where}:")
        symbol = {"added": "+", "removed": "-", "changed": "~"}[change.kind]
        text = f"    {symbol} {change.field}: {format_rate(change.old_mtok)} → {format_rate(change.new_mtok)}"
        if change.change_pct is not None:
            text += f" ({change.change_pct:+.1f}%)"
        lines.append(text)
    return lines


def _diff_json(result: TableDiff) -> dict[str, Any]:
    return {
        "old": result.old_label,
        "new": result.new_label,
        "identical": result.identical,
        "models_added": list(result.models_added),
        "models_removed": list(result.models_removed),
        "rate_changes": [
            {
                "model": c.model_id,
                "where": c.where,
                "field": c.field,
                "kind": c.kind,
                "old": _decimal_str(c.old_mtok),
                "new": _decimal_str(c.new_mtok),
            }
            for c in result.rate_changes
        ],
        "field_changes": [
            {"model": f.model_id, "field": f.field, "old": f.old, "new": f.new} for f in result.field_changes
        ],
    }


def _cmd_crosscheck(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    table = _table(args)
    day = args.as_of or dt.date.today()
    _warn_if_stale(table, day, err)
    result = peers.crosscheck(table, peers.load_peer(args.against), day)
    if args.format == "json":
        json.dump(crosscheck_json(result, table), out, indent=2)
        out.write("\n")
    else:
        out.write(render_crosscheck(result, table))
    return 1 if result.to_check else 0


def render_crosscheck(result: peers.CrossCheck, table: PriceTable) -> str:
    """One block per model, one line per disagreement, each with its verdict and our source."""
    checks = len(result.to_check)
    lines = [
        f"Cross-check against {result.peer}, as of {result.as_of} (USD per million tokens; global region)",
        f"{result.rates_compared} rates of {len(result.models_compared)} models compared; "
        f"{len(result.disagreements)} disagreements: {checks} to check, {len(result.disagreements) - checks} theirs.",
    ]
    if result.not_compared:
        lines.append(f"Not compared (the peer's format has no such prices): {', '.join(result.not_compared)} mode.")
    current = None
    for item in result.disagreements:
        if item.model_id != current:
            current = item.model_id
            peer_name = f" (peer: {item.peer_model_id})" if item.peer_model_id and item.peer_model_id != current else ""
            lines += ["", f"{current}{peer_name}"]
        what = " ".join(
            part
            for part in (
                item.mode or "model",
                f"prompt > {item.tier_above_prompt_tokens:,}" if item.tier_above_prompt_tokens else "",
                item.category or ("(all rates)" if item.mode else ""),
            )
            if part
        )
        values = ""
        if item.kind in ("differs", "missing_in_peer", "missing_in_ours") and item.category:
            values = f": ours {format_rate(item.ours_mtok)}, theirs {format_rate(item.theirs_mtok)}"
        lines.append(f"  [{item.verdict.upper()}] {what}{values} — {item.note}")
        if item.our_sources:
            provenance = f" ({item.our_provenance})" if item.our_provenance else ""
            urls = ", ".join(dict.fromkeys(table.source_urls(item.our_sources)))
            lines.append(f"      our source{provenance}: {', '.join(item.our_sources)} — {urls}")
    if result.models_skipped:
        skipped = ", ".join(f"{model_id} ({status})" for model_id, status in result.models_skipped)
        lines += ["", f"Not callable on {result.as_of}, not compared: {skipped}."]
    lines += ["", "Verdicts: THEIRS = the peer is wrong, stale or incomplete there (a known peer issue, a rate it",
              "lacks, or a change our table records with its source); CHECK = look at both sources."]  # fmt: skip
    return "\n".join(lines) + "\n"


def crosscheck_json(result: peers.CrossCheck, table: PriceTable) -> dict[str, Any]:
    return {
        "peer": result.peer,
        "as_of": result.as_of.isoformat(),
        "table_checked": table.checked.isoformat(),
        "rates_compared": result.rates_compared,
        "models_compared": list(result.models_compared),
        "models_skipped": [{"model": m, "status": s} for m, s in result.models_skipped],
        "modes_not_compared": list(result.not_compared),
        "to_check": len(result.to_check),
        "disagreements": [
            {
                "model": item.model_id,
                "peer_model": item.peer_model_id,
                "mode": item.mode,
                "tier_above_prompt_tokens": item.tier_above_prompt_tokens,
                "category": item.category,
                "ours_mtok": _decimal_str(item.ours_mtok),
                "theirs_mtok": _decimal_str(item.theirs_mtok),
                "kind": item.kind,
                "verdict": item.verdict,
                "note": item.note,
                "our_sources": list(item.our_sources),
                "our_source_urls": list(dict.fromkeys(table.source_urls(item.our_sources))),
                "our_provenance": item.our_provenance,
            }
            for item in result.disagreements
        ],
    }


def _cmd_export(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    table = _table(args)
    day = args.as_of or dt.date.today()
    if args.view == "current" or args.output_dir is not None:
        _warn_if_stale(table, day, err)
    rows = export.rate_rows(table)
    if args.output_dir is not None:
        directory: Path = args.output_dir
        if not directory.is_dir():
            raise export.ExportError(f"{directory}: not a directory (create it first)")
        extension = args.format
        for view, chosen, as_of in (("historical", rows, None), ("current", export.rows_in_force(rows, day), day)):
            path = directory / f"rates-{view}.{extension}"
            _write_export(table, chosen, args.format, view, as_of, path, out)
            print(f"wrote {path} ({len(chosen)} rows)", file=err)
        return 0
    view = args.view
    chosen = export.rows_in_force(rows, day) if view == "current" else rows
    _write_export(table, chosen, args.format, view, day if view == "current" else None, args.output, out)
    return 0


def _write_export(
    table: PriceTable,
    rows: Sequence[export.RateRow],
    fmt: str,
    view: Any,
    as_of: dt.date | None,
    path: Path | None,
    out: TextIO,
) -> None:
    if fmt == "parquet":
        if path is None:
            raise export.ExportError("Parquet is a binary format: give --output PATH (or --output-dir DIR)")
        export.write_parquet(rows, path)
        return
    text = (
        export.to_csv(rows)
        if fmt == "csv"
        else export.to_json_text(export.json_document(table, rows, view=view, as_of=as_of))
    )
    if path is None:
        out.write(text)
        return
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise export.ExportError(f"{path}: cannot write the export ({error.strerror or error})") from None


def json_schema_text() -> str:
    schema = PriceTableData.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Claude API price table (pricing/prices.yaml)"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def _cmd_schema(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    wanted = json_schema_text()
    if args.check:
        current = SCHEMA_PATH.read_text(encoding="utf-8") if SCHEMA_PATH.exists() else ""
        if current != wanted:
            out.write(f"{SCHEMA_PATH} is out of date; run `python -m pricing schema` to rewrite it.\n")
            return 1
        out.write(f"{SCHEMA_PATH} is up to date.\n")
        return 0
    SCHEMA_PATH.write_text(wanted, encoding="utf-8")
    out.write(f"wrote {SCHEMA_PATH}\n")
    return 0
