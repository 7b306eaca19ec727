"""Calibration of the protocol's invariants and of the strong-error machinery.

* Same seed, same path: recording (``record_every``) never changes the path,
  records the documented steps (the last one included), and each record is
  the state a shorter run with the same seed ends at; a run on one Numba
  thread is the run on all of them, bit for bit.
* Pairing: a noisy training run whose noise is too small to move a weight
  (``sigma = 1e-30``) is the plain run bit for bit, in :func:`poc.train` and in
  :func:`poc.train_fcn` for every noise type: paired runs share their initial
  weights and minibatches.
* The paper's protocol (:func:`poc.train_fcn`): one step's noise, the noisy
  run minus the plain one at a learning rate too small for the SGD step to
  matter, is the documented law of each noise type and lies on ``W1`` only.
* Strong error: nested grids add up, and Euler's strong order on a linear
  SDE is 1.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ... import drifts, euler, experiments, particles, rates, training
from ...drifts import LinearMeanField
from .._base import Case, Context
from ._common import ALPHA, SIGMA, Z_MAX, identical_case, quantile_text, quantile_z

#: The strong-order case's tolerance. The default fine reference is 64 x finer than the smallest
#: step (poc.euler.DEFAULT_REFINEMENT), which shrinks the smallest error by ~1/64 and tilts the
#: order by < 0.01; the rest is the bootstrap interval's width at 400 replicates.
ORDER_TOL = 0.1


def _classification_data(ctx: Context, key: int, m: int = 200, d: int = 4):
    g = ctx.rng(key)
    X = g.standard_normal((m, d))
    y = g.integers(0, 3, m)
    y[:3] = (0, 1, 2)  # every class present
    return X, y


def _thread_pairs(ctx: Context) -> list:
    """A network run on one Numba thread and on all of them (when there are several)."""
    import numba

    threads = numba.get_num_threads()
    if threads < 2:
        return []
    X, y = _classification_data(ctx, 59, m=200, d=8)
    # 4096 units x 200 data points: enough work per step for the kernels to go parallel
    net = drifts.MeanFieldNetwork(X, y.astype(np.float64), "tanh")
    x0 = ctx.rng(60).standard_normal((4096, 8)) * 0.3
    kw = dict(alpha=ALPHA, sigma=SIGMA, step=0.1, n_steps=3, progress=False)
    numba.set_num_threads(1)
    try:
        one = particles.simulate(net, x0, seed=ctx.rng(61), **kw).final
    finally:
        numba.set_num_threads(threads)
    many = particles.simulate(net, x0, seed=ctx.rng(61), **kw).final
    return [(f"simulate on 1 and {threads} Numba threads", many, one)]


def case_record_every(ctx: Context) -> list[Case]:
    """simulate's and train's record_every: the documented steps, and the same path however cut."""
    model = LinearMeanField(1.0, 0.5)
    x0 = ctx.rng(50).standard_normal((20, 2))
    kw = dict(alpha=ALPHA, sigma=SIGMA, step=0.05, progress=False)
    tr = particles.simulate(model, x0, n_steps=10, record_every=3, seed=ctx.rng(51), **kw)
    steps = np.array([0, 3, 6, 9, 10])
    prefix = np.stack([x0] + [particles.simulate(model, x0, n_steps=int(k), seed=ctx.rng(51),
                                                 **kw).final for k in steps[1:]])
    plain = particles.simulate(model, x0, n_steps=10, seed=ctx.rng(51), **kw).final
    X, y = _classification_data(ctx, 52, m=60)
    tkw = dict(alpha=ALPHA, sigma=0.3, step=0.5, n_steps=10, batch_size=8, progress=False)
    t3 = training.train(X, y, 16, record_every=3, seed=ctx.rng(53), **tkw)
    t1 = training.train(X, y, 16, record_every=1, seed=ctx.rng(53), **tkw)
    pairs = [
        *_thread_pairs(ctx),
        ("simulate steps", np.asarray(tr.steps), steps),
        ("simulate times", np.asarray(tr.times), steps * 0.05),
        ("simulate states vs shorter runs", tr.states, prefix),
        ("simulate final with and without recording", tr.final, plain),
        ("train steps", np.asarray(t3.steps), steps),
        ("train weights, record_every 3 vs 1", t3.weights, t1.weights),
    ]
    return [identical_case("same seed, same path: record_every (simulate, train) and the Numba "
                           "thread count", pairs,
                           "10 steps recorded every 3; a 4096-unit network, 3 steps")]


def case_pairing(ctx: Context) -> list[Case]:
    """Paired runs: noise too small to move a weight leaves the plain run bit for bit."""
    X, y = _classification_data(ctx, 54)
    kw = dict(step=0.5, n_steps=12, batch_size=16, progress=False)
    plain = training.train(X, y, 32, seed=ctx.rng(55), **kw).weights
    noisy = training.train(X, y, 32, alpha=ALPHA, sigma=1e-30, seed=ctx.rng(55), **kw).weights
    pairs = [("poc.train (plain vs noisy, batch 16)", noisy, plain)]
    fkw = dict(width=64, lr=0.1, batch_size=32, max_steps=25, eval_every=5,
               target_train_accuracy=1.0, dtype="float64")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", experiments.TrainingWarning)
        base = experiments.train_fcn(X, y, seed=ctx.rng(56), **fkw)
        for t in (1, 2, 3):
            r = experiments.train_fcn(X, y, noise_type=t, alpha=ALPHA, sigma=1e-30,
                                      seed=ctx.rng(56), **fkw)
            pairs.append((f"train_fcn noise type {t} W1", r.W1, base.W1))
            pairs.append((f"train_fcn noise type {t} W2", r.W2, base.W2))
    return [identical_case("paired runs (train, train_fcn): the same initial weights and "
                           "minibatches with and without noise", pairs,
                           "noise scale 1e-30 (below any weight's rounding), 12 and 25 steps, "
                           "several epochs of minibatches")]


#: The law of one noise draw of train_fcn, per (type, alpha): the scale of each coordinate of
#: S_alpha(scale), and whether a row is one scalar (the authors' conventions, poc.experiments)
def _fcn_noise_scale(noise_type: int, alpha: float) -> float:
    if noise_type == 1:
        return 1.0 if alpha < 2.0 else 1.0 / math.sqrt(2.0)  # N(0, 1) at alpha = 2
    return 1.0 if noise_type == 2 else 1.0 / math.sqrt(2.0)


def case_fcn_noise(ctx: Context) -> list[Case]:
    """train_fcn's noise: the documented law of each type and alpha, on W1 only."""
    X, y = _classification_data(ctx, 57)
    lr, sigma, width = 1e-8, 1.0, 20_000
    # lr = 1e-8: the SGD step moves a weight by ~1e-8 and changes by ~1e-8 x the noise between the
    # two runs, so noisy - plain is the one noise draw to ~1e-8 relative
    fkw = dict(width=width, lr=lr, batch_size=50, max_steps=2, eval_every=1,
               target_train_accuracy=1.0, dtype="float64")
    cases = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", experiments.TrainingWarning)
        base = experiments.train_fcn(X, y, seed=ctx.rng(58), **fkw)
        for alpha in (ALPHA, 2.0):
            for t in (1, 2, 3):
                r = experiments.train_fcn(X, y, noise_type=t, alpha=alpha, sigma=sigma,
                                          seed=ctx.rng(58), **fkw)
                step_scale = sigma * lr ** (1.0 / alpha)
                N = (r.W1 - base.W1) / step_scale
                s = _fcn_noise_scale(t, alpha)
                u = np.abs(N if t == 2 else N[:, 0]) / s  # rows of types 1, 3 share their draw
                qz = quantile_z(u, alpha)
                w2 = float(np.linalg.norm(r.W2 - base.W2) / max(np.linalg.norm(r.W1 - base.W1),
                                                                1e-300))
                ok = qz["max_abs_z"] < Z_MAX and w2 <= 1e-4  # noise on W2 too would give ~1
                extra = ""
                if t == 1:
                    # to the SGD step's ~1e-8 and rounding ~1e-11 (unit-noise units); iid rows differ by O(1)
                    rows_equal = bool(np.allclose(N, N[:, :1], rtol=1e-6, atol=1e-6))
                    ok = ok and rows_equal
                    extra = f"; one scalar per unit: {'yes' if rows_equal else 'NO'}"
                cases.append(Case(
                    name=f"train_fcn noise type {t}, alpha={alpha:g}: S_alpha({s:.4g}) per "
                         "coordinate, on W1 only",
                    passed=bool(ok),
                    detail=(f"one step's noise / (sigma lr^(1/alpha)), width {width}, d = "
                            f"{X.shape[1]}: {quantile_text(qz)}; |dW2| / |dW1| = {w2:.1e} (pass "
                            f"if <= 1e-4){extra}"),
                    values={"quantiles": qz, "w2_over_w1": w2, "scale": s}))
    return cases


