"""What every theorem check shares: its context, its cases and its result file.

A check is a module in ``poc.checks`` with

* ``NAME`` -- the name used on the command line and for ``<out>/<NAME>.json``;
* ``TITLE`` -- one sentence stating the claim being checked;
* ``run(ctx: Context) -> list[Case]`` -- does the work, saves its figures
  through ``ctx.save_figure`` and returns its cases.

The runner (:func:`run_check`) times it and writes ``<out>/<NAME>.json``
atomically. A check passes only if every one of its cases testing the paper
passes (cases marked "beyond the paper" are summarised on their own, in
``"beyond_the_paper"``, and do not change the verdict). Every run
of a check leaves a result file with a ``"status"``:

* ``PASS`` / ``FAIL`` -- it ran; FAIL means a measurement disagreed with the claim;
* ``SKIPPED`` -- an optional extra is missing (``reason`` and ``install`` say which);
* ``ERROR`` -- it crashed (``reason`` is one line, the traceback is in ``<out>/<NAME>.log``).

``"passed"`` stays a bool (true only for PASS), and ``"started"`` /
``"finished"`` are UTC timestamps (ISO 8601), so a report can tell runs apart.
"""

from __future__ import annotations

import importlib
import threading
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._progress import progress_bar
from .._validation import MissingExtraError
from ..report import atomic_save_figure, atomic_write_json, atomic_write_text, jsonable, utc_now

MODES = ("quick", "full")
_UNITS_BAR_LOCK = threading.Lock()
STATUSES = ("PASS", "FAIL", "SKIPPED", "ERROR")


@dataclass
class Case:
    """One verdict inside a check.

    ``measured_rate``/``ci``/``expected_rate`` are filled for rate fits; other
    measurements (test statistics, p-values) go in ``values``. ``source`` says
    where the claim comes from: ``"paper"``, ``"beyond the paper"`` (an addition
    of the toolkit, judged and reported on its own line but not part of the
    check's verdict) or None (a theorem check, whose cases all test the paper).
    """

    name: str
    passed: bool
    detail: str
    measured_rate: float | None = None
    ci: tuple[float, float] | None = None
    expected_rate: float | None = None
    values: dict[str, Any] = field(default_factory=dict)
    source: str | None = None


PAPER, BEYOND = "paper", "beyond the paper"
SOURCES = (PAPER, BEYOND)


def verdict_of(cases) -> tuple[bool, dict | None]:
    """(the check's verdict, the summary of its cases beyond the paper or None).

    The verdict is that of the cases testing the paper (``source`` "paper" or
    None): all of them pass, and there is at least one. Cases "beyond the
    paper" get their own summary, ``{"status", "passed", "cases"}``, and never
    change the verdict. Works on :class:`Case` objects and on their JSON dicts.
    """
    def get(c, key):
        return c.get(key) if isinstance(c, dict) else getattr(c, key)

    for c in cases:
        if get(c, "source") not in (None, *SOURCES):
            raise ValueError(f"a case's source must be one of {SOURCES} or None, got "
                             f"{get(c, 'source')!r} (case {get(c, 'name')!r})")
    paper = [c for c in cases if get(c, "source") != BEYOND]
    beyond = [c for c in cases if get(c, "source") == BEYOND]
    passed = bool(paper) and all(get(c, "passed") for c in paper)
    if not beyond:
        return passed, None
    n_ok = sum(bool(get(c, "passed")) for c in beyond)
    return passed, {"status": "PASS" if n_ok == len(beyond) else "FAIL", "passed": n_ok,
                    "cases": len(beyond)}


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
    client: Any = None  # a dask.distributed.Client: run the work units there (None: serially)
    cache: Any = None  # a poc.cache.UnitCache of finished work units (None: no cache)
    dashboard: str | None = None  # the Dask dashboard's address, shown on the progress bar
    name: str = "check"  # set by run_check
    _units_bar: Any = field(default=None, repr=False)

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
        """A progress display on stderr, shown only when progress is on.

        A tqdm bar on a terminal; elsewhere (CI logs, files) a plain line at
        most every 10 s with the fraction done, never escape codes.
        """
        return progress_bar(iterable, total=total, desc=desc, enabled=self.progress)

    def units_bar(self):
        """The check's one progress bar over its work units, on every worker.

        Pass it as ``progress=`` to :func:`poc.units.run_units` and to the
        studies: each call adds its units to the bar's total, so a check shows
        a single bar however many studies it runs. It links to the Dask
        dashboard when one runs; :func:`run_check` closes it.
        """
        with _UNITS_BAR_LOCK:  # the studies of a check ask for it from several threads at once
            if self._units_bar is None:
                bar = progress_bar(total=0, desc=f"{self.name}: work units", enabled=self.progress)
                if self.dashboard:
                    bar.set_postfix_str(f"dashboard {self.dashboard}")
                self._units_bar = bar
            return self._units_bar

    def close_bar(self) -> None:
        if self._units_bar is not None:
            self._units_bar.close()
            self._units_bar = None

    def save_figure(self, fig, name: str) -> str:
        """Save ``fig`` as ``out/name`` atomically and list it in the result."""
        import matplotlib.pyplot as plt

        atomic_save_figure(fig, self.out / name, dpi=130, bbox_inches="tight")
        plt.close(fig)
        self.figures.append(name)
        return name


