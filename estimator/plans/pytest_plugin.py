"""A pytest plugin for teams: enable it with `-p estimator.plans.pytest_plugin` (or in `conftest.py`:
`pytest_plugins = ["estimator.plans.pytest_plugin"]`), then use the `claude_cost_gate` fixture:

    def test_costs(claude_cost_gate):
        check = claude_cost_gate("costs.yaml", "costs.lock.json", max_increase="10%")
        assert check.total_usd < 1000

The fixture is `estimator.plans.assert_cost_within`; paths are relative to the test run's directory.
Nothing here is imported by `import estimator`, so pytest stays a test-time dependency.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from estimator.plans.gate import PlanCheck
from estimator.plans.testing import assert_cost_within

__all__ = ["claude_cost_gate"]


@pytest.fixture
def claude_cost_gate() -> Callable[..., PlanCheck]:
    """`claude_cost_gate(plan, baseline=None, max_increase=None, **options)`: fails the test when a
    budget or an allowed increase is crossed, with the reason; returns the check otherwise."""
    return assert_cost_within
