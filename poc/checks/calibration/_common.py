"""Thresholds and statistics shared by the calibration cases.

Every threshold is stated next to its constant with its reason. The
scale-sensitive test (:func:`quantile_z`) is distribution free: under the
claimed law, the number of draws with ``|x - loc| / scale`` below the exact
``q``-quantile of ``|S_alpha(1)|`` is ``Binomial(n, q)``.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy import integrate, optimize, stats

from .._base import Case
from ..noise import stable_cdf as _cdf  # scipy's levy_stable, the independent reference

ALPHA = 1.5  # one stable index for the KS cases: one CDF table (~2 s to build from scipy)
SIGMA = 0.7
KS_PVALUE_MIN = 1e-3  # ~10 KS tests: a correct instrument fails one with probability ~1 %
Z_MAX = 4.0  # two-sided P(|Z| > 4) = 6e-5 per z-test: ~100 z-tests give a false alarm < 1 %
REL_ROUNDING = 1e-10  # same quantity by two routes in float64: differences are ~1e-15 relative
REL_FD = 1e-6  # central differences with h = 1e-5: truncation ~h^2, cancellation ~1e-16/h
REL_W1_LAW = 1e-5  # table CDF error ~1e-6 on [-30, 30]: measured 1e-7..4e-7 over seeds; defects >1e-3
QUANTILE_LEVELS = (0.5, 0.9)  # the median sees the scale, the 0.9 quantile the shoulder of the tail
SCALE_ERROR = 0.03  # the scale error every scale test is sized to see (its z shift is stated)


# ---------------------------------------------------------------------------
# exact laws of |S_alpha(1)| (Gil-Pelaez inversion of exp(-|t|^alpha))


def _gil_pelaez(alpha: float, m: float, kernel) -> float:
    T = 40.0 ** (1.0 / alpha)  # the rest of the integral is below e^-40
    return integrate.quad(lambda t: kernel(t, m) * math.exp(-t ** alpha), 0.0, T, limit=400,
                          epsabs=1e-13, epsrel=1e-12)[0] / math.pi


@functools.lru_cache(maxsize=64)
def abs_quantile(alpha: float, q: float) -> float:
    """The ``q``-quantile of ``|X|``, ``X ~ S_alpha(1)``: root of ``F(m) = (1 + q) / 2``.

    ``F(m) = 1/2 + (1/pi) int_0^inf sin(t m) exp(-t^alpha) / t dt`` (Gil-Pelaez);
    closed forms at alpha = 1 (``tan(pi q / 2)``) and alpha = 2
    (``sqrt(2) Phi^-1((1 + q) / 2)``).
    """
    if alpha == 2.0:
        return math.sqrt(2.0) * float(stats.norm.ppf(0.5 * (1.0 + q)))
    if alpha == 1.0:
        return math.tan(0.5 * math.pi * q)

    def F(m: float) -> float:
        return 0.5 + _gil_pelaez(alpha, m, lambda t, x: math.sin(t * x) / t if t > 0 else x)

    # the 0.99 quantile is below 50 for alpha >= 1 (oscillations beyond slow the quadrature)
    return float(optimize.brentq(lambda m: F(m) - 0.5 * (1.0 + q), 1e-3, 50.0, xtol=1e-13))


@functools.lru_cache(maxsize=64)
def abs_density(alpha: float, m: float) -> float:
    """Density of ``|X|`` at ``m``, ``X ~ S_alpha(1)``: ``(2/pi) int cos(t m) exp(-t^alpha) dt``."""
    if alpha == 2.0:  # |N(0, 2)|
        return 2.0 * float(stats.norm.pdf(m, scale=math.sqrt(2.0)))
    if alpha == 1.0:  # |Cauchy|
        return 2.0 / (math.pi * (1.0 + m * m))
    return 2.0 * _gil_pelaez(alpha, m, lambda t, x: math.cos(t * x))


def quantile_z(u: np.ndarray, alpha: float, levels=QUANTILE_LEVELS) -> dict:
    """Binomial z-tests of ``u = |x - loc| / scale`` (independent draws) against ``|S_alpha(1)|``.

    Returns the observed fraction below each exact quantile, its z score, and
    the z shift a scale error of :data:`SCALE_ERROR` would cause (the test's
    power, stated in the case's detail).
    """
    u = np.asarray(u, float).ravel()
    n = u.size
    out = {"n": n, "levels": list(levels), "fraction": [], "z": [], "z_of_3pc_scale_error": []}
    for q in levels:
        m = abs_quantile(alpha, q)
        frac = float(np.mean(u <= m))
        sd = math.sqrt(q * (1.0 - q) / n)
        out["fraction"].append(frac)
        out["z"].append((frac - q) / sd)
        # scale (1 + e): the fraction below m drops by ~ e m f(m)
        out["z_of_3pc_scale_error"].append(SCALE_ERROR * m * abs_density(alpha, m) / sd)
    out["max_abs_z"] = float(max(abs(z) for z in out["z"]))
    return out


def quantile_text(qz: dict) -> str:
    parts = [f"P(|x| <= q_{lv:g}) = {f:.4f} (z = {z:+.2f})"
             for lv, f, z in zip(qz["levels"], qz["fraction"], qz["z"], strict=True)]
    power = max(qz["z_of_3pc_scale_error"])
    return (f"{', '.join(parts)} over {qz['n']} draws (pass if |z| < {Z_MAX:g}; a "
            f"{100 * SCALE_ERROR:g} % scale error would shift z by {power:.1f})")


def law_cdf(alpha: float):
    """Standardised CDF of S_alpha(1) as a vectorised callable (table at alpha = 1.5)."""
    if alpha == 2.0:
        return stats.norm(scale=math.sqrt(2.0)).cdf
    if alpha == 1.0:
        return stats.cauchy.cdf
    return _cdf(alpha)


def ks(x: np.ndarray, alpha: float, scale: float, loc: float = 0.0) -> tuple[float, float]:
    """One-sample KS statistic and p-value of ``x`` against ``S_alpha(scale) + loc``."""
    res = stats.kstest((np.asarray(x) - loc) / scale, law_cdf(alpha))
    return float(res.statistic), float(res.pvalue)


# ---------------------------------------------------------------------------
# comparisons


def rel(a, b) -> float:
    """Largest absolute difference relative to the largest magnitude of ``b``."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.shape != b.shape:
        return math.inf
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def rounding_case(name: str, a, b, tol: float, what: str) -> Case:
    """A case that passes when ``a`` and ``b`` agree to ``tol`` relative."""
    err = rel(a, b)
    return Case(name=name, passed=bool(err <= tol),
                detail=f"{what}: max relative difference {err:.2e} (pass if <= {tol:g})",
                values={"relative_difference": err, "tolerance": tol})


def identical_case(name: str, pairs: list[tuple[str, np.ndarray, np.ndarray]], what: str) -> Case:
    """A case that passes when every pair of arrays is identical bit for bit."""
    diffs = {label: (rel(a, b) if np.shape(a) == np.shape(b) else math.inf)
             for label, a, b in pairs}
    same = {label: bool(np.shape(a) == np.shape(b) and np.array_equal(a, b))
            for label, a, b in pairs}
    bad = [label for label, ok in same.items() if not ok]
    text = "; ".join(f"{label}: {'identical' if same[label] else f'differ by {diffs[label]:.2e}'}"
                     for label, _, _ in pairs)
    return Case(name=name, passed=not bad,
                detail=f"{what}: {text} (pass if all identical bit for bit)",
                values={"relative_difference": diffs, "identical": same})
