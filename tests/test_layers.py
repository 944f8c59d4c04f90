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
        ("estimator.tokens.offline", ("tiktoken", "regex")),
        ("estimator.tokens.anatomy", ("tiktoken",)),
        ("estimator.tokens.exact", ("anthropic",)),
        ("estimator.batches.dry_run", ("tiktoken", "anthropic", "streamlit", "plotly")),
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


CORE = {
    "errors",
    "workload",
    "rates",
    "results",
    "costs",
    "checks",
    "planning",
    "format",
    "report",
    "version",
    "overrides",
}
"""The workload core of `estimator/`; every other subpackage is a capability, and `cli` sits on top."""


def _module_graph() -> dict[str, set[str]]:
    """Every estimator/pricing module and the project modules it imports, lazy imports included."""
    graph: dict[str, set[str]] = {}
    for package in ("pricing", "estimator"):
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            name = ".".join(parts)
            edges: set[str] = set()
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    edges.add(node.module)
                elif isinstance(node, ast.Import):
                    edges |= {alias.name for alias in node.names}
            graph[name] = {edge for edge in edges if edge.split(".")[0] in ("pricing", "estimator")}
    return graph


def _layer(module: str) -> int:
    parts = module.split(".")
    if parts[0] == "pricing":
        return 0
    if len(parts) == 1 or parts[1] in CORE:
        return 1
    return 3 if parts[1] in ("cli", "__main__") else 2


CAPABILITY_DEPENDENCIES = {
    "tokens": set(),
    "throughput": set(),
    "currency": set(),
    "conversations": set(),
    "batches": {"tokens"},
    "usage": {"tokens", "batches"},
    "plans": {"tokens", "batches", "usage"},
    "bulk": {"usage"},
}
"""Which capabilities each one builds on (ARCHITECTURE.md); any other link between capabilities is a mistake."""


def test_imports_only_point_down_the_layers() -> None:
    # A package's __init__ may gather its own modules, and modules of one capability import each other.
    wrong = []
    for module, edges in _module_graph().items():
        for edge in edges:
            if module == "estimator" or edge.split(".")[:2] == module.split(".")[:2]:
                continue
            if _layer(edge) > _layer(module):
                wrong.append(f"{module} → {edge}")
            elif _layer(edge) == 2 == _layer(module):
                capability, used = module.split(".")[1], edge.split(".")[1]
                if used not in CAPABILITY_DEPENDENCIES.get(capability, set()):
                    wrong.append(f"{module} → {edge}")
    assert wrong == []


def test_no_import_cycles_even_through_lazy_imports() -> None:
    graph = _module_graph()
    resolved = {m: {e for e in edges if e in graph and e != m} for m, edges in graph.items()}
    visiting: list[str] = []
    done: set[str] = set()
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        if module in done:
            return
        if module in visiting:
            cycles.append([*visiting[visiting.index(module) :], module])
            return
        visiting.append(module)
        for edge in sorted(resolved[module]):
            visit(edge)
        visiting.pop()
        done.add(module)

    for module in sorted(resolved):
        visit(module)
    assert cycles == []
