"""The schema of `prices.yaml`: strict, frozen pydantic models, validated once at load time.

Every price is a `Decimal` per million tokens (`*_mtok`). Floats are refused outright: the loader reads
YAML numbers as `Decimal` from their text, so `0.3` never passes through binary floating point.

The table checks its own arithmetic: cache prices must equal the model's input price times the model's
cache multipliers, and batch prices must equal the standard price times the batch multiplier from
`rules`. A typo in one cell therefore fails loudly instead of pricing a workload wrong.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, model_validator

from pricing.features import GLOBAL_FEATURES, DatePrecision, Feature, FeaturePeriod, Features, describe_gap

__all__ = [
    "CACHE_FIELDS",
    "CHANNELS",
    "FAST_RATE_FIELDS",
    "RATE_FIELDS",
    "BatchRules",
    "CacheMultipliers",
    "CachingRules",
    "Channel",
    "ChannelRule",
    "ChannelRules",
    "CodeExecutionRules",
    "DataResidencyRules",
    "FastRates",
    "FeaturePeriod",
    "Features",
    "ImageRule",
    "Lifecycle",
    "MediaRules",
    "Model",
    "PeriodFlag",
    "PricePeriod",
    "PriceTableData",
    "PromptTier",
    "PromptTierRule",
    "RateSet",
    "Rules",
    "Source",
    "TokenizerCalibration",
    "ToolUseTokens",
    "WebSearchRules",
    "normalize_model_name",
]

STANDARD_RATE_FIELDS = (
    "input_mtok",
    "output_mtok",
    "cache_write_5m_mtok",
    "cache_write_1h_mtok",
    "cache_read_mtok",
)
BATCH_RATE_FIELDS = tuple(f"batch_{name}" for name in STANDARD_RATE_FIELDS)
RATE_FIELDS = STANDARD_RATE_FIELDS + BATCH_RATE_FIELDS
CACHE_FIELDS = ("cache_write_5m_mtok", "cache_write_1h_mtok", "cache_read_mtok")
BATCH_CACHE_FIELDS = tuple(f"batch_{name}" for name in CACHE_FIELDS)
"""Never printed by Anthropic: always the documented rule (50% of the cache rate), so not worth a flag."""
FAST_RATE_FIELDS = STANDARD_RATE_FIELDS
"""Fast mode's rates, by the same names as the standard ones (real-time only: no batch fast rates)."""

MAX_SIGNIFICANT_DIGITS = 30
MAX_ABS_EXPONENT = 15
"""A price table's numbers are between about 1e-6 and 1e9: anything outside ±1e15, or longer than 30
digits, is a typo (or a hostile file) and would overflow the exact arithmetic downstream."""

# Fields a feature's absence removes from a dated view of a price row.
_FEATURE_FIELDS: dict[Feature, tuple[str, ...]] = {
    "prompt_caching": CACHE_FIELDS + BATCH_CACHE_FIELDS,
    "message_batches": BATCH_RATE_FIELDS,
    "cache_ttl_1h": ("cache_write_1h_mtok", "batch_cache_write_1h_mtok"),
}


def _to_decimal(value: object) -> object:
    """Accept Decimal, int and numeric strings; refuse floats and bools, which would hide errors."""
    if isinstance(value, bool):
        raise ValueError("a price must be a number, not true/false")
    if isinstance(value, float):
        raise ValueError("floats are not accepted for money; write the number as YAML text or a Decimal")
    if isinstance(value, int):
        if value.bit_length() > 128:
            raise ValueError("the number is far too large for a price table")
        return Decimal(value)
    if isinstance(value, str):
        text = value.strip().replace("_", "")
        if len(text) > 64:
            raise ValueError(f"{value[:20]!r}… is not a number a price table can hold ({len(value):,} characters)")
        try:
            return Decimal(text)
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a number") from None
    return value


def _in_range(value: Decimal) -> Decimal:
    """Refuse numbers no price table holds, before any arithmetic can overflow on them."""
    if value.is_finite() and value != 0:
        digits = len(value.as_tuple().digits)
        if digits > MAX_SIGNIFICANT_DIGITS or abs(value.adjusted()) > MAX_ABS_EXPONENT:
            shown = f"{value:.3E}" if digits <= 1000 else "a number"
            raise ValueError(
                f"{shown} is out of range for a price table (at most {MAX_SIGNIFICANT_DIGITS} digits, "
                f"magnitude between 1e-{MAX_ABS_EXPONENT} and 1e{MAX_ABS_EXPONENT})"
            )
    return value


