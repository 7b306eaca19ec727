"""``poc validate chaos``: serial against a Dask LocalCluster, warm cache, 64-worker projection.

Three runs of the same check, same seed, in separate processes (so each starts cold
apart from Numba's on-disk cache; a small warm-up run of the check compiles the
kernels first, not timed):

1. serial, in-process, with a fresh cache (OUT/.cache filled), every unit timed;
2. the same command again: every unit from the warm cache;
3. ``--scheduler local:N --no-cache`` on a LocalCluster of N single-threaded workers.

It prints the wall times, the speed-up (1) / (3), the warm-cache fraction (2) / (1),
whether the JSON numbers of (1), (2) and (3) agree (elapsed times aside), and, from
the per-unit times of (1), a projection to W workers:

* work in units = sum of the times of the units a cluster runs, serial rest = wall (1)
  - that sum (reference clouds and their half-split errors, fits, figures: run on the
  client whatever the cluster);
* the projected wall time on W workers is ``rest + max(largest unit, units / W)``
  (list scheduling, the 4 chaos studies one after the other as the check runs them);
* the largest n within a time budget assumes the check's design: doubling n_max adds
  one octave of n at the same replicates, so the total unit work (a geometric sum
  dominated by n_max) doubles, the largest unit (one replicate block at n_max, O(n m d)
  per step for the feature drift) doubles, and the reference cloud (N = 32 n_max)
  doubles; every term is scaled by n / n_max (figures too: pessimistic).

The "serial" run is not single-core: Numba's parallel kernels already use every
core inside a unit, so the speed-up measures what running units side by side adds.

Measured once (2 cores shared with 3-4 other jobs: every time inflated, only ratios mean
something), full mode, before the chaos reference clouds were cached: serial 316.7 s,
``local:2`` 251.4 s (1.26x; goal 1.7x not met), warm-cache rerun 132.2 s (41.7 %: the
reference clouds, then uncached, and the figure); 388 units, 182.5 s of unit work,
largest unit 1.8 s; projection on 64 workers 132 s, largest n_max within 10 min about
32768. In-process quick mode after the reference clouds were cached: 25.8 s cold, 3.0 s
warm (11.6 %, nearly all of it the figure). This script, quick mode, after that change:
serial 28.7 s, warm-cache rerun 8.3 s (28.9 %: process start, imports, the figure),
``local:2`` 27.4 s (1.05x), JSON numbers identical; 80 cluster units, 18.1 s of work,
serial rest 8.3 s.

Usage:  python benchmarks/bench_dask.py [--full] [--workers 2] [--project 64] [--budget 600]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

_TIMED = r"""
import json, sys, time
from pathlib import Path
import poc._units as U
from poc.checks import Context, chaos, run_check

times = []
_call = U._call

def timed(func, unit, shared):
    t0 = time.perf_counter()
    try:
        return _call(func, unit, shared)
    finally:
        times.append([func.__name__, repr(unit.config), time.perf_counter() - t0])

U._call = timed
out = Path(sys.argv[1]); mode = sys.argv[2]
ctx = Context(mode=mode, out=out, progress=False, cache=U.UnitCache(out / ".cache"))
t0 = time.perf_counter()
r = run_check(chaos, ctx)
wall = time.perf_counter() - t0
(out / "unit_times.json").write_text(json.dumps({"wall": wall, "units": times,
                                                 "n_max": max(chaos.settings(mode == "quick").ns)}))
print(r["status"])
"""


def _numbers(path: Path) -> dict:
    r = json.loads(path.read_text())
    for k in ("started", "finished", "elapsed_s"):
        r.pop(k, None)
    return r


def _cli(out: Path, mode: str, *extra: str) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "poc", "validate", "chaos", f"--{mode}", "--out",
                    str(out), "--no-progress", *extra], check=False, cwd=ROOT,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--full", action="store_true", help="full mode (default: quick)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--project", type=int, default=64, help="workers of the projection")
    p.add_argument("--budget", type=float, default=600.0, help="seconds of the projection")
    a = p.parse_args(argv)
    mode = "full" if a.full else "quick"
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
    os.environ.update(env)
    tmp = Path(tempfile.mkdtemp(prefix="bench-dask-"))
    try:
        _cli(tmp / "warmup", "quick", "--no-cache")  # compile every kernel (not timed)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", _TIMED, str(tmp / "serial"), mode], check=True,
                       cwd=ROOT, stdout=subprocess.DEVNULL)
        t_serial = time.perf_counter() - t0
        t_warm = _cli(tmp / "serial", mode)  # the same OUT: every unit cached
        warm = _numbers(tmp / "serial" / "chaos.json")
        t_dask = _cli(tmp / "dask", mode, "--no-cache", "--scheduler", f"local:{a.workers}")
        ut = json.loads((tmp / "serial" / "unit_times.json").read_text())
        same_dask = _numbers(tmp / "dask" / "chaos.json") == warm
        print(f"poc validate chaos --{mode}, {os.cpu_count()} cores (shared machine: every "
              f"time inflated, compare ratios)")
        print(f"  serial (cache filled)         {t_serial:8.1f} s")
        print(f"  warm-cache rerun              {t_warm:8.1f} s  ({100 * t_warm / t_serial:.1f} % "
              f"of serial)")
        print(f"  --scheduler local:{a.workers}           {t_dask:8.1f} s  speed-up "
              f"{t_serial / t_dask:.2f}x (goal >= 1.7x)")
        print(f"  JSON numbers identical: dask vs serial/warm {same_dask}")
        # the reference clouds and their half-split errors are units for the cache only:
        # they run on the client, one after the other, so they count as serial rest
        local = {"_reference_unit", "_half_split_unit"}
        units = [u[2] for u in ut["units"] if u[0] not in local]
        work, biggest = sum(units), max(units)
        rest = max(0.0, ut["wall"] - work)
        print(f"  units: {len(units)}, work {work:.1f} s, largest {biggest:.2f} s, serial rest "
              f"(references, fits, figures) {rest:.1f} s of {ut['wall']:.1f} s in-process")
        W = a.project
        proj = rest + max(biggest, work / W)
        print(f"  projection on {W} workers: {proj:.1f} s (rest + max(largest unit, work / {W}))")
        # every term grows like n_max (see the docstring): double n_max while it fits
        n_max, n, t = ut["n_max"], ut["n_max"], proj
        while 2 * t <= a.budget:
            n, t = 2 * n, 2 * t
        print(f"  largest n_max within {a.budget:g} s on {W} workers: about {n} (projected "
              f"{t:.0f} s; measured n_max {n_max}; assumptions in the module docstring)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
