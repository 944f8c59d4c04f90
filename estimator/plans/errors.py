"""Typed errors of plan files and lock files (both `EstimatorError`, so the CLI turns them into exit 2).

EstimatorError (ValueError)
├── PlanFileError   the plan cannot be used: each problem is one line `costs.yaml:12: where: what`
└── LockFileError   the baseline lock file is missing, malformed or from an unknown format version
"""

from __future__ import annotations

from collections.abc import Sequence

from estimator.errors import EstimatorError

__all__ = ["LockFileError", "PlanFileError"]


class PlanFileError(EstimatorError):
    """A plan file is unusable. `problems` holds one line per problem, each naming the file and line."""

    def __init__(self, problems: str | Sequence[str]) -> None:
        self.problems = (problems,) if isinstance(problems, str) else tuple(problems)
        super().__init__("\n".join(self.problems))


class LockFileError(EstimatorError):
    """A lock file (`costs.lock.json`) cannot be read as a baseline; the message says which part and why."""
