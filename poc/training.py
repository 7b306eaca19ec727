r"""Training the mean-field network with (noisy) minibatch SGD.

:func:`train` runs the paper's noisy SGD on the one-hidden-layer network
:class:`poc.drifts.MeanFieldNetwork`,

    theta_i <- theta_i - step * g_i(Theta; batch) + sigma * step^(1/alpha) * X_i,

(``g_i`` the n-rescaled minibatch gradient of the squared loss, ``X_i``
alpha-stable noise of kind "iid", "isotropic" or "neuron"), and records train
and test losses (and accuracies for classification) along the way. Plain SGD
is ``alpha=None`` (no injected noise; the minibatches still make it
stochastic).

Two tasks:

* regression -- float targets ``y`` of shape (m,) or (m, c);
* classification -- integer labels ``y`` of shape (m,): the network is
  trained with the squared loss on one-hot targets (c = number of classes,
  fixed random-sign second layer) and predicts the argmax of its c outputs.

Example
-------
>>> from poc.data import teacher_student
>>> from poc.training import train
>>> X, X_test, y, y_test = teacher_student(200, 5, seed=0, n_test=100)
>>> res = train(X, y, 64, alpha=1.8, sigma=0.01, step=1.0, n_steps=200,
...             batch_size=32, X_test=X_test, y_test=y_test, seed=0, progress=False)
>>> bool(res.train_loss[-1] < res.train_loss[0])
True
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from ._fastloop import CompiledStepper, Shifted
from ._inputs import check_progress
from ._threads import serial_blas
from ._validation import (
    ParameterTypeError,
    as_generator,
    check_array,
    check_choice,
    check_int,
    check_labels,
    check_real,
)
from .drifts import ACTIVATIONS, MeanFieldNetwork
from .engine import (
    NonFiniteStateError,
    batch_source,
    euler,
    increment_source,
    progress_bar,
)
from .noise import NOISE_KINDS

__all__ = ["TrainResult", "train"]


@dataclass(frozen=True, eq=False)
class TrainResult:
    """Result of :func:`train`.

    Attributes
    ----------
    weights : numpy.ndarray, shape (n, d)
        Hidden-layer weights after the last step, one unit per row.
    steps : numpy.ndarray of int, shape (r,)
        Step indices at which the curves were recorded (0, record_every, ...,
        n_steps).
    train_loss, test_loss : numpy.ndarray, shape (r,)
        Squared loss ``(1/m) sum_k 1/2 |f(x_k) - y_k|^2`` (one-hot targets for
        classification) on the training and test sets; ``test_loss`` is None
        without a test set.
    train_accuracy, test_accuracy : numpy.ndarray, shape (r,), or None
        Fraction of correctly classified points (classification only).
    network : poc.drifts.MeanFieldNetwork
        The network (the drift that was simulated): data, targets, activation
        and the fixed second layer.
    n_classes : int or None
        Number of classes, or None for regression.
    elapsed_s : float
        Wall-clock time of the training loop, including the recordings.
    """

    weights: np.ndarray
    steps: np.ndarray
    train_loss: np.ndarray
    test_loss: np.ndarray | None
    train_accuracy: np.ndarray | None
    test_accuracy: np.ndarray | None
    network: MeanFieldNetwork
    n_classes: int | None
    elapsed_s: float

    @property
    def is_classifier(self) -> bool:
        """True if the network was trained on class labels."""
        return self.n_classes is not None

    def _theta(self, weights):
        return self.weights if weights is None else weights

    def predict(self, X, weights=None) -> np.ndarray:
        """Network outputs, or predicted labels for a classifier.

        Parameters
        ----------
        X : array_like, shape (p, d)
            Inputs.
        weights : array_like, shape (n, d), optional
            Hidden-layer weights to use instead of the trained ones (e.g. a
            pruned copy from :func:`poc.compress.best_k_approximation`).

        Returns
        -------
        numpy.ndarray
            Labels (p,) of int for a classifier, else outputs (p,) or (p, c).
        """
        f = self.network.predict(self._theta(weights), X)
        return np.argmax(f, axis=1) if self.is_classifier else f

    def accuracy(self, X, y, weights=None) -> float:
        """Fraction of points of (X, y) the classifier labels correctly.

        Parameters
        ----------
        X : array_like, shape (p, d)
        y : array_like of int, shape (p,)
            True labels.
        weights : array_like, shape (n, d), optional
            As in :meth:`predict`.

        Returns
        -------
        float

        Raises
        ------
        ValueError
            For a regression network, or if X and y do not match.
        """
        if not self.is_classifier:
            raise ValueError("accuracy is defined for classifiers only (y were not labels)")
        X = check_array(X, "X", ndim=2)
        labels = check_labels(y, "y", X.shape[0])
        return float(np.mean(self.predict(X, weights) == labels))

    def loss(self, X, y, weights=None) -> float:
        """Squared loss ``(1/p) sum_k 1/2 |f(x_k) - y_k|^2`` on (X, y).

        Parameters
        ----------
        X : array_like, shape (p, d)
        y : array_like
            Labels (p,) for a classifier (one-hot encoded here), else targets
            of the training targets' shape.
        weights : array_like, shape (n, d), optional
            As in :meth:`predict`.

        Returns
        -------
        float
        """
        X = check_array(X, "X", ndim=2)
        Y = _targets(y, "y", X.shape[0], self.n_classes, self.network.y.ndim)
        f = self.network.predict(self._theta(weights), X)
        return _squared_loss(f.reshape(Y.shape), Y)


# ---------------------------------------------------------------------------
# helpers


def _is_labels(y) -> bool:
    return np.issubdtype(np.asarray(y).dtype, np.integer)


def _targets(y, name: str, m: int, n_classes: int | None, ndim: int) -> np.ndarray:
    """(m, c) float64 targets: one-hot rows for labels, the targets themselves otherwise."""
    if n_classes is not None:
        labels = check_labels(y, name, m, n_classes=n_classes)
        Y = np.zeros((m, n_classes))
        Y[np.arange(m), labels] = 1.0
        return Y
    Y = check_array(y, name, ndim=(1, 2))
    if Y.shape[0] != m:
        raise ValueError(f"{name} must have one entry (row) per row of X: X has {m} rows, "
                         f"got {name} of shape {Y.shape}")
    if Y.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D like the training targets, got shape {Y.shape}")
    return Y.reshape(m, -1)


def _squared_loss(f: np.ndarray, Y: np.ndarray) -> float:
    with np.errstate(over="ignore"):  # an overflowing loss is reported as inf
        r = f - Y
        return 0.5 * float(np.einsum("kc,kc->", r, r)) / Y.shape[0]


# ---------------------------------------------------------------------------
# public API


def train(
    X,
    y,
    n_hidden: int,
    *,
    alpha: float | None = None,
    sigma: float = 0.0,
    step: float = 1.0,
    n_steps: int = 1000,
    batch_size: int | None = 64,
    noise: str = "iid",
    activation: str = "tanh",
    init_scale: float | None = None,
    X_test=None,
    y_test=None,
    record_every: int | None = None,
    seed=None,
    progress: bool | None = None,
) -> TrainResult:
    r"""Train the one-hidden-layer mean-field network with (noisy) minibatch SGD.

    The network is ``f(x) = (1/n) sum_i w_i phi(<theta_i, x>)`` with a fixed
    second layer ``w_i`` (:class:`poc.drifts.MeanFieldNetwork`). Each step
    draws a minibatch without replacement, takes a gradient step on the
    n-rescaled squared loss and adds heavy-tailed noise:

    ``theta_i <- theta_i - step * g_i + sigma * step^(1/alpha) * X_i``.

    This is :func:`poc.simulate` with ``batch_size``; the weights after the
    last step are bit-identical to
    ``simulate(network, theta0, ..., seed=<the simulation stream>).final``.

    Parameters
    ----------
    X : array_like, shape (m, d)
        Training inputs (finite).
    y : array_like
        Training targets: integer labels of shape (m,) for classification
        (squared loss on one-hot targets, ``c = max label + 1`` outputs with
        random-sign second layer), or floats of shape (m,) or (m, c) for
        regression (``w_i = 1`` when y is 1-D).
    n_hidden : int
        Number of hidden units ``n >= 1``.
    alpha : float or None, optional
        Stability index of the injected noise, in (0, 2]; None (default)
        means plain SGD (no injected noise).
    sigma : float, optional
        Noise scale, ``>= 0``; must be 0 when alpha is None.
    step : float, optional
        Step size ``> 0``. In the mean-field scaling the per-unit gradient is
        O(1), so useful steps are O(1) (default 1.0).
    n_steps : int, optional
        Number of SGD steps, ``>= 1``.
    batch_size : int or None, optional
        Minibatch size in ``[1, m]`` (default 64); None for full-batch
        gradient descent.
    noise : {"iid", "isotropic", "neuron"}, optional
        Noise kind (see :func:`poc.sample_noise`).
    activation : {"tanh", "sigmoid", "relu"}, optional
        Activation ``phi``.
    init_scale : float or None, optional
        Initial weights are i.i.d. ``N(0, init_scale^2)``. Default:
        ``1 / rms_k ||x_k||``, which makes the initial pre-activations
        ``<theta_i, x_k>`` of unit variance (about 0.26 for the digits with a
        bias column, 1 for :func:`poc.data.teacher_student`).
    X_test, y_test : array_like, optional
        Test set (both or neither), of the same kind as (X, y).
    record_every : int, optional
        Record losses (and accuracies) every this many steps, and at the last
        step. Default ``max(1, n_steps // 50)``. Each record costs one forward
        pass over the training and test sets.
    seed : None, int or numpy.random.Generator, optional
        Randomness. Three independent streams are spawned from it: the
        initial weights, the second layer (classification or multi-output),
        and the simulation (noise, then minibatches, as in
        :func:`poc.simulate`).
    progress : bool or None, optional
        tqdm progress bar: True, False, or None (only on a terminal, once the
        run has lasted 5 s).

    Returns
    -------
    TrainResult
        Final weights, curves at the recorded steps, the network (with
        ``predict``, ``accuracy`` and ``loss`` for any weights, e.g. pruned
        ones).

    Raises
    ------
    ValueError
        If X and y (or X_test and y_test) have different numbers of rows, a
        test set does not match the training set's dimension or kind,
        batch_size exceeds the number of training points, sigma > 0 without
        alpha, or a parameter is out of range.
    TypeError
        If an argument has the wrong type.
    poc.particles.NonFiniteStateError
        (a ValueError) naming the first training step at which the weights
        became non-finite.

    References
    ----------
    Wan, Barsbey, Zaidi, Simsekli (2024), "Implicit Compressibility of
    Overparametrized Neural Networks Trained with Heavy-Tailed SGD",
    arXiv 2306.08125, Section 3 (noisy SGD on the mean-field network).
    """
    a = _check_train_inputs(X, y, n_hidden, alpha, sigma, step, n_steps, batch_size, noise,
                            activation, init_scale, X_test, y_test, record_every, progress)
    g_init, g_out, g_sim = as_generator(seed).spawn(3)
    network, theta = _initial_network(a, g_init, g_out)
    record = np.arange(0, a.n_steps + 1, a.record_every, dtype=np.int64)
    if record[-1] != a.n_steps:
        record = np.append(record, np.int64(a.n_steps))
    theta, curves, elapsed = _run_training(a, network, theta, g_sim, record)
    return TrainResult(weights=theta, steps=record, network=network, n_classes=a.n_classes,
                       elapsed_s=elapsed, **curves)


# ---------------------------------------------------------------------------
# the steps of train: checks, initial network, measurement, run loop


@dataclass(frozen=True, eq=False)
class _TrainInputs:
    """The validated arguments of :func:`train` (same names and meanings)."""

    X: np.ndarray
    Y: np.ndarray  # (m, c) float targets, one-hot rows for labels
    y_ndim: int
    labels: np.ndarray | None  # training labels (classification only)
    n_classes: int | None
    X_test: np.ndarray | None
    Y_test: np.ndarray | None
    test_labels: np.ndarray | None
    n_hidden: int
    alpha: float | None
    sigma: float
    step: float
    n_steps: int
    batch_size: int | None
    noise: str
    activation: str
    init_scale: float | None
    record_every: int
    progress: bool | None


def _check_train_inputs(X, y, n_hidden, alpha, sigma, step, n_steps, batch_size, noise,
                        activation, init_scale, X_test, y_test, record_every,
                        progress) -> _TrainInputs:
    """Validate the arguments of :func:`train`, in the order of its signature, and raise as it documents."""
    X = check_array(X, "X", ndim=2)
    m, d = X.shape
    classify = _is_labels(y)
    n_classes = labels = None
    if classify:
        labels = check_labels(y, "y", m)
        n_classes = int(labels.max()) + 1
    else:
        Y = _targets(y, "y", m, None, np.ndim(y))
    n_hidden = check_int(n_hidden, "n_hidden", low=1)
    if alpha is None:
        sigma = check_real(sigma, "sigma", low=0.0)
        if sigma != 0.0:
            raise ValueError(f"sigma must be 0 when alpha is None (plain SGD), got {sigma!r}; "
                             "give alpha in (0, 2] for noisy SGD")
    else:
        alpha = check_real(alpha, "alpha", low=0.0, high=2.0, low_open=True)
        sigma = check_real(sigma, "sigma", low=0.0)
    step = check_real(step, "step", low=0.0, low_open=True)
    n_steps = check_int(n_steps, "n_steps", low=1)
    if batch_size is not None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer):
            raise ParameterTypeError(f"batch_size must be an integer in [1, {m}] or None, got "
                                     f"{batch_size!r} of type {type(batch_size).__name__}")
        if not 1 <= batch_size <= m:
            raise ValueError(f"batch_size must be in [1, {m}] (the number of training points), "
                             f"got {batch_size}")
        batch_size = int(batch_size)
    noise = check_choice(noise, "noise", NOISE_KINDS)
    activation = check_choice(activation, "activation", ACTIVATIONS)
    if init_scale is not None:
        init_scale = check_real(init_scale, "init_scale", low=0.0, low_open=True)
    if record_every is None:
        record_every = max(1, n_steps // 50)
    record_every = check_int(record_every, "record_every", low=1)
    progress = check_progress(progress)

    if (X_test is None) != (y_test is None):
        raise ValueError("X_test and y_test must be given together (or neither)")
    Y_test = test_labels = None
    if X_test is not None:
        X_test = check_array(X_test, "X_test", ndim=2)
        if X_test.shape[1] != d:
            raise ValueError(f"X_test must have d = {d} columns like X, got shape {X_test.shape}")
        if _is_labels(y_test) != classify:
            kind = "integer labels" if classify else "float targets"
            raise ValueError(f"y_test must be {kind} like y, got dtype {np.asarray(y_test).dtype}")
        if classify:
            test_labels = check_labels(y_test, "y_test", X_test.shape[0])
            n_classes = max(n_classes, int(test_labels.max()) + 1)
        Y_test = _targets(y_test, "y_test", X_test.shape[0], n_classes, np.ndim(y))
    if classify:
        Y = _targets(labels, "y", m, n_classes, 1)
    return _TrainInputs(X, Y, np.ndim(y), labels, n_classes, X_test, Y_test, test_labels,
                        n_hidden, alpha, sigma, step, n_steps, batch_size, noise, activation,
                        init_scale, record_every, progress)


def _initial_network(a: _TrainInputs, g_init, g_out) -> tuple[MeanFieldNetwork, np.ndarray]:
    """The network (second layer from ``g_out``) and the initial weights (from ``g_init``)."""
    # a 1-D regression target keeps the paper's scalar network (w_i = 1)
    y_net = a.Y[:, 0] if (a.labels is None and a.y_ndim == 1) else a.Y
    network = MeanFieldNetwork(a.X, y_net, a.activation, output_seed=int(g_out.integers(2**31)))
    init_scale = a.init_scale
    if init_scale is None:
        rms = math.sqrt(float(np.mean(np.einsum("kj,kj->k", a.X, a.X))))
        init_scale = 1.0 / rms if rms > 0.0 else 1.0
    theta = g_init.standard_normal((a.n_hidden, a.X.shape[1])) * init_scale
    return network, theta


def _measure(network: MeanFieldNetwork, theta: np.ndarray, a: _TrainInputs, curves: dict,
             r: int) -> None:
    """Write the losses (and accuracies) of the weights ``theta`` into ``curves[...][r]``."""
    f = network.predict(theta)
    f = f.reshape(a.X.shape[0], -1)
    curves["train_loss"][r] = _squared_loss(f, a.Y)
    if a.labels is not None:
        curves["train_accuracy"][r] = np.mean(np.argmax(f, axis=1) == a.labels)
    if a.X_test is not None:
        ft = network.predict(theta, a.X_test).reshape(a.X_test.shape[0], -1)
        curves["test_loss"][r] = _squared_loss(ft, a.Y_test)
        if a.labels is not None:
            curves["test_accuracy"][r] = np.mean(np.argmax(ft, axis=1) == a.test_labels)


def _run_training(a: _TrainInputs, network: MeanFieldNetwork, theta: np.ndarray, g_sim,
                  record: np.ndarray) -> tuple[np.ndarray, dict, float]:
    """Run the SGD steps chunk by chunk between the recorded steps.

    Returns the final weights, the curves as :class:`TrainResult` fields (None
    where not recorded) and the wall-clock time of the loop with its recordings.
    """
    m, d = a.X.shape
    # the streams of poc.simulate(seed=g_sim): noise from g_sim, one draw per step,
    # minibatches from a child stream; drawn in order across chunks, so the result
    # does not depend on record_every
    increments = increment_source(g_sim, 2.0 if a.alpha is None else a.alpha, a.sigma, a.step,
                                  a.n_hidden, d, a.noise, a.n_steps)
    batches = batch_source(g_sim, m, a.batch_size, a.n_hidden, d, a.n_steps)
    curves = {key: np.empty(record.size) for key in
              ("train_loss", "test_loss", "train_accuracy", "test_accuracy")}
    t0 = time.perf_counter()
    bar = progress_bar(a.progress, a.n_steps, "train")
    work = (m if a.batch_size is None else a.batch_size) * a.n_hidden * d
    try:
        with serial_blas(work):
            _measure(network, theta, a, curves, 0)
            for r in range(1, record.size):
                start, stop = int(record[r - 1]), int(record[r])
                try:
                    theta = euler(network, theta, a.step, stop - start, a.sigma,
                                  _shifted(increments, start), batch_size=a.batch_size,
                                  batches=_shifted(batches, start), progress=False,
                                  label="training", stepper=CompiledStepper(a.batch_size)).final
                except NonFiniteStateError as exc:
                    k = start + exc.step_index
                    raise NonFiniteStateError(
                        f"training became non-finite at step {k} (of {a.n_steps}); the step "
                        f"{a.step:g} or the noise scale {a.sigma:g} may be too large",
                        k, k * a.step) from None
                _measure(network, theta, a, curves, r)
                if bar is not None:
                    bar.update(stop - start)
    finally:
        if bar is not None:
            bar.close()
    elapsed = time.perf_counter() - t0
    classify, test = a.labels is not None, a.X_test is not None
    kept = {"train_loss": True, "test_loss": test, "train_accuracy": classify,
            "test_accuracy": classify and test}
    return theta, {key: v if kept[key] else None for key, v in curves.items()}, elapsed


def _shifted(source, offset: int):
    """source(k + offset): the chunk's local step k is global step k + offset."""
    if source is None:
        return None
    return Shifted(source, offset)  # keeps the block access of the compiled loop
