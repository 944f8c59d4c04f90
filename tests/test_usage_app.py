"""The Actual costs page: its pure builders, and the page itself through AppTest on a wrapper that calls render()."""

from __future__ import annotations

import datetime as dt
import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from streamlit.proto.TextInput_pb2 import TextInput as TextInputProto
from streamlit.testing.v1 import AppTest

from estimator import actual_costs, format_usd, reconcile
from estimator.usage.records import UsageRecord
from pricing import PriceTable
from ui import actual_costs as build

DAY = dt.date(2026, 11, 25)
TIMEOUT = 60


def _result_line(custom_id: str, model: str, **usage: Any) -> str:
    body = {"input_tokens": 1000, "output_tokens": 200, "service_tier": "batch", **usage}
    message = {"type": "message", "model": model, "usage": body}
    return json.dumps({"custom_id": custom_id, "result": {"type": "succeeded", "message": message}}) + "\n"


RESULTS = (
    _result_line("a", "claude-sonnet-4-6", cache_read_input_tokens=3000)
    + _result_line(
        "b",
        "claude-sonnet-4-6",
        cache_creation_input_tokens=3000,
        cache_creation={"ephemeral_5m_input_tokens": 3000, "ephemeral_1h_input_tokens": 0},
    )
    + json.dumps({"custom_id": "c", "result": {"type": "expired"}})
    + "\n"
)


def _actual() -> Any:
    return actual_costs(io.BytesIO(RESULTS.encode()), as_of=DAY, what_if_model="claude-haiku-4-5")


def test_builders_show_the_exact_figures_rounded_for_reading() -> None:
    result = _actual()
    cards = {label: value for label, value, _ in build.headline(result)}
    assert cards["Actual cost"] == format_usd(result.total_usd)
    assert cards["Requests billed"] == "2"
    assert cards["Cache hit rate"] == "50%"
    models = build.model_table(result)
    assert models.column("Model") == ["Claude Sonnet 4.6"]
    assert models.column("Total") == [float(result.total_usd)]  # $0.012075: six places show it whole
    categories = build.category_table(result)
    assert categories.column("Tokens")[3] == 3000  # cache reads
    figure = build.what_if_figure(result)
    assert [float(y) for y in figure.data[0].y[:4]] == [float(item.total_usd) for item in result.what_if]
    assert figure.data[0].x[4].startswith("On Claude Haiku 4.5")
    assert json.loads(build.actual_json_text(result))["total_usd"] == str(result.total_usd.normalize())
    assert build.actual_csv_text(result).splitlines()[0].startswith("date,model,service_tier")


def test_plan_state_fills_the_plan_form(table: PriceTable) -> None:
    result = _actual()
    state = build.plan_state(result.calibrated_workload(), today=DAY, table=table)
    assert state["model"] == "claude-sonnet-4-6"
    assert state["requests"] == 2
    assert state["prefix_tokens"] == 3000 and state["unique_input_tokens"] == 1000 and state["output_tokens"] == 200
    assert state["cache_hit_rate_pct"] == 50.0 and state["hit_rate_source"] == "Set a value"


def test_reconcile_builders(tmp_path: Path) -> None:
    requests = tmp_path / "requests.jsonl"
    requests.write_text(
        "".join(
            json.dumps(
                {
                    "custom_id": c,
                    "params": {
                        "model": "claude-sonnet-4-6",
                        "max_tokens": 400,
                        "messages": [{"role": "user", "content": "hello " * 200}],
                    },
                }
            )
            + "\n"
            for c in "abc"
        )
    )
    results = tmp_path / "results.jsonl"
    results.write_text(RESULTS)
    rec = reconcile(requests, results, as_of=DAY)
    cards = {label: value for label, value, _ in build.reconcile_summary(rec)}
    assert cards["Actual"] == format_usd(rec.total.actual_usd)
    table = build.reconcile_table(rec)
    assert table.column("custom_id") == ["a", "b"]
    assert build.dry_run_state(rec) == {"dry_run_output_pct": 50.0}
    suggestion = build.dry_run_suggestion(rec)
    assert suggestion is not None and "“Expected output (% of max_tokens)” to 50" in suggestion
    assert "--" not in suggestion
    assert len(build.reconcile_figure(rec).data) == 3
    assert build.reconcile_csv_text(rec).count("\n") == 4  # header + a, b, c


def _page() -> None:
    from ui.pages import actual_costs as page

    page.render()


