"""Images and PDFs in a prompt, counted offline: sizes read from the file headers, tokens by the documented rules.

Nothing is decoded beyond what the count needs, and no imaging or PDF library is used:

- an image's size comes from the first bytes of its base64 data: PNG (the IHDR chunk), GIF (the logical screen),
  WebP (the VP8, VP8L or VP8X chunk) and JPEG (the first start-of-frame marker, walking the segments before it);
- a PDF's page count comes from its page tree (the root `/Type /Pages` node's `/Count`, else the `/Type /Page`
  objects), looking inside compressed object streams when the pages are not in plain sight; its page size from the
  first `/MediaBox`. Encrypted PDFs are named (the API refuses them).

Tokens follow the model's image rule in the price table (`media.image_rules`): a model's own rule, else its
tokenizer generation's, whose `image_rule_band` lists the other documented rules the count may follow (they widen
the range). Anthropic scales a large image down (aspect kept) to the rule's long edge, then further until it fits
the rule's token cap; the exact resize algorithm is not documented, so a downscaled or capped image is an upper
bound, down to `resized_image_low_ratio` of it (a third-party measurement found 2560×1440 at ~63% of the formula).

A PDF page is billed as its extracted text plus the page rendered as an image. The text is the documented typical
range (1,500 to 3,000 tokens a page; the expected figure is its middle); the page image is sized from the MediaBox
at `pdf_page_px_per_point` (the render resolution is not documented: 1 px per point, 72 dpi, is assumed), and the
high end takes it at the largest cap in play.

Measured on the project's 2-core machine: reading an image header takes ~3 µs (~0.1 ms for a JPEG whose metadata
runs to tens of KB); a 3-page PDF ~15 µs, a 10 MB one ~0.1 s. A PDF's layout is memoized on its text, so a document
repeated on many requests is read once (a repeat costs hashing its text: a few ms for 10 MB).
"""

from __future__ import annotations

import base64
import binascii
import math
import re
import struct
import zlib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from estimator.errors import TokenCountError
from pricing import Model, PriceTable
from pricing.schema import ImageRule

__all__ = [
    "LETTER_PAGE_PT",
    "ImageSize",
    "PdfLayout",
    "TokenRange",
    "UnreadableMediaError",
    "image_rules_for",
    "image_size",
    "image_token_range",
    "image_tokens",
    "pdf_layout",
    "pdf_token_range",
]

LETTER_PAGE_PT = (Decimal(612), Decimal(792))
"""US Letter in PDF points, assumed for a PDF whose page size cannot be found."""

_MAX_HEADER_BYTES = 1 << 21
"""A JPEG's start-of-frame marker comes after its metadata segments (EXIF, ICC profiles): 2 MB covers them."""
_MAX_INFLATED_BYTES = 64_000_000
"""Compressed object streams are inflated up to this many bytes in all: a PDF bomb cannot exhaust memory."""
_PDF_CACHE_SIZE = 64


class UnreadableMediaError(TokenCountError):
    """An image or PDF whose size or pages cannot be read from its data; the message says why."""


@dataclass(frozen=True, slots=True)
class ImageSize:
    width_px: int
    height_px: int
    format: str
    """png, jpeg, gif or webp: what the header says, whatever media_type the request declares."""


@dataclass(frozen=True, slots=True)
class PdfLayout:
    pages: int
    page_width_pt: Decimal
    page_height_pt: Decimal
    page_size_found: bool
    """False: no MediaBox was found and US Letter is assumed."""


@dataclass(frozen=True, slots=True)
class TokenRange:
    low_tokens: int
    expected_tokens: int
    high_tokens: int

    def __add__(self, other: TokenRange) -> TokenRange:
        return TokenRange(
            self.low_tokens + other.low_tokens,
            self.expected_tokens + other.expected_tokens,
            self.high_tokens + other.high_tokens,
        )

    def times(self, count: int) -> TokenRange:
        return TokenRange(self.low_tokens * count, self.expected_tokens * count, self.high_tokens * count)


# --- image headers ----------------------------------------------------------------------------------------


