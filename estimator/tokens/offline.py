"""Offline token counts with tiktoken's ``cl100k_base``, loaded from the copy shipped in the package.

Claude's tokenizers are not public. ``cl100k_base`` times a per-generation factor is the calibrated
offline proxy this project uses (legacy ~1.15, 2026 generation ~1.50; non-Latin scripts are
over-counted, which is the safe error for a cost estimate). ``tiktoken.get_encoding`` would download
the ranks at run time and write a cache file; ``load_cl100k`` builds the same encoding from the package
data ``estimator/tokens/data/cl100k_base.tiktoken.gz`` instead, after checking its sha256, with no network
access, no environment variable and no cache writes.

Measured on the project's 2-core machine (tiktoken 0.14.0, Python 3.11, scratch scripts):

- ``load_cl100k``: ~0.13 s once per process (gunzip + sha256 ~10 ms, parsing ~70 ms, building ~50 ms).
- counting: tiktoken releases the GIL while it encodes, but takes it back after every text to build the
  token list, and two threads then spend their time handing the GIL over. ``cl100k_token_counts``
  therefore encodes a chunk of texts in one call: joined by a separator registered as a special token of
  its own, which tiktoken never merges with its neighbours (it encodes the text between special tokens
  piece by piece, exactly as ``encode_ordinary`` would each text), into a buffer of token ids rather
  than a list of Python ints; the counts are the distances between separators. A text that contains the
  separator itself is counted on its own. README "Speed of a maximum-size dry run" has the figures.
- ``non_latin_letter_share``: pure-ASCII text in constant time; English with typographic quotes
  ~290 MB/s; French or Vietnamese ~175-210 MB/s; Cyrillic, Arabic, Chinese, Japanese 65-85 MB/s;
  Devanagari ~30 MB/s (MB of UTF-8 input).

Importing this module stays light: tiktoken is imported on the first ``load_cl100k`` call.
"""

from __future__ import annotations

import base64
import binascii
import functools
import gzip
import hashlib
import importlib.resources
import os
import re
import zlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from estimator.errors import TokenizerDataError

if TYPE_CHECKING:
    import tiktoken

__all__ = [
    "CL100K_DATA_PATH",
    "CL100K_SHA256",
    "cl100k_token_count",
    "cl100k_token_counts",
    "load_cl100k",
    "non_latin_letter_share",
]

# Package data, found through importlib.resources so that an installed wheel works from any directory.
CL100K_DATA_PATH = Path(str(importlib.resources.files("estimator.tokens") / "data" / "cl100k_base.tiktoken.gz"))
# sha256 of the decompressed file, the same value tiktoken checks after downloading it.
CL100K_SHA256 = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"

# Pattern and special tokens copied from tiktoken_ext/openai_public.py (tiktoken 0.14.0).
_CL100K_PAT_STR = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|"""
    r"""\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)
_CL100K_SPECIAL_TOKENS = {
    "<|endoftext|>": 100257,
    "<|fim_prefix|>": 100258,
    "<|fim_middle|>": 100259,
    "<|fim_suffix|>": 100260,
    "<|endofprompt|>": 100276,
}

# A task per chunk of texts instead of per text keeps the thread-pool overhead negligible
# when a batch file yields hundreds of thousands of short texts.
_CHUNK_CHARS = 1 << 20
_CHUNK_TEXTS = 2048

# Joins the texts of a chunk for one encoding call; a special token of this encoding only (never produced by
# encode_ordinary, whose counts stay tiktoken's). Its id follows cl100k's last special token (100276); its little-
# endian bytes can only be found at a token boundary, since every cl100k id is below 2**17.
_SEPARATOR = "\U000f8000<|claude-cost-planner: separator|>\U000f8000"
_SEPARATOR_ID = 100_300
_SEPARATOR_BYTES = _SEPARATOR_ID.to_bytes(4, "little")
_SEPARATOR_ONLY = frozenset({_SEPARATOR})

_RESTORE_HINT = (
    "it ships with the package (estimator/tokens/data/cl100k_base.tiktoken.gz, from tiktoken's public "
    "cl100k_base); reinstall the package, or in a checkout `git checkout -- estimator/tokens/data`"
)


@functools.cache
def load_cl100k() -> tiktoken.Encoding:
    """Build the ``cl100k_base`` encoding from the shipped data file (cached per process).

    Raises TokenizerDataError when the file is missing, unreadable or fails its sha256 check.
    """
    import tiktoken

    ranks = _read_ranks(CL100K_DATA_PATH)
    return tiktoken.Encoding(
        name="cl100k_base",
        pat_str=_CL100K_PAT_STR,
        mergeable_ranks=ranks,
        special_tokens={**_CL100K_SPECIAL_TOKENS, _SEPARATOR: _SEPARATOR_ID},
    )


