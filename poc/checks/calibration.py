r"""Check ``calibration``: every instrument the theorem checks rely on, against a known truth.

Claim. The simulator, the drift families, the rate fits, the Wasserstein
estimators, the compressibility measures and the strong-error machinery
measure what they claim to measure, on this platform and with these library
versions, in the same run as the theorem checks. A theorem check is only as
trustworthy as its instruments, so ``poc validate`` runs this check first and
a failure here makes the other verdicts untrustworthy.

Method. The check is a list of small, independent case functions
(:data:`CASES`), each comparing one instrument with a known truth; every
case name names the instrument, so a failure says what is broken.

* Noise path of :func:`poc.simulate`: with a drift that is identically zero
  (``LinearMeanField(0, 0)``) and ``x0 = 0``, the state after k steps of size
  ``eta`` is ``sigma`` times the sum of the Levy increments, exactly
  ``S_alpha(sigma (k eta)^(1/alpha))`` per coordinate for every noise kind.
  One-sample KS tests (1 step and 10 steps) against the noise check's
  tabulated scipy CDF (:func:`poc.checks.noise.stable_cdf`).
* Drift families against each other: a pairwise drift with ``V(x) = -a x``,
  ``K(x, y) = c y`` is ``LinearMeanField(a, c)``; a :class:`FeatureDrift`
  written from the network's formula is :class:`MeanFieldNetwork`; the
  network's drift is ``-n`` times the finite-difference gradient of its loss.
* Linear model against its exact law: :func:`poc.simulate` at a small step
  against :meth:`LinearMeanField.marginal` (KS), and the chaos check's linear
  coupling error against its exact stable law (:func:`linear_ratio_verdict`).
* Rate fits: coverage of the 95 % intervals of :func:`poc.rates.fit_rate` and
  :func:`poc.euler.fit_paired_rate` on synthetic power laws with
  heavy-tailed (Pareto, tail index 3) replicate noise.
* Wasserstein: exact 1-D ``W_1`` against ``scipy.stats.wasserstein_distance``;
  :func:`poc.sliced_wasserstein` against the closed form
  ``SW_1(x, x + v) = |v| E|theta_1|``; :func:`poc.wasserstein_to_law` against
  ``int |F_n - F| dx`` with the noise check's CDF table and Pareto tails; the
  chaos check's private sliced-W_1 kernel against the public function and the
  closed form.
* Compressibility: :func:`poc.compress.hill` on exact Pareto samples
  (``1/hill`` is then exactly unbiased for ``1/alpha``) at several k;
  :func:`poc.compress.best_k_error` and :func:`poc.compress.prunable_fraction`
  against a direct sort.
* Strong error: on a zero drift, every run of :func:`poc.strong_error` ends at
  ``sigma`` times the sum of the fine increments (nested grids add up); on the
  linear SDE ``dx = -a x dt + sigma dL`` the measured order is 1.

Thresholds are stated next to each constant below. Every statistical case
uses a fixed seed derived from ``(seed, case index)``. Each case function can
run alone (:func:`run_cases`), which the fault-injection tests use.

Work units (:mod:`poc.units`). Every case function is a work unit,
:class:`CalibrationCase` (its key, the mode and the seed; the function draws
from ``SeedSequence([seed, *case key])`` as when it runs alone, so the numbers
do not depend on where it runs): serially, or on a Dask client (``poc
validate --scheduler``). All of them are units, the cheap ones too
(best_k_direct, network_gradient, w1_exact_1d, strong_nested: < 0.1 s each
once compiled): on a cluster :func:`~poc.units.run_units` batches them with
others, and serially a unit costs only a function call. They never come from
the unit cache: the check exists to measure the instruments of this
installation (its NumPy, SciPy and Numba), not to recall an earlier one's.

Time: quick mode about 30 s wall on a shared 2-core machine (about 15 s of
CPU), of which ~2-3 s build the scipy CDF table once and ~5 s compile the
pairwise and feature kernels specialised on this check's user functions
(Numba cannot cache those). Full mode uses larger samples (5x the KS sizes,
4x the replicates).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy import stats

from ..compress import best_k_error, hill, prunable_fraction
from ..data import teacher_student
from ..drifts import FeatureDrift, LinearMeanField, MeanFieldNetwork, PairwiseDrift
from ..euler import fit_paired_rate, strong_error
from ..limits import coupled_run
from ..particles import simulate
from ..rates import fit_rate, judge
from ..stable import median_abs as _median_abs_stable
from ..units import Unit, run_units, study_id
from ..wasserstein import (
    SortedReference,
    sliced_wasserstein,
    unit_directions,
    wasserstein,
    wasserstein_to_law,
)
from ._base import Case, Context
from ._judges import linear_ratio_verdict, mean_abs_stable
from .chaos import linear_coupling_scale, linear_exact_reference
from .noise import stable_cdf as _cdf  # scipy's levy_stable, the independent reference

NAME = "calibration"
TITLE = ("The instruments are calibrated: simulate's noise path, the drift families, the exact "
         "linear law, the rate-fit intervals, the Wasserstein estimators, the compressibility "
         "measures and the strong-error grids each agree with a known truth.")

TRUST_NOTE = ("Calibration runs first: if any calibration case fails, an instrument the theorem "
              "checks rely on is broken and their verdicts are untrustworthy.")

ALPHA = 1.5  # one stable index for the KS cases: one CDF table (~2 s to build from scipy)
SIGMA = 0.7
KS_PVALUE_MIN = 1e-3  # 7 KS tests: a correct instrument fails one with probability < 1 %
Z_MAX = 4.0  # two-sided P(|Z| > 4) = 6e-5 per z-test: false alarms are negligible over the run
REL_ROUNDING = 1e-10  # same quantity by two routes in float64: differences are ~1e-15 relative
REL_FD = 1e-6  # central differences with h = 1e-5: truncation ~h^2, cancellation ~1e-16/h
REL_W1_LAW = 1e-5  # table CDF error ~1e-6 on [-30, 30]: measured 1e-7..4e-7 over seeds; defects >1e-3
COVERAGE_BAND = (0.90, 0.99)  # 400 intervals: sd 0.011 at 0.95, 0.018 at 0.85 (see _coverage)
ORDER_TOL = 0.1  # reference step = smallest / 8 biases the order by < log(9/8)/log(8) = 0.06


# ---------------------------------------------------------------------------
# shared helpers


def _ks(x: np.ndarray, scale: float, loc: float = 0.0) -> tuple[float, float]:
    cdf = _cdf(ALPHA)
    res = stats.kstest((np.asarray(x) - loc) / scale, cdf)
    return float(res.statistic), float(res.pvalue)


def _rel(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def _rounding_case(name: str, a, b, tol: float, what: str) -> Case:
    err = _rel(a, b)
    return Case(name=name, passed=bool(err <= tol),
                detail=f"{what}: max relative difference {err:.2e} (pass if <= {tol:g})",
                values={"relative_difference": err, "tolerance": tol})


# ---------------------------------------------------------------------------
# simulate's noise path


def case_noise_path(ctx: Context) -> list[Case]:
    """Zero-drift increments of poc.simulate against S_alpha(sigma (k eta)^(1/alpha))."""
    n = 20_000 if ctx.quick else 100_000
    step = 0.01  # far from 1, so step^(1/alpha) and any other power of the step differ
    zero = LinearMeanField(0.0, 0.0)
    cases = []
    for j, kind in enumerate(("iid", "isotropic", "neuron")):
        vals = {}
        for k in (1, 10):
            tr = simulate(zero, np.zeros((n, 2)), alpha=ALPHA, sigma=SIGMA, step=step, n_steps=k,
                          noise=kind, seed=ctx.rng(1, j, k), progress=False)
            scale = SIGMA * (k * step) ** (1.0 / ALPHA)
            D, p = _ks(tr.final[:, 0], scale)
            vals[k] = {"ks_statistic": D, "p_value": p,
                       "median_abs_over_scale": float(np.median(np.abs(tr.final[:, 0])) / scale)}
        ok = all(v["p_value"] > KS_PVALUE_MIN for v in vals.values())
        cases.append(Case(
            name=f"simulate noise path, kind={kind}: zero-drift increments are "
                 f"S_alpha(sigma (k step)^(1/alpha))",
            passed=ok,
            detail=(f"alpha={ALPHA:g}, sigma={SIGMA:g}, step={step:g}, n={n}: 1 step KS D = "
                    f"{vals[1]['ks_statistic']:.4f} p = {vals[1]['p_value']:.3g}; 10 steps KS D = "
                    f"{vals[10]['ks_statistic']:.4f} p = {vals[10]['p_value']:.3g} (pass if both "
                    f"p > {KS_PVALUE_MIN:g}); median |x| / scale {vals[1]['median_abs_over_scale']:.3f}"
                    f", {vals[10]['median_abs_over_scale']:.3f} (exact "
                    f"{_median_abs_stable(ALPHA):.3f})"),
            values={"one_step": vals[1], "ten_steps": vals[10], "n": n, "step": step}))
    return cases


# ---------------------------------------------------------------------------
# drift families against each other

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
    pair = PairwiseDrift(_pair_confinement, _pair_interaction)(x)
    lin = LinearMeanField(_PAIR_A, _PAIR_C)(x)
    return [_rounding_case(f"PairwiseDrift(V = -a x, K = c y) equals LinearMeanField(a={_PAIR_A:g}, "
                           f"c={_PAIR_C:g})", pair, lin, REL_ROUNDING,
                           "b(x_i) = -a x_i + (1/n) sum_j c x_j on n = 150 particles in d = 2")]


def _network_data(ctx: Context, key: int):
    data = teacher_student(20, 3, seed=ctx.rng(key))
    return np.ascontiguousarray(data.X_train), np.ascontiguousarray(data.y_train, np.float64)


def network_as_feature_drift(X: np.ndarray, y: np.ndarray) -> FeatureDrift:
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

    return FeatureDrift(features, response, m)


def case_feature_form_vs_network(ctx: Context) -> list[Case]:
    """A FeatureDrift written from the network's formula equals MeanFieldNetwork."""
    X, y = _network_data(ctx, 3)
    theta = ctx.rng(4).standard_normal((100, X.shape[1]))
    ref = network_as_feature_drift(X, y)(theta)
    net = MeanFieldNetwork(X, y, "tanh")(theta)
    # the network's vectorised tanh is within 4 ulp of libm: agreement to ~1e-14
    return [_rounding_case("MeanFieldNetwork drift equals its FeatureDrift form", net, ref,
                           REL_ROUNDING, "tanh network, m = 20, d = 3, n = 100")]