@pytest.fixture
def app() -> AppTest:
    test = AppTest.from_function(_page, default_timeout=TIMEOUT)
    test.secrets.update({"unrelated": "placeholder"})
    test.run()
    assert not test.exception, [e.value for e in test.exception]
    return test


def test_the_page_prices_an_upload_and_offers_it_as_the_plan(app: AppTest) -> None:
    app.date_input(key="actual_as_of").set_value(DAY).run()
    app.file_uploader(key="actual_upload").set_value(("results.jsonl", RESULTS.encode(), "application/jsonl")).run()
    assert not app.exception, [e.value for e in app.exception]
    expected = actual_costs(io.BytesIO(RESULTS.encode()), as_of=DAY)
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Actual cost"] == format_usd(expected.total_usd)
    app.button(key="actual_use_as_plan").click().run()
    assert app.session_state["model"] == "claude-sonnet-4-6"
    assert app.session_state["prefix_tokens"] == 3000
    assert app.session_state["cache_hit_rate_pct"] == 50.0


def test_a_bad_upload_lists_its_problems_without_a_traceback(app: AppTest) -> None:
    app.file_uploader(key="actual_upload").set_value(("bad.jsonl", b'{"type": "message"\n', "application/jsonl")).run()
    assert not app.exception
    assert any("could not be priced" in e.value for e in app.error)


def test_the_admin_key_field_is_a_password_kept_in_the_session(app: AppTest) -> None:
    app.radio(key="actual_input").set_value("Fetch with an Admin key").run()
    field = app.text_input(key="admin_key_input")
    assert field.proto.type == TextInputProto.Type.PASSWORD
    field.input("sk-ant-admin01-CANARY-page").run()
    assert not app.exception
    shown = [str(getattr(node, "value", "")) for node in (*app.markdown, *app.caption, *app.info, *app.error)]
    assert not any("CANARY" in text for text in shown)
    assert app.session_state["admin_key_input"] == "sk-ant-admin01-CANARY-page"  # the session, nowhere else


# --- who prices an upload: DuckDB above the command line's threshold, the Python pricer below ----------------


def _priced_page(monkeypatch: pytest.MonkeyPatch, upload: tuple[str, bytes], *, threshold: int | None) -> AppTest:
    from ui.pages import actual_costs as page

    if threshold is not None:
        monkeypatch.setattr(page, "BULK_THRESHOLD_BYTES", threshold)
    test = AppTest.from_function(_page, default_timeout=TIMEOUT)
    test.run()
    test.date_input(key="actual_as_of").set_value(DAY).run()
    test.file_uploader(key="actual_upload").set_value((*upload, "application/octet-stream")).run()
    assert not test.exception, [e.value for e in test.exception]
    return test


def _report(test: AppTest) -> tuple[dict[str, str], list[Any], list[str]]:
    """What the page shows: the cards, every table, the problems and notes."""
    metrics = {m.label: m.value for m in test.metric}
    tables = [frame.value.to_dict("list") for frame in test.dataframe]
    texts = [e.value for e in (*test.error, *test.info)]
    return metrics, tables, texts


def _engine_caption(test: AppTest) -> str:
    return next(c.value for c in test.caption if c.value.startswith("Priced by"))


def test_a_large_upload_is_priced_by_duckdb_with_the_same_report(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pytest.importorskip("duckdb")
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))  # where the upload's temporary copy goes
    upload = ("results.jsonl", RESULTS.encode())
    python = _priced_page(monkeypatch, upload, threshold=None)
    assert _engine_caption(python).startswith("Priced by the Python pricer: 1 file")
    duckdb = _priced_page(monkeypatch, upload, threshold=len(RESULTS) - 1)
    assert _engine_caption(duckdb).startswith("Priced by DuckDB: 1 file")
    assert _report(duckdb) == _report(python)
    assert _report(duckdb)[0]["Actual cost"] == format_usd(
        actual_costs(io.BytesIO(RESULTS.encode()), as_of=DAY).total_usd
    )
    assert list(tmp_path.iterdir()) == []  # the temporary copy (and DuckDB's spill folder) removed


