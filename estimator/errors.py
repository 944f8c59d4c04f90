"""Typed errors of the estimator, turned into one-line messages only at the CLI and app edges.

    EstimatorError (ValueError)
    ├── InvalidWorkloadError   a workload field is negative, NaN, infinite, a bool, or out of range
    ├── BatchFileError         a batch file cannot be read at all (missing, too large, not JSONL)
    └── TokenCountError        tokens could not be counted
        ├── TokenizerDataError the shipped tokenizer data is missing or fails its hash check
        └── ExactCountError    the count_tokens API could not be used (no key, rejected key, ...)

Price-table errors (unknown model, malformed YAML) live in `pricing.errors`; `UnknownModelError` is
re-exported from `estimator` because callers meet it there first.
"""

from __future__ import annotations


class EstimatorError(ValueError):
    """Base of every error the estimator raises on purpose."""


class InvalidWorkloadError(EstimatorError):
    """A workload value is unusable; the message names the field and the accepted range, and `field` names
    the workload field (for showing the message beside its input), when one is to blame."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class BatchFileError(EstimatorError):
    """A batch file cannot be read as a whole (problems on single lines are reported, not raised)."""


class TokenCountError(EstimatorError):
    """Tokens could not be counted."""


class TokenizerDataError(TokenCountError):
    """The shipped tokenizer data is missing or does not match its recorded hash."""


class ExactCountError(TokenCountError):
    """The count_tokens API could not be used; the message says why, never the key."""
