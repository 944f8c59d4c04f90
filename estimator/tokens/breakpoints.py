"""Cache breakpoints: reading a `cache_control` marker, and resolving a request's markers (explicit and
automatic) into the breakpoints the API would use, with the API's limits checked.

Kept apart from the request walk (`estimator.tokens.anatomy`): the walk decides where blocks sit; this module
decides which of them end a cached prefix. Problems are appended, in words, to the list the caller passes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "MAX_CACHE_BREAKPOINTS",
    "Breakpoint",
    "CacheTTL",
    "Marker",
    "parse_cache_control",
    "plain_cache_ttl",
    "resolve_breakpoints",
]

CacheTTL = Literal["5m", "1h"]
MAX_CACHE_BREAKPOINTS = 4
"""Explicit markers plus automatic caching, per request (the prompt-caching page)."""

_DEFAULT_TTL: CacheTTL = "5m"
_TTLS: dict[str, CacheTTL] = {"5m": "5m", "1h": "1h"}
# isinstance tries dict first, a C-level check; the Mapping ABC check costs ~10x more.
_MAPPING_TYPES = (dict, Mapping)


@dataclass(frozen=True, slots=True)
class Breakpoint:
    """A resolved cache breakpoint: the prefix is ``segments[: segment_index + 1]``."""

    segment_index: int
    ttl: CacheTTL
    automatic: bool


@dataclass(slots=True)
class Marker:
    """An explicit `cache_control` on the segment at `segment_index`, before resolution."""

    segment_index: int
    ttl: CacheTTL


def parse_cache_control(cache_control: object, location: str, problems: list[str]) -> CacheTTL | None:
    """The TTL a `cache_control` object asks for, or None when it is not a usable marker (said in `problems`)."""
    if not isinstance(cache_control, _MAPPING_TYPES):
        problems.append(f"{location} is not an object; ignored")
        return None
    cache_type = cache_control.get("type")
    if cache_type != "ephemeral":
        problems.append(f"{location} has type {cache_type!r}, not 'ephemeral'; ignored")
        return None
    ttl = cache_control.get("ttl", _DEFAULT_TTL)
    if not isinstance(ttl, str) or ttl not in _TTLS:
        problems.append(f"{location} has an unknown ttl {ttl!r} (expected '5m' or '1h'); read as 5m")
        return _DEFAULT_TTL
    return _TTLS[ttl]


def plain_cache_ttl(cache_control: object) -> CacheTTL | None:
    """The TTL of a marker the API takes as it is (the fast path of a plain text block); None for anything
    `parse_cache_control` would report."""
    if type(cache_control) is not dict or cache_control.get("type") != "ephemeral":
        return None
    ttl = cache_control.get("ttl", _DEFAULT_TTL)
    return _TTLS.get(ttl) if type(ttl) is str else None


def resolve_breakpoints(
    markers: Sequence[Marker],
    last_markable_index: int | None,
    segment_locations: Sequence[str],
    automatic_cache_control: object,
    problems: list[str],
) -> tuple[Breakpoint, ...]:
    """The request's breakpoints in prompt order: explicit markers, plus automatic caching on the last block
    that can carry one; more than the API allows, or a 1h entry after a 5m one, is said in `problems`."""
    by_segment: dict[int, Breakpoint] = {}
    for marker in markers:
        # Two markers on one segment (a tool_result and its last item) make one breakpoint.
        by_segment.setdefault(marker.segment_index, Breakpoint(marker.segment_index, marker.ttl, False))
    marker_count = len(markers)
    automatic_ttl = None
    if automatic_cache_control is not None:
        automatic_ttl = parse_cache_control(automatic_cache_control, "cache_control (automatic caching)", problems)
    if automatic_ttl is not None:
        if last_markable_index is None:
            problems.append("automatic caching (top-level cache_control) found no block that can be cached")
        elif last_markable_index not in by_segment:
            by_segment[last_markable_index] = Breakpoint(last_markable_index, automatic_ttl, True)
            marker_count += 1
    breakpoints = tuple(sorted(by_segment.values(), key=lambda resolved: resolved.segment_index))
    if marker_count > MAX_CACHE_BREAKPOINTS:
        problems.append(
            f"{marker_count} cache breakpoints (automatic caching included); the API allows at most "
            f"{MAX_CACHE_BREAKPOINTS} per request and rejects this one"
        )
    _check_ttl_order(breakpoints, segment_locations, problems)
    return breakpoints


def _check_ttl_order(breakpoints: Sequence[Breakpoint], segment_locations: Sequence[str], problems: list[str]) -> None:
    first_short: Breakpoint | None = None
    for resolved in breakpoints:
        if resolved.ttl == "5m" and first_short is None:
            first_short = resolved
        elif resolved.ttl == "1h" and first_short is not None:
            problems.append(
                f"1h cache breakpoint at {segment_locations[resolved.segment_index]} comes after a 5m breakpoint "
                f"at {segment_locations[first_short.segment_index]}; the API requires 1h entries before 5m entries"
            )
