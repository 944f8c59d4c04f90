"""The Claude API price table: a sourced YAML file, its strict schema, and a cached loader.

>>> import datetime as dt
>>> from pricing import load_price_table
>>> table = load_price_table()
>>> table.prices_as_of(table.model("claude-sonnet-5-5"), dt.date(2026, 10, 7)).cache_read_mtok
Decimal('0.10')
"""

from pricing.errors import (
    FeatureUnavailableError,
    PriceNotAvailableError,
    PriceTableError,
    PricingError,
    UnknownModelError,
)
from pricing.features import Feature, FeaturePeriod, Features
from pricing.loader import DEFAULT_TABLE_PATH, load_price_table, parse_price_table
from pricing.schema import (
    CACHE_FIELDS,
    RATE_FIELDS,
    FastRates,
    Model,
    PricePeriod,
    PriceTableData,
    PromptTier,
    RateSet,
    TokenizerCalibration,
    normalize_model_name,
)
from pricing.table import PriceTable

__all__ = [
    "CACHE_FIELDS",
    "DEFAULT_TABLE_PATH",
    "RATE_FIELDS",
    "FastRates",
    "Feature",
    "FeaturePeriod",
    "FeatureUnavailableError",
    "Features",
    "Model",
    "PriceNotAvailableError",
    "PricePeriod",
    "PriceTable",
    "PriceTableData",
    "PriceTableError",
    "PricingError",
    "PromptTier",
    "RateSet",
    "TokenizerCalibration",
    "UnknownModelError",
    "load_price_table",
    "normalize_model_name",
    "parse_price_table",
]
