"""The app's figures, built without Streamlit: data equal the estimator's figures, markers sit where the
estimator and the price table put them, and every color reads on light and dark backgrounds."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from decimal import Decimal

import plotly.graph_objects as go
import pytest

from estimator import (
    MODES,
    break_even,
    compare_models,
    estimate,
    format_usd,
    sweep_hit_rate,
    sweep_requests,
)
from estimator.conversations import Conversation, sweep_turns
from estimator.results import CATEGORIES
from pricing import PriceTable
from ui import bars, charts
from ui.conversation import turn_steps
from ui.labels import CATEGORY_LABELS, MODE_LABELS, NOT_PRICED
from ui.scenario import DEFAULT_WORKLOAD

AS_OF = dt.date(2026, 11, 25)
PLAN = dataclasses.replace(DEFAULT_WORKLOAD, as_of=AS_OF)
UNPRICED = dataclasses.replace(PLAN, model="claude-3-haiku-20240307", as_of=dt.date(2024, 5, 1))
"""Haiku 3 before prompt caching and Message Batches existed: only real-time has a price."""


def _trace(figure: go.Figure, name: str) -> go.Scatter | go.Bar:
    return next(trace for trace in figure.data if trace.name == name)


def _shape(figure: go.Figure, group: str) -> go.layout.Shape:
    return next(shape for shape in figure.layout.shapes if shape.legendgroup == group)


# --- cost breakdown (plain HTML bars: ui/bars.py) --------------------------------------------------


def _segments(page: str) -> list[str]:
    """Each segment's hover title, in document order (top of the stack first)."""
    return re.findall(r'<div title="([^"]*)"', page)


def test_breakdown_bars_are_the_estimators_lines(table: PriceTable) -> None:
    result = estimate(PLAN, table=table)
    found, legend = bars.breakdown_bars(result)
    assert [bar.label for bar in found] == [MODE_LABELS[mode] for mode in MODES]
    for bar, mode in zip(found, MODES, strict=True):
        cost = result.mode(mode)
        assert bar.total_usd == cost.total_usd
        assert sum(segment.usd for segment in bar.segments) == cost.total_usd
        for segment in bar.segments:
            category = next(c for c in CATEGORIES if CATEGORY_LABELS[c] == segment.label)
            assert segment.usd == cost.line(category).usd
            assert segment.color == charts.CATEGORY_COLORS[category]
    assert [label for label, _ in legend] == [
        CATEGORY_LABELS[c] for c in ("uncached_input", "cache_write_5m", "cache_read", "output")
    ]


def test_breakdown_html_shows_each_total_and_each_segments_amount(table: PriceTable) -> None:
    result = estimate(PLAN, table=table)
    page = bars.breakdown_html(result)
    assert page.startswith(f'<figure class="{bars.BREAKDOWN_CLASS}"')
    for mode in MODES:
        assert f">{format_usd(result.mode(mode).total_usd)}</div>" in page
    batch_output = format_usd(result.mode("batch").line("output").usd)
    assert f"Batch · Output: {batch_output}" in _segments(page)


def test_segment_heights_are_their_share_of_the_stack(table: PriceTable) -> None:
    result = estimate(PLAN, table=table)
    page = bars.breakdown_html(result)
    realtime = result.mode("realtime")
    for category in ("uncached_input", "output"):
        share = realtime.line(category).usd / realtime.total_usd * 100
        title = f"Real-time · {CATEGORY_LABELS[category]}: {format_usd(realtime.line(category).usd)}"
        assert f'<div title="{title}" style="flex:none;height:{float(share):.3f}%' in page


@pytest.mark.parametrize(("requests", "words"), [(1, "(1 request)"), (2500, "(2,500 requests)")])
def test_titles_count_requests_with_their_plural(table: PriceTable, requests: int, words: str) -> None:
    result = estimate(dataclasses.replace(PLAN, requests=requests), table=table)
    assert f"{words}</figcaption>" in bars.breakdown_html(result)


def test_breakdown_leaves_out_categories_nobody_pays(table: PriceTable) -> None:
    _, legend = bars.breakdown_bars(estimate(PLAN, table=table))
    names = {label for label, _ in legend}
    assert CATEGORY_LABELS["cache_write_1h"] not in names
    assert CATEGORY_LABELS["web_search"] not in names


def test_unpriced_modes_are_labelled_not_drawn_at_zero(table: PriceTable) -> None:
    result = estimate(UNPRICED, table=table)
    found, _ = bars.breakdown_bars(result)
    assert found[0].total_usd == result.mode("realtime").total_usd
    assert [(bar.total_usd, bar.segments) for bar in found[1:]] == [(None, ())] * 3
    page = bars.breakdown_html(result)
    assert page.count(f">{NOT_PRICED}</div>") == 3
    assert not any(title.startswith(("Batch", "Real-time +")) for title in _segments(page))


