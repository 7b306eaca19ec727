"""Tests of the Wasserstein estimators (poc.transport).

Each estimator is compared with an independent implementation (scipy, POT,
brute-force quadrature, exact replication) and with analytic identities.
"""

from __future__ import annotations

import importlib
import itertools
import math
import warnings

import numba
import numpy as np
import pytest
from scipy import integrate, special, stats

import poc
from poc import transport as wmod

# POT is a test extra (setup.cfg [test]); d > 1 references and sliced cross-checks need it.
ot = pytest.importorskip("ot")

wasserstein = poc.wasserstein
wasserstein_to_law = poc.wasserstein_to_law
sliced_wasserstein = poc.sliced_wasserstein


def rel(a, b):
    return abs(a - b) / abs(b)


# ---------------------------------------------------------------------------
# 1-D exact


@pytest.mark.parametrize("n,m", [(1, 1), (1, 7), (5, 3), (100, 37), (1000, 1000), (10_000, 7_777)])
def test_1d_p1_matches_scipy(n, m):
    rng = np.random.default_rng(n * 7 + m)
    x = rng.standard_normal(n)
    y = rng.standard_t(3, m) + 0.3
    # both are exact sums of O(n + m) positive terms: agreement to rounding
    assert rel(wasserstein(x, y), stats.wasserstein_distance(x, y)) < 1e-12


@pytest.mark.parametrize("p", [2.0, 1.5, 3.0])
@pytest.mark.parametrize("n,m", [(5, 3), (200, 77), (1000, 1000)])
def test_1d_general_p_matches_pot(p, n, m):
    rng = np.random.default_rng(11 * n + m)
    x = rng.standard_normal(n)
    y = rng.exponential(size=m)
    ref = ot.wasserstein_1d(x, y, p=p) ** (1.0 / p)
    # POT builds its breakpoints with a float cumsum (error ~ n eps); sizes kept moderate
    assert rel(wasserstein(x, y, p=p), ref) < 1e-12


