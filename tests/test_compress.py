"""Tests for poc.compress: best-k errors, the pruning rule, tail-index estimators."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats as st
from hypothesis import given, settings
from hypothesis import strategies as hst
from hypothesis.extra.numpy import arrays

from poc import sample_stable
from poc.compress import (
    best_k_approximation,
    best_k_error,
    block_sum_tail_index,
    hill,
    prunable_fraction,
)

# ---------------------------------------------------------------------------
# independent reference implementations (plain loops / direct norms)


def _best_k_error_direct(W, k):
    """||W - W^(k)||_F / ||W||_F by building W^(k) from a full sort of the row norms."""
    W = np.asarray(W, dtype=float).reshape(len(W), -1)
    order = sorted(range(len(W)), key=lambda i: -np.linalg.norm(W[i]))
    Wk = np.zeros_like(W)
    Wk[order[:k]] = W[order[:k]]
    return np.linalg.norm(W - Wk) / np.linalg.norm(W)


def _hill_direct(x, k):
    a = sorted(np.abs(x), reverse=True)
    return 1.0 / (sum(math.log(a[i] / a[k]) for i in range(k)) / k)


# ---------------------------------------------------------------------------
# best_k_error: hand-computed cases and identities


def test_best_k_error_hand_computed_matrix():
    # row norms 5, 1, 1, 0; ||W||_F^2 = 27
    W = np.array([[3.0, 4.0], [0.0, 1.0], [1.0, 0.0], [0.0, 0.0]])
    err = best_k_error(W, [0.25, 0.5, 0.75, 1.0])
    np.testing.assert_allclose(err, [math.sqrt(2 / 27), math.sqrt(1 / 27), 0.0, 0.0], rtol=1e-15)
    assert isinstance(best_k_error(W, 0.25), float)
    assert best_k_error(W, 0.25) == pytest.approx(math.sqrt(2 / 27), rel=1e-15)


def test_best_k_error_vector_lp():
    x = np.array([3.0, -1.0, 2.0, 0.5])
    # keep 2 (|3|, |2|): dropped |-1|, |0.5|
    assert best_k_error(x, 0.5, p=1) == pytest.approx(1.5 / 6.5, rel=1e-15)
    assert best_k_error(x, 0.5) == pytest.approx(math.sqrt(1.25 / 14.25), rel=1e-15)
    assert best_k_error(x, 0.5, p=3) == pytest.approx((1.125 / 36.125) ** (1 / 3), rel=1e-14)
    assert best_k_error(x, 0.5, p=np.inf) == pytest.approx(1.0 / 3.0, rel=1e-15)
    assert best_k_error(x, 0.25, p=np.inf) == pytest.approx(2.0 / 3.0, rel=1e-15)


def test_kappa_rounding_is_robust():
    # 0.1 * 30 == 3.0000000000000004 in float64; k must be 3, not 4
    x = np.arange(1.0, 31.0)
    expected = math.sqrt(np.sum(x[:27] ** 2) / np.sum(x**2))
    assert best_k_error(x, 0.1) == pytest.approx(expected, rel=1e-14)
    assert np.count_nonzero(best_k_approximation(x, 0.1)) == 3
    # a kappa clearly above 3/30 rounds up to 4
    assert np.count_nonzero(best_k_approximation(x, 0.1 + 1e-6)) == 4
    for n in (7, 10, 30, 100, 1000):
        for k in range(1, n + 1):
            assert np.count_nonzero(best_k_approximation(np.arange(1.0, n + 1), k / n)) == k


@pytest.mark.parametrize(("n", "k"), [(10, 1), (10, 3), (30, 3), (1000, 17), (1000, 999)])
def test_exactly_k_nonzero_entries_have_zero_error(n, k):
    rng = np.random.default_rng(n + k)
    x = np.zeros(n)
    x[rng.choice(n, size=k, replace=False)] = rng.standard_cauchy(k) + 5.0
    assert best_k_error(x, k / n) == 0.0
    assert best_k_error(x, k / n, p=1) == 0.0
    W = np.zeros((n, 3))
    W[rng.choice(n, size=k, replace=False)] = rng.standard_normal((k, 3))
    assert best_k_error(W, k / n) == 0.0
    if k > 1:  # one row fewer than the support gives a positive error
        assert best_k_error(W, (k - 1) / n) > 0.0


def test_kappa_one_gives_zero_and_vectorised_shape():
    W = sample_stable(1.5, (200, 5), seed=1)
    assert best_k_error(W, 1.0) == 0.0
    kappas = np.linspace(0.01, 1.0, 25)
    err = best_k_error(W, kappas)
    assert err.shape == (25,)
    np.testing.assert_array_equal(err, [best_k_error(W, float(k)) for k in kappas])


def test_best_k_error_matches_direct_implementation():
    rng = np.random.default_rng(3)
    for alpha, shape in [(1.2, (150, 4)), (1.8, (97, 1)), (2.0, (64, 10))]:
        W = sample_stable(alpha, shape, seed=rng)
        n = shape[0]
        for kappa in (0.01, 0.1, 0.33, 0.5, 0.9):
            k = math.ceil(round(kappa * n, 9))
            assert best_k_error(W, kappa) == pytest.approx(_best_k_error_direct(W, k), rel=1e-12)
            Wk = best_k_approximation(W, kappa)
            assert np.linalg.norm(W - Wk) / np.linalg.norm(W) == pytest.approx(
                best_k_error(W, kappa), rel=1e-12
            )


@pytest.mark.parametrize("c", [2.0**-40, 1e-3, 7.3, 1e5, -2.0, 2.0**600])
def test_best_k_error_scale_invariant(c):
    W = sample_stable(1.5, (300, 3), seed=4)
    kappas = np.array([0.05, 0.2, 0.5, 0.8])
    ref = best_k_error(W, kappas)
    # powers of two scale exactly; other factors change the last bits of the norms
    np.testing.assert_allclose(best_k_error(c * W, kappas), ref, rtol=1e-13)
    if math.log2(abs(c)).is_integer():
        np.testing.assert_array_equal(best_k_error(c * W, kappas), ref)
        assert prunable_fraction(c * W) == prunable_fraction(W)


def test_huge_weights_do_not_overflow():
    W = np.full((4, 3), 1.5e308)
    W[0] = 0.0
    assert best_k_error(W, 0.5) == pytest.approx(math.sqrt(1 / 3), rel=1e-15)
    assert prunable_fraction(W, 0.3) == 0.25
    assert best_k_error(np.array([1e308, -1e308, 1e-300]), 2 / 3, p=10) < 1e-300 + 1e-16


def test_best_k_approximation_ties_are_stable():
    W = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, 2.0]])
    np.testing.assert_array_equal(best_k_approximation(W, 0.5), [[1, 0], [0, 0], [0, 0], [0, 2]])
    out = best_k_approximation(W, 0.75)
    np.testing.assert_array_equal(out, [[1, 0], [0, 1], [0, 0], [0, 2]])
    assert out is not W and W[2, 0] == -1.0


# ---------------------------------------------------------------------------
# prunable_fraction


def test_prunable_fraction_hand_computed():
    # squared norms 1, 1, 1, 1, 16 (total 20): cumulative ratios 0.05, 0.1, 0.15, 0.2, 1
    x = np.array([1.0, -1.0, 4.0, 1.0, 1.0])
    assert prunable_fraction(x) == 0.4  # equality (2/20 == 0.1) counts as allowed
    assert prunable_fraction(x, return_count=True) == 2
    assert prunable_fraction(x, 0.0999) == 0.2
    assert prunable_fraction(x, 0.2) == 0.8
    assert prunable_fraction(x, 0.04) == 0.0
    W = np.array([[3.0, 4.0], [0.0, 1.0], [1.0, 0.0], [0.0, 0.0]])  # squares 25, 1, 1, 0
    assert prunable_fraction(W) == 0.75
    assert prunable_fraction(W, 0.03, return_count=True) == 1  # 1/27 > 0.03
    assert prunable_fraction(W, 0.08, return_count=True) == 3  # 2/27 <= 0.08


def test_prunable_fraction_agrees_with_best_k_error():
    n = 500
    for alpha in (1.5, 2.0):
        W = sample_stable(alpha, (n, 4), seed=5)
        for thr in (0.001, 0.01, 0.1, 0.5):
            j = prunable_fraction(W, thr, return_count=True)
            assert best_k_error(W, (n - j) / n) ** 2 <= thr * (1 + 1e-12)
            if j < n - 1:  # at alpha = 1.5 a single row can hold > 90% of the mass
                assert best_k_error(W, (n - j - 1) / n) ** 2 > thr
    assert 0 < prunable_fraction(W, 0.1, return_count=True) < n - 1  # Gaussian: mid-range


def test_heavier_tails_are_more_prunable():
    # the paper's claim in miniature: i.i.d. heavy-tailed rows are more compressible
    fr = {a: prunable_fraction(sample_stable(a, (5000, 8), seed=6)) for a in (1.2, 1.6, 2.0)}
    assert fr[1.2] > fr[1.6] > fr[2.0]


# ---------------------------------------------------------------------------
# bad input


@pytest.mark.parametrize(
    ("W", "match"),
    [
        (np.zeros((0, 3)), "at least 1 element"),
        (np.zeros((3, 0)), "at least 1 element"),
        (np.array([[1.0, np.nan]]), "finite"),
        (np.array([1.0, np.inf]), "finite"),
        (np.zeros((4, 2)), "all zeros"),
        (np.ones((2, 2, 2)), "1-D or 2-D"),
        ("abc", "array of real numbers"),
    ],
)
def test_bad_weights(W, match):
    with pytest.raises(ValueError, match=match):
        best_k_error(W, 0.5)
    with pytest.raises(ValueError, match=match):
        prunable_fraction(W)
    with pytest.raises(ValueError, match=match):
        best_k_approximation(W, 0.5)


@pytest.mark.parametrize("kappa", [0.0, -0.1, 1.0000001, 2, np.nan, [0.5, 0.0], [0.5, 1.5]])
def test_bad_kappa(kappa):
    with pytest.raises(ValueError, match=r"kappa must be .*\(0, 1\]"):
        best_k_error(np.ones(5), kappa)


def test_bad_threshold_and_p():
    for thr in (0.0, 1.0, -0.5, 1.5, np.nan):
        with pytest.raises(ValueError, match=r"threshold must be .*\(0, 1\)"):
            prunable_fraction(np.ones(5), thr)
    with pytest.raises(TypeError, match="return_count must be a bool"):
        prunable_fraction(np.ones(5), return_count=1)
    with pytest.raises(ValueError, match=r"p must be in \[1, inf\], got 0.5"):
        best_k_error(np.ones(5), 0.5, p=0.5)
    with pytest.raises(ValueError, match=r"p must be in \[1, inf\], got nan"):
        best_k_error(np.ones(5), 0.5, p=float("nan"))
    with pytest.raises(ValueError, match=r"kappa must be in \(0, 1\], got 0.0$"):
        best_k_error(np.ones(5), [0.5, 0.0])
    with pytest.raises(TypeError, match="kappa must be a real number"):
        best_k_approximation(np.ones(5), [0.5])


# ---------------------------------------------------------------------------
# property tests


_weights = arrays(
    np.float64,
    hst.tuples(hst.integers(1, 40), hst.integers(1, 4)),
    elements=hst.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
).filter(lambda W: np.any(W != 0.0))


@settings(max_examples=150, deadline=None)
@given(W=_weights, p=hst.sampled_from([1.0, 1.5, 2.0, 4.0, math.inf]))
def test_best_k_error_monotone_and_bounded(W, p):
    kappas = np.linspace(0.005, 1.0, 60)
    err = best_k_error(W, kappas, p=p)
    assert np.all((err >= 0.0) & (err <= 1.0))
    assert np.all(np.diff(err) <= 0.0)
    assert err[-1] == 0.0


@settings(max_examples=150, deadline=None)
@given(W=_weights, thr=hst.floats(0.001, 0.999))
def test_prunable_fraction_property(W, thr):
    n = W.shape[0]
    j = prunable_fraction(W, thr, return_count=True)
    assert 0 <= j <= n - 1  # the largest row alone exceeds any threshold < 1
    assert prunable_fraction(W, thr) == j / n
    assert best_k_error(W, (n - j) / n) ** 2 <= thr * (1 + 1e-9)
    if j < n - 1:  # removing one more row would break the budget
        assert best_k_error(W, (n - j - 1) / n) ** 2 > thr * (1 - 1e-9)


# ---------------------------------------------------------------------------
# Hill estimator


def test_hill_hand_computed():
    x = np.exp([0.0, 3.0, 1.0, 2.0])  # sorted logs 3, 2, 1, 0
    # k = 2: mean(log(e^3/e^1), log(e^2/e^1)) = 1.5 -> alpha = 2/3
    assert hill(x, 2) == pytest.approx(2.0 / 3.0, rel=1e-14)
    np.testing.assert_allclose(hill(x, [1, 2, 3]), [1.0, 2.0 / 3.0, 0.5], rtol=1e-14)
    assert hill(-x, 2) == hill(x, 2)  # signs dropped
    assert hill(x) == pytest.approx(2.0 / 3.0, rel=1e-14)  # default k = isqrt(4) = 2


def test_hill_matches_direct_and_scipy_pareto_mle():
    x = sample_stable(1.4, 3000, seed=7)
    a = np.sort(np.abs(x))[::-1]
    for k in (5, 54, 300, 2999):
        assert hill(x, k) == pytest.approx(_hill_direct(x, k), rel=1e-11)
        # Hill is the MLE of the Pareto index of the k exceedances over X_(k+1)
        b, _, _ = st.pareto.fit(a[:k], floc=0.0, fscale=a[k])
        assert hill(x, k) == pytest.approx(b, rel=1e-9)
    np.testing.assert_allclose(hill(x, np.array([5, 54, 300])), [hill(x, 5), hill(x, 54),
                                                                  hill(x, 300)], rtol=1e-14)


def test_hill_scale_invariant():
    x = sample_stable(1.5, 2000, seed=8)
    for c in (1e-100, 0.3, 2.0, 1e100):
        assert hill(c * x) == pytest.approx(hill(x), rel=1e-9)


def test_hill_pareto():
    b = 1.5
    x = st.pareto.rvs(b, size=100_000, random_state=np.random.default_rng(9))
    # exact Pareto: 1/alpha_hat is a mean of k Exp(1/b), so sd(alpha_hat) ~ b / sqrt(k)
    assert abs(hill(x) - b) < 0.3  # default k = 316: sd ~ 0.084, 0.3 ~ 3.5 sd
    assert abs(hill(x, 10_000) - b) < 0.06  # no bias for exact Pareto; sd ~ 0.015, 4 sd


@pytest.mark.parametrize(("alpha", "seed"), [(1.2, 10), (1.5, 11), (1.8, 12)])
def test_tail_indices_on_stable_samples(alpha, seed):
    x = sample_stable(alpha, 100_000, seed=seed)
    # block sum: over 20 seeds the error had mean <= 0.01 and sd <= 0.04 at n = 1e5; 0.15 ~ 4 sd
    assert abs(block_sum_tail_index(x) - alpha) < 0.15
    # Hill, default k = 316: bias <= 0.05 and sd <= 0.08 over 20 seeds; 0.3 = bias + 3 sd
    assert abs(hill(x) - alpha) < 0.3


def test_hill_default_k_beats_ten_percent_on_stable():
    # Hill is biased upwards on stable laws once k/n is not small: at alpha = 1.5, n = 1e5,
    # k = n/10 gave +0.22 (sd 0.016) over 20 seeds and k = sqrt(n) gave -0.01 (sd 0.06).
    x = sample_stable(1.5, 100_000, seed=13)
    assert hill(x, 10_000) - 1.5 > 0.15
    assert abs(hill(x) - 1.5) < hill(x, 10_000) - 1.5


def test_hill_errors():
    with pytest.raises(ValueError, match="at least 2 element"):
        hill([1.0])
    with pytest.raises(ValueError, match=r"k must be an integer in \[1, 4\], got 5"):
        hill(np.arange(1.0, 6.0), 5)
    with pytest.raises(ValueError, match=r"k must be an integer in \[1, 4\], got 0"):
        hill(np.arange(1.0, 6.0), [1, 0])
    with pytest.raises(TypeError, match="k must be None, an integer"):
        hill(np.arange(1.0, 6.0), 2.5)
    with pytest.raises(ValueError, match="at least k \\+ 1 = 3 nonzero"):
        hill([0.0, 0.0, 0.0, 1.0, 2.0], 2)
    with pytest.raises(ValueError, match="all equal"):
        hill([3.0, 3.0, -3.0, 1.0], 2)
    with pytest.raises(ValueError, match="finite"):
        hill([1.0, np.nan, 3.0])


# ---------------------------------------------------------------------------
# block-sum estimator


def test_block_sum_hand_computed():
    # K1 = 2: Y = (2, 2), mean log|Y| = log 2, mean log|X| = 0 -> 1/alpha = 1
    assert block_sum_tail_index([1.0, 1.0, 1.0, 1.0]) == pytest.approx(1.0, rel=1e-15)
    # Y = (4, -4); mean log|X| = log(3)/2 -> 1/alpha = 2 - log 3 / (2 log 2)
    expected = 1.0 / (2.0 - math.log(3.0) / (2.0 * math.log(2.0)))
    assert block_sum_tail_index([1.0, 3.0, -1.0, -3.0], k1=2) == pytest.approx(expected, rel=1e-14)
    # the trailing K - K1*K2 entries are ignored
    assert block_sum_tail_index([1.0, 3.0, -1.0, -3.0, 0.0], k1=2) == pytest.approx(expected)


def test_block_sum_with_scipy_sampler_and_gaussian():
    # independent sampler (scipy's own) at alpha = 1.5, K = 20000: sd ~ 0.06, tolerance 0.2
    x = st.levy_stable.rvs(1.5, 0.0, size=20_000, random_state=np.random.default_rng(14))
    assert abs(block_sum_tail_index(x) - 1.5) < 0.2
    g = np.random.default_rng(15).standard_normal(100_000)
    assert abs(block_sum_tail_index(g) - 2.0) < 0.15  # Gaussian = stable with alpha = 2


def test_block_sum_scale_invariant():
    x = sample_stable(1.3, 10_000, seed=16)
    ref = block_sum_tail_index(x)
    for c in (1e-200, 3.7, 1e200):
        assert block_sum_tail_index(c * x) == pytest.approx(ref, rel=1e-9)


def test_block_sum_errors():
    with pytest.raises(ValueError, match="at least 4 element"):
        block_sum_tail_index([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"k1 must be an integer in \[2, 3\], got 4"):
        block_sum_tail_index(np.arange(1.0, 7.0), k1=4)
    with pytest.raises(ValueError, match="nonzero"):
        block_sum_tail_index([1.0, 0.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="block sum of x is exactly zero"):
        block_sum_tail_index([1.0, -1.0, 2.0, 3.0], k1=2)
    with pytest.raises(ValueError, match="not look like a centred symmetric stable"):
        block_sum_tail_index([10.0, -9.9, 10.0, -9.9], k1=2)


# ---------------------------------------------------------------------------
# mce_prune / fraction_prune: the authors' rules


def _authors_mce(X, threshold):
    """Direct transcription of the authors' get_col_prune_idx (mce, fro_squared); X is (d, n)."""
    col_norms = np.linalg.norm(X, axis=0)
    sorted_X = X[:, np.argsort(col_norms)]
    idx_cutoff = np.argmax(np.cumsum((sorted_X**2).sum(0)) / (np.linalg.norm(X) ** 2) > threshold)
    return np.argsort(col_norms)[:idx_cutoff]


