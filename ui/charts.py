"""Plotly figures for the app, built by pure functions from the estimator's records (no Streamlit).

Money stays Decimal until here and becomes float only in the figure's data; hover texts and labels use
the estimator's formatters. Figures set no template: the app draws them with `theme="streamlit"`, which
follows the light or dark theme. Every color below keeps a 3:1 contrast (WCAG's bar for graphics)
against both Streamlit's light and dark backgrounds; a test checks it.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import plotly.graph_objects as go

from estimator.batches.dry_run import DryRunResult
from estimator.conversations import TurnsPoint
from estimator.costs import Category, Estimate
from estimator.format import count_noun, format_tokens, format_usd
from estimator.planning import BreakEven, ModelComparison, Sweep
from estimator.workload import MAX_REQUESTS, MODES, CacheTTL, Mode
from ui.labels import MODE_LABELS, NOT_PRICED, percent_of_fraction, plot_text

__all__ = [
    "BACKGROUNDS",
    "CATEGORY_COLORS",
    "MODE_COLORS",
    "NEUTRAL_COLOR",
    "PLOT_CONFIG",
    "comparison_figure",
    "dry_run_figure",
    "hit_rate_figure",
    "money_ticks",
    "request_steps",
    "requests_figure",
    "turns_figure",
]

MODE_COLORS: dict[Mode, str] = {
    "realtime": "#1F77B4",
    "realtime_cached": "#9467BD",
    "batch": "#2CA02C",
    "batch_cached": "#D55E00",
}
CATEGORY_COLORS: dict[Category, str] = {
    "uncached_input": "#4C78A8",
    "cache_write_5m": "#E45756",
    "cache_write_1h": "#BE185D",
    "cache_read": "#2A9D8F",
    "output": "#B45309",
    "web_search": "#7F7F7F",
    "thinking": "#D97706",
    "code_execution": "#8B5CF6",
}
NEUTRAL_COLOR = "#888888"
PLOT_CONFIG = {"displayModeBar": False, "responsive": True}
"""How the app draws every figure: no toolbar over the titles (and less to draw); hover still reads them."""
BACKGROUNDS = {"light": "#FFFFFF", "dark": "#0E1117"}
"""Streamlit's default light and dark backgrounds, the surfaces the colors must read against."""

_TTL_DASH: dict[CacheTTL, str] = {"5m": "dash", "1h": "dot"}
_LEGEND_BELOW = {"orientation": "h", "yanchor": "top", "y": -0.28, "xanchor": "left", "x": 0}