def case_network_gradient(ctx: Context) -> list[Case]:
    """MeanFieldNetwork's drift equals -n times the finite-difference gradient of its loss."""
    X, y = _network_data(ctx, 5)
    net = MeanFieldNetwork(X, y, "tanh")
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
    case = _rounding_case("MeanFieldNetwork drift equals -n x finite-difference gradient of its loss",
                          drift, -n * grad, REL_FD,
                          f"central differences (h = {h:g}) of the loss, n = {n}, d = {d}, m = 20")
    ratio = float(np.sum(drift * -grad) / np.sum(n * grad * grad))
    case.values["drift_over_minus_n_grad"] = ratio
    case.detail += f"; least-squares ratio drift / (-n grad) = {ratio:.6f}"
    return [case]


# ---------------------------------------------------------------------------
# linear model against its exact law


def case_linear_marginal(ctx: Context) -> list[Case]:
    """simulate at a small step against LinearMeanField.marginal (KS)."""
    a, c, x0, T, step = 1.0, 0.5, 1.0, 0.5, 0.01
    n = 128
    cols = 2048 if ctx.quick else 8192
    model = LinearMeanField(a, c)
    tr = simulate(model, np.full((n, cols), x0), alpha=ALPHA, sigma=SIGMA, step=step,
                  n_steps=round(T / step), seed=ctx.rng(7), progress=False)
    law = model.marginal(T, x0, ALPHA, SIGMA)
    loc, scale = float(law.kwds["loc"]), float(law.kwds["scale"])
    # the columns are independent systems (coordinate-wise model, iid noise): one particle each
    sample = tr.final[0]
    D, p = _ks(sample, scale, loc)
    # KS resolution here is ~0.03; the finite-n effect (scale +0.4 %) and the Euler bias
    # (O(step) = 1 %) move D by < 0.005
    return [Case(
        name="simulate (step 0.01) vs LinearMeanField.marginal, the exact McKean-Vlasov law",
        passed=p > KS_PVALUE_MIN,
        detail=(f"b = -{a:g} x + {c:g} mean, x0 = {x0:g}, T = {T:g}, n = {n} particles, {cols} "
                f"independent systems (one particle each): KS D = {D:.4f}, p = {p:.3g} (pass if p > "
                f"{KS_PVALUE_MIN:g}); exact law S_alpha({scale:.4f}) + {loc:.4f}"),
        values={"ks_statistic": D, "p_value": p, "loc": loc, "scale": scale, "samples": cols})]


