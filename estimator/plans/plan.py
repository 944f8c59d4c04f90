"""A loaded plan: named workloads a team commits, each resolved and checked, with its budget and limits.

These records hold no pydantic objects: the plan file's schema (`estimator.plans.model`) is used only
while loading, and everything after it works on these frozen dataclasses.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Literal, get_args

from estimator.plans.limits import Budget, IncreaseLimit, Period
from estimator.workload import Workload

__all__ = [
    "MODE_CHOICES",
    "ActualsRef",
    "BatchFileRef",
    "ModeChoice",
    "Plan",
    "PlanWorkload",
    "TokenFile",
    "WorkloadKind",
]

ModeChoice = Literal["realtime", "realtime_cached", "batch", "batch_cached", "cheapest"]
MODE_CHOICES: tuple[ModeChoice, ...] = get_args(ModeChoice)
WorkloadKind = Literal["workload", "batch_file", "actuals"]


@dataclass(frozen=True)
class TokenFile:
    """A per-request token figure counted from a text file (a prompt, a document, a typical answer)."""

    field: str
    path: str
    tokens: int
    detail: str
    """How it was counted: `exact`, or `estimated offline (...)` with the likely range."""


@dataclass(frozen=True)
class BatchFileRef:
    """A Message Batches file dry-run as the workload: sent once per the workload's period."""

    path: str
    resolved: Path
    hit_rate: Decimal
    output_ratio: Decimal | None = None
    output_tokens: int | None = None


@dataclass(frozen=True)
class ActualsRef:
    """Results files or usage exports priced as actual costs, once per the workload's period."""

    paths: tuple[str, ...]
    resolved: tuple[Path, ...]
    model: str | None = None


@dataclass(frozen=True)
class PlanWorkload:
    """One named workload of a plan. Exactly one of `workload`, `batch_file`, `actuals` is set."""

    name: str
    line: int
    period: Period
    mode: ModeChoice
    budget: Budget | None = None
    max_increase: IncreaseLimit | None = None
    description: str | None = None
    workload: Workload | None = None
    requests_per_hour: Decimal | None = None
    token_files: tuple[TokenFile, ...] = ()
    batch_file: BatchFileRef | None = None
    actuals: ActualsRef | None = None

    @property
    def kind(self) -> WorkloadKind:
        if self.batch_file is not None:
            return "batch_file"
        if self.actuals is not None:
            return "actuals"
        return "workload"

    @property
    def model_label(self) -> str:
        if self.workload is not None:
            return self.workload.model
        if self.actuals is not None and self.actuals.model:
            return self.actuals.model
        return "from file"


@dataclass(frozen=True)
class Plan:
    """A plan file, loaded: totals are reported per `period`; `mode` is the default of its workloads."""

    source_name: str
    period: Period
    mode: ModeChoice
    workloads: tuple[PlanWorkload, ...]
    sha256: str
    budget: Budget | None = None
    max_increase: IncreaseLimit | None = None
    max_workload_increase: IncreaseLimit | None = None
    base_dir: Path | None = None

    def workload(self, name: str) -> PlanWorkload:
        for item in self.workloads:
            if item.name == name:
                return item
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(item.name for item in self.workloads)
