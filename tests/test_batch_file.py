"""Batch-file dry runs: validation with line numbers, cache groups, token ranges, costs, split plans."""

from __future__ import annotations

import datetime as dt
import io
import json
import tracemalloc
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from estimator import BatchFileError
from estimator.batches import dry_run as batch_module
from estimator.batches.dry_run import DryRunResult, analyze_batch_file
from estimator.tokens.offline import cl100k_token_count, load_cl100k
from pricing import DEFAULT_TABLE_PATH, PriceTable, parse_price_table
from tests.conftest import FIXTURES
from tests.fake_anthropic import FakeAnthropic, fake_input_tokens, serve_fake_anthropic

DAY = dt.date(2026, 11, 25)
MTOK = Decimal(1_000_000)
KEY = "sk-ant-test-batch-0123456789"


def run(name: str, **options: object) -> DryRunResult:
    options.setdefault("as_of", DAY)
    return analyze_batch_file(FIXTURES / name, **options)  # type: ignore[arg-type]


def lines_of(name: str) -> list[dict]:
    return [json.loads(line) for line in (FIXTURES / name).read_text(encoding="utf-8").splitlines()]


def claude_tokens(text: str, factor: str = "1.15") -> int:
    return int((cl100k_token_count(text) * Decimal(factor)).to_integral_value(rounding=ROUND_HALF_UP))


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    with serve_fake_anthropic(KEY) as server:
        yield server


# --- a valid file priced by hand -------------------------------------------------------------------


def test_valid_file_is_priced_from_its_tokens() -> None:
    result = run("valid.jsonl")
    assert (result.lines, result.requests, result.invalid_lines, result.problems) == (3, 3, 0, ())
    (model,) = result.models
    texts = [row["params"]["messages"][0]["content"] for row in lines_of("valid.jsonl")]
    input_tokens = sum(claude_tokens(text) + 7 for text in texts)  # 7: the legacy single-message frame
    assert model.input_tokens_expected == input_tokens
    assert (model.output_tokens_max, model.output_tokens_expected) == (3000, 1500)  # default ratio 0.5
    realtime = model.cost("realtime")
    assert realtime.expected_usd == (input_tokens * Decimal(3) + 1500 * Decimal(15)) / MTOK
    assert realtime.high_usd > realtime.expected_usd > realtime.low_usd
    assert model.cost("batch").expected_usd == realtime.expected_usd / 2
    assert model.count_source == "estimated" and "estimated offline" in model.count_detail
    assert [(s.first_line, s.last_line, s.requests) for s in result.split] == [(1, 3, 3)]


def test_output_assumption_ratio_or_fixed() -> None:
    (model,) = run("valid.jsonl", output_ratio="0.1").models
    assert model.output_tokens_expected == 300
    (model,) = run("valid.jsonl", output_tokens=50).models
    assert model.output_tokens_expected == 150
    with pytest.raises(BatchFileError, match="not both"):
        run("valid.jsonl", output_ratio="0.1", output_tokens=50)


# --- caching read from the file ----------------------------------------------------------------------


@pytest.mark.parametrize("hit_rate", [Decimal(1), Decimal("0.5"), Decimal(0)])
def test_shared_prefix_first_writes_the_rest_read(hit_rate: Decimal) -> None:
    result = run("shared_prefix.jsonl", hit_rate=hit_rate)
    (model,) = result.models
    rows = lines_of("shared_prefix.jsonl")
    prefix = claude_tokens(rows[0]["params"]["system"][0]["text"])
    assert prefix >= 1024  # above Sonnet 4.6's minimum
    assert model.distinct_prefixes == 1
    assert model.cache_write_tokens == prefix + (1 - hit_rate) * 4 * prefix
    assert model.cache_read_tokens == hit_rate * 4 * prefix
    unique = sum(claude_tokens(row["params"]["messages"][0]["content"]) + 7 for row in rows[:5])
    short = claude_tokens("Be brief.\nHi") + 7
    cached = model.cost("realtime_cached").expected_usd
    writes, reads = prefix + (1 - hit_rate) * 4 * prefix, hit_rate * 4 * prefix
    by_hand = (
        (unique + short) * Decimal(3) + writes * Decimal("3.75") + reads * Decimal("0.30") + 3000 * Decimal(15)
    ) / MTOK
    assert cached == by_hand


def test_breakpoint_below_minimum_is_reported_as_doing_nothing() -> None:
    result = run("shared_prefix.jsonl")
    (warning,) = [p for p in result.problems if p.code == "breakpoint_below_minimum"]
    assert warning.line == 6 and warning.severity == "warning"
    assert "1,024" in warning.message and "do nothing" in warning.message


