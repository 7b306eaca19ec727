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

It is evaluated in log space so that no intermediate overflows, with
``V = +-pi (1/2 - m)`` so that ``cos V = sin(pi m)`` keeps its relative
precision near ``+-pi/2``; the rare draws whose magnitude exceeds the range
of the output type (possible only for small alpha, where the law itself has
such values) saturate near +-1.79e308 (float64) or +-3.4e38 (float32)
instead of becoming ``inf``.

Multivariate kinds (rows are particles / hidden units, columns coordinates):

* ``"iid"`` -- every coordinate i.i.d. ``S_alpha(scale)``;
* ``"isotropic"`` -- rotation invariant, ``X = sqrt(A) G`` with
  ``G ~ N(0, 2 I_d)`` and ``A`` totally skewed positive
  ``(alpha/2)``-stable with Laplace transform ``exp(-s^(alpha/2))``, so that
  ``E exp(i<u, X>) = exp(-|scale u|^alpha)``;
* ``"neuron"`` -- one scalar ``S_alpha(scale)`` per row, added to all of its
  coordinates.

Random stream. Every draw comes from Philox4x32-10 (Salmon, Moraes, Dror and
Shaw 2011), a counter-based generator: value ``i`` of a stream is a function
of the stream's key and of the counter ``i`` only. A call with ``seed`` (None,
an int or a NumPy ``Generator``) takes one key from it (advancing a Generator
by three 32-bit draws), then transforms the Philox words in compiled loops
whose math (sin, log, exp as polynomials with explicit range reduction) LLVM
vectorises. The output is therefore bit-identical for any number of Numba
threads, and the float32 path (``dtype=np.float32``) is a separate stream
(it takes 32-bit uniforms, two values per Philox call) with the same law.

For simulators and compiled time loops, the stream is also exposed per step
(package-public, not re-exported by ``poc``):

``noise_key(seed) -> numpy.ndarray``
    A stream key, shape (3,) uint64, drawn from ``seed``.
``fill_noise(out, alpha, kind, scale, key, step=0) -> out``
    Fills ``out`` of shape (steps, n, d), float64 or float32, with the
    multivariate noise of steps ``step, ..., step + steps - 1`` of the stream
    ``key``. Step ``k``'s noise depends on ``(key, k)`` only, so a loop that
    fills blocks of K steps gets the same values for every K, and the same
    values as ``K = 1``.

Inside compiled code, the Numba kernels behind ``fill_noise`` can be called
directly (nopython, one thread; the ``*_par`` twins use Numba's threads and
give the same values): ``stable_rows(out2d, ctr0, row_stride, k0, k1, nonce,
tag, skewed, alpha, log_scale)`` writes row ``r`` of a (rows, cols) float64 /
float32 array from Philox counters ``ctr0 + r * row_stride + ...`` (uint64
arguments; ``key = (k0, k1, nonce)``; ``tag`` 0 and ``skewed=False`` for the
symmetric law, tag 1 and ``skewed=True`` for the positive one). The iid kind's
step ``k`` is row ``k`` with ``ctr0 = 0``, ``row_stride = n d``, tag 0 and
``log_scale = log(scale)``, as ``fill_noise`` does.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from ._stable_kernels import (
    normal_rows,
    normal_rows_par,
    scale_rows,
    scale_rows_par,
    stable_rows,
    stable_rows_par,
)
from ._validation import (
    ParameterTypeError,
    as_generator,
    check_choice,
    check_int,
    check_real,
    check_size,
)

__all__ = ["NOISE_KINDS", "sample_noise", "sample_positive_stable", "sample_stable"]

NOISE_KINDS = ("iid", "isotropic", "neuron")

_HALF_PI = 0.5 * math.pi
# Sub-streams of one key (the fourth Philox counter word).
_TAG_SYMMETRIC, _TAG_POSITIVE, _TAG_NORMAL = np.uint64(0), np.uint64(1), np.uint64(2)
# Below this many values one thread beats waking the pool (a task is 2048 values, ~20 us);
# the values are the same either way.
_PARALLEL_MIN = 8192
_BIG = {np.dtype(np.float64): float(np.finfo(np.float64).max),
        np.dtype(np.float32): float(np.finfo(np.float32).max)}


def _check_dtype(dtype) -> np.dtype:
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt not in _BIG:
        raise ParameterTypeError(f"dtype must be numpy.float64 or numpy.float32, got {dtype!r}")
    return dt


def _rows(kernel, kernel_par, out: np.ndarray, *args) -> None:
    if out.size >= _PARALLEL_MIN and numba.get_num_threads() > 1:
        kernel_par(out, *args)
    else:
        kernel(out, *args)


