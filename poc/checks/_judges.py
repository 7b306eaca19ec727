"""Verdict rules shared by the calibration check and the theorem checks.

The chaos check judges its linear model's coupling errors, and the compress
check its Hill estimates, with the same rules the calibration check proves
on known truths; they live here so that no check imports another's verdicts.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy import integrate, optimize, stats

from .._validation import check_array, check_real
from .noise import stable_cdf

__all__ = ["HILL_BIAS", "RATIO_Z_MAX", "Z_MAX", "hill_verdict", "linear_ratio_verdict",
           "mean_abs_stable", "median_abs_stable"]

Z_MAX = 4.0  # two-sided P(|Z| > 4) = 6e-5 per z-test: false alarms are negligible over a run
HILL_BIAS = 0.15  # compress check: Hill (k = sqrt n) on column norms, light-tailed part, n ~ 2e3
RATIO_Z_MAX = 4.0  # sign test of the linear coupling error at its exact median: P = 6e-5


def mean_abs_stable(alpha: float) -> float:
    """``E|X|`` for ``X ~ S_alpha(1)``: ``2 Gamma(1 - 1/alpha) / pi`` (alpha > 1)."""
    return 2.0 * math.gamma(1.0 - 1.0 / alpha) / math.pi


@functools.lru_cache(maxsize=4)
def _cdf(alpha: float):
    """The noise check's tabulated CDF of S_alpha(1), built once per alpha."""
    return stable_cdf(alpha)


@functools.lru_cache(maxsize=8)
def _median_abs_stable(alpha: float) -> float:
    """Median of |X|, X ~ S_alpha(1): the root of F(m) = 3/4.

    F by Gil-Pelaez inversion of the characteristic function exp(-|t|^alpha),
    ``F(m) = 1/2 + (1/pi) int_0^T sin(t m) exp(-t^alpha) / t dt`` with
    ``T = 40^(1/alpha)`` (the rest of the integral is below e^-40): a few
    milliseconds, where scipy's levy_stable CDF takes seconds. Agrees with the
    noise check's tabulated CDF to 1e-7, and at alpha = 2 with
    ``sqrt(2) Phi^-1(3/4)`` to 1e-15.
    """
    T = 40.0 ** (1.0 / alpha)

    def F(m: float) -> float:
        v = integrate.quad(lambda t: math.sin(t * m) * math.exp(-t ** alpha) / t if t > 0 else m,
                           0.0, T, limit=200, epsabs=1e-13, epsrel=1e-12)[0]
        return 0.5 + v / math.pi

    return float(optimize.brentq(lambda m: F(m) - 0.75, 0.01, 10.0, xtol=1e-12))


def median_abs_stable(alpha: float) -> float:
    """Median of ``|X|``, ``X ~ S_alpha(1)`` (characteristic function ``exp(-|u|^alpha)``).

    Parameters
    ----------
    alpha : float
        Stability index in (1, 2]; at 2, ``S_2(1) = N(0, 2)`` and the median
        is ``sqrt(2) Phi^-1(3/4) = 0.954``.

    Returns
    -------
    float
        The root of ``P(|X| <= m) = 1/2``, to about 1e-10 (Gil-Pelaez inversion).
    """
    alpha = check_real(alpha, "alpha", low=1.0, high=2.0, low_open=True)
    if alpha == 2.0:
        return math.sqrt(2.0) * float(stats.norm.ppf(0.75))
    return _median_abs_stable(alpha)


def linear_ratio_verdict(ratios, alpha: float) -> tuple[bool, str]:
    r"""Judge the linear model's coupling errors against their exact law.

    The linear model's coupling error at width n is exactly
    ``|S_alpha(s_n)|`` (stable CLT, :func:`poc.checks.chaos.linear_coupling_scale`),
    so ``ratios = |e| / E|e|`` are i.i.d. copies of ``|X| / E|X|``,
    ``X ~ S_alpha(1)``, whatever n. Their mean has infinite variance for
    alpha < 2 and cannot be given a tight band; their median can. The count
    ``B`` of ratios below the exact median ``m0 / E|X|`` (``m0`` the median of
    ``|X|``) is Binomial(N, 1/2) exactly, so the verdict is the sign test
    ``|B - N/2| / sqrt(N/4) < 4`` (two-sided false alarm 6e-5). A noise
    scaled by ``step^(1/2)`` instead of ``step^(1/alpha)`` multiplies every
    ratio by ``step^(1/2 - 1/alpha)`` (1.65 for step 0.05, alpha = 1.5).

    Parameters
    ----------
    ratios : array_like, any shape
        Replicate coupling errors divided by the exact ``E|e|`` at their n
        (e.g. the chaos check's ``ce / exact[:, None]``), at least 16 values.
    alpha : float
        Stability index, in (1, 2].

    Returns
    -------
    (bool, str)
        Whether the sign test passes, and a sentence with the median and mean
        ratios against their exact values.
    """
    alpha = check_real(alpha, "alpha", low=1.0, high=2.0, low_open=True)
    r = check_array(np.ravel(np.asarray(ratios, dtype=np.float64)), "ratios", ndim=1, min_size=16)
    m0 = (math.sqrt(2.0) * stats.norm.ppf(0.75) if alpha == 2.0 else _median_abs_stable(alpha))
    mean_abs = 2.0 / math.sqrt(math.pi) if alpha == 2.0 else mean_abs_stable(alpha)
    target = m0 / mean_abs
    N = r.size
    below = int(np.count_nonzero(r < target))
    z = (below - 0.5 * N) / math.sqrt(0.25 * N)
    passed = bool(abs(z) < RATIO_Z_MAX)
    text = (f"median |e| / exact E|e| = {np.median(r):.3f} (exact {target:.3f}, the median of "
            f"|S_alpha| / E|S_alpha|); {below}/{N} below it, sign-test z = {z:+.2f} (pass if "
            f"|z| < {RATIO_Z_MAX:g}); mean ratio {r.mean():.3f} (exact 1, infinite variance: "
            "not judged)")
    return passed, text


def hill_verdict(estimates, alpha: float, *, bias: float = HILL_BIAS) -> tuple[bool, str]:
    """Judge Hill estimates of a tail index against the expected alpha.

    Passes when ``|mean - alpha| <= bias + 4 se`` with ``se`` the standard
    error of the mean over the estimates (independent replicates). ``bias``
    is the stated systematic error of the estimator in the setting (default
    :data:`HILL_BIAS` = 0.15: Hill with ``k = sqrt(n)`` on column norms at
    ``n ~ 2000`` after noisy SGD, whose light-tailed part pushes it upwards).

    Parameters
    ----------
    estimates : array_like, shape (r,)
        Hill estimates from r >= 2 independent replicates.
    alpha : float
        Expected tail index, > 0.
    bias : float, optional
        Allowed systematic error, >= 0.

    Returns
    -------
    (bool, str)
    """
    est = check_array(estimates, "estimates", ndim=1, min_size=2)
    alpha = check_real(alpha, "alpha", low=0.0, low_open=True)
    bias = check_real(bias, "bias", low=0.0)
    mean = float(est.mean())
    se = float(est.std(ddof=1)) / math.sqrt(est.size)
    passed = bool(abs(mean - alpha) <= bias + Z_MAX * se)
    text = (f"Hill {mean:.3f} +- {se:.3f} (se over {est.size} replicates) against alpha = "
            f"{alpha:g}: difference {mean - alpha:+.3f} (pass if within {bias:g} + {Z_MAX:g} se = "
            f"{bias + Z_MAX * se:.3f})")
    return passed, text
