"""Speed of poc's Wasserstein estimators against POT and SciPy.

Rows (each with its baseline measured in the same run, after a warm-up call):

* sliced W_1, n = m = 10^5 points in d = 10, 100 projections:
  ``poc.sliced_wasserstein`` vs ``ot.sliced_wasserstein_distance`` given the
  same projections (the two values are printed: they agree to rounding);
* exact 1-D W_1 between 10^6 and 7 * 10^5 points:
  ``poc.wasserstein`` vs ``scipy.stats.wasserstein_distance``.

Timings are the best of ``--repeat`` runs (wall clock). Usage::

    python benchmarks/bench_sliced.py [--n 100000] [--d 10] [--projections 100] [--repeat 3]
"""

from __future__ import annotations

import argparse

import numba
import numpy as np
import ot
from _timing import best_time_and_value
from scipy import stats

import poc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--d", type=int, default=10)
    ap.add_argument("--projections", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.n, args.d))
    y = 1.3 * rng.standard_t(3, size=(args.n, args.d)) + 0.2
    th = rng.standard_normal((args.projections, args.d))
    th /= np.linalg.norm(th, axis=1)[:, None]

    rows = []

    # warm-up: JIT (cached) and library set-up, on small inputs
    poc.sliced_wasserstein(x[:100], y[:100], projections=th)
    ot.sliced_wasserstein_distance(x[:100], y[:100], projections=th.T, p=1)
    # (the warm-up above was on small inputs, so no full-size warm-up call)
    t_poc, v_poc = best_time_and_value(lambda: poc.sliced_wasserstein(x, y, projections=th),
                                       repeat=args.repeat, warmup=0)
    t_pot, v_pot = best_time_and_value(
        lambda: ot.sliced_wasserstein_distance(x, y, projections=th.T, p=1),
        repeat=max(1, args.repeat - 1), warmup=0)
    rows.append((f"sliced W1 n={args.n} d={args.d} L={args.projections}", "POT", t_poc, t_pot,
                 v_poc, v_pot))

    a = rng.standard_normal(1_000_000)
    b = rng.standard_t(3, 700_000)
    poc.wasserstein(a[:100], b[:70])
    stats.wasserstein_distance(a[:100], b[:70])
    t1, w1 = best_time_and_value(lambda: poc.wasserstein(a, b), repeat=args.repeat)
    t2, w2 = best_time_and_value(lambda: stats.wasserstein_distance(a, b), repeat=args.repeat)
    rows.append(("exact 1-D W1 n=1e6 m=7e5", "SciPy", t1, t2, w1, w2))

    print(f"numba threads: {numba.get_num_threads()}, POT {ot.__version__}, numpy {np.__version__}")
    head = f"{'case':<38} {'baseline':<8} {'poc [s]':>9} {'base [s]':>9} {'speed-up':>9}  agreement"
    print(head)
    print("-" * len(head))
    for name, base, tp, tb, vp, vb in rows:
        print(f"{name:<38} {base:<8} {tp:9.3f} {tb:9.3f} {tb / tp:8.1f}x  "
              f"rel. diff {abs(vp - vb) / abs(vb):.1e}")


if __name__ == "__main__":
    main()
