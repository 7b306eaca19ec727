"""Small timing helper shared by the benchmark scripts: warm-up, then best of repeats."""

from __future__ import annotations

import time


def best_time(fn, *, repeat: int = 7, warmup: int = 1) -> float:
    """Seconds of the fastest of ``repeat`` calls of ``fn()`` after ``warmup`` untimed calls.

    The minimum is the least noisy estimate of what the code costs on a shared machine.
    """
    for _ in range(warmup):
        fn()
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best