def cl100k_token_count(text: str) -> int:
    """cl100k_base tokens in ``text``; special-token text such as ``<|endoftext|>`` counts as text."""
    return len(load_cl100k().encode_ordinary(text))


def cl100k_token_counts(texts: Sequence[str], *, num_threads: int | None = None) -> list[int]:
    """cl100k_base tokens of each text, in order; special-token text counts as ordinary text.

    ``num_threads`` defaults to the number of CPUs this process may use. Raises TokenizerDataError
    when the shipped tokenizer data is unusable.
    """
    if isinstance(texts, str):
        raise TypeError("cl100k_token_counts takes a sequence of texts; use cl100k_token_count for one text")
    thread_count = _resolve_thread_count(num_threads)
    encoding = load_cl100k()
    chunks = _chunk_ranges(texts)
    if thread_count == 1 or len(chunks) <= 1:
        return _count_range(encoding, texts, range(len(texts)))
    with ThreadPoolExecutor(max_workers=min(thread_count, len(chunks))) as pool:
        parts = pool.map(lambda chunk: _count_range(encoding, texts, chunk), chunks)
        return [count for part in parts for count in part]


def non_latin_letter_share(text: str) -> float:
    """Fraction (0..1) of the alphabetic characters of ``text`` that are not in the Latin script.

    "Alphabetic" is ``str.isalpha`` (Unicode letters); "Latin" is the Unicode Script property
    (A-Z, accented letters, Vietnamese, IPA, fullwidth Latin...). Letters of the Common script
    (e.g. Japanese "ー", modifier letters such as "ʻ") count as non-Latin. No letters -> 0.0.
    """
    # O(1) in CPython: compact strings record whether they are ASCII.
    if text.isascii():
        return 0.0
    utf8 = text.encode("utf-8", "surrogatepass")
    ascii_letter_count = len(utf8) - len(utf8.translate(None, _ASCII_LETTER_BYTES))
    # Deleting every ASCII byte leaves whole multi-byte sequences, i.e. valid UTF-8 of exactly the
    # non-ASCII characters; the slower Unicode-aware regexes then only see those.
    non_ascii_utf8 = utf8.translate(None, _ASCII_BYTES)
    non_ascii = non_ascii_utf8.decode("utf-8", "surrogatepass")
    has_astral = any(lead in non_ascii_utf8 for lead in _ASTRAL_LEAD_BYTES)
    patterns = _letter_patterns()
    word_letter_count = _matched_char_count(patterns.word_letter_run, non_ascii)
    latin_letter_count, numeral_count = _latin_and_numeral_counts(non_ascii, patterns.bmp)
    if has_astral:
        astral = "".join(patterns.astral_run.findall(non_ascii))
        astral_latin_count, astral_numeral_count = _latin_and_numeral_counts(astral, patterns.astral)
        latin_letter_count += astral_latin_count
        numeral_count += astral_numeral_count
    non_ascii_letter_count = word_letter_count - numeral_count
    letter_count = ascii_letter_count + non_ascii_letter_count
    if letter_count == 0:
        return 0.0
    return (non_ascii_letter_count - latin_letter_count) / letter_count


def _read_ranks(path: Path) -> dict[bytes, int]:
    try:
        compressed = path.read_bytes()
    except FileNotFoundError:
        raise TokenizerDataError(f"Tokenizer data file {path} is missing: {_RESTORE_HINT}.") from None
    except OSError as exc:
        raise TokenizerDataError(f"Tokenizer data file {path} cannot be read ({exc}): {_RESTORE_HINT}.") from exc
    try:
        contents = gzip.decompress(compressed)
    except (OSError, EOFError, zlib.error) as exc:
        raise TokenizerDataError(
            f"Tokenizer data file {path} is not a valid gzip file ({exc}): {_RESTORE_HINT}."
        ) from exc
    actual_sha256 = hashlib.sha256(contents).hexdigest()
    if actual_sha256 != CL100K_SHA256:
        raise TokenizerDataError(
            f"Tokenizer data file {path} fails its hash check (sha256 {actual_sha256}, expected "
            f"{CL100K_SHA256}); the file is corrupted or was replaced: {_RESTORE_HINT}."
        )
    return _parse_ranks(contents, path)


