"""The compiled time loop (poc._fastloop): agreement with the per-step loop on the same
increments, blow-up steps inside a block, records, threads, minibatch sampling, progress."""

import hashlib
import itertools

import numba
import numpy as np
import pytest
from _user_drifts import feat, resp
from scipy import stats

from poc import engine
from poc._fastloop import (
    _PARALLEL_MIN_WORK,
    BlockBatches,
    CompiledStepper,
    block_end,
    block_steps,
    loop_kernel,
)
from poc.drifts import FeatureDrift, LinearMeanField, MeanFieldNetwork
from poc.particles import NonFiniteStateError, simulate


def _network(activation="tanh", c=1, m=40, d=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, d)) / 2
    y = np.tanh(X[:, 0]) if c == 1 else rng.standard_normal((m, c))
    return MeanFieldNetwork(X, y, activation)


def _euler(drift, x0, step, k, sigma, incr, *, idx=None, record_every=None, compiled=False):
    """The engine on pre-drawn increments (and minibatches), per step or compiled."""
    batch = None if idx is None else idx.shape[1]
    stepper = CompiledStepper(batch) if compiled else None
    tr = engine.euler(drift, x0, step, k, sigma, incr, record_every=record_every,
                      batch_size=batch, batches=None if idx is None else (lambda j: idx[j]),
                      label="test run", stepper=stepper)
    if compiled:
        assert stepper._kernel is not None  # the run took the compiled loop
    return tr


# (activation, outputs, minibatch); n = 150 leaves a partial block of particles
NETWORK_CASES = [("tanh", 1, None), ("tanh", 1, 16), ("sigmoid", 3, None), ("sigmoid", 3, 8),
                 ("relu", 2, 16)]