def _finite_positive(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise ValueError(f"{value} is not a finite number")
    _in_range(value)
    if value <= 0:
        raise ValueError(f"must be greater than 0, got {value}")
    return value


def _fraction(value: Decimal) -> Decimal:
    if not value.is_finite() or not Decimal(0) <= value <= Decimal(1):
        raise ValueError(f"must be between 0 and 1, got {value}")
    return _in_range(value)


PositiveDecimal = Annotated[Decimal, BeforeValidator(_to_decimal), AfterValidator(_finite_positive)]
"""A price or multiplier: a finite Decimal greater than zero, never a float."""

Fraction = Annotated[Decimal, BeforeValidator(_to_decimal), AfterValidator(_fraction)]
TokenCount = Annotated[int, Field(strict=True, gt=0)]
PeriodFlag = Literal["tier", "fast", "third_party", "derived", "unpublished_cache_batch"]

_ID_PATTERN = r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$"


def normalize_model_name(name: str) -> str:
    """The lookup key of a model name: case, spaces, dots and underscores do not matter."""
    return re.sub(r"[\s._]+", "-", name.strip().lower())


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False, validate_default=True)


class Source(_Strict):
    """A document the table's values were read from."""

    url: str | None = Field(default=None, pattern=r"^https://")
    document: str | None = None
    title: str
    checked: dt.date
    third_party: bool = False
    note: str | None = None

    @model_validator(mode="after")
    def _says_where(self) -> Source:
        if self.url is None and self.document is None:
            raise ValueError("a source needs a url or a document")
        return self

    @property
    def location(self) -> str:
        return self.url or f"{self.document}"


class RateSet(_Strict):
    """The ten per-MTok rates of one price row. Cache and batch rates are absent when unpublished; the
    1-hour write rate is absent on a row that ended before the 1-hour TTL existed."""

    input_mtok: PositiveDecimal
    output_mtok: PositiveDecimal
    cache_write_5m_mtok: PositiveDecimal | None = None
    cache_write_1h_mtok: PositiveDecimal | None = None
    cache_read_mtok: PositiveDecimal | None = None
    batch_input_mtok: PositiveDecimal | None = None
    batch_output_mtok: PositiveDecimal | None = None
    batch_cache_write_5m_mtok: PositiveDecimal | None = None
    batch_cache_write_1h_mtok: PositiveDecimal | None = None
    batch_cache_read_mtok: PositiveDecimal | None = None
    third_party: tuple[str, ...] = ()
    derived: tuple[str, ...] = ()
    note: str | None = None

    _unavailable: dict[Feature, str] = PrivateAttr(default_factory=dict)
    """Set on dated views only (`Model.period_as_of`): feature → why it could not be used on that day."""

    @model_validator(mode="after")
    def _rates_come_in_complete_groups(self) -> RateSet:
        _require_all_or_none(self, ("cache_write_5m_mtok", "cache_read_mtok"), "cache")
        if self.cache_write_1h_mtok is not None and self.cache_read_mtok is None:
            raise ValueError("cache_write_1h_mtok needs the 5-minute write and read rates beside it")
        _require_all_or_none(self, ("batch_input_mtok", "batch_output_mtok"), "batch")
        batch = self.batch_input_mtok is not None
        expected = [f"batch_{field}" for field in CACHE_FIELDS if batch and getattr(self, field) is not None]
        present = [field for field in BATCH_CACHE_FIELDS if getattr(self, field) is not None]
        if present != expected:
            raise ValueError(
                f"batch cache rates must match the cache rates given (with batch rates): expected {expected}, "
                f"got {present}"
            )
        for label in ("third_party", "derived"):
            unknown = sorted(set(getattr(self, label)) - set(RATE_FIELDS))
            if unknown:
                raise ValueError(f"{label} lists unknown rate fields {unknown}; expected names from {RATE_FIELDS}")
        return self

    def rate(self, field: str) -> Decimal | None:
        """One rate by its field name, e.g. `rate("batch_cache_read_mtok")`."""
        if field not in RATE_FIELDS:
            raise KeyError(field)
        value: Decimal | None = getattr(self, field)
        return value

    def rates(self) -> dict[str, Decimal | None]:
        return {field: self.rate(field) for field in RATE_FIELDS}

    def unavailable(self, feature: Feature) -> str | None:
        """Why `feature` could not be used on the day this row was looked up for (dated views only)."""
        return self._unavailable.get(feature)

    @property
    def unavailable_features(self) -> Mapping[Feature, str]:
        """Every feature that could not be used on the day of a dated view, with the reason."""
        return dict(self._unavailable)

    @property
    def derived_beyond_batch_rule(self) -> tuple[str, ...]:
        """Derived rates other than the batch cache rates, which are derived on every row."""
        return tuple(field for field in self.derived if field not in BATCH_CACHE_FIELDS)

    @property
    def has_cache_rates(self) -> bool:
        return self.cache_read_mtok is not None

    @property
    def has_batch_rates(self) -> bool:
        return self.batch_input_mtok is not None


