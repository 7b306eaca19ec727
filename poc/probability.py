r"""Errors as probabilities: quantiles over replicates, their slopes in n, Wilson intervals.

The compression theorem of Wan, Barsbey, Zaidi and Simsekli (arXiv 2306.08125;
docs/theory.rst, "The theorem at its step condition") is a statement about
probability: for ``n >= N`` the relative pruning error is at most ``epsilon``
with probability at least ``1 - delta``. Equivalently, the ``(1 - delta)``-quantile
of the error over independent runs is at most ``epsilon``. This module measures
both forms from replicate errors at several widths n:

* :func:`quantile_interval` -- the sample ``q``-quantile with a distribution-free
  interval from order statistics (binomial counts: exact coverage >= level);
* :func:`fit_quantile_rate` -- the least-squares slope of ``log`` (sample
  ``q``-quantile) against ``log n``, with a percentile bootstrap interval that
  resamples the replicates independently within each n (the replicates are the
  only independent units; the n design is fixed);
* :func:`wilson_interval` -- the empirical probability ``P(error <= epsilon)``
  with its Wilson score interval;
* :func:`smallest_n_reaching` -- the smallest measured n whose Wilson lower end
  reaches a target probability (e.g. 0.9 = ``1 - delta``);
* :func:`n_for_error` -- ``N(epsilon)``: the n at which the fitted quantile law
  reaches ``epsilon``, extrapolated, with a bootstrap interval;
* :func:`quantile_ratio` -- the ratio of two conditions' ``q``-quantiles (paired
  by seed when the replicates are), with a bootstrap interval.

References
----------
David and Nagaraja (2003), *Order Statistics*, 3rd ed., Section 7.1
(distribution-free confidence intervals for quantiles). Wilson (1927), "Probable
inference, the law of succession, and statistical inference", JASA 22(158);
Brown, Cai and DasGupta (2001), "Interval estimation for a binomial proportion",
Statist. Sci. 16(2) (coverage of the Wilson interval). Efron and Tibshirani
(1993), *An Introduction to the Bootstrap*, Ch. 13 (percentile intervals).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ._validation import ParameterTypeError, as_generator, check_array, check_int, check_real
from .rates import _slopes as _ols

__all__ = [
    "QuantileFit",
    "fit_quantile_rate",
    "n_for_error",
    "quantile_interval",
    "quantile_ratio",
    "smallest_n_reaching",
    "wilson_interval",
]

# Bootstrap index arrays are drawn in blocks of at most this many entries (memory bound).
_BOOT_BLOCK = 1 << 22


def _check_level(level) -> float:
    return check_real(level, "level", low=0.0, high=1.0, low_open=True, high_open=True)


def _check_q(q) -> float:
    return check_real(q, "q", low=0.0, high=1.0, low_open=True, high_open=True)


def _order_ranks(r: int, q: float, level: float) -> tuple[int, int]:
    """Ranks ``(j, k)``, 0 <= j < k <= r + 1, of the shortest order-statistic interval.

    ``[X_(j), X_(k)]`` covers the q-quantile of a continuous law with probability
    ``P(j <= B <= k - 1)``, ``B ~ Binomial(r, q)`` (David and Nagaraja 2003, 7.1);
    ``X_(0) = -inf`` and ``X_(r+1) = +inf``. Among the pairs whose coverage is at
    least ``level``, the one with both ends finite and the fewest ranks between
    them wins (ties: the most balanced tails); infinite ends only when no finite
    pair reaches the level.
    """
    from scipy.stats import binom

    cdf = binom.cdf(np.arange(-1, r + 1), r, q)  # cdf[i] = P(B <= i - 1)
    best = None
    for finite in (True, False):
        lo_j, hi_k = (1, r) if finite else (0, r + 1)
        for j in range(lo_j, r + 1):
            # smallest k with P(B <= k - 1) - P(B <= j - 1) >= level
            need = cdf[j] + level - 1e-12
            k = int(np.searchsorted(cdf, need))  # cdf[k] = P(B <= k - 1)
            if k > hi_k or k <= j:
                continue
            tails = abs(cdf[j] - (1.0 - cdf[k]))
            key = (k - j, tails)
            if best is None or key < best[0]:
                best = (key, j, k)
        if best is not None:
            return best[1], best[2]
    return 0, r + 1


def quantile_interval(values, q: float = 0.9, *, level: float = 0.95) -> tuple[float, float, float]:
    r"""The sample ``q``-quantile and a distribution-free confidence interval for it.

    Parameters
    ----------
    values : array_like, shape (r,)
        Independent replicates of one quantity (finite), ``r >= 2``.
    q : float, optional
        Quantile level in (0, 1); ``1 - delta`` for the theorem's ``delta``.
    level : float, optional
        Confidence level in (0, 1).

    Returns
    -------
    (estimate, low, high) : tuple of float
        ``estimate`` is ``numpy.quantile(values, q)`` (linear interpolation);
        ``(low, high)`` are order statistics ``X_(j) <= X_(k)``.

    Raises
    ------
    ValueError
        Fewer than 2 values, non-finite values, ``q`` or ``level`` outside (0, 1).

    Notes
    -----
    ``[X_(j), X_(k)]`` covers the true quantile with probability
    ``P(j <= B <= k - 1)``, ``B ~ Binomial(r, q)``, for any continuous law (David
    and Nagaraja 2003, Section 7.1). The shortest pair in rank with coverage at
    least ``level`` is used. With too few values no finite pair reaches the level
    and an end is infinite: for ``q = 0.9`` and ``level = 0.95`` the upper end is
    finite from ``r = 29`` values on (``1 - 0.9^29 = 0.953``), which is why the
    theorem check uses at least 30 replicates.
    """
    x = np.sort(check_array(values, "values", ndim=1, min_size=2))
    q = _check_q(q)
    level = _check_level(level)
    j, k = _order_ranks(x.size, q, level)
    low = -math.inf if j == 0 else float(x[j - 1])
    high = math.inf if k == x.size + 1 else float(x[k - 1])
    return float(np.quantile(x, q)), low, high


def wilson_interval(successes, trials, *, level: float = 0.95):
    r"""Empirical probability ``successes / trials`` and its Wilson score interval.

    Parameters
    ----------
    successes : int or array_like of int
        Counts of successes, ``0 <= successes <= trials``.
    trials : int or array_like of int
        Counts of trials, ``>= 1`` (broadcast against ``successes``).
    level : float, optional
        Confidence level in (0, 1).

    Returns
    -------
    (p, low, high) : float or numpy.ndarray
        The proportion and the interval, of the broadcast shape (floats for
        scalar input).

    Raises
    ------
    ValueError
        Negative counts, ``successes > trials``, ``trials < 1``, non-integer
        counts, ``level`` outside (0, 1).

    Notes
    -----
    With ``z`` the standard normal ``(1 + level) / 2`` quantile and
    ``p = s / t``, the interval is ``(p + z^2/(2t) -+ z sqrt(p(1-p)/t + z^2/(4t^2)))
    / (1 + z^2/t)`` (Wilson 1927). Unlike ``p -+ z sqrt(p(1-p)/t)`` it stays in
    [0, 1] and keeps coverage near ``level`` when ``p`` is close to 0 or 1
    (Brown, Cai and DasGupta 2001), which is where the theorem's probabilities
    (``1 - delta = 0.9``) live.
    """
    from scipy.stats import norm

    level = _check_level(level)
    s = np.asarray(successes)
    t = np.asarray(trials)
    for arr, name in ((s, "successes"), (t, "trials")):
        if arr.dtype.kind not in "iu" and not (arr.dtype.kind == "f" and np.all(arr == np.round(arr))):
            raise ParameterTypeError(f"{name} must be integer counts, got {arr.tolist()!r}")
    s, t = np.broadcast_arrays(s.astype(np.float64), t.astype(np.float64))
    if np.any(t < 1):
        raise ValueError(f"trials must be >= 1, got min(trials) = {t.min():g}")
    if np.any(s < 0) or np.any(s > t):
        raise ValueError("successes must be in [0, trials], got successes = "
                         f"{s.tolist()!r} for trials = {t.tolist()!r}")
    z = float(norm.ppf(0.5 * (1.0 + level)))
    p = s / t
    den = 1.0 + z * z / t
    centre = (p + z * z / (2.0 * t)) / den
    half = z * np.sqrt(p * (1.0 - p) / t + z * z / (4.0 * t * t)) / den
    low = np.clip(centre - half, 0.0, 1.0)
    high = np.clip(centre + half, 0.0, 1.0)
    if p.ndim == 0:
        return float(p), float(low), float(high)
    return p, low, high


def smallest_n_reaching(ns, successes, trials, *, target: float = 0.9,
                        level: float = 0.95) -> int | None:
    r"""The smallest measured n whose Wilson lower end of ``P(success)`` reaches ``target``.

    Parameters
    ----------
    ns : array_like of int, shape (k,)
        The widths, increasing.
    successes, trials : array_like of int, shape (k,)
        Counts of replicates with ``error <= epsilon``, and of replicates, per n.
    target : float, optional
        Probability to reach, in (0, 1] (``1 - delta``).
    level : float, optional
        Confidence level of the Wilson interval.

    Returns
    -------
    int or None
        The first n (in the order given) at which the lower end is ``>= target``,
        or None when no measured n reaches it. It says that this n is enough on
        the evidence; it does not say that the probability stays above the
        target at every larger n.

    Raises
    ------
    ValueError
        Mismatched lengths, bad counts, ``target`` outside (0, 1].
    """
    n_arr = np.asarray(ns)
    target = check_real(target, "target", low=0.0, high=1.0, low_open=True)
    s = np.asarray(successes)
    t = np.asarray(trials)
    if not (n_arr.ndim == s.ndim == t.ndim == 1 and n_arr.size == s.size == t.size):
        raise ValueError(f"ns, successes and trials must be 1-D of one length, got shapes "
                         f"{n_arr.shape}, {s.shape}, {t.shape}")
    _, low, _ = wilson_interval(s, t, level=level)
    hit = np.flatnonzero(np.atleast_1d(low) >= target)
    return int(n_arr[hit[0]]) if hit.size else None


def _rows(x, rows) -> tuple[np.ndarray, list[np.ndarray]]:
    xa = check_array(x, "x", ndim=1)
    if isinstance(rows, np.ndarray) and rows.ndim == 2:
        rows = list(rows)
    if not isinstance(rows, Sequence) or len(rows) != xa.size:
        raise ValueError(f"rows must hold one array of replicates per x value ({xa.size}), got "
                         f"{len(rows) if isinstance(rows, Sequence) else type(rows).__name__}")
    out = [check_array(r, f"rows[{i}]", ndim=1, min_size=2) for i, r in enumerate(rows)]
    if np.any(xa <= 0.0):
        raise ValueError(f"x must be positive, got min(x) = {xa.min():g}")
    if np.unique(xa).size < 3:
        raise ValueError(f"x must have at least 3 distinct values, got {np.unique(xa).size}")
    for i, r in enumerate(out):
        if np.any(r <= 0.0):
            raise ValueError(f"rows must be positive (log-log fit), got min(rows[{i}]) = {r.min():g}")
    return xa, out


@dataclass(frozen=True, eq=False)
class QuantileFit:
    r"""A power law ``Q_q(n) ~ exp(intercept) * n**slope`` fitted to sample quantiles.

    Attributes
    ----------
    slope, intercept : float
        OLS slope and intercept of ``log Q_q`` on ``log x``.
    ci : tuple of float
        Percentile bootstrap interval of the slope.
    level : float
        Confidence level of ``ci`` and of ``quantile_ci``.
    q : float
        The quantile level.
    n_boot : int
        Bootstrap resamples.
    x : numpy.ndarray, shape (k,)
        The abscissae (widths).
    quantiles : numpy.ndarray, shape (k,)
        Sample q-quantile at each x.
    quantile_ci : numpy.ndarray, shape (k, 2)
        Its distribution-free interval (:func:`quantile_interval`).
    replicates : numpy.ndarray of int, shape (k,)
        Replicates at each x.
    boot_slopes, boot_intercepts : numpy.ndarray, shape (n_boot,)
        The bootstrap fits, kept for derived quantities (:func:`n_for_error`).
    """

    slope: float
    intercept: float
    ci: tuple[float, float]
    level: float
    q: float
    n_boot: int
    x: np.ndarray
    quantiles: np.ndarray
    quantile_ci: np.ndarray
    replicates: np.ndarray
    boot_slopes: np.ndarray
    boot_intercepts: np.ndarray

    def predict(self, x) -> np.ndarray:
        """The fitted law ``exp(intercept) * x**slope`` at ``x`` (array_like, positive)."""
        return math.exp(self.intercept) * np.asarray(x, dtype=np.float64) ** self.slope


def fit_quantile_rate(x, rows, *, q: float = 0.9, level: float = 0.95, n_boot: int = 2000,
                      seed=0) -> QuantileFit:
    r"""Slope of the log sample ``q``-quantile against ``log x``, with a bootstrap interval.

    Parameters
    ----------
    x : array_like, shape (k,)
        Positive abscissae (widths n), at least 3 distinct values.
    rows : sequence of k array_like, or array_like of shape (k, r)
        Positive replicate values at each x (``>= 2`` each; counts may differ).
    q : float, optional
        Quantile level in (0, 1) (0.9 for the theorem's ``delta = 0.1``).
    level : float, optional
        Confidence level in (0, 1).
    n_boot : int, optional
        Bootstrap resamples, ``>= 100``.
    seed : None, int or numpy.random.Generator, optional
        Source of the resampling (default 0: reproducible).

    Returns
    -------
    QuantileFit

    Raises
    ------
    ValueError
        Non-positive or non-finite values, a row with fewer than 2 replicates,
        fewer than 3 distinct x, ``q`` or ``level`` outside (0, 1), ``n_boot < 100``.

    Notes
    -----
    The slope is the OLS slope of ``log Q_i`` on ``log x_i`` with ``Q_i`` the
    sample quantile (linear interpolation) of row i. Each bootstrap resample
    draws every row's replicates with replacement, independently across rows,
    recomputes the quantiles and the slope; ``ci`` is the percentile interval.
    Measured coverage of the 95 % interval of the 0.9-quantile slope for
    log-normal replicates whose quantile is an exact power law (5 values of x,
    1000 seeds): 0.973 with 30 replicates and 0.975 with 100, so the interval
    is somewhat conservative (see the tests).
    """
    xa, ra = _rows(x, rows)
    q = _check_q(q)
    level = _check_level(level)
    n_boot = check_int(n_boot, "n_boot", low=100)
    rng = as_generator(seed)
    lx = np.log(xa)
    quant = np.array([np.quantile(r, q) for r in ra])
    s0, c0 = _ols(lx, np.log(quant)[None, :])
    bq = np.empty((n_boot, xa.size))
    for i, r in enumerate(ra):
        block = max(1, _BOOT_BLOCK // r.size)
        for start in range(0, n_boot, block):
            b = min(block, n_boot - start)
            idx = rng.integers(0, r.size, size=(b, r.size))
            bq[start:start + b, i] = np.quantile(r[idx], q, axis=1)
    bs, bc = _ols(lx, np.log(bq))
    a = 0.5 * (1.0 - level)
    ci = (float(np.quantile(bs, a)), float(np.quantile(bs, 1.0 - a)))
    qci = np.array([quantile_interval(r, q, level=level)[1:] for r in ra])
    return QuantileFit(slope=float(s0[0]), intercept=float(c0[0]), ci=ci, level=level, q=q,
                       n_boot=n_boot, x=xa.copy(), quantiles=quant, quantile_ci=qci,
                       replicates=np.array([r.size for r in ra]), boot_slopes=bs,
                       boot_intercepts=bc)


def n_for_error(fit: QuantileFit, epsilon: float) -> tuple[float, float, float]:
    r"""``N(epsilon)``: the width at which the fitted quantile law reaches ``epsilon``.

    Parameters
    ----------
    fit : QuantileFit
        From :func:`fit_quantile_rate`.
    epsilon : float
        Error level, > 0.

    Returns
    -------
    (N, low, high) : tuple of float
        ``N = exp((log epsilon - intercept) / slope)`` for a negative slope, and
        ``inf`` otherwise (the fitted quantile never falls to epsilon); ``(low,
        high)`` the percentile interval of the same formula over the bootstrap
        fits (``inf`` for the resamples whose slope is not negative), at
        ``fit.level``.

    Raises
    ------
    TypeError
        ``fit`` is not a :class:`QuantileFit`.
    ValueError
        ``epsilon <= 0``.

    Notes
    -----
    This is an extrapolation of a power law fitted over the measured widths:
    it assumes the law holds beyond them, which nothing measured guarantees.
    An ``N`` below the smallest measured width means the fitted quantile is
    already below ``epsilon`` there.
    """
    if not isinstance(fit, QuantileFit):
        raise ParameterTypeError(f"fit must be a QuantileFit, got {type(fit).__name__}")
    epsilon = check_real(epsilon, "epsilon", low=0.0, low_open=True)
    le = math.log(epsilon)

    def solve(s, c):
        s = np.asarray(s, dtype=np.float64)
        out = np.full(s.shape, np.inf)
        neg = s < 0.0
        with np.errstate(over="ignore"):
            out[neg] = np.exp((le - np.asarray(c)[neg]) / s[neg])
        return out

    n0 = float(solve(np.array([fit.slope]), np.array([fit.intercept]))[0])
    boots = solve(fit.boot_slopes, fit.boot_intercepts)
    a = 0.5 * (1.0 - fit.level)
    lo, hi = np.quantile(boots, [a, 1.0 - a], method="inverted_cdf")
    return n0, float(lo), float(hi)


def quantile_ratio(a, b, *, q: float = 0.9, level: float = 0.95, paired: bool = True,
                   n_boot: int = 2000, seed=0) -> tuple[float, float, float]:
    r"""Ratio of the sample ``q``-quantiles of ``a`` and ``b``, with a bootstrap interval.

    Parameters
    ----------
    a, b : array_like, shape (r,) and (s,)
        Positive replicates of two conditions. With ``paired=True`` replicate i
        of both comes from the same seed (same initial values and noise), so
        ``r == s`` and the pairs are resampled together.
    q : float, optional
        Quantile level in (0, 1).
    level : float, optional
        Confidence level in (0, 1).
    paired : bool, optional
        Resample pairs (True) or each sample independently (False).
    n_boot : int, optional
        Bootstrap resamples, ``>= 100``.
    seed : None, int or numpy.random.Generator, optional

    Returns
    -------
    (ratio, low, high) : tuple of float
        ``Q_q(a) / Q_q(b)`` and its percentile bootstrap interval.

    Raises
    ------
    ValueError
        Non-positive or non-finite values, fewer than 2 replicates, unequal
        lengths when paired, parameters out of range.
    """
    xa = check_array(a, "a", ndim=1, min_size=2)
    xb = check_array(b, "b", ndim=1, min_size=2)
    if np.any(xa <= 0.0) or np.any(xb <= 0.0):
        raise ValueError("a and b must be positive (a ratio of quantiles)")
    if paired and xa.size != xb.size:
        raise ValueError(f"paired samples must have equal lengths, got {xa.size} and {xb.size}")
    q = _check_q(q)
    level = _check_level(level)
    n_boot = check_int(n_boot, "n_boot", low=100)
    rng = as_generator(seed)
    ratio = float(np.quantile(xa, q) / np.quantile(xb, q))
    ia = rng.integers(0, xa.size, size=(n_boot, xa.size))
    ib = ia if paired else rng.integers(0, xb.size, size=(n_boot, xb.size))
    boots = np.quantile(xa[ia], q, axis=1) / np.quantile(xb[ib], q, axis=1)
    al = 0.5 * (1.0 - level)
    lo, hi = np.quantile(boots, [al, 1.0 - al])
    return ratio, float(lo), float(hi)
