"""Euler simulation: exact laws, NumPy re-implementations on the same noise,
the noisy SGD update, reproducibility across threads, recording and input checks."""

import hashlib
import math
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from _user_drifts import feat, resp
from numba import njit
from scipy import stats

import poc
from poc._fastloop import block_steps
from poc.drifts import DoubleWell, FeatureDrift, LinearMeanField, MeanFieldNetwork, PairwiseDrift
from poc.engine import euler as engine_euler
from poc.noise import fill_noise, noise_key
from poc.particles import NonFiniteStateError, simulate

# --- user drifts and their NumPy twins -----------------------------------------------


def feature_drift_np(x):
    u = np.stack([np.tanh(x[:, 0] - x[:, 1]), x[:, 0] ** 2], axis=1).mean(axis=0)
    return np.stack([-x[:, 0] + u[0], -0.5 * x[:, 1] + 0.1 * u[1] * np.sin(x[:, 0])], axis=1)


@njit
def conf(x, out):
    for k in range(x.size):
        out[k] = -x[k]


@njit
def inter(x, y, out):
    for k in range(x.size):
        out[k] = math.tanh(y[k] - x[k])


def pairwise_np(x):
    return -x + np.tanh(x[None, :, :] - x[:, None, :]).mean(axis=1)


def simulate_noise(rng, alpha, n, d, kind, scale, n_steps):
    """simulate's increments as documented: the steps 0 .. n_steps - 1 of the counter-based
    stream whose key is the run's first draw from rng."""
    key = noise_key(rng)
    return fill_noise(np.empty((n_steps, n, d)), alpha, kind, scale, key)


def simulate_batches(rng, m, b, n, d, n_steps):
    """simulate's minibatches as documented: a partial Fisher-Yates shuffle of a persistent
    permutation, b uniforms per step, drawn per block of steps."""
    perm = np.arange(m)
    length = block_steps(n, d)
    out = []
    for k0 in range(0, n_steps, length):
        for row in rng.random((min(length, n_steps - k0), b)):
            for t in range(b):
                j = t + int(row[t] * (m - t))
                perm[t], perm[j] = perm[j], perm[t]
            out.append(perm[:b].copy())
    return np.array(out)


def euler_np(drift_np, x0, alpha, sigma, step, n_steps, kind, seed):
    """The scheme written out on simulate's documented noise stream."""
    rng = np.random.default_rng(seed)
    incr = simulate_noise(rng, alpha, *x0.shape, kind, step ** (1 / alpha), n_steps)
    x = x0.copy()
    for k in range(n_steps):
        x = x + step * drift_np(x) + sigma * incr[k]
    return x


# --- laws and identities ----------------------------------------------------------------


def test_linear_model_law_matches_exact_marginal():
    lin = LinearMeanField(a=1.0, c=0.5)
    n, alpha, sigma, T, step = 20_000, 1.5, 0.5, 1.0, 0.01
    tr = simulate(lin, np.ones(n), alpha=alpha, sigma=sigma, step=step,
                  n_steps=round(T / step), seed=0)
    exact = lin.marginal(T, 1.0, alpha, sigma)
    sample = exact.rvs(n, random_state=np.random.default_rng(1))
    d_stat = stats.ks_2samp(tr.final[:, 0], sample).statistic
    # 1% critical value of the two-sample KS test with n1 = n2 = 20000 is 1.63 sqrt(2/n);
    # the Euler bias at step 0.01 is ~1% of the scale, a KS shift of ~0.003
    crit = 1.63 * math.sqrt(2 / n)
    assert d_stat < crit
    # the test has power: a 20% larger noise scale is rejected
    wrong = LinearMeanField(1.0, 0.5).marginal(T, 1.0, alpha, 1.2 * sigma)
    other = wrong.rvs(n, random_state=np.random.default_rng(2))
    assert stats.ks_2samp(tr.final[:, 0], other).statistic > crit