def one_line(exc: BaseException) -> str:
    """``"ExcType: first line of the message"``: an exception as one line of text."""
    msg = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {msg[0]}" if msg else type(exc).__name__


def run_check(module, ctx: Context, *, name: str | None = None) -> dict:
    """Run one check module, write ``<out>/<NAME>.json`` and return the result dict.

    ``module`` is the check's module, or its dotted name (then imported here,
    so that an import failure is reported like a failure of the check, under
    ``name``). A missing optional extra (:class:`~poc._validation.MissingExtraError`)
    gives a SKIPPED result and any other exception an ERROR result, with the
    traceback written to ``<out>/<NAME>.log``; neither is raised, so the
    caller can go on with the next check. KeyboardInterrupt propagates.
    """
    if name is None:
        name = module if isinstance(module, str) else module.NAME
    ctx.name = name
    ctx.out.mkdir(parents=True, exist_ok=True)
    started = utc_now()
    t0 = time.perf_counter()
    result = {
        "check": name,
        "title": "",
        "mode": ctx.mode,
        "seed": ctx.seed,
        "status": "ERROR",
        "passed": False,
        "cases": [],
        "figures": [],
        "notes": [],
        "tables": [],
        "started": started,
    }
    try:
        if isinstance(module, str):
            module = importlib.import_module(module)
        result["title"] = module.TITLE
        try:
            cases = module.run(ctx)
        finally:
            ctx.close_bar()
    except MissingExtraError as exc:
        result.update(status="SKIPPED", reason=str(exc), install=exc.install, extra=exc.extra)
    except Exception as exc:
        log = ctx.out / f"{name}.log"
        atomic_write_text(log, f"poc check {name!r}, mode {ctx.mode}, seed {ctx.seed}, "
                               f"started {started}\n\n{traceback.format_exc()}")
        result.update(status="ERROR", reason=one_line(exc), log=log.name)
    else:
        passed, beyond = verdict_of(cases)
        result.update(status="PASS" if passed else "FAIL", passed=passed,
                      cases=[jsonable(asdict(c)) for c in cases])
        if beyond is not None:
            result["beyond_the_paper"] = beyond
    if result["status"] != "ERROR":  # a traceback left by an earlier run would mislead
        (ctx.out / f"{name}.log").unlink(missing_ok=True)
    result.update(figures=list(ctx.figures), notes=list(ctx.notes), tables=list(ctx.tables),
                  elapsed_s=round(time.perf_counter() - t0, 2), finished=utc_now())
    atomic_write_json(ctx.out / f"{name}.json", result)
    return result
