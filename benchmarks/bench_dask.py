"""``poc validate chaos``: serial against a Dask LocalCluster, warm cache, 64-worker projection.

Three runs of the same check, same seed, each in a fresh process (a small warm-up run
compiles the kernels first, not timed):

1. serially in-process, with a fresh cache (OUT/.cache filled), every unit timed
   (through :func:`poc.units.watch_units`);
2. ``poc validate chaos`` again on the same OUT: every unit from the warm cache (process
   start, imports, fits and the figure are what remains);
3. in-process on a LocalCluster of N single-threaded workers, no cache, every unit timed
   on its worker; this is what ``--scheduler local:N`` runs.

It prints the wall times, the speed-up (1) / (3), the warm-cache fraction (2) / (1),
whether the JSON numbers of (1), (2) and (3) agree (elapsed times aside), and, from
the per-unit times of (3), a projection to W workers:

* the chaos check runs its 8 studies at once on a cluster; a network study is a chain
  (reference cloud, then its (n, block) units, then its half-split error), so the
  projected wall time is ``rest + max(longest chain, total unit work / W)``, with
  ``rest`` the client's own time (the serial wall time minus its unit times);
* the largest n within a time budget assumes the check's design: doubling n_max adds
  one octave of n at the same replicates, so the total unit work (a geometric sum
  dominated by n_max) doubles, the largest unit (one replicate block at n_max, O(n m d)
  per step for the feature drift) doubles, and the reference cloud (N = 32 n_max)
  doubles; every term is scaled by n / n_max (the figure too: pessimistic).

The "serial" run is not single-core: Numba's parallel kernels already use every
core inside a unit, so the speed-up measures what running units side by side adds.

Measured on this 2-core machine, quiet, full mode (n = 32 .. 8192, 4 alphas, 476 units):
serial in-process 145.7 s; LocalCluster of 2 workers 82.6 s, a speed-up of 1.76x (the
serial run's Numba threads gain only 7 % over one thread on these unit sizes: the units
on the cluster add up to 156.0 s of single-threaded work); JSON numbers identical. Largest
unit 5.8 s, longest chain (reference, block, half split) 8.2 s, client rest 5.5 s: on 64
workers the check would take about 14 s, and n_max = 262144 (2^18) fits in 10 minutes
(projected 438 s). ``poc validate chaos --full`` from the command line: 166.7 s cold,
7.05 s with every unit cached (4.2 %).

``--all`` runs every check (or ``--checks``) in one process on a LocalCluster, records
each unit's time on its worker and the client's time outside the units, and projects
each check's critical path on ``--project`` workers. Measured with ``--all --full`` on a 2-worker
LocalCluster while CI ran beside it (times inflated up to 2x): calibration 20.0 s wall, 17 units
(64 workers: 7.8 s), noise 12.1 s, 9 units (8.5 s), euler 174.4 s, 371 units (23.8 s), compress
195.7 s, 679 units (9.4 s), digits 164.4 s, 32 units (18.0 s). With chaos (13.7 s, above) and
mnist (its largest unit, one width-5000 training run, 390 s measured under load), ``poc validate
--full`` on 64 workers is bounded by that one mnist run: about 8 minutes in all.

Usage:  python benchmarks/bench_dask.py [--full] [--workers 2] [--project 64] [--budget 600]
        python benchmarks/bench_dask.py --all [--full] [--checks a,b] [--out DIR]
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
from poc._cluster import scheduler_client
from poc.cache import UnitCache
from poc.checks import Context, chaos, run_check
from poc.units import watch_units

out = Path(sys.argv[1]); mode = sys.argv[2]; spec = sys.argv[3] if len(sys.argv) > 3 else None
times = []
record = lambda t: times.append((t.function, t.key, repr(t.config), t.seconds))
with scheduler_client(spec) as client, watch_units(on_unit=record):
    ctx = Context(mode=mode, out=out, progress=False, client=client,
                  cache=UnitCache(out / ".cache"))
    t0 = time.perf_counter()
    r = run_check(chaos, ctx)
    wall = time.perf_counter() - t0
(out / "unit_times.json").write_text(json.dumps({"wall": wall, "units": times,
                                                 "n_max": max(chaos.settings(mode == "quick").ns)}))
print(r["status"])
"""


