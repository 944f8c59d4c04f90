"""The package version, shared with `pricing` (see `pricing/version.py`)."""

from pricing.version import __version__

__all__ = ["__version__"]