def test_noiseless_linear_model_is_the_euler_recurrence_and_converges_to_the_ode():
    a, c, T = 1.2, 0.7, 1.0
    x0 = np.linspace(-1.0, 2.0, 50)
    m0 = x0.mean()
    exact = m0 * math.exp((c - a) * T) + (x0 - m0) * math.exp(-a * T)
    errors = []
    for k_steps in (100, 200, 400):
        h = T / k_steps
        x = simulate(LinearMeanField(a, c), x0, alpha=1.5, sigma=0.0, step=h,
                     n_steps=k_steps).final[:, 0]
        # the scheme is linear: mean and deviations evolve by exact powers
        euler = m0 * (1 + h * (c - a)) ** k_steps + (x0 - m0) * (1 - h * a) ** k_steps
        np.testing.assert_allclose(x, euler, rtol=1e-12, atol=1e-13)
        errors.append(np.abs(x - exact).max())
    ratios = np.array(errors[:-1]) / np.array(errors[1:])
    # first order: halving the step halves the error (2 + O(h) for these smooth solutions)
    np.testing.assert_allclose(ratios, 2.0, atol=0.05)


@pytest.mark.parametrize("kind", ["iid", "isotropic", "neuron"])
def test_feature_drift_matches_numpy_on_same_noise(kind):
    x0 = np.random.default_rng(3).standard_normal((200, 2))
    kw = dict(alpha=1.6, sigma=0.3, step=0.02, n_steps=30)
    got = simulate(FeatureDrift(feat, resp, 2), x0, noise=kind, seed=11, **kw).final
    want = euler_np(feature_drift_np, x0, kw["alpha"], kw["sigma"], kw["step"], kw["n_steps"],
                    kind, 11)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_pairwise_drift_matches_numpy_on_same_noise():
    x0 = np.random.default_rng(4).standard_normal((150, 2))
    kw = dict(alpha=1.3, sigma=0.2, step=0.05, n_steps=20)
    got = simulate(PairwiseDrift(conf, inter), x0, seed=5, **kw).final
    want = euler_np(pairwise_np, x0, kw["alpha"], kw["sigma"], kw["step"], kw["n_steps"], "iid", 5)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def _data(m=40, d=4, c=1, seed=6):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, d)) / 2
    y = np.tanh(X[:, 0]) if c == 1 else np.eye(c)[rng.integers(0, c, m)]
    return X, y


@pytest.mark.parametrize("c", [1, 3])
def test_minibatch_sgd_is_the_papers_update(c):
    """theta <- theta - eta * grad_batch + sigma * eta^(1/alpha) * xi, written with NumPy."""
    X, y = _data(c=c)
    Y = y.reshape(len(y), -1)
    n, B, eta, sigma, alpha, steps = 90, 16, 0.3, 0.05, 1.7, 12
    net = MeanFieldNetwork(X, y, "tanh")
    w = net.second_layer(n)
    theta0 = np.random.default_rng(7).standard_normal((n, X.shape[1]))
    got = simulate(net, theta0, alpha=alpha, sigma=sigma, step=eta, n_steps=steps,
                   batch_size=B, seed=8).final
    rng = np.random.default_rng(8)
    batch_rng = rng.spawn(1)[0]  # the documented minibatch stream
    noise = simulate_noise(rng, alpha, n, X.shape[1], "iid", 1.0, steps)
    batches = simulate_batches(batch_rng, len(X), B, n, X.shape[1], steps)
    theta = theta0.copy()
    for k in range(steps):
        xi = noise[k]
        idx = batches[k]
        Xb, Yb = X[idx], Y[idx]
        t = np.tanh(Xb @ theta.T)
        r = t @ w / n - Yb
        grad = ((1 - t**2) * (r @ w.T)).T @ Xb / B  # n-rescaled gradient of the batch loss
        theta = theta - eta * grad
        theta = theta + sigma * eta ** (1 / alpha) * xi
    np.testing.assert_allclose(got, theta, rtol=1e-10, atol=1e-12)


def test_minibatch_of_all_data_equals_full_batch():
    X, y = _data(m=50)
    net = MeanFieldNetwork(X, y, "sigmoid")
    theta0 = np.random.default_rng(9).standard_normal((120, 4))
    kw = dict(alpha=1.5, sigma=0.1, step=0.5, n_steps=25, seed=10)
    full = simulate(net, theta0, **kw).final
    batched = simulate(net, theta0, batch_size=50, **kw).final
    # same noise, same data in permuted order: equal up to summation-order rounding
    np.testing.assert_allclose(batched, full, rtol=1e-11, atol=1e-13)


def test_training_reduces_the_loss():
    X, y = _data(m=60)
    net = MeanFieldNetwork(X, y)
    theta0 = np.random.default_rng(11).standard_normal((200, 4))
    tr = simulate(net, theta0, alpha=1.8, sigma=0.01, step=0.5, n_steps=200, seed=0,
                  record_every=100)
    losses = [net.loss(s) for s in tr.states]
    assert losses[-1] < 0.25 * losses[0]  # gradient descent on a realisable target
    np.testing.assert_allclose(tr.features[-1], net.predict(tr.final), rtol=1e-12)


