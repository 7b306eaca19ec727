"""McKean-Vlasov references: reference paths, nonlinear copies and coupled runs."""

import math

import _kuramoto as kur
import numpy as np
import pytest
from numba import njit

from poc.drifts import (
    DoubleWell,
    FeatureDrift,
    LinearMeanField,
    MeanFieldNetwork,
    NumpyDrift,
    PairwiseDrift,
)
from poc.limits import (
    MAX_REFERENCE_BYTES,
    CoupledRun,
    ReferenceCloud,
    coupled_run,
    nonlinear_copies,
    reference_cloud,
)
from poc.particles import simulate


@njit
def resp(x, u, out):
    out[0] = -x[0] + 2.0 * u[0] * u[1]


@njit
def attract(x, y, out):
    for k in range(x.size):
        out[k] = 0.7 * (y[k] - x[k])


def kuramoto_numpy(x, cloud):
    return -x + np.sin(cloud[None, :, :] - x[:, None, :]).mean(axis=1)


def _network(m=30, d=3, c=1, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, d)) / math.sqrt(d)
    y = np.sin(2 * X[:, 0]) if c == 1 else np.eye(c)[rng.integers(0, c, m)]
    return MeanFieldNetwork(X, y, "tanh")


KW = dict(alpha=1.6, sigma=0.2, step=0.05, n_steps=40)


@pytest.mark.parametrize("make, d", [
    (lambda: _network(), 3),
    (lambda: _network(c=4), 3),
    (lambda: LinearMeanField(1.0, 0.8), 2),
    (lambda: FeatureDrift(kur.feat, resp, 2), 1),
    (lambda: PairwiseDrift(kur.conf, kur.inter), 1),
    (lambda: PairwiseDrift(kur.conf, attract), 2),
    (lambda: NumpyDrift(kuramoto_numpy), 1),
])
def test_copies_of_the_reference_cloud_are_the_cloud(make, d):
    """n = N, same x0 and seed: copies driven by the cloud's own path are the cloud."""
    drift = make()
    x0 = np.random.default_rng(1).standard_normal((257, d))
    ref = reference_cloud(drift, x0, seed=3, **KW)
    np.testing.assert_array_equal(nonlinear_copies(drift, x0, ref, seed=3).final,
                                  ref.trajectory.final)
    # the reference is an ordinary run, and its path is the cloud's mean features; simulate
    # runs a network on the compiled loop, whose sums over units round differently
    same = (np.testing.assert_allclose if isinstance(drift, MeanFieldNetwork)
            else np.testing.assert_array_equal)
    tol = {"rtol": 1e-12, "atol": 1e-14} if isinstance(drift, MeanFieldNetwork) else {}
    same(simulate(drift, x0, seed=3, **KW).final, ref.trajectory.final, **tol)
    if isinstance(drift, FeatureDrift):
        assert ref.clouds is None
        assert ref.features.shape == (KW["n_steps"] + 1, drift.feature_count(d))
        np.testing.assert_array_equal(ref.features[-1], drift.mean_features(ref.trajectory.final))
        np.testing.assert_array_equal(ref.features[0], drift.mean_features(x0))
    else:  # ... or the cloud itself at every step
        assert ref.features is None
        assert ref.clouds.shape == (KW["n_steps"] + 1, 257, d)
        np.testing.assert_array_equal(ref.clouds[0], x0)
        np.testing.assert_array_equal(ref.clouds[-1], ref.trajectory.final)
        rec = simulate(drift, x0, seed=3, record_every=1, **KW)
        np.testing.assert_array_equal(rec.states, ref.clouds)


@pytest.mark.parametrize("make", [lambda: PairwiseDrift(kur.conf, kur.inter),
                                  lambda: NumpyDrift(kuramoto_numpy)])
def test_coupled_run_of_pairwise_and_numpy_drifts(make):
    drift = make()
    ref = reference_cloud(drift, np.random.default_rng(2).standard_normal(1024), seed=0, **KW)
    x0 = np.random.default_rng(3).standard_normal((100, 1))
    run = coupled_run(drift, x0, ref, seed=9, record_every=10)
    np.testing.assert_array_equal(run.system.final, simulate(drift, x0, seed=9, **KW).final)
    np.testing.assert_array_equal(run.copies.final, nonlinear_copies(drift, x0, ref, seed=9).final)
    errs = run.coupling_errors()
    assert errs.shape == (5,) and errs[0] == 0.0
    assert 0.0 < run.coupling_error() < 1.0


def test_pairwise_copies_equal_their_feature_equivalent():
    """sin(y - x) = sin y cos x - cos y sin x: the same model as a feature drift
    (features (sin, cos), response -x + u_0 cos x - u_1 sin x), so both routes
    give the same copies up to rounding."""
    pair, feat_drift = PairwiseDrift(kur.conf, kur.inter), FeatureDrift(kur.feat, kur.resp, 2)
    xr = np.random.default_rng(4).standard_normal(2048)
    x0 = np.random.default_rng(5).standard_normal(200)
    runs = [coupled_run(b, x0, reference_cloud(b, xr, seed=1, **KW), seed=2)
            for b in (pair, feat_drift)]
    # 40 steps of a contracting drift: rounding differences (1e-16 per sum) stay tiny
    np.testing.assert_allclose(runs[0].copies.final, runs[1].copies.final, rtol=0, atol=1e-11)
    np.testing.assert_allclose(runs[0].system.final, runs[1].system.final, rtol=0, atol=1e-11)


