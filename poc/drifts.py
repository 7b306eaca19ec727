r"""Drift families of mean-field particle systems, and the built-in models.

A drift gives, for every particle ``x_i`` of a cloud ``x`` of shape (n, d),
the value ``b(x_i, mu^n)`` where ``mu^n = (1/n) sum_j delta_{x_j}`` is the
empirical measure of the cloud. Two families cover the models of the paper
(docs: docs/user_guide/drifts.rst, #drift-families); both take plain ``numba.njit`` functions from the
user and evaluate them for all particles in parallel Numba kernels:

* :class:`FeatureDrift` -- ``b(x, mu) = F(x, int g dmu)`` with features
  ``g: R^d -> R^m`` and a response ``F``; cost ``O(n m d)`` per evaluation.
  The mean-field network is of this form, and the McKean-Vlasov limit of a
  feature drift is driven by the deterministic path ``u_t = int g dmu_t``.
* :class:`PairwiseDrift` -- ``b(x_i, mu^n) = V(x_i) + (1/n) sum_j K(x_i, x_j)``;
  cost ``O(n^2 d)``. The sum includes ``j = i``, as in the formula.

A third, slower adapter, :class:`NumpyDrift`, takes a vectorised NumPy
function ``func(x, cloud)``. User ``njit`` functions are probed at
construction: one that returns its value instead of writing ``out``, or leaves
part of ``out`` unwritten, is refused with a ValueError naming it.

Every drift also evaluates ``b(x_i, mu^cloud)`` for points ``x`` under the
empirical measure of *another* cloud, :meth:`Drift.against` (cost
``O(k m d + N m d)`` for feature drifts, ``O(k N d)`` for pairwise drifts, k
points against N): the drift of the McKean-Vlasov copies in
:mod:`poc.limits`.

Built-in models: :class:`MeanFieldNetwork` (the paper's one-hidden-layer
network; its drift is minus the n-rescaled gradient of the squared loss),
:class:`LinearMeanField` (exact McKean-Vlasov marginal in closed form) and
:class:`DoubleWell` (a pairwise example).

Determinism: sums over particles are taken over fixed blocks of
``_PBLOCK`` particles and then over blocks in order, so every drift value is
bit-identical whatever the number of Numba threads.

Example
-------
>>> import numpy as np
>>> from numba import njit
>>> from poc.drifts import PairwiseDrift
>>> @njit
... def confinement(x, out):       # V(x) = -x
...     for k in range(x.size):
...         out[k] = -x[k]
>>> @njit
... def interaction(x, y, out):    # K(x, y) = y - x (attraction)
...     for k in range(x.size):
...         out[k] = y[k] - x[k]
>>> b = PairwiseDrift(confinement, interaction)
>>> b(np.array([[0.0], [2.0]])).ravel().tolist()   # -x_i + (mean - x_i)
[1.0, -3.0]
"""

from __future__ import annotations

import functools
import math
import re

import numpy as np
from llvmlite import ir
from numba import njit, prange, typeof, types
from numba.core.dispatcher import Dispatcher
from numba.extending import intrinsic

from ._threads import dot as _dot
from ._validation import (
    ParameterTypeError,
    check_array,
    check_choice,
    check_int,
    check_real,
)

__all__ = [
    "ACTIVATIONS",
    "DoubleWell",
    "Drift",
    "FeatureDrift",
    "LinearMeanField",
    "MeanFieldNetwork",
    "NumpyDrift",
    "PairwiseDrift",
]

ACTIVATIONS = ("tanh", "sigmoid", "relu")

# Particles per block in parallel loops. Sums over particles are formed per
# block and then over blocks in order, so the grouping (and hence the rounding)
# depends on n only, never on the number of threads.
_PBLOCK = 64
# Largest number of entries of the (batch x n) pre-activation matrix of the
# mean-field network held at once; larger problems are cut into data chunks.
_MAX_H = 1 << 22


def _n_blocks(n: int) -> int:
    return (n + _PBLOCK - 1) // _PBLOCK


@njit(cache=True)
def _n_blocks_nb(n):
    return (n + _PBLOCK - 1) // _PBLOCK


# ---------------------------------------------------------------------------
# generic kernels, specialised on the user's functions. Numba cannot cache a
# compilation keyed on another dispatcher (the key is a per-process object, so
# every run would add a new cache file), hence no cache=True on these three.


@njit(parallel=True)
def _feature_block_sums(features, x, partial):
    n = x.shape[0]
    nb, m = partial.shape
    for b in prange(nb):
        tmp = np.empty(m)
        acc = partial[b]
        acc[:] = 0.0
        for i in range(b * _PBLOCK, min(n, (b + 1) * _PBLOCK)):
            features(x[i], tmp)
            for j in range(m):
                acc[j] += tmp[j]


@njit(parallel=True)
def _feature_response_into(response, x, u, out):
    n = x.shape[0]
    for b in prange(_n_blocks_nb(n)):
        for i in range(b * _PBLOCK, min(n, (b + 1) * _PBLOCK)):
            response(x[i], u, out[i])


# Columns j of the cloud visited per tile by the pairwise kernel: a tile of
# 256 rows (d <= 8: <= 16 KB) stays in L1 while the 64 rows i of a block run
# over it. Tiling changes the order in which (i, j) pairs are *visited*, not
# the order in which each sum is *formed*: acc[i] still receives K(x_i, y_0),
# K(x_i, y_1), ... in j order, so the result is the plain sequential sum,
# independent of the tile size and of the number of threads. No fastmath: it
# would let LLVM reassociate that sum (and assume the user's values finite).
_JTILE = 256


@njit(parallel=True)
def _pairwise_into(confinement, interaction, x, cloud, out):
    """out[i] = V(x_i) + (1/N) sum_j K(x_i, cloud_j); x (k, d), cloud (N, d).

    The particle drift is the case cloud = x. Parallel over fixed blocks of
    _PBLOCK points; per point the sum over j is sequential (see _JTILE).
    """
    k, d = x.shape
    N = cloud.shape[0]
    for b in prange(_n_blocks_nb(k)):
        i0 = b * _PBLOCK
        i1 = min(k, i0 + _PBLOCK)
        tmp = np.empty(d)
        acc = np.zeros((i1 - i0, d))
        for j0 in range(0, N, _JTILE):
            j1 = min(N, j0 + _JTILE)
            for i in range(i0, i1):
                xi = x[i]
                ai = acc[i - i0]
                for j in range(j0, j1):
                    interaction(xi, cloud[j], tmp)
                    for c in range(d):
                        ai[c] += tmp[c]
        for i in range(i0, i1):
            confinement(x[i], tmp)
            for c in range(d):
                out[i, c] = tmp[c] + acc[i - i0, c] / N


