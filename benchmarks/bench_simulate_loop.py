"""Per-step cost of poc.simulate's compiled loop: noisy minibatch SGD of the tanh network.

The step (docs: Theory, Conventions, Euler scheme; the paper's noisy SGD), for n
hidden units in R^d, m = 256 data points, minibatches of b = 32 drawn without
replacement, iid alpha = 1.5 noise, float64:

    H = X_b Theta^T (b x n), f = mean_i tanh(H), r = f - y_b,
    G = ((1 - tanh^2 H) * r)^T X_b / b,  Theta <- Theta - eta G + sigma eta^(1/alpha) xi

Rows, in microseconds per step, best of ``--repeats`` interleaved rounds after a
warm-up, all in this process:

* ``poc``: ``poc.simulate(..., batch_size=32)`` over many steps;
* ``poc, sigma = 0``: the same without noise (the loop's own cost);
* ``NumPy``: a plain NumPy loop doing the same step (``Generator.choice`` for the
  batch, two matrix products, ``np.tanh``, the textbook NumPy CMS for the noise);
* ``floor``: the step's multiply-adds ``2 * 2 b n d`` at the machine's float64 GEMM
  rate (a 1500^3 product, all threads) plus its ``n d`` draws at the rate of
  ``poc.sample_stable`` (10^6 draws): what the arithmetic and the sampler cost.

``--long`` adds ONE run at n = 1024, alpha = 1.5, T = 1 at the compression
theorem's step condition eta <= n^(-alpha/2 - 1), i.e. ceil(1024^1.75) = 185,364 steps.

Quiet machines only (loaded runs flatter poc: the NumPy loop's BLAS threads spin under
load), microseconds per step, ``--repeats 3`` (D: ``--repeats 2 --long``):

    run                     n = 64        256          1024         4096
    C poc / NumPy          16.2 / 69    59.2 / 167    212 / 482   1103 / 2091    4.3x 2.8x 2.3x 1.9x
    E poc / NumPy          12.4 / 75    55.8 / 193    190 / 554   1359 / 2513    6.0x 3.5x 2.9x 1.9x
    E' poc / NumPy          8.4 / 59    34.9 / 146    139 / 501    964 / 1936    7.0x 4.2x 3.6x 2.0x
    D poc / NumPy          21.9 / 196   97.0 / 612    325 / 1464  2007 / 6535    8.9x 6.3x 4.5x 3.3x
    D' poc / NumPy         22.7 / 244   91.1 / 485    362 / 1720  1916 / 7484   10.8x 5.3x 4.8x 3.9x
    D poc / floor                2.0x         2.2x         1.9x         2.9x

C: AVX-512 machine, load 0.5, before the noise was drawn ahead (floor 4.5 / 18 / 73 / 290 us).
E: AVX-512 machine, load 0.8-0.9, noise drawn ahead (floor 4.5 / 18 / 73 / 290 us); a second
run (--repeats 5 --long) gave 7.0x 3.7x 2.7x 1.6x, and the long run 31.2 s (168 us/step).
E': the same machine with fused multiply-adds in the loop, load 0.7-1.2 (floor 4.3 / 17 / 69 /
277 us); long run 21.5 s (116 us/step).
D, D': a 2-core AVX2 machine (no AVX-512), load 0.6-1.6, with the next block's noise drawn
on the second thread while the loop runs (n < ~1900, where the loop is serial). The
NumPy loop is much slower there; the floor is 11 / 44 / 175 / 701 us. Long run (D'):
n = 1024, T = 1, 185,364 steps in 56.1 s (303 us/step; about 150 s before the compiled loop).

Usage: python benchmarks/bench_simulate_loop.py [--repeats 5] [--long]
"""

from __future__ import annotations

import argparse
import math
import os
import time

import numpy as np
from _numpy_sgd import numpy_cms, numpy_gradient_step
from _timing import best_time

import poc
from poc.drifts import MeanFieldNetwork