def test_text_from_a_link_is_escaped(table: PriceTable) -> None:
    result = estimate(dataclasses.replace(PLAN, period='<img src=x onerror="alert(1)">'), table=table)
    page = bars.breakdown_html(result)
    assert "<img" not in page
    assert "Cost per &lt;img src=x onerror=&quot;alert(1)&quot;&gt; (USD)" in page


@pytest.mark.parametrize(
    ("top", "ticks"),
    [
        ("39.2", ["0", "10", "20", "30", "40"]),
        ("40", ["0", "10", "20", "30", "40"]),
        ("0.0031", ["0", "0.001", "0.002", "0.003", "0.004"]),
        ("1234567", ["0", "5E+5", "1E+6", "1.5E+6"]),
        ("0", ["0", "1"]),
    ],
)
def test_the_money_axis_covers_the_tallest_bar_in_1_2_5_steps(top: str, ticks: list[str]) -> None:
    found = bars.money_axis_ticks(Decimal(top))
    assert found == [Decimal(tick) for tick in ticks]
    assert found[-1] >= Decimal(top)
    assert len(found) <= 7


# --- cost against the hit rate ---------------------------------------------------------------------


def _hit_rate_figure(workload: object, table: PriceTable, *, with_break_even: bool = True) -> go.Figure:
    sweep = sweep_hit_rate(workload, table=table)  # type: ignore[arg-type]
    rules = table.rules.batch
    return charts.hit_rate_figure(
        sweep,
        break_evens=break_even(PLAN.model, as_of=AS_OF, table=table) if with_break_even else (),
        band=(rules.best_effort_hit_rate_low, rules.best_effort_hit_rate_high),
        current_hit_rate=PLAN.cache_hit_rate,
        period=PLAN.period,
    )


def test_hit_rate_lines_are_the_sweep(table: PriceTable) -> None:
    sweep = sweep_hit_rate(PLAN, table=table)
    figure = _hit_rate_figure(PLAN, table)
    for mode in MODES:
        line = _trace(figure, MODE_LABELS[mode])
        assert list(line.x) == [float(point.x) for point in sweep.points]
        assert list(line.y) == [float(value) for value in sweep.series(mode)]  # type: ignore[arg-type]
    assert figure.layout.xaxis.title.text == "Cache hit rate"
    assert figure.layout.xaxis.tickformat == ".0%"
    assert figure.layout.yaxis.title.text == "Cost per run (USD)"


def test_break_even_markers_sit_at_the_estimators_hit_rates(table: PriceTable) -> None:
    figure = _hit_rate_figure(PLAN, table)
    for point in break_even(PLAN.model, as_of=AS_OF, table=table):
        marker = _shape(figure, f"break-even-{point.ttl}")
        assert marker.x0 == marker.x1 == float(point.hit_rate)
        assert f"({point.ttl} TTL)" in marker.name
    assert _shape(figure, "plan").x0 == float(PLAN.cache_hit_rate)


def test_the_batch_band_is_shaded_at_the_tables_values(table: PriceTable) -> None:
    band = _shape(_hit_rate_figure(PLAN, table), "batch-band")
    assert band.type == "rect"
    assert band.x0 == float(table.rules.batch.best_effort_hit_rate_low)
    assert band.x1 == float(table.rules.batch.best_effort_hit_rate_high)


def test_unpriced_modes_get_no_line(table: PriceTable) -> None:
    figure = _hit_rate_figure(UNPRICED, table, with_break_even=False)
    assert [trace.name for trace in figure.data] == [MODE_LABELS["realtime"]]
    assert not [shape for shape in figure.layout.shapes if shape.legendgroup.startswith("break-even")]


# --- cost against the number of requests -----------------------------------------------------------


def test_request_lines_are_the_sweep(table: PriceTable) -> None:
    steps = charts.request_steps(PLAN.requests)
    sweep = sweep_requests(PLAN, steps, table=table)
    figure = charts.requests_figure(sweep, current_requests=PLAN.requests, period="week")
    for mode in MODES:
        line = _trace(figure, MODE_LABELS[mode])
        assert list(line.x) == [float(n) for n in steps]
        assert list(line.y) == [float(value) for value in sweep.series(mode)]  # type: ignore[arg-type]
    assert figure.layout.xaxis.title.text == "Requests per week"
    assert _shape(figure, "plan").x0 == float(PLAN.requests)


@pytest.mark.parametrize(("current", "upper"), [(0, 10), (3, 10), (1000, 2000), (12_345, 24_690)])
def test_request_steps_span_twice_the_plan(current: int, upper: int) -> None:
    steps = charts.request_steps(current)
    assert steps[0] == 0
    assert steps[-1] == upper
    assert current in steps
    assert steps == sorted(set(steps))


# --- cost per conversation against the number of turns --------------------------------------------

