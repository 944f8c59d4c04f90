"""The import rules: pricing ← estimator ← app/CLI, and `import estimator` stays light."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_estimator_loads_no_ui_tokenizer_or_sdk() -> None:
    code = (
        "import sys, json; import estimator; "
        "heavy = ('streamlit', 'plotly', 'tiktoken', 'anthropic', 'pydantic'); "
        "print(json.dumps([m for m in heavy if m in sys.modules]))"
    )
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