def _require_all_or_none(rates: BaseModel, fields: tuple[str, ...], group: str) -> None:
    present = [field for field in fields if getattr(rates, field) is not None]
    if present and len(present) != len(fields):
        missing = [field for field in fields if field not in present]
        raise ValueError(f"{group} rates must be given together; missing {missing}")


class CacheMultipliers(_Strict):
    """Cache prices as multiples of the base input price. They differ per model, so they are data."""

    write_5m: PositiveDecimal
    write_1h: PositiveDecimal
    read: PositiveDecimal


class PromptTier(RateSet):
    """A higher price row paid by the whole request once its prompt exceeds `above_prompt_tokens`."""

    above_prompt_tokens: TokenCount


class FastRates(_Strict):
    """Fast mode (`speed: "fast"`), real-time only, while the model's `fast_mode` period lasts.

    Anthropic prints fast input and output prices; the cache rates follow the model's cache multipliers
    applied to the fast input rate ("2x on every token type" where fast is 2x), checked at load time."""

    input_mtok: PositiveDecimal
    output_mtok: PositiveDecimal
    cache_write_5m_mtok: PositiveDecimal | None = None
    cache_write_1h_mtok: PositiveDecimal | None = None
    cache_read_mtok: PositiveDecimal | None = None
    third_party: tuple[str, ...] = ()
    derived: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    note: str | None = None

    @model_validator(mode="after")
    def _complete(self) -> FastRates:
        _require_all_or_none(self, ("cache_write_5m_mtok", "cache_read_mtok"), "fast cache")
        if self.cache_write_1h_mtok is not None and self.cache_read_mtok is None:
            raise ValueError("fast cache_write_1h_mtok needs the 5-minute write and read rates beside it")
        for label in ("third_party", "derived"):
            unknown = sorted(set(getattr(self, label)) - set(FAST_RATE_FIELDS))
            if unknown:
                raise ValueError(f"fast {label} lists unknown fields {unknown}; expected names from {FAST_RATE_FIELDS}")
        return self

    def rate(self, field: str) -> Decimal | None:
        if field not in FAST_RATE_FIELDS:
            raise KeyError(field)
        value: Decimal | None = getattr(self, field)
        return value

    def rates(self) -> dict[str, Decimal | None]:
        return {field: self.rate(field) for field in FAST_RATE_FIELDS}

    @property
    def has_cache_rates(self) -> bool:
        return self.cache_read_mtok is not None


class PricePeriod(RateSet):
    """A model's prices from `effective_from` until the next period in effect starts."""

    effective_from: dt.date
    date_precision: DatePrecision = "day"
    status: Literal["in_effect", "cancelled"] = "in_effect"
    cache_multipliers: CacheMultipliers | None = None
    tiers: tuple[PromptTier, ...] = ()
    fast: FastRates | None = None
    sources: tuple[str, ...] = Field(min_length=1)

    def flags(self) -> tuple[PeriodFlag, ...]:
        """What sets this row apart, for tables: a tier, fast mode, third-party or derived rates (beyond the
        batch cache rates, which are always the documented rule), or no cache/batch prices at all."""
        flags: list[PeriodFlag] = []
        if self.tiers:
            flags.append("tier")
        if self.fast:
            flags.append("fast")
        if self.third_party:
            flags.append("third_party")
        if self.derived_beyond_batch_rule:
            flags.append("derived")
        if not self.has_cache_rates and self.unavailable("prompt_caching") is None:
            flags.append("unpublished_cache_batch")
        return tuple(flags)

    @model_validator(mode="after")
    def _cache_rates_follow_the_multipliers(self) -> PricePeriod:
        if (self.cache_multipliers is None) != (self.cache_read_mtok is None):
            raise ValueError("cache_multipliers and the cache rates must be given together")
        for rates in (self, *self.tiers):
            _check_cache_arithmetic(rates, self.cache_multipliers)
        if self.fast is not None:
            _check_fast_cache_arithmetic(self.fast, self.cache_multipliers)
        thresholds = [tier.above_prompt_tokens for tier in self.tiers]
        if thresholds != sorted(set(thresholds)):
            raise ValueError(f"tiers must have distinct thresholds in increasing order, got {thresholds}")
        return self


def _check_cache_arithmetic(rates: RateSet, multipliers: CacheMultipliers | None) -> None:
    if multipliers is None:
        if rates.has_cache_rates:
            raise ValueError("cache rates given without cache_multipliers")
        return
    if not rates.has_cache_rates:
        raise ValueError("a tier must carry cache rates when its period does")
    expected = {
        "cache_write_5m_mtok": rates.input_mtok * multipliers.write_5m,
        "cache_write_1h_mtok": rates.input_mtok * multipliers.write_1h,
        "cache_read_mtok": rates.input_mtok * multipliers.read,
    }
    for field, want in expected.items():
        got = rates.rate(field)
        if got is None and field == "cache_write_1h_mtok":
            continue  # a row that ended before the 1-hour TTL existed
        if got != want:
            raise ValueError(
                f"{field} is {got} but input_mtok {rates.input_mtok} × its cache multiplier is {want}; "
                "fix the rate or the model's cache_multipliers"
            )


