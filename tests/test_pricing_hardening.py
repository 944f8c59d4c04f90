"""Issue 9, the price-table side: no traceback, no hang, no silent wrong answer, on any table file.

Every hostile or mistaken table gives a `PriceTableError` whose message is one line naming the file (and the
line and field where there is one), and `python -m pricing ... --table FILE` exits 2 with one `error:` line.
"""

from __future__ import annotations

import importlib.resources
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pricing import DEFAULT_TABLE_PATH, PriceTableError, load_price_table, parse_price_table
from pricing.cli import main
from pricing.loader import MAX_TABLE_BYTES, read_regular_file

SHIPPED_TEXT = DEFAULT_TABLE_PATH.read_text(encoding="utf-8")
REPO = Path(__file__).resolve().parents[1]
HAIKU_INPUT = "        input_mtok: 0.10                                # prompt ≤ 100,000 tokens [pricing]\n"


def _edited(old: str, new: str) -> str:
    assert SHIPPED_TEXT.count(old) == 1, f"fixture text not found once in prices.yaml: {old!r}"
    return SHIPPED_TEXT.replace(old, new)


def _error(text: str) -> str:
    with pytest.raises(PriceTableError) as caught:
        parse_price_table(text, source_name="hostile.yaml")
    message = str(caught.value)
    assert message.startswith("hostile.yaml"), message
    return message


def _one_line_error(text: str) -> str:
    message = _error(text)
    assert "\n" not in message, message
    return message


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


# --- the YAML mutations matrix --------------------------------------------------------------------------------


MUTATIONS = [
    # (id, old text, new text, expected in the message, expected line or None)
    ("int-5000-digits", "    max_requests: 100000 ", "    max_requests: " + "9" * 5000 + " ", "5,000 digits", True),
    ("price-int-5000-digits", HAIKU_INPUT, "        input_mtok: " + "1" * 5000 + "\n", "5,000 digits", True),
    ("exponent-overflow", HAIKU_INPUT, "        input_mtok: 1.0e999999999\n", "out of range for a price table", True),
    ("exponent-underflow", HAIKU_INPUT, "        input_mtok: 1.0e-999999999\n", "out of range", True),
    ("sexagesimal-float", HAIKU_INPUT, "        input_mtok: 1:30.5\n", "sexagesimal", True),
    ("sexagesimal-int", HAIKU_INPUT, "        input_mtok: 1:30\n", "not a plain decimal integer", True),
    ("hex-int", HAIKU_INPUT, "        input_mtok: 0x10\n", "not a plain decimal integer", True),
    ("octal-int", HAIKU_INPUT, "        input_mtok: 010\n", "not a plain decimal integer", True),
    ("long-number-string", HAIKU_INPUT, '        input_mtok: "' + "1" * 100 + '"\n', "not a number", True),
    (
        "feb-30",
        "currency: USD\nchecked: 2026-12-03\n",
        "currency: USD\nchecked: 2026-02-30\n",
        "'2026-02-30' is not a valid date",
        True,
    ),
    (
        "year-0",
        "currency: USD\nchecked: 2026-12-03\n",
        "currency: USD\nchecked: 0000-01-01\n",
        "'0000-01-01' is not a valid date",
        True,
    ),
    (
        "effective-from-feb-30",
        "      - effective_from: 2026-10-07 ",
        "      - effective_from: 2026-02-30 ",
        "2026-02-30",
        True,
    ),
    ("list-key", "schema_version: 1\n", "schema_version: 1\n? [1, 2]\n: x\n", "plain value, not a list", True),
    ("mapping-key", "schema_version: 1\n", "schema_version: 1\n? {a: 1}\n: x\n", "plain value, not a dict", True),
    (
        "bad-regex",
        "    custom_id_pattern: '^[a-zA-Z0-9_-]{1,64}$'",
        "    custom_id_pattern: '^[a-z(0-9'",
        "not a valid regular expression",
        True,
    ),
    (
        "huge-regex-repeat",
        "    custom_id_pattern: '^[a-zA-Z0-9_-]{1,64}$'",
        "    custom_id_pattern: 'a{1,99999999999999999999}'",
        "custom_id_pattern",
        True,
    ),
    (
        "catastrophic-regex",
        "    custom_id_pattern: '^[a-zA-Z0-9_-]{1,64}$'",
        "    custom_id_pattern: '^([a-z]+)+$'",
        "without nested quantifiers",
        True,
    ),
    ("duplicate-key", "schema_version: 1\n", "schema_version: 1\nschema_version: 1\n", "duplicate key", True),
    ("tab-indent", "schema_version: 1\n", "schema_version: 1\n\tcurrency: USD\n", "invalid YAML", True),
    ("control-char", "currency: USD\n", "currency: US\x07D\n", "invalid YAML", False),
    ("bool-price", HAIKU_INPUT, "        input_mtok: yes\n", "not true/false", True),
    ("null-price", HAIKU_INPUT, "        input_mtok: ~\n", "input_mtok", True),
]


