"""The Plan page's cost breakdown as plain HTML bars, built by a pure function (no Streamlit).

Why not plotly here: this is the first figure a visitor waits for, and plotly's script (several MB, loaded
on the first plotly chart) doubles the time to it on a cold browser. Stacked bars need no script: flex boxes
with heights in percent draw at once, scale to any width (a phone included) with text at its normal size,
and a hover title on each segment reads its amount. Interactive charts (the sweeps, the comparison) stay
plotly, below the fold or on their own pages.

Every text from outside (the period comes from a link) is escaped; colors are `ui.charts`' (3:1 contrast on
both themes) and text takes the theme's own color.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from estimator.costs import CATEGORIES, Estimate
from estimator.format import format_tokens, format_usd
from ui.charts import CATEGORY_COLORS
from ui.labels import CATEGORY_LABELS, MODE_LABELS, NOT_PRICED

__all__ = ["BREAKDOWN_CLASS", "Bar", "Segment", "breakdown_bars", "breakdown_html", "money_axis_ticks"]

BREAKDOWN_CLASS = "cost-breakdown"
"""The figure's class: the browser benchmark and tests find the chart by it."""
PLOT_HEIGHT_PX = 300
GRID_COLOR = "rgba(128, 128, 128, 0.3)"


@dataclass(frozen=True)
class Segment:
    label: str
    color: str
    usd: Decimal


@dataclass(frozen=True)
class Bar:
    """One mode's bar: its segments bottom-up, and its total (None when the mode has no price)."""

    label: str
    segments: tuple[Segment, ...]
    total_usd: Decimal | None


def breakdown_bars(result: Estimate) -> tuple[tuple[Bar, ...], tuple[tuple[str, str], ...]]:
    """Each mode's bill by category (the estimator's lines), and the legend: the categories somebody pays."""
    paid = [
        category for category in CATEGORIES if any(mode.available and mode.line(category).usd for mode in result.modes)
    ]
    bars = tuple(
        Bar(
            label=MODE_LABELS[mode.mode],
            segments=tuple(
                Segment(CATEGORY_LABELS[category], CATEGORY_COLORS[category], mode.line(category).usd)
                for category in paid
                if mode.available and mode.line(category).usd
            ),
            total_usd=mode.total_usd if mode.available else None,
        )
        for mode in result.modes
    )
    legend = tuple((CATEGORY_LABELS[category], CATEGORY_COLORS[category]) for category in paid)
    return bars, legend


def money_axis_ticks(top_usd: Decimal, most: int = 6) -> list[Decimal]:
    """0 and 1-2-5 steps up to the first tick at or above `top_usd`, at most `most` of them after 0."""
    if top_usd <= 0:
        return [Decimal(0), Decimal(1)]
    exponent = (top_usd / most).adjusted()
    while True:
        for mantissa in (1, 2, 5):
            step = Decimal(mantissa).scaleb(exponent)
            count = (top_usd / step).to_integral_value(rounding=ROUND_CEILING)  # the last tick covers the top
            if count <= most:
                return [(step * index).normalize() for index in range(int(count) + 1)]
        exponent += 1


def breakdown_html(result: Estimate) -> str:
    """The breakdown as one self-contained HTML figure."""
    bars, legend = breakdown_bars(result)
    requests = result.workload.requests
    title = f"What each mode pays for ({format_tokens(requests)} request{'' if requests == 1 else 's'})"
    axis = f"Cost per {result.workload.period} (USD)"
    return stacked_bars_html(title=title, axis_title=axis, bars=bars, legend=legend)