@njit(cache=True)
def _finish_mean(partial, n, u):
    """u = (sum of the block partial sums, in block order) / n."""
    nb, m = partial.shape
    for j in range(m):
        u[j] = 0.0
    for b in range(nb):
        for j in range(m):
            u[j] += partial[b, j]
    for j in range(m):
        u[j] /= n


# probes used to check, once, that a user function compiles for the argument
# types the kernels pass (1-D C-contiguous float64 arrays)
@njit
def _probe_unary(f, x, out):
    f(x, out)


@njit
def _probe_binary(f, x, y, out):
    f(x, y, out)


_ROW = typeof(np.empty(1))


def _root_cause(exc: Exception) -> str:
    """The line of a Numba compile error that says what is wrong.

    Numba wraps the cause in layers of "Failed in nopython mode pipeline",
    "During: ..." and source excerpts; the cause is a "due to" clause of an
    argument-binding failure, a "No implementation ... >>> signature" pair, or
    the first line that is none of the wrappers.
    """
    text = str(exc)
    m = re.search(r'due to "(?:\w+Error: )?([^"]+)"', text)
    if m:
        return m.group(1)
    lines = [ln.strip() for ln in text.splitlines()]
    keep = [ln for ln in lines
            if ln and not ln.startswith(("Failed in ", "During:", "File ", "^"))]
    if not keep:
        return type(exc).__name__
    first = keep[0]
    if first.startswith("No implementation of function"):
        sig = next((ln for ln in keep if ln.startswith(">>>")), None)
        if sig is not None:
            return f"no implementation of {sig[3:].strip()}"
    return first


def _check_user_function(func, name: str, n_arrays: int, form: str):
    """Raise ParameterTypeError unless ``func`` is a numba.njit function
    that compiles when called with ``n_arrays`` float64 1-D arrays."""
    if not isinstance(func, Dispatcher):
        raise ParameterTypeError(
            f"{name} must be a numba.njit function of the form {form}, got "
            f"{func!r} of type {type(func).__name__} (decorate it with @numba.njit)"
        )
    probe = _probe_unary if n_arrays == 2 else _probe_binary
    try:
        probe.compile((typeof(func),) + (_ROW,) * n_arrays)
    except Exception as exc:  # numba raises TypingError, LoweringError, ...
        raise ParameterTypeError(
            f"{name} ({getattr(func, '__name__', func)!s}) does not compile as {form} with "
            f"float64 1-D arrays: {_root_cause(exc)}"
        ) from exc
    return func


# Second fill value of the write probe (see _check_writes): an entry that is
# NaN after a NaN fill *and* this value after this fill was never written.
_UNSET = -7.7700013e307
# Spare entries after every probe array: a function written for a larger d
# than the probe's writes there instead of past the end of the allocation.
_PROBE_PAD = 64


def _probe_array(values) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    buf = np.zeros(values.size + _PROBE_PAD)
    buf[: values.size] = values
    return buf[: values.size]


def _check_writes(func, name: str, form: str, inputs, out_len: int) -> None:
    """Call ``func(*inputs, out)`` on probes; ValueError if it returns a value
    or leaves an entry of ``out`` unwritten.

    A kernel that returns its result instead of writing it leaves ``out`` as it
    was, which in the simulation kernels is uninitialised memory: silent
    garbage. ``out`` is filled with NaN and, in a second call, with another
    value, so that an entry is reported only if it kept the fill both times
    (a function may legitimately write NaN).
    """
    fname = getattr(func, "__name__", repr(func))
    got = []
    for fill in (np.nan, _UNSET):
        out = _probe_array(np.full(out_len, fill))
        args = [_probe_array(a) for a in inputs]
        try:
            ret = func(*args, out)
        except Exception as exc:
            raise ValueError(
                f"{name} ({fname}) raised {type(exc).__name__} when called as {form} on a probe "
                f"(x of length {len(inputs[0])}): {exc}"
            ) from exc
        if ret is not None:
            raise ValueError(
                f"{name} ({fname}) returned a value ({type(ret).__name__}) when called as {form}; "
                "the return value is ignored: write into out rather than return"
            )
        got.append(out.copy())
    unwritten = np.flatnonzero(np.isnan(got[0]) & (got[1] == _UNSET))
    if unwritten.size:
        raise ValueError(
            f"{name} ({fname}) left out[{', '.join(map(str, unwritten[:5].tolist()))}] unwritten "
            f"({unwritten.size} of {out_len} entries) when called as {form} with x of length "
            f"{len(inputs[0])}: every entry of out must be set; write into out rather than return"
        )


def _probe_point(d: int, shift: float = 0.0) -> np.ndarray:
    """A fixed, generic probe point in R^d (no zeros, no repeated values)."""
    return 0.3 + shift + 0.137 * np.arange(1, d + 1) * np.where(np.arange(d) % 2, -1.0, 1.0)


# ---------------------------------------------------------------------------
# built-in kernels (cached)


@njit(cache=True, parallel=True)
def _column_block_sums(x, partial):
    n, d = x.shape
    nb = partial.shape[0]
    for b in prange(nb):
        acc = partial[b]
        acc[:] = 0.0
        for i in range(b * _PBLOCK, min(n, (b + 1) * _PBLOCK)):
            for j in range(d):
                acc[j] += x[i, j]


@njit(cache=True, parallel=True)
def _linear_into(x, u, a, c, out):
    n, d = x.shape
    for b in prange(_n_blocks_nb(n)):
        for i in range(b * _PBLOCK, min(n, (b + 1) * _PBLOCK)):
            for j in range(d):
                out[i, j] = -a * x[i, j] + c * u[j]


# Vectorisable tanh and sigmoid for the network activations. libm's tanh and
# exp are scalar calls (15-30 ns each); the activation pass over the
# (batch x n) pre-activations is the largest non-BLAS cost of a network step,
# and these branch-free versions let LLVM vectorise it (about 3x faster than
# libm, within 4 ulp; the derivatives are relatively accurate even where tiny).


@intrinsic
def _f64_bits(typingctx, x):
    if isinstance(x, types.Float):
        def codegen(context, builder, sig, args):
            return builder.bitcast(args[0], ir.IntType(64))
        return types.int64(types.float64), codegen
    return None