M, D, B = 256, 8, 32
ALPHA, SIGMA, ETA = 1.5, 0.1, 0.05
WIDTHS = (64, 256, 1024, 4096)
TARGETS = {64: 8.0, 256: 3.0}


def make_numpy_run(X, y, theta0, steps):
    g = np.random.default_rng(3)
    scale = SIGMA * ETA ** (1 / ALPHA)

    def run():
        theta = theta0.copy()
        for _ in range(steps):
            idx = g.choice(M, B, replace=False)
            numpy_gradient_step(theta, X[idx], y[idx], ETA)
            theta += scale * numpy_cms(g, ALPHA, theta.shape)
        return theta

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--long", action="store_true", help="the n = 1024, T = 1 run")
    args = parser.parse_args()

    import numba

    rng = np.random.default_rng(0)
    X = rng.standard_normal((M, D)) / math.sqrt(D)
    y = np.tanh(X[:, 0])
    net = MeanFieldNetwork(X, y, "tanh")
    A, Bm = rng.standard_normal((1500, 1500)), rng.standard_normal((1500, 1500))
    gemm_rate = 2 * 1500**3 / best_time(lambda: A @ Bm, 3)
    draw_rate = 1e6 / best_time(lambda: poc.sample_stable(ALPHA, 10**6, seed=1), 3)

    print(f"load average before: {os.getloadavg()[0]:.1f}; numba {numba.__version__}, "
          f"{numba.get_num_threads()} threads, layer {numba.threading_layer()}")
    print(f"float64 GEMM rate {gemm_rate / 1e9:.1f} GFLOP/s; poc.sample_stable "
          f"{draw_rate / 1e6:.1f} Mdraws/s")
    print(f"{'n':>6}{'poc':>10}{'poc s=0':>10}{'NumPy':>10}{'floor':>10}"
          f"{'poc/NumPy':>11}{'poc/floor':>11}{'target':>8}")
    for n in WIDTHS:
        theta0 = rng.standard_normal((n, D))
        steps = max(40, 400_000 // n)

        def poc_run(sigma=SIGMA, theta0=theta0, steps=steps):
            return poc.simulate(net, theta0, alpha=ALPHA, sigma=sigma, step=ETA, n_steps=steps,
                                batch_size=B, seed=1, progress=False)

        runs = {"poc": poc_run, "poc0": lambda: poc_run(0.0),
                "numpy": make_numpy_run(X, y, theta0, steps)}
        best = dict.fromkeys(runs, math.inf)
        for fn in runs.values():
            fn()  # warm-up: compilation, caches
        for _ in range(args.repeats):  # interleaved: a load burst hits every row alike
            for name, fn in runs.items():
                t0 = time.perf_counter()
                fn()
                best[name] = min(best[name], (time.perf_counter() - t0) / steps)
        floor = 4.0 * B * n * D / gemm_rate + n * D / draw_rate
        speed = best["numpy"] / best["poc"]
        target = f"{TARGETS[n]:.0f}x" if n in TARGETS else ""
        print(f"{n:>6}{best['poc'] * 1e6:>10.1f}{best['poc0'] * 1e6:>10.1f}"
              f"{best['numpy'] * 1e6:>10.1f}{floor * 1e6:>10.2f}{speed:>10.2f}x"
              f"{best['poc'] / floor:>10.1f}x{target:>8}")
    if args.long:
        n, T = 1024, 1.0
        steps = math.ceil(n ** (ALPHA / 2 + 1) * T)
        theta0 = rng.standard_normal((n, D))
        t0 = time.perf_counter()
        poc.simulate(net, theta0, alpha=ALPHA, sigma=SIGMA, step=T / steps, n_steps=steps,
                     batch_size=B, seed=2, progress=False)
        elapsed = time.perf_counter() - t0
        print(f"long run: n = {n}, T = {T:g}, {steps} steps (eta = n^-1.75): {elapsed:.1f} s "
              f"({elapsed / steps * 1e6:.0f} us/step)")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