def stacked_bars_html(*, title: str, axis_title: str, bars: Sequence[Bar], legend: Sequence[tuple[str, str]]) -> str:
    totals = [bar.total_usd for bar in bars if bar.total_usd is not None]
    ticks = money_axis_ticks(max(totals, default=Decimal(0)))
    top = ticks[-1]
    grid = "".join(_grid_line(tick, top) for tick in ticks)
    columns = "".join(_bar_column(bar, top) for bar in bars)
    names = "".join(f'<div style="flex:1;text-align:center;min-width:0">{_text(bar.label)}</div>' for bar in bars)
    keys = "".join(
        f'<span style="display:inline-flex;align-items:center;gap:4px;margin-right:14px">'
        f'<span style="width:12px;height:12px;background:{color};display:inline-block"></span>{_text(label)}</span>'
        for label, color in legend
    )
    return (
        f'<figure class="{BREAKDOWN_CLASS}" role="img" aria-label="{_text(title)}" '
        f'style="margin:0;font-size:0.85rem;line-height:1.3">'
        f'<figcaption style="font-weight:600;font-size:1rem;margin-bottom:8px">{_text(title)}</figcaption>'
        f'<div style="font-size:0.75rem;opacity:0.8;margin-bottom:4px">{_text(axis_title)}</div>'
        f'<div style="display:flex;margin-top:22px">'
        f'<div style="position:relative;width:64px;height:{PLOT_HEIGHT_PX}px;flex:none">'
        f"{_tick_labels(ticks, top)}</div>"
        f'<div style="position:relative;flex:1;height:{PLOT_HEIGHT_PX}px;border-bottom:1px solid {GRID_COLOR}">'
        f"{grid}"
        f'<div style="position:absolute;inset:0;display:flex;align-items:flex-end">{columns}</div>'
        f"</div></div>"
        f'<div style="display:flex;margin-left:64px;margin-top:4px">{names}</div>'
        f'<div style="margin-top:10px;display:flex;flex-wrap:wrap;row-gap:4px">{keys}</div>'
        f"</figure>"
    )


def _percent(part: Decimal, whole: Decimal) -> str:
    # Geometry only: a height in percent of the axis, never a figure anybody reads.
    return f"{float(part / whole * 100):.3f}%"


def _grid_line(tick: Decimal, top: Decimal) -> str:
    return (
        f'<div style="position:absolute;left:0;right:0;bottom:{_percent(tick, top)};'
        f'border-top:1px solid {GRID_COLOR}"></div>'
    )


def _tick_labels(ticks: Sequence[Decimal], top: Decimal) -> str:
    return "".join(
        f'<div style="position:absolute;right:8px;bottom:{_percent(tick, top)};transform:translateY(50%);'
        f'font-size:0.75rem;white-space:nowrap">{_text(format_usd(tick))}</div>'
        for tick in ticks
    )


def _bar_column(bar: Bar, top: Decimal) -> str:
    column = 'style="flex:1;height:100%;display:flex;flex-direction:column;justify-content:flex-end;align-items:center"'
    if bar.total_usd is None:
        return f'<div {column}><div style="font-size:0.8rem;opacity:0.8;padding-bottom:4px">{NOT_PRICED}</div></div>'
    # The stack is as tall as the total; each segment takes its share of the stack.
    segments = "".join(
        f'<div title="{_text(f"{bar.label} · {segment.label}: {format_usd(segment.usd)}")}" '
        f'style="flex:none;height:{_percent(segment.usd, bar.total_usd)};background:{segment.color}"></div>'
        for segment in reversed(bar.segments)  # the first category at the bottom, as in a stacked plot
    )
    height = _percent(bar.total_usd, top)
    label = (
        '<div style="position:absolute;bottom:100%;left:50%;transform:translateX(-50%);white-space:nowrap;'
        f'font-size:0.8rem;font-weight:600;padding-bottom:2px">{_text(format_usd(bar.total_usd))}</div>'
    )
    stack = f"width:min(60%,120px);display:flex;flex-direction:column;position:relative;flex:none;height:{height}"
    return f'<div {column}><div style="{stack}">{label}{segments}</div></div>'


def _text(value: str) -> str:
    # One line, always: the figure is drawn as a Markdown HTML block, which a blank line would end.
    return html.escape(" ".join(value.split()), quote=True)