# --- pre-drawn increments (the hook for common random numbers) ---------------------------


def test_engine_takes_caller_increments():
    lin = LinearMeanField(1.0, 0.3)
    x0 = np.random.default_rng(12).standard_normal((100, 1))
    alpha, step, k = 1.5, 0.01, 40
    public = simulate(lin, x0, alpha=alpha, sigma=0.4, step=step, n_steps=k, seed=3).final
    rng = np.random.default_rng(3)
    incr = simulate_noise(rng, alpha, 100, 1, "iid", step ** (1 / alpha), k)
    np.testing.assert_array_equal(engine_euler(lin, x0, step, k, 0.4, incr).final, public)
    np.testing.assert_array_equal(engine_euler(lin, x0, step, k, 0.4, lambda j: incr[j]).final, public)
    # nested grid: the coarse step's increment is the sum of the two fine ones it covers
    coarse = engine_euler(lin, x0, 2 * step, k // 2, 0.4, incr[0::2] + incr[1::2]).final
    # strong error of a Lipschitz drift with common noise: O(step) per unit time
    assert np.abs(coarse - public).mean() < 0.05 * np.abs(public - x0).mean()
    with pytest.raises(ValueError, match=r"increments must have shape \(n_steps, n, d\)"):
        engine_euler(lin, x0, step, k + 1, 0.4, incr)


def test_engine_strategies_segments_and_a_custom_recorder():
    """The engine cuts a run at the recorders' stops and hands each stepper segment whole (the
    hook for a stepper that takes many steps per call); a new recorder needs no new keyword."""
    from poc import engine

    lin = LinearMeanField(1.0, 0.3)
    x0 = np.random.default_rng(5).standard_normal((30, 2))
    kw = dict(alpha=1.5, sigma=0.4, step=0.02, n_steps=12, seed=9)
    public = simulate(lin, x0, record_every=5, **kw)

    class Means(engine.Recorder):  # the cloud's mean at every third step
        def start(self, s, n_steps):
            self.seen = {0: s.x.mean(axis=0)}

        def next_stop(self, k):
            return 3 * (k // 3 + 1)

        def keep_state(self, k, x):
            if k % 3 == 0:
                self.seen[k] = x.mean(axis=0)

    class Counting(engine.PythonStepper):
        def __init__(self):
            self.segments = []

        def advance(self, run, k0, k1):
            self.segments.append((k0, k1))
            super().advance(run, k0, k1)

    means, states = Means(), engine.RecordStates(engine.record_steps(12, 5))
    system = engine.System(lin, x0, label="system", recorders=[states, means])
    rng = np.random.default_rng(9)
    stepper = Counting()
    engine.run([system], 0.02, 12, 0.4, engine.increment_source(rng, 1.5, 0.4, 0.02, 30, 2, "iid", 12),
               stepper=stepper)
    assert stepper.segments == [(0, 3), (3, 5), (5, 6), (6, 9), (9, 10), (10, 12)]
    traj = system.trajectory(0.02, 12)
    np.testing.assert_array_equal(traj.states, public.states)
    np.testing.assert_array_equal(traj.features, public.features)
    assert sorted(means.seen) == [0, 3, 6, 9, 12]
    np.testing.assert_array_equal(means.seen[12], public.final.mean(axis=0))


# --- reproducibility ---------------------------------------------------------------------

_THREAD_SCRIPT = textwrap.dedent("""
    import hashlib, math, sys
    import numba, numpy as np
    from numba import njit
    import poc
    from poc.drifts import DoubleWell, FeatureDrift, LinearMeanField, MeanFieldNetwork
    from poc.limits import coupled_run, reference_cloud

    poc.engine._PARALLEL_MIN_WORK = 0  # run every kernel in parallel, however small,
    poc._fastloop._PARALLEL_MIN_WORK = 0  # the compiled loop's too
    # beside BLAS too: with the workqueue layer (import poc) the kernels run on all threads

    @njit
    def feat(x, out):
        out[0] = math.tanh(x[0])
        out[1] = x[0] * x[1]

    @njit
    def resp(x, u, out):
        out[0] = -x[0] + u[0]
        out[1] = -x[1] + u[1]

    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((700, 2))
    X = rng.standard_normal((30, 2))
    Y = np.eye(3)[rng.integers(0, 3, 30)]
    h = hashlib.sha256()
    kw = dict(alpha=1.5, sigma=0.3, step=0.05, n_steps=6, seed=1)
    for drift, extra in [(FeatureDrift(feat, resp, 2), {}), (DoubleWell(0.5), {}),
                         (LinearMeanField(1.0, 0.5), {"noise": "isotropic"}),
                         (MeanFieldNetwork(X, Y, "tanh"), {"batch_size": 10})]:
        h.update(poc.simulate(drift, x0, **kw, **extra).final.tobytes())
    net = MeanFieldNetwork(X, Y[:, 0], "sigmoid")
    ref = reference_cloud(net, x0, **kw)
    h.update(ref.features.tobytes())
    h.update(coupled_run(net, x0[:300], ref, seed=2).copies.final.tobytes())
    # the pairwise kernel against another cloud (k = 300 points, N = 700: partial
    # blocks and tiles), and pairwise copies driven by a stored reference
    dw = DoubleWell(0.5)
    h.update(dw.against(x0[:300] + 0.1, x0).tobytes())
    dref = reference_cloud(dw, x0, **kw)
    h.update(coupled_run(dw, x0[:300], dref, seed=2).copies.final.tobytes())
    print(numba.get_num_threads(), h.hexdigest())
""")


def test_seeds_reproduce_bit_identically_on_one_and_two_threads(tmp_path):
    script = tmp_path / "threads.py"
    script.write_text(_THREAD_SCRIPT)
    procs = []
    for threads in ("1", "2"):
        env = dict(os.environ, NUMBA_NUM_THREADS=threads)
        procs.append(subprocess.Popen([sys.executable, str(script)], env=env, text=True,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        outs.append(out.split())
    assert [o[0] for o in outs] == ["1", "2"]
    assert outs[0][1] == outs[1][1]


def test_same_seed_same_result_and_generator_threading():
    x0 = np.random.default_rng(13).standard_normal((80, 2))
    # a small step: the cubic confinement must not blow up on a large jump of the noise
    kw = dict(alpha=1.2, sigma=0.5, step=0.001, n_steps=10)
    a = simulate(DoubleWell(), x0, seed=4, **kw).final
    b = simulate(DoubleWell(), x0, seed=np.random.default_rng(4), **kw).final
    c = simulate(DoubleWell(), x0, seed=5, **kw).final
    assert hashlib.sha256(a.tobytes()).digest() == hashlib.sha256(b.tobytes()).digest()
    assert not np.array_equal(a, c)


# --- blow-up --------------------------------------------------------------------------


def test_non_finite_state_names_the_first_bad_step():
    lin = LinearMeanField(a=-50.0, c=0.0)  # x_{k+1} = 51 x_k: overflows deterministically
    x0 = np.array([1.0, -3.0, 0.5])
    with np.errstate(over="ignore"):
        x, k = x0.copy(), 0
        while np.all(np.isfinite(x)):
            x, k = x * 51.0, k + 1
    with pytest.raises(NonFiniteStateError, match=rf"non-finite at step {k} \(t = ") as info:
        simulate(lin, x0, alpha=1.5, sigma=0.0, step=1.0, n_steps=k + 10)
    assert info.value.step_index == k
    assert isinstance(info.value, FloatingPointError) and isinstance(info.value, ValueError)
    assert simulate(lin, x0, alpha=1.5, sigma=0.0, step=1.0, n_steps=k - 1).final.max() < np.inf


def test_non_finite_network_raises():
    X, y = _data()
    with pytest.raises(NonFiniteStateError, match="step 1 "):
        simulate(MeanFieldNetwork(X, y, "relu"), np.full((5, 4), 1e306), alpha=1.5, sigma=0.0,
                 step=1e10, n_steps=3)


# --- recording ---------------------------------------------------------------------------


def test_recording_times_states_and_features():
    lin = LinearMeanField(0.5, 0.5)
    x0 = np.random.default_rng(14).standard_normal(64)
    kw = dict(alpha=1.5, sigma=0.2, step=0.1, n_steps=10, seed=2)
    plain = simulate(lin, x0, **kw)
    assert plain.times is None and plain.states is None and plain.features is None
    assert plain.final.shape == (64, 1)
    tr = simulate(lin, x0, record_every=3, **kw)
    np.testing.assert_array_equal(tr.steps, [0, 3, 6, 9, 10])
    np.testing.assert_allclose(tr.times, [0.0, 0.3, 0.6, 0.9, 1.0])
    assert tr.states.shape == (5, 64, 1)
    np.testing.assert_array_equal(tr.states[0, :, 0], x0)
    np.testing.assert_array_equal(tr.states[-1], tr.final)
    np.testing.assert_array_equal(tr.final, plain.final)  # recording changes nothing
    for r in range(5):
        np.testing.assert_array_equal(tr.features[r], lin.mean_features(tr.states[r]))


def test_progress_bar(capsys):
    simulate(LinearMeanField(1.0, 0.0), np.zeros(4), alpha=1.5, sigma=1.0, step=0.1, n_steps=7,
             seed=0, progress=True)
    assert "7/7" in capsys.readouterr().err


# --- input checks ------------------------------------------------------------------------

GOOD = dict(alpha=1.5, sigma=0.1, step=0.1, n_steps=3)


@pytest.mark.parametrize("change, match", [
    ({"step": 0.0}, r"step must be in \(0, inf\), got 0.0"),
    ({"step": -1}, r"step must be in \(0, inf\), got -1"),
    ({"step": float("nan")}, "step must be finite"),
    ({"n_steps": 0}, r"n_steps must be an integer in \[1, inf\), got 0"),
    ({"n_steps": 2.5}, "n_steps must be an integer"),
    ({"sigma": -0.1}, r"sigma must be in \[0, inf\), got -0.1"),
    ({"alpha": 2.5}, r"alpha must be in \(0, 2\], got 2.5"),
    ({"alpha": 0}, r"alpha must be in \(0, 2\], got 0"),
    ({"noise": "gauss"}, "noise must be one of 'iid', 'isotropic', 'neuron', got 'gauss'"),
    ({"record_every": 0}, r"record_every must be an integer in \[1, inf\), got 0"),
    ({"seed": "abc"}, "seed must be None, a non-negative integer"),
    ({"progress": "yes"}, "progress must be True, False or None"),
    ({"batch_size": 4}, "batch_size is only supported for MeanFieldNetwork drifts, got "
                        "LinearMeanField"),
])
def test_bad_simulation_parameters(change, match):
    with pytest.raises(ValueError, match=match):
        simulate(LinearMeanField(1.0, 0.0), np.zeros(4), **{**GOOD, **change})


def test_bad_drift_and_x0():
    with pytest.raises(TypeError, match=r"drift must be a poc.drifts drift"):
        simulate(lambda x: -x, np.zeros(4), **GOOD)
    lin = LinearMeanField(1.0, 0.0)
    with pytest.raises(ValueError, match="x0 must be 1-D or 2-D"):
        simulate(lin, np.zeros((2, 2, 2)), **GOOD)
    with pytest.raises(ValueError, match="x0 must be finite"):
        simulate(lin, np.array([0.0, np.inf]), **GOOD)
    with pytest.raises(ValueError, match="x0 must have at least 1 element"):
        simulate(lin, np.zeros(0), **GOOD)
    X, y = _data(m=10, d=3)
    net = MeanFieldNetwork(X, y)
    with pytest.raises(ValueError, match=r"x0 has d = 2 coordinate.* needs d = 3"):
        simulate(net, np.zeros((5, 2)), **GOOD)
    with pytest.raises(ValueError, match=r"batch_size must be an integer in \[1, 10\], got 11"):
        simulate(net, np.zeros((5, 3)), batch_size=11, **GOOD)
    with pytest.raises(ValueError, match=r"output_weights has 6 rows .* n = 5 particles"):
        simulate(MeanFieldNetwork(X, y, output_weights=np.ones(6)), np.zeros((5, 3)), **GOOD)


def test_public_exports():
    assert poc.simulate is simulate
    assert poc.Trajectory is poc.particles.Trajectory


def test_a_run_is_the_start_of_any_longer_run():
    """Step k's noise depends on (seed, k) only: K steps are the first K of a longer run, and
    the block size (which grows with the number of steps it may hold) changes nothing."""
    drift = LinearMeanField(a=1.0, c=0.5)
    x0 = np.linspace(-1.0, 1.0, 16).reshape(-1, 1)
    kw = dict(alpha=1.5, sigma=0.3, step=0.01, seed=3, record_every=1, progress=False)
    short = simulate(drift, x0, n_steps=7, **kw)
    long = simulate(drift, x0, n_steps=3000, **kw)
    assert np.array_equal(short.states, long.states[:8])
