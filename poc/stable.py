r"""The symmetric alpha-stable law: distribution function, quantiles, moments.

The one home of the stable law in ``poc``: the Wasserstein estimators, the
checks and their verdicts all evaluate it here.

Parameterization
----------------
For ``0 < alpha <= 2`` and ``scale > 0``, :math:`S_\alpha(\text{scale})` is the
symmetric alpha-stable law with characteristic function

.. math:: \mathbb{E}\, e^{iuX} = \exp(-|\text{scale}\cdot u|^\alpha),

the law of ``scipy.stats.levy_stable(alpha, 0, loc=0, scale=scale)`` (with
``beta = 0`` scipy's S0 and S1 parameterizations coincide), Nolan's
:math:`S(\alpha, 0, \text{scale}, 0; 0)`, and the law
:func:`poc.sample_stable` draws. ``X ~ S_alpha(scale)`` exactly when
``X / scale ~ S_alpha(1)``. Two members are familiar: ``alpha = 2`` is the
Gaussian :math:`N(0, 2\,\text{scale}^2)` (note the factor 2) and ``alpha = 1``
is the Cauchy law of scale ``scale``. For ``alpha < 2`` the tails fall like
``P(|X| > x) ~ 2 c_alpha x^(-alpha)``, ``c_alpha = Gamma(alpha)
sin(pi alpha / 2) / pi``, so ``E|X|^p`` is finite exactly for ``p < alpha``.
The documentation states the convention once, :ref:`conv-stable-law`.

Functions
---------
* :func:`cdf`, :func:`sf`, :func:`ppf`, :func:`isf` -- distribution function,
  survival function and their inverses, vectorised, accurate in the far
  tails.
* :func:`mean_abs`, :func:`median_abs` -- ``E|X|`` and the median of
  ``|X|``.
* :func:`require_finite_moment` -- refuse an order ``p`` whose moment is
  infinite.

Method
------
scipy's ``levy_stable`` is the independent reference the checks and tests
compare with, but it is slow point by point (its quantiles above all; see
:ref:`ug-performance-timings`) and wrong in the far tails (scipy issue #17194: for ``alpha = 1.9``
its ``sf`` is off by 1e-5 relative at ``x = 120``; for ``alpha = 1.5`` it is
exactly 0 beyond ``x ~ 1000``). Here the standard law ``S_alpha(1)`` is
tabulated once per ``alpha`` (cached): the survival function and the density
on ``0 <= x <= 30`` by the Gil-Pelaez inversion integrals

.. math:: P(X > x) = \frac12 - \frac1\pi \int_0^\infty \frac{\sin(ux)}{u}
          e^{-u^\alpha}\, du, \qquad
          f(x) = \frac1\pi \int_0^\infty \cos(ux)\, e^{-u^\alpha}\, du

(Gauss-Legendre, about 1e-13 absolute), cubic Hermite interpolation between
the grid points (relative error below 3e-10), and beyond ``x = 30`` the
asymptotic series of Bergstrom

.. math:: P(X > x) = \frac1\pi \sum_{k \ge 1} (-1)^{k+1}
          \frac{\Gamma(\alpha k)}{k!} \sin\frac{\pi\alpha k}{2}\, x^{-\alpha k},

truncated at its smallest term (relative error below 1e-11 there), with
Newton's method for the tail quantiles. ``alpha = 2`` uses the Gaussian's
``erfc`` directly. The table covers ``alpha >= 0.7`` (:data:`MIN_ALPHA`):
the characteristic function decays more slowly as ``alpha`` decreases, so
the inversion integrals need more nodes and a table takes longer to build
(:ref:`ug-performance-timings`).

References
----------
Gil-Pelaez (1951), "Note on the inversion theorem", Biometrika 38.
Bergstrom (1952), "On some expansions of stable distribution functions",
Ark. Mat. 2. Nolan (2020), *Univariate Stable Distributions*, Ch. 1 and 3.
Samorodnitsky and Taqqu (1994), *Stable Non-Gaussian Random Processes*,
Property 1.2.17 (absolute moments).
"""

from __future__ import annotations

import functools
import math

import numpy as np
from numba import njit, prange

from ._validation import check_array, check_real

__all__ = ["MIN_ALPHA", "cdf", "isf", "mean_abs", "median_abs", "ppf", "require_finite_moment", "sf"]