@intrinsic
def _bits_f64(typingctx, i):
    if isinstance(i, types.Integer):
        def codegen(context, builder, sig, args):
            return builder.bitcast(args[0], ir.DoubleType())
        return types.float64(types.int64), codegen
    return None


_LN2_HI = 6.93147180369123816490e-01  # ln 2 split for Cody-Waite reduction (fdlibm)
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.44269504088896338700e00
_SHIFTER = 6755399441055744.0  # 1.5 * 2^52: adding it rounds to an integer in the low bits


@njit(cache=True, inline="always")
def _exp_pade(x):
    """For x in [-708, 0]: (s, E, O) with exp(x) = s (E + O) / (E - O).

    x = k ln 2 + r with |r| <= ln(2)/2 and s = 2^k; E + O is the numerator of
    the [6/6] Pade approximant of exp(r) (E even, O odd in r) and E - O its
    denominator; relative error < 2e-19 on that interval.
    """
    z = x * _INV_LN2 + _SHIFTER
    kf = z - _SHIFTER
    k = _f64_bits(z) - _f64_bits(_SHIFTER)
    r = (x - kf * _LN2_HI) - kf * _LN2_LO
    r2 = r * r
    E = 1.0 + r2 * (5.0 / 44.0 + r2 * (1.0 / 792.0 + r2 * (1.0 / 665280.0)))
    O = r * (0.5 + r2 * (1.0 / 66.0 + r2 * (1.0 / 15840.0)))
    return _bits_f64((k + 1023) << 52), E, O


@njit(cache=True, inline="always")
def _tanh_d(h):
    """(tanh h, 1 - tanh^2 h).

    With exp(-2|h|) = s N / D (N = E + O, D = E - O):
    tanh|h| = (D - s N) / (D + s N), written without cancellation as
    ((1 - s) E - (1 + s) O) / ((1 + s) E - (1 - s) O), and
    1 - tanh^2 = 4 s N D / (D + s N)^2. Beyond |h| = 354, tanh is 1 and the
    derivative is clamped at ~1e-307 instead of underflowing.
    """
    x = -2.0 * abs(h)
    x = x if x > -708.0 else -708.0
    s, E, O = _exp_pade(x)
    num = (1.0 - s) * E - (1.0 + s) * O
    den = (1.0 + s) * E - (1.0 - s) * O
    inv = 1.0 / den
    return math.copysign(num * inv, h), 4.0 * s * (E + O) * (E - O) * inv * inv


@njit(cache=True, inline="always")
def _sigmoid_d(h):
    """(sigmoid h, sigmoid' h) from exp(-|h|) = s N / D, without overflow.

    Below h = -708 the (subnormal) values are clamped at ~1e-308.
    """
    x = -abs(h)
    x = x if x > -708.0 else -708.0
    s, E, O = _exp_pade(x)
    D = E - O
    sN = s * (E + O)
    inv = 1.0 / (D + sN)
    return (D if h >= 0.0 else sN) * inv, D * sN * inv * inv


@njit(cache=True, inline="always")
def _activate_row(row, phi, kind):
    """phi[i] = phi(row[i]) and row[i] = phi'(row[i]); kind 0 tanh, 1 sigmoid, 2 relu."""
    n = row.size
    if kind == 0:
        for i in range(n):
            t, dt = _tanh_d(row[i])
            phi[i] = t
            row[i] = dt
    elif kind == 1:
        for i in range(n):
            t, dt = _sigmoid_d(row[i])
            phi[i] = t
            row[i] = dt
    else:
        for i in range(n):
            h = row[i]
            phi[i] = h if h > 0.0 else 0.0
            row[i] = 1.0 if h > 0.0 else 0.0


@njit(cache=True, inline="always")
def _dot4(a, b, n):
    """sum_i a[i] b[i] with four interleaved accumulators (fixed order, vectorisable)."""
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    s3 = 0.0
    n4 = n - n % 4
    for i in range(0, n4, 4):
        s0 += a[i] * b[i]
        s1 += a[i + 1] * b[i + 1]
        s2 += a[i + 2] * b[i + 2]
        s3 += a[i + 3] * b[i + 3]
    for i in range(n4, n):
        s0 += a[i] * b[i]
    return (s0 + s1) + (s2 + s3)


@njit(cache=True, inline="always")
def _sum4(a, n):
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    s3 = 0.0
    n4 = n - n % 4
    for i in range(0, n4, 4):
        s0 += a[i]
        s1 += a[i + 1]
        s2 += a[i + 2]
        s3 += a[i + 3]
    for i in range(n4, n):
        s0 += a[i]
    return (s0 + s1) + (s2 + s3)


@njit(cache=True, inline="always")
def _outputs(phi, wt, n, acc):
    """acc[l] = sum_i w_il phi_i (before the 1/n); wt (c, n), or (0, n) for w = 1."""
    if wt.shape[0] == 0:
        acc[0] = _sum4(phi, n)
    else:
        for l in range(acc.size):
            acc[l] = _dot4(wt[l], phi, n)


@njit(cache=True, parallel=True)
def _mfn_rows(H, y, wt, kind, coef, f, given):
    """One fused pass over the pre-activations H (B, n) of a data batch.

    On exit H[k, i] = coef * phi'(H[k, i]) * <w_i, r_k> with r_k = f_k - y_k, the
    residual at data point k. f (B, c) receives the network outputs
    f_k = (1/n) sum_i w_i phi(H[k, i]) unless ``given``, in which case f holds
    the outputs to use (the frozen McKean-Vlasov path of nonlinear copies).
    wt (c, n) are the fixed output weights, transposed; wt.shape[0] == 0 means
    w_i = 1 (c = 1). Each row is independent, so the result does not depend on
    the thread count.
    """
    B, n = H.shape
    c = y.shape[1]
    for k in prange(B):
        row = H[k]
        phi = np.empty(n)
        _activate_row(row, phi, kind)
        acc = np.empty(c)
        _outputs(phi, wt, n, acc)
        if not given:
            for l in range(c):
                f[k, l] = acc[l] / n
        if wt.shape[0] == 0:
            r0 = coef * (f[k, 0] - y[k, 0])
            for i in range(n):
                row[i] *= r0
        else:
            q = phi  # reuse: q_i = <w_i, coef * r_k>
            q[:] = 0.0
            for l in range(c):
                rl = coef * (f[k, l] - y[k, l])
                wl = wt[l]
                for i in range(n):
                    q[i] += wl[i] * rl
            for i in range(n):
                row[i] *= q[i]