@pytest.mark.parametrize(
    ("old", "new", "expected", "has_line"), [m[1:] for m in MUTATIONS], ids=[m[0] for m in MUTATIONS]
)
def test_yaml_mutation_is_one_line_error(old: str, new: str, expected: str, has_line: bool) -> None:
    message = _one_line_error(_edited(old, new))
    assert expected in message, message
    if has_line:
        assert message.split(":")[1].strip().isdigit(), f"no line number in {message!r}"
    assert len(message) < 600


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[" * 100_000 + "]" * 100_000, "nesting depth"),
        ("{a: " * 100_000 + "1" + "}" * 100_000, "nesting depth"),
        ("a: " + "[" * 500 + "]" * 500, "nested more than 64 levels"),
        ("x:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 300)) + "  " * 300 + "v: 1\n", "nested"),
        ("- " * 5000 + "x", "nesting depth"),
        ("&a [*a]", "expected a mapping"),
        ("schema_version: &a [*a]\n", "hostile.yaml"),
        ("", "expected a mapping at the top level, got NoneType"),
        ("just a string", "expected a mapping at the top level, got str"),
        ("a: &x " + "[*x, " * 0 + "1]\nb: *undefined", "invalid YAML"),
    ],
    ids=[
        "flow-seq-100k",
        "flow-map-100k",
        "flow-500",
        "block-300",
        "dash-5000",
        "self-alias",
        "self-alias-models",
        "empty",
        "scalar",
        "undefined-alias",
    ],
)
def test_structural_hostility_is_a_clean_error(text: str, expected: str) -> None:
    assert expected in _error(text).splitlines()[0]


def test_a_recursive_alias_in_a_table_is_one_line_error() -> None:
    text = _edited(
        "      - Tool-use system-prompt tokens are not published for Opus 5.",
        "      - &loop [*loop]",
    )
    message = _one_line_error(text)
    assert "model 'claude-opus-5': notes[0]" in message


def test_billion_laughs_is_refused_without_expanding_it() -> None:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    message = _error("\n".join(lines) + "\n")  # 10^10 leaves if expanded; aliases are shared, never walked twice
    assert "problems in the price table" in message and len(message) < 5000


def test_a_validation_error_with_one_problem_is_one_line() -> None:
    message = _one_line_error(_edited(HAIKU_INPUT, "        input_mtok: -0.10\n"))
    assert "model 'claude-haiku-5-5': prices[0].input_mtok: must be greater than 0" in message


# --- files that are not price tables ---------------------------------------------------------------------------


def _special(kind: str, tmp_path: Path) -> Path:
    if kind == "fifo":
        path = tmp_path / "table.fifo"
        os.mkfifo(path)
        return path
    if kind == "dev-zero":
        return Path("/dev/zero")
    if kind == "symlink-to-dev-zero":
        path = tmp_path / "zero.yaml"
        path.symlink_to("/dev/zero")
        return path
    if kind == "directory":
        return tmp_path
    if kind == "missing":
        return tmp_path / "nope.yaml"
    path = tmp_path / f"{kind}.yaml"
    if kind == "binary":
        path.write_bytes(b"schema_version: 1\n\x00\x01\x02\xff")
    elif kind == "invalid-utf8":
        path.write_bytes(b"schema_version: 1\ncurrency: US\xffD\n")
    elif kind == "latin-1":
        path.write_bytes(SHIPPED_TEXT.replace("≤", "").encode("utf-8") + "# café\n".encode("latin-1"))
    return path