#: Smallest stability index :func:`cdf`, :func:`sf`, :func:`ppf` and
#: :func:`isf` accept (the inversion integrals need ``e^(-u^alpha)`` to decay).
MIN_ALPHA = 0.7

_ST_XT = 30.0  # table on [0, _ST_XT]; asymptotic series beyond
_ST_KMAX = 60  # at most this many series terms


# ---------------------------------------------------------------------------
# finite moments


def require_finite_moment(alpha: float, p: float) -> None:
    """Refuse ``W_p`` for an alpha-stable law whose ``p``-th moment is infinite.

    A symmetric alpha-stable law with ``alpha < 2`` has ``E|X|^q < inf``
    exactly for ``q < alpha``; ``alpha = 2`` (Gaussian) has all moments.
    ``W_p`` is finite only between laws with finite ``p``-th moments.

    Parameters
    ----------
    alpha : float
        Stability index in (0, 2] of the law the samples come from.
    p : float
        Order of the Wasserstein distance, ``>= 1``.

    Raises
    ------
    ValueError
        ``"W_p needs a finite p-th moment: alpha must be > p, got ..."`` when
        ``alpha < 2`` and ``alpha <= p``; also if alpha or p is out of range.
    """
    alpha = check_real(alpha, "alpha", low=0.0, high=2.0, low_open=True)
    p = check_real(p, "p", low=1.0)
    if alpha < 2.0 and alpha <= p:
        raise ValueError(
            f"W_p needs a finite p-th moment: alpha must be > p, got alpha={alpha:g} with "
            f"p={p:g} (an alpha-stable law with alpha < 2 has E|X|^q = inf for q >= alpha)"
        )


# ---------------------------------------------------------------------------
# Numba kernels of the table of S_alpha(1)


@njit(cache=True, parallel=True)
def _gil_pelaez(xg, u, e, sf, pdf):
    """sf(x) = 1/2 - (1/pi) int sin(ux)/u e^{-u^a} du, pdf(x) = (1/pi) int cos(ux) e^{-u^a} du.

    ``e`` holds the quadrature weights times e^{-u^a}; grid points are independent.
    """
    for i in prange(xg.size):
        x = xg[i]
        s = 0.0
        c = 0.0
        for j in range(u.size):
            s += e[j] * math.sin(u[j] * x) / u[j]
            c += e[j] * math.cos(u[j] * x)
        sf[i] = 0.5 - s / math.pi
        pdf[i] = c / math.pi


@njit(cache=True)
def _series(y, alpha, coef, mag):
    """Asymptotic (Bergstrom) series of sf and y * pdf of S_alpha(1) at y >= _ST_XT.

    sf(y) = sum_k coef[k] y^(-alpha (k+1)); the sum stops once the bound
    mag[k] y^(-alpha (k+1)) (the term without its sine factor) is negligible
    or starts to grow (the series is asymptotic for alpha > 1).
    """
    r = y ** (-alpha)
    rk = r
    sf = 0.0
    ypdf = 0.0  # y * pdf(y): no underflow for huge y
    prev = np.inf
    for k in range(coef.size):
        bound = mag[k] * rk
        if bound > prev:
            break
        term = coef[k] * rk
        sf += term
        ypdf += term * (alpha * (k + 1))
        if bound <= 1e-17 * abs(sf):
            break
        prev = bound
        rk *= r
    return sf, ypdf


@njit(cache=True)
def _hermite(t, h, y0, y1, d0, d1):
    """Cubic Hermite on a cell of width h at relative position t in [0, 1]."""
    t2 = t * t
    t3 = t2 * t
    return ((2.0 * t3 - 3.0 * t2 + 1.0) * y0 + (t3 - 2.0 * t2 + t) * h * d0
            + (-2.0 * t3 + 3.0 * t2) * y1 + (t3 - t2) * h * d1)


@njit(cache=True)
def _sf_scalar(z, alpha, xg, sfg, pdfg, coef, mag):
    """P(X > z) for X ~ S_alpha(1), any real z."""
    y = abs(z)
    if y >= xg[-1]:
        s, _ = _series(y, alpha, coef, mag)
    else:
        k = np.searchsorted(xg, y, side="right") - 1
        h = xg[k + 1] - xg[k]
        s = _hermite((y - xg[k]) / h, h, sfg[k], sfg[k + 1], -pdfg[k], -pdfg[k + 1])
    return s if z >= 0.0 else 1.0 - s


