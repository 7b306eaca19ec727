r"""The paper's experimental protocol: a ReLU network trained by noisy SGD.

:func:`train_fcn` trains the network of the paper's experiments (Wan,
Barsbey, Zaidi and Simsekli 2024, Section 5, and the authors' public code
``mbarsbey/implicit-compressibility``, ``main.py`` and ``models.py``):

* a fully connected network ``x -> W2 relu(W1 x)`` with ``width`` hidden
  units, no biases, in the *standard* parameterisation (no ``1/n`` factor;
  this is not the mean-field network of :mod:`poc.training`);
* PyTorch's default ``Linear`` initialisation, every weight
  ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` (``fan_in = d`` for ``W1``,
  ``width`` for ``W2``);
* cross-entropy loss, plain minibatch SGD on both layers (no momentum, no
  weight decay);
* after every SGD step, noise added to the hidden weight matrix ``W1`` only,
  ``W1 <- W1 + sigma * lr^(1/alpha) * N`` (:data:`NOISE_TYPES`);
* training stops once the training accuracy, evaluated on the whole
  training set every ``eval_every`` iterations, reaches a target.

Noise types, with the toolkit's noise kinds (:func:`poc.sample_noise`,
``S_alpha(s)`` the symmetric stable law with characteristic function
``exp(-|s u|^alpha)``):

* type 1, one scalar per hidden unit added to all of its incoming weights:
  kind ``"neuron"``, ``S_alpha(1)``; at ``alpha = 2`` the authors draw a
  *standard* normal ``N(0, 1)`` (scale ``1/sqrt(2)`` in our convention,
  where ``S_2(1) = N(0, 2)``), and so does this module;
* type 2, i.i.d. entries: kind ``"iid"``, ``S_alpha(1)``;
* type 3, per hidden unit ``sqrt(A) G`` with ``G ~ N(0, I_d)`` and ``A``
  positive ``(alpha/2)``-stable of scale ``cos(pi alpha / 4)^(2/alpha)``.
  The toolkit's ``"isotropic"`` kind uses ``G ~ N(0, 2 I_d)`` with the same
  ``A``, so the authors' type 3 is ours divided by ``sqrt(2)``: kind
  ``"isotropic"`` with scale ``1/sqrt(2)``, whose characteristic function
  is ``exp(-|u|^alpha / 2^(alpha/2))``. This module follows the authors.

Two details of the authors' loop are kept: the stopping test comes right
after the SGD step and before that step's noise (the network that reaches
the target is returned without noise), and the first evaluation is after
the first step (iteration 0). Where the authors' CPU path adds the noise
without its scale (``main.py``), the scaled GPU path, the one their results
come from, is followed.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
from numba import njit

from ._threads import dot, split_blas
from ._validation import ParameterTypeError, as_generator, check_int, check_labels, check_real
from .noise import _noise, _stable

__all__ = ["NOISE_TYPES", "FCNResult", "TrainingWarning", "train_fcn"]

NOISE_TYPES = {0: "none (plain SGD)", 1: "one scalar per hidden unit",
               2: "i.i.d. entries", 3: "isotropic per hidden unit"}


class TrainingWarning(UserWarning):
    """Training stopped at ``max_steps`` without reaching the target accuracy."""


# ---------------------------------------------------------------------------
# Numba kernels (elementwise parts; the GEMMs go to NumPy's BLAS). They are serial on
# purpose: each is one memory-bound pass of about a millisecond, and on a busy 2-core machine
# waking a second thread cost 10-30x more than the pass itself.


@njit(cache=True)
def _relu(Z):
    n, m = Z.shape
    for i in range(n):
        for j in range(m):
            if Z[i, j] < 0:
                Z[i, j] = 0


@njit(cache=True)
def _relu_backward(G, H):
    """G *= (H > 0), in place: the ReLU derivative through its output."""
    n, m = G.shape
    for i in range(n):
        for j in range(m):
            if H[i, j] <= 0:
                G[i, j] = 0


@njit(cache=True)
def _softmax_ce(O, y, scale, G, losses, correct):
    """Per row: cross-entropy loss, correctness, and G = scale * (softmax(O) - onehot(y))."""
    n, c = O.shape
    for i in range(n):
        mx = O[i, 0]
        arg = 0
        for k in range(1, c):
            if O[i, k] > mx:
                mx = O[i, k]
                arg = k
        s = 0.0
        for k in range(c):
            s += math.exp(O[i, k] - mx)
        losses[i] = math.log(s) + mx - O[i, y[i]]
        correct[i] = arg == y[i]
        for k in range(c):
            G[i, k] = scale * math.exp(O[i, k] - mx) / s
        G[i, y[i]] -= scale


@njit(cache=True)
def _axpy(W, a, G):
    """W += a * G, in place."""
    n, m = W.shape
    for i in range(n):
        for j in range(m):
            W[i, j] += a * G[i, j]


@njit(cache=True)
def _add_rows(W, a, v):
    """W[i, :] += a * v[i], in place (type-1 noise)."""
    n, m = W.shape
    for i in range(n):
        x = a * v[i]
        for j in range(m):
            W[i, j] += x


# ---------------------------------------------------------------------------
# the network


def _mm(a, b):
    """``a @ b`` in fixed blocks of rows, one BLAS thread each (inside :func:`split_blas`).

    OpenBLAS on two threads gives other bits than on one; fixed blocks keep a
    seeded run identical whatever the thread count.
    """
    return dot(a, b, np.empty((a.shape[0], b.shape[1]), dtype=np.result_type(a, b)))


def _forward(X, W1, W2):
    H = _mm(X, W1.T)
    _relu(H)
    return H, _mm(H, W2.T)


def _evaluate(X, y, W1, W2, batch: int = 1000) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) of the network on (X, y), in blocks of rows."""
    loss, right = 0.0, 0
    for s in range(0, X.shape[0], batch):
        with split_blas():
            _, O = _forward(X[s:s + batch], W1, W2)
        losses = np.empty(O.shape[0])
        correct = np.empty(O.shape[0], dtype=np.bool_)
        _softmax_ce(O, y[s:s + batch], 0.0, np.empty_like(O), losses, correct)
        loss += float(np.sum(losses))
        right += int(np.count_nonzero(correct))
    return loss / X.shape[0], right / X.shape[0]


