"""Every model × every mode × both TTLs, priced by hand from the reference's published rows.

The rates come from tests/test_price_regressions.py (typed from shared/reference/anthropic-pricing.md);
batch cache rates follow the documented rule (50% of the standard cache rate). The workload's prefix is
above every model's minimum cacheable length, so caching applies everywhere."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from estimator import Workload, estimate
from tests.test_price_regressions import ROWS

MTOK = D(1_000_000)
PREFIX, UNIQUE, OUTPUT, REQUESTS, HITS = 5000, 2000, 500, 40, D("0.8")


def _expected(rates: dict[str, D], mode: str, ttl: str) -> D:
    batch = mode.startswith("batch")
    scale = D("0.5") if batch else D(1)
    input_rate, output_rate = rates["input"] * scale, rates["output"] * scale
    if not mode.endswith("cached"):
        return REQUESTS * ((PREFIX + UNIQUE) * input_rate + OUTPUT * output_rate) / MTOK
    write = rates["write_5m" if ttl == "5m" else "write_1h"] * scale
    read = rates["read"] * scale
    prefix = HITS * PREFIX * read + (1 - HITS) * PREFIX * write
    return REQUESTS * (prefix + UNIQUE * input_rate + OUTPUT * output_rate) / MTOK


CASES = [
    (row, mode, ttl)
    for row in ROWS
    for mode in ("realtime", "realtime_cached", "batch", "batch_cached")
    for ttl in ("5m", "1h")
]


@pytest.mark.parametrize(("row", "mode", "ttl"), CASES, ids=[f"{r[0]}@{r[1]}-{m}-{t}" for r, m, t in CASES])
def test_every_model_every_mode(row: tuple[str, ...], mode: str, ttl: str) -> None:
    model, day, input_, write_5m, write_1h, read, output, _batch_in, _batch_out, _source = row
    rates = {"input": D(input_), "write_5m": D(write_5m), "write_1h": D(write_1h), "read": D(read), "output": D(output)}
    workload = Workload(
        model=model, requests=REQUESTS, prefix_tokens=PREFIX, unique_input_tokens=UNIQUE, output_tokens=OUTPUT,
        cache_hit_rate=HITS, cache_ttl=ttl, as_of=dt.date.fromisoformat(day),
    )  # fmt: skip
    assert estimate(workload).mode(mode).total_usd == _expected(rates, mode, ttl)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("model", "last_tier_day", "tier_input", "tier_output"),
    [
        ("claude-sonnet-4-6", dt.date(2026, 3, 12), "6", "22.50"),
        ("claude-sonnet-4-5", dt.date(2026, 4, 29), "6", "22.50"),
        ("claude-sonnet-4-0", dt.date(2026, 4, 29), "6", "22.50"),
    ],
)
def test_former_200k_tier_either_side_of_its_end(
    model: str, last_tier_day: dt.date, tier_input: str, tier_output: str
) -> None:
    def total(day: dt.date) -> D:
        workload = Workload(model=model, requests=1, unique_input_tokens=200_001, output_tokens=100, as_of=day)
        return estimate(workload).mode("realtime").total_usd

    assert total(last_tier_day) == (200_001 * D(tier_input) + 100 * D(tier_output)) / MTOK
    assert total(last_tier_day + dt.timedelta(days=1)) == (200_001 * D(3) + 100 * D(15)) / MTOK
    # At exactly 200,000 prompt tokens the base row applies (strictly greater crosses).
    at_threshold = Workload(model=model, requests=1, unique_input_tokens=200_000, as_of=last_tier_day)
    assert estimate(at_threshold).mode("realtime").total_usd == 200_000 * D(3) / MTOK


THINKING, CONTAINER_HOURS, USD_PER_CONTAINER_HOUR = 300, D("0.1"), D("0.05")
"""One 6-minute code-execution session per request (0.1 h, above the 5-minute minimum) at prices.yaml's
`rules.code_execution` price; thinking at each mode's output rate (usage-and-billing.md §1.3, §4.5)."""


@pytest.mark.parametrize(("row", "mode", "ttl"), CASES, ids=[f"{r[0]}@{r[1]}-{m}-{t}" for r, m, t in CASES])
def test_thinking_and_code_execution_on_every_model_every_mode(row: tuple[str, ...], mode: str, ttl: str) -> None:
    model, day, input_, write_5m, write_1h, read, output, _batch_in, _batch_out, _source = row
    rates = {"input": D(input_), "write_5m": D(write_5m), "write_1h": D(write_1h), "read": D(read), "output": D(output)}
    workload = Workload(
        model=model, requests=REQUESTS, prefix_tokens=PREFIX, unique_input_tokens=UNIQUE, output_tokens=OUTPUT,
        cache_hit_rate=HITS, cache_ttl=ttl, as_of=dt.date.fromisoformat(day), thinking_tokens=THINKING,
        code_execution_sessions_per_request=1, code_execution_minutes_per_session=6,
    )  # fmt: skip
    output_rate = rates["output"] * (D("0.5") if mode.startswith("batch") else 1)
    thinking = REQUESTS * THINKING * output_rate / MTOK
    code_execution = REQUESTS * CONTAINER_HOURS * USD_PER_CONTAINER_HOUR  # the same in every mode
    result = estimate(workload).mode(mode)  # type: ignore[arg-type]
    assert result.total_usd == _expected(rates, mode, ttl) + thinking + code_execution
    assert result.line("thinking").usd == thinking and result.line("code_execution").usd == code_execution