def _usd(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _files_text(result: DryRunResult) -> str:
    return "The files" if len(result.files) > 1 else "The file"


def _requests(count: int) -> str:
    return count_noun(count, "request")


def _money_axis(title: str) -> dict[str, object]:
    return {"title": {"text": title}, "tickprefix": "$", "separatethousands": True, "rangemode": "tozero"}


def dry_run_figure(result: DryRunResult) -> go.Figure:
    """The file's expected total per mode, whiskers from low to high (the token counts' error band);
    unpriced modes carry a "not priced" label, never a $0 bar."""
    totals = [result.total(mode) for mode in MODES]
    x = [MODE_LABELS[mode] for mode in MODES]
    expected = [item.expected_usd if item.available else None for item in totals]
    figure = go.Figure()
    figure.add_bar(
        x=x,
        y=[_usd(value) for value in expected],
        marker_color=[MODE_COLORS[mode] for mode in MODES],
        error_y=_range_whiskers(
            expected,
            [item.low_usd if item.available else None for item in totals],
            [item.high_usd if item.available else None for item in totals],
        ),
        customdata=[
            _range_text(item.expected_usd, item.low_usd, item.high_usd) if item.available else NOT_PRICED
            for item in totals
        ],
        hovertemplate="%{x}: %{customdata}<extra></extra>",
        showlegend=False,
    )
    for name, item in zip(x, totals, strict=True):
        text = format_usd(item.expected_usd) if item.available else NOT_PRICED
        top = item.high_usd if item.available else None
        figure.add_annotation(x=name, y=_usd(top) or 0, text=text, showarrow=False, yanchor="bottom")
    figure.update_layout(
        title={"text": f"{_files_text(result)} in each mode ({_requests(result.requests)})"},
        yaxis=_money_axis("Expected cost (USD)"),
        xaxis={"title": {"text": "Mode"}},
        margin={"t": 60},
        height=400,
    )
    return figure


def hit_rate_figure(
    sweep: Sweep,
    *,
    break_evens: Sequence[BreakEven],
    band: tuple[Decimal, Decimal],
    current_hit_rate: Decimal,
    period: str,
) -> go.Figure:
    """Totals against the cache hit rate, with each TTL's break-even and the batch best-effort band."""
    low, high = band
    shapes = [
        {
            "type": "rect",
            "xref": "x",
            "yref": "paper",
            "x0": float(low),
            "x1": float(high),
            "y0": 0,
            "y1": 1,
            "name": f"Batch cache hits: best-effort {percent_of_fraction(low)}–{percent_of_fraction(high)}",
            "legendgroup": "batch-band",
            "showlegend": True,
            "fillcolor": NEUTRAL_COLOR,
            "opacity": 0.18,
            "line": {"width": 0},
            "layer": "below",
        }
    ]
    shapes += [
        _marker_line(
            x=float(point.hit_rate),
            group=f"break-even-{point.ttl}",
            text=f"Caching pays above {percent_of_fraction(point.hit_rate)} ({point.ttl} TTL)",
            dash=_TTL_DASH[point.ttl],
        )
        for point in break_evens
    ]
    current = percent_of_fraction(current_hit_rate)
    shapes.append(_marker_line(x=float(current_hit_rate), group="plan", text=f"Your plan: {current}", dash="solid"))
    return _sweep_figure(
        sweep,
        shapes=shapes,
        title="Cost against the cache hit rate",
        xaxis={"title": {"text": "Cache hit rate"}, "tickformat": ".0%", "range": [0, 1]},
        yaxis=_money_axis(f"Cost per {plot_text(period)} (USD)"),
    )


def requests_figure(sweep: Sweep, *, current_requests: int, period: str) -> go.Figure:
    """Totals against the number of requests, with the plan's own number marked."""
    text = f"Your plan: {format_tokens(current_requests)}"
    return _sweep_figure(
        sweep,
        shapes=[_marker_line(x=float(current_requests), group="plan", text=text, dash="solid")],
        title="Cost against the number of requests",
        xaxis={
            "title": {"text": f"Requests per {plot_text(period)}"},
            "separatethousands": True,
            "rangemode": "tozero",
        },
        yaxis=_money_axis(f"Cost per {plot_text(period)} (USD)"),
    )


def request_steps(current: int, points: int = 41) -> list[int]:
    """Request counts from 0 to twice the plan's (at least 10, at most the estimator's MAX_REQUESTS), evenly
    spread, including the plan's own."""
    upper = min(max(2 * current, 10), MAX_REQUESTS)
    return sorted({upper * step // (points - 1) for step in range(points)} | {current})


def turns_figure(points: Sequence[TurnsPoint], *, current_turns: int) -> go.Figure:
    """Cost per conversation against its number of turns, each mode a line: without caching the cost grows
    with the square of the turns, with caching far slower. The conversation's own number is marked."""
    x = [point.turns for point in points]
    traces = []
    for mode in MODES:
        series = [point.per_conversation_usd.get(mode) for point in points]
        if all(value is None for value in series):
            continue  # unpriced for this model (or channel): no line rather than a line at $0
        cached = mode.endswith("cached")
        traces.append(
            {
                "type": "scatter",
                "name": MODE_LABELS[mode] + ("" if cached else " (no caching)"),
                "x": x,
                "y": [_usd(value) for value in series],
                "mode": "lines",
                "line": {"color": MODE_COLORS[mode], "width": 2.5, "dash": "solid" if cached else "dash"},
                "customdata": [format_usd(value) if value is not None else NOT_PRICED for value in series],
                "hovertemplate": f"{MODE_LABELS[mode]}: %{{customdata}}<extra></extra>",
            }
        )
    text = f"Your conversation: {count_noun(current_turns, 'turn')}"
    layout = {
        "hovermode": "x unified",
        "title": {"text": "Cost per conversation against the number of turns"},
        "height": 480,
        "xaxis": {"title": {"text": "Turns per conversation"}, "separatethousands": True, "rangemode": "tozero"},
        "yaxis": _money_axis("Cost per conversation (USD)"),
        "legend": _LEGEND_BELOW,
        "shapes": [_marker_line(x=float(current_turns), group="plan", text=text, dash="solid")],
    }
    return go.Figure({"data": traces, "layout": layout})


def comparison_figure(comparisons: Sequence[ModelComparison]) -> go.Figure:
    """Every model's total per mode, cheapest model on top; whiskers span the token-conversion range."""
    priced = [item for item in comparisons if item.estimate is not None]
    names = [item.model_name for item in priced]
    figure = go.Figure()
    for offset, mode in zip(_ROW_OFFSETS, MODES, strict=True):
        totals = [_total(item.estimate, mode) for item in priced]
        if not any(total is not None for total in totals):
            continue
        lows = [_total(item.low, mode) for item in priced]
        highs = [_total(item.high, mode) for item in priced]
        figure.add_scatter(
            name=MODE_LABELS[mode],
            x=[_usd(total) for total in totals],
            y=[row + offset for row in range(len(names))],
            mode="markers",
            marker={"color": MODE_COLORS[mode], "size": 10, "symbol": _SYMBOLS[mode]},
            error_x=_range_whiskers(totals, lows, highs),
            customdata=[_range_text(total, low, high) for total, low, high in zip(totals, lows, highs, strict=True)],
            text=names,
            hovertemplate=f"%{{text}}<br>{MODE_LABELS[mode]}: %{{customdata}}<extra></extra>",
        )
    values = [total for item in priced for mode in MODES if (total := _total(item.estimate, mode)) is not None]
    logarithmic = bool(values) and min(values) > 0
    ticks = money_ticks(min(values), max(values)) if logarithmic else []
    figure.update_layout(
        title={"text": "The same workload on each model"},
        xaxis={
            "title": {"text": "Cost (USD, log scale)" if logarithmic else "Cost (USD)"},
            "type": "log" if logarithmic else "linear",
            "tickvals": [float(tick) for tick in ticks] or None,
            "ticktext": [format_usd(tick) for tick in ticks] or None,
            "tickprefix": None if logarithmic else "$",
        },
        yaxis={
            "autorange": "reversed",
            "title": {"text": None},
            "tickvals": list(range(len(names))),
            "ticktext": names,
            "showgrid": False,
            "zeroline": False,
        },
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "left", "x": 0},
        height=max(360, 34 * len(names) + 160),
    )
    return figure


def money_ticks(low: Decimal, high: Decimal) -> list[Decimal]:
    """1-2-5 ticks covering [low, high] for a log axis, labelled later with the app's dollar format."""
    exponent = low.adjusted()
    ticks: list[Decimal] = []
    while True:
        for mantissa in (1, 2, 5):
            tick = Decimal(mantissa).scaleb(exponent)
            if tick > high * 2:
                return [t for t in ticks if t * 2 >= low] or [Decimal(1).scaleb(low.adjusted())]
            ticks.append(tick)
        exponent += 1


# Each mode a little apart within its model's row, so modes that cost the same stay visible.
_ROW_OFFSETS = (-0.24, -0.08, 0.08, 0.24)
_SYMBOLS: dict[Mode, str] = {
    "realtime": "circle",
    "realtime_cached": "diamond",
    "batch": "square",
    "batch_cached": "triangle-up",
}


def _sweep_figure(
    sweep: Sweep, *, shapes: list[dict[str, object]], title: str, xaxis: dict[str, object], yaxis: dict[str, object]
) -> go.Figure:
    """One line per priced mode, with the marker shapes: built as one spec and validated once (plotly's
    `add_vline` and `add_scatter` copy the figure on every call, the slowest part of drawing a page)."""
    x = [float(point.x) for point in sweep.points]
    traces = []
    for mode in sweep.modes:
        series = sweep.series(mode)
        if all(value is None for value in series):
            continue  # the mode is unpriced for this model: no line rather than a line at $0
        traces.append(
            {
                "type": "scatter",
                "name": MODE_LABELS[mode],
                "x": x,
                "y": [_usd(value) for value in series],
                "mode": "lines",
                "line": {"color": MODE_COLORS[mode], "width": 2.5},
                "customdata": [format_usd(value) for value in series],
                "hovertemplate": f"{MODE_LABELS[mode]}: %{{customdata}}<extra></extra>",
            }
        )
    layout = {
        "hovermode": "x unified",
        "title": {"text": title},
        "height": 520,
        "xaxis": xaxis,
        "yaxis": yaxis,
        "legend": _LEGEND_BELOW,
        "shapes": shapes,
    }
    return go.Figure({"data": traces, "layout": layout})


def _marker_line(*, x: float, group: str, text: str, dash: str) -> dict[str, object]:
    """A vertical marker explained in the legend: labels on the plot would collide with the lines."""
    return {
        "type": "line",
        "xref": "x",
        "yref": "paper",
        "x0": x,
        "x1": x,
        "y0": 0,
        "y1": 1,
        "name": text,
        "legendgroup": group,
        "showlegend": True,
        "line": {"dash": dash, "color": NEUTRAL_COLOR, "width": 1.5},
    }


def _total(result: Estimate | None, mode: Mode) -> Decimal | None:
    if result is None:
        return None
    cost = result.mode(mode)
    return cost.total_usd if cost.available else None


def _range_whiskers(
    totals: list[Decimal | None], lows: list[Decimal | None], highs: list[Decimal | None]
) -> dict[str, object]:
    plus = [_spread(total, high) for total, high in zip(totals, highs, strict=True)]
    minus = [_spread(low, total) for total, low in zip(totals, lows, strict=True)]
    return {"type": "data", "symmetric": False, "array": plus, "arrayminus": minus, "color": NEUTRAL_COLOR}


def _spread(lower: Decimal | None, upper: Decimal | None) -> float:
    """A whisker's length; zero where there is no range (tokens not converted, or the mode unpriced)."""
    if lower is None or upper is None:
        return 0.0
    return float(max(upper - lower, Decimal(0)))


def _range_text(total: Decimal | None, low: Decimal | None, high: Decimal | None) -> str:
    if total is None:
        return NOT_PRICED
    if low is None or high is None:
        return format_usd(total)
    return f"{format_usd(total)} ({format_usd(low)}–{format_usd(high)})"