@dataclass(eq=False)
class FCNResult:
    """A network trained by :func:`train_fcn`.

    Attributes
    ----------
    W1 : numpy.ndarray, shape (width, d_in)
        Hidden-layer weights, one hidden unit per row.
    W2 : numpy.ndarray, shape (n_classes, width)
        Output-layer weights.
    steps : int
        Number of SGD steps taken.
    reached_target : bool
        Whether the training accuracy reached the target (False if training
        stopped at ``max_steps``).
    history : dict of numpy.ndarray
        ``"iteration"`` (0-based index of the step after which the network
        was evaluated), ``"train_loss"``, ``"train_accuracy"`` and, with a
        test set, ``"test_loss"``, ``"test_accuracy"``.
    elapsed_s : float
        Wall-clock time of training, evaluations included.
    settings : dict
        The arguments of the run (width, lr, batch size, noise type, alpha,
        sigma, target, ...).
    """

    W1: np.ndarray
    W2: np.ndarray
    steps: int
    reached_target: bool
    history: dict = field(default_factory=dict)
    elapsed_s: float = 0.0
    settings: dict = field(default_factory=dict)

    def _weights(self, W1):
        if W1 is None:
            return self.W1
        W1 = np.ascontiguousarray(W1, dtype=self.W1.dtype)
        if W1.shape != self.W1.shape:
            raise ValueError(f"W1 must have shape {self.W1.shape}, got {W1.shape}")
        return W1

    def _data(self, X, y=None):
        X = np.ascontiguousarray(X, dtype=self.W1.dtype)
        if X.ndim != 2 or X.shape[1] != self.W1.shape[1]:
            raise ValueError(f"X must have shape (m, {self.W1.shape[1]}), got {X.shape}")
        if y is None:
            return X
        return X, check_labels(y, "y", X.shape[0], n_classes=self.W2.shape[0], integer_dtype=False)

    def predict(self, X, W1=None) -> np.ndarray:
        """Predicted labels (argmax of the outputs) for the rows of ``X`` (m, d_in).

        ``W1`` (width, d_in), e.g. a pruned copy, replaces the hidden weights.
        """
        with split_blas():
            _, O = _forward(self._data(X), self._weights(W1), self.W2)
        return np.argmax(O, axis=1)

    def accuracy(self, X, y, W1=None) -> float:
        """Fraction of the rows of ``X`` (m, d_in) classified as ``y`` (m,)."""
        X, y = self._data(X, y)
        return _evaluate(X, y, self._weights(W1), self.W2)[1]

    def loss(self, X, y, W1=None) -> float:
        """Mean cross-entropy on ``(X, y)``, with hidden weights ``W1`` if given."""
        X, y = self._data(X, y)
        return _evaluate(X, y, self._weights(W1), self.W2)[0]