def _fill_stable(out2d: np.ndarray, alpha: float, log_scale: float, key: np.ndarray, tag, skewed: bool,
                 ctr0: int, row_stride: int) -> None:
    _rows(stable_rows, stable_rows_par, out2d, np.uint64(ctr0), np.uint64(row_stride), key[0], key[1],
          key[2], tag, skewed, alpha, log_scale)


# ---------------------------------------------------------------------------
# the stream, per step (package-public: simulators and compiled loops)


def noise_key(seed=None) -> np.ndarray:
    """Draw the key of a noise stream: shape (3,) uint64, each word below 2^32.

    Parameters
    ----------
    seed : None, int or numpy.random.Generator
        Source of the key; a Generator is advanced by three 32-bit draws.

    Returns
    -------
    numpy.ndarray, shape (3,), dtype uint64
        The Philox key (two words) and a nonce (the third counter word).
    """
    return as_generator(seed).integers(0, 2**32, size=3, dtype=np.uint64)


def fill_noise(out: np.ndarray, alpha: float, kind: str, scale: float, key: np.ndarray,
               step: int = 0) -> np.ndarray:
    """Fill ``out`` (steps, n, d) with the noise of steps ``step, step + 1, ...`` of a stream.

    Step ``k`` of the stream ``key`` is an (n, d) block of the given kind
    (see :func:`sample_noise`), a function of ``(key, k)`` only: filling K
    steps at once gives the values of K calls with one step each.

    Parameters
    ----------
    out : numpy.ndarray, shape (steps, n, d), float64 or float32, C-contiguous
        Written in place.
    alpha : float
        Stability index in (0, 2].
    kind : {"iid", "isotropic", "neuron"}
        Noise kind.
    scale : float
        Scale ``> 0`` of every coordinate, ``S_alpha(scale)``.
    key : numpy.ndarray, shape (3,), uint64
        From :func:`noise_key`.
    step : int, optional
        Index of the stream's step that goes to ``out[0]``, ``>= 0``.

    Returns
    -------
    numpy.ndarray
        ``out``.

    Raises
    ------
    ValueError
        If a parameter is out of range or ``out`` / ``key`` has the wrong shape.
    TypeError
        If ``out`` is not a writable C-contiguous float64 / float32 array, or
        ``key`` is not uint64.
    """
    if not isinstance(out, np.ndarray) or out.dtype not in _BIG or not out.flags.c_contiguous \
            or not out.flags.writeable:
        raise ParameterTypeError("out must be a writable C-contiguous float64 or float32 array")
    if out.ndim != 3:
        raise ValueError(f"out must have shape (steps, n, d), got shape {out.shape}")
    if not isinstance(key, np.ndarray) or key.dtype != np.uint64:
        raise ParameterTypeError("key must be a uint64 array from noise_key")
    if key.shape != (3,) or int(key.max()) >= 2**32:
        raise ValueError(f"key must have shape (3,) and words below 2^32, got {key!r}")
    alpha = check_real(alpha, "alpha", low=0.0, high=2.0, low_open=True)
    kind = check_choice(kind, "kind", NOISE_KINDS)
    scale = check_real(scale, "scale", low=0.0, low_open=True)
    step = check_int(step, "step", low=0)
    _fill(out, alpha, kind, scale, key, step)
    return out


def _fill(out: np.ndarray, alpha: float, kind: str, scale: float, key: np.ndarray, step: int) -> None:
    steps, n, d = out.shape
    if kind == "iid":
        flat = out.reshape(steps, n * d)
        _fill_stable(flat, alpha, math.log(scale), key, _TAG_SYMMETRIC, False, step * n * d, n * d)
        return
    if kind == "neuron":
        rows = np.empty((steps, n), dtype=out.dtype)
        _fill_stable(rows, alpha, math.log(scale), key, _TAG_SYMMETRIC, False, step * n, n)
        out[...] = rows[:, :, None]
        return
    # isotropic: X = scale sqrt(2 A) G, G ~ N(0, I_d), E exp(-s A) = exp(-s^(alpha/2))
    flat = out.reshape(steps, n * d)
    _rows(normal_rows, normal_rows_par, flat, np.uint64(step * n * d), np.uint64(n * d), key[0], key[1],
          key[2], _TAG_NORMAL)
    radius = np.full((steps, n), math.sqrt(2.0) * scale)
    if alpha < 2.0:
        a = 0.5 * alpha
        # levy_stable(a, 1, scale=c) with c = cos(pi a / 2)^(1/a) has Laplace transform exp(-s^a);
        # its CMS form carries the factor cos(pi a / 2)^(-1/a), so the two cancel in log space
        _fill_stable(radius, a, 0.0, key, _TAG_POSITIVE, True, step * n, n)
        np.sqrt(radius, out=radius)
        radius *= math.sqrt(2.0) * scale
        np.minimum(radius, _BIG[np.dtype(np.float64)], out=radius)  # inf * 0 would be NaN
    _rows(scale_rows, scale_rows_par, out, radius, _BIG[out.dtype])