@pytest.mark.parametrize("p", [1.0, 2.0, 3.5])
def test_1d_unequal_sizes_matches_exact_replication(p):
    # W_p between uniform measures is unchanged when each atom is repeated: with
    # L = lcm(n, m) copies, the optimal plan matches sorted copies one to one.
    rng = np.random.default_rng(3)
    n, m = 60, 84
    x = rng.standard_cauchy(n)
    y = rng.standard_normal(m)
    lcm = math.lcm(n, m)
    xr = np.sort(np.repeat(x, lcm // n))
    yr = np.sort(np.repeat(y, lcm // m))
    ref = np.mean(np.abs(xr - yr) ** p) ** (1.0 / p)
    assert rel(wasserstein(x, y, p=p), ref) < 1e-13


@pytest.mark.parametrize("p", [1.0, 2.0, 2.7])
def test_1d_identities(p):
    rng = np.random.default_rng(5)
    x = rng.standard_normal(300)
    y = rng.exponential(size=170)
    w = wasserstein(x, y, p=p)
    assert wasserstein(x, x + 2.5, p=p) == pytest.approx(2.5, rel=1e-14)  # shift
    assert wasserstein(-3.0 * x, -3.0 * y, p=p) == pytest.approx(3.0 * w, rel=1e-13)  # scaling
    assert wasserstein(y, x, p=p) == pytest.approx(w, rel=1e-13)  # symmetry
    assert wasserstein(rng.permutation(x), y, p=p) == pytest.approx(w, rel=1e-14)
    assert wasserstein(x, x, p=p) == 0.0
    assert wasserstein([1.0], [4.5], p=p) == pytest.approx(3.5, rel=1e-15)
    assert wasserstein(x[:, None], y[:, None], p=p) == pytest.approx(w, rel=1e-15)


def test_1d_monotone_in_p():
    # W_p is nondecreasing in p (Jensen)
    rng = np.random.default_rng(8)
    x, y = rng.standard_normal(500), rng.laplace(size=400)
    vals = [wasserstein(x, y, p=p) for p in (1.0, 1.5, 2.0, 4.0)]
    assert all(a <= b * (1 + 1e-14) for a, b in itertools.pairwise(vals))


# ---------------------------------------------------------------------------
# d > 1: exact assignment


@pytest.mark.parametrize("p", [1.0, 2.0, 1.5])
@pytest.mark.parametrize("n,d", [(1, 2), (7, 2), (60, 3), (200, 5)])
def test_assignment_matches_pot_emd(p, n, d):
    rng = np.random.default_rng(100 * n + d)
    x = rng.standard_normal((n, d))
    y = 1.5 * rng.standard_normal((n, d)) + 0.2
    cost = ot.dist(x, y, metric="euclidean") ** p
    ref = ot.emd2(np.full(n, 1.0 / n), np.full(n, 1.0 / n), cost) ** (1.0 / p)
    assert rel(wasserstein(x, y, p=p), ref) < 1e-12


@pytest.mark.parametrize("p", [1.0, 2.0, 1.3])
def test_assignment_identities(p):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((80, 3))
    y = rng.standard_t(4, size=(80, 3))
    shift = np.array([0.3, -1.2, 2.0])
    # translation: W_p(mu, mu + a) = |a| for p >= 1 (>= |E X - E Y| = |a|, attained by a)
    assert wasserstein(x, x + shift, p=p) == pytest.approx(np.linalg.norm(shift), rel=1e-13)
    w = wasserstein(x, y, p=p)
    assert wasserstein(2.5 * x, 2.5 * y, p=p) == pytest.approx(2.5 * w, rel=1e-12)
    rot = np.linalg.qr(rng.standard_normal((3, 3)))[0]  # rotation invariance
    assert wasserstein(x @ rot, y @ rot, p=p) == pytest.approx(w, rel=1e-12)
    assert wasserstein(y, x, p=p) == pytest.approx(w, rel=1e-12)


def test_assignment_refuses_unequal_sizes_and_large_clouds(monkeypatch):
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"equal sample sizes.*sliced_wasserstein"):
        wasserstein(rng.standard_normal((10, 2)), rng.standard_normal((11, 2)))
    monkeypatch.setattr(wmod, "MAX_ASSIGNMENT_SIZE", 20)
    with pytest.raises(ValueError, match=r"n <= 20.*got n=21.*sliced_wasserstein"):
        wasserstein(rng.standard_normal((21, 2)), rng.standard_normal((21, 2)))
    # 1-D is never limited (sorting)
    assert wasserstein(rng.standard_normal(50), rng.standard_normal(41)) > 0.0


def test_max_assignment_size_constant():
    assert wmod.MAX_ASSIGNMENT_SIZE == 3000


@pytest.mark.parametrize(
    "x,y,p,match",
    [
        (np.zeros((3, 2)), np.zeros((3, 3)), 1, "same dimension"),
        ([1.0, np.nan], [0.0], 1, "x must be finite"),
        ([1.0], [np.inf], 1, "y must be finite"),
        ([1.0], [2.0], 0.5, r"p must be in \[1, inf\), got 0.5"),
        (np.zeros((2, 2, 2)), np.zeros(2), 1, "x must be 1-D or 2-D"),
        ([], [1.0], 1, "x must have at least 1"),
    ],
)
def test_wasserstein_validation(x, y, p, match):
    with pytest.raises(ValueError, match=match):
        wasserstein(x, y, p=p)


def test_overflow_is_an_error_not_inf():
    # saturated draws (|x| ~ 1.8e308, possible for alpha << 1) make |x - y| overflow
    big = np.array([1.7e308, -1.7e308, 0.0])
    with pytest.raises(ValueError, match="overflowed"):
        wasserstein([1.7e308, 0.0], [-1.7e308, 0.0])
    with pytest.raises(ValueError, match="overflowed"):
        wasserstein(np.c_[big, big], np.c_[-big, big])
    with pytest.raises(ValueError, match="overflowed"):
        sliced_wasserstein(np.c_[big, big], np.c_[-big, big], seed=0)
    with pytest.raises(ValueError, match="overflowed"):
        wasserstein_to_law(big, stats.norm(), p=2)  # W_2^2 ~ 1e616


def test_wasserstein_type_errors():
    with pytest.raises(TypeError):
        wasserstein(["a", "b"], [1.0])
    with pytest.raises(TypeError):
        wasserstein([1.0], [2.0], p="2")


# ---------------------------------------------------------------------------
# finite moments


def test_require_finite_moment():
    poc.require_finite_moment(1.5, 1.0)
    poc.require_finite_moment(2.0, 7.0)  # Gaussian: every moment
    with pytest.raises(ValueError, match=r"W_p needs a finite p-th moment: alpha must be > p, "
                                         r"got alpha=1 with p=1"):
        poc.require_finite_moment(1.0, 1.0)
    with pytest.raises(ValueError, match="alpha must be > p"):
        poc.require_finite_moment(1.5, 1.5)
    with pytest.raises(ValueError, match=r"alpha must be in \(0, 2\]"):
        poc.require_finite_moment(2.5, 1.0)


def test_old_module_path_is_the_transport_module():
    # poc.wasserstein is the function; the module it used to hide is poc.transport, and the
    # old import path stays an alias of it without rebinding the function
    from poc.wasserstein import MAX_ASSIGNMENT_SIZE, SortedReference, unit_directions

    assert importlib.import_module("poc.wasserstein") is poc.transport
    assert (MAX_ASSIGNMENT_SIZE, SortedReference, unit_directions) == (
        wmod.MAX_ASSIGNMENT_SIZE, wmod.SortedReference, wmod.unit_directions)
    assert callable(poc.wasserstein) and poc.wasserstein is wmod.wasserstein
    assert poc.require_finite_moment is poc.stable.require_finite_moment


def test_estimators_refuse_infinite_moments():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal(20), rng.standard_normal(20)
    for fn in (wasserstein, sliced_wasserstein):
        with pytest.raises(ValueError, match="finite p-th moment"):
            fn(x, y, alpha=0.8)
        with pytest.raises(ValueError, match="finite p-th moment"):
            fn(x, y, p=2, alpha=1.7)
        assert fn(x, y, alpha=1.5) > 0.0
    with pytest.raises(ValueError, match="finite p-th moment"):
        wasserstein_to_law(x, stats.norm(), alpha=1.0)


@pytest.mark.parametrize(
    "law,p",
    [
        (stats.levy_stable(1.0, 0.0), 1.0),
        (stats.levy_stable(0.7, 0.0), 1.0),
        (stats.levy_stable(1.5, 0.0), 1.5),
        (stats.levy_stable(1.5, 0.0, loc=2.0, scale=3.0), 1.8),
        (stats.cauchy(), 1.0),
        (stats.t(1.5), 2.0),
        (stats.pareto(0.9), 1.0),
    ],
)
def test_law_with_infinite_moment_is_refused(law, p):
    with pytest.raises(ValueError, match="finite p-th moment"):
        wasserstein_to_law(np.zeros(4), law, p=p)


def test_divergent_integral_is_detected_for_unknown_laws():
    # a bare ppf carries no family name: divergence is caught by the end-point fit
    with pytest.raises(ValueError, match="infinite"):
        wasserstein_to_law(np.zeros(4), stats.cauchy.ppf)


# ---------------------------------------------------------------------------
# sample to law: closed forms


def _norm_abs_moment(p):  # E|Z|^p, Z ~ N(0, 1)
    return 2.0 ** (p / 2) * special.gamma((p + 1) / 2) / math.sqrt(math.pi)


def _stable_abs_moment(alpha, p):  # E|X|^p, X ~ S_alpha(1), -1 < p < alpha
    return (2.0**p * special.gamma((1 + p) / 2) * special.gamma(1 - p / alpha)
            / (math.sqrt(math.pi) * special.gamma(1 - p / 2)))


@pytest.mark.parametrize("c", [0.0, 0.3, -2.0, 7.0, 40.0])
def test_point_mass_normal(c):
    # W_1(delta_c, N(0,1)) = E|Z - c| = 2 phi(c) + c (2 Phi(c) - 1); W_2^2 = 1 + c^2
    ref1 = 2 * stats.norm.pdf(c) + c * (2 * stats.norm.cdf(c) - 1)
    assert rel(wasserstein_to_law([c], stats.norm()), ref1) < 1e-13
    assert rel(wasserstein_to_law([c], stats.norm(), p=2), math.sqrt(1 + c * c)) < 1e-13


@pytest.mark.parametrize("p", [1.0, 1.5, 2.0, 3.0])
def test_point_mass_normal_moments(p):
    ref = 1.7 * _norm_abs_moment(p) ** (1 / p)
    assert rel(wasserstein_to_law([0.4], stats.norm(0.4, 1.7), p=p), ref) < 1e-13


@pytest.mark.parametrize("c", [0.0, 0.2, 0.5, 0.9, 1.5])
def test_point_mass_uniform(c):
    # E|U - c| = c^2 - c + 1/2 on [0, 1]; c - 1/2 beyond
    ref = c * c - c + 0.5 if c <= 1 else c - 0.5
    assert wasserstein_to_law([c], stats.uniform()) == pytest.approx(ref, rel=1e-13, abs=1e-15)


@pytest.mark.parametrize("c", [0.0, 1.0, 5.0])
def test_point_mass_exponential(c):
    # E|X - c| = c - 1 + 2 e^{-c} for X ~ Exp(1), c >= 0
    assert rel(wasserstein_to_law([c], stats.expon()), c - 1 + 2 * math.exp(-c)) < 1e-13


@pytest.mark.parametrize("n", [1, 2, 20, 501])
def test_uniform_midpoint_quantiles(n):
    # x_i = (i - 1/2)/n: each plateau contributes int_{-h}^{h} |s|^p ds, h = 1/(2n)
    x = (np.arange(n) + 0.5) / n
    assert rel(wasserstein_to_law(x, stats.uniform()), 1 / (4 * n)) < 1e-12
    assert rel(wasserstein_to_law(x, stats.uniform(), p=2), 1 / (math.sqrt(12) * n)) < 1e-12


@pytest.mark.parametrize("alpha,p", [(1.2, 1.0), (1.5, 1.0), (1.9, 1.0), (1.99, 1.0),
                                     (1.5, 1.3), (1.9, 1.5), (1.2, 1.1)])
def test_point_mass_stable_moment(alpha, p):
    # W_p(delta_0, S_alpha(1))^p = E|X|^p (closed form); the integral reaches t = 1e-200
    ref = _stable_abs_moment(alpha, p) ** (1 / p)
    got = wasserstein_to_law([0.0], stats.levy_stable(alpha, 0.0), p=p)
    # tabulated quantiles are accurate to ~1e-10 relative (module notes)
    assert rel(got, ref) < 1e-9


def _stable_eabs(alpha, c):
    """E|X - c|, X ~ S_alpha(1), by Fourier quadrature (independent of the table).

    E|X - c| = |c| + (2/pi) int_0^inf cos(uc) (1 - e^{-u^alpha}) / u^2 du.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        h = lambda u: (-math.expm1(-(u**alpha)) / u**alpha if u > 0 else 1.0) * math.cos(u * c)  # noqa: E731
        i1 = integrate.quad(h, 0, 1, weight="alg", wvar=(alpha - 2, 0), epsabs=1e-15,
                            epsrel=1e-13, limit=200)[0]
        g = lambda u: -math.expm1(-(u**alpha)) / u**2  # noqa: E731
        i2 = integrate.quad(g, 1, np.inf, weight="cos", wvar=c, epsabs=1e-15, limit=400)[0]
    return abs(c) + 2 / math.pi * (i1 + i2)


@pytest.mark.parametrize("alpha", [1.2, 1.5, 1.9])
@pytest.mark.parametrize("c", [0.5, -3.0, 12.0, 80.0])
def test_point_mass_stable_shifted(alpha, c):
    # the Fourier reference is good to ~1e-12; table accuracy ~1e-10
    assert rel(wasserstein_to_law([c], stats.levy_stable(alpha, 0.0)), _stable_eabs(alpha, c)) < 1e-9


def test_stable_loc_scale():
    alpha, loc, scale, c = 1.6, -1.5, 0.7, 2.0
    got = wasserstein_to_law([c], stats.levy_stable(alpha, 0.0, loc=loc, scale=scale))
    assert rel(got, scale * _stable_eabs(alpha, (c - loc) / scale)) < 1e-9


def test_stable_alpha_two_is_gaussian():
    x = np.random.default_rng(4).standard_normal(300)
    a = wasserstein_to_law(x, stats.levy_stable(2.0, 0.0, loc=0.1, scale=0.8), p=2)
    b = wasserstein_to_law(x, stats.norm(0.1, 0.8 * math.sqrt(2.0)), p=2)
    assert a == b


# ---------------------------------------------------------------------------
# sample to law: brute force and consistency


def _w1_cdf_form(x, law):
    """W_1 = int |F_n - F| dx by adaptive quadrature between sample points (normal law)."""
    x = np.sort(x)
    n = x.size
    m, s = law.mean(), law.std()

    def e_plus(c):  # E (X - c)^+
        z = (c - m) / s
        return s * (stats.norm.pdf(z) - z * stats.norm.sf(z))

    total = (x[0] - m) + e_plus(x[0]) + e_plus(x[-1])  # the two tails
    for i in range(n - 1):
        q = law.ppf((i + 1) / n)
        pts = [q] if x[i] < q < x[i + 1] else None
        total += integrate.quad(lambda t, i=i: abs((i + 1) / n - law.cdf(t)), x[i], x[i + 1],
                                epsabs=0, epsrel=1e-13, limit=200, points=pts)[0]
    return total


@pytest.mark.parametrize("n", [2, 7, 30])
def test_normal_sample_matches_cdf_form_quadrature(n):
    rng = np.random.default_rng(n)
    x = 1.3 * rng.standard_normal(n) + 0.2
    law = stats.norm(0.1, 1.2)
    assert rel(wasserstein_to_law(x, law), _w1_cdf_form(x, law)) < 1e-11


@pytest.mark.parametrize("n,p", [(3, 2.0), (10, 2.0), (10, 1.5)])
def test_normal_sample_matches_quantile_quadrature(n, p):
    rng = np.random.default_rng(20 + n)
    x = np.sort(rng.standard_normal(n))
    law = stats.norm()
    total = 0.0
    for i in range(n):
        a, b = i / n, (i + 1) / n
        t_star = law.cdf(x[i])
        pts = [t_star] if a < t_star < b else None
        total += integrate.quad(lambda t, i=i: abs(x[i] - law.ppf(t)) ** p, a, b,
                                epsabs=0, epsrel=1e-13, limit=200, points=pts)[0]
    assert rel(wasserstein_to_law(x, law, p=p), total ** (1 / p)) < 1e-11


def test_bare_ppf_matches_frozen_law():
    x = np.random.default_rng(6).standard_normal(500)
    # the bare ppf extrapolates the upper tail beyond 1 - t = 1e-10 (documented ~1e-10)
    assert rel(wasserstein_to_law(x, stats.norm.ppf), wasserstein_to_law(x, stats.norm())) < 1e-9
    x = np.random.default_rng(6).standard_t(3, 200)
    a = wasserstein_to_law(x, lambda t: stats.t.ppf(t, 3))
    assert rel(a, wasserstein_to_law(x, stats.t(3))) < 1e-6  # power-law tail extrapolated


def test_to_law_vs_huge_sample_normal():
    # |W(x, mu) - W(x, nu_N)| <= W(nu_N, mu) (triangle inequality), with nu_N the
    # midpoint quantiles of mu: a deterministic huge sample whose distance is tiny
    x = np.random.default_rng(7).standard_normal(2000)
    big = stats.norm.ppf((np.arange(400_000) + 0.5) / 400_000)
    d_big = wasserstein_to_law(big, stats.norm())
    assert d_big < 1e-5
    assert abs(wasserstein_to_law(x, stats.norm()) - wasserstein(x, big)) <= d_big * (1 + 1e-9)


def test_to_law_vs_huge_sample_stable():
    # Same with a huge CMS sample from poc.sample_stable: it also checks that the
    # sampler and the tabulated law agree. W_1(nu_N, S_1.5) ~ N^(-1/3) is dominated by
    # the largest draw (~ max|X| / N): 0.02-0.06 for N = 10^6 over seeds; exceeding
    # 0.1 needs max|X| > 10^5 (probability ~1 %). A wrong scale would give ~0.3.
    alpha = 1.5
    law = stats.levy_stable(alpha, 0.0, scale=0.6)
    x = 0.6 * poc.sample_stable(alpha, 3000, seed=1)
    big = 0.6 * poc.sample_stable(alpha, 1_000_000, seed=2)
    d_big = wasserstein_to_law(big, law)
    assert d_big < 0.1
    assert abs(wasserstein_to_law(x, law) - wasserstein(x, big)) <= d_big * (1 + 1e-9)
    assert wasserstein_to_law(x, law) < 0.2


def test_to_law_shift_and_scale_identities():
    rng = np.random.default_rng(9)
    x = rng.standard_normal(400)
    base = wasserstein_to_law(x, stats.norm(), p=2)
    assert rel(wasserstein_to_law(3.0 + 2.0 * x, stats.norm(3.0, 2.0), p=2), 2.0 * base) < 1e-12
    y = rng.standard_t(5, 300)
    b2 = wasserstein_to_law(y, stats.levy_stable(1.7, 0.0))
    assert rel(wasserstein_to_law(1 + 0.5 * y, stats.levy_stable(1.7, 0.0, 1.0, 0.5)), 0.5 * b2) < 1e-12


def test_to_law_validation():
    with pytest.raises(TypeError, match="discrete"):
        wasserstein_to_law([1.0], stats.poisson(3))
    with pytest.raises(TypeError, match="callable quantile function"):
        wasserstein_to_law([1.0], 3.0)
    with pytest.raises(ValueError, match="beta=0"):
        wasserstein_to_law([1.0], stats.levy_stable(1.5, 0.5))
    with pytest.raises(ValueError, match=r"shape \(n,\) or \(n, 1\)"):
        wasserstein_to_law(np.zeros((3, 2)), stats.norm())
    with pytest.raises(ValueError, match="x must be finite"):
        wasserstein_to_law([np.nan], stats.norm())
    with pytest.raises(ValueError, match="p must be"):
        wasserstein_to_law([0.0], stats.norm(), p=0.9)
    assert wasserstein_to_law(np.zeros((3, 1)), stats.norm()) == pytest.approx(math.sqrt(2 / math.pi))


# ---------------------------------------------------------------------------
# sliced


def _unit_rows(rng, k, d):
    th = rng.standard_normal((k, d))
    return th / np.linalg.norm(th, axis=1)[:, None]


@pytest.mark.parametrize("p", [1.0, 2.0, 1.5])
@pytest.mark.parametrize("n,m", [(500, 500), (800, 333)])
def test_sliced_matches_pot_with_same_projections(p, n, m):
    rng = np.random.default_rng(n + m)
    x = rng.standard_normal((n, 4))
    y = rng.standard_t(3, size=(m, 4)) + 0.5
    th = _unit_rows(rng, 40, 4)
    ref = ot.sliced_wasserstein_distance(x, y, projections=th.T, p=p)
    assert rel(sliced_wasserstein(x, y, p=p, projections=th), ref) < 1e-12


def test_sliced_shift_identity():
    # each projection of x + a is the projection of x shifted by <theta, a>
    rng = np.random.default_rng(1)
    x = rng.standard_normal((300, 3))
    a = np.array([1.0, -2.0, 0.5])
    th = _unit_rows(rng, 25, 3)
    for p in (1.0, 2.0, 1.7):
        ref = np.mean(np.abs(th @ a) ** p) ** (1 / p)
        assert rel(sliced_wasserstein(x, x + a, p=p, projections=th), ref) < 1e-12


def test_sliced_monte_carlo_mean():
    # E_theta <theta, a>^2 = |a|^2 / d for theta uniform on the sphere: SW_2(x, x + a)^2
    # is the mean of L = 20000 draws of <theta, a>^2 with sd |a|^2 sqrt(2/(d^2 (d+2)))/sqrt(L)
    d = 4
    a = np.array([3.0, 0.0, -4.0, 0.0])
    x = np.random.default_rng(0).standard_normal((5, d))
    sw2 = sliced_wasserstein(x, x + a, p=2, n_projections=20_000, seed=3) ** 2
    sd = 25.0 * math.sqrt(2.0 / (d * d * (d + 2))) / math.sqrt(20_000)
    assert abs(sw2 - 25.0 / d) < 4 * sd  # 4 sd: fails with probability ~6e-5


def test_sliced_in_one_dimension_is_exact():
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal(400), rng.exponential(size=250)
    assert rel(sliced_wasserstein(x, y, p=2, n_projections=3, seed=0), wasserstein(x, y, p=2)) < 1e-12


def test_sliced_seeding_and_threads():
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((2000, 6)), rng.standard_normal((1500, 6)) * 1.2
    a = sliced_wasserstein(x, y, n_projections=64, seed=5)
    assert sliced_wasserstein(x, y, n_projections=64, seed=5) == a
    assert sliced_wasserstein(x, y, n_projections=64, seed=np.random.default_rng(5)) == a
    assert sliced_wasserstein(x, y, n_projections=64, seed=6) != a
    old = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = sliced_wasserstein(x, y, n_projections=64, seed=5)
    finally:
        numba.set_num_threads(old)
    assert one == a  # bit-identical whatever the number of threads


def test_sliced_chunking_does_not_change_result(monkeypatch):
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((700, 3)), rng.standard_normal((500, 3))
    a = sliced_wasserstein(x, y, n_projections=37, seed=1)
    monkeypatch.setattr(wmod, "_SLICE_BUDGET", 5000)  # 4 directions/chunk
    assert sliced_wasserstein(x, y, n_projections=37, seed=1) == a


def test_sliced_lower_bounds_exact():
    # SW_p <= W_p (projections are 1-Lipschitz)
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((150, 3)), rng.laplace(size=(150, 3))
    for p in (1.0, 2.0):
        assert sliced_wasserstein(x, y, p=p, n_projections=200, seed=0) <= wasserstein(x, y, p=p)


def test_sliced_validation():
    x = np.zeros((4, 3))
    with pytest.raises(ValueError, match="unit-norm rows"):
        sliced_wasserstein(x, x, projections=np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"shape \(L, d\) with d=3"):
        sliced_wasserstein(x, x, projections=np.eye(2))
    with pytest.raises(ValueError, match="n_projections must be"):
        sliced_wasserstein(x, x, n_projections=0)
    with pytest.raises(ValueError, match="same dimension"):
        sliced_wasserstein(x, np.zeros((4, 2)))
    with pytest.raises(ValueError, match="seed must be"):
        sliced_wasserstein(x, x, seed=-1)
