"""`PriceTable`: the validated table with lookups by id or alias and "as of" a date."""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Mapping
from decimal import Decimal

from pricing.errors import FeatureUnavailableError, PriceNotAvailableError, UnknownModelError
from pricing.features import Feature, Features, describe_gap
from pricing.schema import (
    FAST_RATE_FIELDS,
    RATE_FIELDS,
    Model,
    PricePeriod,
    PriceTableData,
    Rules,
    Source,
    TokenizerCalibration,
    normalize_model_name,
)

__all__ = ["STALE_AFTER_DAYS", "PriceTable", "features_of_field"]

_SUGGESTION_COUNT = 3
STALE_AFTER_DAYS = 30
"""A date asked for more than this many days after the table was checked gets a staleness warning."""


def features_of_field(field: str) -> tuple[Feature, ...]:
    """The features a rate needs, e.g. `batch_cache_write_1h_mtok` → batches, caching and the 1-hour TTL.
    Fast rates are named `fast_input_mtok`, `fast_cache_read_mtok`, ..."""
    needed: list[Feature] = []
    if field.startswith("fast_"):
        needed.append("fast_mode")
    if field.startswith("batch_"):
        needed.append("message_batches")
    if "cache_" in field:
        needed.append("prompt_caching")
    if "_1h_" in field:
        needed.append("cache_ttl_1h")
    return tuple(needed)


class PriceTable:
    """Read-only view over `PriceTableData`. Build it with `pricing.load_price_table()`."""

    def __init__(self, data: PriceTableData, *, source_name: str) -> None:
        self.data = data
        self.source_name = source_name
        self._by_name: dict[str, Model] = {}
        for model in data.models:
            for name in (model.id, *model.aliases, model.name):
                self._by_name[normalize_model_name(name)] = model

    def __repr__(self) -> str:
        return f"PriceTable({self.source_name!r}, {len(self.data.models)} models, checked {self.data.checked})"

    @property
    def models(self) -> tuple[Model, ...]:
        return self.data.models

    @property
    def rules(self) -> Rules:
        return self.data.rules

    @property
    def sources(self) -> Mapping[str, Source]:
        return self.data.sources

    @property
    def tokenizers(self) -> Mapping[str, TokenizerCalibration]:
        return self.data.tokenizers

    @property
    def checked(self) -> dt.date:
        return self.data.checked

    @property
    def features(self) -> Features:
        return self.data.features

    def staleness_days(self, day: dt.date) -> int:
        """How many days `day` lies after the table's checked date (0 when it does not)."""
        return max(0, (day - self.checked).days)

    def staleness_warning(self, day: dt.date) -> str | None:
        """A warning (not an error) when `day` is more than STALE_AFTER_DAYS past the checked date."""
        days = self.staleness_days(day)
        if days <= STALE_AFTER_DAYS:
            return None
        return (
            f"the price table was last checked on {self.checked}, {days} days before {day}: Anthropic may have "
            "changed prices since. `python -m pricing crosscheck` compares it with a peer price map."
        )

    def model(self, name: str) -> Model:
        """The model with this id, alias or display name (case, dots and spaces ignored)."""
        key = normalize_model_name(name)
        found = self._by_name.get(key) or self._by_name.get(f"claude-{key}")
        if found is None:
            raise UnknownModelError(name, self.suggest(name))
        return found

    def suggest(self, name: str) -> list[str]:
        """Ids of the models whose names are closest to `name`, best first."""
        key = normalize_model_name(name)
        close = difflib.get_close_matches(key, list(self._by_name), n=_SUGGESTION_COUNT * 3, cutoff=0.5)
        contained = [known for known in self._by_name if key and key in known]
        ids: list[str] = []
        for known in close + contained:
            model_id = self._by_name[known].id
            if model_id not in ids:
                ids.append(model_id)
        return ids[:_SUGGESTION_COUNT]

    def tokenizer(self, model: Model) -> TokenizerCalibration:
        return self.data.tokenizers[model.tokenizer]

    def message_frame_tokens(self, model: Model) -> int:
        """Tokens a single user message adds on top of its text, for this model."""
        return model.message_frame_tokens or self.tokenizer(model).message_frame_tokens

    def prices_as_of(self, model: Model, day: dt.date) -> PricePeriod:
        """The model's price period in effect on `day`; cancelled announcements never apply."""
        period = model.period_as_of(day)
        if period is None:
            first = model.periods_in_effect[0].effective_from
            raise PriceNotAvailableError(
                f"{model.name} ({model.id}) has no price before {first}; it was released {model.lifecycle.released}."
            )
        return period

    def unavailable_reason(self, model: Model, feature: Feature, day: dt.date) -> str | None:
        """Why `model` cannot use `feature` on `day`, naming the date; None when it can.

        The estimator calls this for options (fast mode, the 1-hour TTL, data residency) so that an option
        asked for outside its period is refused with the reason, never priced."""
        if feature == "fast_mode" and model.fast_mode is None:
            with_fast = [m.id for m in self.models if m.fast_mode is not None and m.fast_mode.available_on(day)]
            return f"{model.name} has no fast mode; on {day} it is offered for: {', '.join(with_fast) or 'no model'}"
        if feature == "data_residency" and not model.data_residency_us:
            return (
                f"US data residency (inference_geo 'us') is not available for {model.name}: only Claude 4.6 "
                "and later accept it"
            )
        if feature == "fast_mode":
            return describe_gap("fast_mode", model.fast_mode, day, model_name=model.name)
        return model.unavailable_features(day).get(feature)

    def require(self, model: Model, feature: Feature, day: dt.date) -> None:
        """Raise `FeatureUnavailableError` (reason and date) unless `model` can use `feature` on `day`."""
        reason = self.unavailable_reason(model, feature, day)
        if reason is not None:
            raise FeatureUnavailableError(reason, feature=feature, day=day)

    def rate_as_of(self, model: Model, field: str, day: dt.date) -> Decimal:
        """One rate in force on `day`: a RATE_FIELDS name (`batch_input_mtok`) or a fast one (`fast_input_mtok`).

        Raises FeatureUnavailableError when the rate's feature did not exist on `day` (a batch price before
        2024-10-08, fast mode after its removal), PriceNotAvailableError when Anthropic publishes no such rate."""
        fast_field = field.removeprefix("fast_")
        if field not in RATE_FIELDS and not (field.startswith("fast_") and fast_field in FAST_RATE_FIELDS):
            raise KeyError(field)
        for feature in features_of_field(field):
            self.require(model, feature, day)
        period = self.prices_as_of(model, day)
        value = period.fast.rate(fast_field) if field.startswith("fast_") and period.fast else None
        if not field.startswith("fast_"):
            value = period.rate(field)
        if value is None:
            raise PriceNotAvailableError(f"the table holds no {field} for {model.name} on {day} (not published)")
        return value

    def models_as_of(
        self, day: dt.date, *, include_retired: bool = False, include_unreleased: bool = False
    ) -> tuple[Model, ...]:
        """Models callable on `day` (and retired / not yet released ones on request), in table order."""
        hidden = set()
        if not include_retired:
            hidden.add("retired")
        if not include_unreleased:
            hidden.add("unreleased")
        return tuple(model for model in self.models if model.status_as_of(day) not in hidden)

    def source_urls(self, keys: tuple[str, ...]) -> list[str]:
        return [self.sources[key].location for key in keys]
