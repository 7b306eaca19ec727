"""Tests for poc.experiments.train_fcn: the authors' protocol, step by step."""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from poc.experiments import TrainingWarning, _noise_step, train_fcn


def _data(m=60, d=12, c=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, d))
    y = np.arange(m) % c  # every class present
    return X, y


def _numpy_step(X, y, W1, W2, lr):
    """One full-batch SGD step on the mean cross-entropy, written out in NumPy."""
    m = X.shape[0]
    Z = X @ W1.T
    H = np.maximum(Z, 0.0)
    O = H @ W2.T
    P = np.exp(O - O.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    Y = np.eye(W2.shape[0])[y]
    G = (P - Y) / m  # d(mean CE)/dO
    gW2 = G.T @ H
    gW1 = ((G @ W2) * (Z > 0)).T @ X
    return W1 - lr * gW1, W2 - lr * gW2


def test_one_step_equals_plain_numpy():
    X, y = _data()
    rng = np.random.default_rng(1)
    W1, W2 = rng.uniform(-0.5, 0.5, (7, 12)), rng.uniform(-0.5, 0.5, (4, 7))
    with pytest.warns(TrainingWarning):
        r = train_fcn(X, y, width=7, lr=0.3, batch_size=len(X), init=(W1, W2), max_steps=1,
                      target_train_accuracy=1.0, dtype="float64")
    e1, e2 = _numpy_step(X, y, W1, W2, 0.3)
    assert r.steps == 1 and not r.reached_target
    for got, want, w0 in ((r.W1, e1, W1), (r.W2, e2, W2)):
        assert np.abs(got - w0).max() > 1e-3  # the step moved the weights
        assert np.linalg.norm(got - want) <= 1e-6 * np.linalg.norm(want)


def test_stops_at_target_and_records_history():
    X, y = _data(m=80, d=10, c=2)
    r = train_fcn(X, y, width=32, lr=0.5, batch_size=20, eval_every=5, X_test=X[:10],
                  y_test=y[:10], seed=3)
    assert r.reached_target and r.history["train_accuracy"][-1] >= 0.95
    assert r.steps == r.history["iteration"][-1] + 1 and r.history["iteration"][-1] % 5 == 0
    assert np.all(r.history["train_accuracy"][:-1] < 0.95)  # it stopped at the first hit
    assert set(r.history) == {"iteration", "train_loss", "train_accuracy", "test_loss",
                              "test_accuracy"}
    assert r.accuracy(X, y) == r.history["train_accuracy"][-1]
    assert np.array_equal(r.predict(X[:10]) == y[:10], r.predict(X[:10]) == y[:10])
    assert r.loss(X, y) == pytest.approx(r.history["train_loss"][-1], rel=1e-6)
    W = np.zeros_like(r.W1)
    assert r.accuracy(X, y, W) <= 0.5 + 1e-12  # all outputs 0: argmax picks class 0


def test_max_steps_without_target_is_reported():
    X, y = _data()
    with pytest.warns(TrainingWarning, match="max_steps=3"):
        r = train_fcn(X, y, width=4, lr=1e-6, batch_size=10, max_steps=3)
    assert r.steps == 3 and not r.reached_target
    assert list(r.history["iteration"]) == [0, 2]  # evaluated at the last step too


def test_full_batch_is_in_order_and_minibatches_use_the_seed():
    X, y = _data()
    init = (np.full((5, 12), 0.1), np.full((4, 5), 0.1))
    kw = dict(width=5, lr=0.1, init=init, max_steps=4, target_train_accuracy=1.0)
    with pytest.warns(TrainingWarning):
        a = train_fcn(X, y, batch_size=len(X), seed=1, **kw)
        b = train_fcn(X, y, batch_size=len(X), seed=2, **kw)
        c = train_fcn(X, y, batch_size=10, seed=1, **kw)
        d = train_fcn(X, y, batch_size=10, seed=2, **kw)
    assert np.array_equal(a.W1, b.W1)  # no shuffling at full batch
    assert not np.array_equal(c.W1, d.W1)


def test_noise_is_added_to_the_hidden_layer_only():
    X, y = _data()
    init = (np.full((5, 12), 0.1), np.full((4, 5), 0.1))
    kw = dict(width=5, lr=0.1, init=init, max_steps=3, batch_size=10, target_train_accuracy=1.0,
              seed=4, dtype="float64")
    with pytest.warns(TrainingWarning):
        plain = train_fcn(X, y, **kw)
        zero = train_fcn(X, y, noise_type=2, alpha=1.5, sigma=0.0, **kw)
        noisy = train_fcn(X, y, noise_type=2, alpha=1.5, sigma=0.1, **kw)
    assert np.array_equal(plain.W1, zero.W1)  # sigma = 0 is plain SGD; same minibatches
    assert not np.array_equal(plain.W1, noisy.W1)
    # the step at which training stops adds no noise (the authors test before adding it)
    with pytest.warns(TrainingWarning):
        p1 = train_fcn(X, y, **{**kw, "max_steps": 1})
        n1 = train_fcn(X, y, noise_type=2, alpha=1.5, sigma=0.1, **{**kw, "max_steps": 1})
    assert np.array_equal(p1.W2, n1.W2) and np.array_equal(p1.W1, n1.W1)


def test_type1_rows_are_constant_and_scaled():
    W = np.zeros((2000, 7))
    _noise_step(np.random.default_rng(0), 1, 1.5, W, 0.5)
    assert np.all(W == W[:, :1]) and np.unique(W[:, 0]).size == 2000
    # alpha = 2: the authors' standard normal scalar (variance 1, not our S_2(1) = N(0, 2))
    W = np.zeros((40_000, 2))
    _noise_step(np.random.default_rng(1), 1, 2.0, W, 1.0)
    assert abs(W[:, 0].var() - 1.0) < 5 * math.sqrt(2 / 40_000)  # 5 SE of a sample variance


@pytest.mark.parametrize("alpha", [1.5, 1.75])
def test_type3_rows_have_the_isotropic_characteristic_function(alpha):
    n = 100_000
    W = np.zeros((n, 3))
    _noise_step(np.random.default_rng(5), 3, alpha, W, 1.0)
    rng = np.random.default_rng(6)
    for r in (0.5, 1.0, 2.0):
        for _ in range(3):
            u = rng.standard_normal(3)
            u *= r / np.linalg.norm(u)
            c = np.cos(W @ u)
            # authors' convention: G ~ N(0, I), so E exp(i<u, X>) = exp(-|u|^alpha / 2^(alpha/2))
            exact = math.exp(-(r**alpha) / 2 ** (alpha / 2))
            assert abs(c.mean() - exact) < 5 * c.std() / math.sqrt(n)  # 5 SE: 9 comparisons


def test_type2_and_type3_reuse_the_toolkit_noise_kinds():
    from poc import sample_noise, sample_stable

    W = np.zeros((30, 20))
    _noise_step(np.random.default_rng(2), 2, 1.75, W, 0.5)
    want = 0.5 * sample_stable(1.75, 600, seed=np.random.default_rng(2)).reshape(30, 20)
    np.testing.assert_allclose(W, want, rtol=1e-15)
    W = np.zeros((30, 20))
    _noise_step(np.random.default_rng(3), 3, 1.75, W, 0.5)
    # the authors' type 3 is our isotropic kind with G ~ N(0, I) instead of N(0, 2 I)
    want = 0.5 * sample_noise(1.75, 30, 20, kind="isotropic", seed=np.random.default_rng(3))
    np.testing.assert_allclose(W, want / math.sqrt(2.0), rtol=1e-12)


# slow: trains the float32 network twice per thread count (about 30 s on 2 cores)
@pytest.mark.slow
def test_bit_identical_on_one_and_two_threads():
    X, y = _data(m=200, d=40, c=5)
    out = []
    for k in (1, 2):
        if k > numba.config.NUMBA_NUM_THREADS:
            pytest.skip("needs 2 Numba threads")
        numba.set_num_threads(k)
        try:
            with threadpool_limits(limits=k, user_api="blas"), pytest.warns(TrainingWarning):
                out.append([train_fcn(X, y, width=300, lr=0.05, batch_size=50, noise_type=t,
                                      alpha=1.6, sigma=0.05, seed=11, max_steps=6,
                                      target_train_accuracy=1.0).W1 for t in (1, 2, 3)])
        finally:
            numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    for a, b in zip(*out, strict=True):
        assert a.tobytes() == b.tobytes()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"width": 0}, r"width must be an integer in \[1, inf\), got 0"),
        ({"lr": 0.0}, r"lr must be in \(0, inf\), got 0"),
        ({"batch_size": 61}, r"batch_size must be an integer in \[1, 60\], got 61"),
        ({"noise_type": 4}, r"noise_type must be one of 0, 1, 2, 3, got 4"),
        ({"noise_type": 2}, r"alpha must be given"),
        ({"noise_type": 2, "alpha": 2.5}, r"alpha must be in \(0, 2\], got 2.5"),
        ({"noise_type": 1, "alpha": 0.0}, r"alpha must be in \(0, 2\], got 0"),
        ({"sigma": -0.1}, r"sigma must be in \[0, inf\), got -0.1"),
        ({"y": np.zeros(59, int)}, r"y must have one label per row of X: X has 60 rows"),
        ({"y": np.full(60, 0.5)}, r"y must hold whole numbers \(class labels\)"),
        ({"y": -np.ones(60)}, r"y must hold labels >= 0, got -1"),
        ({"target_train_accuracy": 0.0}, r"target_train_accuracy must be in \(0, 1\], got 0"),
        ({"target_train_accuracy": 1.5}, r"target_train_accuracy must be in \(0, 1\], got 1.5"),
        ({"init": (np.zeros((3, 12)), np.zeros((4, 3)))}, r"init must have shapes \(5, 12\)"),
        ({"dtype": "float16"}, r"dtype must be"),
    ],
)
def test_bad_inputs(kwargs, match):
    X, y = _data()
    args = {"width": 5, "lr": 0.1, "batch_size": 10, "y": y}
    args.update(kwargs)
    y = args.pop("y")
    with pytest.raises(ValueError, match=match):
        train_fcn(X, y, **args)
