"""What the Messages API rejects (or may reject) in a request, as data: each rule with its source.

These rules are request validation, not prices, so they live here rather than in the price table's `rules:`
section; each names the models it concerns by their table ids (a test checks that every id exists in the
table, so a renamed model cannot silently drop out of a rule). `request_checks.py` applies them.

Sources are Anthropic's pages unless marked: [SDK] is the installed `anthropic` SDK's request types (2.14.0),
authoritative for parameter names and values; [ref] is `shared/reference/usage-and-billing.md` (which labels
each of its facts [OFF] Anthropic or [3P] third party). Where the documentation is silent about a model, no
rule applies to it: the dry run reports what is documented, nothing more (README: "rules not checked").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "ADAPTIVE_REJECTED",
    "BETWEEN_TOOLS_ACCEPTED",
    "DISABLED_REJECTED",
    "ENABLED_REJECTED",
    "FORCED_TOOL_CHOICE_REJECTED",
    "GEO_VALUES",
    "MESSAGES_PARAMS",
    "PREFILL_REJECTED",
    "RULES",
    "SAMPLING_REJECTED",
    "SPEED_VALUES",
    "SYSTEM_ROLE_ACCEPTED",
    "SYSTEM_ROLE_UNDOCUMENTED",
    "THINKING_FLOOR_TOP_P",
    "THINKING_MIN_BUDGET_TOKENS",
    "THINKING_ON_BY_DEFAULT",
    "THINKING_TYPES",
    "ApiRule",
    "rule_model_ids",
]

EXTENDED_THINKING = "https://platform.claude.com/docs/en/build-with-claude/extended-thinking"
ADAPTIVE_THINKING = "https://platform.claude.com/docs/en/build-with-claude/adaptive-thinking"
BATCH_PROCESSING = "https://platform.claude.com/docs/en/build-with-claude/batch-processing"
BATCH_CREATE = "https://platform.claude.com/docs/en/api/creating-message-batches"
PRICING = "https://platform.claude.com/docs/en/about-claude/pricing"
PROMPT_CACHING = "https://platform.claude.com/docs/en/build-with-claude/prompt-caching"
MESSAGES_API = "https://platform.claude.com/docs/en/api/messages"
OPUS_4_7_MIGRATION = (
    "https://platform.claude.com/docs/en/about-claude/models/migration-guide#migrating-to-claude-opus-4-7"
)
OPUS_5_MIGRATION = "https://platform.claude.com/docs/en/models/opus-5/migration-guide"
OPUS_5_5_MIGRATION = "https://platform.claude.com/docs/en/models/opus-5-5/migration-guide"
SONNET_5_MIGRATION = "https://platform.claude.com/docs/en/models/sonnet-5/migration-guide"
SONNET_5_5_MIGRATION = "https://platform.claude.com/docs/en/models/sonnet-5-5/migration-guide"
SDK_MESSAGE_PARAMS = "[SDK] anthropic 2.14.0, anthropic/types/message_create_params.py"
OPENAI_BATCH = "https://platform.openai.com/docs/guides/batch"


@dataclass(frozen=True)
class ApiRule:
    """One documented behaviour of the API: `says` is what the source says, in one sentence."""

    code: str
    severity: Literal["error", "warning"]
    says: str
    source: str


# --- model groups: table id → the source that says so ---------------------------------------------------

_FABLE_MYTHOS = (
    "claude-fable-5",
    "claude-mythos-5",
    "claude-fable-5-1",
    "claude-mythos-5-1",
    "claude-fable-5-2",
    "claude-mythos-5-2",
)
_REF_THINKING = ADAPTIVE_THINKING + " [ref 4.1]"

THINKING_ON_BY_DEFAULT: Mapping[str, str] = {
    **dict.fromkeys(_FABLE_MYTHOS, _REF_THINKING),  # "always adaptive"
    "claude-sonnet-5": _REF_THINKING,  # "adaptive on by default"
    "claude-opus-5": OPUS_5_MIGRATION,  # "thinking on by default"
    "claude-opus-5-5": OPUS_5_5_MIGRATION,
    "claude-sonnet-5-5": SONNET_5_5_MIGRATION,
}
"""Models that think when a request carries no `thinking` field: the thinking-compatibility rules apply to them
even then."""

ENABLED_REJECTED: Mapping[str, str] = {
    **dict.fromkeys(_FABLE_MYTHOS, _REF_THINKING),
    "claude-opus-4-7": _REF_THINKING,  # "adaptive only; enabled → 400"
    "claude-opus-4-8": _REF_THINKING,
    "claude-sonnet-5": SONNET_5_MIGRATION,  # "manual extended thinking returns a 400 error"
    "claude-sonnet-5-5": SONNET_5_5_MIGRATION,  # "thinking budgets"
    "claude-opus-5-5": OPUS_5_5_MIGRATION,
}
"""`thinking: {"type": "enabled", "budget_tokens": N}` returns 400."""

DISABLED_REJECTED: Mapping[str, str] = {
    **dict.fromkeys(_FABLE_MYTHOS, _REF_THINKING),  # "disabled not supported"
    "claude-sonnet-5-5": SONNET_5_5_MIGRATION,
    "claude-opus-5-5": OPUS_5_5_MIGRATION,
}
"""`thinking: {"type": "disabled"}` returns 400."""

ADAPTIVE_REJECTED: Mapping[str, str] = dict.fromkeys(
    (
        "claude-sonnet-4-5-20250929",
        "claude-opus-4-5-20251101",
        "claude-haiku-4-5-20251001",
        "claude-opus-4-1-20250805",
        "claude-opus-4-20250514",
        "claude-sonnet-4-20250514",
        "claude-3-7-sonnet-20250219",
    ),
    _REF_THINKING,
)
"""Models that take only `enabled` + `budget_tokens`: "Sonnet 4.5, Opus 4.5, Haiku 4.5 and older"."""

BETWEEN_TOOLS_ACCEPTED: Mapping[str, str] = {"claude-sonnet-5-5": SONNET_5_5_MIGRATION}
"""`thinking: {"type": "between_tools"}` is documented for Sonnet 5.5 only."""

SAMPLING_REJECTED: Mapping[str, str] = {
    "claude-opus-4-7": OPUS_4_7_MIGRATION,
    "claude-sonnet-5": SONNET_5_MIGRATION,
    "claude-sonnet-5-5": SONNET_5_5_MIGRATION,
}
"""Sampling parameters at non-default values return 400."""

FORCED_TOOL_CHOICE_REJECTED: Mapping[str, str] = {
    "claude-sonnet-5-5": SONNET_5_5_MIGRATION,
    "claude-opus-5-5": OPUS_5_5_MIGRATION,
}
"""`tool_choice` any / tool returns 400 whatever the thinking setting."""

PREFILL_REJECTED: Mapping[str, str] = {"claude-sonnet-5-5": SONNET_5_5_MIGRATION}
"""A last message with the assistant role (prefill) returns 400."""

SYSTEM_ROLE_ACCEPTED: Mapping[str, str] = {
    **dict.fromkeys(_FABLE_MYTHOS, PROMPT_CACHING + " [ref 6.1]"),
    "claude-opus-4-8": PROMPT_CACHING + " [ref 6.1]",
    "claude-opus-5": PROMPT_CACHING + " [ref 6.1]",
}
"""Mid-conversation `{"role": "system"}` messages: "Fable 5.x, Mythos 5.x, Opus 4.8, Opus 5; not Sonnet 5" (the
prompt caching page, Sept 2026). Every model released before them takes only user and assistant."""

SYSTEM_ROLE_UNDOCUMENTED: Mapping[str, str] = dict.fromkeys(
    ("claude-opus-5-5", "claude-sonnet-5-5", "claude-haiku-5-5"), PROMPT_CACHING + " [ref 6.1]"
)
"""Released after that page: whether they take system-role messages is not documented (a warning)."""

# --- values --------------------------------------------------------------------------------------------

THINKING_TYPES = ("enabled", "adaptive", "disabled", "between_tools")
"""[SDK] ThinkingConfigParam."""

THINKING_MIN_BUDGET_TOKENS = 1024
"""[SDK] ThinkingConfigEnabledParam.budget_tokens: "Must be ≥1024 and less than `max_tokens`"."""

THINKING_FLOOR_TOP_P = "0.95"
"""[EXTENDED_THINKING] "When thinking is enabled, you can set top_p to values between 1 and 0.95"."""

GEO_VALUES = ("global", "us")
"""`inference_geo` values: "global" (the default) and "us" [PRICING, data residency]."""

SPEED_VALUES = ("standard", "fast")
"""[SDK] `speed: Literal["standard", "fast"]`; only "fast" is unavailable in batches [BATCH_PROCESSING]."""

MESSAGES_PARAMS = frozenset(
    {
        # [SDK] MessageCreateParamsNonStreaming
        "max_tokens",
        "messages",
        "model",
        "cache_control",
        "container",
        "diagnostics",
        "inference_geo",
        "metadata",
        "output_config",
        "service_tier",
        "speed",
        "stop_sequences",
        "system",
        "thinking",
        "tool_choice",
        "tools",
        "user_profile_id",
        "workspace_id",
        "stream",
        # Sampling parameters: gone from the 2.14.0 types but still taken by the models that predate their
        # removal (the rules above say which reject them).
        "temperature",
        "top_p",
        "top_k",
        # Older request fields real batch files still carry; the API takes them on the models of their time.
        "mcp_servers",
        "context_management",
    }
)

# --- the rules ------------------------------------------------------------------------------------------

_RULE_LIST = (
    ApiRule(
        "empty_batch",
        "error",
        "a Message Batch holds at least one request; the API rejects an empty batch",
        BATCH_CREATE,
    ),
    ApiRule(
        "fast_mode_not_in_batches",
        "error",
        'fast mode (speed: "fast") is not available in the Batch API; speed: "standard" is',
        BATCH_PROCESSING,
    ),
    ApiRule("speed_invalid", "error", 'speed takes "standard" or "fast"', SDK_MESSAGE_PARAMS),
    ApiRule(
        "thinking_with_top_k",
        "error",
        "thinking isn't compatible with temperature or top_k modifications",
        EXTENDED_THINKING + "#feature-compatibility",
    ),
    ApiRule(
        "thinking_with_temperature",
        "error",
        "thinking isn't compatible with temperature modifications: temperature may only be 1 while thinking",
        EXTENDED_THINKING + "#feature-compatibility",
    ),
    ApiRule(
        "thinking_top_p_below_floor",
        "error",
        "when thinking is enabled, you can set top_p to values between 1 and 0.95",
        EXTENDED_THINKING + "#feature-compatibility",
    ),
    ApiRule(
        "thinking_with_forced_tool_choice",
        "error",
        'tool use with thinking only supports tool_choice "auto" or "none"; "any" and "tool" force tool use',
        EXTENDED_THINKING + "#extended-thinking-with-tool-use",
    ),
    ApiRule(
        "thinking_with_prefill",
        "error",
        "you cannot pre-fill responses (end on an assistant message) when thinking is enabled",
        EXTENDED_THINKING + "#feature-compatibility",
    ),
    ApiRule(
        "sampling_param_invalid",
        "error",
        "temperature and top_p range from 0 to 1; top_k is a whole number",
        MESSAGES_API,
    ),
    ApiRule(
        "sampling_params_rejected",
        "error",
        "sampling parameters (temperature, top_p, top_k) set to non-default values return a 400 error",
        SONNET_5_MIGRATION,
    ),
    ApiRule(
        "forced_tool_choice_rejected",
        "error",
        'forced tool choice (tool_choice "any" or "tool") returns a 400 error on this model',
        SONNET_5_5_MIGRATION,
    ),
    ApiRule(
        "prefill_rejected",
        "error",
        "assistant prefill (a last message with the assistant role) returns a 400 error on this model",
        SONNET_5_5_MIGRATION,
    ),
    ApiRule(
        "thinking_type_invalid",
        "error",
        "thinking.type is enabled, adaptive, disabled or between_tools",
        SDK_MESSAGE_PARAMS,
    ),
    ApiRule(
        "thinking_type_rejected",
        "error",
        "each model takes only some thinking types (adaptive-only models reject enabled; older ones reject adaptive)",
        ADAPTIVE_THINKING,
    ),
    ApiRule(
        "thinking_type_undocumented",
        "warning",
        'thinking "between_tools" is documented for Claude Sonnet 5.5 only',
        SONNET_5_5_MIGRATION,
    ),
    ApiRule(
        "thinking_budget_invalid",
        "error",
        "budget_tokens must be ≥1024 and less than max_tokens",
        SDK_MESSAGE_PARAMS + " (ThinkingConfigEnabledParam)",
    ),
    ApiRule(
        "thinking_budget_not_below_max_tokens",
        "warning",
        "budget_tokens must be less than max_tokens, except with interleaved thinking (a beta header)",
        EXTENDED_THINKING,
    ),
    ApiRule(
        "thinking_disabled_with_high_effort",
        "error",
        'on Claude Opus 5, thinking "disabled" is accepted only at effort high or below (not xhigh or max)',
        OPUS_5_MIGRATION,
    ),
    ApiRule(
        "inference_geo_invalid",
        "error",
        'inference_geo takes "global" (the default) or "us"',
        PRICING,
    ),
    ApiRule(
        "geo_not_supported",
        "error",
        'inference_geo is Claude 4.6 and later only; earlier models reject the parameter ("us" costs 1.1x)',
        PRICING,
    ),
    ApiRule(
        "system_role_rejected",
        "error",
        'messages take the roles "user" and "assistant"; mid-conversation "system" messages are accepted on '
        "Fable 5.x, Mythos 5.x, Opus 4.8 and Opus 5 only (not Sonnet 5); use the top-level system parameter",
        PROMPT_CACHING,
    ),
    ApiRule(
        "system_role_undocumented",
        "warning",
        'mid-conversation "system" messages are documented for Fable 5.x, Mythos 5.x, Opus 4.8 and Opus 5; '
        "not (yet) for this model",
        PROMPT_CACHING,
    ),
    ApiRule(
        "role_invalid",
        "error",
        'a message role is "user", "assistant" or (on some models) "system"',
        SDK_MESSAGE_PARAMS,
    ),
    ApiRule(
        "unknown_param",
        "warning",
        "a field the Messages API does not define: the API rejects unknown fields (Extra inputs are not permitted)",
        SDK_MESSAGE_PARAMS,
    ),
    ApiRule(
        "model_not_an_api_id",
        "error",
        "the API takes a model's id or alias exactly as published; display names and other spellings are rejected",
        "https://platform.claude.com/docs/en/about-claude/models/overview",
    ),
    ApiRule(
        "openai_batch_format",
        "error",
        "an OpenAI Batch API file (custom_id, method, url, body); a Claude Message Batch line is "
        '{"custom_id": ..., "params": {"model", "max_tokens", "messages", ...}}',
        BATCH_PROCESSING,
    ),
)

RULES: dict[str, ApiRule] = {rule.code: rule for rule in _RULE_LIST}


def rule_model_ids() -> frozenset[str]:
    """Every table id the rules name (tests check that each is a model of the price table)."""
    groups = (
        THINKING_ON_BY_DEFAULT,
        ENABLED_REJECTED,
        DISABLED_REJECTED,
        ADAPTIVE_REJECTED,
        BETWEEN_TOOLS_ACCEPTED,
        SAMPLING_REJECTED,
        FORCED_TOOL_CHOICE_REJECTED,
        PREFILL_REJECTED,
        SYSTEM_ROLE_ACCEPTED,
        SYSTEM_ROLE_UNDOCUMENTED,
    )
    return frozenset(model_id for group in groups for model_id in group)
