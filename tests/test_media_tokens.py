"""Images and PDFs counted offline (issue 15): sizes from headers, tokens by each model generation's documented rule,
PDFs as text plus a page image per page, and the dry run and `count` no longer treating them as zero.

Every figure is worked out by hand here from the rule values in the price table (usage-and-billing.md §4.2-4.3)."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import math
import struct
import zlib
from decimal import Decimal
from typing import Any

import pytest

from estimator.batches.dry_run import analyze_batch_file
from estimator.tokens.anatomy import flatten_request
from estimator.tokens.counting import count_request
from estimator.tokens.media import (
    ImageSize,
    PdfLayout,
    UnreadableMediaError,
    image_size,
    image_token_range,
    image_tokens,
    pdf_layout,
    pdf_token_range,
)
from estimator.tokens.offline import cl100k_token_count
from pricing import PriceTable

DAY = dt.date(2026, 11, 25)
MTOK = Decimal(1_000_000)


# --- files built here, byte by byte -------------------------------------------------------------------------


def png(width: int, height: int) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + header + b"\x00\x00\x00\x00" + b"\x00" * 64


def gif(width: int, height: int) -> bytes:
    return b"GIF89a" + struct.pack("<HH", width, height) + b"\x00" * 32


def jpeg(width: int, height: int, exif_bytes: int = 3000) -> bytes:
    # SOI, an APP1 (EXIF) segment the reader must skip, then SOF0 with the size, then the start of scan.
    app1 = b"\xff\xe1" + struct.pack(">H", exif_bytes + 2) + b"E" * exif_bytes
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 17, 8, height, width, 3) + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    return b"\xff\xd8" + app1 + sof0 + b"\xff\xda" + b"\x00" * 16


def webp(kind: str, width: int, height: int) -> bytes:
    if kind == "VP8 ":
        body = b"\x00\x00\x00" + b"\x9d\x01\x2a" + struct.pack("<HH", width, height)
    elif kind == "VP8L":
        bits = (width - 1) | ((height - 1) << 14)
        body = b"\x2f" + bits.to_bytes(4, "little")
    else:
        body = b"\x00\x00\x00\x00" + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    chunk = kind.encode() + struct.pack("<I", len(body)) + body + b"\x00" * 16
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def pdf(pages: int, *, media_box: str = "0 0 612 792") -> bytes:
    """A minimal valid PDF (catalog, page tree, pages with text, cross-reference table)."""
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(pages))
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {pages} /MediaBox [{media_box}] >>",
    ]
    for i in range(pages):
        stream = f"BT /F1 12 Tf 72 720 Td (Page {i + 1}) Tj ET"
        objects.append(f"<< /Type /Page /Parent 2 0 R /Contents {4 + 2 * i} 0 R >>")
        objects.append(f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream")
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def pdf_with_object_stream(pages: int) -> bytes:
    """PDF 1.5: the catalog, page tree and pages live in a compressed object stream, out of plain sight."""
    kids = " ".join(f"{3 + i} 0 R" for i in range(pages))
    bodies = [b"<< /Type /Catalog /Pages 2 0 R >>", f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode()]
    bodies += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"] * pages
    offsets, data = [], b""
    for body in bodies:
        offsets.append(len(data))
        data += body + b" "
    header = " ".join(f"{n} {o}" for n, o in zip(range(1, len(bodies) + 1), offsets, strict=True)).encode() + b" "
    packed = zlib.compress(header + data)
    stream = f"<< /Type /ObjStm /N {len(bodies)} /First {len(header)} /Filter /FlateDecode /Length {len(packed)} >>"
    return b"%PDF-1.5\n" + f"{len(bodies) + 1} 0 obj\n{stream}\nstream\n".encode() + packed + b"\nendstream\nendobj\n"


# --- headers --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (png(1920, 1080), ImageSize(1920, 1080, "png")),
        (gif(640, 480), ImageSize(640, 480, "gif")),
        (jpeg(4032, 3024), ImageSize(4032, 3024, "jpeg")),
        (jpeg(800, 600, exif_bytes=60_000), ImageSize(800, 600, "jpeg")),  # past the first decoded window
        (webp("VP8 ", 1024, 768), ImageSize(1024, 768, "webp")),
        (webp("VP8L", 300, 200), ImageSize(300, 200, "webp")),
        (webp("VP8X", 5000, 3000), ImageSize(5000, 3000, "webp")),
    ],
    ids=["png", "gif", "jpeg", "jpeg-big-exif", "webp-lossy", "webp-lossless", "webp-extended"],
)
def test_image_size_comes_from_the_header(data: bytes, expected: ImageSize) -> None:
    assert image_size(b64(data)) == expected


def test_wrapped_base64_is_read_too() -> None:
    text = b64(jpeg(1200, 900))
    wrapped = "\n".join(text[i : i + 76] for i in range(0, len(text), 76))
    assert image_size(wrapped) == ImageSize(1200, 900, "jpeg")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ("iVBORw0KGgo=", "ends inside its header"),  # a PNG signature and nothing more
        (b64(b"hello, this is not an image at all"), "not a PNG, JPEG, GIF or WebP"),
        ("@@not base64@@", "not valid base64"),
        (b64(b"\xff\xd8\xff\xda" + b"\x00" * 64), "frame header"),  # a JPEG whose scan starts before any SOF
        (b64(png(0, 10)), "0×10"),
    ],
    ids=["truncated-png", "text", "bad-base64", "jpeg-without-sof", "zero-width"],
)
def test_unreadable_images_say_why(data: str, reason: str) -> None:
    with pytest.raises(UnreadableMediaError, match=reason):
        image_size(data)


# --- image tokens by rule, by hand --------------------------------------------------------------------------


def test_documented_examples_per_rule(table: PriceTable) -> None:
    rules = table.data.media.image_rules
    area, standard, high_res = rules["area_750"], rules["patches_standard"], rules["patches_high_res"]
    assert (area.pixels_per_token, area.long_edge_px, area.cap_tokens) == (750, 1568, 1600)
    assert (standard.patch_px, standard.long_edge_px, standard.cap_tokens) == (28, 1568, 1568)
    assert (high_res.patch_px, high_res.long_edge_px, high_res.cap_tokens) == (28, 2576, 4784)
    # Older docs: 200×200 ≈ 54, 1000×1000 ≈ 1,334, 1092×1092 ≈ 1,590 (w × h / 750, rounded up).
    assert image_tokens(200, 200, area) == (math.ceil(200 * 200 / 750), False) == (54, False)
    assert image_tokens(1000, 1000, area) == (1334, False)
    assert image_tokens(1092, 1092, area) == (1590, False)
    # 2026 docs: 1000×1000 → ⌈1000/28⌉² = 36² = 1,296 on either tier.
    assert image_tokens(1000, 1000, standard) == image_tokens(1000, 1000, high_res) == (36 * 36, False)
    # 1920×1080, high-res tier: no resize (1920 ≤ 2576), ⌈1920/28⌉ × ⌈1080/28⌉ = 69 × 39 = 2,691 ≤ 4,784.
    assert image_tokens(1920, 1080, high_res) == (69 * 39, False) == (2691, False)
    # Standard tier: scaled to 1568 × 882, 56 × 32 = 1,792 patches > 1,568, so shrunk further; the largest fit is
    # 52 columns (1456 px wide, 819 px high → 30 rows): 1,560, the documented figure.
    assert image_tokens(1920, 1080, standard) == (52 * 30, True) == (1560, True)
    # Sonnet 5.5 guide: 2000×1500 costs ~2.5x as much on the high-res tier: 72 × 54 = 3,888 against the standard
    # tier's 1,564 (34 rows at scale 28·34/1500 make 1269 px → 46 columns; 35 rows would need 1,610).
    assert image_tokens(2000, 1500, high_res) == (72 * 54, False)
    assert image_tokens(2000, 1500, standard) == (46 * 34, True)
    # At the cap: an upper bound (2560×1440 → 92 × 52 = 4,784; measured ~2,992 by a third party).
    assert image_tokens(2560, 1440, high_res) == (4784, True)
    # The old rule's cap: 1920×1080 at 1568 px is 1568 × 882 = 1,844 tokens > 1,600: shrunk to the cap.
    assert image_tokens(1920, 1080, area) == (1600, True)


@pytest.mark.parametrize(
    ("model_id", "expected"),
    [
        # Legacy generation: w × h / 750 expected; today's patch rule (standard tier) widens the range.
        ("claude-sonnet-4-6", (1296, 1334, 1334)),
        # Opus 4.7: the high-res tier is confirmed for it: a point.
        ("claude-opus-4-7", (1296, 1296, 1296)),
        # Haiku 5.5: the 2026 generation's rule (high-res) with the standard tier as the band: same for this size.
        ("claude-haiku-5-5", (1296, 1296, 1296)),
    ],
)
def test_an_image_of_known_size_on_each_generation(table: PriceTable, model_id: str, expected: tuple[int, ...]) -> None:
    found = image_token_range(1000, 1000, table.model(model_id), table)
    assert (found.low_tokens, found.expected_tokens, found.high_tokens) == expected


def test_a_large_image_is_an_upper_bound_with_a_band(table: PriceTable) -> None:
    ratio = table.data.media.resized_image_low_ratio
    haiku = image_token_range(1920, 1080, table.model("claude-haiku-5-5"), table)
    # Expected: high-res 2,691 (not resized); low: the standard tier's 1,560, resized, × the low ratio.
    assert (haiku.low_tokens, haiku.expected_tokens, haiku.high_tokens) == (int(1560 * ratio), 2691, 2691)
    opus = image_token_range(2560, 1440, table.model("claude-opus-4-7"), table)
    assert (opus.low_tokens, opus.expected_tokens, opus.high_tokens) == (int(4784 * ratio), 4784, 4784)


# --- PDFs -----------------------------------------------------------------------------------------------------


def test_pages_and_page_size_of_a_three_page_pdf() -> None:
    assert pdf_layout(b64(pdf(3))) == PdfLayout(3, Decimal(612), Decimal(792), True)
    assert pdf_layout(b64(pdf_with_object_stream(3))) == PdfLayout(3, Decimal(595), Decimal(842), True)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"just text", "not a PDF"),
        (pdf(2).replace(b"/Root 1 0 R", b"/Root 1 0 R /Encrypt 9 0 R"), "encrypted"),
        (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "page tree"),
    ],
    ids=["not-pdf", "encrypted", "no-pages"],
)
def test_unreadable_pdfs_say_why(data: bytes, reason: str) -> None:
    with pytest.raises(UnreadableMediaError, match=reason):
        pdf_layout(b64(data))


def test_a_three_page_pdf_is_text_plus_a_page_image_per_page(table: PriceTable) -> None:
    media = table.data.media
    low_text, high_text = media.pdf_text_tokens_per_page_low, media.pdf_text_tokens_per_page_high
    assert (low_text, high_text, media.pdf_page_px_per_point) == (1500, 3000, 1)
    found = pdf_token_range(pdf_layout(b64(pdf(3))), table.model("claude-sonnet-4-6"), table)
    # A Letter page at 1 px per point is 612 × 792 px: ⌈612 × 792 / 750⌉ = 647 tokens by the legacy rule, or
    # 22 × 29 = 638 patches by today's; the high end takes the page image at the largest cap in play (1,600).
    assert found.expected_tokens == 3 * ((1500 + 3000) // 2 + 647) == 8691
    assert found.low_tokens == 3 * (1500 + 638) == 6414
    assert found.high_tokens == 3 * (3000 + 1600) == 13800


# --- in requests: anatomy, count, dry run -------------------------------------------------------------------


def image_block(data: bytes, media_type: str = "image/png") -> dict[str, Any]:
    return {"type": "image", "source": {"type": "base64", "media_type": media_type, "data": b64(data)}}


def pdf_block(data: bytes) -> dict[str, Any]:
    return {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": b64(data)}}


def request(model: str, *blocks: dict[str, Any], question: str = "What does this show?") -> dict[str, Any]:
    content = [*blocks, {"type": "text", "text": question}]
    return {"model": model, "max_tokens": 1000, "messages": [{"role": "user", "content": content}]}


def test_sized_media_are_no_longer_uncounted() -> None:
    anatomy = flatten_request(request("claude-opus-4-7", image_block(png(800, 600)), pdf_block(pdf(3))))
    assert [s.media for s in anatomy.segments if s.media is not None] == [
        ImageSize(800, 600, "png"),
        PdfLayout(3, Decimal(612), Decimal(792), True),
    ]
    assert anatomy.uncounted_blocks == {}
    assert anatomy.problems == ()


def test_a_media_type_that_does_not_match_the_data_is_reported() -> None:
    anatomy = flatten_request(request("claude-opus-4-7", image_block(png(80, 60), media_type="image/jpeg")))
    assert anatomy.problems == (
        "messages[0].content[0]: the data is a PNG image but media_type says 'image/jpeg' (the API checks that they "
        "match)",
    )


def test_count_request_adds_the_image_range(table: PriceTable) -> None:
    question = "What does this show?"
    found = count_request(request("claude-sonnet-4-6", image_block(png(1000, 1000)), question=question), table=table)
    text = round(cl100k_token_count(question) * Decimal("1.15"))
    frame = table.message_frame_tokens(table.model("claude-sonnet-4-6"))
    assert found.expected_tokens == text + frame + 1334
    assert any("1 image counted from the size in its header: ~1,334 tokens (1,296–1,334" in n for n in found.notes)


def _dry_run(*params: dict[str, Any], **options: Any) -> Any:
    lines = "".join(json.dumps({"custom_id": f"r{i}", "params": p}) + "\n" for i, p in enumerate(params))
    return analyze_batch_file(io.BytesIO(lines.encode()), as_of=DAY, **options)


@pytest.mark.parametrize(
    ("model_id", "input_rate", "image"),
    [
        ("claude-sonnet-4-6", Decimal(3), 1334),
        ("claude-opus-4-7", Decimal(5), 1296),
        ("claude-haiku-5-5", Decimal("0.10"), 1296),
    ],
)
def test_the_dry_run_prices_an_image_on_each_generation(
    table: PriceTable, model_id: str, input_rate: Decimal, image: int
) -> None:
    question = "What does this show?"
    model = table.model(model_id)
    result = _dry_run(request(model_id, image_block(png(1000, 1000)), question=question))
    (summary,) = result.models
    factor = table.tokenizer(model).cl100k_factor
    text = int((cl100k_token_count(question) * factor).to_integral_value(rounding="ROUND_HALF_UP"))
    tokens = text + table.message_frame_tokens(model) + image
    assert summary.input_tokens_expected == tokens
    assert (summary.media.images, summary.media.image_tokens_expected) == (1, image)
    output_rate = table.prices_as_of(model, DAY).output_mtok
    assert summary.cost("realtime").expected_usd == (tokens * input_rate + 500 * output_rate) / MTOK
    assert not [p for p in result.problems if "not counted offline" in p.message]


def test_the_dry_run_prices_a_three_page_pdf(table: PriceTable) -> None:
    result = _dry_run(request("claude-sonnet-4-6", pdf_block(pdf(3)), question="Summarise."))
    (summary,) = result.models
    assert (summary.media.pdfs, summary.media.pdf_pages) == (1, 3)
    assert (summary.media.pdf_tokens_low, summary.media.pdf_tokens_expected, summary.media.pdf_tokens_high) == (
        6414,
        8691,
        13800,
    )
    # The range of the input holds the PDF's range.
    assert summary.input_tokens_low <= summary.input_tokens_expected - (8691 - 6414)
    assert summary.input_tokens_high >= summary.input_tokens_expected + (13800 - 8691)
    assert any("1 PDF of 3 pages (~8,691 tokens, 6,414–13,800)" in note for note in result.notes)


def test_a_cached_image_belongs_to_its_prefix(table: PriceTable) -> None:
    # A shared 1000×1000 image with a breakpoint after it, on Opus 4.7 (minimum cacheable length 2,048): the image
    # (1,296) and the tool-free frame alone fall short, so enough text goes with it to pass the minimum.
    system = [{"type": "text", "text": "Refer to the chart in every answer. " * 120}]
    shared = {"role": "user", "content": [image_block(png(1000, 1000)), {"type": "text", "text": "Here is the chart.",
              "cache_control": {"type": "ephemeral"}}]}  # fmt: skip
    params = [
        {"model": "claude-opus-4-7", "max_tokens": 100, "system": system,
         "messages": [shared, {"role": "assistant", "content": "Noted."}, {"role": "user", "content": f"Q{i}?"}]}
        for i in range(3)
    ]  # fmt: skip
    (summary,) = _dry_run(*params, hit_rate=1).models
    text = cl100k_token_count(system[0]["text"] + "\nHere is the chart.") * Decimal("1.50")
    prefix = int(text.to_integral_value(rounding="ROUND_HALF_UP")) + 1296
    assert prefix >= 2048
    assert summary.cache_write_tokens == prefix and summary.cache_read_tokens == 2 * prefix


def test_media_by_url_stay_listed_as_not_counted() -> None:
    url_image = {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}}
    result = _dry_run(request("claude-opus-4-7", url_image))
    (note,) = [p for p in result.problems if p.code == "request_note"]
    assert note.message.startswith("image not counted offline (1 per request in 1 request")