def case_linear_ratio(ctx: Context) -> list[Case]:
    """The chaos check's linear coupling error against its exact law (median sign test)."""
    model = LinearMeanField(1.0, 2.0)  # the chaos check's linear model
    x0, step, n_steps = 1.0, 0.05, 20
    width = 2048 if ctx.quick else 8192
    ratios = []
    for j, n in enumerate((32, 256)):
        ref = linear_exact_reference(model, x0, alpha=ALPHA, sigma=SIGMA, step=step,
                                     n_steps=n_steps, width=width)
        run = coupled_run(model, np.full((n, width), x0), ref, seed=ctx.rng(8, j), progress=False)
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


# ---------------------------------------------------------------------------
# rate fits


def _coverage(fit: Callable, make_y: Callable, ctx: Context, key: int, reps: int) -> np.ndarray:
    x = 2.0 ** np.arange(5, 11)  # the chaos check's widths
    slope = -0.5
    hits = np.empty(reps, dtype=bool)
    for i in range(reps):
        g = ctx.rng(key, i)
        y = x[:, None] ** slope * make_y(g, x.size)
        lo, hi = fit(x, y, seed=g).ci
        hits[i] = lo <= slope <= hi
    return hits


def _coverage_case(name: str, hits: np.ndarray, what: str) -> Case:
    cov = float(hits.mean())
    lo, hi = COVERAGE_BAND
    R = hits.size
    return Case(
        name=name, passed=bool(lo <= cov <= hi),
        detail=(f"{what}: {int(hits.sum())}/{R} intervals contain the true slope -1/2, coverage "
                f"{cov:.3f} (pass if in [{lo:g}, {hi:g}]: with {R} intervals the binomial sd is "
                f"{math.sqrt(0.95 * 0.05 / R):.3f} at 0.95 and {math.sqrt(0.85 * 0.15 / R):.3f} at "
                "0.85, so 0.90 is > 4 sd from 0.95 and ~3 sd from 0.85)"),
        values={"coverage": cov, "intervals": R, "band": list(COVERAGE_BAND)})