@njit(cache=True, parallel=True)
def _mfn_forward(H, wt, kind, f):
    """f[k] = (1/n) sum_i w_i phi(H[k, i]); H is overwritten."""
    B, n = H.shape
    c = f.shape[1]
    for k in prange(B):
        phi = np.empty(n)
        _activate_row(H[k], phi, kind)
        acc = np.empty(c)
        _outputs(phi, wt, n, acc)
        for l in range(c):
            f[k, l] = acc[l] / n


# ---------------------------------------------------------------------------
# drift classes


def _as_cloud(x, name: str = "x") -> np.ndarray:
    arr = check_array(x, name, ndim=(1, 2))
    return arr.reshape(-1, 1) if arr.ndim == 1 else arr


class Drift:
    """Base class of the drift families (see :class:`FeatureDrift` and
    :class:`PairwiseDrift`); not meant to be instantiated directly.

    Calling a drift on a cloud ``x`` of shape (n, d) (or (n,) for d = 1)
    returns the (n, d) array of ``b(x_i, mu^n)``.
    """

    #: number of coordinates per particle the drift requires, or None for any
    dim: int | None = None
    # True if an evaluation calls multithreaded BLAS (see poc.particles._threads_for)
    uses_blas = False

    def __getstate__(self):
        # which dimensions were probed here is not part of the drift: a copy (on a Dask worker)
        # probes again on first use, and a unit's cache key does not change as the drift is used
        state = self.__dict__.copy()
        if "_probed" in state:
            state["_probed"] = set()
        return state

    # -- private interface used by poc.particles and poc.limits --------------

    def check_state(self, n: int, d: int) -> None:
        """Raise ValueError if a cloud of n particles in R^d is not supported."""
        if self.dim is not None and d != self.dim:
            raise ValueError(
                f"x0 has d = {d} coordinate(s) per particle but {type(self).__name__} "
                f"needs d = {self.dim}"
            )

    def workspace(self, n: int, d: int, batch_size: int | None = None) -> dict:
        return {}

    def cost(self, n: int, d: int) -> float:
        """Rough operation count of one evaluation in Numba kernels (to decide
        whether a parallel launch pays off); BLAS work is not counted."""
        return 10.0 * n * d

    def drift_into(self, ws, x, out, *, u_fixed=None, u_out=None, batch=None) -> None:
        """Write b(x_i, mu^n) for every particle into ``out`` (n, d)."""
        raise NotImplementedError

    def against_workspace(self, k: int, N: int, d: int) -> dict:
        """Buffers of :meth:`against_into` for k points against a cloud of N."""
        return {}

    def against_cost(self, k: int, N: int, d: int) -> float:
        """Rough operation count of one :meth:`against_into` call."""
        return self.cost(max(k, N), d)

    def against_into(self, ws, x, cloud, out) -> None:
        """Write b(x_i, mu^cloud) for every row of x (k, d) into out (k, d).

        Private fast path (inputs trusted: float64, C-contiguous, same d):
        the nonlinear copies of :mod:`poc.limits` call it at every step.
        """
        raise NotImplementedError

    def against(self, x, cloud) -> np.ndarray:
        r"""The drift at the points ``x`` under the empirical measure of ``cloud``.

        Returns ``b(x_i, mu^cloud)`` with ``mu^cloud = (1/N) sum_j
        delta_{cloud_j}``: the drift that the McKean-Vlasov (nonlinear) copies
        feel when ``cloud`` is a large reference cloud standing for the limit
        law. ``drift.against(x, x)`` equals ``drift(x)``.

        Parameters
        ----------
        x : array_like, shape (k, d) or (k,)
            Points at which the drift is evaluated.
        cloud : array_like, shape (N, d) or (N,)
            Particles whose empirical measure is used.

        Returns
        -------
        numpy.ndarray, shape (k, d)

        Raises
        ------
        ValueError
            If x or cloud is not a finite real array of 1 or 2 dimensions,
            their numbers of coordinates differ, or the drift does not accept
            them (e.g. a network's input dimension).
        """
        x = _as_cloud(x, "x")
        cloud = _as_cloud(cloud, "cloud")
        if x.shape[1] != cloud.shape[1]:
            raise ValueError(
                f"x and cloud must have the same number of coordinates d: x has shape {x.shape}, "
                f"cloud has shape {cloud.shape}"
            )
        (k, d), N = x.shape, cloud.shape[0]
        self.check_state(N, d)
        self.check_state(k, d)
        out = np.empty_like(x)
        self.against_into(self.against_workspace(k, N, d), x, cloud, out)
        return out

    def __call__(self, x) -> np.ndarray:
        """Evaluate the drift at every particle of the cloud ``x``.

        Parameters
        ----------
        x : array_like, shape (n, d) or (n,)
            Particle positions (the empirical measure is their average).

        Returns
        -------
        numpy.ndarray, shape (n, d)
        """
        x = _as_cloud(x)
        self.check_state(*x.shape)
        out = np.empty_like(x)
        self.drift_into(self.workspace(*x.shape), x, out)
        return out


