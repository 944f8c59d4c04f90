"""What a request costs beyond its prompt, and the assumptions that say how much: output (visible and thinking),
server tools, the tokens the API adds, images and PDFs.

Output is bounded by `max_tokens`, thinking included. The visible output expected is `output_ratio` × max_tokens
(or a fixed `output_tokens`); a request that thinks (`thinking` enabled with a budget, adaptive, or a model that
thinks by default) adds `thinking_ratio` × its budget — for adaptive thinking, which has none, the room
max_tokens leaves after the visible output — never more than that room. These are guesses, stated in every report:
set them from your own usage (`output_tokens`, `output_tokens_details.thinking_tokens`).

Server tools in `tools` are noted and, where billed per use, priced: web search at the table's price per search,
`web_searches` uses per request that carries it (at most its `max_uses`; the high end takes `max_uses`); web fetch
is billed as tokens only (the fetched content, not countable offline); code execution by container time, at the
table's hourly rate for at least its minimum session per request, unless the request also carries a web search or
web fetch version that makes it free.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from estimator.batches.api_rules import THINKING_ON_BY_DEFAULT
from estimator.errors import BatchFileError
from estimator.tokens.anatomy import Media
from estimator.tokens.counting import FixedTokens, request_fixed_tokens
from estimator.tokens.media import ImageSize, TokenRange, image_token_range, pdf_token_range
from estimator.workload import to_decimal, to_token_count
from pricing import Model, PriceTable

__all__ = [
    "DEFAULT_OUTPUT_RATIO",
    "DEFAULT_THINKING_RATIO",
    "DEFAULT_WEB_SEARCHES",
    "MAX_WEB_SEARCHES",
    "ModelFacts",
    "OutputAssumptions",
    "ServerTools",
    "output_assumptions",
    "server_tools",
    "thinking_budget",
]

DEFAULT_OUTPUT_RATIO = Decimal("0.5")
DEFAULT_THINKING_RATIO = Decimal("0.5")
DEFAULT_WEB_SEARCHES = 1
MAX_WEB_SEARCHES = 1_000
_MAX_CODE_EXECUTION_MINUTES = Decimal(24 * 60)
_DATED_TOOL = re.compile(r"_(\d{8})$")


@dataclass(frozen=True)
class OutputAssumptions:
    output_ratio: Decimal | None
    output_tokens: int | None
    thinking_ratio: Decimal
    web_searches: int
    code_execution_minutes: Decimal | None
    """Per request with the code-execution tool; None: the table's minimum session."""

    def visible_tokens(self, max_tokens: int) -> int:
        if self.output_tokens is not None:
            return min(self.output_tokens, max_tokens)
        return int(max_tokens * (self.output_ratio if self.output_ratio is not None else DEFAULT_OUTPUT_RATIO))

    def thinking_tokens(self, max_tokens: int, visible: int, budget: int | None) -> int:
        """Expected thinking: the ratio of the budget (adaptive: of the room left), within max_tokens."""
        room = max(0, max_tokens - visible)
        planned = room if budget is None else budget
        return min(room, int(planned * self.thinking_ratio))

    @property
    def output_text(self) -> str:
        if self.output_tokens is not None:
            return f"{self.output_tokens:,} output tokens per request (capped at max_tokens)"
        ratio = self.output_ratio if self.output_ratio is not None else DEFAULT_OUTPUT_RATIO
        default = " (default; set --output-ratio from your logs)" if self.output_ratio is None else ""
        return f"output = {ratio} × max_tokens{default}"

    @property
    def thinking_text(self) -> str:
        return (
            f"thinking = {self.thinking_ratio} × budget_tokens (adaptive: × the max_tokens left after the visible "
            "output), within max_tokens"
        )


def output_assumptions(
    output_ratio: object | None,
    output_tokens: object | None,
    thinking_ratio: object | None,
    web_searches: object | None,
    code_execution_minutes: object | None,
) -> OutputAssumptions:
    """The assumptions, each checked (a bad value names its option)."""
    if output_ratio is not None and output_tokens is not None:
        raise BatchFileError("give output_ratio or output_tokens, not both")
    ratio = None if output_ratio is None else to_decimal(output_ratio, "output_ratio", maximum=Decimal(1))
    fixed = None if output_tokens is None else to_token_count(output_tokens, "output_tokens")
    thinking = to_decimal(
        thinking_ratio if thinking_ratio is not None else DEFAULT_THINKING_RATIO, "thinking_ratio", maximum=Decimal(1)
    )
    searches = to_token_count(web_searches if web_searches is not None else DEFAULT_WEB_SEARCHES, "web_searches")
    if searches > MAX_WEB_SEARCHES:
        raise BatchFileError(f"web_searches must be at most {MAX_WEB_SEARCHES:,} per request, got {searches:,}")
    minutes = None
    if code_execution_minutes is not None:
        minutes = to_decimal(code_execution_minutes, "code_execution_minutes", maximum=_MAX_CODE_EXECUTION_MINUTES)
    return OutputAssumptions(ratio, fixed, thinking, searches, minutes)