def case_fit_rate_coverage(ctx: Context) -> list[Case]:
    """Coverage of fit_rate's default (95 %) interval on a known power law."""
    reps = 400

    def make_y(g, k):  # 20 replicates per x, Pareto noise (tail index 3: infinite 3rd moment)
        return 1.0 + g.pareto(3.0, (k, 20))

    # n_boot = 1000 instead of 2000: the Monte Carlo error of the 2.5 % and 97.5 % percentiles
    # moves each interval end by ~3 % of its half-width, a coverage change below 0.005
    hits = _coverage(functools.partial(fit_rate, n_boot=1000), make_y, ctx, 9, reps)
    return [_coverage_case("fit_rate 95 % bootstrap interval coverage", hits,
                           "6 widths 2^5..2^10, 20 replicates each, y = n^(-1/2) (1 + Pareto(3))")]


def case_paired_rate_coverage(ctx: Context) -> list[Case]:
    """Coverage of fit_paired_rate's default (95 %) interval on a known power law."""
    reps = 400

    def make_y(g, k):  # a heavy common factor per replicate (paired across x) and a light one
        return (1.0 + g.pareto(3.0, (1, 20))) * np.exp(0.3 * g.standard_normal((k, 20)))

    hits = _coverage(fit_paired_rate, make_y, ctx, 10, reps)
    return [_coverage_case("fit_paired_rate 95 % paired bootstrap interval coverage", hits,
                           "6 steps, 20 paired replicates, y = x^(-1/2) (1 + Pareto(3))_q "
                           "exp(0.3 N(0,1))")]


