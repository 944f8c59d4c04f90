"""The package version (one number for `pricing` and `estimator`): printed by `--version`, recorded in lock
files, read by the build backend. It lives at the bottom layer so that both command lines can print it."""

__version__ = "0.2.0"