def _check_fast_cache_arithmetic(fast: FastRates, multipliers: CacheMultipliers | None) -> None:
    if not fast.has_cache_rates:
        return
    if multipliers is None:
        raise ValueError("fast cache rates given on a row without cache_multipliers")
    for field, multiplier in (
        ("cache_write_5m_mtok", multipliers.write_5m),
        ("cache_write_1h_mtok", multipliers.write_1h),
        ("cache_read_mtok", multipliers.read),
    ):
        got, want = fast.rate(field), fast.input_mtok * multiplier
        if got is not None and got != want:
            raise ValueError(
                f"fast.{field} is {got} but fast input_mtok {fast.input_mtok} × its cache multiplier is {want}; "
                "fix the rate or the model's cache_multipliers"
            )


class ToolUseTokens(_Strict):
    """System-prompt tokens Anthropic adds to every request that carries `tools`."""

    auto_or_none: TokenCount
    any_or_tool: TokenCount | None = None


class Lifecycle(_Strict):
    released: dt.date
    released_precision: DatePrecision = "day"
    deprecated: dt.date | None = None
    retired: dt.date | None = None

    @model_validator(mode="after")
    def _dates_in_order(self) -> Lifecycle:
        dates = [d for d in (self.released, self.deprecated, self.retired) if d is not None]
        if dates != sorted(dates):
            raise ValueError("lifecycle dates must run released ≤ deprecated ≤ retired")
        return self


