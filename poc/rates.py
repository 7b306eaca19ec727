r"""Convergence rates: log-log slopes, confidence intervals and verdicts.

Every check measures a quantity ``y`` (an error, a distance) at several
values of a parameter ``x`` (a width ``n``, a step ``eta``), with ``r``
independent replicates at each ``x``, and compares the slope of
``log mean(y)`` against ``log x`` with the exponent the theory predicts.

* :func:`fit_rate` -- ordinary least squares of ``log(mean_r y)`` on
  ``log x``, with a percentile bootstrap interval that resamples the
  replicates independently within each ``x`` (the replicates are the only
  independent units; the ``x`` design is fixed): ``scipy.stats.bootstrap``
  with one sample per ``x`` and a vectorised statistic.
* :func:`judge` -- a :class:`Verdict` comparing the interval with an
  expected exponent within a stated tolerance, with a one-sentence
  explanation.

References
----------
Efron and Tibshirani (1993), *An Introduction to the Bootstrap*, Ch. 13
(percentile intervals) and Section 9.5 (bootstrapping regression designs with
fixed covariates). Hesterberg (2015), "What teachers should know about the
bootstrap", The American Statistician 69(4), Section 4.2 (expanded percentile
interval). Satterthwaite (1946), Biometrics Bulletin 2(6) (effective degrees
of freedom).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from ._validation import as_generator, check_array, check_choice, check_int, check_real

__all__ = ["RELATIONS", "RateFit", "Verdict", "fit_rate", "judge"]

RELATIONS = ("equal", "at_most", "at_least", "not_above", "negative")

# Bootstrap draws are generated in blocks of at most this many indices (memory bound).
_BOOT_BLOCK = 1 << 22


@dataclass(frozen=True, eq=False)
class RateFit:
    """A power-law fit ``y ~ exp(intercept) * x**slope`` with a confidence interval.

    Attributes
    ----------
    slope : float
        OLS slope of ``log(mean_r y)`` on ``log x``.
    intercept : float
        OLS intercept (natural log scale).
    ci : tuple of float
        ``(low, high)`` confidence interval for the slope.
    level : float
        Confidence level of ``ci``.
    n_boot : int
        Bootstrap resamples used for ``ci``; 0 when ``ci`` comes from the OLS
        standard error (no replicates).
    x : numpy.ndarray, shape (k,)
        The abscissae.
    y_mean : numpy.ndarray, shape (k,)
        Mean over replicates at each ``x``.
    """

    slope: float
    intercept: float
    ci: tuple[float, float]
    level: float
    n_boot: int
    x: np.ndarray
    y_mean: np.ndarray

    def predict(self, x) -> np.ndarray:
        """Fitted power law ``exp(intercept) * x**slope`` at ``x`` (array_like, positive)."""
        return math.exp(self.intercept) * np.asarray(x, dtype=np.float64) ** self.slope


@dataclass(frozen=True)
class Verdict:
    """Outcome of comparing a fitted slope with an expected exponent.

    Attributes
    ----------
    passed : bool
    expected : float
    tolerance : float
    relation : str
        One of :data:`RELATIONS`.
    text : str
        One plain sentence, e.g. ``"slope -0.52 [-0.61, -0.44] agrees with
        -1/2 (+-0.1)"``.
    """

    passed: bool
    expected: float
    tolerance: float
    relation: str
    text: str


def _slopes(lx: np.ndarray, ly: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """OLS slopes and intercepts of each row of ly (B, k) on lx (k,)."""
    xc = lx - lx.mean()
    sxx = float(xc @ xc)
    ybar = ly.mean(axis=1)
    slope = (ly @ xc) / sxx
    return slope, ybar - slope * lx.mean()


def _expanded_level(lx: np.ndarray, ya: np.ndarray, level: float) -> float:
    """Level at which to read the bootstrap percentiles so the interval covers ~level.

    The bootstrap variance of a mean of r values is (r - 1)/r times the usual
    estimate, and ignores that the variance is itself estimated. Following the
    expanded percentile interval (Hesterberg 2015), the percentiles are read at
    the level whose normal quantile is sqrt(r / (r - 1)) * t_nu, with nu the
    Welch-Satterthwaite degrees of freedom of the slope's variance
    sum_i c_i^2 s_i^2 / (r ybar_i^2) (delta method for log ybar_i).
    """
    from scipy.stats import norm
    from scipy.stats import t as student_t

    r = ya.shape[1]
    c = lx - lx.mean()
    c = c / float(c @ c)
    m = ya.mean(axis=1)
    wv = c**2 * ya.var(axis=1, ddof=1) / (r * m**2)
    total = float(wv.sum())
    if total <= 0.0:
        return level
    nu = total**2 / (float(wv @ wv) / (r - 1))
    z = math.sqrt(r / (r - 1)) * float(student_t.ppf(0.5 * (1.0 + level), nu))
    return float(2.0 * norm.cdf(z) - 1.0)


def fit_rate(x, y, *, level: float = 0.95, n_boot: int = 2000, seed=0) -> RateFit:
    r"""Fit ``y ~ C x^s`` in log-log by least squares, with a confidence interval.

    Parameters
    ----------
    x : array_like, shape (k,)
        Positive, finite abscissae (widths ``n``, step sizes ``eta``, ...),
        with at least 3 distinct values.
    y : array_like, shape (k, r) or (k,)
        Positive, finite values; row ``i`` holds ``r`` independent replicates
        measured at ``x[i]``. A 1-D array (or ``r = 1``) means one value per
        ``x`` and no bootstrap.
    level : float, optional
        Confidence level in (0, 1).
    n_boot : int, optional
        Bootstrap resamples, ``>= 100`` (used only when ``r >= 2``).
    seed : None, int or numpy.random.Generator, optional
        Source of the bootstrap resampling (default 0: reproducible).

    Returns
    -------
    RateFit

    Raises
    ------
    ValueError
        Non-positive or non-finite values, mismatched shapes, fewer than 3
        distinct ``x``, ``level`` outside (0, 1), ``n_boot < 100``.

    Notes
    -----
    The slope is the OLS slope of ``log(mean_r y_i)`` on ``log x_i``.

    With replicates (``r >= 2``), each bootstrap resample draws ``r``
    replicates with replacement independently within each ``x``, recomputes
    the means and the slope (``scipy.stats.bootstrap``, the rows of ``y``
    as independent samples, ``n_boot`` resamples drawn from ``seed``);
    ``ci`` is a percentile interval of the ``n_boot`` slopes. The plain
    percentile interval is too narrow for few replicates; it is read at the
    expanded level of Hesterberg (2015), whose normal quantile is
    ``sqrt(r / (r - 1)) * t_nu`` with ``nu`` the Welch-Satterthwaite degrees
    of freedom of the slope's variance. Measured coverage of the 95 %
    interval (replicates ``n^(-1/2)`` times lognormal(0, 0.5), ``x = 2^5 ..
    2^10``, 4000 seeds): 0.948, 0.949, 0.944 for ``r`` = 5, 10, 20, against
    0.892, 0.926, 0.932 for the plain percentile interval. With only 3
    values of ``x`` and ``r = 3`` it is about 0.90.

    Without replicates, ``ci = slope +- t_{(1+level)/2, k-2} * se`` with the
    usual OLS standard error ``se = sqrt(RSS / (k - 2) / S_xx)`` on the log
    scale (exact under Gaussian log-scale residuals).

    Data that follow an exact power law give the exact slope and a
    degenerate interval ``(slope, slope)`` (up to rounding).
    """
    xa = check_array(x, "x", ndim=1)
    ya = check_array(y, "y", ndim=(1, 2))
    k = xa.size
    if ya.shape[0] != k:
        raise ValueError(
            f"y must have one row per x value: x has {k} values, y has shape {ya.shape}"
        )
    if np.any(xa <= 0.0):
        raise ValueError(f"x must be positive, got min(x)={xa.min():g}")
    if np.any(ya <= 0.0):
        raise ValueError(f"y must be positive (log-log fit), got min(y)={ya.min():g}")
    n_distinct = np.unique(xa).size
    if n_distinct < 3:
        raise ValueError(f"x must have at least 3 distinct values, got {n_distinct}")
    level = check_real(level, "level", low=0.0, high=1.0, low_open=True, high_open=True)
    n_boot = check_int(n_boot, "n_boot", low=100)
    if ya.ndim == 2 and ya.shape[1] == 1:
        ya = ya[:, 0]

    lx = np.log(xa)
    y_mean = ya if ya.ndim == 1 else ya.mean(axis=1)
    slope_arr, icpt_arr = _slopes(lx, np.log(y_mean)[None, :])
    slope, intercept = float(slope_arr[0]), float(icpt_arr[0])
    hi_q = 0.5 * (1.0 + level)

    if ya.ndim == 1:
        from scipy.stats import t as student_t

        resid = np.log(y_mean) - (intercept + slope * lx)
        dof = k - 2
        xc = lx - lx.mean()
        se = math.sqrt(float(resid @ resid) / dof / float(xc @ xc))
        half = float(student_t.ppf(hi_q, dof)) * se
        ci = (slope - half, slope + half)
        used = 0
    else:
        from scipy.stats import bootstrap

        r = ya.shape[1]

        def slope_of_means(*rows, axis=-1):
            # rows[i]: resamples of the replicates at x[i], shape (..., r); vectorised
            means = np.stack([row.mean(axis=axis) for row in rows], axis=-1)
            return _slopes(lx, np.log(means).reshape(-1, k))[0].reshape(means.shape[:-1])

        # One independent sample per x (the design is fixed), read at the expanded level.
        # CPU time against the former hand-written resampler (n_boot = 2000, 2 shared cores):
        # 1.4x at k = 6, r = 5; 1.0x at r = 20 and 200; 0.7x at k = 5, r = 2048.
        adj = _expanded_level(lx, ya, level)
        res = bootstrap(tuple(ya), slope_of_means, n_resamples=n_boot, vectorized=True,
                        paired=False, confidence_level=adj, method="percentile",
                        batch=max(1, _BOOT_BLOCK // (k * r)), rng=as_generator(seed))
        if np.ptp(res.bootstrap_distribution) == 0.0:
            # identical replicates (e.g. an exact power law): no sampling variability
            ci = (slope, slope)
        else:
            ci = (float(res.confidence_interval.low), float(res.confidence_interval.high))
        used = n_boot
    return RateFit(slope=slope, intercept=intercept, ci=ci, level=level, n_boot=used,
                   x=xa.copy(), y_mean=np.array(y_mean, dtype=np.float64))


def _fmt(v: float) -> str:
    """A measured number for a sentence: 2 decimals (3 significant digits if small)."""
    return f"{v:.2f}" if abs(v) >= 0.1 or v == 0.0 else f"{v:.2g}"


def _fmt_exponent(v: float) -> str:
    """A theoretical exponent: a simple fraction (-1/2, 2/3) when it is one."""
    frac = Fraction(v).limit_denominator(6)
    if frac.denominator in (2, 3, 4, 6) and abs(float(frac) - v) <= 1e-9 * abs(v):
        return f"{frac.numerator}/{frac.denominator}"
    return f"{v:.3g}"


def judge(fit: RateFit, expected: float, *, tolerance: float, relation: str = "equal") -> Verdict:
    """Compare a fitted slope with the exponent the theory predicts.

    Parameters
    ----------
    fit : RateFit
        Result of :func:`fit_rate`.
    expected : float
        The theoretical exponent (e.g. ``-0.5`` for an ``n^(-1/2)`` rate).
    tolerance : float
        Allowed discrepancy, ``>= 0`` (model error, pre-asymptotic effects);
        unused for ``relation="negative"``.
    relation : {"equal", "at_most", "at_least", "not_above", "negative"}, optional
        ``"equal"``: the interval widened by ``tolerance`` on each side
        contains ``expected``. ``"at_most"``: ``ci[1] <= expected +
        tolerance`` (decays at least as fast as a proven bound).
        ``"at_least"``: ``ci[0] >= expected - tolerance``. ``"not_above"``:
        ``ci[0] <= expected + tolerance``, i.e. the interval contains
        ``expected`` or lies below it (the data do not show a rate slower
        than a proven one). ``"negative"``: ``ci[1] < 0`` (the quantity
        decreases).

    Returns
    -------
    Verdict

    Raises
    ------
    ValueError
        Unknown relation, non-finite ``expected``, negative ``tolerance``.
    TypeError
        ``fit`` is not a :class:`RateFit`.
    """
    if not isinstance(fit, RateFit):
        from ._validation import ParameterTypeError

        raise ParameterTypeError(f"fit must be a RateFit, got {type(fit).__name__}")
    expected = check_real(expected, "expected")
    tolerance = check_real(tolerance, "tolerance", low=0.0)
    relation = check_choice(relation, "relation", RELATIONS)
    lo, hi = fit.ci
    head = f"slope {_fmt(fit.slope)} [{_fmt(lo)}, {_fmt(hi)}]"
    tol = f"(+-{tolerance:.3g})"
    exp_s = _fmt_exponent(expected)
    if relation == "equal":
        passed = lo - tolerance <= expected <= hi + tolerance
        text = f"{head} {'agrees' if passed else 'disagrees'} with {exp_s} {tol}"
    elif relation == "at_most":
        passed = hi <= expected + tolerance
        if not passed:
            text = (f"{head} is shallower than the bound {exp_s} {tol}: "
                    "convergence is slower than the bound")
        elif hi < expected - tolerance:
            text = f"{head} is steeper than the bound {exp_s}: convergence is faster than proven"
        else:
            text = f"{head} meets the bound {exp_s} {tol}"
    elif relation == "at_least":
        passed = lo >= expected - tolerance
        if not passed:
            text = f"{head} is below the lower bound {exp_s} {tol}"
        elif lo > expected + tolerance:
            text = f"{head} exceeds the lower bound {exp_s}: the order is better than proven"
        else:
            text = f"{head} meets the lower bound {exp_s} {tol}"
    elif relation == "not_above":
        passed = lo <= expected + tolerance
        if not passed:
            text = f"{head} lies above {exp_s} {tol}: convergence is slower than {exp_s}"
        elif hi < expected - tolerance:
            text = f"{head} lies below {exp_s}: convergence is faster than {exp_s}"
        else:
            text = f"{head} is consistent with {exp_s} {tol}"
    else:
        passed = hi < 0.0
        text = (f"{head} is negative: the quantity decreases" if passed
                else f"{head} is not clearly negative: the interval reaches {_fmt(hi)} >= 0")
    return Verdict(passed=bool(passed), expected=expected, tolerance=tolerance,
                   relation=relation, text=text)