def test_prefix_below_a_higher_minimum_is_not_cached(tmp_path: Path) -> None:
    rows = lines_of("shared_prefix.jsonl")[:5]
    for row in rows:
        row["params"]["model"] = "claude-opus-4-6"  # minimum 4,096: the ~2,300-token prefix does nothing
    path = tmp_path / "opus.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    (model,) = analyze_batch_file(path, as_of=DAY).models
    assert model.cache_write_tokens == model.cache_read_tokens == 0
    assert model.cost("realtime_cached").expected_usd == model.cost("realtime").expected_usd


# --- validation ------------------------------------------------------------------------------------

EXPECTED_PROBLEMS = {
    (2, "invalid_json"),
    (3, "custom_id_missing"),
    (4, "custom_id_duplicate"),
    (5, "custom_id_invalid"),
    (6, "custom_id_invalid"),
    (7, "params_missing"),
    (8, "model_missing"),
    (9, "max_tokens_missing"),
    (10, "max_tokens_invalid"),
    (11, "max_tokens_invalid"),
    (12, "stream_not_allowed"),
    (13, "fast_mode_not_in_batches"),
    (14, "model_unknown"),
    (15, "model_retired"),
    (16, "max_tokens_too_large"),
    (17, "needs_beta_header"),
    (18, "messages_missing"),
    (19, "unknown_key"),
    (20, "geo_not_supported"),
    (21, "not_an_object"),
}


def test_every_invalid_line_is_reported_with_its_number_and_the_run_goes_on() -> None:
    result = run("invalid.jsonl")
    assert {(p.line, p.code) for p in result.problems} == EXPECTED_PROBLEMS
    assert result.requests == 3  # lines 1, 17 (a warning only) and 22
    assert result.invalid_lines == len(EXPECTED_PROBLEMS) - 1
    assert next(p for p in result.problems if p.line == 14).message.count("claude-sonnet-4-6") == 1
    assert next(p for p in result.problems if p.line == 17).severity == "warning"
    assert "output-300k-2026-03-24" in next(p for p in result.problems if p.line == 17).message


def test_max_tokens_zero_and_stream_messages() -> None:
    result = run("invalid.jsonl")
    messages = {p.line: p.message for p in result.problems}
    assert "at least 1, got 0" in messages[10]
    assert "'stream' is not allowed" in messages[12]


# --- formats ---------------------------------------------------------------------------------------


def test_json_array_elements_carry_their_line_numbers() -> None:
    result = run("array.json")
    assert result.requests == 2
    broken = FIXTURES.joinpath("array.json").read_text().replace('"arr-2"', '"arr 2"')
    stream = io.BytesIO(broken.encode())
    problems = analyze_batch_file(stream, as_of=DAY).problems
    assert [(p.code, p.line) for p in problems] == [("custom_id_invalid", 15)]  # the line where the element starts


def test_single_pretty_printed_request() -> None:
    result = run("single_request.json")
    assert (result.requests, result.problems) == (1, ())


def test_an_upload_stream_works_like_a_path() -> None:
    data = (FIXTURES / "valid.jsonl").read_bytes()
    from_stream = analyze_batch_file(io.BytesIO(data), as_of=DAY)
    assert from_stream.totals == run("valid.jsonl").totals


def test_blank_lines_keep_line_numbers_right(tmp_path: Path) -> None:
    rows = (FIXTURES / "valid.jsonl").read_text().splitlines()
    path = tmp_path / "gaps.jsonl"
    path.write_text(f"{rows[0]}\n\n{rows[1]}\n{{bad\n", encoding="utf-8")
    result = analyze_batch_file(path, as_of=DAY)
    assert result.requests == 2
    assert [(p.line, p.code) for p in result.problems] == [(4, "invalid_json")]


# --- limits ----------------------------------------------------------------------------------------


def _table_with(max_requests: int, max_bytes: int) -> PriceTable:
    text = DEFAULT_TABLE_PATH.read_text(encoding="utf-8")
    text = text.replace("max_requests: 100000 ", f"max_requests: {max_requests} ")
    text = text.replace("max_bytes: 256000000 ", f"max_bytes: {max_bytes} ")
    return parse_price_table(text)


def test_split_plan_by_request_count() -> None:
    result = run("valid.jsonl", table=_table_with(2, 256_000_000))
    assert result.needs_split
    assert [(s.index, s.first_line, s.last_line, s.requests) for s in result.split] == [(1, 1, 2, 2), (2, 3, 3, 1)]
    assert any("split into 2 batches" in note for note in result.notes)


