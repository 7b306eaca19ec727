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

A second table times the copies-against-reference kernel of the McKean-Vlasov
limit, ``drift.against(x, cloud)`` (the drift of k nonlinear copies under the
empirical measure of a reference cloud of N particles), for k = 4096 copies
against N = 16384 (67M pairs) in d = 1: the Kuramoto kernel
K(x, y) = sin(y - x) with V(x) = -x, and DoubleWell, on 1 and 2 threads, next
to the particle kernel drift(x) at the same pair count (n = sqrt(k N) = 8192)
and to a NumPy broadcast baseline (row chunks of 64).

Usage:  python benchmarks/bench_pairwise.py [--n 4000] [--k 4096] [--N 16384] [--repeats 5]
"""

from __future__ import annotations

import argparse
import math

import numba
import numpy as np
from _timing import best_time
from numba import njit

import poc
from poc.drifts import DoubleWell, NumpyDrift, PairwiseDrift


@njit
def cubic_confinement(x, out):
    for k in range(x.size):
        out[k] = -x[k] ** 3


@njit
def tanh_attraction(x, y, out):
    for k in range(x.size):
        out[k] = math.tanh(y[k] - x[k])


@njit
def minus_x(x, out):
    for k in range(x.size):
        out[k] = -x[k]


@njit
def kuramoto(x, y, out):
    for k in range(x.size):
        out[k] = math.sin(y[k] - x[k])


def numpy_kuramoto_against(x, cloud, chunk=64):
    out = -x.copy()
    for s in range(0, x.shape[0], chunk):
        out[s:s + chunk] += np.sin(cloud[None, :, :] - x[s:s + chunk, None, :]).mean(axis=1)
    return out


def numpy_double_well_against(x, cloud, kappa=1.0, chunk=64):
    out = x * (1.0 - (x * x).sum(axis=1, keepdims=True))
    for s in range(0, x.shape[0], chunk):
        out[s:s + chunk] += kappa * (cloud[None, :, :] - x[s:s + chunk, None, :]).mean(axis=1)
    return out


def against_table(k: int, N: int, repeats: int) -> None:
    rng = np.random.default_rng(1)
    x, cloud = rng.standard_normal((k, 1)), rng.standard_normal((N, 1))
    n_sq = round(math.sqrt(k * N))
    xs = rng.standard_normal((n_sq, 1))
    pairs = float(k) * N
    max_threads = numba.config.NUMBA_NUM_THREADS
    print(f"\ncopies against a reference: k = {k} copies x N = {N} reference particles, d = 1 "
          f"({pairs / 1e6:.0f}M pairs per evaluation); particle kernel at n = {n_sq}")
    print(f"{'model':<24}{'implementation':<28}{'ms/eval':>10}{'Mpairs/s':>11}{'speed-up':>10}")
    models = [
        ("Kuramoto sin(y - x)", PairwiseDrift(minus_x, kuramoto), numpy_kuramoto_against),
        ("DoubleWell (linear K)", DoubleWell(1.0), numpy_double_well_against),
    ]
    for name, drift, ref in models:
        np.testing.assert_allclose(drift.against(x, cloud), ref(x, cloud), rtol=1e-10, atol=1e-12)
        rows = []
        t1 = None
        for threads in sorted({1, min(2, max_threads)}):
            numba.set_num_threads(threads)
            t = best_time(lambda drift=drift: drift.against(x, cloud), repeats)
            t1 = t if t1 is None else t1
            rows.append((f"against, {threads} thread(s)", t, pairs))
            tp = best_time(lambda drift=drift: drift(xs), repeats)
            rows.append((f"particles, {threads} thread(s)", tp, float(n_sq) ** 2))
        numba.set_num_threads(max_threads)
        t_np = best_time(lambda ref=ref: ref(x, cloud), max(1, repeats // 2))
        rows.append(("NumPy broadcast", t_np, pairs))
        if name.startswith("Kuramoto"):
            nd = NumpyDrift(numpy_kuramoto_against)
            t_nd = best_time(lambda nd=nd: nd.against(x, cloud), max(1, repeats // 2))
            rows.append(("NumpyDrift (same NumPy)", t_nd, pairs))
        for impl, t, p in rows:
            print(f"{name:<24}{impl:<28}{t * 1e3:>10.1f}{p / t / 1e6:>11.0f}"
                  f"{(p / t) / (pairs / t1):>10.2f}")
    print("speed-up column: throughput relative to 'against' on 1 thread")


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
    parser.add_argument("--k", type=int, default=4096, help="copies (against table)")
    parser.add_argument("--N", type=int, default=16384, help="reference particles (against table)")
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
    against_table(args.k, args.N, args.repeats)


if __name__ == "__main__":
    main()
