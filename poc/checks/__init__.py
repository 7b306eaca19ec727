"""The theorem checks run by ``poc validate``.

Each entry of :data:`CHECKS` maps a check name to the module implementing it
(see :mod:`poc.checks._base` for what a check module provides); adding a check
is adding a module and one entry. Modules are imported only when their check
runs, so ``poc validate noise`` never compiles the kernels of the others.

Test-only: the environment variable ``POC_EXTRA_CHECKS="name=module[,name=module]"``
appends checks from other importable modules (the test suite uses it to inject
checks that crash, lack an extra or wait for an interrupt). It is not a
plug-in interface for users.
"""

from __future__ import annotations

import importlib
import os

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
    "digits": "poc.checks.digits",
    "mnist": "poc.checks.mnist",
}


def available_checks() -> dict[str, str]:
    """:data:`CHECKS` plus the test-only checks named in ``POC_EXTRA_CHECKS``."""
    checks = dict(CHECKS)
    for item in os.environ.get("POC_EXTRA_CHECKS", "").split(","):
        if not item.strip():
            continue
        name, sep, module = (part.strip() for part in item.partition("="))
        if not (sep and name and module):
            raise ValueError(f"POC_EXTRA_CHECKS entries must look like name=module, got {item!r}")
        checks[name] = module
    return checks


def get_check(name: str):
    """Import and return the module of check ``name``."""
    checks = available_checks()
    if name not in checks:
        allowed = ", ".join(checks)
        raise ValueError(f"unknown check {name!r}; available checks: {allowed}")
    return importlib.import_module(checks[name])