def test_coupled_run_is_simulate_plus_copies():
    net = _network()
    ref = reference_cloud(net, np.random.default_rng(2).standard_normal((1024, 3)), seed=0, **KW)
    x0 = np.random.default_rng(3).standard_normal((100, 3))
    run = coupled_run(net, x0, ref, seed=9, record_every=10)
    assert isinstance(run, CoupledRun)
    # simulate runs the network on the compiled loop: equal up to the rounding of its sums
    np.testing.assert_allclose(run.system.final, simulate(net, x0, seed=9, **KW).final,
                               rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(run.copies.final, nonlinear_copies(net, x0, ref, seed=9).final)
    errs = run.coupling_errors()
    assert errs.shape == (5,) and errs[0] == 0.0
    want = np.mean(np.linalg.norm(run.system.final - run.copies.final, axis=1))
    assert run.coupling_error() == pytest.approx(want, rel=1e-15)
    assert errs[-1] == pytest.approx(want, rel=1e-15)
    assert 0.0 < want < 1.0


def test_linear_model_coupling_difference_is_deterministic():
    """Identity: x_i - xbar_i = D_k for all i, D_{k+1} = (1 - a h) D_k + c h (mean_k - u_k).

    The noise cancels in the difference, so it is common to all particles and
    follows the recursion driven by the gap between the system's empirical
    mean and the reference path.
    """
    a, c = 1.0, 0.8
    lin = LinearMeanField(a, c)
    ref = reference_cloud(lin, np.ones(4096), seed=0, **KW)
    x0 = np.random.default_rng(5).standard_normal(64) + 1.0
    run = coupled_run(lin, x0, ref, seed=1, record_every=1)
    diff = (run.system.states - run.copies.states)[:, :, 0]  # (k, i)
    np.testing.assert_allclose(diff, diff[:, :1] * np.ones((1, 64)), atol=1e-12)
    h, D = KW["step"], 0.0
    for k in range(KW["n_steps"]):
        D = (1 - a * h) * D + c * h * (run.system.features[k, 0] - ref.features[k, 0])
        assert diff[k + 1, 0] == pytest.approx(D, abs=1e-12)


def test_noiseless_linear_reference_path_is_the_exact_euler_mean():
    a, c, h = 1.0, 0.8, 0.05
    x0 = np.random.default_rng(6).standard_normal(500)
    ref = reference_cloud(LinearMeanField(a, c), x0, alpha=1.5, sigma=0.0, step=h, n_steps=40)
    want = x0.mean() * (1 + h * (c - a)) ** np.arange(41)
    np.testing.assert_allclose(ref.features[:, 0], want, rtol=1e-12)
    np.testing.assert_allclose(ref.times, h * np.arange(41))


def test_coupling_error_decreases_with_n():
    net = _network(m=40, d=3)
    kw = dict(alpha=1.7, sigma=0.3, step=0.1, n_steps=30)
    ref = reference_cloud(net, np.random.default_rng(7).standard_normal((8192, 3)), seed=1, **kw)
    mean_err = {}
    for n in (32, 512):
        errs = [coupled_run(net, np.random.default_rng(100 + r).standard_normal((n, 3)), ref,
                            seed=200 + r).coupling_error() for r in range(6)]
        mean_err[n] = np.mean(errs)
    # theory: n^(-1/2), a ratio of 4; 2 leaves room for replicate noise and the
    # reference cloud's own N^(-1/2) error (N = 8192)
    assert mean_err[32] / mean_err[512] > 2.0


def test_input_errors():
    net = _network()
    x0 = np.zeros((10, 3))
    ref = reference_cloud(net, np.random.default_rng(0).standard_normal((64, 3)), seed=0, **KW)
    with pytest.raises(TypeError, match=r"drift must be a poc.drifts drift .* got 3"):
        reference_cloud(3, x0, **KW)
    with pytest.raises(ValueError, match="the drift is a DoubleWell but the reference was made "
                                         "with a feature drift"):
        nonlinear_copies(DoubleWell(), x0, ref)
    pair_ref = reference_cloud(DoubleWell(), x0, **{**KW, "sigma": 0.0})
    with pytest.raises(ValueError, match=r"feature drift .* made with a pairwise or NumPy drift"):
        coupled_run(net, x0, pair_ref)
    # 8 N d (n_steps + 1) bytes over the budget: refused before anything is simulated
    N = MAX_REFERENCE_BYTES // (8 * 3 * 41) + 1
    big = np.broadcast_to(np.zeros(3), (N, 3))
    with pytest.raises(ValueError, match=r"8 N d \(n_steps \+ 1\) = 8 x \d+ x 3 x 41 bytes = "
                                         r"2.00 GiB, more than the 2 GiB allowed; use fewer"):
        reference_cloud(DoubleWell(), big, **KW)
    with pytest.raises(TypeError, match="reference must be a ReferenceCloud"):
        coupled_run(net, x0, ref.features)
    with pytest.raises(ValueError, match=r"x0 has d = 2 .* reference cloud has d = 3"):
        coupled_run(net, np.zeros((10, 2)), ref)
    with pytest.raises(ValueError, match="n_features = 50 but the reference path has 30"):
        nonlinear_copies(_network(m=50), x0, ref)
    with pytest.raises(ValueError, match=r"step must be in \(0, inf\)"):
        reference_cloud(net, x0, **{**KW, "step": 0})
    with pytest.raises(ValueError, match="record_every"):
        coupled_run(net, x0, ref, record_every=0)
    with pytest.raises(ValueError, match="coupling_errors needs a run with record_every"):
        coupled_run(net, x0, ref, seed=0).coupling_errors()
    assert isinstance(ref, ReferenceCloud) and ref.n_particles == 64 and ref.dim == 3
