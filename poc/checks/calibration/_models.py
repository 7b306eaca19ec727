"""Calibration of the drift families and of the linear model's exact laws.

* Drift families against each other and against NumPy formulas: the
  pairwise form of the linear model, the network as a generic feature drift,
  the network's drift as ``-n`` times its loss gradient, its minibatch
  gradient (the batch drawn as :func:`poc.simulate` documents) and its
  chunked path on large data.
* :meth:`LinearMeanField.marginal` against the ``n -> inf``, ``step -> 0``
  limit of the exact law of the Euler scheme (a deterministic comparison),
  and :func:`poc.simulate` against the exact law of the n-particle Euler
  scheme, which is stable with a computable scale for every n (KS and
  scale z-tests).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ... import drifts, limits, particles
from ...data import teacher_student
from .._base import Case, Context
from .._judges import linear_ratio_verdict, mean_abs_stable
from ..chaos import linear_coupling_scale, linear_exact_reference
from ._common import (
    ALPHA,
    KS_PVALUE_MIN,
    REL_FD,
    REL_ROUNDING,
    SIGMA,
    Z_MAX,
    ks,
    quantile_text,
    quantile_z,
    rel,
    rounding_case,
)

_PAIR_A, _PAIR_C = 1.3, 0.7


@njit(cache=True)
def _pair_confinement(x, out):  # V(x) = -a x
    for k in range(x.size):
        out[k] = -_PAIR_A * x[k]


@njit(cache=True)
def _pair_interaction(x, y, out):  # K(x, y) = c y
    for k in range(x.size):
        out[k] = _PAIR_C * y[k]


def case_pairwise_vs_linear(ctx: Context) -> list[Case]:
    """PairwiseDrift(V = -a x, K = c y) equals LinearMeanField(a, c) to rounding."""
    # 150 > 2 blocks of 64 exercises the blocked sum; a mean of ~2 makes the interaction O(1),
    # so averaging over n - 1 instead of n changes the drift by ~0.5 % (rounding: ~1e-16)
    x = 2.0 + ctx.rng(2).standard_normal((150, 2))
    pair = drifts.PairwiseDrift(_pair_confinement, _pair_interaction)(x)
    lin = drifts.LinearMeanField(_PAIR_A, _PAIR_C)(x)
    return [rounding_case(f"PairwiseDrift(V = -a x, K = c y) equals LinearMeanField(a={_PAIR_A:g}, "
                           f"c={_PAIR_C:g})", pair, lin, REL_ROUNDING,
                           "b(x_i) = -a x_i + (1/n) sum_j c x_j on n = 150 particles in d = 2")]


def _network_data(ctx: Context, key: int):
    data = teacher_student(20, 3, seed=ctx.rng(key))
    return np.ascontiguousarray(data.X_train), np.ascontiguousarray(data.y_train, np.float64)


def network_as_feature_drift(X: np.ndarray, y: np.ndarray) -> drifts.FeatureDrift:
    """The tanh mean-field network written as a generic FeatureDrift, from its formula.

    ``g(theta) = (tanh <theta, x_k>)_k`` and ``F(theta, u) = -(1/m) sum_k (u_k - y_k)
    (1 - tanh^2 <theta, x_k>) x_k`` (scalar output, unit output weights).
    """
    X = np.ascontiguousarray(X, np.float64)
    y = np.ascontiguousarray(y, np.float64)
    m, d = X.shape

    @njit
    def features(theta, out):
        for k in range(m):
            h = 0.0
            for j in range(d):
                h += theta[j] * X[k, j]
            out[k] = math.tanh(h)

    @njit
    def response(theta, u, out):
        for j in range(d):
            out[j] = 0.0
        for k in range(m):
            h = 0.0
            for j in range(d):
                h += theta[j] * X[k, j]
            t = math.tanh(h)
            g = (u[k] - y[k]) * (1.0 - t * t) / m
            for j in range(d):
                out[j] -= g * X[k, j]

    return drifts.FeatureDrift(features, response, m)


def case_feature_form_vs_network(ctx: Context) -> list[Case]:
    """A FeatureDrift written from the network's formula equals MeanFieldNetwork."""
    X, y = _network_data(ctx, 3)
    theta = ctx.rng(4).standard_normal((100, X.shape[1]))
    ref = network_as_feature_drift(X, y)(theta)
    net = drifts.MeanFieldNetwork(X, y, "tanh")(theta)
    # the network's vectorised tanh is within 4 ulp of libm: agreement to ~1e-14
    return [rounding_case("MeanFieldNetwork drift equals its FeatureDrift form", net, ref,
                           REL_ROUNDING, "tanh network, m = 20, d = 3, n = 100")]


