"""Throughput of the alpha-stable sampler against scipy and a vectorised NumPy CMS.

Run: ``python benchmarks/bench_noise.py``. Prints draws per second for 10^6 draws
at alpha = 1.75 and 1.5. Targets (issue 2): >= 3x scipy.stats.levy_stable.rvs and
no slower than the NumPy CMS, measured in the same run.

Intel SVML (issue 13): the sampler is transcendental-heavy (sin, cos, pow, log),
so vectorised SVML math could speed it up. Measured with numba 0.68.1 and
llvmlite 0.50.0 from PyPI after ``pip install intel-cmplr-lib-rt`` (2026.2.0)
in a private venv: ``numba -s`` reports "SVML Library Loaded: True" but
"llvmlite Using SVML Patched LLVM: False" and "SVML Operational: False"
(``numba.config.USING_SVML`` is False): PyPI's llvmlite is built without the
SVML patch, which only conda's llvmlite carries. Numba compiles the same code
with or without the package, so the speed-up on this CPU (Skylake-X, AVX-512)
is 1.0x, below the 1.3x needed to make it a dependency; it is not one.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from _timing import best_time
from scipy import stats

import poc

N = 10**6


def numpy_cms(alpha: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """Textbook vectorised Chambers-Mallows-Stuck (symmetric, alpha != 1)."""
    v = math.pi * (rng.random(n) - 0.5)
    w = rng.standard_exponential(n)
    return (np.sin(alpha * v) / np.cos(v) ** (1 / alpha)
            * (np.cos((1 - alpha) * v) / w) ** ((1 - alpha) / alpha))


def main() -> None:
    rng = np.random.default_rng(0)
    print(f"{N:.0e} symmetric alpha-stable draws, float64, numba threads = {numba.get_num_threads()}")
    print(f"{'alpha':>5}  {'implementation':<26} {'time (ms)':>9}  {'Mdraws/s':>8}  {'speed-up':>8}")
    for alpha in (1.75, 1.5):
        rows = {
            "scipy levy_stable.rvs": best_time(
                lambda a=alpha: stats.levy_stable.rvs(a, 0, size=N, random_state=rng), repeat=3),
            "numpy CMS (vectorised)": best_time(lambda a=alpha: numpy_cms(a, N, rng)),
            "poc.sample_stable": best_time(lambda a=alpha: poc.sample_stable(a, N, seed=rng)),
        }
        numba.set_num_threads(1)
        rows["poc.sample_stable, 1 thread"] = best_time(lambda a=alpha: poc.sample_stable(a, N, seed=rng))
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        base = rows["scipy levy_stable.rvs"]
        for name, t in rows.items():
            print(f"{alpha:>5}  {name:<26} {1e3 * t:9.1f}  {N / t / 1e6:8.1f}  {base / t:7.1f}x")
        ours, npy = rows["poc.sample_stable"], rows["numpy CMS (vectorised)"]
        print(f"       -> vs scipy {base / ours:.1f}x (target >= 3x), vs numpy CMS {npy / ours:.2f}x "
              f"(target >= 1x)")


if __name__ == "__main__":
    main()
