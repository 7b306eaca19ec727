"""Tests of the ``chaos`` check: its building blocks on small sizes, and that it can fail."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

import poc
from poc.checks import CHECKS, Context, chaos, get_check, run_check
from poc.checks.noise import stable_cdf
from poc.drifts import LinearMeanField, MeanFieldNetwork
from poc.limits import coupled_run, nonlinear_copies
from poc.noise import _stable
from poc.rates import RELATIONS, fit_rate, judge
from poc.transport import SortedReference, unit_directions

NS = np.array([32.0, 64.0, 128.0, 256.0, 512.0, 1024.0])


def _power_law_fit(slope: float, seed: int = 0, reps: int = 20, noise: float = 0.1):
    """A fit on synthetic replicates y = n^slope * lognormal(0, noise)."""
    rng = np.random.default_rng(seed)
    y = NS[:, None] ** slope * rng.lognormal(0.0, noise, (NS.size, reps))
    return fit_rate(NS, y)


# --------------------------------------------------------------------------- sliced W_1


@pytest.mark.parametrize("n, N", [(37, 500), (64, 2048), (1, 10), (300, 301)])
def test_sliced_w1_to_reference_matches_poc(n, N):
    rng = np.random.default_rng(n + N)
    x = _stable(rng, 1.5, 3 * n, 1.0).reshape(n, 3)
    ref = rng.standard_normal((N, 3)) * 1.3 + 0.2
    dirs = unit_directions(rng, 16, 3)
    got = SortedReference.build(ref, dirs).sliced_w1(x)
    want = poc.sliced_wasserstein(x, ref, p=1, projections=dirs)
    assert got == pytest.approx(want, rel=1e-11, abs=1e-13)


def test_w1_to_reference_one_dimension_against_scipy_and_shift():
    rng = np.random.default_rng(5)
    y = rng.standard_t(3, 999)
    x = np.concatenate([rng.standard_t(3, 40), y[:3]])  # ties with reference points
    one = np.ones((1, 1))
    sref = SortedReference.build(y[:, None], one)
    assert sref.sliced_w1(x[:, None]) == pytest.approx(stats.wasserstein_distance(x, y), rel=1e-12)
    # identity: W1(y + c, y) = |c| (the quantile functions differ by c everywhere)
    assert sref.sliced_w1((y + 0.37)[:, None]) == pytest.approx(0.37, rel=1e-12)
    assert sref.sliced_w1(y[:, None]) == pytest.approx(0.0, abs=1e-12)


# --------------------------------------------------------------------------- linear model


def test_linear_limit_law_tends_to_the_continuous_marginal():
    model = LinearMeanField(1.0, 2.0)
    for alpha in (1.3, 2.0):
        law = chaos.linear_limit_law(model, 1.0, alpha=alpha, sigma=0.7, step=1e-4, n_steps=10_000)
        exact = model.marginal(1.0, 1.0, alpha, 0.7)
        loc, scale = law.kwds["loc"], law.kwds["scale"]
        # Euler vs exact: O(step) relative differences of loc and scale
        assert loc == pytest.approx(exact.kwds["loc"], rel=1e-3)
        assert scale == pytest.approx(exact.kwds["scale"], rel=1e-3)


def test_copies_on_the_exact_path_follow_the_exact_law():
    model = LinearMeanField(1.0, 2.0)
    alpha, sigma, step, K, width, n = 1.5, 0.7, 0.05, 20, 100, 40
    ref = chaos.linear_exact_reference(model, 1.0, alpha=alpha, sigma=sigma, step=step,
                                       n_steps=K, width=width)
    xbar = nonlinear_copies(model, np.ones((n, width)), ref, seed=3).final.ravel()
    law = chaos.linear_limit_law(model, 1.0, alpha=alpha, sigma=sigma, step=step, n_steps=K)
    loc, scale = law.kwds["loc"], law.kwds["scale"]
    p = stats.kstest((xbar - loc) / scale, stable_cdf(alpha)).pvalue
    assert p > 1e-3  # 4000 exact draws: a correct law fails with probability 1e-3


def test_linear_coupling_scale_closed_form_when_a_equals_c():
    # a = c: rho = 1, q = 1 - h a, w_j = (c/a) (1 - q^(K-1-j))
    a = c = 1.5
    h, K, sigma, n = 0.05, 20, 0.7, 64
    q = 1.0 - h * a
    w = (c / a) * (1.0 - q ** (K - 1 - np.arange(K)))
    for alpha in (1.3, 2.0):
        want = sigma * h ** (1 / alpha) * n ** (1 / alpha - 1) * np.sum(w**alpha) ** (1 / alpha)
        got = chaos.linear_coupling_scale(LinearMeanField(a, c), alpha=alpha, sigma=sigma, step=h,
                                          n_steps=K, n=n)
        assert got == pytest.approx(want, rel=1e-12)
    assert chaos.linear_coupling_scale(LinearMeanField(1.0, 0.0), alpha=1.5, sigma=1.0, step=0.1,
                                       n_steps=5, n=8) == 0.0  # no interaction, no coupling error


def test_mean_abs_stable_against_the_characteristic_function():
    from scipy.integrate import quad

    for alpha in (1.3, 1.7, 2.0):
        # E|X| = (2/pi) int_0^inf (1 - Re phi(u)) / u^2 du with phi(u) = exp(-|u|^alpha)
        f = lambda u, a=alpha: -math.expm1(-(u**a)) / (u * u)  # noqa: E731
        want = 2 / math.pi * (quad(f, 0, 1)[0] + quad(f, 1, math.inf)[0])
        assert chaos.mean_abs_stable(alpha) == pytest.approx(want, rel=1e-8)
    assert chaos.mean_abs_stable(2.0) == pytest.approx(2 / math.sqrt(math.pi), rel=1e-14)


@pytest.mark.parametrize("alpha", [2.0, 1.5])
def test_linear_coupling_error_has_the_exact_law(alpha):
    model = LinearMeanField(1.0, 2.0)
    sigma, step, K, n, width = 0.7, 0.05, 20, 16, 3000
    ref = chaos.linear_exact_reference(model, 1.0, alpha=alpha, sigma=sigma, step=step,
                                       n_steps=K, width=width)
    run = coupled_run(model, np.ones((n, width)), ref, seed=11)
    diff = run.system.final - run.copies.final
    # the error is the same for every particle (it only involves the empirical mean)
    assert np.allclose(diff, diff[:1], rtol=1e-9, atol=1e-12)
    e = np.abs(diff[0])
    scale = chaos.linear_coupling_scale(model, alpha=alpha, sigma=sigma, step=step, n_steps=K, n=n)
    if alpha == 2.0:
        # |N| has CV 0.76: 3000 replicates give a 1.4 % standard error; 5 % is 3.6 SE
        assert e.mean() == pytest.approx(scale * chaos.mean_abs_stable(alpha), rel=0.05)
    else:
        # infinite variance: compare medians; the sample median's SE is ~3 % here
        want = scale * stats.levy_stable(alpha, 0).ppf(0.75)
        assert np.median(e) == pytest.approx(want, rel=0.1)


# --------------------------------------------------------------------------- verdicts


def test_judge_not_above_relation():
    assert "not_above" in RELATIONS
    fit = _power_law_fit(-0.5)
    v = judge(fit, -0.5, tolerance=0.05, relation="not_above")
    assert v.passed and "consistent with -1/2" in v.text
    faster = judge(_power_law_fit(-0.9), -0.5, tolerance=0.05, relation="not_above")
    assert faster.passed and "faster" in faster.text
    slower = judge(_power_law_fit(-0.2), -0.5, tolerance=0.05, relation="not_above")
    assert not slower.passed and "slower" in slower.text


def test_network_verdict_can_fail():
    assert chaos.network_verdict(_power_law_fit(-0.5)).passed
    assert chaos.network_verdict(_power_law_fit(-0.8)).passed  # faster than proven is fine
    v = chaos.network_verdict(_power_law_fit(-0.3))
    assert not v.passed and "slower" in v.text


def test_w1_verdict_can_fail():
    floor = _power_law_fit(-0.3, seed=1)
    assert chaos.w1_verdict(_power_law_fit(-0.3, seed=2), floor).passed
    assert not chaos.w1_verdict(_power_law_fit(-0.1, seed=2), floor).passed


def test_linear_verdict_tells_the_rates_apart():
    v, vs_half = chaos.linear_verdict(_power_law_fit(1 / 1.3 - 1), 1.3)
    assert v.passed and "slower than the theorem" in vs_half
    v, vs_half = chaos.linear_verdict(_power_law_fit(-0.5), 1.3)  # the theorem's rate: wrong here
    assert not v.passed and "below -1/2" not in vs_half
    v, vs_half = chaos.linear_verdict(_power_law_fit(-0.5), 2.0)
    assert v.passed and "coincide" in vs_half


# --------------------------------------------------------------------------- sizes and plumbing


def test_sizes():
    quick, full = chaos.settings(True), chaos.settings(False)
    assert quick.ns[0] == 32 and quick.ns[-1] == 1024 and full.ns[-1] >= 2**13
    assert set(quick.alphas) == {1.3, 1.5, 1.8, 2.0}
    assert chaos.reference_size(1024) == 32 * 1024
    # the reference inflates the coupling error at n_max by sqrt(1 + n/N) - 1 < 2 %
    assert math.sqrt(1 + 1 / chaos.REF_FACTOR) - 1 < 0.02
    assert "chaos" in CHECKS and get_check("chaos").NAME == "chaos"


@pytest.mark.filterwarnings("ignore::poc.studies.StudyWarning")  # run() silences it the same way
def test_network_experiment_on_small_sizes(tmp_path):
    st = chaos.Settings(ns=(8, 16, 32), reps_net=3, reps_w1_net=2, reps_lin=4, n_steps=10)
    ctx = Context(mode="quick", out=tmp_path, progress=False)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((st.m, st.d)) / math.sqrt(st.d)
    net = MeanFieldNetwork(X, np.tanh(X[:, 0]), "tanh")
    res = chaos._network_alpha(ctx, st, net, 1.5, 0)
    # the check's one progress bar counts the study's units: reference, 3 n blocks, half split
    assert ctx.units_bar().total == ctx.units_bar().n >= 5
    assert res["N"] == 32 * 32 and res["ce"].shape == (3, 3) and res["w1p"].shape == (3, 2)
    assert np.all(res["ce"] > 0) and 0 < res["ref_ratio"] < 1
    # |SW1(particles, ref) - SW1(copies, ref)| <= SW1(particles, copies) <= coupling error
    gap = np.abs(res["w1p"] - res["w1c"])
    assert np.all(gap <= res["ce"][:, :2] * (1 + 1e-12))
    # uniformly in time: the maximum over the grid is at least the error at T
    assert res["sup"].shape == res["ce"].shape and np.all(res["sup"] >= res["ce"])


@pytest.mark.slow
def test_chaos_check_quick_end_to_end(tmp_path, quick_context):
    result = run_check(get_check("chaos"), quick_context)
    assert result["passed"], [c["detail"] for c in result["cases"] if not c["passed"]]
    data = json.loads((tmp_path / "chaos.json").read_text())
    assert data["figures"] == ["chaos.png"] and (tmp_path / "chaos.png").stat().st_size > 50_000
    net = [c for c in data["cases"] if c["name"].startswith("network coupling")]
    assert len(net) == 8 and all(c["ci"][0] <= -0.45 for c in net)  # at T and uniformly in time
    assert sum("uniformly in time" in c["name"] for c in net) == 4
    assert any("N = 32768" in c["detail"] for c in data["cases"])
