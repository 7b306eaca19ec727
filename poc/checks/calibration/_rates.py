"""Calibration of the rate fits: coverage of the 95 % intervals on known power laws.

Each case fits ``R`` synthetic data sets ``y = x^(-1/2) * noise`` (6 values of
x, the chaos check's widths) and counts the intervals that contain -1/2. The
bands are set from the binomial sd at ``R`` intervals and from coverages
measured over 1000 other seeds (stated per case), so that a correct
instrument is >= 5 sd inside its band and the two bootstrap bugs the bands
are sized for are >= 5 sd outside one of them: a resampling that never
draws the last replicate (at few replicates: coverage 0.79 for fit_rate at
r = 3, 0.76 for fit_paired_rate at r = 4, against 0.94 and 0.88 clean), and
an interval read at the half level, ``t((1 + level) / 2)`` -> ``t(level)``
(seen best at ``level = 0.8``, r = 10: coverage 0.60 and 0.61 against 0.80;
at the default level and 20 replicates it is only 0.88-0.91 against 0.94,
within reach of 400 intervals but not 5 sd away). The ``level`` option is
covered on the way.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import numpy as np

from ... import euler, rates
from .._base import Case, Context

X_WIDTHS = 2.0 ** np.arange(5, 11)  # the chaos check's widths
SLOPE = -0.5


def _coverage(fit: Callable, make_y: Callable, ctx: Context, key: int, reps: int) -> np.ndarray:
    hits = np.empty(reps, dtype=bool)
    for i in range(reps):
        g = ctx.rng(key, i)
        y = X_WIDTHS[:, None] ** SLOPE * make_y(g, X_WIDTHS.size)
        lo, hi = fit(X_WIDTHS, y, seed=g).ci
        hits[i] = lo <= SLOPE <= hi
    return hits


def _coverage_case(name: str, hits: np.ndarray, band: tuple[float, float], clean: float,
                   what: str) -> Case:
    cov = float(hits.mean())
    lo, hi = band
    R = hits.size
    sd = math.sqrt(clean * (1.0 - clean) / R)
    return Case(
        name=name, passed=bool(lo <= cov <= hi),
        detail=(f"{what}: {int(hits.sum())}/{R} intervals contain the true slope -1/2, coverage "
                f"{cov:.3f} (pass if in [{lo:g}, {hi:g}]; measured {clean:.3f} on other seeds, "
                f"binomial sd {sd:.3f} at {R} intervals, so the band's nearer edge is "
                f"{min(clean - lo, hi - clean) / sd:.1f} sd away)"),
        values={"coverage": cov, "intervals": R, "band": list(band), "clean_coverage": clean})


def _pareto(g, k, r):  # 1 + Pareto(3): tail index 3, infinite third moment
    return 1.0 + g.pareto(3.0, (k, r))


def _lognormal(g, k, r):
    return np.exp(0.3 * g.standard_normal((k, r)))


def _paired(g, k, r, heavy: bool):  # a common factor per replicate (paired across x) and a light one
    common = (1.0 + g.pareto(3.0, (1, r))) if heavy else np.exp(0.3 * g.standard_normal((1, r)))
    return common * np.exp(0.3 * g.standard_normal((k, r)))


def case_fit_rate_coverage(ctx: Context) -> list[Case]:
    """Coverage of fit_rate's 95 % interval at 20 replicates (heavy noise) and at 3 (lognormal)."""
    # n_boot = 1000 instead of 2000: the Monte Carlo error of the percentiles moves each interval
    # end by ~3 % of its half-width, a coverage change below 0.005
    fit = functools.partial(rates.fit_rate, n_boot=1000)
    many = _coverage(fit, lambda g, k: _pareto(g, k, 20), ctx, 9, 400)
    few = _coverage(fit, lambda g, k: _lognormal(g, k, 3), ctx, 21, 1000)
    at80 = _coverage(functools.partial(rates.fit_rate, n_boot=1000, level=0.8),
                     lambda g, k: _lognormal(g, k, 10), ctx, 28, 1000)
    return [
        _coverage_case("fit_rate 95 % bootstrap interval coverage, 20 replicates", many,
                       (0.90, 0.99), 0.94,
                       "6 widths 2^5..2^10, 20 replicates each, y = n^(-1/2) (1 + Pareto(3))"),
        # leave-one-out gives 0.79 here (7.9 sd below 0.90)
        _coverage_case("fit_rate 95 % bootstrap interval coverage, 3 replicates", few,
                       (0.90, 0.985), 0.942,
                       "6 widths, 3 replicates each, y = n^(-1/2) exp(0.3 N(0, 1))"),
        # the half-level bug gives 0.60 here (8.6 sd below 0.73)
        _coverage_case("fit_rate 80 % bootstrap interval coverage (level=0.8), 10 replicates",
                       at80, (0.73, 0.87), 0.797,
                       "6 widths, 10 replicates each, y = n^(-1/2) exp(0.3 N(0, 1))"),
    ]


def case_paired_rate_coverage(ctx: Context) -> list[Case]:
    """Coverage of fit_paired_rate's 95 % interval at 20 paired replicates and at 4."""
    many = _coverage(euler.fit_paired_rate, lambda g, k: _paired(g, k, 20, True), ctx, 10, 400)
    few = _coverage(functools.partial(euler.fit_paired_rate, n_boot=1000),
                    lambda g, k: _paired(g, k, 4, False), ctx, 22, 1500)
    at80 = _coverage(functools.partial(euler.fit_paired_rate, n_boot=1000, level=0.8),
                     lambda g, k: _paired(g, k, 10, False), ctx, 29, 1000)
    return [
        _coverage_case("fit_paired_rate 95 % paired bootstrap interval coverage, 20 replicates",
                       many, (0.90, 0.99), 0.936,
                       "6 steps, 20 paired replicates, y = x^(-1/2) (1 + Pareto(3))_q exp(0.3 N)"),
        # at 4 replicates the paired interval covers 0.87-0.89 (measured twice over 1000 seeds),
        # not 0.95: the band checks that it stays there; leave-one-out gives 0.76 (5 sd below 0.82)
        _coverage_case("fit_paired_rate 95 % paired bootstrap interval coverage, 4 replicates",
                       few, (0.82, 0.94), 0.88,
                       "6 steps, 4 paired replicates, y = x^(-1/2) exp(0.3 N)_q exp(0.3 N)"),
        # the half-level bug gives 0.61 here (7.9 sd below 0.73)
        _coverage_case("fit_paired_rate 80 % paired bootstrap interval coverage (level=0.8), "
                       "10 replicates", at80, (0.73, 0.87), 0.803,
                       "6 steps, 10 paired replicates, y = x^(-1/2) exp(0.3 N)_q exp(0.3 N)"),
    ]