def _parse_ranks(contents: bytes, path: Path) -> dict[bytes, int]:
    ranks: dict[bytes, int] = {}
    for line in contents.splitlines():
        if not line:
            continue
        try:
            token_b64, rank = line.split()
            ranks[base64.b64decode(token_b64, validate=True)] = int(rank)
        except (ValueError, binascii.Error) as exc:
            # Unreachable once the hash matched; kept so a wrong constant cannot yield a bad encoding.
            raise TokenizerDataError(f"Tokenizer data file {path} has a malformed line {line[:80]!r}.") from exc
    return ranks


def _resolve_thread_count(num_threads: int | None) -> int:
    if num_threads is None:
        return _usable_cpu_count()
    if isinstance(num_threads, bool) or not isinstance(num_threads, int) or num_threads < 1:
        raise ValueError(f"num_threads must be a positive integer or None, got {num_threads!r}")
    return num_threads


def _usable_cpu_count() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not available on macOS and Windows
        return max(1, os.cpu_count() or 1)


def _chunk_ranges(texts: Sequence[str]) -> list[range]:
    """Split indices into contiguous ranges of about _CHUNK_CHARS characters or _CHUNK_TEXTS texts."""
    ranges: list[range] = []
    start = 0
    chunk_chars = 0
    for index, text in enumerate(texts):
        chunk_chars += len(text)
        if chunk_chars >= _CHUNK_CHARS or index + 1 - start >= _CHUNK_TEXTS:
            ranges.append(range(start, index + 1))
            start = index + 1
            chunk_chars = 0
    if start < len(texts):
        ranges.append(range(start, len(texts)))
    return ranges