@pytest.mark.parametrize(("activation", "c", "batch"), NETWORK_CASES)
def test_network_loop_matches_the_per_step_loop_on_the_same_increments(activation, c, batch):
    net = _network(activation, c)
    rng = np.random.default_rng(1)
    n, d, k = 150, 4, 30
    x0 = rng.standard_normal((n, d))
    incr = 0.05 * rng.standard_normal((k, n, d))
    idx = None if batch is None else np.stack([rng.choice(40, batch, replace=False)
                                               for _ in range(k)])
    run = _euler(net, x0, 0.3, k, 0.7, incr, idx=idx, record_every=7, compiled=True)
    ref = _euler(net, x0, 0.3, k, 0.7, incr, idx=idx, record_every=7)
    # the loop sums over hidden units in blocks of 64, the per-step loop in BLAS order
    np.testing.assert_allclose(run.final, ref.final, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(run.states, ref.states, rtol=1e-12, atol=1e-13)
    if batch is None:
        np.testing.assert_allclose(run.features, ref.features, rtol=1e-12, atol=1e-13)
    assert not np.array_equal(run.final, x0)


@pytest.mark.parametrize("make", [lambda: LinearMeanField(0.8, 0.5),
                                  lambda: FeatureDrift(feat, resp, 2)])
def test_feature_loops_are_the_per_step_arithmetic(make):
    drift = make()
    rng = np.random.default_rng(2)
    x0 = rng.standard_normal((130, 2))
    incr = rng.standard_normal((25, 130, 2))
    run = _euler(drift, x0, 0.02, 25, 0.4, incr, record_every=4, compiled=True)
    ref = _euler(drift, x0, 0.02, 25, 0.4, incr, record_every=4)
    np.testing.assert_array_equal(run.final, ref.final)
    np.testing.assert_array_equal(run.states, ref.states)
    np.testing.assert_array_equal(run.features, ref.features)  # the mean features u_k


def test_simulate_records_states_and_features_of_its_own_run():
    net = _network()
    x0 = np.random.default_rng(3).standard_normal((70, 4))
    kw = dict(alpha=1.5, sigma=0.2, step=0.1, n_steps=45, seed=4)
    plain = simulate(net, x0, **kw)
    rec = simulate(net, x0, record_every=10, **kw)
    np.testing.assert_array_equal(rec.final, plain.final)  # recording does not change the run
    np.testing.assert_array_equal(rec.steps, [0, 10, 20, 30, 40, 45])
    np.testing.assert_array_equal(rec.states[0], x0)
    np.testing.assert_array_equal(rec.states[-1], rec.final)
    for r, k in enumerate(rec.steps):
        # features at step k are the network outputs at the recorded state x_k
        np.testing.assert_allclose(rec.features[r], net.predict(rec.states[r]), rtol=1e-12,
                                   atol=1e-14)
        if 0 < k < 45:  # the state after k steps is a run of k steps on the same increments
            short = _euler(net, x0, 0.1, int(k), 0.2, _increments_of(net, x0, kw)[:k])
            np.testing.assert_allclose(rec.states[r], short.final, rtol=1e-12, atol=1e-13)


def _increments_of(drift, x0, kw):
    n, d = x0.shape
    source = engine.increment_source(np.random.default_rng(kw["seed"]), kw["alpha"],
                                     kw["sigma"], kw["step"], n, d, "iid", kw["n_steps"])
    return source.block(0, kw["n_steps"])


def test_non_finite_state_is_named_at_its_step_inside_a_block():
    net = _network()
    rng = np.random.default_rng(5)
    x0 = rng.standard_normal((100, 4))
    k = 60
    assert block_steps(100, 4) > k  # one block: the blow-up is found inside it
    incr = 0.01 * rng.standard_normal((k, 100, 4))
    incr[37, 71, 2] = np.inf  # the state x_38 is the first non-finite one
    with pytest.raises(NonFiniteStateError, match=r"test run became non-finite at step 38 ") as e:
        _euler(net, x0, 0.1, k, 1.0, incr, compiled=True)
    assert e.value.step_index == 38
    assert e.value.time == pytest.approx(3.8)
    # through simulate: a deterministic overflow, x_{k+1} = 51 x_k, deep inside the first block
    x1 = np.array([1.0, -3.0, 0.5])
    with np.errstate(over="ignore"):
        x, k_bad = x1.copy(), 0
        while np.all(np.isfinite(x)):
            x, k_bad = x * 51.0, k_bad + 1
    assert 1 < k_bad < block_steps(3, 1)
    with pytest.raises(NonFiniteStateError) as e:
        simulate(LinearMeanField(-50.0, 0.0), x1, alpha=1.5, sigma=0.1, step=1.0,
                 n_steps=2 * k_bad)
    assert e.value.step_index == k_bad


def _digest(x):
    return hashlib.sha256(np.ascontiguousarray(x).tobytes()).hexdigest()


def test_one_and_two_threads_give_the_same_bits():
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs 2 Numba threads")
    rng = np.random.default_rng(6)
    X = rng.standard_normal((64, 8))
    net = MeanFieldNetwork(X, np.tanh(X[:, 0]), "tanh")
    x0 = rng.standard_normal((2048, 8))  # large enough for the parallel kernels
    n, d = x0.shape
    assert loop_kernel(net, n, d, 32).work >= _PARALLEL_MIN_WORK
    kw = dict(alpha=1.5, sigma=0.3, step=0.05, n_steps=12, seed=7)
    previous = numba.get_num_threads()
    digests = {}
    try:
        for threads in (1, 2):
            numba.set_num_threads(threads)
            digests[threads] = (_digest(simulate(net, x0, batch_size=32, **kw).final),
                                _digest(simulate(net, x0, **kw).final),
                                _digest(simulate(LinearMeanField(1.0, 0.5), x0, **kw).final))
    finally:
        numba.set_num_threads(previous)
    assert digests[1] == digests[2]


def test_noise_drawn_ahead_on_a_second_thread_is_the_same_noise(monkeypatch):
    """With two threads and a serial loop, the next block's noise is drawn on a second
    thread (poc._fastloop._Prefetched): the run must be the same bits as without it, over
    several blocks, and an error on that thread must reach the caller."""
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs 2 Numba threads")
    import poc._fastloop as fl

    net = _network()
    x0 = np.random.default_rng(8).standard_normal((64, 4))
    k = 3 * block_steps(64, 4) + 5  # four blocks, the last one partial
    kw = dict(alpha=1.5, sigma=0.3, step=0.01, n_steps=k, seed=9, batch_size=16,
              record_every=block_steps(64, 4) // 3)
    previous = numba.get_num_threads()
    started = []
    real = fl._Prefetched.__init__

    def counting(self, *args):
        started.append(args[1:])
        real(self, *args)

    try:
        numba.set_num_threads(2)
        monkeypatch.setattr(fl._Prefetched, "__init__", counting)
        ahead = simulate(net, x0, **kw).states
        assert len(started) == 3  # blocks 2, 3 and 4 were drawn ahead
        monkeypatch.setattr(fl._BlockSource, "prefetch", lambda self: None)
        inline = simulate(net, x0, **kw).states
        assert len(started) == 3
        numba.set_num_threads(1)
        one_thread = simulate(net, x0, **kw).states
    finally:
        numba.set_num_threads(previous)
    assert _digest(ahead) == _digest(inline) == _digest(one_thread)

    def broken(*args):
        raise RuntimeError("sampler failed")

    job = fl._Prefetched(broken)
    with pytest.raises(RuntimeError, match="sampler failed"):
        job.result()


def test_minibatches_are_uniform_samples_without_replacement():
    m, b, steps = 10, 3, 24_000
    source = BlockBatches(np.random.default_rng(8), m, b, n=64, d=8, n_steps=steps)
    idx = np.concatenate([source.block(k0, block_end(k0, 64, 8, steps))
                          for k0 in range(0, steps, block_steps(64, 8))])
    assert idx.shape == (steps, b)
    assert all(len(set(row)) == b for row in idx.tolist())  # without replacement
    subsets = {s: j for j, s in enumerate(itertools.combinations(range(m), b))}
    counts = np.bincount([subsets[tuple(sorted(row))] for row in idx.tolist()],
                         minlength=len(subsets))
    # 120 subsets, 200 expected each: a uniform sampler passes at the 0.1% level with this seed
    assert stats.chisquare(counts).pvalue > 1e-3
    first = np.bincount(idx[:, 0], minlength=m)  # and every position is uniform over the data
    assert stats.chisquare(first).pvalue > 1e-3
    # the test has power: a sampler that never draws the last data point is rejected
    g = np.random.default_rng(8)
    biased = np.bincount([subsets[tuple(sorted(g.choice(m - 1, b, replace=False)))]
                          for _ in range(steps)], minlength=len(subsets))
    assert stats.chisquare(biased).pvalue < 1e-3


def test_noise_does_not_depend_on_minibatching():
    net = _network(m=40)
    x0 = np.random.default_rng(9).standard_normal((50, 4))
    kw = dict(alpha=1.5, sigma=0.2, step=0.1, n_steps=20, seed=10)
    full = simulate(net, x0, **kw).final
    batched = simulate(net, x0, batch_size=40, **kw).final
    # the batch of all data in shuffled order: same noise, same gradient up to rounding
    np.testing.assert_allclose(batched, full, rtol=1e-11, atol=1e-13)


def test_progress_bar_counts_all_steps(capsys):
    net = _network()
    simulate(net, np.zeros((8, 4)), alpha=1.5, sigma=0.1, step=0.1, n_steps=1500, batch_size=8,
             seed=0, progress=True)
    assert "1500/1500" in capsys.readouterr().err