def thinking_budget(params: Mapping[str, Any], model_id: str) -> int | bool | None:
    """False: the request does not think; None: it thinks adaptively (no budget); an int: its budget_tokens."""
    thinking = params.get("thinking")
    if thinking is None:
        return None if model_id in THINKING_ON_BY_DEFAULT else False
    kind = thinking.get("type") if isinstance(thinking, dict) else None
    if kind == "enabled":
        budget = thinking.get("budget_tokens")
        return budget if isinstance(budget, int) and not isinstance(budget, bool) else None
    if kind in ("adaptive", "between_tools"):
        return None
    return False


@dataclass(frozen=True, slots=True)
class ServerTools:
    web_search: bool
    web_search_max_uses: int | None
    web_fetch: bool
    code_execution: bool
    code_execution_free: bool
    """Free alongside a web search or web fetch tool of the dated version that makes it so (or later)."""


def server_tools(tools: object, free_from: dt.date | None) -> ServerTools | None:
    """The server tools among a request's `tools` (None when there are none)."""
    if not isinstance(tools, list):
        return None
    search = fetch = code = free = False
    max_uses: int | None = None
    for tool in tools:
        kind = tool.get("type") if isinstance(tool, dict) else None
        if not isinstance(kind, str):
            continue
        if kind.startswith("web_search_"):
            search = True
            uses = tool.get("max_uses")
            if isinstance(uses, int) and not isinstance(uses, bool) and uses >= 0:
                max_uses = uses if max_uses is None else max(max_uses, uses)
        elif kind.startswith("web_fetch_"):
            fetch = True
        elif kind.startswith("code_execution_"):
            code = True
        else:
            continue
        if kind.startswith(("web_search_", "web_fetch_")) and free_from is not None and _tool_date(kind) >= free_from:
            free = True
    if not (search or fetch or code):
        return None
    return ServerTools(search, max_uses, fetch, code, free)


def _tool_date(kind: str) -> dt.date:
    match = _DATED_TOOL.search(kind)
    if match is None:
        return dt.date.min
    try:
        return dt.date(int(match[1][:4]), int(match[1][4:6]), int(match[1][6:]))
    except ValueError:
        return dt.date.min


class ModelFacts:
    """Per model, what every request of it shares: its fixed tokens by tool use, its image rule's results."""

    def __init__(self, model: Model, index: int, table: PriceTable) -> None:
        self.model = model
        self.index = index
        self._table = table
        self._fixed: dict[tuple[bool, bool], FixedTokens] = {}
        self._media: dict[Media, TokenRange] = {}
        self.without_tools = request_fixed_tokens({}, model, table)
        self.with_tools = request_fixed_tokens({"tools": [{}]}, model, table)
        forced = request_fixed_tokens({"tools": [{}], "tool_choice": {"type": "any"}}, model, table)
        self.fixed_totals = (self.without_tools.total_tokens, self.with_tools.total_tokens, forced.total_tokens)
        self.thinks_by_default = model.id in THINKING_ON_BY_DEFAULT

    def fixed(self, params: Mapping[str, Any]) -> FixedTokens:
        tools = params.get("tools")
        has_tools = isinstance(tools, list) and bool(tools)
        choice = params.get("tool_choice") if has_tools else None
        forced = isinstance(choice, Mapping) and choice.get("type") in ("any", "tool")
        key = (has_tools, forced)
        found = self._fixed.get(key)
        if found is None:
            found = self._fixed[key] = request_fixed_tokens(params, self.model, self._table)
        return found

    def media_tokens(self, item: Media) -> TokenRange:
        found = self._media.get(item)
        if found is None:
            if isinstance(item, ImageSize):
                found = image_token_range(item.width_px, item.height_px, self.model, self._table)
            else:
                found = pdf_token_range(item, self.model, self._table)
            if len(self._media) < 4096:
                self._media[item] = found
        return found