class FeatureDrift(Drift):
    r"""Feature (mean-field) drift ``b(x, mu) = response(x, int features dmu)``.

    Parameters
    ----------
    features : numba.njit function ``features(x, out)``
        Writes the feature vector ``g(x)`` (length ``n_features``) of one
        particle ``x`` (float64 array of length d) into ``out``.
    response : numba.njit function ``response(x, u, out)``
        Writes ``F(x, u)`` (length d) into ``out``, where ``u`` (length
        ``n_features``) is the mean of the features over all particles.
    n_features : int
        Length m of the feature vector, ``>= 1``.

    Notes
    -----
    Per evaluation the kernels compute ``u = (1/n) sum_j g(x_j)`` (a
    deterministic blocked sum) and then ``F(x_i, u)`` for every i, in parallel
    over particles: cost ``O(n m d)``. The McKean-Vlasov limit is the
    nonlinear SDE ``dx = F(x, u_t) dt + sigma dL`` with ``u_t = E g(x_t)``
    (Wan et al. 2024, arXiv 2306.08125; see the documentation: Theory, docs/theory.rst, #theory-chaos), which
    :mod:`poc.limits` estimates with a reference cloud.

    Raises
    ------
    TypeError (ParameterTypeError, also a ValueError)
        If a function is not a numba.njit function, or does not compile for
        float64 1-D array arguments; the message carries Numba's reason.
    ValueError
        If n_features is not a positive integer, or a function returns a
        value or leaves part of ``out`` unwritten on a probe (checked at
        construction for d = 1 and on first use for every other d).
    """

    features = None
    response = None
    n_features: int

    def __init__(self, features, response, n_features: int):
        self.features = _check_user_function(features, "features", 2, "features(x, out)")
        self.response = _check_user_function(response, "response", 3, "response(x, u, out)")
        self.n_features = check_int(n_features, "n_features", low=1)
        self._probed: set[int] = set()
        self._probe(1)

    def _probe(self, d: int) -> None:
        """Check, once per d, that the user's functions write all of out (see _check_writes)."""
        if self.features is None or d in self._probed:
            return
        m = self.feature_count(d)
        _check_writes(self.features, "features", "features(x, out)", [_probe_point(d)], m)
        _check_writes(self.response, "response", "response(x, u, out)",
                      [_probe_point(d), _probe_point(m, 0.2)], d)
        self._probed.add(d)

    def check_state(self, n, d):
        super().check_state(n, d)
        self._probe(d)

    def __repr__(self) -> str:
        return (f"FeatureDrift(features={self.features.__name__}, "
                f"response={self.response.__name__}, n_features={self.n_features})")

    def cost(self, n, d):
        return 10.0 * n * (self.feature_count(d) + d)

    # n_features may depend on d for built-ins (LinearMeanField has m = d)
    def feature_count(self, d: int) -> int:
        return self.n_features

    def workspace(self, n, d, batch_size=None):
        return {"partial": np.empty((_n_blocks(n), self.feature_count(d))),
                "u": np.empty(self.feature_count(d))}

    def mean_features_into(self, ws, x, u) -> None:
        _feature_block_sums(self.features, x, ws["partial"])
        _finish_mean(ws["partial"], x.shape[0], u)

    def response_into(self, x, u, out) -> None:
        _feature_response_into(self.response, x, u, out)

    def against_workspace(self, k, N, d):
        return {"cloud": self.workspace(N, d), "u": np.empty(self.feature_count(d))}

    def against_cost(self, k, N, d):
        return self.cost(N, d) + self.cost(k, d)

    def against_into(self, ws, x, cloud, out):
        u = ws["u"]
        self.mean_features_into(ws["cloud"], cloud, u)
        self.response_into(x, u, out)

    def drift_into(self, ws, x, out, *, u_fixed=None, u_out=None, batch=None):
        if u_fixed is None:
            u = ws["u"]
            self.mean_features_into(ws, x, u)
            if u_out is not None:
                u_out[:] = u
        else:
            u = u_fixed
        self.response_into(x, u, out)

    def mean_features(self, x) -> np.ndarray:
        """Mean feature vector ``u = (1/n) sum_j g(x_j)`` of a cloud.

        Parameters
        ----------
        x : array_like, shape (n, d) or (n,)

        Returns
        -------
        numpy.ndarray, shape (n_features,)
        """
        x = _as_cloud(x)
        self.check_state(*x.shape)
        ws = self.workspace(*x.shape)
        u = np.empty(self.feature_count(x.shape[1]))
        self.mean_features_into(ws, x, u)
        return u

    def response_drift(self, x, u) -> np.ndarray:
        """The drift ``F(x_i, u)`` with a given mean-feature vector ``u``.

        This is the drift of the nonlinear (McKean-Vlasov) copies, for which
        ``u`` is the limit path rather than the cloud's own mean features.

        Parameters
        ----------
        x : array_like, shape (n, d) or (n,)
        u : array_like, shape (n_features,)

        Returns
        -------
        numpy.ndarray, shape (n, d)
        """
        x = _as_cloud(x)
        self.check_state(*x.shape)
        m = self.feature_count(x.shape[1])
        u = check_array(u, "u", ndim=1)
        if u.size != m:
            raise ValueError(f"u must have n_features = {m} entries, got {u.size}")
        out = np.empty_like(x)
        self.drift_into(self.workspace(*x.shape), x, out, u_fixed=u)
        return out


class PairwiseDrift(Drift):
    r"""Pairwise drift ``b(x_i, mu^n) = V(x_i) + (1/n) sum_j K(x_i, x_j)``.

    Parameters
    ----------
    confinement : numba.njit function ``f(x, out)``
        Writes ``V(x)`` (length d) into ``out``.
    interaction : numba.njit function ``k(x, y, out)``
        Writes ``K(x, y)`` (length d) into ``out``. The sum runs over all j
        including ``j = i``, so ``K(x, x)`` must be finite (it is 0 for the
        usual odd kernels ``K(x, y) = -grad W(x - y)``).

    Notes
    -----
    Cost ``O(n^2 d)`` per evaluation, and ``O(k N d)`` for
    :meth:`against` (k points against a cloud of N), parallel over fixed
    blocks of points; the sum over j is sequential, so results do not depend
    on the number of threads.

    Raises
    ------
    TypeError (ParameterTypeError, also a ValueError)
        If a function is not a numba.njit function, or does not compile for
        float64 1-D array arguments; the message carries Numba's reason.
    ValueError
        If a function returns a value or leaves part of ``out`` unwritten on a
        probe (checked at construction for d = 1 and on first use for every
        other d).
    """

    def __init__(self, confinement, interaction):
        self.confinement = _check_user_function(confinement, "confinement", 2, "f(x, out)")
        self.interaction = _check_user_function(interaction, "interaction", 3, "k(x, y, out)")
        self._probed: set[int] = set()
        self._probe(1)

    def _probe(self, d: int) -> None:
        """Check, once per d, that the user's functions write all of out (see _check_writes)."""
        if d in self._probed:
            return
        _check_writes(self.confinement, "confinement", "f(x, out)", [_probe_point(d)], d)
        _check_writes(self.interaction, "interaction", "k(x, y, out)",
                      [_probe_point(d), _probe_point(d, -0.9)], d)
        self._probed.add(d)

    def check_state(self, n, d):
        super().check_state(n, d)
        self._probe(d)

    def __repr__(self) -> str:
        return (f"PairwiseDrift(confinement={self.confinement.__name__}, "
                f"interaction={self.interaction.__name__})")

    def cost(self, n, d):
        return 10.0 * n * n * d

    def against_cost(self, k, N, d):
        return 10.0 * k * N * d

    def drift_into(self, ws, x, out, *, u_fixed=None, u_out=None, batch=None):
        _pairwise_into(self.confinement, self.interaction, x, x, out)

    def against_into(self, ws, x, cloud, out):
        _pairwise_into(self.confinement, self.interaction, x, cloud, out)


