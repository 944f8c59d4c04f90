"""Shared test setup: every test runs without an API key, a base URL or a tokenizer cache from the machine."""

from __future__ import annotations

from pathlib import Path

import pytest

from pricing import PriceTable, load_price_table

FIXTURES = Path(__file__).with_name("fixtures")


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "tiktoken-cache-must-stay-empty"))


@pytest.fixture(scope="session")
def table() -> PriceTable:
    return load_price_table()