# ---------------------------------------------------------------------------
# Wasserstein estimators


def case_w1_exact_1d(ctx: Context) -> list[Case]:
    g = ctx.rng(11)
    x, y = g.standard_t(3, 1000), 0.5 + g.standard_t(3, 1500)  # different sizes
    return [_rounding_case("poc.wasserstein (1-D, exact) equals scipy.stats.wasserstein_distance",
                           wasserstein(x, y), stats.wasserstein_distance(x, y), REL_ROUNDING,
                           "W1 between samples of 1000 and 1500 points")]


def _mean_abs_coordinate(d: int) -> float:
    """E|theta_1| for theta uniform on the unit sphere of R^d."""
    return math.exp(math.lgamma(d / 2) - math.lgamma((d + 1) / 2)) / math.sqrt(math.pi)


def _closed_form_case(name: str, value: float, v: np.ndarray, L: int, what: str) -> Case:
    d = v.size
    e1 = _mean_abs_coordinate(d)
    exact = float(np.linalg.norm(v)) * e1
    se = float(np.linalg.norm(v)) * math.sqrt((1.0 / d - e1 * e1) / L)  # Var|theta_1| = 1/d - e1^2
    z = (value - exact) / se
    return Case(
        name=name, passed=bool(abs(z) < Z_MAX),
        detail=(f"{what}: SW1(x, x + v) = {value:.5f} against |v| E|theta_1| = {exact:.5f} (d = {d}, "
                f"{L} directions, Monte Carlo se {se:.2g}): ratio {value / exact:.4f}, z = {z:+.2f} "
                f"(pass if |z| < {Z_MAX:g})"),
        values={"measured": value, "exact": exact, "ratio": value / exact, "z": z})


def case_sliced_closed_form(ctx: Context) -> list[Case]:
    """poc.sliced_wasserstein's random directions against SW1(x, x + v) = |v| E|theta_1|."""
    g = ctx.rng(12)
    L = 20_000
    x = g.standard_normal((200, 3))
    v = np.array([0.3, -0.4, 1.2])
    val = sliced_wasserstein(x, x + v, n_projections=L, seed=g)
    return [_closed_form_case("poc.sliced_wasserstein (random directions) vs closed form", val, v, L,
                              "shift of a 200-point cloud in d = 3")]


