"""poc.training.train: noisy SGD on the mean-field network, its curves and its errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from poc.data import teacher_student
from poc.drifts import MeanFieldNetwork
from poc.particles import NonFiniteStateError, simulate
from poc.training import TrainResult, train


@pytest.fixture(scope="module")
def regression():
    return teacher_student(300, 6, seed=3, n_test=400)


@pytest.fixture(scope="module")
def classes():
    """A small 3-class problem: Gaussian blobs in R^4 plus a bias column."""
    rng = np.random.default_rng(5)
    centres = rng.standard_normal((3, 4)) * 1.5
    labels = rng.integers(0, 3, 360)
    X = centres[labels] + 0.6 * rng.standard_normal((360, 4))
    X = np.hstack([X, np.ones((360, 1))])
    return X[:240], X[240:], labels[:240], labels[240:]


def _reference_outputs(theta, X, w):
    """Independent forward pass: (1/n) sum_i w_i tanh(<theta_i, x>), with NumPy."""
    return np.tanh(X @ theta.T) @ w / theta.shape[0]


def test_matches_simulate_bit_for_bit_whatever_record_every(classes):
    X, _, y, _ = classes
    kw = dict(alpha=1.5, sigma=0.05, step=0.5, n_steps=37, batch_size=16, noise="iid",
              init_scale=0.3)
    a = train(X, y, 20, **kw, record_every=5, seed=11, progress=False)
    b = train(X, y, 20, **kw, record_every=37, seed=11, progress=False)
    # the same streams by hand: init, second layer, then poc.simulate's noise and batches
    g_init, g_out, g_sim = np.random.default_rng(11).spawn(3)
    Y = np.eye(3)[y]
    net = MeanFieldNetwork(X, Y, "tanh", output_seed=int(g_out.integers(2**31)))
    theta0 = g_init.standard_normal((20, X.shape[1])) * 0.3
    ref = simulate(net, theta0, alpha=1.5, sigma=0.05, step=0.5, n_steps=37, batch_size=16,
                   noise="iid", seed=g_sim, progress=False).final
    np.testing.assert_array_equal(a.weights, ref)
    np.testing.assert_array_equal(b.weights, ref)
    np.testing.assert_array_equal(a.steps, [0, 5, 10, 15, 20, 25, 30, 35, 37])
    np.testing.assert_array_equal(b.steps, [0, 37])
    assert a.train_loss[-1] == b.train_loss[-1]


def test_plain_sgd_is_sigma_zero_and_draws_no_noise(classes):
    X, _, y, _ = classes
    kw = dict(step=0.5, n_steps=30, batch_size=16, seed=2, progress=False)
    plain = train(X, y, 16, **kw)
    zero = train(X, y, 16, alpha=1.2, sigma=0.0, **kw)
    noisy = train(X, y, 16, alpha=1.2, sigma=0.01, **kw)
    np.testing.assert_array_equal(plain.weights, zero.weights)
    assert not np.array_equal(plain.weights, noisy.weights)


def test_curves_agree_with_an_independent_forward_pass(classes):
    X, Xt, y, yt = classes
    res = train(X, y, 32, alpha=1.8, sigma=0.02, step=1.0, n_steps=40, batch_size=32,
                X_test=Xt, y_test=yt, record_every=10, seed=4, progress=False)
    assert isinstance(res, TrainResult) and res.is_classifier and res.n_classes == 3
    w = res.network.second_layer(32)
    f_train = _reference_outputs(res.weights, X, w)
    f_test = _reference_outputs(res.weights, Xt, w)
    Y, Yt = np.eye(3)[y], np.eye(3)[yt]
    np.testing.assert_allclose(res.train_loss[-1], 0.5 * np.sum((f_train - Y) ** 2) / len(y),
                               rtol=1e-12)
    np.testing.assert_allclose(res.test_loss[-1], 0.5 * np.sum((f_test - Yt) ** 2) / len(yt),
                               rtol=1e-12)
    assert res.train_accuracy[-1] == np.mean(f_train.argmax(1) == y)
    assert res.test_accuracy[-1] == np.mean(f_test.argmax(1) == yt)
    assert res.test_accuracy[-1] == res.accuracy(Xt, yt)
    assert res.test_loss[-1] == pytest.approx(res.loss(Xt, yt), rel=1e-12)
    np.testing.assert_array_equal(res.predict(Xt), f_test.argmax(1))
    # a pruned copy is evaluated with the same second layer
    pruned = res.weights.copy()
    pruned[:16] = 0.0
    f_pruned = _reference_outputs(pruned, Xt, w)
    assert res.accuracy(Xt, yt, pruned) == np.mean(f_pruned.argmax(1) == yt)
    for curve in (res.train_loss, res.test_loss, res.train_accuracy, res.test_accuracy):
        assert curve.shape == (5,) and np.all(np.isfinite(curve))


def test_classification_learns_separable_blobs(classes):
    X, Xt, y, yt = classes
    res = train(X, y, 64, step=1.0, n_steps=300, batch_size=32, X_test=Xt, y_test=yt,
                seed=0, progress=False)
    # chance is 1/3; well-separated blobs (centre distance ~2.1 sd) are ~90% separable
    assert res.test_accuracy[0] < 0.6
    assert res.test_accuracy[-1] > 0.8
    assert res.train_loss[-1] < 0.5 * res.train_loss[0]


def test_teacher_student_regression_reaches_the_noise_floor(regression):
    X, Xt, y, yt = regression
    res = train(X, y, 128, alpha=1.8, sigma=0.01, step=1.0, n_steps=1500, batch_size=50,
                X_test=Xt, y_test=yt, seed=1, progress=False)
    assert res.train_accuracy is None and res.test_accuracy is None and not res.is_classifier
    assert res.predict(Xt).shape == (len(yt),)
    floor = 0.5 * 0.1**2  # label noise sd 0.1: the best achievable test loss
    signal = 0.5 * np.var(yt)  # loss of the best constant predictor
    # the student can realise the teacher: it must explain most of the signal
    assert res.test_loss[-1] < floor + 0.25 * (signal - floor)
    assert res.test_loss[-1] < 0.3 * res.test_loss[0]


def test_multi_output_regression(regression):
    X, Xt, y, yt = regression
    Y = np.column_stack([y, -y])
    res = train(X, Y, 32, step=0.5, n_steps=20, X_test=Xt, y_test=np.column_stack([yt, -yt]),
                seed=0, progress=False)
    assert res.predict(Xt).shape == (len(yt), 2)
    assert res.network.second_layer(32).shape == (32, 2)


def test_default_init_scale_gives_unit_preactivations(regression):
    X, _, y, _ = regression
    res = train(X * 4.0, y, 4000, n_steps=1, step=1e-12, seed=0, progress=False)
    h = X * 4.0 @ res.weights.T
    # rms ||x|| = 4 here; the default scale 1/4 makes <theta, x> ~ N(0, 1): 1.2M values
    assert np.std(h) == pytest.approx(1.0, rel=0.05)


def test_progress_bar_shows(classes, capsys):
    X, _, y, _ = classes
    train(X, y, 8, n_steps=5, batch_size=8, seed=0, progress=True)
    assert "train" in capsys.readouterr().err


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_non_finite_names_the_global_step():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 3))
    y = rng.standard_normal(50)
    # sigma * (a rare alpha = 0.5 stable draw) overflows float64 at some step k > 50; the
    # event has probability ~0.2 per run, and seed 1 is one where it happens (step 134 with
    # the counter-based noise stream; 7 of the seeds 0..39 overflow in 300 steps)
    kw = dict(alpha=0.5, sigma=1e300, n_steps=300, batch_size=None, seed=1, progress=False)
    with pytest.raises(NonFiniteStateError, match="training became non-finite at step") as e1:
        train(X, y, 4, record_every=1, **kw)
    with pytest.raises(NonFiniteStateError) as e2:
        train(X, y, 4, record_every=50, **kw)
    # chunked recording must report the global step, not the step within a chunk
    assert e1.value.step_index == e2.value.step_index > 50
    assert f"step {e1.value.step_index} (of 300)" in str(e2.value)
    assert e1.value.time == e1.value.step_index * 1.0


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"y": np.zeros(9, dtype=int)}, "one label per row of X: X has 10 rows"),
        ({"y": np.zeros(11)}, "one entry (row) per row of X: X has 10 rows"),
        ({"batch_size": 11}, "batch_size must be in [1, 10] (the number of training points), got 11"),
        ({"batch_size": 0}, "batch_size must be in [1, 10]"),
        ({"batch_size": 2.5}, "batch_size must be an integer"),
        ({"sigma": 0.1}, "sigma must be 0 when alpha is None"),
        ({"alpha": 2.3, "sigma": 0.1}, "alpha must be in (0, 2], got 2.3"),
        ({"alpha": 1.5, "sigma": -1.0}, "sigma must be in [0, inf)"),
        ({"n_hidden": 0}, "n_hidden must be"),
        ({"step": 0.0}, "step must be in (0, inf)"),
        ({"noise": "cauchy"}, "noise must be one of"),
        ({"activation": "elu"}, "activation must be one of"),
        ({"init_scale": 0.0}, "init_scale must be in (0, inf)"),
        ({"record_every": 0}, "record_every must be"),
        ({"X_test": np.zeros((4, 3))}, "X_test and y_test must be given together"),
        ({"X_test": np.zeros((4, 2)), "y_test": np.zeros(4, dtype=int)}, "X_test must have d = 3"),
        ({"X_test": np.zeros((4, 3)), "y_test": np.zeros(5, dtype=int)},
         "y_test must have one label per row of X: X has 4 rows"),
        ({"X_test": np.zeros((4, 3)), "y_test": np.zeros(4)}, "y_test must be integer labels"),
        ({"y": -np.ones(10, dtype=int)}, "y must hold labels >= 0, got -1"),
        ({"X": np.full((10, 3), np.nan)}, "X must be finite"),
        ({"progress": "yes"}, "progress must be True, False or None"),
    ],
)
def test_bad_input_is_a_clear_error(kwargs, needle):
    args = {"X": np.ones((10, 3)), "y": np.arange(10) % 2, "n_hidden": 4, "n_steps": 2,
            "batch_size": 5, "progress": False}
    args.update(kwargs)
    with pytest.raises(ValueError) as exc:
        train(**args)
    assert needle in str(exc.value)


def test_seed_reproduces_and_differs(classes):
    X, _, y, _ = classes
    kw = dict(alpha=1.7, sigma=0.02, n_steps=10, batch_size=8, progress=False)
    a = train(X, y, 8, seed=9, **kw)
    b = train(X, y, 8, seed=np.random.default_rng(9), **kw)
    c = train(X, y, 8, seed=10, **kw)
    np.testing.assert_array_equal(a.weights, b.weights)
    assert not np.array_equal(a.weights, c.weights)
    assert math.isfinite(a.elapsed_s) and a.elapsed_s >= 0.0
