"""What the calibration tests share: a quick context, and faults injected by monkeypatching a
name where the caller looks it up at run time."""

from __future__ import annotations

import importlib

from poc.checks import Context


def quick_ctx(out) -> Context:
    """A quick-mode check context at seed 0 that writes into ``out``, without progress bars."""
    return Context(mode="quick", seed=0, out=out, progress=False)


def patch_at(monkeypatch, target: tuple[str, str], value) -> None:
    """Monkeypatch ``target = (module, attribute)`` to ``value`` (the module imported by name)."""
    module, attr = target
    monkeypatch.setattr(importlib.import_module(module), attr, value)
