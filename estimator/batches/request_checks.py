"""The parameter combinations the Messages API rejects, checked on one batch line's `params`.

Each check is a small function yielding findings; each finding names its rule (`api_rules.RULES`) and the source
that documents it, so a user can see why the API would refuse the line. A new rule is one function here and one
entry in `api_rules`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from estimator.batches.api_rules import (
    ADAPTIVE_REJECTED,
    BETWEEN_TOOLS_ACCEPTED,
    DISABLED_REJECTED,
    ENABLED_REJECTED,
    FORCED_TOOL_CHOICE_REJECTED,
    GEO_VALUES,
    MESSAGES_PARAMS,
    PREFILL_REJECTED,
    RULES,
    SAMPLING_REJECTED,
    SPEED_VALUES,
    SYSTEM_ROLE_ACCEPTED,
    SYSTEM_ROLE_UNDOCUMENTED,
    THINKING_FLOOR_TOP_P,
    THINKING_MIN_BUDGET_TOKENS,
    THINKING_ON_BY_DEFAULT,
    THINKING_TYPES,
)
from estimator.workload import quoted
from pricing import Model

__all__ = ["PLAIN_PARAMS", "Finding", "check_params"]

_ROLES = ("user", "assistant")
_FORCED_TOOL_CHOICES = ("any", "tool")
_HIGH_EFFORTS = ("xhigh", "max")


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Literal["error", "warning"]
    message: str
    source: str


@dataclass(frozen=True)
class _Request:
    params: Mapping[str, Any]
    model: Model
    thinking_type: str | None  # None: no thinking field; "invalid": not a known type
    thinking_on: bool | None  # None: cannot tell (an invalid thinking field)


PLAIN_PARAMS = frozenset({"model", "max_tokens", "messages", "system", "metadata", "stop_sequences", "tools"})
"""Parameters no check reads (beyond the messages' roles): a request made only of them breaks a rule only through
its message roles, which `_plain_roles` checks; the checks then run only on requests that can break one."""


def check_params(params: Mapping[str, Any], model: Model) -> list[Finding]:
    """Every documented rule this request breaks, for `model` (the table's model for params["model"])."""
    if PLAIN_PARAMS.issuperset(params) and _plain_roles(params.get("messages")):
        return []
    request = _describe(params, model)
    findings: list[Finding] = []
    for check in _CHECKS:
        findings.extend(check(request))
    return findings


def _plain_roles(messages: object) -> bool:
    """Every message is a user or assistant message, and the last is not an assistant's (no prefill)."""
    if type(messages) is not list or not messages:
        return False
    for message in messages:
        if type(message) is not dict or message.get("role") not in _ROLES:
            return False
    return messages[-1].get("role") != "assistant"  # type: ignore[no-any-return]


def _finding(code: str, detail: str, source: str | None = None) -> Finding:
    rule = RULES[code]
    return Finding(code, rule.severity, f"{detail} — {rule.says}", source or rule.source)


def _describe(params: Mapping[str, Any], model: Model) -> _Request:
    thinking = params.get("thinking")
    if thinking is None:
        return _Request(params, model, None, model.id in THINKING_ON_BY_DEFAULT)
    kind = thinking.get("type") if isinstance(thinking, dict) else None
    if not isinstance(kind, str) or kind not in THINKING_TYPES:
        return _Request(params, model, "invalid", None)
    return _Request(params, model, kind, kind in ("enabled", "adaptive"))


# --- checks ------------------------------------------------------------------------------------------


def _speed(request: _Request) -> Iterator[Finding]:
    speed = request.params.get("speed")
    if speed is None or speed == "standard":
        return
    if speed == "fast":
        yield _finding("fast_mode_not_in_batches", 'speed "fast"')
    elif speed not in SPEED_VALUES:
        yield _finding("speed_invalid", f"speed {quoted(speed)}")


def _thinking_type(request: _Request) -> Iterator[Finding]:
    kind, model = request.thinking_type, request.model
    if kind is None:
        return
    if kind == "invalid":
        yield _finding("thinking_type_invalid", f"thinking {quoted(request.params.get('thinking'))}")
        return
    rejected = {"enabled": ENABLED_REJECTED, "disabled": DISABLED_REJECTED, "adaptive": ADAPTIVE_REJECTED}.get(kind)
    if rejected is not None and model.id in rejected:
        hint = {
            "enabled": 'use {"type": "adaptive"} with output_config.effort',
            "disabled": "leave thinking out and lower output_config.effort",
            "adaptive": 'use {"type": "enabled", "budget_tokens": N}',
        }[kind]
        yield _finding("thinking_type_rejected", f'{model.name} rejects thinking "{kind}" ({hint})', rejected[model.id])
    elif kind == "between_tools" and model.id not in BETWEEN_TOOLS_ACCEPTED:
        yield _finding("thinking_type_undocumented", f'thinking "between_tools" on {model.name}')


def _thinking_budget(request: _Request) -> Iterator[Finding]:
    if request.thinking_type != "enabled" or request.model.id in ENABLED_REJECTED:
        return
    budget = request.params["thinking"].get("budget_tokens")
    if isinstance(budget, bool) or not isinstance(budget, int) or budget < THINKING_MIN_BUDGET_TOKENS:
        yield _finding("thinking_budget_invalid", f"thinking.budget_tokens {quoted(budget)}")
        return
    max_tokens = request.params.get("max_tokens")
    if isinstance(max_tokens, int) and not isinstance(max_tokens, bool) and budget >= max_tokens:
        yield _finding(
            "thinking_budget_not_below_max_tokens",
            f"budget_tokens {_count(budget)} is not below max_tokens {_count(max_tokens)}",
        )


def _thinking_disabled_effort(request: _Request) -> Iterator[Finding]:
    if request.model.id != "claude-opus-5" or request.thinking_type != "disabled":
        return
    config = request.params.get("output_config")
    effort = config.get("effort") if isinstance(config, dict) else None
    if effort in _HIGH_EFFORTS:
        yield _finding("thinking_disabled_with_high_effort", f'thinking "disabled" with effort {effort!r}')


def _sampling(request: _Request) -> Iterator[Finding]:
    source = SAMPLING_REJECTED.get(request.model.id)
    if source is not None:
        set_ = _non_default_sampling(request.params)
        if set_:
            yield _finding("sampling_params_rejected", f"{request.model.name} with {', '.join(set_)}", source)
        return
    if not request.thinking_on:
        return
    why = _thinking_reason(request)
    params = request.params
    if params.get("top_k") is not None:
        yield _finding("thinking_with_top_k", f"top_k {quoted(params['top_k'])} {why}")
    temperature = _number(params.get("temperature"))
    if temperature is not None and temperature != 1:
        yield _finding("thinking_with_temperature", f"temperature {quoted(params['temperature'])} {why}")
    top_p = _number(params.get("top_p"))
    if top_p is not None and top_p < Decimal(THINKING_FLOOR_TOP_P):
        yield _finding("thinking_top_p_below_floor", f"top_p {quoted(params['top_p'])} {why}")


def _non_default_sampling(params: Mapping[str, Any]) -> list[str]:
    found = []
    temperature = _number(params.get("temperature"))
    if temperature is not None and temperature != 1:
        found.append(f"temperature {quoted(params['temperature'])}")
    top_p = _number(params.get("top_p"))
    if top_p is not None and top_p != 1:
        found.append(f"top_p {quoted(params['top_p'])}")
    if params.get("top_k") is not None:
        found.append(f"top_k {quoted(params['top_k'])}")
    return found


def _sampling_ranges(request: _Request) -> Iterator[Finding]:
    params = request.params
    for name in ("temperature", "top_p"):
        value = params.get(name)
        number = _number(value)
        if value is not None and (number is None or not 0 <= number <= 1):
            yield _finding("sampling_param_invalid", f"{name} {quoted(value)}")
    top_k = params.get("top_k")
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 0):
        yield _finding("sampling_param_invalid", f"top_k {quoted(top_k)}")


def _tool_choice(request: _Request) -> Iterator[Finding]:
    choice = request.params.get("tool_choice")
    kind = choice.get("type") if isinstance(choice, dict) else None
    if kind not in _FORCED_TOOL_CHOICES:
        return
    source = FORCED_TOOL_CHOICE_REJECTED.get(request.model.id)
    if source is not None:
        yield _finding("forced_tool_choice_rejected", f'tool_choice "{kind}" on {request.model.name}', source)
    elif request.thinking_on:
        yield _finding("thinking_with_forced_tool_choice", f'tool_choice "{kind}" {_thinking_reason(request)}')


def _prefill(request: _Request) -> Iterator[Finding]:
    messages = request.params.get("messages")
    if not isinstance(messages, list) or not messages or not isinstance(messages[-1], dict):
        return
    if messages[-1].get("role") != "assistant":
        return
    source = PREFILL_REJECTED.get(request.model.id)
    if source is not None:
        yield _finding("prefill_rejected", f"the last message is an assistant message on {request.model.name}", source)
    elif request.thinking_on:
        yield _finding("thinking_with_prefill", f"the last message is an assistant message {_thinking_reason(request)}")


def _geo(request: _Request) -> Iterator[Finding]:
    geo = request.params.get("inference_geo")
    if geo is None:
        return
    if geo not in GEO_VALUES:
        yield _finding("inference_geo_invalid", f"inference_geo {quoted(geo)}")
    elif not request.model.data_residency_us:
        yield _finding("geo_not_supported", f"inference_geo {geo!r} on {request.model.name}")


def _roles(request: _Request) -> Iterator[Finding]:
    messages = request.params.get("messages")
    if not isinstance(messages, list):
        return
    model = request.model
    invalid = next(
        (
            (index, message.get("role"))
            for index, message in enumerate(messages)
            if isinstance(message, dict) and message.get("role") not in (*_ROLES, "system")
        ),
        None,
    )
    if invalid is not None:
        yield _finding("role_invalid", f"messages[{invalid[0]}].role {quoted(invalid[1])}")
    system_at = next(
        (
            index
            for index, message in enumerate(messages)
            if isinstance(message, dict) and message.get("role") == "system"
        ),
        None,
    )
    if system_at is None or model.id in SYSTEM_ROLE_ACCEPTED:
        return
    where = f'messages[{system_at}] has the role "system" on {model.name}'
    if model.id in SYSTEM_ROLE_UNDOCUMENTED:
        yield _finding("system_role_undocumented", where, SYSTEM_ROLE_UNDOCUMENTED[model.id])
    else:
        yield _finding("system_role_rejected", where)


def _unknown_params(request: _Request) -> Iterator[Finding]:
    unknown = sorted(str(key) for key in request.params if key not in MESSAGES_PARAMS)
    if unknown:
        names = ", ".join(quoted(name) for name in unknown[:5]) + (", ..." if len(unknown) > 5 else "")
        yield _finding("unknown_param", f"params has {names}")


_CHECKS: tuple[Callable[[_Request], Iterator[Finding]], ...] = (
    _speed,
    _thinking_type,
    _thinking_budget,
    _thinking_disabled_effort,
    _sampling_ranges,
    _sampling,
    _tool_choice,
    _prefill,
    _geo,
    _roles,
    _unknown_params,
)


# --- helpers ---------------------------------------------------------------------------------------------


def _thinking_reason(request: _Request) -> str:
    if request.thinking_type is None:
        return f"({request.model.name} thinks by default: leaving thinking out does not turn it off)"
    return f'with thinking "{request.thinking_type}"'


def _count(value: int) -> str:
    return f"{value:,}" if value.bit_length() <= 64 else quoted(value)


def _number(value: object) -> Decimal | None:
    """A JSON number as an exact Decimal, or None for anything else (bools, strings, NaN)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and value != value:  # NaN
        return None
    if isinstance(value, int) and value.bit_length() > 64:
        return Decimal(1 << 64) * (1 if value > 0 else -1)  # magnitude is all that matters here
    try:
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except ArithmeticError:
        return None