def test_split_plan_by_size() -> None:
    sizes = [len(line) + 1 for line in (FIXTURES / "valid.jsonl").read_bytes().splitlines()]
    result = run("valid.jsonl", table=_table_with(100_000, sizes[0] + sizes[1] - 1))
    assert [s.requests for s in result.split] == [1, 1, 1]
    assert [s.bytes for s in result.split] == sizes


def test_over_100000_requests_needs_two_batches(tmp_path: Path) -> None:
    params = '{"model": "claude-haiku-4-5", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}'
    line = '{"custom_id": "r%d", "params": ' + params + "}\n"
    path = tmp_path / "many.jsonl"
    path.write_text("".join(line % i for i in range(100_001)), encoding="utf-8")
    result = analyze_batch_file(path, as_of=DAY)
    assert [(s.first_line, s.last_line, s.requests) for s in result.split] == [
        (1, 100_000, 100_000),
        (100_001, 100_001, 1),
    ]


def test_too_large_a_file_is_refused_before_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch_module, "MAX_FILE_BYTES", 100)
    with pytest.raises(BatchFileError, match="over the dry run's limit of 100; split the file first"):
        run("valid.jsonl")


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(BatchFileError, match="cannot read the batch file"):
        analyze_batch_file(tmp_path / "missing.jsonl")


def test_bad_options_are_refused() -> None:
    with pytest.raises(Exception, match="between 0 and 1"):
        run("valid.jsonl", hit_rate="1.5")
    with pytest.raises(BatchFileError, match="exact must be"):
        run("valid.jsonl", exact="some")  # type: ignore[arg-type]


def _peak_bytes(path: Path, lines: int) -> tuple[int, int]:
    row = lines_of("valid.jsonl")[0]
    row["params"]["messages"][0]["content"] = "Summarise the attached shipping note. " * 40
    with path.open("w", encoding="utf-8") as out:
        for i in range(lines):
            row["custom_id"] = f"r{i}"
            out.write(json.dumps(row) + "\n")
    load_cl100k()  # loaded once per process (~60 MB while it is built): not the dry run's own memory
    tracemalloc.start()
    try:
        assert analyze_batch_file(path, as_of=DAY).requests == lines
        return path.stat().st_size, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_per_request_is_under_100_bytes_beyond_a_fixed_part(tmp_path: Path) -> None:
    # Issue 16's target. Each request is ~1.6 KB of JSON; what it leaves behind is a row of compact columns and its
    # custom_id's hash (estimator/batches/records.py), not its text.
    small_size, small_peak = _peak_bytes(tmp_path / "small.jsonl", 5_000)
    large_size, large_peak = _peak_bytes(tmp_path / "large.jsonl", 20_000)
    assert small_size / 5_000 > 1500
    per_request = (large_peak - small_peak) / 15_000
    assert per_request < 100, f"{per_request:.0f} bytes per request"
    # The fixed part: 1 MB read buffers and the chunks of text being tokenized (at most cores + 2 of ~0.5 MB,
    # each with its joined copy and token buffer), whatever the file's size.
    fixed = small_peak - per_request * 5_000
    assert fixed < 16_000_000, f"{fixed / 1e6:.1f} MB fixed"
    assert large_peak < large_size / 2


def test_progress_reports_bytes_up_to_the_file_size() -> None:
    seen: list[tuple[str, int, int]] = []
    run("valid.jsonl", on_progress=lambda stage, done, total: seen.append((stage, done, total)))
    size = (FIXTURES / "valid.jsonl").stat().st_size
    assert seen and all(stage == "reading" for stage, _, _ in seen)
    assert [done for _, done, _ in seen] == sorted(done for _, done, _ in seen)
    assert seen[-1][1] == size


# --- exact counts through the real client ----------------------------------------------------------


def _many_requests(tmp_path: Path, count: int = 30) -> tuple[Path, list[dict]]:
    rows = [
        {"custom_id": f"r{i}", "params": {"model": "claude-sonnet-4-6", "max_tokens": 50,
         "messages": [{"role": "user", "content": f"Request {i}: " + "word " * (10 + 7 * i)}]}}
        for i in range(count)
    ]  # fmt: skip
    path = tmp_path / "many.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path, rows


def test_exact_all_uses_count_tokens_for_every_request(tmp_path: Path, fake: FakeAnthropic) -> None:
    path, rows = _many_requests(tmp_path)
    result = analyze_batch_file(path, as_of=DAY, exact="all", api_key=KEY, base_url=fake.url)
    (model,) = result.models
    exact = sum(fake_input_tokens({k: v for k, v in r["params"].items() if k != "max_tokens"}) for r in rows)
    assert model.count_source == "exact"
    assert model.input_tokens_low == model.input_tokens_expected == model.input_tokens_high == exact
    assert model.cost("realtime").low_usd == model.cost("realtime").expected_usd


