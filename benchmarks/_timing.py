"""Timing helper shared by the benchmark scripts: warm-up, then the best of repeats."""

from __future__ import annotations

import time


def best_time_and_value(fn, *, repeat: int = 7, warmup: int = 1, inner: int = 1):
    """(seconds per call, last return value): the fastest of ``repeat`` timings.

    Each timing is the mean of ``inner`` back-to-back calls, after ``warmup``
    untimed calls (Numba compilation, caches). The minimum is the least noisy
    estimate of what the code costs on a shared machine.
    """
    value = None
    for _ in range(warmup):
        value = fn()
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(inner):
            value = fn()
        best = min(best, (time.perf_counter() - t0) / inner)
    return best, value


def best_time(fn, repeat: int = 7, inner: int = 1, *, warmup: int = 1) -> float:
    """Seconds per call of ``fn()``; see :func:`best_time_and_value`."""
    return best_time_and_value(fn, repeat=repeat, warmup=warmup, inner=inner)[0]