@njit(cache=True, parallel=True)
def _sf_kernel(z, alpha, xg, sfg, pdfg, coef, mag, out):
    for i in prange(z.size):
        out[i] = _sf_scalar(z[i], alpha, xg, sfg, pdfg, coef, mag)


@njit(cache=True)
def _isf_scalar(s, alpha, xg, sfg, pdfg, coef, mag):
    """x >= 0 with P(X > x) = s, for s in (0, 1/2]."""
    if s >= 0.5:
        return 0.0
    if s >= sfg[-1]:
        # sfg is decreasing: find k with sfg[k] >= s > sfg[k+1]; Hermite for x(s), x' = -1/pdf.
        lo = 0
        hi = sfg.size - 1
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if sfg[mid] >= s:
                lo = mid
            else:
                hi = mid
        h = sfg[hi] - sfg[lo]
        return _hermite((s - sfg[lo]) / h, h, xg[lo], xg[hi], -1.0 / pdfg[lo], -1.0 / pdfg[hi])
    # Tail: Newton on log sf(e^v) = log s, started from the leading term.
    v = (math.log(coef[0]) - math.log(s)) / alpha
    v = max(v, math.log(xg[-1]))
    target = math.log(s)
    for _ in range(60):
        y = math.exp(v)
        sf, ypdf = _series(y, alpha, coef, mag)
        g = math.log(sf) - target
        dg = -ypdf / sf
        step = g / dg
        v -= step
        if v < math.log(xg[-1]):
            v = math.log(xg[-1])
        if abs(step) <= 1e-15 * max(1.0, abs(v)):
            break
    return math.exp(v)


@njit(cache=True, parallel=True)
def _isf_kernel(s, alpha, xg, sfg, pdfg, coef, mag, out):
    for i in prange(s.size):
        out[i] = _isf_scalar(s[i], alpha, xg, sfg, pdfg, coef, mag)


@functools.lru_cache(maxsize=32)
def _table(alpha: float):
    """Tables of sf and pdf of S_alpha(1) on [0, 30] and tail-series coefficients."""
    # x grid: step 0.005 on [0, 12], then geometric (ratio 1.004) to 30.  The cubic
    # Hermite error, ~ (step / local scale)^4 / 384, is largest where the density
    # turns from Gaussian-like to a power law (x ~ 5 for alpha near 2): ~1e-11 there.
    body = np.arange(0.0, 12.0, 0.005)
    n_geo = math.ceil(math.log(_ST_XT / 12.0) / math.log(1.004))
    xg = np.concatenate([body, 12.0 * 1.004 ** np.arange(n_geo + 1)])
    # u grid: geometric panels on [0, 0.1] (e^{-u^alpha} is not analytic at 0), then
    # panels of width 0.25 up to U with e^{-U^alpha} < 1e-18; 16-point Gauss-Legendre
    # integrates sin(ux), cos(ux) to ~1e-17 while the phase per panel is <= 7.5 rad.
    g, w = np.polynomial.legendre.leggauss(16)
    u_max = math.log(1e18) ** (1.0 / alpha)
    edges = np.concatenate([[0.0], 0.1 * 2.0 ** -np.arange(60.0, -1.0, -1.0),
                            0.1 + 0.25 * np.arange(1, math.ceil((u_max - 0.1) / 0.25) + 1)])
    lo, width = edges[:-1], np.diff(edges)
    u = (lo[:, None] + 0.5 * width[:, None] * (g + 1.0)).ravel()
    e = (0.5 * width[:, None] * w).ravel() * np.exp(-(u**alpha))
    sfg = np.empty_like(xg)
    pdfg = np.empty_like(xg)
    _gil_pelaez(xg, u, e, sfg, pdfg)
    # Bergstrom: sf(y) ~ (1/pi) sum_k (-1)^(k+1) Gamma(alpha k)/k! sin(pi alpha k/2) y^(-alpha k)
    k = np.arange(1, _ST_KMAX + 1)
    log_mag = np.array([math.lgamma(alpha * kk) - math.lgamma(kk + 1.0) for kk in k]) - math.log(math.pi)
    mag = np.exp(log_mag)
    coef = mag * (-1.0) ** (k + 1) * np.sin(0.5 * math.pi * alpha * k)
    return alpha, xg, sfg, pdfg, coef, mag


# ---------------------------------------------------------------------------
# the standard law S_alpha(1), for validated inputs


