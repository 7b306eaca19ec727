"""Throughput of the alpha-stable sampler against NumPy and scipy baselines, in one run.

Run: ``python benchmarks/bench_noise.py [--repeat 15]``. For 10^6 symmetric draws at
alpha = 1.5 (and 1.75) it times, after a warm-up, in rounds that run every variant once
(so that a change of load hits all alike), the min and the median over rounds (the
machine may be shared: the min is the cost, the median the weather), and the CPU time:

* ``poc.sample_stable`` in float64 and float32, on 1 and 2 Numba threads;
* (a) a blocked, in-place, log-space CMS on NumPy's SIMD ufuncs (below, ~15 lines),
  in float64 and float32;
* (b) the textbook vectorised NumPy CMS (float64);
* (c) ``scipy.stats.levy_stable.rvs`` (float64).

Targets (issue 19), float64 on 2 threads: >= 2x (a), >= 4x (b), >= 10x (c); float32
>= 1.6x the float64 path. The load average is printed before and after: another
process on the cores inflates every time, the baselines' too.

Why not Intel SVML (issue 13): PyPI's llvmlite is built without the SVML patch
(``numba -s``: "SVML Operational: False" even with intel-cmplr-lib-rt installed),
so Numba's ``math.sin`` stays a scalar libm call. The sampler instead evaluates its
own polynomials and a counter-based generator (Philox4x32-10) in one loop that LLVM
vectorises (see :mod:`poc.noise`).
"""

from __future__ import annotations

import argparse
import math
import os
import time

import numba
import numpy as np
from scipy import stats

import poc

N = 10**6


def numpy_cms(alpha: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """(b) Textbook vectorised Chambers-Mallows-Stuck (symmetric, alpha != 1)."""
    v = math.pi * (rng.random(n) - 0.5)
    w = rng.standard_exponential(n)
    return (np.sin(alpha * v) / np.cos(v) ** (1 / alpha)
            * (np.cos((1 - alpha) * v) / w) ** ((1 - alpha) / alpha))


def numpy_cms_blocked(alpha: float, n: int, rng: np.random.Generator, dtype=np.float64,
                      block: int = 8192) -> np.ndarray:
    """(a) CMS in cache-sized blocks, in place, in log space: the best plain-NumPy formulation."""
    out = np.empty(n, dtype)
    e, ia = (1 - alpha) / alpha, 1 / alpha
    # float32 cos(v) can be -4e-8 at v = float32(pi/2): NaN, one of the traps the sampler avoids
    with np.errstate(divide="ignore", invalid="ignore"):
        for s in range(0, n, block):
            o = out[s:s + block]
            v = rng.random(o.size, dtype=dtype)
            v -= 0.5
            v *= np.pi
            t = np.cos(v * (1 - alpha))
            t /= rng.standard_exponential(o.size, dtype=dtype)
            np.log(t, out=t)
            t *= e
            c = np.cos(v)
            np.log(c, out=c)
            c *= ia
            t -= c
            np.exp(t, out=t)
            np.sin(v * alpha, out=o)
            o *= t
    return out


def _with_threads(nt: int, fn):
    def call():
        numba.set_num_threads(nt)
        return fn()
    return call


def round_robin(variants: dict, repeat: int) -> dict:
    """{name: (min wall, median wall, min CPU) seconds}: one warm-up call each, then ``repeat``
    rounds that time every variant once, so that a change of load hits all of them alike.

    CPU time is the process's (all threads): for one thread it is the cost without the
    waits for a busy core, for two it adds both threads' work.
    """
    wall = {k: [] for k in variants}
    cpu = {k: [] for k in variants}
    for fn in variants.values():
        fn()
    for _ in range(repeat):
        for name, fn in variants.items():
            c0, t0 = time.process_time(), time.perf_counter()
            fn()
            wall[name].append(time.perf_counter() - t0)
            cpu[name].append(time.process_time() - c0)
    return {k: (min(wall[k]), float(np.median(wall[k])), min(cpu[k])) for k in variants}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    threads = numba.config.NUMBA_NUM_THREADS
    nt = min(2, threads)
    print(f"{N:.0e} symmetric alpha-stable draws; Numba threads available: {threads}; "
          f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    for alpha in (1.5, 1.75):
        variants = {}
        for k in sorted({1, nt}):
            for dt in (np.float64, np.float32):
                variants[f"poc.sample_stable {np.dtype(dt).name}, {k} thread(s)"] = _with_threads(
                    k, lambda a=alpha, dt=dt: poc.sample_stable(a, N, seed=rng, dtype=dt))
        variants["(a) blocked NumPy CMS float64"] = lambda a=alpha: numpy_cms_blocked(a, N, rng)
        variants["(a) blocked NumPy CMS float32"] = lambda a=alpha: numpy_cms_blocked(a, N, rng, np.float32)
        variants["(b) textbook NumPy CMS float64"] = lambda a=alpha: numpy_cms(a, N, rng)
        rows = round_robin(variants, args.repeat)
        rows.update(round_robin({"(c) scipy levy_stable.rvs float64": lambda a=alpha: stats.levy_stable.rvs(
            a, 0, size=N, random_state=rng)}, max(3, args.repeat // 5)))
        numba.set_num_threads(threads)
        print(f"\nalpha = {alpha}            (Mdraws/s: per wall second, min and median time; "
              "per CPU second)")
        print(f"  {'implementation':<40} {'min ms':>7} {'Mdraws/s':>9} {'median':>7} {'Mdraws/s':>9} "
              f"{'CPU':>7}")
        for name, (t_min, t_med, c_min) in rows.items():
            print(f"  {name:<40} {1e3 * t_min:7.2f} {N / t_min / 1e6:9.1f} {1e3 * t_med:7.2f} "
                  f"{N / t_med / 1e6:9.1f} {N / max(c_min, 1e-9) / 1e6:7.1f}")
        ours64 = rows[f"poc.sample_stable float64, {nt} thread(s)"]
        ours32 = rows[f"poc.sample_stable float32, {nt} thread(s)"]
        for label, key, target in (("(a) blocked NumPy", "(a) blocked NumPy CMS float64", 2.0),
                                   ("(b) textbook NumPy", "(b) textbook NumPy CMS float64", 4.0),
                                   ("(c) scipy", "(c) scipy levy_stable.rvs float64", 10.0)):
            print(f"  float64, {nt} threads vs {label:<19} {rows[key][0] / ours64[0]:6.1f}x (min), "
                  f"{rows[key][1] / ours64[1]:6.1f}x (median); target >= {target:g}x")
        print(f"  float32 vs float64, {nt} threads          {ours64[0] / ours32[0]:6.2f}x (min), "
              f"{ours64[1] / ours32[1]:6.2f}x (median); target >= 1.6x")
    print(f"\nload average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
