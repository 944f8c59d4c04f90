"""Typed errors of the actual-costs capability (both are `EstimatorError`, so the CLI edge turns them into one
`error:` line and exit 2).

    EstimatorError
    ├── UsageFileError   a usage source cannot be read at all (missing, a directory or device, too large)
    └── AdminApiError    the Admin API could not be used (no key, key rejected, retries or deadline spent)

Problems on single lines or records are not raised: they are collected as `UsageProblem`s with their line.
"""

from __future__ import annotations

from estimator.errors import EstimatorError

__all__ = ["AdminApiError", "UsageFileError"]


class UsageFileError(EstimatorError):
    """A usage file cannot be read as a whole; the message names the file."""


class AdminApiError(EstimatorError):
    """The Admin API could not be used; the message says why, and never contains the key."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status