class NumpyDrift(Drift):
    r"""Drift given by a vectorised NumPy function ``func(x, cloud)``.

    ``func(x, cloud)`` returns the (k, d) array of ``b(x_i, mu^cloud)`` for
    points ``x`` (k, d) under the empirical measure of ``cloud`` (N, d); the
    particle system calls ``func(x, x)``, the McKean-Vlasov copies
    ``func(xbar, reference_cloud)``. Both arguments are read-only.

    This adapter is for models that are easiest to write in NumPy. It is
    slower than the Numba families (:class:`FeatureDrift`,
    :class:`PairwiseDrift`): the function runs single-threaded in Python
    and, for a pairwise interaction written by broadcasting, allocates
    (k, N, d) temporaries.

    Parameters
    ----------
    func : callable
        ``func(x, cloud) -> ndarray of shape (len(x), d)``, real and finite.
    name : str, optional
        Name used in error messages (default: ``func.__name__``).

    Raises
    ------
    TypeError (ParameterTypeError)
        If func is not callable or name is not a string.
    ValueError
        If, on a probe cloud (5 points in d = 1, or in d = 2 or 3 if d = 1
        fails), func raises, returns a non-real array, the wrong shape, or
        non-finite values. The message names the function. The shape is
        checked again at every call.

    Examples
    --------
    >>> import numpy as np
    >>> def kuramoto(x, cloud):  # -x + mean_j sin(y_j - x)
    ...     return -x + np.sin(cloud[None, :, :] - x[:, None, :]).mean(axis=1)
    >>> b = NumpyDrift(kuramoto)
    >>> b(np.zeros((3, 1))).ravel().tolist()
    [0.0, 0.0, 0.0]
    """

    def __init__(self, func, *, name: str | None = None):
        if not callable(func):
            raise ParameterTypeError(
                f"func must be a callable func(x, cloud) -> (len(x), d) array, got {func!r} of "
                f"type {type(func).__name__}"
            )
        if name is not None and not isinstance(name, str):
            raise ParameterTypeError(f"name must be a string or None, got {name!r}")
        self.func = func
        self.name = name if name is not None else getattr(func, "__name__", repr(func))
        self._probe()

    def __repr__(self) -> str:
        return f"NumpyDrift({self.name})"

    def _probe(self) -> None:
        rng = np.random.default_rng(20240601)
        first = None
        for d in (1, 2, 3):
            z = rng.standard_normal((5, d))
            try:
                self._call(z, z, check_finite=True)
                return
            except _ProbeCallError as exc:
                first = first or exc
                continue
        raise ValueError(f"{first} (probed with clouds of shape (5, d) for d = 1, 2, 3)") \
            from first.__cause__

    def _call(self, x, cloud, *, check_finite: bool = False) -> np.ndarray:
        xv = x.view()
        xv.flags.writeable = False
        cv = xv if cloud is x else cloud.view()
        cv.flags.writeable = False
        try:
            r = self.func(xv, cv)
        except Exception as exc:
            raise _ProbeCallError(
                f"NumpyDrift {self.name!r}: func(x, cloud) raised {type(exc).__name__}: {exc}"
            ) from exc
        r = np.asarray(r)
        if r.dtype.kind not in "biuf":
            raise ValueError(
                f"NumpyDrift {self.name!r}: func(x, cloud) must return a real array, got dtype "
                f"{r.dtype}"
            )
        if r.shape != x.shape:
            raise ValueError(
                f"NumpyDrift {self.name!r}: func(x, cloud) must return shape (len(x), d) = "
                f"{x.shape}, got {r.shape}"
            )
        if check_finite and not np.all(np.isfinite(r)):
            raise ValueError(
                f"NumpyDrift {self.name!r}: func(x, cloud) returned non-finite values on a probe "
                f"cloud of shape {x.shape}"
            )
        return r

    def cost(self, n, d):
        return 10.0 * n * n * d

    def against_cost(self, k, N, d):
        return 10.0 * k * N * d

    def drift_into(self, ws, x, out, *, u_fixed=None, u_out=None, batch=None):
        out[:] = self._call(x, x)

    def against_into(self, ws, x, cloud, out):
        out[:] = self._call(x, cloud)


class _ProbeCallError(ValueError):
    """func of a NumpyDrift raised (a ValueError naming the function)."""


# ---------------------------------------------------------------------------
# built-in models


class LinearMeanField(FeatureDrift):
    r"""Linear mean-field model ``b(x, mu) = -a x + c * mean(mu)``.

    A feature drift with ``g(x) = x`` (so ``n_features = d``) and
    ``F(x, u) = -a x + c u``, applied coordinate-wise. Its McKean-Vlasov
    marginal is known in closed form (:meth:`marginal`), which makes it the
    reference model for checking the simulator.

    Parameters
    ----------
    a : float
        Restoring rate (any real; ``a > 0`` is mean-reverting).
    c : float
        Strength of the attraction to the mean (any real).
    """

    def __init__(self, a: float, c: float):
        self.a = check_real(a, "a")
        self.c = check_real(c, "c")

    def __repr__(self) -> str:
        return f"LinearMeanField(a={self.a!r}, c={self.c!r})"

    def feature_count(self, d):
        return d

    def cost(self, n, d):
        return 4.0 * n * d

    def mean_features_into(self, ws, x, u):
        _column_block_sums(x, ws["partial"])
        _finish_mean(ws["partial"], x.shape[0], u)

    def response_into(self, x, u, out):
        _linear_into(x, u, self.a, self.c, out)

    def marginal(self, t: float, x0: float, alpha: float, sigma: float):
        r"""Exact McKean-Vlasov marginal at time t from a deterministic start.

        With ``x(0) = x0`` the solution of
        ``dx = (-a x + c E x) dt + sigma dL`` (L a standard symmetric
        alpha-stable Levy process, ``E exp(iu L_1) = exp(-|u|^alpha)``) is

        ``x(t) ~ m_t + S_alpha(sigma * ((1 - exp(-a alpha t)) / (a alpha))^(1/alpha))``,
        ``m_t = x0 exp((c - a) t)``,

        (the bracket is ``t`` when ``a = 0``). For d > 1 it is the law of each
        coordinate started at x0, for every noise kind (each coordinate of the
        noise is a standard scalar alpha-stable Levy process).

        Parameters
        ----------
        t : float
            Time, ``> 0``.
        x0 : float
            Deterministic initial value (scalar).
        alpha : float
            Stability index, in (1, 2] (the mean must exist); (0, 2] if c = 0.
        sigma : float
            Noise scale, ``> 0``.

        Returns
        -------
        scipy.stats.rv_continuous_frozen
            ``scipy.stats.levy_stable(alpha, 0, loc=m_t, scale=...)``.

        Raises
        ------
        ValueError
            If a parameter is out of range.

        References
        ----------
        Docs: docs/user_guide/drifts.rst, #drift-families; Samorodnitsky and Taqqu (1994), Prop. 3.4.1
        (stochastic integrals of deterministic functions against stable motion).
        """
        from scipy import stats

        t = check_real(t, "t", low=0.0, low_open=True)
        x0 = check_real(x0, "x0")
        low = 0.0 if self.c == 0.0 else 1.0
        alpha = check_real(alpha, "alpha", low=low, high=2.0, low_open=True)
        sigma = check_real(sigma, "sigma", low=0.0, low_open=True)
        k = self.a * alpha
        # integral_0^t exp(-k (t - s)) ds, stable also for k -> 0 and k < 0
        integral = t if k == 0.0 else -math.expm1(-k * t) / k
        loc = x0 * math.exp((self.c - self.a) * t)
        scale = sigma * integral ** (1.0 / alpha)
        if not (math.isfinite(loc) and math.isfinite(scale) and scale > 0.0):
            raise ValueError(
                f"the marginal at t = {t} is not representable in float64 "
                f"(loc = {loc}, scale = {scale}); use a smaller t"
            )
        return stats.levy_stable(alpha, 0.0, loc=loc, scale=scale)


