"""Fixtures shared by the test modules."""

from __future__ import annotations

import pytest


@pytest.fixture
def quick_context(tmp_path):
    """A quick-mode check context at seed 0 that writes into the test's temporary directory."""
    from _injection import quick_ctx

    return quick_ctx(tmp_path)