def _noise_step(rng, noise_type: int, alpha: float, W1: np.ndarray, scale: float) -> None:
    """W1 += scale * (one draw of the authors' noise of type ``noise_type``)."""
    n, d = W1.shape
    dt = W1.dtype  # float32 training draws float32 noise (its own stream, same law)
    if noise_type == 1:
        # one scalar per hidden unit; the authors' alpha = 2 case is a standard normal
        v = _stable(rng, alpha, n, 1.0 if alpha < 2.0 else 1.0 / math.sqrt(2.0), dt)
        _add_rows(W1, scale, v)
        return
    if noise_type == 2:
        _axpy(W1, scale, _stable(rng, alpha, n * d, 1.0, dt).reshape(n, d))
        return
    # the authors' G ~ N(0, I): our isotropic kind (G ~ N(0, 2 I)) at scale 1/sqrt(2)
    _axpy(W1, scale, _noise(rng, alpha, n, d, "isotropic", 1.0 / math.sqrt(2.0), dt))


def train_fcn(
    X,
    y,
    *,
    width: int,
    lr: float,
    batch_size: int,
    noise_type: int = 0,
    alpha: float | None = None,
    sigma: float = 0.0,
    seed=0,
    init=None,
    target_train_accuracy: float = 0.95,
    eval_every: int = 100,
    max_steps: int | None = None,
    dtype: str = "float32",
    progress=None,
    X_test=None,
    y_test=None,
) -> FCNResult:
    r"""Train the paper's one-hidden-layer ReLU network by (noisy) SGD until a target accuracy.

    Each iteration ``i = 0, 1, ...`` takes one SGD step on the mean
    cross-entropy of a minibatch, ``W <- W - lr * grad`` for both layers;
    every ``eval_every`` iterations (``i % eval_every == 0``) it evaluates
    the whole training set (and the test set, if given) and stops if the
    training accuracy is ``>= target_train_accuracy``; otherwise, for
    ``noise_type > 0``, it adds ``sigma * lr^(1/alpha) * N`` to ``W1``, with
    ``N`` of the type described in :mod:`poc.experiments`.

    Parameters
    ----------
    X : array_like, shape (m, d_in)
        Training inputs.
    y : array_like of int, shape (m,)
        Class labels in ``[0, n_classes)``, ``n_classes = max(y) + 1``.
    width : int
        Number of hidden units, ``>= 1``.
    lr : float
        Learning rate, ``> 0``.
    batch_size : int
        Minibatch size, in ``[1, m]``. ``batch_size == m`` uses the whole
        set, in order, every step; otherwise each epoch is a fresh random
        permutation cut into consecutive batches (the last one smaller if
        ``m`` is not a multiple, as PyTorch's DataLoader), drawn from a
        stream independent of the noise.
    noise_type : {0, 1, 2, 3}, optional
        0 (default) plain SGD; 1, 2, 3 the paper's noise types.
    alpha : float, optional
        Stability index in (0, 2]; required when ``noise_type > 0``.
    sigma : float, optional
        Noise scale, ``>= 0`` (default 0); the noise added per step is
        ``sigma * lr^(1/alpha)`` times a unit draw.
    seed : None, int or numpy.random.Generator, optional
        Source of randomness; three independent streams (initial weights,
        minibatches, noise) are spawned from it.
    init : tuple (W1, W2), optional
        Initial weights, shapes (width, d_in) and (n_classes, width); by
        default PyTorch's ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``.
    target_train_accuracy : float, optional
        Target training accuracy in (0, 1] (default 0.95, the paper's MNIST
        target).
    eval_every : int, optional
        Iterations between evaluations, ``>= 1`` (default 100).
    max_steps : int, optional
        Largest number of SGD steps, ``>= 1``; default no limit. Training
        stopped by it is evaluated on its last step, returned with
        ``reached_target=False`` and a :class:`TrainingWarning`.
    dtype : {"float32", "float64"}, optional
        Precision of the weights and of the arithmetic (default float32).
    progress : bool, optional
        Show a tqdm bar of the evaluations (default off).
    X_test, y_test : array_like, optional
        Test set recorded in the history at every evaluation.

    Returns
    -------
    FCNResult

    Raises
    ------
    ValueError
        If a parameter is out of range (width < 1, lr <= 0, batch size not in
        [1, m], noise_type not in {0, 1, 2, 3}, noise without alpha or with
        alpha outside (0, 2], sigma < 0, X and y of different lengths, target
        outside (0, 1]), if init has the wrong shapes, or if training
        produces a non-finite loss (the iteration is named).

    References
    ----------
    Wan, Barsbey, Zaidi and Simsekli (2024), "Implicit Compressibility of
    Overparametrized Neural Networks Trained with Heavy-Tailed SGD",
    arXiv 2306.08125, Section 5 and Appendix (experimental protocol).
    """
    a = _check_fcn_inputs(X, y, width, lr, batch_size, noise_type, alpha, sigma,
                          target_train_accuracy, eval_every, max_steps, dtype, X_test, y_test)
    g_init, g_batch, g_noise = as_generator(seed).spawn(3)
    W1, W2 = _initial_weights(a, init, g_init)
    i, reached, hist, elapsed = _run_fcn(a, W1, W2, g_batch, g_noise, progress)
    if not reached:
        warnings.warn(f"train_fcn stopped at max_steps={a.max_steps} with training accuracy "
                      f"{hist['train_accuracy'][-1]:.4f} < target {a.target}", TrainingWarning,
                      stacklevel=2)
    if a.X_test is None:
        del hist["test_loss"], hist["test_accuracy"]
    history = {k: np.asarray(v) for k, v in hist.items()}
    settings = {"width": a.width, "lr": a.lr, "batch_size": a.batch_size,
                "noise_type": a.noise_type, "alpha": a.alpha, "sigma": a.sigma,
                "target_train_accuracy": a.target, "eval_every": a.eval_every,
                "max_steps": a.max_steps, "dtype": dtype}
    return FCNResult(W1, W2, i + 1, reached, history, elapsed, settings)


