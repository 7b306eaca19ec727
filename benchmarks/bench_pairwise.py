"""Throughput of the pairwise drift kernel, and its speed-up from 1 to 2 threads.

For n = 4000 particles in d = 2, one evaluation of

    b(x_i, mu^n) = V(x_i) + (1/n) sum_j K(x_i, x_j)        (n^2 = 16e6 pairs)

is timed for two models through poc's generic PairwiseDrift kernel (user
numba.njit functions): the built-in DoubleWell (linear attraction
K(x, y) = kappa (y - x)) and a bounded attraction K(x, y) = tanh(y - x)
(two libm tanh calls per pair). Each is run with numba.set_num_threads(1) and
(2); the baseline is the same drift in NumPy broadcasting (in row chunks of
250 to bound memory), measured in the same run. A full simulate() step is
timed too, to show the per-step overhead on top of the drift.

Usage:  python benchmarks/bench_pairwise.py [--n 4000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import math

import numba
import numpy as np
from _timing import best_time
from numba import njit

import poc
from poc.drifts import DoubleWell, PairwiseDrift


@njit
def cubic_confinement(x, out):
    for k in range(x.size):
        out[k] = -x[k] ** 3


@njit
def tanh_attraction(x, y, out):
    for k in range(x.size):
        out[k] = math.tanh(y[k] - x[k])


def numpy_double_well(x, kappa=1.0, chunk=250):
    out = x * (1.0 - (x * x).sum(axis=1, keepdims=True))
    for s in range(0, x.shape[0], chunk):
        xi = x[s:s + chunk, None, :]
        out[s:s + chunk] += kappa * (x[None, :, :] - xi).mean(axis=1)
    return out


def numpy_tanh(x, chunk=250):
    out = -(x**3)
    for s in range(0, x.shape[0], chunk):
        out[s:s + chunk] += np.tanh(x[None, :, :] - x[s:s + chunk, None, :]).mean(axis=1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    n, d = args.n, 2
    x = np.random.default_rng(0).standard_normal((n, d))
    pairs = float(n) * n
    max_threads = numba.config.NUMBA_NUM_THREADS
    models = [
        ("DoubleWell (linear K)", DoubleWell(1.0), numpy_double_well),
        ("tanh attraction", PairwiseDrift(cubic_confinement, tanh_attraction), numpy_tanh),
    ]
    print(f"\npairwise drift, n = {n}, d = {d} ({pairs / 1e6:.0f}M pairs per evaluation); "
          f"numba {numba.__version__}, {max_threads} threads available")
    print(f"{'model':<24}{'implementation':<20}{'ms/eval':>10}{'Mpairs/s':>11}{'speed-up':>10}")
    for name, drift, ref in models:
        np.testing.assert_allclose(drift(x), ref(x), rtol=1e-10, atol=1e-12)
        times = {}
        for threads in sorted({1, min(2, max_threads)}):
            numba.set_num_threads(threads)
            times[threads] = best_time(lambda drift=drift: drift(x), args.repeats)
        numba.set_num_threads(max_threads)
        t_np = best_time(lambda ref=ref: ref(x), max(1, args.repeats // 2))
        t_step = best_time(lambda drift=drift: poc.simulate(
            drift, x, alpha=1.5, sigma=0.1, step=1e-3, n_steps=3, seed=0, progress=False),
            args.repeats) / 3
        t1 = times[1]
        for threads, t in times.items():
            print(f"{name:<24}{f'poc, {threads} thread(s)':<20}{t * 1e3:>10.1f}"
                  f"{pairs / t / 1e6:>11.0f}{t1 / t:>10.2f}")
        print(f"{name:<24}{'poc simulate step':<20}{t_step * 1e3:>10.1f}{pairs / t_step / 1e6:>11.0f}"
              f"{t1 / t_step:>10.2f}")
        print(f"{name:<24}{'NumPy broadcast':<20}{t_np * 1e3:>10.1f}{pairs / t_np / 1e6:>11.0f}"
              f"{t1 / t_np:>10.2f}")
    print(f"speed-up column: relative to poc on 1 thread; Numba threading layer "
          f"{numba.threading_layer()}")


if __name__ == "__main__":
    main()
