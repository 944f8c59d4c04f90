"""Estimator package (public API filled in by the estimator issue)."""
