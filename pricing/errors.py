"""Typed errors of the price table.

PricingError (ValueError)
├── PriceTableError          the YAML is malformed or breaks the schema (names file, model, field)
├── UnknownModelError        no model has that id or alias (also a LookupError; suggests close ids)
└── PriceNotAvailableError   the model exists but the table holds no such price (not published,
    │                        or asked for a date before the model's first price)
    └── FeatureUnavailableError  the price's feature (batches, caching, the 1-hour TTL, fast mode, data
                                 residency) did not exist on the date asked, or had been removed
"""

from __future__ import annotations

from collections.abc import Sequence


class PricingError(ValueError):
    """Base of every error the pricing package raises on purpose."""


class PriceTableError(PricingError):
    """The price table file cannot be used; the message names the file, the model and the field."""


class UnknownModelError(PricingError, LookupError):
    """No model in the table answers to this name."""

    def __init__(self, name: str, suggestions: Sequence[str]) -> None:
        self.name = name
        self.suggestions = tuple(suggestions)
        hint = f" Did you mean: {', '.join(self.suggestions)}?" if self.suggestions else ""
        super().__init__(f"Unknown model {name!r}.{hint} `python -m pricing list --all` shows every model.")


class PriceNotAvailableError(PricingError):
    """The model is known but the table has no price for what was asked."""


class FeatureUnavailableError(PriceNotAvailableError):
    """A mode or option asked for "as of" a date outside its feature's period: never priced.

    `feature` names it (e.g. "message_batches", "fast_mode"), `day` is the date asked; the message gives
    the reason with the date the feature started or was removed."""

    def __init__(self, message: str, *, feature: str, day: object) -> None:
        self.feature = feature
        self.day = day
        super().__init__(message)
