"""What every theorem check shares: its context, its cases and its result file.

A check is a module in ``poc.checks`` with

* ``NAME`` -- the name used on the command line and for ``<out>/<NAME>.json``;
* ``TITLE`` -- one sentence stating the claim being checked;
* ``run(ctx: Context) -> list[Case]`` -- does the work, saves its figures
  through ``ctx.save_figure`` and returns its cases.

The runner (:func:`run_check`) times it and writes the JSON of DESIGN.md
section 6 atomically. A check passes only if every one of its cases passes.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from ..report import atomic_save_figure, atomic_write_json

MODES = ("quick", "full")


@dataclass
class Case:
    """One verdict inside a check.

    ``measured_rate``/``ci``/``expected_rate`` are filled for rate fits; other
    measurements (test statistics, p-values) go in ``values``.
    """

    name: str
    passed: bool
    detail: str
    measured_rate: float | None = None
    ci: tuple[float, float] | None = None
    expected_rate: float | None = None
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class Context:
    """Settings of one run of a check, and the services it may use."""

    mode: str = "quick"
    seed: int = 0
    out: Path = Path("figures")
    progress: bool = True
    figures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)  # markdown blocks for REPORT.md

    @property
    def quick(self) -> bool:
        return self.mode == "quick"

    def rng(self, *key: int) -> np.random.Generator:
        """A generator for sub-task ``key``, independent of every other key.

        Derived from ``(seed, *key)`` with a SeedSequence, so adding or
        reordering sub-tasks never changes the streams of the others.
        """
        return np.random.default_rng(np.random.SeedSequence([self.seed, *key]))

    def bar(self, iterable=None, *, total: int | None = None, desc: str | None = None):
        """A tqdm progress bar (on stderr, shown only when progress is on)."""
        return tqdm(iterable, total=total, desc=desc, leave=False, disable=not self.progress,
                    dynamic_ncols=True)

    def save_figure(self, fig, name: str) -> str:
        """Save ``fig`` as ``out/name`` atomically and list it in the result."""
        import matplotlib.pyplot as plt

        atomic_save_figure(fig, self.out / name, dpi=130, bbox_inches="tight")
        plt.close(fig)
        self.figures.append(name)
        return name


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, np.bool_ | bool):
        return bool(x)
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, float | np.floating):
        x = float(x)
        return x if math.isfinite(x) else None  # JSON has no NaN/inf
    return x


def run_check(module, ctx: Context) -> dict:
    """Run one check module, write ``<out>/<NAME>.json`` and return the result dict."""
    ctx.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    cases = module.run(ctx)
    elapsed = time.perf_counter() - t0
    result = {
        "check": module.NAME,
        "title": module.TITLE,
        "mode": ctx.mode,
        "seed": ctx.seed,
        "passed": bool(cases) and all(c.passed for c in cases),
        "cases": [_jsonable(asdict(c)) for c in cases],
        "figures": list(ctx.figures),
        "notes": list(ctx.notes),
        "tables": list(ctx.tables),
        "elapsed_s": round(elapsed, 2),
    }
    atomic_write_json(ctx.out / f"{module.NAME}.json", result)
    return result
