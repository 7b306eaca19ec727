"""Fixtures shared by the test modules."""

from __future__ import annotations

import pytest


@pytest.fixture
def quick_context(tmp_path):
    """A quick-mode check context at seed 0 that writes into the test's temporary directory."""
    from poc.checks import Context

    return Context(mode="quick", seed=0, out=tmp_path, progress=False)