class Model(_Strict):
    id: str = Field(pattern=_ID_PATTERN)
    aliases: tuple[str, ...] = ()
    name: str
    family: Literal["opus", "sonnet", "haiku", "fable", "mythos"]
    availability: str | None = None
    lifecycle: Lifecycle
    tokenizer: str
    message_frame_tokens: TokenCount | None = None
    image_rule: str | None = None
    """The image rule documented for this model (a `media.image_rules` name); None: its tokenizer generation's."""
    context_window_tokens: TokenCount
    max_output_tokens: TokenCount | None = None
    batch_max_output_tokens: TokenCount | None = None
    min_cacheable_prompt_tokens: TokenCount | None = None
    tool_use_system_prompt_tokens: ToolUseTokens | None = None
    data_residency_us: bool = False
    fast_mode: FeaturePeriod | None = None
    prices: tuple[PricePeriod, ...]
    sources: tuple[str, ...] = Field(min_length=1)
    checked: dt.date
    notes: tuple[str, ...] = ()

    _features: Features | None = PrivateAttr(default=None)
    """The table's API-wide feature periods, attached by `PriceTableData` so that dated lookups see them."""

    @model_validator(mode="after")
    def _periods_in_order(self) -> Model:
        starts = [period.effective_from for period in self.prices if period.status == "in_effect"]
        if not starts:
            raise ValueError("a model needs at least one price period in effect")
        if starts != sorted(set(starts)):
            raise ValueError(f"price periods in effect must have increasing effective_from dates, got {starts}")
        if starts[0] < self.lifecycle.released:
            raise ValueError(
                f"the first price period starts {starts[0]}, before the model's release {self.lifecycle.released}"
            )
        for alias in self.aliases:
            if not re.match(_ID_PATTERN, alias):
                raise ValueError(f"alias {alias!r} is not a valid model id")
        self._check_fast_mode()
        return self

    def _check_fast_mode(self) -> None:
        fast_rows = [(start, end) for period, start, end in self.dated_periods() if period.fast is not None]
        if self.fast_mode is None:
            if fast_rows:
                raise ValueError(f"price rows from {fast_rows[0][0]} carry fast rates but the model has no fast_mode")
            return
        if self.fast_mode.available_from < self.lifecycle.released:
            raise ValueError(
                f"fast_mode starts {self.fast_mode.available_from}, before the release {self.lifecycle.released}"
            )
        for period, start, end in self.dated_periods():
            claims, overlaps = period.fast is not None, self.fast_mode.overlaps(start, end)
            if claims and not overlaps:
                raise ValueError(
                    f"prices from {start} carry fast rates, but fast mode existed only from "
                    f"{self.fast_mode.available_from} until {self.fast_mode.removed}"
                )
            if overlaps and not claims:
                raise ValueError(
                    f"prices from {start} have no fast rates, but fast mode existed during that row "
                    f"(from {self.fast_mode.available_from}); add them or split the row where fast mode began"
                )

    @property
    def periods_in_effect(self) -> tuple[PricePeriod, ...]:
        return tuple(period for period in self.prices if period.status == "in_effect")

    def dated_periods(self) -> tuple[tuple[PricePeriod, dt.date, dt.date | None], ...]:
        """Each period in effect with its first day and the first day of the next one (None: still in effect)."""
        periods = self.periods_in_effect
        ends: list[dt.date | None] = [p.effective_from for p in periods[1:]]
        return tuple(zip(periods, [p.effective_from for p in periods], [*ends, None], strict=True))

    def period_as_of(self, day: dt.date) -> PricePeriod | None:
        """The price period in effect on `day`, or None before the model's first price.

        The result is a dated view: the rates of a feature that did not exist on `day` (or had been
        removed) are absent, and `period.unavailable(feature)` says why, naming the date."""
        current = None
        for period in self.periods_in_effect:
            if period.effective_from <= day:
                current = period
        return None if current is None else self.view_as_of(current, day)

    def launch_period_as_of(self, day: dt.date) -> PricePeriod:
        """The period in effect on `day`, or, before the first price, the launch prices seen on `day`."""
        return self.period_as_of(day) or self.view_as_of(self.periods_in_effect[0], day)

    def unavailable_features(self, day: dt.date) -> dict[Feature, str]:
        """Every feature this model could not use on `day`, with the reason and the date."""
        gaps: dict[Feature, str] = {}
        if self._features is not None:
            for feature in GLOBAL_FEATURES:
                if feature == "context_1m_beta" or (feature == "data_residency" and not self.data_residency_us):
                    continue
                reason = describe_gap(feature, self._features.period(feature), day, model_name=self.name)
                if reason is not None:
                    gaps[feature] = reason
        if self.fast_mode is not None:  # a model that never had fast mode has no gap in time, just no rates
            fast_reason = describe_gap("fast_mode", self.fast_mode, day, model_name=self.name)
            if fast_reason is not None:
                gaps["fast_mode"] = fast_reason
        return gaps

    def feature_period(self, feature: Feature) -> FeaturePeriod | None:
        """The period of a feature for this model: its own fast mode, or the table's API-wide periods."""
        if feature == "fast_mode":
            return self.fast_mode
        return self._features.period(feature) if self._features is not None else None

    def view_as_of(self, period: PricePeriod, day: dt.date) -> PricePeriod:
        """`period` as it could be bought on `day`: rates of unavailable features removed, reasons kept."""
        gaps = self.unavailable_features(day)
        cleared = {field for feature, fields in _FEATURE_FIELDS.items() if feature in gaps for field in fields}
        if not gaps:
            return period
        view = period.model_copy(update=dict.fromkeys(cleared & set(RATE_FIELDS)) | _fast_update(period, gaps))
        view._unavailable = dict(gaps)
        if period.tiers:
            tiers = []
            for tier in period.tiers:
                tier_view = tier.model_copy(update=dict.fromkeys(cleared & set(RATE_FIELDS)))
                tier_view._unavailable = dict(gaps)
                tiers.append(tier_view)
            view = view.model_copy(update={"tiers": tuple(tiers)})
            view._unavailable = dict(gaps)
        return view

    def status_as_of(self, day: dt.date) -> Literal["unreleased", "active", "deprecated", "retired"]:
        life = self.lifecycle
        if day < life.released:
            return "unreleased"
        if life.retired is not None and day >= life.retired:
            return "retired"
        if life.deprecated is not None and day >= life.deprecated:
            return "deprecated"
        return "active"


def _fast_update(period: PricePeriod, gaps: Mapping[Feature, str]) -> dict[str, object]:
    if period.fast is None:
        return {}
    if "fast_mode" in gaps:
        return {"fast": None}
    cleared: dict[str, None] = {}
    if "prompt_caching" in gaps:
        cleared.update(dict.fromkeys(CACHE_FIELDS))
    elif "cache_ttl_1h" in gaps:
        cleared["cache_write_1h_mtok"] = None
    return {"fast": period.fast.model_copy(update=cleared)} if cleared else {}


