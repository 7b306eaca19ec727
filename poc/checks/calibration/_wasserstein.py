"""Calibration of the Wasserstein estimators, for p = 1 and p = 2, and of the chaos study's floor.

Two routes or a closed form for every public option: exact 1-D ``W_p`` (p = 1
against scipy, p = 2 and 1.5 against a NumPy quantile integral, and the
shift ``W_p(x, x + v) = |v|``); exact ``W_p`` in d > 1 against all
permutations; sliced ``W_1`` and ``W_2`` against ``SW_p(x, x + v)`` in closed
form and ``SW_2`` as ``(mean_l W_2^2)^(1/2)`` of its 1-D projections;
``wasserstein_to_law`` (stable, p = 1; normal, p = 2 in closed form); the
chaos study's reference kernel against the public estimator and closed forms;
and the chaos study's i.i.d. floor against the exact expected ``W_1`` of n
samples of its known law.
"""

from __future__ import annotations

import importlib
import itertools
import math

import numpy as np
from scipy import stats

from .._base import Case, Context
from ..noise import stable_cdf as _cdf  # scipy's levy_stable, the independent reference
from ._common import ALPHA, REL_ROUNDING, REL_W1_LAW, SIGMA, Z_MAX, rounding_case

# the module, not the function poc.wasserstein that shadows it on the package
wmod = importlib.import_module("...wasserstein", __package__)


