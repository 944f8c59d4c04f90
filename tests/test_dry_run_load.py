"""What every dry run and estimate loads first: the shipped price table, cached without a `stat` per call (issue 16:
it was ~10% of an estimate), yet noticing an edited file within `DEFAULT_RECHECK_S`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pricing import DEFAULT_TABLE_PATH, load_price_table, loader


@pytest.fixture
def fresh_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loader, "_default_table", None)


@pytest.mark.usefixtures("fresh_default")
def test_the_default_table_is_not_looked_at_on_every_call(monkeypatch: pytest.MonkeyPatch) -> None:
    first = load_price_table()
    looked: list[object] = []
    monkeypatch.setattr(loader, "_load_path", lambda path: looked.append(path))
    assert all(load_price_table() is first for _ in range(1_000))
    assert looked == []


@pytest.mark.usefixtures("fresh_default")
def test_an_edited_default_table_shows_after_the_recheck_interval(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "prices.yaml"
    text = DEFAULT_TABLE_PATH.read_text(encoding="utf-8")
    copy.write_text(text, encoding="utf-8")
    monkeypatch.setattr(loader, "DEFAULT_TABLE_PATH", copy)
    clock = [1_000.0]
    monkeypatch.setattr(loader, "_monotonic", lambda: clock[0])
    first = load_price_table()
    copy.write_text(text.replace("\nchecked: 2026-12-03\n", "\nchecked: 2026-12-04\n", 1), encoding="utf-8")
    os.utime(copy, ns=(os.stat(copy).st_atime_ns, os.stat(copy).st_mtime_ns + 1_000_000_000))
    clock[0] += loader.DEFAULT_RECHECK_S / 2
    assert load_price_table() is first  # not looked at yet
    clock[0] += loader.DEFAULT_RECHECK_S
    edited = load_price_table()
    assert edited is not first and str(edited.checked) == "2026-12-04"
    assert loader.reload_price_table() is edited  # unchanged since: the cached parse


def test_a_path_is_still_checked_on_every_call(tmp_path: Path) -> None:
    copy = tmp_path / "prices.yaml"
    copy.write_text(DEFAULT_TABLE_PATH.read_text(encoding="utf-8"), encoding="utf-8")
    first = load_price_table(copy)
    assert load_price_table(copy) is first
    copy.write_text(copy.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert load_price_table(copy) is not first
