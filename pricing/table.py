"""`PriceTable`: the validated table with lookups by id or alias and "as of" a date."""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Mapping

from pricing.errors import PriceNotAvailableError, UnknownModelError
from pricing.schema import (
    Model,
    PricePeriod,
    PriceTableData,
    Rules,
    Source,
    TokenizerCalibration,
    normalize_model_name,
)

__all__ = ["PriceTable"]

_SUGGESTION_COUNT = 3


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
