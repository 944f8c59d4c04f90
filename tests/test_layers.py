"""The import rules: pricing ← estimator ← app/CLI, and `import estimator` stays light."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_import_estimator_loads_no_ui_tokenizer_or_sdk() -> None:
    code = (
        "import sys, json; import estimator; "
        "heavy = ('streamlit', 'plotly', 'tiktoken', 'anthropic', 'pydantic'); "
        "print(json.dumps([m for m in heavy if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert json.loads(out) == []


@pytest.mark.parametrize(
    ("module", "heavy"),
    [
        ("estimator.offline_tokens", ("tiktoken", "regex")),
        ("estimator.request_anatomy", ("tiktoken",)),
        ("estimator.exact_tokens", ("anthropic",)),
        ("estimator.batch_file", ("tiktoken", "anthropic", "streamlit", "plotly")),
    ],
)
def test_heavy_libraries_load_on_first_use_not_on_import(module: str, heavy: tuple[str, ...]) -> None:
    # In a child process: this one has long imported them all.
    code = f"import sys, json, {module}; print(json.dumps([m for m in {heavy!r} if m in sys.modules]))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert json.loads(out) == []


def test_estimating_loads_no_ui() -> None:
    code = (
        "import sys, json; from estimator import Workload, estimate; "
        "estimate(Workload(model='claude-sonnet-4-6', requests=1)); "
        "print(json.dumps([m for m in ('streamlit', 'plotly', 'tiktoken', 'anthropic') if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert json.loads(out) == []


def _imported_top_levels(package: str) -> set[str]:
    names: set[str] = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
    return names


def test_pricing_imports_nothing_above_it() -> None:
    assert not {"estimator", "app", "streamlit", "plotly", "tiktoken", "anthropic"} & _imported_top_levels("pricing")


def test_estimator_never_imports_the_ui() -> None:
    assert not {"app", "streamlit", "plotly"} & _imported_top_levels("estimator")