def _heavy_matrix(seed, n=300, d=20, dup=False):
    rng = np.random.default_rng(seed)
    W = rng.standard_t(1.5, size=(n, d)) * rng.pareto(1.2, size=(n, 1))
    if dup:  # ties: many copies of a few rows, so tie groups straddle the budget
        W[: n // 2] = W[rng.integers(0, 5, n // 2)]
    return W


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("threshold", [0.01, 0.1, 0.3])
@pytest.mark.parametrize("dup", [False, True])
def test_mce_prune_equals_the_authors_rule(seed, threshold, dup):
    from poc.compress import mce_prune

    W = _heavy_matrix(seed, dup=dup)
    got = mce_prune(W, threshold)
    want = _authors_mce(W.T, threshold)
    np.testing.assert_array_equal(got, want)
    assert got.size == prunable_fraction(W, threshold, return_count=True)
    assert prunable_fraction(W, threshold) == got.size / W.shape[0]


def test_mce_prune_ties_and_the_empty_case():
    from poc.compress import mce_prune

    W = np.ones((25, 4))  # equal norms: each row is 4% of the energy, so 2 rows fit in 10%
    np.testing.assert_array_equal(mce_prune(W), _authors_mce(W.T, 0.1))
    assert mce_prune(W).size == 2
    W = np.ones((5, 4))  # the smallest row alone is 20% > 10%: nothing is pruned
    assert mce_prune(W).size == 0 and _authors_mce(W.T, 0.1).size == 0
    assert mce_prune(W).dtype == np.int64
    W = np.array([[0.0, 0.0], [3.0, 4.0], [0.0, 0.0], [1.0, 0.0]])  # zero rows always go
    assert set(mce_prune(W, 0.01)) == {0, 2}


def test_fraction_prune_is_the_authors_fixed_fraction_rule():
    from poc.compress import fraction_prune

    W = _heavy_matrix(7, n=250)
    norms = np.linalg.norm(W, axis=1)
    for f in np.round(np.arange(0.0, 0.91, 0.1), 2):
        idx = fraction_prune(W, f)
        assert idx.size == int(250 * f)  # truncation, as their int(len * ratio)
        np.testing.assert_array_equal(idx, np.argsort(norms)[: int(250 * f)])
    with pytest.raises(ValueError, match=r"fraction must be in \[0, 1\), got 1"):
        fraction_prune(W, 1.0)