@njit(cache=True)
def _double_well_confinement(x, out):
    # -grad of W(x) = |x|^4 / 4 - |x|^2 / 2: wells on the unit sphere
    r2 = 0.0
    for k in range(x.size):
        r2 += x[k] * x[k]
    for k in range(x.size):
        out[k] = x[k] * (1.0 - r2)


@functools.lru_cache(maxsize=64)
def _make_attraction(kappa: float):
    """K(x, y) = kappa (y - x) as an njit function (kappa frozen at compile time)."""

    @njit
    def attraction(x, y, out):
        for k in range(x.size):
            out[k] = kappa * (y[k] - x[k])

    return attraction


class DoubleWell(PairwiseDrift):
    r"""Pairwise example: double-well confinement with linear attraction.

    ``b(x_i, mu^n) = x_i (1 - |x_i|^2) + kappa (1/n) sum_j (x_j - x_i)``:
    the gradient flow of ``|x|^4/4 - |x|^2/2`` plus attraction of strength
    ``kappa`` to the other particles (the Desai-Zwanzig model when d = 1). It
    runs through the generic O(n^2) pairwise kernel. The interaction is
    unbounded, so the model lies outside the chaos theorem's hypotheses.

    Parameters
    ----------
    kappa : float, optional
        Attraction strength, ``>= 0``.

    References
    ----------
    Dawson (1983), "Critical dynamics and fluctuations for a mean-field model
    of cooperative behavior", J. Stat. Phys. 31.
    """

    def __init__(self, kappa: float = 1.0):
        self.kappa = check_real(kappa, "kappa", low=0.0)
        super().__init__(_double_well_confinement, _make_attraction(self.kappa))

    def __repr__(self) -> str:
        return f"DoubleWell(kappa={self.kappa!r})"