_ALL = r"""
import json, sys, time
from pathlib import Path
from poc._cluster import scheduler_client
from poc.cache import UnitCache
from poc.checks import Context, available_checks, run_check
from poc.units import watch_units

out = Path(sys.argv[1]); mode = sys.argv[2]; spec = sys.argv[3]; names = sys.argv[4].split(",")
checks = available_checks()
res = {}
with scheduler_client(spec) as client:
    for name in names:
        times, spans = [], []
        record = lambda t: times.append((t.function, t.key, repr(t.config), t.seconds))
        with watch_units(on_unit=record, on_run=lambda desc, a, b: spans.append((a, b))):
            ctx = Context(mode=mode, out=out, progress=False, client=client,
                          cache=UnitCache(out / ".cache"))
            t0 = time.perf_counter()
            r = run_check(checks[name], ctx, name=name)
        res[name] = {"wall": time.perf_counter() - t0, "status": r["status"],
                     "units": times, "spans": [[a - t0, b - t0] for a, b in spans]}
        (out / "all_times.json").write_text(json.dumps(res))
"""


def _union(spans) -> float:
    """Length of the union of intervals."""
    total, end = 0.0, -float("inf")
    for a, b in sorted(spans):
        if b > end:
            total += b - max(a, end)
            end = b
    return total


def project_all(res: dict, workers: int) -> dict:
    """Per check: projected wall time on ``workers`` workers from a cluster run's unit times.

    ``rest`` is the time the client spent outside every run_units call (setup, fits,
    figures); the units' part is at least the longest chain (chaos: reference + largest
    block + half split; the other checks' units are independent: the largest unit) and at
    least their total work / workers.
    """
    out = {}
    for name, r in res.items():
        units = r["units"]
        if not units:
            continue
        rest = max(0.0, r["wall"] - _union(r["spans"]))
        work = sum(u[3] for u in units)
        if name == "chaos":
            chain = projection({"units": units}, workers, 0.0)["chain"]
        else:
            chain = max(u[3] for u in units)
        out[name] = {"wall": r["wall"], "units": len(units), "work": work, "rest": rest,
                     "chain": chain, "projected": rest + max(chain, work / workers)}
    return out


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


