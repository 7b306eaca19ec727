"""The theorem checks run by ``poc validate``.

Each entry of :data:`CHECKS` maps a check name to the module implementing it
(see :mod:`poc.checks._base` for what a check module provides); adding a check
is adding a module and one entry. Modules are imported only when their check
runs, so ``poc validate noise`` never compiles the kernels of the others.
"""

from __future__ import annotations

import importlib

from ._base import MODES, STATUSES, Case, Context, run_check

__all__ = ["CHECKS", "MODES", "STATUSES", "Case", "Context", "available_checks", "get_check",
           "run_check"]

# Order is the order of the report: the chain of the paper, foundation first.
CHECKS: dict[str, str] = {
    "calibration": "poc.checks.calibration",
    "noise": "poc.checks.noise",
    "chaos": "poc.checks.chaos",
    "euler": "poc.checks.euler",
    "compress": "poc.checks.compress",
    "theorem": "poc.checks.theorem",
    "digits": "poc.checks.digits",
    "mnist": "poc.checks.mnist",
}


def available_checks() -> dict[str, str]:
    """A copy of :data:`CHECKS`: check name -> module, in report order."""
    return dict(CHECKS)


def get_check(name: str):
    """Import and return the module of check ``name``."""
    checks = available_checks()
    if name not in checks:
        allowed = ", ".join(checks)
        raise ValueError(f"unknown check {name!r}; available checks: {allowed}")
    return importlib.import_module(checks[name])