# ---------------------------------------------------------------------------
# the steps of train_fcn: checks, initial weights, one SGD step, evaluation, run loop


@dataclass(frozen=True, eq=False)
class _FCNInputs:
    """The validated arguments of :func:`train_fcn` (same names and meanings)."""

    X: np.ndarray  # (m, d) in the training dtype
    y: np.ndarray
    X_test: np.ndarray | None
    y_test: np.ndarray | None
    n_classes: int
    width: int
    lr: float
    batch_size: int
    noise_type: int
    alpha: float | None
    sigma: float
    target: float  # target_train_accuracy
    eval_every: int
    max_steps: int | None


def _check_fcn_inputs(X, y, width, lr, batch_size, noise_type, alpha, sigma,
                      target_train_accuracy, eval_every, max_steps, dtype, X_test,
                      y_test) -> _FCNInputs:
    """Validate the arguments of :func:`train_fcn` and raise as it documents."""
    width = check_int(width, "width", low=1)
    lr = check_real(lr, "lr", low=0.0, low_open=True)
    if noise_type not in (0, 1, 2, 3) or isinstance(noise_type, bool):
        raise ValueError(f"noise_type must be one of 0, 1, 2, 3, got {noise_type!r}")
    if noise_type:
        if alpha is None:
            raise ValueError(f"alpha must be given (in (0, 2]) for noise_type {noise_type}")
        alpha = check_real(alpha, "alpha", low=0.0, high=2.0, low_open=True)
    sigma = check_real(sigma, "sigma", low=0.0)
    target = check_real(target_train_accuracy, "target_train_accuracy", low=0.0, high=1.0,
                        low_open=True)
    eval_every = check_int(eval_every, "eval_every", low=1)
    if max_steps is not None:
        max_steps = check_int(max_steps, "max_steps", low=1)
    if dtype not in ("float32", "float64"):
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    ft = np.dtype(dtype)
    X = np.ascontiguousarray(X, dtype=ft)
    if X.ndim != 2 or X.shape[0] < 1 or not np.all(np.isfinite(X)):
        raise ValueError(f"X must be a finite 2-D array with at least one row, got shape {X.shape}")
    m, d = X.shape
    y = check_labels(y, "y", m, integer_dtype=False)
    n_classes = int(y.max()) + 1
    batch_size = check_int(batch_size, "batch_size", low=1, high=m)
    if X_test is not None:
        X_test = np.ascontiguousarray(X_test, dtype=ft)
        if X_test.ndim != 2 or X_test.shape[1] != d:
            raise ValueError(f"X_test must have shape (m_test, {d}), got {X_test.shape}")
        y_test = check_labels(y_test, "y_test", X_test.shape[0], n_classes=n_classes,
                              integer_dtype=False)
    return _FCNInputs(X, y, X_test, y_test, n_classes, width, lr, batch_size, noise_type, alpha,
                      sigma, target, eval_every, max_steps)


