"""The Dry-run page with several uploads: one job priced by `analyze_batch_files`, shown per file and in all.

Every expected figure comes from the library in the test (`analyze_batch_files` over the same bytes, named as
the uploads are), formatted with `estimator.format_usd`; the page must never add figures up itself.
"""

from __future__ import annotations

import dataclasses
import io
import json
from typing import Any

from pandas.api.types import is_numeric_dtype
from streamlit.testing.v1 import AppTest

from estimator import MODES, DryRunResult, analyze_batch_file, analyze_batch_files, format_usd
from estimator.batches.dry_run import DEFAULT_OUTPUT_RATIO, DEFAULT_THINKING_RATIO
from estimator.batches.report import dry_run_to_dict
from estimator.batches.results import BatchSlice
from pricing import PriceTable
from tests.conftest import FIXTURES
from tests.test_app import metric, money, run_app, texts
from ui import charts, dry_run
from ui.labels import MODE_LABELS, metric_label

PAGE = "Dry-run a batch file"
Upload = tuple[str, bytes]


def request_line(custom_id: str, text: str, **extra: object) -> str:
    params = {"model": "claude-sonnet-4-6", "max_tokens": 400, "messages": [{"role": "user", "content": text}]}
    return json.dumps({"custom_id": custom_id, "params": {**params, **extra}})


GOOD = (FIXTURES / "mixed_models.jsonl").read_bytes()
SECOND = "\n".join(
    [request_line("second-1", "Classify this ticket."), request_line("second-2", "And this one.", stream=True)]
).encode()
"""A file whose line 2 the API would reject (`stream: true`)."""


def upload_files(files: list[Upload]) -> AppTest:
    app = run_app(page=PAGE)
    app.file_uploader(key="batch_upload").set_value([(name, data, "application/jsonl") for name, data in files]).run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def library_result(files: list[Upload], table: PriceTable) -> DryRunResult:
    """The dry run of the same bytes, each stream named as the page names the upload, with the page's default
    options (it passes its output and thinking shares explicitly)."""
    streams = []
    for name, data in files:
        stream = io.BytesIO(data)
        stream.name = name
        streams.append(stream)
    return analyze_batch_files(
        streams, output_ratio=DEFAULT_OUTPUT_RATIO, thinking_ratio=DEFAULT_THINKING_RATIO, table=table
    )


def assert_totals_shown(app: AppTest, expected: DryRunResult) -> None:
    for mode in MODES:
        total = expected.total(mode).expected_usd
        assert total is not None, mode
        assert metric(app, metric_label(mode, "expected")) == format_usd(total)


def file_frame(app: AppTest) -> Any:  # a pandas DataFrame (pandas has no type stubs here)
    frames = [element.value for element in app.dataframe if "File" in element.value.columns]
    assert len(frames) == 1, [list(element.value.columns) for element in app.dataframe]
    return frames[0]


def test_two_files_are_priced_together_and_shown_per_file(table: PriceTable) -> None:
    files = [("part-1.jsonl", GOOD), ("part-2.jsonl", SECOND)]
    app = upload_files(files)
    expected = library_result(files, table)
    assert len(expected.files) == 2 and expected.errors
    assert_totals_shown(app, expected)
    assert dry_run.summary_text(expected) in texts(app.caption)
    assert dry_run.summary_text(expected).startswith("2 files · ")

    frame = file_frame(app)
    assert list(frame["File"]) == ["part-1.jsonl", "part-2.jsonl"]
    assert list(frame["Requests"]) == [item.requests for item in expected.files]
    assert list(frame["Lines"]) == [item.lines for item in expected.files]
    for mode in MODES:
        shown = list(frame[MODE_LABELS[mode]])
        assert shown == [money(item.total(mode).expected_usd) for item in expected.files], mode
    numbers = [name for name in frame.columns if name != "File"]
    assert numbers and all(is_numeric_dtype(frame[name]) for name in numbers)

    report = app.table[-1].value
    rows = set(zip(report["File"], report["Line"], report["custom_id"], report["Problem"], strict=True))
    assert ("part-2.jsonl", 2, "second-2", "stream not allowed") in rows
    assert any("would make the API reject lines of these files" in text for text in texts(app.error))
    kept = app.session_state["dry_run_kept"][1]  # what the JSON download is built from
    assert dry_run_to_dict(kept) == dry_run_to_dict(expected)


