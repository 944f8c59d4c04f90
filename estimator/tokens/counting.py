"""Claude token counts: offline (calibrated tiktoken cl100k), sampled, or exact (count_tokens).

Claude's tokenizer is not public, so an offline count is an approximation: cl100k_base tokens times the
model's tokenizer-generation factor (legacy ≈ 1.15, the 2026 tokenizer of Opus 4.7 and later ≈ 1.50),
with a band measured against real counts (shared/reference/tokenizers.md; the factors and bands live in
the price table). Every count is a range (low, expected, high) labelled by its source:

- `estimated`: offline, with the measured band (per document, or the tighter whole-file band);
- `sampled`: a random sample counted exactly, the file scaled by the measured ratio, with its 95% error;
- `exact`: Anthropic's free count_tokens endpoint, through the official client, when a key is given.

Text mostly in non-Latin scripts is over-counted offline (up to 1.38x legacy, 1.81x 2026): the range
widens downwards and a note says so. Images and PDFs sent as base64 are counted from their headers by the model's
documented rule (`estimator.tokens.media`), with their own range; media sent by URL or file id are listed as not
counted.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from estimator.errors import TokenCountError
from estimator.tokens.anatomy import RequestAnatomy, flatten_request
from estimator.tokens.media import ImageSize, PdfLayout, TokenRange, image_token_range, pdf_token_range
from estimator.tokens.offline import cl100k_token_counts, non_latin_letter_share
from pricing import Model, PriceTable, TokenizerCalibration, load_price_table

__all__ = [
    "NON_LATIN_NOTE_SHARE",
    "CountSource",
    "FixedTokens",
    "TokenEstimate",
    "calibrated_estimate",
    "count_request",
    "count_text",
    "count_tokens",
    "largest_published_tool_prompt_tokens",
    "request_fixed_tokens",
    "request_text",
]

CountSource = Literal["estimated", "sampled", "exact"]
Band = Literal["document", "file"]

NON_LATIN_NOTE_SHARE = 0.2
"""Above this share of non-Latin letters the offline estimate is flagged as running high."""


@dataclass(frozen=True)
class TokenEstimate:
    low_tokens: int
    expected_tokens: int
    high_tokens: int
    source: CountSource
    detail: str
    notes: tuple[str, ...] = ()

    @property
    def is_exact(self) -> bool:
        return self.source == "exact"

    @property
    def label(self) -> str:
        """`exact`, `sampled ±0.6%` or `estimated` — what a user must know before trusting the number."""
        return self.detail


def _round(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_HALF_UP))


def calibrated_estimate(
    cl100k_tokens: int,
    calibration: TokenizerCalibration,
    *,
    fixed_tokens: int = 0,
    band: Band = "document",
    non_latin_share: float = 0.0,
    notes: Sequence[str] = (),
) -> TokenEstimate:
    """Claude tokens from a cl100k count: expected = cl100k × factor (+ fixed frame / tool tokens), bracketed
    by the measured estimate ÷ actual band. `fixed_tokens` are known exactly and are not scaled."""
    factor = calibration.cl100k_factor
    low_ratio, high_ratio = (
        (calibration.per_document_band_low, calibration.per_document_band_high)
        if band == "document"
        else (calibration.file_total_band_low, calibration.file_total_band_high)
    )
    share = Decimal(str(round(non_latin_share, 4)))
    # Non-Latin text is over-counted: the true count may be as low as estimate ÷ the over-count ratio.
    high_ratio = max(high_ratio, 1 + share * (calibration.non_latin_overcount - 1))
    estimate = Decimal(cl100k_tokens) * factor
    all_notes = list(notes)
    if non_latin_share > NON_LATIN_NOTE_SHARE:
        all_notes.append(
            f"{non_latin_share:.0%} of the letters are in non-Latin scripts: the offline estimate runs high "
            f"(up to {calibration.non_latin_overcount}x on such text)"
        )
    spread = f"−{(1 - 1 / high_ratio) * 100:.0f}%/+{(1 / low_ratio - 1) * 100:.0f}%"
    return TokenEstimate(
        low_tokens=_round(estimate / high_ratio) + fixed_tokens,
        expected_tokens=_round(estimate) + fixed_tokens,
        high_tokens=_round(estimate / low_ratio) + fixed_tokens,
        source="estimated",
        detail=f"estimated offline (cl100k × {factor}; true count likely within {spread})",
        notes=tuple(all_notes),
    )


def count_text(text: str, model: str, *, table: PriceTable | None = None) -> TokenEstimate:
    """Offline estimate of the Claude tokens of plain text for `model` (no message frame added)."""
    if not isinstance(text, str):
        raise TokenCountError(f"text must be a string, got {type(text).__name__}")
    table = table or load_price_table()
    found = table.model(model)
    (count,) = cl100k_token_counts([text])
    return calibrated_estimate(count, table.tokenizer(found), non_latin_share=non_latin_letter_share(text))


def count_tokens(
    content: str | Mapping[str, Any],
    *,
    model: str | None = None,
    use_api: bool = False,
    api_key: str | None = None,
    base_url: str | None = None,
    deadline_s: float | None = None,
    table: PriceTable | None = None,
) -> TokenEstimate:
    """Tokens of plain text, or of one Messages request (a dict, or JSON text with `messages` or `params`).

    Offline by default; with `use_api`, exact via count_tokens (text is sent as one user message), giving up
    after `deadline_s` (default: count_exact's)."""
    request = _request_in(content)
    if request is not None:
        return count_request(
            request,
            model=model,
            use_api=use_api,
            api_key=api_key,
            base_url=base_url,
            deadline_s=deadline_s,
            table=table,
        )
    if not isinstance(content, str):
        raise TokenCountError("content must be text or a Messages request")
    if model is None:
        raise TokenCountError("a model is needed to count plain text: the tokenizer depends on it")
    if use_api:
        message = {"model": model, "messages": [{"role": "user", "content": content}]}
        return count_request(
            message, use_api=True, api_key=api_key, base_url=base_url, deadline_s=deadline_s, table=table
        )
    return count_text(content, model, table=table)


def _request_in(content: str | Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The request in `content`, if it is one: a mapping, or JSON text of an object with messages/params."""
    if isinstance(content, Mapping):
        return content
    stripped = content.strip() if isinstance(content, str) else ""
    if not stripped.startswith("{"):
        return None
    try:
        value = json.loads(stripped)
    except json.JSONDecodeError:
        return None
    except (ValueError, RecursionError) as error:  # too deep, or an integer past Python's digit limit
        raise TokenCountError(f"the JSON cannot be read: {_unreadable(error)}") from None
    return value if isinstance(value, dict) and ("messages" in value or "params" in value) else None


def request_text(anatomy: RequestAnatomy) -> str:
    """The countable text of a flattened request, in prefix order."""
    return "\n".join(segment.text for segment in anatomy.segments if segment.countable and segment.text)


@dataclass(frozen=True)
class FixedTokens:
    """Tokens a request carries beyond its text, known exactly rather than estimated. When the model's tool-use
    system prompt is not published, it is left out (`tool_prompt_tokens` is then a lower bound, 0) and
    `tool_prompt_allowance` is how many tokens it may add: the largest tool-use prompt the table publishes."""

    frame_tokens: int
    tool_prompt_tokens: int
    notes: tuple[str, ...] = ()
    tool_prompt_allowance: int = 0

    @property
    def total_tokens(self) -> int:
        return self.frame_tokens + self.tool_prompt_tokens


def largest_published_tool_prompt_tokens(table: PriceTable) -> int:
    """The largest tool-use system prompt of any model in the table (either tool_choice): the allowance for a
    model whose own is not published."""
    sizes = [
        max(tokens.auto_or_none, tokens.any_or_tool or 0)
        for model in table.models
        if (tokens := model.tool_use_system_prompt_tokens) is not None
    ]
    return max(sizes, default=0)


def request_fixed_tokens(params: Mapping[str, Any], model: Model, table: PriceTable) -> FixedTokens:
    """The message frame and, when the request carries tools, the tool-use system prompt (which opens the
    prompt, so it belongs to any cached prefix)."""
    tools = params.get("tools")
    frame = table.message_frame_tokens(model)
    if not (isinstance(tools, list) and tools):
        return FixedTokens(frame, 0)
    published = model.tool_use_system_prompt_tokens
    if published is None:
        allowance = largest_published_tool_prompt_tokens(table)
        note = (
            f"the tool-use system prompt of {model.name} is not published: the count is a lower bound, and the "
            f"range allows up to {allowance:,} more tokens per request (the largest published tool-use prompt)"
        )
        return FixedTokens(frame, 0, (note,), tool_prompt_allowance=allowance)
    choice = params.get("tool_choice")
    forced = isinstance(choice, Mapping) and choice.get("type") in ("any", "tool")
    if forced and published.any_or_tool is not None:
        return FixedTokens(frame, published.any_or_tool)
    return FixedTokens(frame, published.auto_or_none)


def count_request(
    request: Mapping[str, Any] | str,
    *,
    model: str | None = None,
    use_api: bool = False,
    api_key: str | None = None,
    base_url: str | None = None,
    timeout_s: float = 30.0,
    deadline_s: float | None = None,
    table: PriceTable | None = None,
) -> TokenEstimate:
    """Input tokens of one Messages request (a dict, or its JSON text; a batch line's `params` or the whole
    line). Offline unless `use_api`: then exact via count_tokens, falling back to offline with the reason."""
    params = _params_of(request)
    table = table or load_price_table()
    name = model or params.get("model")
    if not isinstance(name, str):
        raise TokenCountError("the request has no model; pass model=... or put 'model' in the request")
    found = table.model(name)
    anatomy = flatten_request(params)
    fixed = request_fixed_tokens(params, found, table)
    notes = list(fixed.notes)
    uncounted = anatomy.uncounted_blocks
    if uncounted:
        kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(uncounted.items()))
        notes.append(f"not counted offline: {kinds} (use an API key for an exact count)")
    notes += [f"request: {problem}" for problem in anatomy.problems]
    media, media_notes = _media_tokens(anatomy, found, table)
    notes += media_notes
    text = request_text(anatomy)
    (count,) = cl100k_token_counts([text])
    offline = calibrated_estimate(
        count,
        table.tokenizer(found),
        fixed_tokens=fixed.total_tokens,
        non_latin_share=non_latin_letter_share(text),
        notes=notes,
    )
    offline = dataclasses.replace(
        offline,
        low_tokens=offline.low_tokens + media.low_tokens,
        expected_tokens=offline.expected_tokens + media.expected_tokens,
        high_tokens=offline.high_tokens + media.high_tokens + fixed.tool_prompt_allowance,
    )
    if not use_api:
        return offline
    return _exact_or_fallback({**params, "model": found.id}, offline, api_key, base_url, timeout_s, deadline_s)


def _media_tokens(anatomy: RequestAnatomy, model: Model, table: PriceTable) -> tuple[TokenRange, list[str]]:
    """The images and PDFs of a request that could be sized, counted by the model's rule, with a note each kind."""
    images, pdfs, pages = TokenRange(0, 0, 0), TokenRange(0, 0, 0), 0
    image_count = pdf_count = 0
    for segment in anatomy.segments:
        item = segment.media
        if isinstance(item, ImageSize):
            images = images + image_token_range(item.width_px, item.height_px, model, table)
            image_count += 1
        elif isinstance(item, PdfLayout):
            pdfs = pdfs + pdf_token_range(item, model, table)
            pdf_count += 1
            pages += item.pages
    notes = []
    if image_count:
        notes.append(
            f"{image_count} image{'s' if image_count != 1 else ''} counted from the size in "
            f"{'their headers' if image_count != 1 else 'its header'}: ~{images.expected_tokens:,} tokens "
            f"({_span(images)}the documented rule for this model; large images are upper bounds)"
        )
    if pdf_count:
        notes.append(
            f"{pdf_count} PDF{'s' if pdf_count != 1 else ''} of {pages:,} page{'s' if pages != 1 else ''}: "
            f"~{pdfs.expected_tokens:,} tokens ({_span(pdfs)}1,500–3,000 text tokens a page plus the page image)"
        )
    return images + pdfs, notes


def _span(tokens: TokenRange) -> str:
    return "" if tokens.low_tokens == tokens.high_tokens else f"{tokens.low_tokens:,}–{tokens.high_tokens:,}; "


def _params_of(request: Mapping[str, Any] | str) -> Mapping[str, Any]:
    if isinstance(request, str):
        try:
            request = json.loads(request)
        except json.JSONDecodeError as error:
            raise TokenCountError(f"not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}") from None
        except (ValueError, RecursionError) as error:
            raise TokenCountError(f"the JSON cannot be read: {_unreadable(error)}") from None
    if not isinstance(request, Mapping):
        raise TokenCountError("a request must be a JSON object with 'messages' (or a batch line with 'params')")
    params = request.get("params", request)
    if not isinstance(params, Mapping) or "messages" not in params:
        raise TokenCountError("a request needs 'messages' (a Messages API request, or a batch line's 'params')")
    return params


def _unreadable(error: ValueError | RecursionError) -> str:
    if isinstance(error, RecursionError):
        return "nested too deeply (deeper than Python's recursion limit of about 1,000 levels)"
    return "a number has too many digits" if "digits" in str(error) else str(error).split(";")[0][:80]


def _exact_or_fallback(
    params: Mapping[str, Any],
    offline: TokenEstimate,
    api_key: str | None,
    base_url: str | None,
    timeout_s: float,
    deadline_s: float | None,
) -> TokenEstimate:
    from estimator.tokens.exact import DEFAULT_DEADLINE_S, count_exact

    result = count_exact(
        [params],
        api_key=api_key,
        base_url=base_url,
        timeout_s=timeout_s,
        max_concurrency=1,
        deadline_s=deadline_s if deadline_s is not None else DEFAULT_DEADLINE_S,
    )
    exact = result.input_tokens[0]
    if exact is not None:
        return TokenEstimate(exact, exact, exact, "exact", "exact (count_tokens)")
    reason = result.failures[0].reason if result.failures else (result.stopped_reason or "unknown failure")
    return TokenEstimate(
        offline.low_tokens,
        offline.expected_tokens,
        offline.high_tokens,
        "estimated",
        offline.detail,
        (*offline.notes, f"exact count failed ({reason}); offline estimate shown"),
    )