# ---------------------------------------------------------------------------
# private drawing helpers (take a Generator; used by the public wrappers, the checks and
# the simulators)


def _stable(rng: np.random.Generator, alpha: float, n: int, scale: float = 1.0,
            dtype=np.float64) -> np.ndarray:
    """n i.i.d. S_alpha(scale) draws (flat array), no input checks."""
    out = np.empty((1, n), dtype=dtype)
    _fill_stable(out, alpha, math.log(scale), noise_key(rng), _TAG_SYMMETRIC, False, 0, n)
    return out.reshape(n)


def _positive_stable(rng: np.random.Generator, alpha: float, n: int, scale: float = 1.0,
                     dtype=np.float64) -> np.ndarray:
    """n draws of levy_stable(alpha, beta=1, scale), alpha in (0, 1), no checks."""
    out = np.empty((1, n), dtype=dtype)
    log_s = math.log(scale) - math.log(math.cos(_HALF_PI * alpha)) / alpha
    _fill_stable(out, alpha, log_s, noise_key(rng), _TAG_POSITIVE, True, 0, n)
    return out.reshape(n)


def _noise(rng: np.random.Generator, alpha: float, n: int, d: int, kind: str,
           scale: float = 1.0, dtype=np.float64) -> np.ndarray:
    """(n, d) noise of the given kind (step 0 of a fresh stream), no input checks."""
    out = np.empty((1, n, d), dtype=dtype)
    _fill(out, alpha, kind, scale, noise_key(rng), 0)
    return out[0]


# ---------------------------------------------------------------------------
# public API


def sample_stable(alpha: float, size, *, scale: float = 1.0, seed=None, dtype=np.float64) -> np.ndarray:
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
    dtype : numpy.float64 or numpy.float32, optional
        Output precision. float32 is its own stream (same law), computed to
        about 1e-9 relative and rounded once; it saturates at +-3.4e38.

    Returns
    -------
    numpy.ndarray of shape ``size`` and type ``dtype``
        Draws from ``scipy.stats.levy_stable(alpha, 0, scale=scale)``. All
        values are finite (see the module notes on saturation).

    Raises
    ------
    ValueError
        If alpha, scale or size is out of range, or seed is of the wrong type.
    TypeError
        If dtype is not float64 or float32.

    References
    ----------
    Chambers, Mallows and Stuck (1976), "A method for simulating stable random
    variables", JASA 71(354). Weron (1996), Statist. Probab. Lett. 28.
    """
    alpha = check_real(alpha, "alpha", low=0.0, high=2.0, low_open=True)
    scale = check_real(scale, "scale", low=0.0, low_open=True)
    shape = check_size(size)
    dtype = _check_dtype(dtype)
    rng = as_generator(seed)
    return _stable(rng, alpha, math.prod(shape), scale, dtype).reshape(shape)


def sample_positive_stable(alpha: float, size, *, scale: float = 1.0, seed=None,
                           dtype=np.float64) -> np.ndarray:
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
    dtype : numpy.float64 or numpy.float32, optional
        Output precision (see :func:`sample_stable`).

    Returns
    -------
    numpy.ndarray of shape ``size`` and type ``dtype``, non-negative and finite.

    Raises
    ------
    ValueError
        If alpha, scale or size is out of range, or seed is of the wrong type.
    TypeError
        If dtype is not float64 or float32.

    References
    ----------
    Kanter (1975), "Stable densities under change of scale and total variation
    inequalities", Ann. Probab. 3(4); Samorodnitsky and Taqqu (1994), Prop. 1.3.1.
    """
    alpha = check_real(alpha, "alpha", low=0.0, high=1.0, low_open=True, high_open=True)
    scale = check_real(scale, "scale", low=0.0, low_open=True)
    shape = check_size(size)
    dtype = _check_dtype(dtype)
    rng = as_generator(seed)
    return _positive_stable(rng, alpha, math.prod(shape), scale, dtype).reshape(shape)


def sample_noise(alpha: float, n: int, d: int, *, kind: str = "iid", scale: float = 1.0,
                 seed=None, dtype=np.float64) -> np.ndarray:
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
    dtype : numpy.float64 or numpy.float32, optional
        Output precision (see :func:`sample_stable`).

    Returns
    -------
    numpy.ndarray, shape (n, d), type ``dtype``

    Raises
    ------
    ValueError
        If a parameter is out of range, kind is unknown, or seed is of the
        wrong type.
    TypeError
        If dtype is not float64 or float32.

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
    dtype = _check_dtype(dtype)
    rng = as_generator(seed)
    return _noise(rng, alpha, n, d, kind, scale, dtype)
