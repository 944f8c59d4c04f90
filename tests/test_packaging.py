"""The wheel installs the library with its data and works from any directory, outside the checkout."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

from pricing import load_price_table

ROOT = Path(__file__).resolve().parents[1]

PACKAGE_DATA = (
    "pricing/prices.yaml",
    "pricing/prices.schema.json",
    "pricing/py.typed",
    "estimator/py.typed",
    "estimator/tokens/data/cl100k_base.tiktoken.gz",
    "estimator/tokens/data/LICENSE-tiktoken.txt",
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # No build isolation: hatchling comes from requirements-dev.txt, so building needs no network.
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("claude_cost_planner-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment holding only our wheel; its dependencies are borrowed from ours."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-index", "--no-deps", str(wheel)],
        check=True,
        capture_output=True,
    )
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # The dependencies (PyYAML, pydantic, tiktoken) are those of the test environment: offline, no download.
    Path(site, "borrowed-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv


def _run(venv: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "ANTHROPIC_API_KEY")}
    return subprocess.run([*args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_the_wheel_carries_the_data(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert set(PACKAGE_DATA) <= names
    assert not any(name.startswith(("ui/", "tests/", "app.py")) for name in names)


def test_installed_package_works_from_another_directory(installed: Path, tmp_path: Path) -> None:
    python = str(installed / "bin" / "python")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code = (
        "import json, estimator, pricing; from estimator import Workload, estimate, count_text; "
        "r = estimate(Workload(model='claude-sonnet-4-6', requests=1000, unique_input_tokens=5000, "
        "output_tokens=1000)); t = count_text('Hello, world', model='claude-sonnet-4-6'); "
        "print(json.dumps({'file': estimator.__file__, 'table': str(pricing.load_price_table().checked), "
        "'realtime': str(r.mode('realtime').total_usd), 'tokens': t.expected_tokens}))"
    )
    result = _run(installed, python, "-c", code, cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert Path(out["file"]).is_relative_to(installed)  # the installed copy, not the checkout
    rates = load_price_table().prices_as_of(load_price_table().model("claude-sonnet-4-6"), dt.date.today())
    assert Decimal(out["realtime"]) == 1000 * (5000 * rates.input_mtok + 1000 * rates.output_mtok) / 1_000_000
    assert out["tokens"] > 0


def test_installed_command_lines(installed: Path, tmp_path: Path) -> None:
    batch = tmp_path / "requests.jsonl"
    line = {
        "custom_id": "a-1",
        "params": {
            "model": "claude-sonnet-4-6",
            "max_tokens": 100,
            "messages": [{"role": "user", "content": "Summarise the plot of Hamlet in one line."}],
        },
    }
    batch.write_text(json.dumps(line) + "\n")
    python = str(installed / "bin" / "python")
    listed = _run(installed, python, "-m", "pricing", "list", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "claude-sonnet-4-6" in listed.stdout
    dry = _run(installed, python, "-m", "estimator", "dry-run", str(batch), "--format", "json", cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout)["requests"] == 1
    version = _run(installed, str(installed / "bin" / "claude-cost"), "--version", cwd=tmp_path)
    assert version.returncode == 0
    from estimator.version import __version__

    assert version.stdout.strip().endswith(__version__)
    assert (
        _run(installed, str(installed / "bin" / "claude-prices"), "--version", cwd=tmp_path).stdout.strip()
        == version.stdout.strip()
    )
    prices = _run(installed, str(installed / "bin" / "claude-prices"), "show", "claude-haiku-4-5", cwd=tmp_path)
    assert prices.returncode == 0, prices.stderr
