r"""Symmetric alpha-stable noise and the three multivariate noise kinds.

Parameterization (used everywhere in the toolkit)
-------------------------------------------------
``S_alpha(scale)`` is the symmetric alpha-stable law with characteristic
function

.. math:: \mathbb{E} e^{iuX} = \exp(-|\mathrm{scale}\, u|^\alpha),
          \qquad 0 < \alpha \le 2,

the same law as ``scipy.stats.levy_stable(alpha, 0, scale=scale)``.
``alpha = 2`` is the Gaussian ``N(0, 2 scale^2)`` and ``alpha = 1`` the
Cauchy law with scale ``scale``.

Sampling uses the Chambers-Mallows-Stuck (CMS) representation
(Chambers, Mallows, Stuck 1976; Weron 1996): with ``V ~ U(-pi/2, pi/2)`` and
``W ~ Exp(1)`` independent,

.. math:: X = \frac{\sin(\alpha V)}{\cos(V)^{1/\alpha}}
              \left(\frac{\cos((1-\alpha)V)}{W}\right)^{(1-\alpha)/\alpha}.

It is evaluated in log space so that no intermediate overflows; the rare
draws whose magnitude exceeds the float64 range (possible only for small
alpha, where the law itself has such values) saturate at +-1.79e308 instead
of becoming ``inf``.

Multivariate kinds (rows are particles / hidden units, columns coordinates):

* ``"iid"`` -- every coordinate i.i.d. ``S_alpha(scale)``;
* ``"isotropic"`` -- rotation invariant, ``X = sqrt(A) G`` with
  ``G ~ N(0, 2 I_d)`` and ``A`` totally skewed positive
  ``(alpha/2)``-stable with Laplace transform ``exp(-s^(alpha/2))``, so that
  ``E exp(i<u, X>) = exp(-|scale u|^alpha)``;
* ``"neuron"`` -- one scalar ``S_alpha(scale)`` per row, added to all of its
  coordinates.

Randomness comes from a NumPy ``Generator`` (uniforms, exponentials,
normals); the Numba kernels only transform those draws, in fixed-size
blocks, so the output is bit-identical for any number of Numba threads.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ._validation import as_generator, check_choice, check_int, check_real, check_size

__all__ = ["NOISE_KINDS", "sample_noise", "sample_positive_stable", "sample_stable"]

NOISE_KINDS = ("iid", "isotropic", "neuron")

# Work is split into blocks of fixed length (not per thread), so the per-element
# code path, including any SIMD remainder loop, does not depend on the thread count.
_BLOCK = 4096
# Largest log-magnitude whose exp() is a finite float64 (log(DBL_MAX) = 709.78...).
_LOG_MAX = 709.78
_HALF_PI = 0.5 * math.pi


@njit(cache=True, inline="always")
def _clamped_exp(log_x):
    return math.exp(min(log_x, _LOG_MAX))


@njit(cache=True, parallel=True)
def _cms_symmetric(alpha, log_scale, u, w, out):
    """Symmetric CMS for alpha in (0, 2), alpha != 1; u ~ U[0,1), w ~ Exp(1)."""
    n = u.size
    e = (1.0 - alpha) / alpha
    inv_a = 1.0 / alpha
    for b in prange((n + _BLOCK - 1) // _BLOCK):
        for i in range(b * _BLOCK, min(n, (b + 1) * _BLOCK)):
            v = math.pi * (u[i] - 0.5)
            # sin(alpha v) is bounded by 1, so only the other factor can overflow:
            # it is formed in log space and saturated before the product.
            out[i] = math.sin(alpha * v) * _clamped_exp(
                e * math.log(math.cos((1.0 - alpha) * v) / w[i]) - inv_a * math.log(math.cos(v))
                + log_scale
            )


@njit(cache=True, parallel=True)
def _cauchy(log_scale, u, out):
    n = u.size
    for b in prange((n + _BLOCK - 1) // _BLOCK):
        for i in range(b * _BLOCK, min(n, (b + 1) * _BLOCK)):
            # tan(pi (u - 1/2)) is at most 1/eps ~ 5e15 for u in [0, 1): saturate only the scale
            out[i] = math.tan(math.pi * (u[i] - 0.5)) * _clamped_exp(log_scale)


@njit(cache=True, parallel=True)
def _cms_positive(alpha, log_scale, u, w, out):
    """Totally skewed (beta = 1) alpha-stable, alpha in (0, 1) (Kanter / CMS form).

    ``log_scale`` already includes the CMS factor cos(pi alpha / 2)^(-1/alpha).
    """
    n = u.size
    e = (1.0 - alpha) / alpha
    inv_a = 1.0 / alpha
    for b in prange((n + _BLOCK - 1) // _BLOCK):
        for i in range(b * _BLOCK, min(n, (b + 1) * _BLOCK)):
            v = math.pi * (u[i] - 0.5)
            out[i] = math.sin(alpha * (v + _HALF_PI)) * _clamped_exp(
                e * math.log(math.cos(v - alpha * (v + _HALF_PI)) / w[i]) - inv_a * math.log(math.cos(v))
                + log_scale
            )


@njit(cache=True, parallel=True)
def _scale_rows(radius, g, out):
    """out[i, :] = radius[i] * g[i, :], saturating at the float64 range."""
    n, d = g.shape
    big = 1.7976931348623157e308
    for b in prange((n + _BLOCK - 1) // _BLOCK):
        for i in range(b * _BLOCK, min(n, (b + 1) * _BLOCK)):
            r = radius[i]
            for j in range(d):
                out[i, j] = min(max(r * g[i, j], -big), big)


# ---------------------------------------------------------------------------
# private drawing helpers (take a Generator; used by the public wrappers and by
# the simulators, which draw noise every step)


def _stable(rng: np.random.Generator, alpha: float, n: int, scale: float = 1.0) -> np.ndarray:
    """n i.i.d. S_alpha(scale) draws (flat float64 array), no input checks."""
    if alpha == 2.0:
        return rng.standard_normal(n) * (math.sqrt(2.0) * scale)
    u = rng.random(n)
    out = np.empty(n)
    if alpha == 1.0:
        _cauchy(math.log(scale), u, out)
        return out
    w = rng.standard_exponential(n)
    _cms_symmetric(alpha, math.log(scale), u, w, out)
    return out


def _positive_stable(rng: np.random.Generator, alpha: float, n: int, scale: float = 1.0) -> np.ndarray:
    """n draws of levy_stable(alpha, beta=1, scale), alpha in (0, 1), no checks."""
    u = rng.random(n)
    w = rng.standard_exponential(n)
    out = np.empty(n)
    log_s = math.log(scale) - math.log(math.cos(_HALF_PI * alpha)) / alpha
    _cms_positive(alpha, log_s, u, w, out)
    return out


def _noise(rng: np.random.Generator, alpha: float, n: int, d: int, kind: str,
           scale: float = 1.0) -> np.ndarray:
    """(n, d) noise of the given kind, no input checks."""
    if kind == "iid":
        return _stable(rng, alpha, n * d, scale).reshape(n, d)
    if kind == "neuron":
        return np.repeat(_stable(rng, alpha, n, scale)[:, None], d, axis=1)
    # isotropic: X = scale * sqrt(A) * G with E exp(-s A) = exp(-s^(alpha/2)), G ~ N(0, 2 I)
    g = rng.standard_normal((n, d))
    if alpha == 2.0:
        radius = np.full(n, math.sqrt(2.0) * scale)
    else:
        a = 0.5 * alpha
        # levy_stable(a, 1, scale=c) with c = cos(pi a / 2)^(1/a) has Laplace transform exp(-s^a)
        c = math.cos(_HALF_PI * a) ** (1.0 / a)
        radius = np.sqrt(_positive_stable(rng, a, n, c)) * (math.sqrt(2.0) * scale)
    out = np.empty((n, d))
    _scale_rows(radius, g, out)
    return out


# ---------------------------------------------------------------------------
# public API


def sample_stable(alpha: float, size, *, scale: float = 1.0, seed=None) -> np.ndarray:
    """Draw symmetric alpha-stable variables.

    Parameters
    ----------
    alpha : float
        Stability index, in (0, 2]. ``alpha = 2`` gives ``N(0, 2 scale^2)``,
        ``alpha = 1`` the Cauchy law.
    size : int or tuple of int
        Output shape.
    scale : float, optional
        Scale ``> 0``; the characteristic function is ``exp(-|scale u|^alpha)``.
    seed : None, int or numpy.random.Generator, optional
        Source of randomness. A Generator is advanced in place.

    Returns
    -------
    numpy.ndarray of shape ``size``
        Draws from ``scipy.stats.levy_stable(alpha, 0, scale=scale)``. All
        values are finite (see the module notes on saturation).

    Raises
    ------
    ValueError
        If alpha, scale or size is out of range, or seed is of the wrong type.

    References
    ----------
    Chambers, Mallows and Stuck (1976), "A method for simulating stable random
    variables", JASA 71(354). Weron (1996), Statist. Probab. Lett. 28.
    """
    alpha = check_real(alpha, "alpha", low=0.0, high=2.0, low_open=True)
    scale = check_real(scale, "scale", low=0.0, low_open=True)
    shape = check_size(size)
    rng = as_generator(seed)
    return _stable(rng, alpha, math.prod(shape), scale).reshape(shape)


def sample_positive_stable(alpha: float, size, *, scale: float = 1.0, seed=None) -> np.ndarray:
    """Draw totally skewed positive alpha-stable variables, alpha in (0, 1).

    The law is ``scipy.stats.levy_stable(alpha, 1, scale=scale)`` (S1
    parameterization), supported on ``[0, inf)`` with Laplace transform
    ``E exp(-s A) = exp(-(scale s)^alpha / cos(pi alpha / 2))``. It is the
    subordinator that makes the isotropic noise kind.

    Parameters
    ----------
    alpha : float
        Stability index in (0, 1).
    size : int or tuple of int
        Output shape.
    scale : float, optional
        Scale ``> 0``.
    seed : None, int or numpy.random.Generator, optional
        Source of randomness.

    Returns
    -------
    numpy.ndarray of shape ``size``, non-negative and finite.

    Raises
    ------
    ValueError
        If alpha, scale or size is out of range, or seed is of the wrong type.

    References
    ----------
    Kanter (1975), "Stable densities under change of scale and total variation
    inequalities", Ann. Probab. 3(4); Samorodnitsky and Taqqu (1994), Prop. 1.3.1.
    """
    alpha = check_real(alpha, "alpha", low=0.0, high=1.0, low_open=True, high_open=True)
    scale = check_real(scale, "scale", low=0.0, low_open=True)
    shape = check_size(size)
    rng = as_generator(seed)
    return _positive_stable(rng, alpha, math.prod(shape), scale).reshape(shape)


def sample_noise(alpha: float, n: int, d: int, *, kind: str = "iid", scale: float = 1.0,
                 seed=None) -> np.ndarray:
    """Draw an (n, d) block of multivariate alpha-stable noise.

    Parameters
    ----------
    alpha : float
        Stability index in (0, 2].
    n : int
        Number of rows (particles, hidden units), ``>= 0``.
    d : int
        Number of coordinates per row, ``>= 1``.
    kind : {"iid", "isotropic", "neuron"}, optional
        ``"iid"``: i.i.d. coordinates (the paper's type 2); ``"isotropic"``:
        rotation-invariant vector with ``E exp(i<u, X>) = exp(-|scale u|^alpha)``
        (type 3); ``"neuron"``: one scalar per row repeated over its d
        coordinates (type 1). Every coordinate is ``S_alpha(scale)`` in all three.
    scale : float, optional
        Scale ``> 0``.
    seed : None, int or numpy.random.Generator, optional
        Source of randomness.

    Returns
    -------
    numpy.ndarray, shape (n, d)

    Raises
    ------
    ValueError
        If a parameter is out of range, kind is unknown, or seed is of the
        wrong type.

    References
    ----------
    Wan, Barsbey, Zaidi, Simsekli (2024), arXiv 2306.08125, Section 3 (noise
    types); Samorodnitsky and Taqqu (1994), Section 2.5 (sub-Gaussian vectors).
    """
    alpha = check_real(alpha, "alpha", low=0.0, high=2.0, low_open=True)
    n = check_int(n, "n", low=0)
    d = check_int(d, "d", low=1)
    kind = check_choice(kind, "kind", NOISE_KINDS)
    scale = check_real(scale, "scale", low=0.0, low_open=True)
    rng = as_generator(seed)
    return _noise(rng, alpha, n, d, kind, scale)