class MeanFieldNetwork(FeatureDrift):
    r"""The paper's one-hidden-layer network in the mean-field scaling.

    With n hidden units ``theta_i in R^d`` (the particles) and fixed output
    weights ``w_i in R^c``, the network is

    ``f_Theta(x) = (1/n) sum_i w_i phi(<theta_i, x>)``

    and the drift of particle i is minus the n-rescaled gradient of the
    squared loss ``L = (1/m) sum_k 1/2 |f(x_k) - y_k|^2`` on the data set:

    ``b(theta_i, mu) = -(1/m) sum_k <f(x_k) - y_k, w_i> phi'(<theta_i, x_k>) x_k``.

    It is a feature drift with features ``g(theta) = (w phi(<theta, x_k>))_k``
    (``n_features = m c``) whose mean over particles is the vector of network
    outputs ``u = (f(x_k))_k``. An Euler step of the drift with noise is the
    noisy (full-batch or, via ``batch_size`` in :func:`poc.simulate`,
    minibatch) SGD of the paper.

    Parameters
    ----------
    X : array_like, shape (m, d)
        Data inputs (fixed).
    y : array_like, shape (m,) or (m, c)
        Targets. A 1-D y is the paper's scalar network (``c = 1``).
    activation : {"tanh", "sigmoid", "relu"}, optional
        ``phi``. tanh and sigmoid are bounded and smooth (the theorem's
        setting); relu is allowed but its gradient is discontinuous.
    output_weights : array_like of shape (n, c), (n,) if c = 1, or None
        Fixed second layer. If None: ``w_i = 1`` when ``c = 1`` (the paper's
        network); for ``c > 1``, independent random signs
        ``w_i in {-1, +1}^c`` drawn from ``output_seed``. The drawn matrix
        for n units is the first n rows of one fixed sequence, so a cloud of
        N >= n particles shares the first n units' weights with a cloud of n.
        An explicit array fixes the number of particles to its row count.
    output_seed : int, optional
        Seed of the random output weights (used only when c > 1 and
        output_weights is None).

    Raises
    ------
    ValueError
        If X, y or output_weights have inconsistent shapes or non-finite
        values, or the activation is unknown.

    References
    ----------
    Wan, Barsbey, Zaidi, Simsekli (2024), "Implicit Compressibility of
    Overparametrized Neural Networks Trained with Heavy-Tailed SGD",
    arXiv 2306.08125, Section 3 (mean-field network and noisy SGD).
    """

    def __init__(self, X, y, activation: str = "tanh", *, output_weights=None,
                 output_seed: int = 0):
        X = check_array(X, "X", ndim=2)
        y = check_array(y, "y", ndim=(1, 2))
        if y.shape[0] != X.shape[0]:
            raise ValueError(
                f"y must have one entry (row) per data point: X has m = {X.shape[0]} rows, "
                f"got y of shape {y.shape}"
            )
        self.activation = check_choice(activation, "activation", ACTIVATIONS)
        self._kind = ACTIVATIONS.index(self.activation)
        self.X = X
        self.y = y
        self._Y = np.ascontiguousarray(y.reshape(y.shape[0], -1))
        self.n_data, self.dim = X.shape
        self.n_outputs = self._Y.shape[1]
        self.n_features = self.n_data * self.n_outputs
        self.output_seed = check_int(output_seed, "output_seed", low=0)
        self._fixed_w = None
        if output_weights is not None:
            w = check_array(output_weights, "output_weights", ndim=(1, 2))
            if w.ndim == 1:
                w = w.reshape(-1, 1)
            if w.shape[1] != self.n_outputs:
                raise ValueError(
                    f"output_weights must have c = {self.n_outputs} column(s) (one per output "
                    f"of y), got shape {np.shape(output_weights)}"
                )
            self._fixed_w = w
        self._drawn_w: dict[int, np.ndarray] = {}

    uses_blas = True

    def __repr__(self) -> str:
        return (f"MeanFieldNetwork(m={self.n_data}, d={self.dim}, c={self.n_outputs}, "
                f"activation={self.activation!r})")

    # -- output weights --------------------------------------------------------

    def _weights(self, n: int) -> np.ndarray:
        """(n, c) output weights, or a (0, c) array meaning all ones (c = 1)."""
        if self._fixed_w is not None:
            return self._fixed_w
        if self.n_outputs == 1:
            return np.empty((0, 1))
        w = self._drawn_w.get(n)
        if w is None:
            g = np.random.default_rng(self.output_seed).standard_normal((n, self.n_outputs))
            w = np.where(g >= 0.0, 1.0, -1.0)
            self._drawn_w = {n: w}  # keep one: clouds of one size are simulated at a time
        return w

    def _weights_t(self, n: int) -> np.ndarray:
        """Transposed weights (c, n) for the kernels; (0, n) means all ones."""
        w = self._weights(n)
        return np.empty((0, n)) if w.shape[0] == 0 else np.ascontiguousarray(w.T)

    def second_layer(self, n: int) -> np.ndarray:
        """The fixed output weights of a network with n hidden units.

        Parameters
        ----------
        n : int
            Number of hidden units (particles).

        Returns
        -------
        numpy.ndarray, shape (n, c)
        """
        n = check_int(n, "n", low=1)
        self.check_state(n, self.dim)
        w = self._weights(n)
        return np.ones((n, 1)) if w.shape[0] == 0 else w.copy()

    # -- drift interface ---------------------------------------------------------

    def check_state(self, n, d):
        super().check_state(n, d)
        if self._fixed_w is not None and self._fixed_w.shape[0] != n:
            raise ValueError(
                f"output_weights has {self._fixed_w.shape[0]} rows (hidden units) but the "
                f"cloud has n = {n} particles"
            )

    def feature_count(self, d):
        return self.n_features

    def cost(self, n, d):
        return 30.0 * n * self.n_features

    def workspace(self, n, d, batch_size=None):
        b = self.n_data if batch_size is None else batch_size
        rows = max(1, min(b, _MAX_H // n))
        ws = {"H": np.empty((rows, n)), "f": np.empty((b, self.n_outputs)),
              "wt": self._weights_t(n)}
        if rows < b:
            ws["G"] = np.empty((n, d))
        if batch_size is not None:
            ws["Xb"] = np.empty((b, d))
            ws["Yb"] = np.empty((b, self.n_outputs))
        return ws

    def drift_into(self, ws, x, out, *, u_fixed=None, u_out=None, batch=None):
        if batch is None:
            Xb, Yb = self.X, self._Y
        else:
            Xb, Yb = ws["Xb"], ws["Yb"]
            np.take(self.X, batch, axis=0, out=Xb)
            np.take(self._Y, batch, axis=0, out=Yb)
        b = Xb.shape[0]
        f = ws["f"]
        given = u_fixed is not None
        if given:
            f[:] = u_fixed.reshape(f.shape)
        H = ws["H"]
        rows = H.shape[0]
        coef = -1.0 / b
        # two BLAS products per chunk of data (H = X Theta^T, then H^T X) around
        # one fused Numba pass over H for the activations and residuals
        for start in range(0, b, rows):
            stop = min(b, start + rows)
            Hc = H[: stop - start]
            _dot(Xb[start:stop], x.T, Hc)
            _mfn_rows(Hc, Yb[start:stop], ws["wt"], self._kind, coef, f[start:stop], given)
            if start == 0:
                _dot(Hc.T, Xb[start:stop], out)
            else:
                _dot(Hc.T, Xb[start:stop], ws["G"])
                out += ws["G"]
        if u_out is not None:
            u_out[:] = f.ravel()

    def _forward_into(self, theta, X, f) -> None:
        n = theta.shape[0]
        wt = self._weights_t(n)
        rows = max(1, min(X.shape[0], _MAX_H // n))
        H = np.empty((rows, n))
        for start in range(0, X.shape[0], rows):
            stop = min(X.shape[0], start + rows)
            Hc = H[: stop - start]
            _dot(X[start:stop], theta.T, Hc)
            _mfn_forward(Hc, wt, self._kind, f[start:stop])

    def mean_features_into(self, ws, x, u):
        self._forward_into(x, self.X, u.reshape(self.n_data, self.n_outputs))

    def response_into(self, x, u, out):
        self.drift_into(self.workspace(*x.shape), x, out, u_fixed=u)

    # -- network evaluation ------------------------------------------------------

    def _check_theta(self, theta) -> np.ndarray:
        theta = check_array(theta, "theta", ndim=2)
        self.check_state(*theta.shape)
        return theta

    def predict(self, theta, X=None) -> np.ndarray:
        """Network outputs ``f_Theta(x) = (1/n) sum_i w_i phi(<theta_i, x>)``.

        Parameters
        ----------
        theta : array_like, shape (n, d)
            Hidden-layer weights (one particle per row).
        X : array_like, shape (p, d), optional
            Inputs; the training inputs by default.

        Returns
        -------
        numpy.ndarray, shape (p,) if y is 1-D, else (p, c)
        """
        theta = self._check_theta(theta)
        if X is None:
            X = self.X
        else:
            X = check_array(X, "X", ndim=2)
            if X.shape[1] != self.dim:
                raise ValueError(f"X must have d = {self.dim} columns, got shape {X.shape}")
        f = np.empty((X.shape[0], self.n_outputs))
        self._forward_into(theta, X, f)
        return f[:, 0] if self.y.ndim == 1 else f

    def loss(self, theta) -> float:
        """Training loss ``(1/m) sum_k 1/2 |f_Theta(x_k) - y_k|^2``.

        Parameters
        ----------
        theta : array_like, shape (n, d)

        Returns
        -------
        float
        """
        theta = self._check_theta(theta)
        f = np.empty((self.n_data, self.n_outputs))
        self._forward_into(theta, self.X, f)
        with np.errstate(over="ignore"):  # an overflowing loss is reported as inf
            r = f - self._Y
            return 0.5 * float(np.einsum("kc,kc->", r, r)) / self.n_data