class TokenizerCalibration(_Strict):
    """How Claude's token count relates to tiktoken cl100k_base for one tokenizer generation.

    The bands are estimate ÷ actual ratios measured per document and on whole files: an estimate E
    therefore brackets the true count between E / high and E / low.
    """

    description: str
    cl100k_factor: PositiveDecimal
    per_document_band_low: PositiveDecimal
    per_document_band_high: PositiveDecimal
    file_total_band_low: PositiveDecimal
    file_total_band_high: PositiveDecimal
    non_latin_overcount: PositiveDecimal
    message_frame_tokens: TokenCount
    versus_legacy_expected: PositiveDecimal
    versus_legacy_low: PositiveDecimal
    versus_legacy_high: PositiveDecimal
    image_rule: str
    """The `media.image_rules` entry that sizes images for this generation's models (unless a model has its own)."""
    image_rule_band: tuple[str, ...] = ()
    """Other documented rules the count may follow on a model without its own: they widen the image range."""
    sources: tuple[str, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _bands_bracket_one(self) -> TokenizerCalibration:
        for low, high in (
            (self.per_document_band_low, self.per_document_band_high),
            (self.file_total_band_low, self.file_total_band_high),
            (self.versus_legacy_low, self.versus_legacy_high),
        ):
            if not low <= high:
                raise ValueError(f"a band's low ({low}) must not exceed its high ({high})")
        return self


class ImageRule(_Strict):
    """How an image's pixel size becomes input tokens, after the downscaling Anthropic applies to large images:
    the image is scaled (aspect kept) to at most `long_edge_px` on its long edge, then further until it is at most
    `cap_tokens`. `pixel_area`: tokens ≈ ⌈w × h / pixels_per_token⌉; `patches`: ⌈w / patch_px⌉ × ⌈h / patch_px⌉."""

    formula: Literal["pixel_area", "patches"]
    pixels_per_token: TokenCount | None = None
    patch_px: TokenCount | None = None
    long_edge_px: TokenCount
    cap_tokens: TokenCount
    sources: tuple[str, ...] = Field(min_length=1)
    note: str | None = None

    @model_validator(mode="after")
    def _one_formula(self) -> ImageRule:
        if self.formula == "pixel_area" and (self.pixels_per_token is None or self.patch_px is not None):
            raise ValueError("a pixel_area rule takes pixels_per_token (and no patch_px)")
        if self.formula == "patches" and (self.patch_px is None or self.pixels_per_token is not None):
            raise ValueError("a patches rule takes patch_px (and no pixels_per_token)")
        return self


class MediaRules(_Strict):
    """Images and PDFs in a prompt, as far as the documentation lets them be counted offline."""

    image_rules: dict[str, ImageRule] = Field(min_length=1)
    resized_image_low_ratio: Fraction
    """A downscaled (or capped) image may count below its formula: the low end of its range is this share of it."""
    pdf_text_tokens_per_page_low: TokenCount
    pdf_text_tokens_per_page_high: TokenCount
    pdf_page_px_per_point: PositiveDecimal
    """The page image's size in pixels per PDF point (1/72 inch): the render resolution is not documented."""
    sources: tuple[str, ...] = Field(min_length=1)
    note: str | None = None

    @model_validator(mode="after")
    def _page_range_in_order(self) -> MediaRules:
        if self.pdf_text_tokens_per_page_low > self.pdf_text_tokens_per_page_high:
            raise ValueError("pdf_text_tokens_per_page_low must not exceed pdf_text_tokens_per_page_high")
        return self


_NESTED_QUANTIFIER = re.compile(r"\((?:[^()\\]|\\.)*(?:[*+]|\{\d*,)(?:[^()\\]|\\.)*\)[*+{]")
"""A group that contains a quantifier and is itself quantified, e.g. `(a+)+`: catastrophic backtracking."""


class BatchRules(_Strict):
    price_multiplier: PositiveDecimal
    max_requests: TokenCount
    max_bytes: TokenCount
    custom_id_pattern: str
    best_effort_hit_rate_low: Fraction
    best_effort_hit_rate_high: Fraction
    extended_output_beta_header: str
    results_retention_days: TokenCount
    forbidden_params: tuple[str, ...]
    sources: tuple[str, ...] = Field(min_length=1)
    note: str | None = None

    @model_validator(mode="after")
    def _pattern_compiles(self) -> BatchRules:
        pattern = self.custom_id_pattern
        if len(pattern) > 200:
            raise ValueError(f"custom_id_pattern is {len(pattern):,} characters long; a custom_id rule is short")
        try:
            re.compile(pattern)
        except (re.error, OverflowError, RecursionError, ValueError) as error:
            raise ValueError(f"custom_id_pattern {pattern!r} is not a valid regular expression ({error})") from None
        if _NESTED_QUANTIFIER.search(pattern):
            raise ValueError(
                f"custom_id_pattern {pattern!r} repeats a repeated group, which can take exponential time on a "
                "hostile custom_id; write it without nested quantifiers"
            )
        return self


class CachingRules(_Strict):
    max_breakpoints: TokenCount
    ttl_5m_seconds: TokenCount
    ttl_1h_seconds: TokenCount
    break_even_reads_5m: TokenCount
    break_even_reads_1h: TokenCount
    sources: tuple[str, ...] = Field(min_length=1)


class PromptTierRule(_Strict):
    """How a prompt is measured against a tier's threshold. Fixed values: the code implements exactly this."""

    comparison: Literal["strictly_greater"]
    counted_tokens: tuple[Literal["input", "cache_read", "cache_write"], ...]
    applies_to: Literal["whole_request"]
    sources: tuple[str, ...] = Field(min_length=1)
    note: str | None = None


class DataResidencyRules(_Strict):
    us_multiplier: PositiveDecimal
    sources: tuple[str, ...] = Field(min_length=1)
    note: str | None = None


class WebSearchRules(_Strict):
    usd_per_1000_searches: PositiveDecimal
    sources: tuple[str, ...] = Field(min_length=1)


class CodeExecutionRules(_Strict):
    """The code-execution tool: billed by container time, per container session, with a minimum; a free
    allowance per organization per month; free altogether alongside the dated web search / web fetch tools."""

    usd_per_container_hour: PositiveDecimal
    minimum_minutes_per_session: PositiveDecimal
    free_hours_per_month: PositiveDecimal
    free_with_web_tools_from: dt.date
    """The date in the names of the first web tool versions that make code execution free
    (`web_search_20260209`, `web_fetch_20260209`): no request could carry them before it."""
    sources: tuple[str, ...] = Field(min_length=1)
    note: str | None = None


Channel = Literal["anthropic", "bedrock", "vertex", "foundry"]
CHANNELS: tuple[Channel, ...] = ("anthropic", "bedrock", "vertex", "foundry")


class ChannelRule(_Strict):
    """Where the tokens are bought. Partner prices are the partner's; the table holds only what Anthropic (or
    the partner's own page, where cited) documents relative to Anthropic's list prices."""

    name: str
    prices_set_by: str
    anthropic_operated: bool
    """Anthropic runs the service and bills Claude API rates (the Claude API, Microsoft Foundry); otherwise the
    partner sets the price, and anything not documented (batch discount, server tools, fast mode) is unknown."""
    regional_endpoint: str | None = None
    """What a regional endpoint is called there; None when the channel has none (the Claude API's US-only
    processing is `inference_geo`, priced by `rules.data_residency`)."""
    regional_multiplier: PositiveDecimal | None = None
    regional_premium_from_model: str | None = None
    """The first model (by release date) that pays the regional premium; None: every model does."""
    batch: Literal["message_batches", "not_published"]
    batch_note: str | None = None
    sources: tuple[str, ...] = Field(min_length=1)
    note: str | None = None

    @model_validator(mode="after")
    def _regional_terms_together(self) -> ChannelRule:
        if (self.regional_endpoint is None) != (self.regional_multiplier is None):
            raise ValueError("regional_endpoint and regional_multiplier must be given together")
        if self.regional_premium_from_model is not None and self.regional_multiplier is None:
            raise ValueError("regional_premium_from_model needs a regional_multiplier")
        if self.batch == "not_published" and not self.batch_note:
            raise ValueError("a channel whose batch price is not published needs a batch_note saying why")
        return self


class ChannelRules(_Strict):
    anthropic: ChannelRule
    bedrock: ChannelRule
    vertex: ChannelRule
    foundry: ChannelRule

    def rule(self, channel: Channel) -> ChannelRule:
        value: ChannelRule = getattr(self, channel)
        return value


class Rules(_Strict):
    batch: BatchRules
    caching: CachingRules
    prompt_tiers: PromptTierRule
    data_residency: DataResidencyRules
    web_search: WebSearchRules
    code_execution: CodeExecutionRules
    channels: ChannelRules


class PriceTableData(_Strict):
    """The whole file, as written. `pricing.table.PriceTable` wraps it with indexes for lookups."""

    schema_version: Literal[1]
    currency: Literal["USD"]
    checked: dt.date
    sources: dict[str, Source]
    rules: Rules
    features: Features
    tokenizers: dict[str, TokenizerCalibration]
    media: MediaRules
    models: tuple[Model, ...]

    @model_validator(mode="after")
    def _references_resolve(self) -> PriceTableData:
        if not self.models:
            raise ValueError("the table lists no models")
        for owner, keys in self._source_references():
            unknown = sorted(set(keys) - set(self.sources))
            if unknown:
                raise ValueError(f"{owner} cites unknown sources {unknown}; known: {sorted(self.sources)}")
        for model in self.models:
            if model.tokenizer not in self.tokenizers:
                raise ValueError(
                    f"model {model.id!r}: tokenizer {model.tokenizer!r} is not one of {sorted(self.tokenizers)}"
                )
        _check_unique_names(self.models)
        _check_batch_arithmetic(self.models, self.rules.batch.price_multiplier)
        _check_feature_periods(self.models, self.features)
        _check_channel_models(self.models, self.rules.channels)
        _check_image_rules(self.models, self.tokenizers, self.media)
        for model in self.models:
            model._features = self.features
        return self

    def _source_references(self) -> list[tuple[str, tuple[str, ...]]]:
        rules = self.rules
        refs: list[tuple[str, tuple[str, ...]]] = [
            ("rules.batch", rules.batch.sources),
            ("rules.caching", rules.caching.sources),
            ("rules.prompt_tiers", rules.prompt_tiers.sources),
            ("rules.data_residency", rules.data_residency.sources),
            ("rules.web_search", rules.web_search.sources),
        ]
        refs.append(("rules.code_execution", rules.code_execution.sources))
        refs += [(f"rules.channels.{name}", rules.channels.rule(name).sources) for name in CHANNELS]
        refs += [(f"features.{name}", self.features.period(name).sources) for name in GLOBAL_FEATURES]
        refs += [(f"tokenizers.{name}", tok.sources) for name, tok in self.tokenizers.items()]
        refs.append(("media", self.media.sources))
        refs += [(f"media.image_rules.{name}", rule.sources) for name, rule in self.media.image_rules.items()]
        for model in self.models:
            refs.append((f"model {model.id!r}", model.sources))
            if model.fast_mode is not None:
                refs.append((f"model {model.id!r} fast_mode", model.fast_mode.sources))
            refs += [(f"model {model.id!r} prices from {p.effective_from}", p.sources) for p in model.prices]
            refs += [
                (f"model {model.id!r} fast prices from {p.effective_from}", p.fast.sources)
                for p in model.prices
                if p.fast is not None
            ]
        return refs


def _check_channel_models(models: tuple[Model, ...], channels: ChannelRules) -> None:
    """A channel's regional premium names its first model by id: that id must be in the table."""
    ids = {model.id for model in models}
    for name in CHANNELS:
        first = channels.rule(name).regional_premium_from_model
        if first is not None and first not in ids:
            raise ValueError(f"rules.channels.{name}.regional_premium_from_model: no model has the id {first!r}")


def _check_image_rules(
    models: tuple[Model, ...], tokenizers: Mapping[str, TokenizerCalibration], media: MediaRules
) -> None:
    """Every image rule a tokenizer generation or a model names is one of `media.image_rules`."""
    named = [(f"tokenizers.{name}", (tok.image_rule, *tok.image_rule_band)) for name, tok in tokenizers.items()]
    named += [(f"model {model.id!r}", (model.image_rule,)) for model in models if model.image_rule is not None]
    for owner, rules in named:
        unknown = sorted(set(rules) - set(media.image_rules))
        if unknown:
            raise ValueError(f"{owner} names image rules {unknown}; known: {sorted(media.image_rules)}")


def _check_unique_names(models: tuple[Model, ...]) -> None:
    owner: dict[str, str] = {}
    for model in models:
        for name in (model.id, *model.aliases, model.name):
            key = normalize_model_name(name)
            if owner.setdefault(key, model.id) != model.id:
                raise ValueError(f"name {name!r} of model {model.id!r} is already used by model {owner[key]!r}")


def _check_batch_arithmetic(models: tuple[Model, ...], multiplier: Decimal) -> None:
    for model in models:
        for period in model.prices:
            for rates in (period, *period.tiers):
                for field in STANDARD_RATE_FIELDS:
                    standard, batch = rates.rate(field), rates.rate(f"batch_{field}")
                    if standard is not None and batch is not None and batch != standard * multiplier:
                        raise ValueError(
                            f"model {model.id!r}, prices from {period.effective_from}: "
                            f"batch_{field} is {batch} but {field} {standard} × the batch multiplier "
                            f"{multiplier} is {standard * multiplier}"
                        )


def _check_feature_periods(models: tuple[Model, ...], features: Features) -> None:
    """No price row claims a feature on days that feature did not exist (cancelled rows never applied)."""
    for model in models:
        for period, start, end in model.dated_periods():
            claims: list[tuple[Feature, bool]] = [
                ("prompt_caching", period.has_cache_rates),
                ("message_batches", period.has_batch_rates),
                ("cache_ttl_1h", period.cache_write_1h_mtok is not None),
            ]
            for feature, claimed in claims:
                window = features.period(feature)
                if claimed and not window.overlaps(start, end):
                    raise ValueError(
                        f"model {model.id!r}, prices from {start}: the row carries {feature} rates, but that "
                        f"feature existed only from {window.available_from}"
                        + (f" until {window.removed}" if window.removed else "")
                        + "; remove them from this row"
                    )
            beta = features.context_1m_beta
            for tier in period.tiers:
                if tier.above_prompt_tokens >= model.context_window_tokens and not beta.contains(start, end):
                    raise ValueError(
                        f"model {model.id!r}, prices from {start}: the tier above {tier.above_prompt_tokens:,} "
                        f"tokens lies beyond the model's {model.context_window_tokens:,}-token window, so it can only "
                        f"apply during the 1M-context beta ({beta.available_from} to {beta.removed}); split the row"
                    )
        residency = features.data_residency
        if model.data_residency_us and not residency.overlaps(model.lifecycle.released, model.lifecycle.retired):
            raise ValueError(
                f"model {model.id!r} offers US data residency, but it was retired before data residency existed "
                f"({residency.available_from})"
            )