def _w1_to_stable(xs: np.ndarray, alpha: float, scale: float) -> float:
    """W1 between a sample and S_alpha(scale) as int |F_n - F| dx (equal to the quantile integral).

    ``F`` is the noise check's scipy table for ``|x| <= 30`` and beyond it the Pareto tail with
    its next two Bergstrom terms, ``P(X > x) = sum_k (-1)^(k+1) Gamma(k alpha) sin(k pi alpha / 2)
    / (pi k!) x^(-k alpha)`` (Nolan 2020, Ch. 3; relative error O(x^(-4 alpha)) < 1e-8 there):
    scipy's far tail is unreliable (at alpha = 1.5 it reaches 0 before x = 1e3). Between
    consecutive sample points ``F_n`` is constant and ``|F_n - F|`` is integrated by 8-point
    Gauss-Legendre on pieces split at the crossings and on a fine grid, and in closed form beyond
    ``max(1e3, 2 max |x|)``.
    """
    table = _cdf(alpha)
    x_hi = 30.0
    ks = (1, 2, 3)
    coef = [(-1) ** (k + 1) * math.gamma(k * alpha) * math.sin(k * math.pi * alpha / 2)
            / (math.pi * math.factorial(k)) for k in ks]

    def sf_series(t):
        return sum(ck * t ** (-k * alpha) for k, ck in zip(ks, coef, strict=True))

    def tail_integral(u):  # int_u^inf P(X > s) ds for u >= x_hi
        return sum(ck * u ** (1.0 - k * alpha) / (k * alpha - 1.0) for k, ck in zip(ks, coef, strict=True))

    def cdf(t):
        t = np.asarray(t, float)
        out = table(np.clip(t, -x_hi, x_hi))
        hi, lo = t > x_hi, t < -x_hi
        out[hi] = 1.0 - sf_series(t[hi])
        out[lo] = sf_series(-t[lo])
        return out

    z = np.sort(xs) / scale
    n = z.size
    far = max(1e3, 2.0 * float(np.max(np.abs(z))))
    # pieces on which F_n is constant and F smooth: breaks at the sample points, at the
    # crossings F = j/n, and on a grid fine where F varies (uniform on [-30, 30], 64 per decade)
    levels = np.arange(1, n) / n
    grid = np.linspace(-x_hi, x_hi, 120001)
    crossings = np.interp(levels, cdf(grid), grid)
    outer = np.geomspace(1e-3, far, 64 * math.ceil(math.log10(far / 1e-3)) + 1)
    breaks = np.unique(np.concatenate([z, crossings, -outer, outer, np.linspace(-x_hi, x_hi, 2401)]))
    lo, hi = breaks[:-1], breaks[1:]
    Fn = np.searchsorted(z, 0.5 * (lo + hi), side="right") / n
    gx, gw = np.polynomial.legendre.leggauss(8)
    gx, gw = 0.5 * (gx + 1.0), 0.5 * gw
    w = hi - lo
    pts = lo[:, None] + w[:, None] * gx
    vals = np.abs(Fn[:, None] - cdf(pts.ravel()).reshape(pts.shape))
    total = float(np.sum(w * (vals @ gw)))
    total += 2.0 * tail_integral(far)  # beyond +-far: int F and int (1 - F), equal by symmetry
    return scale * total


def case_w1_to_law(ctx: Context) -> list[Case]:
    """wasserstein_to_law against int |F_n - F| dx with the noise check's table."""
    scale = SIGMA
    x = scale * _stable_sample(ctx.rng(13), ALPHA, 2000)
    got = wasserstein_to_law(x, stats.levy_stable(ALPHA, 0.0, scale=scale))
    ref = _w1_to_stable(x, ALPHA, scale)
    return [_rounding_case("poc.wasserstein_to_law (stable law) vs the CDF integral with Pareto tails",
                           got, ref, REL_W1_LAW,
                           f"W1 of 2000 S_{ALPHA:g}({scale:g}) draws to their law = {got:.6f}, "
                           f"reference {ref:.6f}")]


def _stable_sample(g: np.random.Generator, alpha: float, n: int) -> np.ndarray:
    from ..noise import sample_stable

    return sample_stable(alpha, n, seed=g)


def case_private_sliced_vs_public(ctx: Context) -> list[Case]:
    """The chaos check's sliced-W1 kernel (SortedReference) equals poc.sliced_wasserstein."""
    g = ctx.rng(14)
    dirs = unit_directions(g, 32, 3)  # as the chaos check draws them
    cloud = _stable_sample(g, ALPHA, 3 * 4096).reshape(4096, 3)
    x = _stable_sample(g, ALPHA, 3 * 256).reshape(256, 3) + 0.1
    private = SortedReference.build(cloud, dirs).sliced_w1(x)
    name = "chaos check's sliced W1 kernel (SortedReference) equals poc.sliced_wasserstein"
    try:
        public = sliced_wasserstein(x, cloud, projections=dirs)
    except ValueError as exc:
        return [Case(name=name, passed=False,
                     detail=f"poc.sliced_wasserstein refuses the chaos check's directions: {exc}",
                     values={"private": private})]
    case = _rounding_case(name, private, public, REL_ROUNDING,
                          "n = 256 against N = 4096 stable points in d = 3, 32 directions")
    case.values.update(private=private, public=public)
    return [case]


def case_private_sliced_closed_form(ctx: Context) -> list[Case]:
    """The chaos check's directions and kernel against SW1(x, x + v) = |v| E|theta_1|."""
    g = ctx.rng(15)
    L = 4096
    dirs = unit_directions(g, L, 3)
    cloud = g.standard_normal((512, 3))
    v = np.array([0.3, -0.4, 1.2])
    val = SortedReference.build(cloud, dirs).sliced_w1(cloud + v)
    return [_closed_form_case("chaos check's sliced W1 (unit_directions + SortedReference) vs "
                              "closed form", val, v, L, "shift of a 512-point cloud in d = 3")]