def case_strong_nested(ctx: Context) -> list[Case]:
    """On a zero drift every strong_error run ends at sigma times the sum of the fine increments."""
    res = euler.strong_error(LinearMeanField(0.0, 0.0), np.zeros((4, 2)), alpha=ALPHA, sigma=SIGMA, T=1.0,
                       steps=[1 / 4, 1 / 8, 1 / 16, 1 / 32], n_replicates=6,
                       exact=lambda x0, incr: x0 + SIGMA * incr.sum(axis=0),
                       seed=ctx.rng(18), progress=False)
    worst = float(res.errors.max())
    tol = 1e-12  # sums of <= 32 O(1) increments in another order: rounding ~1e-15
    return [Case(
        name="strong_error nested grids: coarse increments sum the fine ones",
        passed=bool(worst <= tol),
        detail=(f"zero drift, steps 1/4..1/32, 6 replicates: largest |x^eta(T) - sigma sum of fine "
                f"increments| = {worst:.2e} (pass if <= {tol:g})"),
        values={"max_error": worst})]


def case_strong_order(ctx: Context) -> list[Case]:
    """Euler's strong order on dx = -a x dt + sigma dL is 1 (additive noise, smooth drift)."""
    ou = LinearMeanField(1.0, 0.0)
    steps = [1 / 4, 1 / 8, 1 / 16, 1 / 32]
    res = euler.strong_error(ou, [[1.0]], alpha=ALPHA, sigma=SIGMA, T=1.0, steps=steps,
                       n_replicates=400 if ctx.quick else 2000, interacting=False,
                       seed=ctx.rng(19), progress=False)
    fit = res.fit(seed=ctx.rng(20))
    v = rates.judge(fit, 1.0, tolerance=ORDER_TOL, relation="equal")
    det = euler.strong_error(ou, [[1.0]], alpha=ALPHA, sigma=0.0, T=1.0, steps=steps, n_replicates=1,
                       exact=lambda x0, incr: x0 * math.exp(-1.0), seed=0, progress=False)
    fit0 = det.fit()
    v0 = rates.judge(fit0, 1.0, tolerance=ORDER_TOL, relation="equal")
    return [Case(
        name="strong_error on the linear SDE dx = -x dt + sigma dL: order 1",
        passed=v.passed and v0.passed,
        detail=(f"stable noise (alpha={ALPHA:g}, fine reference {euler.DEFAULT_REFINEMENT} x finer "
                f"than the smallest step, i.e. 1/{32 * euler.DEFAULT_REFINEMENT}, "
                f"{res.n_replicates} replicates): {v.text}; noise-free against the closed form "
                f"x0 exp(-T): {v0.text}"),
        measured_rate=fit.slope, ci=fit.ci, expected_rate=1.0,
        values={"steps": steps, "mean_error": res.mean, "noise_free_slope": fit0.slope})]