CONVERSATION = Conversation(
    model="claude-sonnet-4-6", turns=12, prefix_tokens=5000, input_tokens_per_turn=300, output_tokens_per_turn=500,
    as_of=AS_OF,
)  # fmt: skip


def test_turn_lines_are_the_sweep_with_and_without_caching(table: PriceTable) -> None:
    steps = turn_steps(CONVERSATION.turns)
    sweep = sweep_turns(CONVERSATION, steps, table=table)
    figure = charts.turns_figure(sweep, current_turns=CONVERSATION.turns)
    for mode in MODES:
        cached = mode.endswith("cached")
        line = _trace(figure, MODE_LABELS[mode] + ("" if cached else " (no caching)"))
        assert list(line.x) == [point.turns for point in sweep]
        assert list(line.y) == [float(point.per_conversation_usd[mode]) for point in sweep]  # type: ignore[arg-type]
        assert line.line.dash == ("solid" if cached else "dash")
        assert list(line.customdata) == [format_usd(point.per_conversation_usd[mode]) for point in sweep]
    assert _shape(figure, "plan").x0 == float(CONVERSATION.turns)
    assert figure.layout.xaxis.title.text == "Turns per conversation"
    # Without caching the cost grows with the square of the turns: doubling them more than doubles it.
    costs = {point.turns: point.per_conversation_usd["realtime"] for point in sweep}
    assert costs[24] > 2 * costs[12]  # type: ignore[operator]


def test_a_mode_without_a_price_gets_no_turn_line(table: PriceTable) -> None:
    early = Conversation(model="claude-3-haiku-20240307", turns=4, prefix_tokens=3000, as_of=dt.date(2024, 5, 1))
    figure = charts.turns_figure(sweep_turns(early, [1, 2, 4], table=table), current_turns=4)
    assert [trace.name for trace in figure.data] == [MODE_LABELS["realtime"] + " (no caching)"]


# --- comparing models ------------------------------------------------------------------------------


def test_comparison_rows_follow_the_estimators_order(table: PriceTable) -> None:
    comparisons = compare_models(PLAN, table=table)
    figure = charts.comparison_figure(comparisons)
    assert list(figure.layout.yaxis.ticktext) == [item.model_name for item in comparisons]
    cached = _trace(figure, MODE_LABELS["batch_cached"])
    expected = [item.estimate.mode("batch_cached") for item in comparisons if item.estimate]
    assert list(cached.x) == [float(cost.total_usd) if cost.available else None for cost in expected]
    assert figure.layout.xaxis.type == "log"


def test_comparison_whiskers_span_the_token_conversion(table: PriceTable) -> None:
    comparisons = compare_models(PLAN, table=table)
    row = next(i for i, item in enumerate(comparisons) if item.low is not None)
    item = comparisons[row]
    realtime = _trace(charts.comparison_figure(comparisons), MODE_LABELS["realtime"])
    assert item.estimate is not None and item.low is not None and item.high is not None
    total = item.estimate.mode("realtime").total_usd
    assert realtime.error_x.array[row] == float(item.high.mode("realtime").total_usd - total)
    assert realtime.error_x.arrayminus[row] == float(total - item.low.mode("realtime").total_usd)


def test_money_ticks_cover_the_range_in_1_2_5_steps() -> None:
    ticks = charts.money_ticks(Decimal("0.703"), Decimal("169"))
    assert ticks[0] <= Decimal("0.703")
    assert ticks[-1] >= Decimal("169")
    assert {tick.normalize().as_tuple().digits[0] for tick in ticks} <= {1, 2, 5}


# --- readable in both themes -----------------------------------------------------------------------


def _luminance(color: str) -> float:
    channels = [int(color.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(first: str, second: str) -> float:
    high, low = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize(
    "color", [*charts.MODE_COLORS.values(), *charts.CATEGORY_COLORS.values(), charts.NEUTRAL_COLOR]
)
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_colors_keep_3_to_1_contrast_on_both_themes(color: str, theme: str) -> None:
    assert _contrast(color, charts.BACKGROUNDS[theme]) >= 3


def test_every_cost_category_has_a_label_and_a_colour() -> None:
    # A new category in the estimator must not reach the page as a KeyError or an unlabelled bar.
    assert set(CATEGORY_LABELS) == set(CATEGORIES) == set(charts.CATEGORY_COLORS)


def test_figures_leave_backgrounds_and_text_to_streamlits_theme(table: PriceTable) -> None:
    figures = [
        _hit_rate_figure(PLAN, table),
        charts.comparison_figure(compare_models(PLAN, table=table)),
        charts.turns_figure(sweep_turns(CONVERSATION, [1, 12], table=table), current_turns=12),
    ]
    for figure in figures:
        assert figure.layout.paper_bgcolor is None
        assert figure.layout.plot_bgcolor is None
        assert figure.layout.font.color is None