def _sf_standard(z: np.ndarray, alpha: float) -> np.ndarray:
    """P(X > z), X ~ S_alpha(1), for a float64 array z and alpha in [MIN_ALPHA, 2]."""
    if alpha == 2.0:
        from scipy.special import erfc

        return 0.5 * erfc(0.5 * z)  # S_2(1) is N(0, 2)
    out = np.empty_like(z)
    _sf_kernel(np.ascontiguousarray(z.ravel()), *_table(alpha), out.ravel())
    return out


def _isf_half(s: np.ndarray, alpha: float) -> np.ndarray:
    """x >= 0 with P(X > x) = s, X ~ S_alpha(1), for s in (0, 1/2]."""
    if alpha == 2.0:
        from scipy.special import erfcinv

        return 2.0 * erfcinv(2.0 * s)
    out = np.empty_like(s)
    _isf_kernel(np.ascontiguousarray(s.ravel()), *_table(alpha), out.ravel())
    return out


def _isf_standard(q: np.ndarray, alpha: float) -> np.ndarray:
    """x with P(X > x) = q, X ~ S_alpha(1), for q in [0, 1] (q = 0: +inf, q = 1: -inf)."""
    upper = q <= 0.5
    # symmetry: the quantile at q > 1/2 is minus the one at 1 - q, so each half keeps the
    # relative precision of the smaller tail probability
    s = np.where(upper, q, 1.0 - q)
    inner = s > 0.0
    x = np.full(q.shape, np.inf)
    x[inner] = _isf_half(s[inner], alpha)
    return np.where(upper, x, -x)


# ---------------------------------------------------------------------------
# public functions


def _alpha(alpha) -> float:
    return check_real(alpha, "alpha", low=MIN_ALPHA, high=2.0)


def _scale(scale) -> float:
    return check_real(scale, "scale", low=0.0, low_open=True)


def _shaped(out: np.ndarray, shape: tuple[int, ...]):
    out = out.reshape(shape)
    return out[()] if out.ndim == 0 else out


