"""The paper's mean-field network, :class:`MeanFieldNetwork`, and its activations.

The drift of a network step is two BLAS products around one fused Numba pass
over the (batch x n) pre-activations (activations, their derivatives and the
residuals); tanh and sigmoid are computed by branch-free, vectorisable
kernels.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from .._intrinsics import as_bits, fma, from_bits
from .._threads import dot as _dot
from .._threads import dot_tn as _dot_tn
from .._validation import check_array, check_choice, check_int
from .families import FeatureDrift

__all__ = ["ACTIVATIONS", "MeanFieldNetwork"]

#: The activations ``phi`` of :class:`MeanFieldNetwork` (and of :func:`poc.train`,
#: :func:`poc.train_fcn`): tanh and sigmoid are bounded and smooth, relu is not.
ACTIVATIONS = ("tanh", "sigmoid", "relu")

# Largest number of entries of the (batch x n) pre-activation matrix of the
# mean-field network held at once; larger problems are cut into data chunks.
MAX_H = 1 << 22

# Vectorisable tanh and sigmoid for the network activations. libm's tanh and
# exp are scalar calls (15-30 ns each); the activation pass over the
# (batch x n) pre-activations is the largest non-BLAS cost of a network step,
# and these branch-free versions let LLVM vectorise it (about 3x faster than
# libm, within 4 ulp; the derivatives are relatively accurate even where tiny).


_LN2_HI = 6.93147180369123816490e-01  # ln 2 split for Cody-Waite reduction (fdlibm)
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.44269504088896338700e00
_SHIFTER = 6755399441055744.0  # 1.5 * 2^52: adding it rounds to an integer in the low bits


@njit(cache=True, inline="always")
def _exp_pade(x):
    """For x in [-708, 0]: (s, E, O) with exp(x) = s (E + O) / (E - O).

    x = k ln 2 + r with |r| <= ln(2)/2 and s = 2^k; E + O is the numerator of
    the [6/6] Pade approximant of exp(r) (E even, O odd in r) and E - O its
    denominator; relative error < 2e-19 on that interval. Fused multiply-adds (one
    rounding each, the same bits with or without FMA hardware) shorten the dependency
    chains: tanh and its derivative 1.2 -> 1.0 ns each on AVX-512, within 3 ulp of libm's
    tanh instead of 5 on a dense grid of [-30, 30].
    """
    z = fma(x, _INV_LN2, _SHIFTER)
    kf = z - _SHIFTER
    k = as_bits(z) - as_bits(_SHIFTER)
    r = fma(kf, -_LN2_LO, fma(kf, -_LN2_HI, x))
    r2 = r * r
    E = fma(r2, fma(r2, fma(r2, 1.0 / 665280.0, 1.0 / 792.0), 5.0 / 44.0), 1.0)
    O = r * fma(r2, fma(r2, 1.0 / 15840.0, 1.0 / 66.0), 0.5)
    return from_bits((k + 1023) << 52), E, O


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
    a = 1.0 - s
    c = 1.0 + s
    num = fma(a, E, -(c * O))
    den = fma(c, E, -(a * O))
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
def activate_row(row, phi, kind):
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
def _term(a, b, i):
    """a[i] b[i], or a[i] for b None (a compile-time branch: Numba prunes it by the type of b)."""
    if b is None:
        return a[i]
    return a[i] * b[i]


@njit(cache=True, inline="always")
def _dot4(a, b, n):
    """sum_i a[i] b[i] (sum_i a[i] for b None) with four interleaved accumulators (fixed order,
    vectorisable)."""
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    s3 = 0.0
    n4 = n - n % 4
    for i in range(0, n4, 4):
        s0 += _term(a, b, i)
        s1 += _term(a, b, i + 1)
        s2 += _term(a, b, i + 2)
        s3 += _term(a, b, i + 3)
    for i in range(n4, n):
        s0 += _term(a, b, i)
    return (s0 + s1) + (s2 + s3)


@njit(cache=True, inline="always")
def _outputs(phi, wt, n, acc):
    """acc[l] = sum_i w_il phi_i (before the 1/n); wt (c, n), or (0, n) for w = 1."""
    if wt.shape[0] == 0:
        acc[0] = _dot4(phi, None, n)
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
        activate_row(row, phi, kind)
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
        activate_row(H[k], phi, kind)
        acc = np.empty(c)
        _outputs(phi, wt, n, acc)
        for l in range(c):
            f[k, l] = acc[l] / n



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
        rows = max(1, min(b, MAX_H // n))
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
                _dot_tn(Hc, Xb[start:stop], out)
            else:
                _dot_tn(Hc, Xb[start:stop], ws["G"])
                out += ws["G"]
        if u_out is not None:
            u_out[:] = f.ravel()

    def _forward_into(self, theta, X, f) -> None:
        n = theta.shape[0]
        wt = self._weights_t(n)
        rows = max(1, min(X.shape[0], MAX_H // n))
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