def _count_range(encoding: tiktoken.Encoding, texts: Sequence[str], indices: range) -> list[int]:
    chunk = [texts[index] for index in indices]
    to_buffer = getattr(getattr(encoding, "_core_bpe", None), "encode_to_tiktoken_buffer", None)
    if not chunk or to_buffer is None or any(_SEPARATOR in text for text in chunk):
        return _one_by_one(encoding, chunk)
    try:
        # Only the separator is allowed as a special token: "<|endoftext|>" in a text is encoded as text.
        tokens = memoryview(to_buffer(_SEPARATOR.join(chunk), _SEPARATOR_ONLY)).tobytes()
    except UnicodeEncodeError:  # lone surrogates: encode_ordinary knows how to mend them, text by text
        return _one_by_one(encoding, chunk)
    counts = []
    start = 0
    for _ in range(len(chunk) - 1):
        at = tokens.find(_SEPARATOR_BYTES, start)
        if at < 0:  # cannot happen (one separator between texts, none inside): count the safe way
            return _one_by_one(encoding, chunk)
        counts.append((at - start) // 4)
        start = at + 4
    counts.append((len(tokens) - start) // 4)
    return counts


def _one_by_one(encoding: tiktoken.Encoding, chunk: list[str]) -> list[int]:
    # encode_ordinary, not encode: user text containing "<|endoftext|>" must count, not raise.
    encode_ordinary = encoding.encode_ordinary
    return [len(encode_ordinary(text)) for text in chunk]


_ASCII_BYTES = bytes(range(128))
_ASCII_LETTER_BYTES = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

# Non-ASCII alphabetic characters of the Latin script, and the numerals that `re` counts as word
# characters but str.isalpha does not (², ½, Ⅻ, ①, 〇 ...), from Python 3.11's Unicode 14 data.
# tests/test_offline_tokens.py regenerates both sets (Latin from `regex`'s \p{Script=Latin}) and
# fails when a newer Python's Unicode data disagrees. They are split at U+FFFF because `re` compiles
# a BMP-only class to a lookup table but tests astral ranges one by one (measured 10x slower).
_LATIN_LETTERS_BMP = (
    "\u00aa\u00ba\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02b8\u02e0-\u02e4\u1d00-\u1d25\u1d2c-\u1d5c"
    "\u1d62-\u1d65\u1d6b-\u1d77\u1d79-\u1dbe\u1e00-\u1eff\u2071\u207f\u2090-\u209c\u212a-\u212b\u2132"
    "\u214e\u2183-\u2184\u2c60-\u2c7f\ua722-\ua787\ua78b-\ua7ca\ua7d0-\ua7d1\ua7d3\ua7d5-\ua7d9"
    "\ua7f2-\ua7ff\uab30-\uab5a\uab5c-\uab64\uab66-\uab69\ufb00-\ufb06\uff21-\uff3a\uff41-\uff5a"
)
_LATIN_LETTERS_ASTRAL = "\U00010780-\U00010785\U00010787-\U000107b0\U000107b2-\U000107ba\U0001df00-\U0001df1e"
_NUMERALS_BMP = (
    "\u00b2-\u00b3\u00b9\u00bc-\u00be\u09f4-\u09f9\u0b72-\u0b77\u0bf0-\u0bf2\u0c78-\u0c7e"
    "\u0d58-\u0d5e\u0d70-\u0d78\u0f2a-\u0f33\u1369-\u137c\u16ee-\u16f0\u17f0-\u17f9\u19da\u2070"
    "\u2074-\u2079\u2080-\u2089\u2150-\u2182\u2185-\u2189\u2460-\u249b\u24ea-\u24ff\u2776-\u2793"
    "\u2cfd\u3007\u3021-\u3029\u3038-\u303a\u3192-\u3195\u3220-\u3229\u3248-\u324f\u3251-\u325f"
    "\u3280-\u3289\u32b1-\u32bf\ua6e6-\ua6ef\ua830-\ua835"
)
_NUMERALS_ASTRAL = (
    "\U00010107-\U00010133\U00010140-\U00010178\U0001018a-\U0001018b\U000102e1-\U000102fb"
    "\U00010320-\U00010323\U00010341\U0001034a\U000103d1-\U000103d5\U00010858-\U0001085f"
    "\U00010879-\U0001087f\U000108a7-\U000108af\U000108fb-\U000108ff\U00010916-\U0001091b"
    "\U000109bc-\U000109bd\U000109c0-\U000109cf\U000109d2-\U000109ff\U00010a40-\U00010a48"
    "\U00010a7d-\U00010a7e\U00010a9d-\U00010a9f\U00010aeb-\U00010aef\U00010b58-\U00010b5f"
    "\U00010b78-\U00010b7f\U00010ba9-\U00010baf\U00010cfa-\U00010cff\U00010e60-\U00010e7e"
    "\U00010f1d-\U00010f26\U00010f51-\U00010f54\U00010fc5-\U00010fcb\U00011052-\U00011065"
    "\U000111e1-\U000111f4\U0001173a-\U0001173b\U000118ea-\U000118f2\U00011c5a-\U00011c6c"
    "\U00011fc0-\U00011fd4\U00012400-\U0001246e\U00016b5b-\U00016b61\U00016e80-\U00016e96"
    "\U0001d2e0-\U0001d2f3\U0001d360-\U0001d378\U0001e8c7-\U0001e8cf\U0001ec71-\U0001ecab"
    "\U0001ecad-\U0001ecaf\U0001ecb1-\U0001ecb4\U0001ed01-\U0001ed2d\U0001ed2f-\U0001ed3d"
    "\U0001f100-\U0001f10c"
)
# UTF-8 lead bytes of 4-byte sequences: a text without them has no astral characters.
_ASTRAL_LEAD_BYTES = (b"\xf0", b"\xf1", b"\xf2", b"\xf3", b"\xf4")


class _LatinNumeralPatterns(NamedTuple):
    latin_or_numeral_run: re.Pattern[str]
    numeral_run: re.Pattern[str]


class _LetterPatterns:
    """Compiled on first use, so importing the module compiles no regex."""

    def __init__(self) -> None:
        # [^\W\d_] = word characters minus digits and underscore: letters plus the numerals above.
        # Matching runs (+) keeps the per-match overhead low, and a category class is much faster
        # in `re` than an explicit list of the ~650 letter ranges.
        self.word_letter_run = re.compile(r"[^\W\d_]+")
        self.astral_run = re.compile("[\U00010000-\U0010ffff]+")
        self.bmp = _LatinNumeralPatterns(
            re.compile(f"[{_LATIN_LETTERS_BMP}{_NUMERALS_BMP}]+"), re.compile(f"[{_NUMERALS_BMP}]+")
        )
        self.astral = _LatinNumeralPatterns(
            re.compile(f"[{_LATIN_LETTERS_ASTRAL}{_NUMERALS_ASTRAL}]+"), re.compile(f"[{_NUMERALS_ASTRAL}]+")
        )


@functools.cache
def _letter_patterns() -> _LetterPatterns:
    return _LetterPatterns()


def _latin_and_numeral_counts(text: str, patterns: _LatinNumeralPatterns) -> tuple[int, int]:
    latin_or_numeral = "".join(patterns.latin_or_numeral_run.findall(text))
    numeral_count = _matched_char_count(patterns.numeral_run, latin_or_numeral)
    return len(latin_or_numeral) - numeral_count, numeral_count


def _matched_char_count(run_pattern: re.Pattern[str], text: str) -> int:
    # Deleting the runs and comparing lengths avoids building one string per match.
    return len(text) - len(run_pattern.sub("", text))