def test_a_parquet_upload_is_priced_by_duckdb_whatever_its_size(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    duckdb = pytest.importorskip("duckdb")
    path = tmp_path / "usage.parquet"
    with duckdb.connect() as con:
        con.execute(
            f"COPY (SELECT * FROM (VALUES ('claude-sonnet-4-6', DATE '2026-11-20', 1000, 200, 3000), "
            f"('claude-haiku-4-5', DATE '2026-11-21', 50, 10, 0)) AS t(model, day, input_tokens, output_tokens, "
            f"cache_read_tokens)) TO '{path}' (FORMAT PARQUET)"
        )
    test = _priced_page(monkeypatch, ("usage.parquet", path.read_bytes()), threshold=None)
    assert _engine_caption(test).startswith("Priced by DuckDB: 1 file")
    expected = actual_costs(
        [
            UsageRecord("claude-sonnet-4-6", dt.date(2026, 11, 20), input_tokens=1000, output_tokens=200,
                        cache_read_tokens=3000),
            UsageRecord("claude-haiku-4-5", dt.date(2026, 11, 21), input_tokens=50, output_tokens=10),
        ],
        as_of=DAY,
    )  # fmt: skip
    assert _report(test)[0]["Actual cost"] == format_usd(expected.total_usd)


def test_without_duckdb_the_python_pricer_prices_a_large_upload(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "duckdb", None)  # `import duckdb` fails, as where it is not installed
    test = _priced_page(monkeypatch, ("results.jsonl", RESULTS.encode()), threshold=1)
    assert _engine_caption(test).startswith("Priced by the Python pricer")
    assert _report(test)[0]["Actual cost"] == format_usd(
        actual_costs(io.BytesIO(RESULTS.encode()), as_of=DAY).total_usd
    )


def test_a_duckdb_error_names_the_upload_not_its_temporary_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("duckdb")
    broken = b'{"type": "message", "model": "claude-sonnet-4-6", "usage": {"input_tokens": 1\n'
    test = _priced_page(monkeypatch, ("broken.jsonl", broken), threshold=1)
    errors = [e.value for e in test.error]
    assert any("broken.jsonl" in text for text in errors), errors
    assert not any("claude-cost-upload-" in text for text in errors)


def test_who_prices_an_upload() -> None:
    pytest.importorskip("duckdb")
    jsonl, parquet = b'{"custom_id": "a"}\n', b"PAR1\x00\x00"
    assert build.upload_engine([jsonl], 100, what_if_model=None, threshold_bytes=1000) == "python"
    assert build.upload_engine([jsonl], 1001, what_if_model=None, threshold_bytes=1000) == "duckdb"
    assert build.upload_engine([jsonl], 1001, what_if_model="claude-haiku-4-5", threshold_bytes=1000) == "python"
    assert build.upload_engine([jsonl, parquet], 100, what_if_model=None, threshold_bytes=1000) == "duckdb"
    assert build.engine_caption("duckdb", 2, 120_400_000) == "Priced by DuckDB: 2 files, 120.4 MB."
    assert build.engine_caption("python", 1, 1_234) == "Priced by the Python pricer: 1 file, 1.2 kB."


def test_messages_name_the_page_inputs_not_the_command_line_flags() -> None:
    bare = json.dumps({"input_tokens": 10, "output_tokens": 5}) + "\n"  # a usage object naming no model
    result = build.in_page_words(actual_costs(io.BytesIO(bare.encode()), as_of=DAY))
    messages = [problem.message for problem in result.problems] + list(build.notes_of(result))
    assert any(f"“{build.MODEL_INPUT}”" in message for message in messages), messages
    assert not any("--" in message for message in messages), messages
    undated = build.in_page_words(actual_costs(io.BytesIO(RESULTS.encode()), as_of=DAY))
    assert any(f"“{build.AS_OF_INPUT}” above" in note for note in undated.notes), undated.notes
    assert not any("--as-of" in note for note in undated.notes)


def test_every_flag_an_estimator_message_names_has_page_words() -> None:
    """The phrases `page_text` rewrites are the ones the estimator writes (a reworded message would slip by)."""
    sources = "".join(
        path.read_text(encoding="utf-8")
        for path in Path(__file__).resolve().parents[1].joinpath("estimator", "usage").glob("*.py")
    )
    for flag_words, _ in build.PAGE_WORDS:
        assert flag_words in sources, flag_words
    assert build.page_text("(pass --as-of for undated files)") == f"(set “{build.AS_OF_INPUT}” above for undated files)"


def test_the_page_labels_the_messages_use_are_its_inputs() -> None:
    pages = Path(__file__).resolve().parents[1].joinpath("ui", "pages")
    actual_page = pages.joinpath("actual_costs.py").read_text(encoding="utf-8")
    dry_run_page = pages.joinpath("dry_run.py").read_text(encoding="utf-8")
    assert f'"{build.MODEL_INPUT}"' in actual_page and f'"{build.AS_OF_INPUT}"' in actual_page
    assert f'"{build.HIT_RATE_INPUT}"' in dry_run_page and f'"{build.OUTPUT_INPUT}"' in dry_run_page