# ---------------------------------------------------------------------------
# compressibility measures


def case_hill_pareto(ctx: Context) -> list[Case]:
    """Mean of 1/hill on exact Pareto samples against 1/alpha (exactly unbiased there)."""
    alpha, n = ALPHA, 1000
    M = 2000 if ctx.quick else 8000
    ks = np.array([10, 30, 100])
    g = ctx.rng(16)
    inv = np.empty((M, ks.size))
    for i in range(M):
        inv[i] = 1.0 / hill(1.0 + g.pareto(alpha, n), ks)
    mean = inv.mean(axis=0)
    se = inv.std(axis=0, ddof=1) / math.sqrt(M)
    z = (mean - 1.0 / alpha) / se
    rel = mean * alpha - 1.0
    # k (1/hill) / (1/alpha) is Gamma(k, 1) for exact Pareto: 1/hill is unbiased; an off-by-one
    # threshold gives relative bias -1/k (-10 % at k = 10, i.e. ~14 se here)
    return [Case(
        name="poc.compress.hill unbiased on exact Pareto samples (1/hill vs 1/alpha)",
        passed=bool(np.all(np.abs(z) < Z_MAX)),
        detail=(f"alpha = {alpha:g}, n = {n}, {M} samples: relative bias of mean(1/hill) at k = "
                + ", ".join(f"{k}: {r:+.4f} (z = {zz:+.2f})" for k, r, zz in zip(ks, rel, z, strict=True))
                + f" (pass if every |z| < {Z_MAX:g})"),
        values={"k": ks, "relative_bias": rel, "z": z, "samples": M})]


def case_best_k_direct(ctx: Context) -> list[Case]:
    """best_k_error and prunable_fraction against a direct sort of the row norms."""
    g = ctx.rng(17)
    W = g.standard_t(1.5, (997, 4))  # heavy rows, n not a multiple of 1/kappa
    kappas = np.array([0.05, 0.1, 0.25, 0.5])
    norms = np.linalg.norm(W, axis=1)
    order = np.argsort(norms)[::-1]
    direct = []
    for kap in kappas:
        k = math.ceil(kap * W.shape[0] - 1e-9)
        rest = W.copy()
        rest[order[:k]] = 0.0  # W - W^(k): the dropped rows
        direct.append(np.linalg.norm(rest) / np.linalg.norm(W))
    got = best_k_error(W, kappas)
    sq = np.sort(norms) ** 2
    thr = 0.1
    j = 0
    while j < sq.size and sq[: j + 1].sum() <= thr * sq.sum():
        j += 1
    pf = prunable_fraction(W, thr, return_count=True)
    err = _rel(got, direct)
    ok = err <= REL_ROUNDING and pf == j
    return [Case(
        name="poc.compress.best_k_error and prunable_fraction vs a direct sort",
        passed=bool(ok),
        detail=(f"n = 997 rows: best-k errors at kappa {kappas.tolist()} differ by {err:.2e} "
                f"relative (pass if <= {REL_ROUNDING:g}); prunable rows {pf} vs direct {j} at "
                f"threshold {thr:g} (pass if equal)"),
        values={"relative_difference": err, "prunable_count": pf, "direct_count": j})]


# ---------------------------------------------------------------------------
# strong error


