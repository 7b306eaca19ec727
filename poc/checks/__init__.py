"""The theorem checks run by ``poc validate``.

Each entry maps a check name to the module implementing it (see
:mod:`poc.checks._base` for what a check module provides). Modules are
imported only when their check runs, so ``poc validate noise`` never
compiles the kernels of the others.
"""

from __future__ import annotations

import importlib

from ._base import MODES, Case, Context, run_check

__all__ = ["CHECKS", "MODES", "Case", "Context", "get_check", "run_check"]

# Order is the order of the report: the chain of the paper, foundation first.
CHECKS: dict[str, str] = {
    "calibration": "poc.checks.calibration",
    "noise": "poc.checks.noise",
    "chaos": "poc.checks.chaos",
    "euler": "poc.checks.euler",
    "compress": "poc.checks.compress",
    "digits": "poc.checks.digits",
    "mnist": "poc.checks.mnist",
}


def get_check(name: str):
    """Import and return the module of check ``name``."""
    if name not in CHECKS:
        allowed = ", ".join(CHECKS)
        raise ValueError(f"unknown check {name!r}; available checks: {allowed}")
    return importlib.import_module(CHECKS[name])