def _points(x, name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if np.any(np.isnan(arr)):
        raise ValueError(f"{name} must not contain NaN, got {int(np.isnan(arr).sum())} NaN value(s)")
    return arr


def _probabilities(q, name: str) -> np.ndarray:
    arr = check_array(q, name).reshape(np.shape(q))  # check_array makes scalars 1-D
    if np.any((arr < 0.0) | (arr > 1.0)):
        bad = arr[(arr < 0.0) | (arr > 1.0)][0]
        raise ValueError(f"{name} must be probabilities in [0, 1], got {bad:g}")
    return arr


def sf(x, alpha: float, scale: float = 1.0):
    r"""Survival function ``P(X > x)`` of ``X ~ S_alpha(scale)``.

    Parameters
    ----------
    x : array_like, any shape
        Points (``+-inf`` allowed; no NaN).
    alpha : float
        Stability index in [:data:`MIN_ALPHA`, 2].
    scale : float, optional
        Scale, ``> 0`` (see the module's parameterization).

    Returns
    -------
    numpy.ndarray or numpy.float64
        ``P(X > x)``, the shape of ``x`` (a scalar for scalar ``x``).

    Raises
    ------
    ValueError
        NaN in ``x``; ``alpha`` or ``scale`` out of range.

    Notes
    -----
    Relative accuracy about 1e-10 wherever the value is above 1e-300, in
    the far tail included (the module notes give the method). The first
    call for a given ``alpha`` builds its table (:ref:`ug-performance-timings`).

    Examples
    --------
    >>> from poc import stable
    >>> float(stable.sf(1.0, 1.0))  # Cauchy: 1/2 - arctan(1)/pi
    0.25
    """
    a, s = _alpha(alpha), _scale(scale)
    z = _points(x, "x")
    shape = z.shape
    return _shaped(_sf_standard(np.ravel(z / s), a), shape)


def cdf(x, alpha: float, scale: float = 1.0):
    r"""Distribution function ``P(X <= x)`` of ``X ~ S_alpha(scale)``.

    By symmetry ``cdf(x) = sf(-x)``, evaluated without cancellation in the
    lower tail. Parameters, returns and raises as for :func:`sf`.

    Examples
    --------
    >>> from poc import stable
    >>> float(stable.cdf(0.0, 1.5))
    0.5
    """
    a, s = _alpha(alpha), _scale(scale)
    z = _points(x, "x")
    shape = z.shape
    return _shaped(_sf_standard(np.ravel(-z / s), a), shape)


def isf(q, alpha: float, scale: float = 1.0):
    r"""Inverse survival function: ``x`` with ``P(X > x) = q``, ``X ~ S_alpha(scale)``.

    Parameters
    ----------
    q : array_like, any shape
        Probabilities in [0, 1] (``q = 0`` gives ``+inf``, ``q = 1`` gives
        ``-inf``).
    alpha : float
        Stability index in [:data:`MIN_ALPHA`, 2].
    scale : float, optional
        Scale, ``> 0``.

    Returns
    -------
    numpy.ndarray or numpy.float64
        The quantiles, the shape of ``q``.

    Raises
    ------
    ValueError
        ``q`` not finite or outside [0, 1]; ``alpha`` or ``scale`` out of range.

    Notes
    -----
    Relative accuracy about 1e-10 for ``q <= 1/2``, down to ``q = 1e-300``
    (Newton's method on the tail series beyond ``x = 30``). For ``q > 1/2``
    it is ``-isf(1 - q)``, whose accuracy is limited by the rounding of
    ``1 - q``; use ``ppf`` of the small lower-tail probability instead.

    Examples
    --------
    >>> from poc import stable
    >>> round(float(stable.isf(0.25, 1.0)), 12)  # Cauchy upper quartile: tan(pi/4)
    1.0
    """
    a, s = _alpha(alpha), _scale(scale)
    p = _probabilities(q, "q")
    return _shaped(s * _isf_standard(np.ravel(p), a), p.shape)


def ppf(q, alpha: float, scale: float = 1.0):
    r"""Quantile function: ``x`` with ``P(X <= x) = q``, ``X ~ S_alpha(scale)``.

    By symmetry ``ppf(q) = -isf(q)``, so small ``q`` (the lower tail) keeps
    full relative precision. Parameters, returns and raises as for
    :func:`isf` (``q = 0`` gives ``-inf``, ``q = 1`` gives ``+inf``).

    Examples
    --------
    >>> from poc import stable
    >>> round(float(stable.ppf(0.75, 1.0)), 12)
    1.0
    """
    a, s = _alpha(alpha), _scale(scale)
    p = _probabilities(q, "q")
    return _shaped(-s * _isf_standard(np.ravel(p), a), p.shape)


def mean_abs(alpha: float, scale: float = 1.0) -> float:
    r"""``E|X|`` for ``X ~ S_alpha(scale)``: ``scale * 2 Gamma(1 - 1/alpha) / pi``.

    Parameters
    ----------
    alpha : float
        Stability index in (1, 2] (``E|X|`` is infinite for ``alpha <= 1``).
    scale : float, optional
        Scale, ``> 0``.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        ``alpha`` outside (1, 2] or ``scale <= 0``.

    Notes
    -----
    ``E|X|^p = 2^p Gamma((1 + p)/2) Gamma(1 - p/alpha) / (Gamma(1 - p/2)
    sqrt(pi))`` (Samorodnitsky and Taqqu 1994, Property 1.2.17) at ``p = 1``;
    at ``alpha = 2`` it is ``2 / sqrt(pi)``, the mean of ``|N(0, 2)|``.
    """
    a = check_real(alpha, "alpha", low=1.0, high=2.0, low_open=True)
    s = _scale(scale)
    return 2.0 * math.gamma(1.0 - 1.0 / a) / math.pi * s


@functools.lru_cache(maxsize=32)
def _median_abs_standard(alpha: float) -> float:
    return float(_isf_standard(np.array([0.25]), alpha)[0])


def median_abs(alpha: float, scale: float = 1.0) -> float:
    r"""Median of ``|X|`` for ``X ~ S_alpha(scale)``: the upper quartile ``isf(1/4)``.

    Parameters
    ----------
    alpha : float
        Stability index in [:data:`MIN_ALPHA`, 2].
    scale : float, optional
        Scale, ``> 0``.

    Returns
    -------
    float
        ``m`` with ``P(|X| <= m) = 1/2``; at ``alpha = 2`` it is
        ``sqrt(2) Phi^-1(3/4) scale``.

    Raises
    ------
    ValueError
        ``alpha`` or ``scale`` out of range.
    """
    return _median_abs_standard(_alpha(alpha)) * _scale(scale)