def case_strong_nested(ctx: Context) -> list[Case]:
    """On a zero drift every strong_error run ends at sigma times the sum of the fine increments."""
    res = strong_error(LinearMeanField(0.0, 0.0), np.zeros((4, 2)), alpha=ALPHA, sigma=SIGMA, T=1.0,
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
    res = strong_error(ou, [[1.0]], alpha=ALPHA, sigma=SIGMA, T=1.0, steps=steps,
                       n_replicates=400 if ctx.quick else 2000, interacting=False,
                       seed=ctx.rng(19), progress=False)
    fit = res.fit(seed=ctx.rng(20))
    v = judge(fit, 1.0, tolerance=ORDER_TOL, relation="equal")
    det = strong_error(ou, [[1.0]], alpha=ALPHA, sigma=0.0, T=1.0, steps=steps, n_replicates=1,
                       exact=lambda x0, incr: x0 * math.exp(-1.0), seed=0, progress=False)
    fit0 = det.fit()
    v0 = judge(fit0, 1.0, tolerance=ORDER_TOL, relation="equal")
    return [Case(
        name="strong_error on the linear SDE dx = -x dt + sigma dL: order 1",
        passed=v.passed and v0.passed,
        detail=(f"stable noise (alpha={ALPHA:g}, fine reference at step 1/256, "
                f"{res.n_replicates} replicates): {v.text}; noise-free against the closed form "
                f"x0 exp(-T): {v0.text}"),
        measured_rate=fit.slope, ci=fit.ci, expected_rate=1.0,
        values={"steps": steps, "mean_error": res.mean, "noise_free_slope": fit0.slope})]


# ---------------------------------------------------------------------------
# the check

#: (key, case function) in report order; each function returns its cases and can run alone.
CASES: list[tuple[str, Callable[[Context], list[Case]]]] = [
    ("noise_path", case_noise_path),
    ("pairwise_vs_linear", case_pairwise_vs_linear),
    ("feature_form_vs_network", case_feature_form_vs_network),
    ("network_gradient", case_network_gradient),
    ("linear_marginal", case_linear_marginal),
    ("linear_ratio", case_linear_ratio),
    ("fit_rate_coverage", case_fit_rate_coverage),
    ("paired_rate_coverage", case_paired_rate_coverage),
    ("w1_exact_1d", case_w1_exact_1d),
    ("sliced_closed_form", case_sliced_closed_form),
    ("w1_to_law", case_w1_to_law),
    ("private_sliced_vs_public", case_private_sliced_vs_public),
    ("private_sliced_closed_form", case_private_sliced_closed_form),
    ("hill_pareto", case_hill_pareto),
    ("best_k_direct", case_best_k_direct),
    ("strong_nested", case_strong_nested),
    ("strong_order", case_strong_order),
]


@dataclass(frozen=True)
class CalibrationCase:
    """One case function of :data:`CASES`, in one mode and for one seed: a work unit.

    The case function draws its random numbers from ``ctx.rng(case key)``,
    i.e. ``SeedSequence([seed, *case key])``, as when it runs alone, so the
    unit's numbers are those of :func:`run_cases` wherever it runs.
    """

    key: str
    mode: str
    seed: int


def calibration_unit(u: CalibrationCase, ss: np.random.SeedSequence, shared=None) -> list[Case]:
    """Run the case function ``u.key`` of :data:`CASES` (looked up when the unit runs)."""
    return dict(CASES)[u.key](Context(mode=u.mode, seed=u.seed, progress=False))


def run_cases(ctx: Context, keys=None) -> list[Case]:
    """Run the cases named in ``keys`` (all of :data:`CASES` when None), in report order.

    Each case function is a work unit (:func:`poc.units.run_units`): on
    ``ctx.client`` when there is one, counted on ``ctx.units_bar()``; never
    from the cache (the instruments are measured afresh on every run).
    """
    known = dict(CASES)
    if keys is not None:
        unknown = [k for k in keys if k not in known]
        if unknown:
            raise ValueError(f"unknown calibration case(s) {unknown}; available: {list(known)}")
    index = {k: i for i, (k, _) in enumerate(CASES)}
    units = [Unit.make(ctx.seed, study_id(NAME), (index[k],), CalibrationCase(k, ctx.mode, ctx.seed))
             for k, _ in CASES if keys is None or k in keys]
    out = run_units(calibration_unit, units, client=ctx.client, cache=None,
                    progress=ctx.units_bar(), desc="calibration")
    return [c for cases in out for c in cases]


def run(ctx: Context) -> list[Case]:
    cases = run_cases(ctx)
    ctx.notes.insert(0, TRUST_NOTE)
    failed = [c.name for c in cases if not c.passed]
    if failed:
        ctx.notes.insert(1, "Broken instrument(s): " + "; ".join(failed) + ".")
    return cases