SPECIAL = [
    ("fifo", "it is a FIFO (named pipe), not a regular file"),
    ("dev-zero", "it is a character device, not a regular file"),
    ("symlink-to-dev-zero", "it is a character device, not a regular file"),
    ("directory", "it is a directory, not a regular file"),
    ("missing", "cannot read the price table (No such file or directory)"),
    ("binary", "it is a binary file, not YAML text"),
    ("invalid-utf8", ":2: the price table is not UTF-8 text (byte 0xff at column 13)"),
    ("latin-1", "is not UTF-8 text (byte 0xe9"),
]


@pytest.mark.parametrize(("kind", "expected"), SPECIAL, ids=[s[0] for s in SPECIAL])
def test_special_file_is_refused_without_reading_it(tmp_path: Path, kind: str, expected: str) -> None:
    path = _special(kind, tmp_path)
    with pytest.raises(PriceTableError) as caught:
        load_price_table(path)
    message = str(caught.value)
    assert expected in message and str(path) in message and "\n" not in message


@pytest.mark.parametrize(("kind", "expected"), SPECIAL, ids=[s[0] for s in SPECIAL])
def test_cli_exits_2_with_one_error_line(tmp_path: Path, kind: str, expected: str) -> None:
    path = _special(kind, tmp_path)
    for argv in (["--table", str(path), "list"], ["show", "opus-5-5", "--table", str(path)]):
        code, out, err = run(*argv)
        assert code == 2 and out == ""
        assert err.startswith("error: ") and err.count("error:") == 1 and expected in err
        assert "Traceback" not in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_the_real_process_neither_hangs_nor_tracebacks(tmp_path: Path, kind: str) -> None:
    path = _special(kind, tmp_path)
    completed = subprocess.run(
        [sys.executable, "-m", "pricing", "--table", str(path), "list"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        check=False,
    )
    assert completed.returncode == 2 and completed.stdout == ""
    assert completed.stderr.startswith("error: ") and "Traceback" not in completed.stderr


def test_reads_are_bounded_by_bytes_read_not_by_the_size_the_file_claims() -> None:
    status = Path("/proc/self/status")  # a regular file whose st_size is 0 but whose content is not
    assert status.stat().st_size == 0
    with pytest.raises(PriceTableError, match="more than 10 bytes is too large"):
        read_regular_file(status, limit=10)


def test_too_large_table_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_bytes(b"#" * (MAX_TABLE_BYTES + 1))
    code, _, err = run("--table", str(path), "list")
    assert code == 2 and "too large for a price table" in err


@pytest.mark.parametrize("mutation", MUTATIONS[:12], ids=[m[0] for m in MUTATIONS[:12]])
def test_cli_with_a_mutated_table_exits_2(tmp_path: Path, mutation: tuple[str, str, str, str, bool]) -> None:
    _, old, new, expected, _ = mutation
    path = tmp_path / "mutated.yaml"
    path.write_text(_edited(old, new), encoding="utf-8")
    code, out, err = run("--table", str(path), "list")
    assert code == 2 and out == "" and err.startswith("error: ") and expected in err
    assert len(err.splitlines()) == 1 and "Traceback" not in err


# --- argparse: no abbreviations ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["list", "--al"],
        ["list", "--as", "2026-01-01"],
        ["list", "--form", "json"],
        ["--tab", "x.yaml", "list"],
        ["show", "opus-5-5", "--for", "json"],
        ["crosscheck", "--again", "litellm"],
        ["export", "--out", "x.json"],
    ],
)
def test_abbreviated_options_are_refused(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        run(*argv)
    assert caught.value.code == 2


# --- packaging: the shipped table is a package resource ---------------------------------------------------------


def test_default_table_is_the_package_resource() -> None:
    resource = importlib.resources.files("pricing") / "prices.yaml"
    assert Path(str(resource)) == DEFAULT_TABLE_PATH
    assert resource.read_text(encoding="utf-8") == SHIPPED_TEXT


def test_default_table_loads_from_any_working_directory(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-c", "from pricing import load_price_table; print(len(load_price_table().models))"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == str(len(load_price_table().models))
