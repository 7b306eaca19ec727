"""Tests of poc.probability: quantiles over replicates, their slopes in n, Wilson intervals."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from poc.compress import best_k_error
from poc.noise import sample_stable
from poc.probability import (
    QuantileFit,
    fit_quantile_rate,
    n_for_error,
    quantile_interval,
    quantile_ratio,
    smallest_n_reaching,
    wilson_interval,
)

X = np.array([16.0, 32.0, 64.0, 128.0, 256.0])


# ---------------------------------------------------------------------------
# quantile intervals


@pytest.mark.parametrize("r", [29, 30, 50, 100, 400])
@pytest.mark.parametrize("q", [0.5, 0.9])
def test_order_statistic_interval_has_exact_coverage_at_least_level(r, q):
    # [X_(j), X_(k)] covers the q-quantile with probability P(j <= B <= k-1), B ~ Bin(r, q):
    # find (j, k) from the returned ends of a sample of distinct ranks 1..r
    x = np.arange(1.0, r + 1.0)
    _, lo, hi = quantile_interval(x, q, level=0.95)
    j, k = int(lo), int(hi)
    cover = stats.binom.cdf(k - 1, r, q) - stats.binom.cdf(j - 1, r, q)
    assert cover >= 0.95
    assert cover < 0.99  # the shortest such pair, not a needlessly wide one


def test_quantile_interval_simulated_coverage():
    rng = np.random.default_rng(1)
    true = stats.norm.ppf(0.9)
    hits = sum(lo <= true <= hi for lo, hi in
               (quantile_interval(rng.standard_normal(30), 0.9)[1:] for _ in range(4000)))
    # exact coverage of the chosen ranks is 0.9556; 4000 draws: sd 0.0033, band +-4 sd
    assert abs(hits / 4000 - 0.9556) < 0.014


def test_quantile_interval_too_few_values_is_infinite_not_nan():
    est, lo, hi = quantile_interval([1.0, 2.0, 3.0, 4.0, 5.0], 0.9)
    assert math.isfinite(est) and math.isfinite(lo)
    assert hi == math.inf  # 5 values cannot bound the 0.9-quantile above at 95 %


def test_quantile_interval_estimate_is_numpy_quantile():
    x = np.random.default_rng(2).random(37)
    assert quantile_interval(x, 0.9)[0] == np.quantile(x, 0.9)


# ---------------------------------------------------------------------------
# Wilson


def test_wilson_matches_formula_and_is_in_unit_interval():
    p, lo, hi = wilson_interval(27, 30)
    z = stats.norm.ppf(0.975)
    c = (0.9 + z**2 / 60) / (1 + z**2 / 30)
    h = z * math.sqrt(0.9 * 0.1 / 30 + z**2 / 3600) / (1 + z**2 / 30)
    assert (p, lo, hi) == pytest.approx((0.9, c - h, c + h), rel=1e-12)
    _, lo0, hi0 = wilson_interval(0, 30)
    _, lo1, hi1 = wilson_interval(30, 30)
    assert lo0 == 0.0 and 0.0 < hi0 < 0.2
    assert hi1 == pytest.approx(1.0, abs=1e-15) and 0.8 < lo1 < 1.0


@pytest.mark.parametrize("p,t", [(0.9, 30), (0.9, 100), (0.5, 40), (0.97, 200)])
def test_wilson_exact_coverage_near_nominal(p, t):
    # exact coverage: sum of binomial probabilities of the counts whose interval covers p
    s = np.arange(t + 1)
    _, lo, hi = wilson_interval(s, np.full(t + 1, t))
    cover = float(stats.binom.pmf(s, t, p)[(lo <= p) & (p <= hi)].sum())
    # Brown, Cai, DasGupta (2001), Fig. 4: Wilson's coverage oscillates within ~0.02 of 0.95
    # for these t and p (it dips below near p = 1 - 1/t, which these avoid)
    assert abs(cover - 0.95) < 0.025


def test_wilson_simulated_coverage_at_nominal_rate():
    rng = np.random.default_rng(3)
    s = rng.binomial(100, 0.9, 20000)
    _, lo, hi = wilson_interval(s, 100)
    cover = float(np.mean((lo <= 0.9) & (0.9 <= hi)))
    exact = 0.9373  # this t and p, from the exact sum above
    assert abs(cover - exact) < 0.008  # 20000 draws: sd 0.0017, band +-4.7 sd
    assert abs(cover - 0.95) < 0.025


def test_wilson_bad_input():
    with pytest.raises(ValueError, match="successes must be in"):
        wilson_interval(31, 30)
    with pytest.raises(ValueError, match="trials must be >= 1"):
        wilson_interval(0, 0)
    with pytest.raises(TypeError, match="integer counts"):
        wilson_interval(2.5, 10)
    with pytest.raises(ValueError, match="level must be in"):
        wilson_interval(2, 10, level=1.0)


def test_smallest_n_reaching():
    ns = [16, 32, 64, 128]
    trials = [100, 100, 100, 100]
    assert smallest_n_reaching(ns, [50, 80, 97, 99], trials) == 64  # 97/100: lower end 0.915
    assert smallest_n_reaching(ns, [50, 80, 90, 93], trials) is None  # 93/100: 0.862
    with pytest.raises(ValueError, match="target must be in"):
        smallest_n_reaching(ns, [1, 2, 3, 4], trials, target=0.0)


# ---------------------------------------------------------------------------
# quantile slopes


def test_exact_power_law_quantiles():
    rows = [0.7 * n**-0.25 * np.linspace(0.5, 1.5, 40) for n in X]
    fit = fit_quantile_rate(X, rows)
    assert isinstance(fit, QuantileFit)
    assert fit.slope == pytest.approx(-0.25, abs=1e-12)
    assert fit.ci[0] < -0.25 < fit.ci[1]  # resamples differ between n: a real interval
    assert np.allclose(fit.predict(X), fit.quantiles, rtol=1e-12)
    n, lo, hi = n_for_error(fit, float(fit.predict(1000.0)))
    assert n == pytest.approx(1000.0, rel=1e-9)
    assert lo < 1000.0 < hi


def test_n_for_error_infinite_when_not_decreasing():
    rows = [n**0.1 * np.linspace(0.5, 1.5, 40) for n in X]
    fit = fit_quantile_rate(X, rows)
    assert n_for_error(fit, 0.01) == (math.inf, math.inf, math.inf)


def test_quantile_slope_interval_covers_true_slope():
    # log-normal replicates whose 0.9-quantile is exactly 2 n^-0.3
    hits = 0
    for seed in range(200):
        rng = np.random.default_rng(seed)
        rows = [2 * n**-0.3 * rng.lognormal(0.0, 0.5, 30) for n in X]
        f = fit_quantile_rate(X, rows, n_boot=400, seed=seed)
        hits += f.ci[0] <= -0.3 <= f.ci[1]
    # measured 0.973 over 1000 seeds (conservative); 200 seeds: sd 0.012, band > 3 sd below 0.95
    assert 0.91 <= hits / 200 <= 1.0


def test_toy_model_quantile_slope_is_the_iid_exponent():
    # i.i.d. symmetric stable rows (no drift: pure sampling), best-k error at kappa = 0.25:
    # for tail index alpha the error's quantiles decay like n^(1/2 - 1/alpha) = n^(-1/6)
    alpha = 1.5
    ns = 2 ** np.arange(8, 13)
    rows = [np.array([best_k_error(sample_stable(alpha, size=(int(n), 2),
                                                 seed=np.random.default_rng([int(n), s])),
                                   [0.25])[0] for s in range(100)]) for n in ns]
    fit = fit_quantile_rate(ns, rows, seed=0)
    # tolerance 0.03: finite-n bias of the exponent measured at -0.172 over n = 2^8..2^14
    # (200 replicates), i.e. 0.006 from -1/6, plus the interval's half-width here (~0.02)
    assert fit.ci[0] - 0.03 <= 0.5 - 1 / alpha <= fit.ci[1] + 0.03
    assert fit.ci[1] < 0.0


def test_fit_quantile_rate_ragged_rows_and_bad_input():
    rng = np.random.default_rng(4)
    rows = [rng.random(r) + 0.1 for r in (30, 40, 50)]
    fit = fit_quantile_rate([1.0, 2.0, 4.0], rows)
    assert fit.replicates.tolist() == [30, 40, 50]
    with pytest.raises(ValueError, match="at least 3 distinct"):
        fit_quantile_rate([1.0, 1.0, 2.0], rows)
    with pytest.raises(ValueError, match="q must be in"):
        fit_quantile_rate([1.0, 2.0, 4.0], rows, q=1.0)
    with pytest.raises(ValueError, match="positive"):
        fit_quantile_rate([1.0, 2.0, 4.0], [-r for r in rows])
    with pytest.raises(ValueError, match="one array of replicates per x"):
        fit_quantile_rate([1.0, 2.0, 4.0, 8.0], rows)
    with pytest.raises(TypeError, match="QuantileFit"):
        n_for_error(object(), 0.1)


# ---------------------------------------------------------------------------
# ratios


def test_quantile_ratio_paired():
    a = np.random.default_rng(5).lognormal(0, 1, 60)
    assert quantile_ratio(a, a) == (1.0, 1.0, 1.0)
    r, lo, hi = quantile_ratio(a, 2.0 * a)
    assert (r, lo, hi) == pytest.approx((0.5, 0.5, 0.5), rel=1e-12)
    r, lo, hi = quantile_ratio(a, np.random.default_rng(6).lognormal(0, 1, 60), paired=False)
    assert lo < r < hi
    with pytest.raises(ValueError, match="equal lengths"):
        quantile_ratio(a, a[:10])