def _wp_numpy(x: np.ndarray, y: np.ndarray, p: float) -> float:
    """1-D W_p by the quantile integral, in NumPy: pieces between the merged breakpoints i/n, j/m."""
    xs, ys = np.sort(x), np.sort(y)
    n, m = xs.size, ys.size
    # breakpoints in units of 1/(n m): exact integers
    cuts = np.union1d(np.arange(1, n + 1) * m, np.arange(1, m + 1) * n)
    left = np.concatenate(([0], cuts[:-1]))
    i = np.minimum(left // m, n - 1)  # quantile of x on (left, cut] is xs[left // m]
    j = np.minimum(left // n, m - 1)
    return float(np.sum((cuts - left) * np.abs(xs[i] - ys[j]) ** p) / (n * m)) ** (1.0 / p)


def case_wp_exact_1d(ctx: Context) -> list[Case]:
    """poc.wasserstein in 1-D: p = 1 vs scipy, p = 1.5 and 2 vs NumPy, and W_p(x, x + v) = |v|."""
    g = ctx.rng(11)
    x, y = g.standard_t(3, 1000), 0.5 + g.standard_t(5, 1500)  # different sizes
    cases = [rounding_case("poc.wasserstein (1-D, p=1) equals scipy.stats.wasserstein_distance",
                           wmod.wasserstein(x, y), stats.wasserstein_distance(x, y), REL_ROUNDING,
                           "W1 between samples of 1000 and 1500 points")]
    for p in (1.5, 2.0):
        got = np.array([wmod.wasserstein(x, y, p=p), wmod.wasserstein(x, x + 0.3, p=p)])
        want = np.array([_wp_numpy(x, y, p), 0.3])
        cases.append(rounding_case(
            f"poc.wasserstein (1-D, p={p:g}) vs the quantile integral and W_p(x, x + v) = |v|",
            got, want, REL_ROUNDING, f"W_{p:g} between 1000 and 1500 points = {got[0]:.6f}; "
                                     f"shift by 0.3: {got[1]:.12f}"))
    return cases


def case_wp_exact_nd(ctx: Context) -> list[Case]:
    """poc.wasserstein in d = 2 (assignment) against the best of all permutations, p = 1 and 2."""
    g = ctx.rng(23)
    x, y = g.standard_normal((7, 2)), g.standard_normal((7, 2)) + 0.4
    dist = np.linalg.norm(x[:, None, :] - y[None, :, :], axis=2)
    perms = np.array(list(itertools.permutations(range(7))))  # 5040 plans
    got, want = [], []
    for p in (1.0, 2.0):
        costs = (dist[np.arange(7), perms] ** p).mean(axis=1)
        want.append(float(costs.min()) ** (1.0 / p))
        got.append(wmod.wasserstein(x, y, p=p))
    return [rounding_case("poc.wasserstein (d = 2, exact, p = 1 and 2) vs the best of all 5040 "
                          "permutations", got, want, REL_ROUNDING,
                          f"7 points in d = 2: W1 {got[0]:.6f}, W2 {got[1]:.6f}")]


def _closed_form_case(name: str, value: float, v: np.ndarray, L: int, what: str,
                      p: float = 1.0) -> Case:
    """SW_p(x, x + v) for L random directions against its mean over the sphere (z-test).

    p = 1: ``|v| E|theta_1|``, ``Var|theta_1| = 1/d - E|theta_1|^2``; p = 2: the
    statistic is ``SW_2^2``, mean ``|v|^2 / d``, ``Var theta_1^2 = 3/(d (d+2)) - 1/d^2``.
    """
    d = v.size
    nv = float(np.linalg.norm(v))
    if p == 1.0:
        e1 = _mean_abs_coordinate(d)
        stat, exact, se = value, nv * e1, nv * math.sqrt((1.0 / d - e1 * e1) / L)
        form = "|v| E|theta_1|"
    else:
        stat, exact = value ** 2, nv * nv / d
        se = nv * nv * math.sqrt((3.0 / (d * (d + 2)) - 1.0 / d ** 2) / L)
        form = "SW2^2 = |v|^2 / d"
    z = (stat - exact) / se
    return Case(
        name=name, passed=bool(abs(z) < Z_MAX),
        detail=(f"{what}: {form}: measured {stat:.5f} against {exact:.5f} (d = {d}, {L} directions, "
                f"Monte Carlo se {se:.2g}): ratio {stat / exact:.4f}, z = {z:+.2f} (pass if |z| < "
                f"{Z_MAX:g})"),
        values={"measured": stat, "exact": exact, "ratio": stat / exact, "z": z, "p": p})


def case_sliced_closed_form(ctx: Context) -> list[Case]:
    """poc.sliced_wasserstein (p = 1 and 2) against SW_p(x, x + v) in closed form and by slices."""
    g = ctx.rng(12)
    L = 20_000
    x = g.standard_normal((200, 3))
    v = np.array([0.3, -0.4, 1.2])
    cases = []
    for p in (1.0, 2.0):
        val = wmod.sliced_wasserstein(x, x + v, p=p, n_projections=L, seed=g)
        cases.append(_closed_form_case(f"poc.sliced_wasserstein (p={p:g}, random directions) vs "
                                       "closed form", val, v, L,
                                       "shift of a 200-point cloud in d = 3", p))
    # SW_2 = (mean over directions of W_2^2)^(1/2), each W_2 exact in 1-D
    dirs = wmod.unit_directions(g, 16, 3)
    y = g.standard_t(3, (150, 3))
    got = wmod.sliced_wasserstein(x, y, p=2, projections=dirs)
    w2 = np.array([wmod.wasserstein(x @ t, y @ t, p=2) for t in dirs])
    cases.append(rounding_case("poc.sliced_wasserstein (p=2, given directions) equals (mean_l "
                               "W_2^2)^(1/2) of the 1-D projections", got,
                               float(np.sqrt(np.mean(w2 ** 2))), REL_ROUNDING,
                               "200 against 150 points in d = 3, 16 directions"))
    return cases


def _w2_to_normal(x: np.ndarray, loc: float, scale: float) -> float:
    """W_2 of a sample to N(loc, scale^2) in closed form (pieces of the quantile integral).

    On ``((i-1)/n, i/n]`` the sample's quantile is ``x_(i)``; with ``z = Phi^-1(t)``,
    ``int Phi^-1 dt = -phi(z)`` and ``int (Phi^-1)^2 dt = Phi(z) - z phi(z)``.
    """
    z = (np.sort(x) - loc) / scale
    n = z.size
    e = stats.norm.ppf(np.arange(n + 1) / n)  # -inf .. inf
    phi = stats.norm.pdf(e)
    ze = np.zeros_like(e)  # z phi(z) -> 0 at z = -inf, inf
    ze[1:-1] = e[1:-1] * phi[1:-1]
    m1 = -(phi[1:] - phi[:-1])
    m2 = (np.arange(1, n + 1) - np.arange(n)) / n - (ze[1:] - ze[:-1])
    w2 = np.sum(z * z / n - 2.0 * z * m1 + m2)
    return scale * math.sqrt(max(float(w2), 0.0))


def case_w2_to_normal(ctx: Context) -> list[Case]:
    """wasserstein_to_law with p = 2 against the closed-form W_2 to a normal law."""
    x = 0.3 + 1.7 * ctx.rng(24).standard_normal(3000) ** 3 / 3.0  # not normal: W_2 of order 1
    got = wmod.wasserstein_to_law(x, stats.norm(0.3, 1.7), p=2)
    return [rounding_case("poc.wasserstein_to_law (p=2, normal law) vs the closed-form quantile "
                          "integral", got, _w2_to_normal(x, 0.3, 1.7), 1e-8,
                          f"3000 points against N(0.3, 1.7^2): W2 = {got:.6f} (quadrature "
                          "tolerance of wasserstein_to_law ~1e-10)")]
def _mean_abs_coordinate(d: int) -> float:
    """E|theta_1| for theta uniform on the unit sphere of R^d."""
    return math.exp(math.lgamma(d / 2) - math.lgamma((d + 1) / 2)) / math.sqrt(math.pi)


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
    got = wmod.wasserstein_to_law(x, stats.levy_stable(ALPHA, 0.0, scale=scale))
    ref = _w1_to_stable(x, ALPHA, scale)
    return [rounding_case("poc.wasserstein_to_law (stable law) vs the CDF integral with Pareto tails",
                           got, ref, REL_W1_LAW,
                           f"W1 of 2000 S_{ALPHA:g}({scale:g}) draws to their law = {got:.6f}, "
                           f"reference {ref:.6f}")]


def _stable_sample(g: np.random.Generator, alpha: float, n: int) -> np.ndarray:
    from ... import noise

    return noise.sample_stable(alpha, n, seed=g)


def case_private_sliced_vs_public(ctx: Context) -> list[Case]:
    """The chaos check's sliced-W1 kernel (SortedReference) equals poc.sliced_wasserstein."""
    g = ctx.rng(14)
    dirs = wmod.unit_directions(g, 32, 3)  # as the chaos check draws them
    cloud = _stable_sample(g, ALPHA, 3 * 4096).reshape(4096, 3)
    x = _stable_sample(g, ALPHA, 3 * 256).reshape(256, 3) + 0.1
    private = wmod.SortedReference.build(cloud, dirs).sliced_w1(x)
    name = "chaos check's sliced W1 kernel (SortedReference) equals poc.sliced_wasserstein"
    try:
        public = wmod.sliced_wasserstein(x, cloud, projections=dirs)
    except ValueError as exc:
        return [Case(name=name, passed=False,
                     detail=f"poc.sliced_wasserstein refuses the chaos check's directions: {exc}",
                     values={"private": private})]
    case = rounding_case(name, private, public, REL_ROUNDING,
                          "n = 256 against N = 4096 stable points in d = 3, 32 directions")
    case.values.update(private=private, public=public)
    return [case]


def case_private_sliced_closed_form(ctx: Context) -> list[Case]:
    """The chaos check's directions and kernel against SW1(x, x + v) = |v| E|theta_1|."""
    g = ctx.rng(15)
    L = 4096
    dirs = wmod.unit_directions(g, L, 3)
    cloud = g.standard_normal((512, 3))
    v = np.array([0.3, -0.4, 1.2])
    val = wmod.SortedReference.build(cloud, dirs).sliced_w1(cloud + v)
    return [_closed_form_case("chaos check's sliced W1 (unit_directions + SortedReference) vs "
                              "closed form", val, v, L, "shift of a 512-point cloud in d = 3")]




def case_reference_kernel_1d(ctx: Context) -> list[Case]:
    """The reference kernel in d = 1 (the chaos study's exact path) against poc.wasserstein and |v|."""
    g = ctx.rng(25)
    cloud = _stable_sample(g, ALPHA, 4096)
    x = _stable_sample(g, ALPHA, 100) + 0.2
    ref = wmod.SortedReference.build(cloud[:, None], np.ones((1, 1)))
    got = [ref.sliced_w1(x[:, None]), ref.sliced_w1(cloud[:, None] + 0.25)]
    want = [wmod.wasserstein(x, cloud), 0.25]
    return [rounding_case("chaos study's reference kernel in d = 1 equals poc.wasserstein and "
                          "W1(x, x + v) = |v|", got, want, REL_ROUNDING,
                          f"n = 100 against N = 4096 stable points: {got[0]:.6f}; shift 0.25: "
                          f"{got[1]:.12f}")]


def expected_w1_normal(n: int, sd: float) -> float:
    """E W_1 between n i.i.d. N(0, sd^2) draws and their law: int E|F_n(x) - F(x)| dx.

    ``n F_n(x)`` is Binomial(n, F(x)), so ``E|F_n - F| = sum_k |k/n - F| P(k)``,
    integrated by the trapezoidal rule on [-12 sd, 12 sd] (beyond, < 1e-30).
    """
    xg = np.linspace(-12.0, 12.0, 8001)
    F = stats.norm.cdf(xg)
    k = np.arange(n + 1)[:, None]
    mad = np.sum(np.abs(k / n - F) * stats.binom.pmf(k, n, F), axis=0)
    return sd * float(np.sum(0.5 * (mad[1:] + mad[:-1]) * np.diff(xg)))


def case_iid_floor_anchor(ctx: Context) -> list[Case]:
    """chaos_study's i.i.d. floor and reference ratio against their exact values (linear model).

    With ``b = c mean(mu)`` (a = 0) the copies and the reference particles get
    the same drift ``c u_k`` (the stored path), so both are i.i.d. samples of
    ``x0 + step c sum u_k + N(0, 2 sigma^2 T)`` (Gaussian noise, alpha = 2):
    the floor is the two-sample W_1 of n and N such draws, expected
    ``E W_1(n) sqrt(1 + n / N)``. The particles move the mean together, so
    their distance is larger: a floor taken from them fails.
    """
    from ... import studies
    from ...drifts import LinearMeanField

    c, T, step, ns, reps, N = 2.0, 1.0, 0.05, (16, 32, 64), 96, 4096
    res = studies.chaos_study(LinearMeanField(0.0, c), [1.0], alpha=2.0, sigma=SIGMA, T=T,
                              step=step, ns=ns, replicates=reps, reference=N,
                              seed=int(ctx.rng(26).integers(2**31)), progress=False)
    sd = SIGMA * math.sqrt(2.0 * T)
    zs, rows = [], []
    for n, w in zip(ns, res.data["w1_iid_floor"], strict=True):
        w = np.asarray(w, float)
        exact = expected_w1_normal(n, sd) * math.sqrt(1.0 + n / N)
        z = (w.mean() - exact) / (w.std(ddof=1) / math.sqrt(w.size))
        zs.append(float(z))
        rows.append(f"n={n}: {w.mean():.4f} vs {exact:.4f} (z = {z:+.2f})")
    # reference ratio: half-split error of the mean (Var/N) over the n_max system's mean error,
    # whose variance the interaction amplifies: 2 sigma^2 step sum_j A^(2j) (1/n + 1/N)
    K = round(T / step)
    A = 1.0 + step * c
    amp = step * float(np.sum(A ** (2.0 * np.arange(K))))
    expected_ratio = math.sqrt((T / N) / (amp * (1.0 / ns[-1] + 1.0 / N)))
    ratio = float(res.data["reference_ratio"])
    # the half-split estimate averages 16 chi^2_1 terms: a factor 3 either way is > 5 sd in log
    ok_ratio = expected_ratio / 3.0 <= ratio <= 3.0 * expected_ratio
    return [Case(
        name="chaos_study i.i.d. floor (W1 of the copies) and reference ratio vs their exact values",
        passed=bool(all(abs(z) < Z_MAX for z in zs) and ok_ratio),
        detail=(f"b = {c:g} mean, Gaussian noise sigma {SIGMA:g}, T = {T:g}, N = {N}, {reps} "
                f"replicates: floor {'; '.join(rows)} (pass if every |z| < {Z_MAX:g}); reference "
                f"ratio {ratio:.4f} vs {expected_ratio:.4f} (pass if within a factor 3)"),
        values={"z": zs, "floor_mean": [float(np.mean(w)) for w in res.data["w1_iid_floor"]],
                "reference_ratio": ratio, "expected_reference_ratio": expected_ratio})]