def test_uploads_of_the_same_name_stay_apart(table: PriceTable) -> None:
    files = [("batch.jsonl", GOOD), ("batch.jsonl", SECOND)]
    app = upload_files(files)
    named = [("batch.jsonl", GOOD), ("batch.jsonl (2)", SECOND)]
    expected = library_result(named, table)
    assert_totals_shown(app, expected)
    assert list(file_frame(app)["File"]) == ["batch.jsonl", "batch.jsonl (2)"]
    report = app.table[-1].value
    assert set(report["File"]) == {"batch.jsonl (2)"}
    assert ("batch.jsonl (2)", 2) in set(zip(report["File"], report["Line"], strict=True))


def test_an_empty_and_a_non_jsonl_file_are_named_and_the_rest_priced(table: PriceTable) -> None:
    files = [("empty.jsonl", b""), ("good.jsonl", GOOD), ("notes.txt", b"Remember to split the job.\n")]
    app = upload_files(files)
    alone = analyze_batch_file(FIXTURES / "mixed_models.jsonl", table=table)
    assert_totals_shown(app, alone)  # the bad files add no request and take none away
    assert list(file_frame(app)["File"]) == ["empty.jsonl", "good.jsonl", "notes.txt"]
    report = app.table[-1].value
    assert list(zip(report["File"], report["Line"], report["Problem"], strict=True)) == [
        ("empty.jsonl", 1, "empty batch"),
        ("notes.txt", 1, "invalid json"),
    ]


def test_one_upload_shows_no_file_column() -> None:
    app = upload_files([("invalid.jsonl", (FIXTURES / "invalid.jsonl").read_bytes())])
    assert "File" not in app.table[-1].value.columns
    assert not any("File" in element.value.columns for element in app.dataframe)
    assert not any(text.startswith("**Expected cost per file**") for text in texts(app.markdown))
    assert any("would make the API reject lines of this file" in text for text in texts(app.error))


def test_distinct_names_number_repeats_without_taking_another_uploads_name() -> None:
    assert dry_run.distinct_names(["a.jsonl", "b.jsonl"]) == ["a.jsonl", "b.jsonl"]
    assert dry_run.distinct_names(["a", "a", "a"]) == ["a", "a (2)", "a (3)"]
    assert dry_run.distinct_names(["a", "a", "a (2)"]) == ["a", "a (3)", "a (2)"]
    assert dry_run.distinct_names(["a (2)", "a", "a"]) == ["a (2)", "a", "a (3)"]


def test_the_split_plan_names_each_batchs_file_when_there_are_several(table: PriceTable) -> None:
    result = library_result([("a.jsonl", GOOD), ("b.jsonl", SECOND)], table)
    split = (
        BatchSlice(1, 1, 2, 2, 100, "a.jsonl"),
        BatchSlice(2, 3, 4, 2, 90, "a.jsonl"),
        BatchSlice(3, 1, 1, 1, 50, "b.jsonl"),
    )
    rows = dry_run.split_table(dataclasses.replace(result, split=split))
    assert rows.column("File") == ["a.jsonl", "a.jsonl", "b.jsonl"]
    assert rows.column("First line") == [1, 3, 1]
    one = dry_run.split_table(library_result([("a.jsonl", GOOD)], table))
    assert "File" not in one.columns


def test_the_chart_title_counts_the_files() -> None:
    def named(name: str, data: bytes) -> io.BytesIO:
        stream = io.BytesIO(data)
        stream.name = name
        return stream

    several = analyze_batch_files([named("a.jsonl", GOOD), named("b.jsonl", SECOND)])
    one = analyze_batch_file(named("a.jsonl", GOOD))
    assert str(charts.dry_run_figure(several).layout.title.text).startswith("The files in each mode")
    assert str(charts.dry_run_figure(one).layout.title.text).startswith("The file in each mode")
