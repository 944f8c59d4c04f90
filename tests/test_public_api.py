"""`estimator.__all__`, its lazy table, its type-checking imports and the README's list agree."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import estimator

ROOT = Path(__file__).resolve().parents[1]


def _type_checking_names() -> set[str]:
    tree = ast.parse((ROOT / "estimator" / "__init__.py").read_text(encoding="utf-8"))
    block = next(node for node in tree.body if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING")
    return {
        alias.asname or alias.name for node in block.body if isinstance(node, ast.ImportFrom) for alias in node.names
    }


def _eager_names() -> set[str]:
    tree = ast.parse((ROOT / "estimator" / "__init__.py").read_text(encoding="utf-8"))
    return {
        alias.asname or alias.name
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("estimator.")
        for alias in node.names
        if not alias.name.startswith("__")
    }


def test_every_public_name_resolves() -> None:
    for name in estimator.__all__:
        assert getattr(estimator, name) is not None, name


def test_all_lazy_table_and_type_checking_imports_agree() -> None:
    public = set(estimator.__all__)
    assert len(public) == len(estimator.__all__), "a name is listed twice"
    assert set(estimator._LAZY) | _eager_names() == public
    assert _type_checking_names() | _eager_names() == public


def test_the_readme_documents_exactly_the_public_names() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Use it from your own code", 1)[1].split("\n## ", 1)[0]
    listed = section.split("The public API", 1)[1].split("\n\n", 1)[0]
    assert set(re.findall(r"`([A-Za-z][A-Za-z0-9_]*)`", listed)) - {"estimator"} == set(estimator.__all__)