def case_network_gradient(ctx: Context) -> list[Case]:
    """MeanFieldNetwork's drift equals -n times the finite-difference gradient of its loss."""
    X, y = _network_data(ctx, 5)
    net = drifts.MeanFieldNetwork(X, y, "tanh")
    n, d = 8, X.shape[1]
    theta = ctx.rng(6).standard_normal((n, d))
    h = 1e-5
    grad = np.empty((n, d))
    for i in range(n):
        for j in range(d):
            tp, tm = theta.copy(), theta.copy()
            tp[i, j] += h
            tm[i, j] -= h
            grad[i, j] = (net.loss(tp) - net.loss(tm)) / (2 * h)
    drift = net(theta)
    case = rounding_case("MeanFieldNetwork drift equals -n x finite-difference gradient of its loss",
                          drift, -n * grad, REL_FD,
                          f"central differences (h = {h:g}) of the loss, n = {n}, d = {d}, m = 20")
    ratio = float(np.sum(drift * -grad) / np.sum(n * grad * grad))
    case.values["drift_over_minus_n_grad"] = ratio
    case.detail += f"; least-squares ratio drift / (-n grad) = {ratio:.6f}"
    return [case]




def network_drift_numpy(X: np.ndarray, y: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """The tanh network's drift from its formula in NumPy (scalar output, unit weights).

    ``b_i = -(1/m) sum_k (f(x_k) - y_k) (1 - tanh^2 <theta_i, x_k>) x_k`` with
    ``f(x) = (1/n) sum_i tanh <theta_i, x>``.
    """
    T = np.tanh(X @ theta.T)  # (m, n)
    f = T.mean(axis=1)
    G = (f - y)[:, None] * (1.0 - T * T)
    return -(G.T @ X) / X.shape[0]


def documented_batches(brng: np.random.Generator, m: int, b: int, steps: int) -> list:
    """simulate's minibatches as documented, in plain Python: per step, b uniforms of the batch
    stream drive a partial Fisher-Yates shuffle of a permutation of range(m) kept across steps,
    and the batch is its first b entries (uniform, without replacement)."""
    perm, out = list(range(m)), []
    for _ in range(steps):
        u = brng.random(b)
        for t in range(b):
            j = t + int(u[t] * (m - t))
            perm[t], perm[j] = perm[j], perm[t]
        out.append(np.array(perm[:b]))
    return out


def case_network_minibatch(ctx: Context) -> list[Case]:
    """simulate's minibatch path: each step's drift is the network's on the documented batch."""
    data = teacher_student(40, 3, seed=ctx.rng(31))
    X, y = np.ascontiguousarray(data.X_train), np.ascontiguousarray(data.y_train, np.float64)
    net = drifts.MeanFieldNetwork(X, y, "tanh")
    theta0 = ctx.rng(32).standard_normal((50, 3))
    step, b, K = 0.3, 8, 3
    # noise-free: each step is theta += step b_batch(theta), the batch from rng.spawn(1)[0]
    got = particles.simulate(net, theta0, alpha=ALPHA, sigma=0.0, step=step, n_steps=K,
                             batch_size=b, seed=ctx.rng(33), progress=False).final
    batches = documented_batches(ctx.rng(33).spawn(1)[0], X.shape[0], b, K)
    theta = theta0.copy()
    for idx in batches:
        theta = theta + step * network_drift_numpy(X[idx], y[idx], theta)
    case = rounding_case("simulate minibatch path (batch_size): MeanFieldNetwork drift on each "
                         "step's batch", got, theta, REL_ROUNDING,
                         f"m = 40, batch {b}, {K} noise-free steps against NumPy on the documented "
                         "batches (a partial Fisher-Yates shuffle driven by rng.spawn(1)[0])")
    # with noise: the noise is the same with and without minibatches (documented)
    kw = dict(alpha=ALPHA, sigma=SIGMA, step=step, n_steps=1, progress=False)
    full = particles.simulate(net, theta0, seed=ctx.rng(34), **kw).final
    mini = particles.simulate(net, theta0, batch_size=b, seed=ctx.rng(34), **kw).final
    idx = documented_batches(ctx.rng(34).spawn(1)[0], X.shape[0], b, 1)[0]
    want = step * (network_drift_numpy(X[idx], y[idx], theta0) - network_drift_numpy(X, y, theta0))
    err = rel(mini - full, want)
    case.passed = bool(case.passed and err <= 1e-8)  # a difference of two O(1) states: ~1e-15 / 1e-1
    case.detail += (f"; with noise (sigma {SIGMA:g}) minibatch - full-batch states = step "
                    f"(b_batch - b_full) to {err:.1e} (pass if <= 1e-8: the same noise)")
    case.values["noisy_difference"] = err
    return [case]


def case_network_chunked(ctx: Context) -> list[Case]:
    """MeanFieldNetwork on large data (m n above the kernels' chunk size) against NumPy."""
    # m n = 4.4e6 pre-activations: more than one chunk of the network's kernels (2^22)
    m, n = 4000, 1100
    data = teacher_student(m, 3, seed=ctx.rng(35))
    X, y = np.ascontiguousarray(data.X_train), np.ascontiguousarray(data.y_train, np.float64)
    theta = ctx.rng(36).standard_normal((n, 3))
    got = drifts.MeanFieldNetwork(X, y, "tanh")(theta)
    return [rounding_case("MeanFieldNetwork drift on large data (chunked pre-activations) equals "
                          "its NumPy formula", got, network_drift_numpy(X, y, theta), 1e-9,
                          f"m = {m} data points, n = {n} units, d = 3 (sums of {m} terms in another "
                          "order: ~1e-13)")]


# ---------------------------------------------------------------------------
# the linear model's exact laws


def linear_euler_law(a: float, c: float, x0: float, *, alpha: float, sigma: float, step: float,
                     n_steps: int, n: int | None) -> tuple[float, float]:
    """(loc, scale) of one particle of the linear model's n-particle Euler scheme, iid noise.

    With ``A = 1 + step (c - a)`` and ``B = 1 - step a``, the mean moves by ``A``
    and the deviations by ``B``, so ``x_i(K) = A^K x0 + sigma step^(1/alpha)
    sum_j [o_j xi_i + sum_(l != i) c_j xi_l]`` (``j`` steps before the end) with
    ``o_j = A^j / n + B^j (1 - 1/n)`` and ``c_j = (A^j - B^j) / n``: a stable
    law with ``scale^alpha = sigma^alpha step sum_j (|o_j|^alpha + (n - 1) |c_j|^alpha)``.
    ``n = None`` is the limit ``n -> inf`` (the McKean-Vlasov Euler scheme).
    """
    A, B = 1.0 + step * (c - a), 1.0 - step * a
    j = np.arange(n_steps, dtype=float)
    if n is None:
        s_alpha = float(np.sum(np.abs(B) ** (j * alpha)))
    else:
        own = A ** j / n + B ** j * (1.0 - 1.0 / n)
        other = (A ** j - B ** j) / n
        s_alpha = float(np.sum(np.abs(own) ** alpha + (n - 1) * np.abs(other) ** alpha))
    return A ** n_steps * x0, sigma * (step * s_alpha) ** (1.0 / alpha)


def case_linear_marginal(ctx: Context) -> list[Case]:
    """LinearMeanField.marginal against the step -> 0 limit of the exact Euler law (deterministic)."""
    worst, rows = 0.0, []
    for a, c in ((1.0, 0.5), (0.4, -0.3), (0.0, 1.0), (-0.2, 0.3)):
        for alpha in (1.2, 1.5, 2.0):
            for T in (0.5, 2.0):
                K = 200_000  # Euler's O(step) bias: a alpha T / K < 1e-5 relative
                loc, scale = linear_euler_law(a, c, 1.3, alpha=alpha, sigma=SIGMA, step=T / K,
                                              n_steps=K, n=None)
                law = drifts.LinearMeanField(a, c).marginal(T, 1.3, alpha, SIGMA)
                e = max(abs(law.kwds["loc"] / loc - 1.0), abs(law.kwds["scale"] / scale - 1.0))
                worst = max(worst, e)
                rows.append((a, c, alpha, T, float(law.kwds["scale"]), scale, e))
    tol = 1e-4  # the limit is reached to ~1e-5 (K = 2e5 steps); any formula error is >= 1e-2
    a, c, alpha, T, got, want, e = max(rows, key=lambda r: r[-1])
    return [Case(
        name="LinearMeanField.marginal (loc and scale) vs the limit of the exact Euler law",
        passed=bool(worst <= tol),
        detail=(f"24 settings (a, c) x alpha in (1.2, 1.5, 2) x T in (0.5, 2): largest relative "
                f"error {worst:.1e} (pass if <= {tol:g}), at a={a:g}, c={c:g}, alpha={alpha:g}, "
                f"T={T:g}: scale {got:.6f} vs {want:.6f}"),
        values={"max_relative_error": worst, "tolerance": tol})]


def case_linear_euler_law(ctx: Context) -> list[Case]:
    """simulate on the linear model against the exact law of its n-particle Euler scheme."""
    a, c, x0, T, step, n = 1.0, 0.5, 1.0, 0.5, 0.02, 4
    cols = 60_000 if ctx.quick else 240_000
    K = round(T / step)
    model = drifts.LinearMeanField(a, c)
    # the columns are independent systems of n particles (coordinate-wise model, iid noise)
    tr = particles.simulate(model, np.full((n, cols), x0), alpha=ALPHA, sigma=SIGMA, step=step,
                            n_steps=K, seed=ctx.rng(7), progress=False)
    loc, scale = linear_euler_law(a, c, x0, alpha=ALPHA, sigma=SIGMA, step=step, n_steps=K, n=n)
    sample = tr.final[0]  # one particle per system: independent draws
    D, p = ks(sample, ALPHA, scale, loc)
    qz = quantile_z(np.abs(sample - loc) / scale, ALPHA)
    return [Case(
        name="simulate on the linear model vs the exact law of its n-particle Euler scheme",
        passed=bool(p > KS_PVALUE_MIN and qz["max_abs_z"] < Z_MAX),
        detail=(f"b = -{a:g} x + {c:g} mean, x0 = {x0:g}, step {step:g} x {K}, n = {n} particles, "
                f"{cols} independent systems: exact law S_alpha({scale:.5f}) + {loc:.5f}; KS D = "
                f"{D:.4f}, p = {p:.3g} (pass if p > {KS_PVALUE_MIN:g}); {quantile_text(qz)}"),
        values={"ks_statistic": D, "p_value": p, "quantiles": qz, "loc": loc, "scale": scale,
                "samples": cols})]
def case_linear_ratio(ctx: Context) -> list[Case]:
    """The chaos check's linear coupling error against its exact law (median sign test)."""
    model = drifts.LinearMeanField(1.0, 2.0)  # the chaos check's linear model
    x0, step, n_steps = 1.0, 0.05, 20
    width = 2048 if ctx.quick else 8192
    ratios = []
    for j, n in enumerate((32, 256)):
        ref = linear_exact_reference(model, x0, alpha=ALPHA, sigma=SIGMA, step=step,
                                     n_steps=n_steps, width=width)
        run = limits.coupled_run(model, np.full((n, width), x0), ref, seed=ctx.rng(8, j), progress=False)
        ce = np.mean(np.abs(run.system.final - run.copies.final), axis=0)
        exact = mean_abs_stable(ALPHA) * linear_coupling_scale(
            model, alpha=ALPHA, sigma=SIGMA, step=step, n_steps=n_steps, n=n)
        ratios.append(ce / exact)
    r = np.concatenate(ratios)
    passed, text = linear_ratio_verdict(r, ALPHA)
    return [Case(
        name="linear model coupling error (simulate + coupled_run) vs its exact stable law",
        passed=passed,
        detail=(f"b = -x + 2 mean, alpha={ALPHA:g}, sigma={SIGMA:g}, step {step:g} x {n_steps}, "
                f"n = 32 and 256, {width} replicates each: {text}"),
        values={"median_ratio": float(np.median(r)), "mean_ratio": float(r.mean()),
                "mean_ratio_per_n": [float(x.mean()) for x in ratios], "replicates": int(r.size)})]




def _self_consistency(name: str, drift, x0: np.ndarray, g_key, ctx: Context) -> Case:
    kw = dict(alpha=ALPHA, sigma=SIGMA, step=0.05, n_steps=12, noise="iid")
    ref = limits.reference_cloud(drift, x0, seed=ctx.rng(*g_key), progress=False, **kw)
    copies = limits.nonlinear_copies(drift, x0, ref, seed=ctx.rng(*g_key), progress=False)
    run = limits.coupled_run(drift, x0, ref, seed=ctx.rng(*g_key), record_every=5, progress=False)
    final = ref.trajectory.final
    errs = {"nonlinear_copies": rel(copies.final, final), "coupled_run system": rel(
        run.system.final, final), "coupled_run copies": rel(run.copies.final, final),
        "recorded coupling errors": float(np.max(run.coupling_errors()))
        / max(float(np.mean(np.abs(final))), 1e-300)}
    worst = max(errs.values())
    return Case(
        name=f"reference path self-consistency ({name}): copies of the reference cloud, on its "
             "seed, are the cloud",
        passed=bool(worst <= REL_ROUNDING),
        detail=(f"N = {x0.shape[0]} particles in d = {x0.shape[1]}, 12 steps: copies driven by the "
                "stored path from the cloud's own start and seed reproduce it (a path one step "
                "off, or another cloud, cannot): "
                + ", ".join(f"{k} {v:.1e}" for k, v in errs.items())
                + f" relative (pass if all <= {REL_ROUNDING:g})"),
        values={"relative_difference": errs})


def case_reference_self_consistency(ctx: Context) -> list[Case]:
    """Copies driven by a reference's own path, from its start and seed, reproduce the reference."""
    X, y = _network_data(ctx, 37)
    net = drifts.MeanFieldNetwork(X, y, "tanh")
    pair = drifts.PairwiseDrift(_pair_confinement, _pair_interaction)
    return [
        _self_consistency("feature drift: MeanFieldNetwork", net,
                          ctx.rng(38).standard_normal((64, X.shape[1])), (39,), ctx),
        _self_consistency("pairwise drift", pair, 2.0 + ctx.rng(40).standard_normal((48, 2)),
                          (41,), ctx),
    ]