def test_sampled_counts_scale_the_file_by_the_measured_ratio(tmp_path: Path, fake: FakeAnthropic) -> None:
    path, rows = _many_requests(tmp_path)
    result = analyze_batch_file(path, as_of=DAY, exact="sample", sample_size=20, api_key=KEY, base_url=fake.url)
    (model,) = result.models
    exact = sum(fake_input_tokens({k: v for k, v in r["params"].items() if k != "max_tokens"}) for r in rows)
    assert model.count_source == "sampled" and model.count_detail.startswith("sampled ±")
    assert len(fake.requests) == 20
    assert abs(model.input_tokens_expected - exact) / exact < Decimal("0.05")
    assert model.input_tokens_low <= model.input_tokens_expected <= model.input_tokens_high


def test_exact_failure_falls_back_offline_and_says_why(tmp_path: Path, fake: FakeAnthropic) -> None:
    path, _ = _many_requests(tmp_path)
    offline = analyze_batch_file(path, as_of=DAY)
    result = analyze_batch_file(path, as_of=DAY, exact="all", api_key="sk-ant-wrong", base_url=fake.url)
    assert result.models[0].count_source == "estimated"
    assert result.models[0].input_tokens_expected == offline.models[0].input_tokens_expected
    assert any("401" in note and "estimated offline" in note for note in result.notes)


def test_tool_prompt_opens_the_cached_prefix(tmp_path: Path) -> None:
    # ~770 tokens of tool definition + system text: under Sonnet 4.6's 1,024 alone, over it with the
    # 497-token tool-use system prompt that opens every request carrying tools.
    tool = {"name": "lookup_invoice", "description": "Find an invoice by number", "input_schema": {"type": "object"}}
    system = [{"type": "text", "text": "Check the totals and dates. " * 110, "cache_control": {"type": "ephemeral"}}]
    rows = [
        {"custom_id": f"t{i}", "params": {"model": "claude-sonnet-4-6", "max_tokens": 10, "tools": [tool],
         "system": system, "messages": [{"role": "user", "content": f"Invoice {i}?"}]}}
        for i in range(3)
    ]  # fmt: skip
    path = tmp_path / "tools.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    (model,) = analyze_batch_file(path, as_of=DAY, hit_rate=1).models
    tool_json = json.dumps(tool, sort_keys=True, separators=(",", ":"))
    text_tokens = claude_tokens(tool_json + "\n" + system[0]["text"])
    assert text_tokens < 1024 <= text_tokens + 497
    assert model.cache_write_tokens == text_tokens + 497
    assert model.cache_read_tokens == 2 * (text_tokens + 497)


# --- orjson first, json as the judge ------------------------------------------------------------------------

_JSON_PIECES = st.sampled_from(
    ['{"a": 1}', "[1, 2]", "NaN", "-Infinity", "1e400", '"\\ud800"', "18446744073709551616", "01", '{"a": 1,}',
     "tru", '"\t"', "  {} ", "[[[[]]]]", '{"a": 1, "a": 2}', '"é"', "\u00e9", "-0", "1.5E+3", "{", "}", ","]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(_JSON_PIECES, min_size=1, max_size=4).map("".join))
def test_orjson_reads_a_line_exactly_as_json_would(text: str) -> None:
    from estimator.batches import reader

    data = text.encode("utf-8", "surrogatepass") + b"\n"
    fast = reader._decoded(1, data, len(data))
    original, reader._fast_loads = reader._fast_loads, None
    try:
        judged = reader._decoded(1, data, len(data))
    finally:
        reader._fast_loads = original
    assert (fast.error, fast.code, fast.size_bytes) == (judged.error, judged.code, judged.size_bytes)
    # The one difference, documented in reader.py: an integer beyond 64 bits (never a valid value in a batch line)
    # comes out of orjson as the nearest float.
    assert json.dumps(fast.value, sort_keys=True) == json.dumps(_beyond_64_bits_as_float(judged.value), sort_keys=True)


def _beyond_64_bits_as_float(value: object) -> object:
    if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**64:
        return float(value)
    if isinstance(value, list):
        return [_beyond_64_bits_as_float(item) for item in value]
    if isinstance(value, dict):
        return {key: _beyond_64_bits_as_float(item) for key, item in value.items()}
    return value
