"""The package version: printed by `--version`, recorded in lock files, read by the build backend."""

__version__ = "0.2.0"