def _initial_weights(a: _FCNInputs, init, g_init) -> tuple[np.ndarray, np.ndarray]:
    """(W1, W2) in the training dtype: ``init`` checked, or PyTorch's default from ``g_init``."""
    ft = a.X.dtype
    d = a.X.shape[1]
    width, n_classes = a.width, a.n_classes
    if init is None:
        b1, b2 = 1.0 / math.sqrt(d), 1.0 / math.sqrt(width)
        W1 = g_init.uniform(-b1, b1, (width, d)).astype(ft)
        W2 = g_init.uniform(-b2, b2, (n_classes, width)).astype(ft)
        return W1, W2
    if not isinstance(init, tuple | list) or len(init) != 2:
        raise ParameterTypeError("init must be a pair (W1, W2) of arrays")
    W1 = np.array(init[0], dtype=ft, order="C")
    W2 = np.array(init[1], dtype=ft, order="C")
    if W1.shape != (width, d) or W2.shape != (n_classes, width):
        raise ValueError(f"init must have shapes ({width}, {d}) and ({n_classes}, {width}), "
                         f"got {W1.shape} and {W2.shape}")
    return W1, W2


def _sgd_step(Xb, yb, W1, W2, lr, losses, correct) -> None:
    """One SGD step on the mean cross-entropy of the minibatch (Xb, yb), in place on W1 and W2."""
    b = Xb.shape[0]
    H, O = _forward(Xb, W1, W2)
    G = np.empty_like(O)
    _softmax_ce(O, yb, 1.0 / b, G, losses[:b], correct[:b])
    GH = _mm(G, W2)  # (b, width), before W2 moves
    _relu_backward(GH, H)
    _axpy(W2, -lr, _mm(G.T, H))
    _axpy(W1, -lr, _mm(GH.T, Xb))


def _record(hist: dict, a: _FCNInputs, i: int, W1, W2, bar) -> float:
    """Evaluate at iteration ``i``, append to ``hist``; the training accuracy."""
    tr_loss, tr_acc = _evaluate(a.X, a.y, W1, W2)
    if not math.isfinite(tr_loss):
        raise ValueError(f"training diverged: non-finite training loss at iteration {i}")
    hist["iteration"].append(i)
    hist["train_loss"].append(tr_loss)
    hist["train_accuracy"].append(tr_acc)
    if a.X_test is not None:
        te_loss, te_acc = _evaluate(a.X_test, a.y_test, W1, W2)
        hist["test_loss"].append(te_loss)
        hist["test_accuracy"].append(te_acc)
    if bar is not None:
        bar.set_postfix(iteration=i, train_accuracy=f"{tr_acc:.3f}")
        bar.update()
    return tr_acc


def _run_fcn(a: _FCNInputs, W1, W2, g_batch, g_noise, progress) -> tuple[int, bool, dict, float]:
    """The training loop, in place on W1 and W2: (last iteration, reached, history lists, seconds)."""
    noise_type, alpha = a.noise_type, a.alpha
    noise_scale = a.sigma * a.lr ** (1.0 / alpha) if noise_type else 0.0
    add_noise = noise_type != 0 and noise_scale > 0.0

    hist = {k: [] for k in ("iteration", "train_loss", "train_accuracy", "test_loss",
                            "test_accuracy")}
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(desc=f"train_fcn width {a.width}", unit=" evals", leave=False)

    X, y, m, batch_size, max_steps = a.X, a.y, a.X.shape[0], a.batch_size, a.max_steps
    full = batch_size == m
    perm, pos = np.arange(m), m
    losses = np.empty(batch_size)
    correct = np.empty(batch_size, dtype=np.bool_)
    t0 = time.perf_counter()
    i, reached = 0, False
    with split_blas():  # fixed row blocks: the same bits on any thread count
        while True:
            if full:
                Xb, yb = X, y
            else:
                if pos >= m:
                    perm, pos = g_batch.permutation(m), 0
                idx = perm[pos:pos + batch_size]
                pos += batch_size
                Xb, yb = X[idx], y[idx]
            _sgd_step(Xb, yb, W1, W2, a.lr, losses, correct)
            last = max_steps is not None and i + 1 >= max_steps
            if i % a.eval_every == 0 or last:
                if _record(hist, a, i, W1, W2, bar) >= a.target:
                    reached = True
                    break
            if last:
                break
            if add_noise:
                _noise_step(g_noise, noise_type, alpha, W1, noise_scale)
            i += 1
    elapsed = time.perf_counter() - t0
    if bar is not None:
        bar.close()
    return i, reached, hist, elapsed