def image_size(data: str) -> ImageSize:
    """The pixel size of a base64-encoded PNG, JPEG, GIF or WebP image, from its header only."""
    reader = _Base64Prefix(data)
    head = reader.bytes_up_to(32)
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return _sized("png", *_png_size(head))
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return _sized("gif", *struct.unpack("<HH", _need(head, 6, 4)))
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return _sized("webp", *_webp_size(head))
    if head[:3] == b"\xff\xd8\xff":
        return _sized("jpeg", *_jpeg_size(reader))
    raise UnreadableMediaError("not a PNG, JPEG, GIF or WebP image (its first bytes match none of them)")


def _sized(kind: str, width: int, height: int) -> ImageSize:
    if width <= 0 or height <= 0:
        raise UnreadableMediaError(f"the {kind.upper()} header gives a size of {width}×{height} px")
    return ImageSize(width, height, kind)


def _need(data: bytes, start: int, count: int) -> bytes:
    if len(data) < start + count:
        raise UnreadableMediaError("the image data ends inside its header")
    return data[start : start + count]


def _png_size(head: bytes) -> tuple[int, int]:
    if _need(head, 12, 4) != b"IHDR":
        raise UnreadableMediaError("a PNG whose first chunk is not IHDR")
    width, height = struct.unpack(">II", _need(head, 16, 8))
    return int(width), int(height)


def _webp_size(head: bytes) -> tuple[int, int]:
    chunk = _need(head, 12, 4)
    if chunk == b"VP8 ":
        if _need(head, 23, 3) != b"\x9d\x01\x2a":
            raise UnreadableMediaError("a lossy WebP without its frame start code")
        width, height = struct.unpack("<HH", _need(head, 26, 4))
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L":
        if _need(head, 20, 1) != b"\x2f":
            raise UnreadableMediaError("a lossless WebP without its signature byte")
        bits = int.from_bytes(_need(head, 21, 4), "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        return int.from_bytes(_need(head, 24, 3), "little") + 1, int.from_bytes(_need(head, 27, 3), "little") + 1
    raise UnreadableMediaError(f"a WebP image with an unknown first chunk {chunk!r}")


# Start-of-frame markers carry the size; C4 (Huffman tables), C8 (reserved) and CC (arithmetic coding) do not.
_JPEG_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD9)})  # TEM, RST0-7, SOI: no length field


def _jpeg_size(reader: _Base64Prefix) -> tuple[int, int]:
    position = 2
    while position < _MAX_HEADER_BYTES:
        data = reader.bytes_up_to(position + 9)
        if len(data) < position + 2:
            break
        if data[position] != 0xFF:
            raise UnreadableMediaError(f"a JPEG with no segment marker at byte {position:,}")
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte before a marker
            position += 1
            continue
        if marker in _JPEG_STANDALONE:
            position += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image, start of scan: no frame header before the pixels
            break
        if len(data) < position + 4:
            break
        if marker in _JPEG_SOF:
            height, width = struct.unpack(">HH", _need(data, position + 5, 4))
            return width, height
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        position += 2 + length
    raise UnreadableMediaError("a JPEG whose frame header (its size) was not found")


