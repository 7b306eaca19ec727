"""Projected cost of ``poc validate theorem --full`` from measured per-step times.

The full mode (:func:`poc.checks.theorem.settings`) is too large to run on a
laptop: every width whose step count ``K_n = ceil(T n^(alpha/2+1))`` is at most
1.1e6, 128 replicates. This script measures, on this machine, the time per Euler
step of the check's own network (``poc.simulate`` on one Numba thread, as a
``local:N`` worker runs it) at every (condition, width) of the full mode,
multiplies by ``K_n`` and the replicates, and prints the projected CPU time, the
time on ``local:2`` (two such workers) and on 64 workers (bounded below by the
longest single replicate, which is not split).

The projection is checked on the quick mode: the same model projects the quick
mode's simulation time, which the script then measures by running the quick
mode's studies (``--no-check`` skips that).

Usage: python benchmarks/bench_theorem_full.py [--no-check]
"""

from __future__ import annotations

import argparse
import math
import os
import time

import numba
import numpy as np

import poc
from poc.checks import theorem as th


def per_step(net, s: th.Settings, cond: th.Condition, n: int) -> float:
    """Seconds per step of one replicate at width n (one Numba thread, best of 3)."""
    x0 = np.random.default_rng(0).standard_normal((n, s.d))
    k, eta = th.theorem_steps(n, cond.step_alpha, s.T)
    steps = int(min(k, max(200, 4e6 // (n * s.m))))  # about 0.2 s per timing
    kw = dict(alpha=cond.alpha, sigma=s.sigma if cond.sigma_on else 0.0, step=eta,
              n_steps=steps, batch_size=s.batch_size if cond.batch else None, seed=1,
              progress=False)
    poc.simulate(net, x0, **kw)  # warm-up
    best = math.inf
    for _ in range(3):
        t0 = time.perf_counter()
        poc.simulate(net, x0, **kw)
        best = min(best, time.perf_counter() - t0)
    return best / steps


def project(s: th.Settings, net, label: str) -> tuple[float, float]:
    """(total CPU seconds, longest replicate) of one mode; prints a row per condition."""
    total, longest = 0.0, 0.0
    print(f"\n{label}: {s.replicates} replicates")
    print(f"{'condition':<28}{'widths':>14}{'largest K_n':>13}{'s/replicate':>13}{'CPU h':>9}")
    for cond in th.conditions():
        ns = th.widths(cond, s)
        cost = 0.0
        for n in ns:
            one = th.n_steps(cond, n, s) * per_step(net, s, cond, n)
            longest = max(longest, one)
            cost += one * s.replicates
        total += cost
        print(f"{cond.label:<28}{f'{ns[0]}..{ns[-1]}':>14}{th.n_steps(cond, ns[-1], s):>13}"
              f"{one:>13.1f}{cost / 3600:>9.2f}")
    return total, longest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-check", action="store_true", help="skip the quick-mode check")
    args = parser.parse_args()
    numba.set_num_threads(1)
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    full, quick = th.settings(False), th.settings(True)
    net = th.make_network(full, 0)
    total, longest = project(full, net, "full mode")
    print(f"\nfull mode, projected: {total / 3600:.0f} CPU-hours; local:2 about "
          f"{total / 2 / 3600:.0f} h; 64 workers about "
          f"{max(total / 64, longest) / 3600:.1f} h (longest replicate {longest / 60:.0f} min)")
    q_total, _ = project(quick, th.make_network(quick, 0), "quick mode")
    print(f"\nquick mode, projected: {q_total:.1f} s of simulation")
    if not args.no_check:
        t0 = time.perf_counter()
        qnet = th.make_network(quick, 0)
        for cond in th.conditions():
            for n in th.widths(cond, quick):
                x0 = np.random.default_rng(0).standard_normal((n, quick.d))
                k, eta = th.theorem_steps(n, cond.step_alpha, quick.T)
                k = th.n_steps(cond, n, quick)
                eta = quick.T / k
                for r in range(quick.replicates):
                    poc.simulate(qnet, x0, alpha=cond.alpha,
                                 sigma=quick.sigma if cond.sigma_on else 0.0, step=eta,
                                 n_steps=k, batch_size=quick.batch_size if cond.batch else None,
                                 seed=r, progress=False)
        print(f"quick mode, measured: {time.perf_counter() - t0:.1f} s of simulation "
              "(every run of the quick mode, one thread)")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