def _timed(out: Path, mode: str, spec: str | None = None) -> dict:
    """Run the check in a fresh process (serially, or on ``spec``); its wall and unit times."""
    subprocess.run([sys.executable, "-c", _TIMED, str(out), mode, *([spec] if spec else [])],
                   check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return json.loads((out / "unit_times.json").read_text())


def projection(ut: dict, workers: int, rest: float) -> dict:
    """Critical path of the check on ``workers`` workers, from per-unit times on one worker.

    The chaos check runs its 8 studies at once on a cluster. A network study is a chain:
    its reference cloud, then its (n, block) units, then its half-split error. So the wall
    time is at least the longest chain (reference + largest unit + half split of one alpha)
    and at least the total work / workers; the client's own part (fits, figure) adds to it.
    """
    units = ut["units"]
    work = sum(u[3] for u in units)
    refs = [u[3] for u in units if u[0] == "_reference_unit"]
    splits = [u[3] for u in units if u[0] == "_half_split_unit"]
    blocks = [u[3] for u in units if u[0] not in ("_reference_unit", "_half_split_unit")]
    chain = max(refs, default=0.0) + max(blocks) + max(splits, default=0.0)
    return {"work": work, "units": len(units), "largest": max(u[3] for u in units),
            "chain": chain, "rest": rest, "wall": rest + max(chain, work / workers)}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--full", action="store_true", help="full mode (default: quick)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--project", type=int, default=64, help="workers of the projection")
    p.add_argument("--budget", type=float, default=600.0, help="seconds of the projection")
    p.add_argument("--all", action="store_true",
                   help="instead: every check (or --checks) on the cluster, and its projection")
    p.add_argument("--checks", default="calibration,noise,chaos,euler,compress,digits,mnist")
    p.add_argument("--out", help="--all: results folder (default: a temporary one); a folder "
                                 "with a cache resumes, but cached units are not timed")
    a = p.parse_args(argv)
    mode = "full" if a.full else "quick"
    if a.all:
        return main_all(a, mode)
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
    os.environ.update(env)
    tmp = Path(tempfile.mkdtemp(prefix="bench-dask-"))
    try:
        _cli(tmp / "warmup", "quick", "--no-cache")  # compile every kernel (not timed)
        serial = _timed(tmp / "serial", mode)
        t_serial = serial["wall"]
        t_warm = _cli(tmp / "serial", mode)  # the same OUT: every unit cached
        warm = _numbers(tmp / "serial" / "chaos.json")
        dask = _timed(tmp / "dask", mode, f"local:{a.workers}")
        t_dask = dask["wall"]
        same_dask = _numbers(tmp / "dask" / "chaos.json") == warm
        print(f"poc validate chaos --{mode}, {os.cpu_count()} cores")
        print(f"  serial (in-process, cache filled)   {t_serial:8.1f} s")
        print(f"  warm-cache rerun (poc validate)      {t_warm:8.1f} s  "
              f"({100 * t_warm / t_serial:.1f} % of serial; process start included)")
        print(f"  LocalCluster, {a.workers} workers (in-process) {t_dask:8.1f} s  speed-up "
              f"{t_serial / t_dask:.2f}x (goal >= 1.7x)")
        print(f"  JSON numbers identical: cluster vs serial/warm {same_dask}")
        W = a.project
        rest = max(0.0, t_serial - sum(u[3] for u in serial["units"]))
        pr = projection(dask, W, rest)
        print(f"  units on the cluster: {pr['units']}, work {pr['work']:.1f} s (one thread "
              f"each), largest {pr['largest']:.2f} s, longest chain {pr['chain']:.1f} s, "
              f"client rest {pr['rest']:.1f} s")
        print(f"  projection on {W} workers: {pr['wall']:.1f} s "
              f"(rest + max(longest chain, work / {W}))")
        # every term grows like n_max (see the docstring): double n_max while it fits
        n_max, n, t = dask["n_max"], dask["n_max"], pr["wall"]
        while 2 * t <= a.budget:
            n, t = 2 * n, 2 * t
        print(f"  largest n_max within {a.budget:g} s on {W} workers: about {n} (projected "
              f"{t:.0f} s; measured n_max {n_max}; assumptions in the module docstring)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main_all(a, mode: str) -> None:
    os.environ.update(PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
    out = Path(a.out) if a.out else Path(tempfile.mkdtemp(prefix="bench-dask-all-"))
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", _ALL, str(out), mode, f"local:{a.workers}", a.checks],
                   check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    res = json.loads((out / "all_times.json").read_text())
    pr = project_all(res, a.project)
    print(f"poc validate --{mode} on a LocalCluster of {a.workers} workers, {wall:.0f} s in all "
          f"(process and cluster start included)")
    print(f"  {'check':12s} {'status':7s} {'wall s':>8s} {'units':>6s} {'work s':>8s} "
          f"{'rest s':>7s} {'chain s':>8s} {f'on {a.project} s':>9s}")
    for name, r in res.items():
        q = pr.get(name)
        if q is None:
            print(f"  {name:12s} {r['status']:7s} {r['wall']:8.1f}   (no unit computed: cached)")
            continue
        print(f"  {name:12s} {r['status']:7s} {r['wall']:8.1f} {q['units']:6d} {q['work']:8.1f} "
              f"{q['rest']:7.1f} {q['chain']:8.1f} {q['projected']:9.1f}")
    total = sum(q["projected"] for q in pr.values())
    print(f"  projected critical path of these checks on {a.project} workers, one check after "
          f"the other: {total:.0f} s")


if __name__ == "__main__":
    main()