class _Base64Prefix:
    """Decodes only as much of a base64 string as is asked for (whitespace, as in wrapped base64, is skipped)."""

    def __init__(self, data: str) -> None:
        self._data = data
        self._decoded = b""
        self._pending = ""
        self._chars_used = 0

    def bytes_up_to(self, count: int) -> bytes:
        while len(self._decoded) < count and self._chars_used < len(self._data):
            wanted = max(count - len(self._decoded), 4096)
            chunk = self._data[self._chars_used : self._chars_used + wanted * 4 // 3 + 8]
            self._chars_used += len(chunk)
            if any(blank in chunk for blank in _BASE64_BLANKS):
                chunk = "".join(chunk.split())
            self._pending += chunk
            usable = len(self._pending) if self._chars_used >= len(self._data) else len(self._pending) // 4 * 4
            try:
                self._decoded += base64.b64decode(self._pending[:usable], validate=True)
            except (binascii.Error, ValueError):
                raise UnreadableMediaError("the data is not valid base64") from None
            self._pending = self._pending[usable:]
        return self._decoded


_BASE64_BLANKS = (" ", "\n", "\r", "\t")


# --- PDFs ---------------------------------------------------------------------------------------------------

_PDF_PAGE = re.compile(rb"/Type\s*/Page(?![A-Za-z])")
# The innermost dictionaries that say /Type /Pages: their /Count is the number of pages below them.
_PDF_PAGES_DICT = re.compile(rb"<<(?:(?!<<|>>).)*?/Type\s*/Pages(?![A-Za-z])(?:(?!<<|>>).)*>>", re.DOTALL)
_PDF_COUNT = re.compile(rb"/Count\s+(\d{1,9})")
_PDF_MEDIA_BOX = re.compile(rb"/MediaBox\s*\[\s*([-+\d.]+)\s+([-+\d.]+)\s+([-+\d.]+)\s+([-+\d.]+)\s*\]")
_PDF_OBJECT_STREAM = re.compile(rb"/Type\s*/ObjStm")
_PDF_STREAM_START = re.compile(rb"stream\r?\n")

_pdf_cache: dict[tuple[int, int], PdfLayout] = {}


def pdf_layout(data: str) -> PdfLayout:
    """Pages and page size of a base64-encoded PDF (memoized: a batch often repeats one document)."""
    key = (len(data), hash(data))
    cached = _pdf_cache.get(key)
    if cached is not None:
        return cached
    try:
        raw = base64.b64decode(data, validate=False)
    except (binascii.Error, ValueError):
        raise UnreadableMediaError("the data is not valid base64") from None
    layout = _read_pdf(raw)
    if len(_pdf_cache) >= _PDF_CACHE_SIZE:
        _pdf_cache.clear()
    _pdf_cache[key] = layout
    return layout


def _read_pdf(raw: bytes) -> PdfLayout:
    if b"%PDF-" not in raw[:1024]:
        raise UnreadableMediaError("not a PDF (no %PDF- header)")
    if re.search(rb"/Encrypt\s*\d+\s+\d+\s+R", raw[-4096:]) or re.search(rb"trailer\s*<<[^>]*/Encrypt", raw):
        raise UnreadableMediaError("an encrypted PDF: the API does not accept encrypted or password-protected PDFs")
    texts = [raw]
    pages = _page_count(texts)
    if pages == 0:
        texts += _object_streams(raw)
        pages = _page_count(texts)
    if pages == 0:
        raise UnreadableMediaError("a PDF whose page tree could not be read (no /Type /Pages or /Type /Page)")
    width, height, found = _page_size(texts)
    return PdfLayout(pages, width, height, found)


def _page_count(texts: list[bytes]) -> int:
    roots = [
        int(count) for text in texts for node in _PDF_PAGES_DICT.findall(text) for count in _PDF_COUNT.findall(node)
    ]
    if roots:
        return max(roots)
    return sum(len(_PDF_PAGE.findall(text)) for text in texts)


def _object_streams(raw: bytes) -> list[bytes]:
    """The inflated content of the PDF's object streams, where PDF 1.5+ files may keep their page tree."""
    found: list[bytes] = []
    budget = _MAX_INFLATED_BYTES
    for match in _PDF_OBJECT_STREAM.finditer(raw):
        start = _PDF_STREAM_START.search(raw, match.end(), match.end() + 4096)
        if start is None:
            continue
        inflater = zlib.decompressobj()
        try:
            body = inflater.decompress(raw[start.end() : start.end() + budget], budget)
        except zlib.error:
            continue
        found.append(body)
        budget -= len(body)
        if budget <= 0:
            break
    return found


def _page_size(texts: list[bytes]) -> tuple[Decimal, Decimal, bool]:
    for text in texts:
        match = _PDF_MEDIA_BOX.search(text)
        if match is None:
            continue
        try:
            x1, y1, x2, y2 = (Decimal(value.decode("ascii")) for value in match.groups())
        except (InvalidOperation, UnicodeDecodeError):
            continue
        width, height = abs(x2 - x1), abs(y2 - y1)
        if 0 < width < 100_000 and 0 < height < 100_000:  # a PDF page is at most 200 inches
            return width, height, True
    return LETTER_PAGE_PT[0], LETTER_PAGE_PT[1], False


# --- tokens ---------------------------------------------------------------------------------------------------


def image_tokens(width_px: int, height_px: int, rule: ImageRule) -> tuple[int, bool]:
    """Tokens of an image by `rule`, and whether it is large: downscaled, or at the cap (the figure is then an
    upper bound: the one large image measured, 2560×1440 at the high-resolution cap, counted 63% of it).

    The scale keeps the aspect: first to the rule's long edge, then further until the count fits the cap."""
    if width_px <= 0 or height_px <= 0:
        raise UnreadableMediaError(f"an image of {width_px}×{height_px} px")
    scale = min(Fraction(1), Fraction(rule.long_edge_px, max(width_px, height_px)))
    if rule.formula == "pixel_area":
        per_token = rule.pixels_per_token or 1
        tokens = math.ceil(width_px * height_px * scale * scale / per_token)
        if tokens >= rule.cap_tokens:
            return rule.cap_tokens, True  # scaled to exactly the cap (the area scales continuously)
        return tokens, scale < 1
    patch = rule.patch_px or 1
    tokens = _patches(width_px, height_px, scale, patch)
    if tokens <= rule.cap_tokens:
        return tokens, scale < 1 or tokens == rule.cap_tokens
    # The count is a step function of the scale, stepping where a side crosses a whole number of patches:
    # the largest scale that fits the cap is one of those steps.
    steps = {
        Fraction(patch * k, side) for side in (width_px, height_px) for k in range(1, rule.long_edge_px // patch + 2)
    }
    for candidate in sorted((s for s in steps if s < scale), reverse=True):
        tokens = _patches(width_px, height_px, candidate, patch)
        if tokens <= rule.cap_tokens:
            return tokens, True
    return 1, True


def _patches(width_px: int, height_px: int, scale: Fraction, patch: int) -> int:
    return math.ceil(width_px * scale / patch) * math.ceil(height_px * scale / patch)


def image_rules_for(model: Model, table: PriceTable) -> tuple[ImageRule, tuple[ImageRule, ...]]:
    """The rule that gives the expected count for `model`, and the other documented rules that bound its range
    (none when the model has a rule of its own)."""
    rules = table.data.media.image_rules
    if model.image_rule is not None:
        return rules[model.image_rule], ()
    calibration = table.tokenizer(model)
    return rules[calibration.image_rule], tuple(rules[name] for name in calibration.image_rule_band)


def image_token_range(width_px: int, height_px: int, model: Model, table: PriceTable) -> TokenRange:
    """An image's tokens for `model`: the expected rule's count, bracketed by the band's rules and, for a
    downscaled or capped image, by `resized_image_low_ratio` below it."""
    expected_rule, band = image_rules_for(model, table)
    ratio = table.data.media.resized_image_low_ratio
    lows, highs = [], []
    expected = 0
    for index, rule in enumerate((expected_rule, *band)):
        tokens, resized = image_tokens(width_px, height_px, rule)
        if index == 0:
            expected = tokens
        lows.append(int(tokens * ratio) if resized else tokens)
        highs.append(tokens)
    return TokenRange(min(lows), expected, max(highs))


def pdf_token_range(layout: PdfLayout, model: Model, table: PriceTable) -> TokenRange:
    """A PDF's tokens for `model`: per page, the documented text range plus the page image."""
    media = table.data.media
    low_text, high_text = media.pdf_text_tokens_per_page_low, media.pdf_text_tokens_per_page_high
    width = max(1, int(layout.page_width_pt * media.pdf_page_px_per_point))
    height = max(1, int(layout.page_height_pt * media.pdf_page_px_per_point))
    image = image_token_range(width, height, model, table)
    expected_rule, band = image_rules_for(model, table)
    largest_cap = max(rule.cap_tokens for rule in (expected_rule, *band))
    page = TokenRange(
        low_text + image.low_tokens, (low_text + high_text) // 2 + image.expected_tokens, high_text + largest_cap
    )
    return page.times(layout.pages)
