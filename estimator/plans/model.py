"""The schema of a plan file (`costs.yaml`): strict pydantic models, used only while a plan loads.

The JSON Schema shipped beside this module (`plan.schema.json`) is generated from these models
(`python -m estimator.plans.schema`); editors read it for completion and inline errors. The models check
shape, types and ranges; meaning (models, files, token counts) is checked afterwards by the loader, which
also knows each value's line.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Strict, Tag, WithJsonSchema

from estimator.plans.limits import MAX_USD
from estimator.plans.plan import ModeChoice
from estimator.workload import (
    MAX_CODE_EXECUTION_MINUTES_PER_SESSION,
    MAX_CODE_EXECUTION_SESSIONS_PER_REQUEST,
    MAX_REQUESTS,
    MAX_TOKENS_PER_REQUEST,
    MAX_WEB_FETCHES_PER_REQUEST,
    MAX_WEB_SEARCHES_PER_REQUEST,
)

__all__ = [
    "PLAN_VERSION",
    "ActualsSpec",
    "BatchFileSpec",
    "BudgetSpec",
    "PlanFile",
    "TokenFileSpec",
    "WorkloadSpec",
    "workload_kind",
]

PLAN_VERSION = 1
WORKLOAD_TAGS = ("Workload", "BatchFileWorkload", "ActualsWorkload", "TokenCount", "TokenFile")
"""Names pydantic puts in error locations for the branch it chose; they are not keys of the file."""

WorkloadName = Annotated[
    str,
    Strict(),
    Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$", description="The workload's name."),
]
PeriodName = Literal["run", "day", "week", "month", "year"]
IncreaseText = Annotated[
    str,
    Strict(),
    Field(
        pattern=r"^\s*\+?\s*(\$\s*[0-9][0-9_,]*(\.[0-9]+)?|[0-9][0-9_,]*(\.[0-9]+)?\s*(%|\$|[uU][sS][dD]))\s*$",
        description="The most the cost may rise over the baseline: '10%' of it, or '$5' per period.",
        examples=["10%", "$5"],
    ),
]


def _number_schema(minimum: float, maximum: float, description: str) -> WithJsonSchema:
    return WithJsonSchema({"type": "number", "minimum": minimum, "maximum": maximum, "description": description})


Fraction01 = Annotated[Decimal, Field(ge=0, le=1), _number_schema(0, 1, "A rate from 0 to 1 (0.85 for 85%).")]
Usd = Annotated[Decimal, Field(ge=0, le=MAX_USD), _number_schema(0, float(MAX_USD), "US dollars.")]
WholeTokens = Annotated[int, Strict(), Field(ge=0, le=MAX_TOKENS_PER_REQUEST)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TokenFileSpec(_Strict):
    """Count the tokens of a text file instead of writing the number (offline estimate, or exact with
    `--exact-tokens` and an API key). The path is relative to the plan file."""

    file: Annotated[str, Strict(), Field(min_length=1)]


def _token_kind(value: Any) -> str:
    return "TokenFile" if isinstance(value, dict) else "TokenCount"


TokenFigure = Annotated[
    Annotated[WholeTokens, Tag("TokenCount")] | Annotated[TokenFileSpec, Tag("TokenFile")],
    Discriminator(_token_kind),
]


class BudgetSpec(_Strict):
    """At most `usd` per `per` (day, week, month, year, or run); month = 30.4375 days (365.25 / 12)."""

    usd: Usd
    per: PeriodName = "month"


class _Common(_Strict):
    """What every kind of workload may say."""

    description: Annotated[str, Strict()] | None = None
    period: PeriodName | None = Field(
        default=None, description="The period the figures cover (default: the plan's period)."
    )
    budget: BudgetSpec | None = None
    max_increase: IncreaseText | None = None


class WorkloadSpec(_Common):
    """A workload described by its figures (the fields of `estimator.Workload`); tokens are per request."""

    model: Annotated[str, Strict(), Field(min_length=1, description="Model id, alias or display name.")]
    requests: Annotated[int, Strict(), Field(ge=0, le=MAX_REQUESTS, description="Requests per period.")]
    prefix_tokens: TokenFigure = Field(
        default=0, description="Shared cacheable prefix per request (tools + system + shared context)."
    )
    unique_input_tokens: TokenFigure = Field(default=0, description="Input after the prefix, per request.")
    output_tokens: TokenFigure = Field(default=0, description="Output per request.")
    cache_hit_rate: Fraction01 | None = Field(default=None, description="Cache hit rate (default 0.9).")
    requests_per_hour: (
        Annotated[Decimal, Field(ge=0, le=MAX_REQUESTS), _number_schema(0, MAX_REQUESTS, "Steady traffic.")] | None
    ) = Field(default=None, description="Derive the hit rate from steady traffic instead.")
    cache_ttl: Literal["5m", "1h"] = "5m"
    web_searches_per_request: Annotated[
        Decimal,
        Field(ge=0, le=MAX_WEB_SEARCHES_PER_REQUEST),
        _number_schema(0, MAX_WEB_SEARCHES_PER_REQUEST, "Web searches per request."),
    ] = Decimal(0)
    tool_use: Literal["off", "auto", "any"] = "off"
    geo: Literal["global", "us"] = "global"
    fast: Annotated[bool, Strict()] = False
    tokens_measured_for: Literal["legacy", "2026"] | None = None
    thinking_tokens: WholeTokens = Field(default=0, description="Thinking per request (billed as output).")
    web_fetches_per_request: Annotated[
        Decimal,
        Field(ge=0, le=MAX_WEB_FETCHES_PER_REQUEST),
        _number_schema(0, MAX_WEB_FETCHES_PER_REQUEST, "Web fetches per request (no fee; content is input)."),
    ] = Decimal(0)
    tokens_per_web_fetch: WholeTokens = Field(default=0, description="Content one fetch brings in, in tokens.")
    code_execution_sessions_per_request: Annotated[
        Decimal,
        Field(ge=0, le=MAX_CODE_EXECUTION_SESSIONS_PER_REQUEST),
        _number_schema(0, MAX_CODE_EXECUTION_SESSIONS_PER_REQUEST, "Code-execution container sessions per request."),
    ] = Decimal(0)
    code_execution_minutes_per_session: Annotated[
        Decimal,
        Field(ge=0, le=MAX_CODE_EXECUTION_MINUTES_PER_SESSION),
        _number_schema(0, MAX_CODE_EXECUTION_MINUTES_PER_SESSION, "Minutes one container session runs."),
    ] = Decimal(0)
    code_execution_with_web_tools: Annotated[bool, Strict()] = False
    channel: Literal["anthropic", "bedrock", "vertex", "foundry"] = "anthropic"
    endpoint: Literal["global", "regional"] = "global"
    mode: ModeChoice | None = Field(default=None, description="The mode the team uses (default: the plan's).")


class BatchFileRefSpec(_Strict):
    """A Message Batches file (JSONL) to dry-run; relative to the plan file."""

    path: Annotated[str, Strict(), Field(min_length=1)]
    hit_rate: Fraction01 | None = None
    output_ratio: Fraction01 | None = Field(default=None, description="Expected output ÷ max_tokens (0.5).")
    output_tokens: WholeTokens | None = Field(default=None, description="Or a fixed output per request.")


class BatchFileSpec(_Common):
    """A batch file dry-run as the workload, sent once per period."""

    batch_file: BatchFileRefSpec
    mode: ModeChoice | None = None


class ActualsRefSpec(_Strict):
    """Results files or usage exports to price as actual costs; relative to the plan file."""

    paths: Annotated[list[Annotated[str, Strict(), Field(min_length=1)]], Field(min_length=1, max_length=1000)]
    model: Annotated[str, Strict(), Field(min_length=1)] | None = None


class ActualsSpec(_Common):
    """Actual usage (batch results, responses, usage exports) priced record by record at its own date's
    prices (undated records, such as batch results, at the check's date); the files stand for one period.
    The modes are read from the records."""

    actuals: ActualsRefSpec


def workload_kind(value: Any) -> str:
    """Which kind of workload an entry is, from its keys (a batch file, actual usage, or figures)."""
    if isinstance(value, dict):
        if "batch_file" in value:
            return "BatchFileWorkload"
        if "actuals" in value:
            return "ActualsWorkload"
    return "Workload"


WorkloadEntry = Annotated[
    Annotated[WorkloadSpec, Tag("Workload")]
    | Annotated[BatchFileSpec, Tag("BatchFileWorkload")]
    | Annotated[ActualsSpec, Tag("ActualsWorkload")],
    Discriminator(workload_kind),
]


class PlanFile(_Strict):
    """A plan file: named workloads, the mode the team uses, budgets and allowed increases."""

    version: Literal[1] = 1
    period: PeriodName = Field(default="month", description="The period totals and the plan budget use.")
    mode: ModeChoice = Field(default="cheapest", description="Default mode of the workloads.")
    budget: BudgetSpec | None = None
    max_increase: IncreaseText | None = Field(default=None, description="Allowed rise of the total.")
    max_workload_increase: IncreaseText | None = Field(
        default=None, description="Allowed rise of each workload without its own max_increase."
    )
    workloads: Annotated[dict[WorkloadName, WorkloadEntry], Field(min_length=1)]
