r"""Compressibility measures and tail-index estimators.

Weights are taken as the toolkit holds them: an ``(n, d)`` array with one
hidden unit per row (the paper's columns ``theta_i``), as ``poc.simulate``
returns. A 1-D array is treated entry by entry (as ``n`` rows of length 1).

* :func:`best_k_error` -- relative error of the best k-term approximation
  that keeps the ``k = ceil(kappa n)`` rows of largest norm,
  ``||W - W^(k)||_F / ||W||_F`` (Gribonval, Cevher and Davies 2012);
* :func:`best_k_approximation` -- that approximation ``W^(k)`` itself;
* :func:`prunable_fraction` -- the paper's pruning rule: the largest fraction
  of rows that can be zeroed, smallest norms first, with squared relative
  Frobenius error at most ``threshold`` (Wan et al. 2024, Section 5);
* :func:`mce_prune` -- the rows that rule removes, exactly as the paper's
  code chooses them (ties included);
* :func:`fraction_prune` -- the paper's second rule: the rows of the
  ``floor(fraction n)`` smallest norms;
* :func:`hill` -- the Hill (1975) tail-index estimator, for any Pareto-type
  tail;
* :func:`block_sum_tail_index` -- the block-sum estimator of Mohammadi,
  Mohammadpour and Ogata (2015), for centred symmetric alpha-stable samples,
  as used by Simsekli, Sagun and Gurbuzbalaban (2019).

Both estimators return the tail index ``alpha`` (not ``1/alpha``).

All functions are sort-based NumPy code, ``O(n log n)``; no Numba kernel is
needed at the sizes the toolkit uses.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ._validation import ParameterTypeError, check_array, check_int, check_real

__all__ = [
    "best_k_approximation",
    "best_k_error",
    "block_sum_tail_index",
    "fraction_prune",
    "hill",
    "mce_prune",
    "prunable_fraction",
]

# Relative slack when rounding kappa * n up, so that ceil(0.1 * 30) is 3 and not 4
# (0.1 * 30 == 3.0000000000000004 in float64). Kappas within 1e-9 * n of an
# integer multiple of 1/n are read as that multiple.
_KAPPA_RTOL = 1e-9


# ---------------------------------------------------------------------------
# helpers


def _weights(W, name: str = "W") -> np.ndarray:
    """Validated 1-D or 2-D float64 weights with at least one nonzero entry."""
    arr = check_array(W, name, ndim=(1, 2))
    if not np.any(arr):
        raise ValueError(
            f"{name} is all zeros: the relative error ||W - W^(k)|| / ||W|| is undefined"
        )
    return arr


def _unit_norms(arr: np.ndarray) -> np.ndarray:
    """Row norms (|entries| for 1-D input) divided by a power of two near their max.

    Only exact power-of-two scalings are applied, so ratios of sums are
    unchanged while squares or p-th powers of huge heavy-tailed norms cannot
    overflow (and small ones do not underflow before the norm is taken).
    """
    _, e = np.frexp(np.max(np.abs(arr)))
    a = np.abs(np.ldexp(arr, -int(e)))  # entries now <= 1
    if a.ndim == 2:
        m = a.max(axis=1, keepdims=True)
        m[m == 0.0] = 1.0
        a = m[:, 0] * np.sqrt(np.sum((a / m) ** 2, axis=1))  # <= sqrt(d)
        _, e = np.frexp(a.max())
        a = np.ldexp(a, -int(e))
    return a


def _check_p(p) -> float:
    if isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise ParameterTypeError(
            f"p must be a real number in [1, inf], got {p!r} of type {type(p).__name__}"
        )
    if not p >= 1.0:  # also rejects NaN
        raise ValueError(f"p must be in [1, inf], got {p!r}")
    return float(p)


def _kappa_to_k(kappa, n: int) -> tuple[np.ndarray, bool]:
    """Validate kappa (scalar or 1-D) and return k = ceil(kappa n) and whether it was scalar."""
    if isinstance(kappa, numbers.Real) and not isinstance(kappa, bool):
        check_real(kappa, "kappa", low=0.0, high=1.0, low_open=True)
        kap = np.array([float(kappa)])
        scalar = True
    else:
        kap = check_array(kappa, "kappa", ndim=1)
        bad = (kap <= 0.0) | (kap > 1.0)
        if np.any(bad):
            raise ValueError(f"kappa must be in (0, 1], got {float(kap[bad][0])!r}")
        scalar = False
    x = kap * n
    k = np.ceil(x - _KAPPA_RTOL * np.maximum(x, 1.0)).astype(np.int64)
    return np.clip(k, 1, n), scalar


# ---------------------------------------------------------------------------
# public API


def best_k_error(W, kappa, *, p: float = 2.0):
    r"""Relative error of keeping the ``ceil(kappa n)`` largest-norm units.

    With ``a_i = ||theta_i||_2`` the norm of row ``i`` of ``W`` (or
    ``a_i = |x_i|`` for a 1-D vector) and ``k = ceil(kappa n)``, the best
    k-term approximation ``W^(k)`` keeps the ``k`` rows of largest norm and
    zeroes the others. The returned error is

    .. math:: \frac{\|W - W^{(k)}\|}{\|W\|}
              = \Big(\frac{\sum_{i \notin \text{top } k} a_i^p}{\sum_i a_i^p}\Big)^{1/p},

    which for ``p = 2`` is ``||W - W^(k)||_F / ||W||_F``. For a 1-D vector it
    is ``||x - x^(k)||_p / ||x||_p``; for a matrix and ``p != 2`` it is the
    group norm ``(sum_i ||theta_i||_2^p)^(1/p)``. Ties between equal norms do
    not change the error.

    Parameters
    ----------
    W : array_like, shape (n, d) or (n,)
        Weights, one hidden unit per row; or a vector, entry by entry.
        Finite, not all zero.
    kappa : float or array_like of shape (m,)
        Kept fraction(s), each in (0, 1]. ``k = ceil(kappa n)`` is computed
        with a relative slack of 1e-9, so ``kappa = 0.1, n = 30`` keeps 3.
    p : float, optional
        Exponent of the norm, ``>= 1`` or ``numpy.inf`` (default 2).

    Returns
    -------
    float or numpy.ndarray of shape (m,)
        Relative error(s) in [0, 1], non-increasing in kappa; 0 at
        ``kappa = 1``. A float for a scalar kappa, else an array.

    Raises
    ------
    ValueError
        If W is empty, not 1-D or 2-D, non-finite or all zero; if a kappa is
        outside (0, 1]; if p < 1.

    References
    ----------
    Gribonval, Cevher and Davies (2012), "Compressible distributions for
    high-dimensional statistics", IEEE Trans. Inf. Theory 58(8).
    Wan, Barsbey, Zaidi and Simsekli (2024), arXiv 2306.08125, Section 4.
    """
    arr = _weights(W)
    p = _check_p(p)
    a = _unit_norms(arr)
    n = a.size
    k, scalar = _kappa_to_k(kappa, n)
    a = np.sort(a)  # ascending: the dropped rows are a prefix
    if p == math.inf:
        # dropped max / overall max; the overall max is a[-1]
        padded = np.concatenate(([0.0], a))
        err = padded[n - k] / a[-1]
    else:
        # summing smallest first keeps the tail sums accurate
        cum = np.concatenate(([0.0], np.cumsum(a**p)))
        err = np.minimum(cum[n - k] / cum[-1], 1.0) ** (1.0 / p)
    return float(err[0]) if scalar else err


def best_k_approximation(W, kappa: float) -> np.ndarray:
    """The best k-term approximation ``W^(k)``: the ``ceil(kappa n)`` largest rows kept.

    Parameters
    ----------
    W : array_like, shape (n, d) or (n,)
        Weights, one hidden unit per row; or a vector, entry by entry.
        Finite, not all zero.
    kappa : float
        Kept fraction in (0, 1]; ``k = ceil(kappa n)`` as in :func:`best_k_error`.

    Returns
    -------
    numpy.ndarray, same shape as W
        A copy of ``W`` with all but the ``k`` rows (entries) of largest
        Euclidean norm set to zero. Among equal norms the lower index is kept
        (stable sort), so the result is deterministic.

    Raises
    ------
    ValueError
        As :func:`best_k_error`.
    """
    arr = _weights(W)
    kappa = check_real(kappa, "kappa", low=0.0, high=1.0, low_open=True)
    a = _unit_norms(arr)
    k, _ = _kappa_to_k(kappa, a.size)
    keep = np.argsort(-a, kind="stable")[: int(k[0])]
    out = np.zeros_like(arr)
    out[keep] = arr[keep]
    return out


def _mce_order(W, threshold) -> tuple[np.ndarray, int]:
    """(rows by increasing norm, number j* the rule removes); the one implementation of the rule."""
    arr = _weights(W)
    threshold = check_real(threshold, "threshold", low=0.0, high=1.0, low_open=True,
                           high_open=True)
    a = _unit_norms(arr)
    # NumPy's default argsort, as in the paper's code: among equal norms it picks the same rows
    order = np.argsort(a)
    cum = np.cumsum(a[order] ** 2)
    # cum is non-decreasing, so the removable prefixes are those with ratio <= threshold; the
    # paper's np.argmax(ratio > threshold) is the same count (0 when the smallest row alone
    # exceeds the budget)
    j = int(np.searchsorted(cum / cum[-1], threshold, side="right"))
    return order, j


def prunable_fraction(W, threshold: float = 0.1, *, return_count: bool = False):
    r"""Largest fraction of units that can be zeroed within a squared-error budget.

    The paper's pruning rule ("mce", maximum compression error): remove rows
    in increasing order of norm for as long as the squared relative
    Frobenius error stays at most ``threshold``,

    .. math:: j^* = \max\Big\{ j : \sum_{i \le j} a_{(i)}^2 \le
              \mathrm{threshold} \sum_i a_i^2 \Big\},

    with ``a_(1) <= a_(2) <= ...`` the sorted row norms (absolute entries for
    a 1-D vector), and return ``j* / n``. Rows of norm zero can always be
    removed. :func:`mce_prune` returns the rows themselves (``j*`` of them).

    Parameters
    ----------
    W : array_like, shape (n, d) or (n,)
        Weights, one hidden unit per row; or a vector, entry by entry.
        Finite, not all zero.
    threshold : float, optional
        Budget for ``||W - W_pruned||_F^2 / ||W||_F^2``, in (0, 1); the paper
        uses 0.1 (the default).
    return_count : bool, optional
        If True, return the number ``j*`` of removable rows instead of the
        fraction.

    Returns
    -------
    float or int
        ``j* / n`` in [0, 1) (or ``j*`` if ``return_count``). Larger means
        more compressible.

    Raises
    ------
    ValueError
        If W is empty, not 1-D or 2-D, non-finite or all zero, or threshold
        is outside (0, 1).

    References
    ----------
    Wan, Barsbey, Zaidi and Simsekli (2024), "Implicit Compressibility of
    Overparametrized Neural Networks Trained with Heavy-Tailed SGD",
    arXiv 2306.08125, Section 5 (pruning rule).
    """
    if not isinstance(return_count, bool | np.bool_):
        raise ParameterTypeError(
            f"return_count must be a bool, got {return_count!r} of type "
            f"{type(return_count).__name__}"
        )
    order, j = _mce_order(W, threshold)
    return j if return_count else j / order.size


def mce_prune(W, threshold: float = 0.1) -> np.ndarray:
    """Rows removed by the paper's pruning rule ("mce"), as its code chooses them.

    Rows are sorted by increasing Euclidean norm with NumPy's default
    ``argsort`` and the first ``j*`` of them are removed, ``j*`` the largest
    count whose squared relative Frobenius error is at most ``threshold``
    (:func:`prunable_fraction` is ``len(mce_prune(W)) / n``). No row is
    removed when the smallest one alone exceeds the budget. Among rows of
    equal norm that straddle the budget, the sort order decides which are
    removed, as in the authors' ``get_col_prune_idx``.

    Parameters
    ----------
    W : array_like, shape (n, d) or (n,)
        Weights, one hidden unit per row (the paper's columns: its code
        prunes columns of the transposed hidden weight matrix). Finite, not
        all zero.
    threshold : float, optional
        Budget for ``||W - W_pruned||_F^2 / ||W||_F^2``, in (0, 1) (default
        0.1, the paper's).

    Returns
    -------
    numpy.ndarray of int64, shape (j*,)
        Indices of the removed rows, smallest norm first (possibly empty).

    Raises
    ------
    ValueError
        As :func:`prunable_fraction`.

    References
    ----------
    Wan, Barsbey, Zaidi and Simsekli (2024), arXiv 2306.08125, Section 5;
    the authors' code, ``exp_utils.get_col_prune_idx`` with
    ``pruning_criterion="mce"`` and ``compression_error_metric="fro_squared"``.
    """
    order, j = _mce_order(W, threshold)
    return order[:j].astype(np.int64)


def fraction_prune(W, fraction: float) -> np.ndarray:
    """Rows removed by the paper's fixed-fraction rule: the ``floor(fraction n)`` smallest.

    Parameters
    ----------
    W : array_like, shape (n, d) or (n,)
        Weights, one hidden unit per row. Finite, not all zero.
    fraction : float
        Fraction of rows to remove, in [0, 1). The count is
        ``int(fraction * n)`` (truncated, as in the authors' code,
        ``pruning_criterion="parameter_ratio"``).

    Returns
    -------
    numpy.ndarray of int64, shape (int(fraction n),)
        Indices of the removed rows, smallest norm first (NumPy's default
        ``argsort`` order, as :func:`mce_prune`).

    Raises
    ------
    ValueError
        If W is invalid (as :func:`prunable_fraction`) or fraction is
        outside [0, 1).
    """
    arr = _weights(W)
    fraction = check_real(fraction, "fraction", low=0.0, high=1.0, high_open=True)
    a = _unit_norms(arr)
    return np.argsort(a)[: int(a.size * fraction)].astype(np.int64)


def hill(x, k=None):
    r"""Hill estimate of the tail index alpha of ``|x|``.

    With ``X_(1) >= X_(2) >= ... >= X_(n)`` the order statistics of ``|x|``
    (signs are dropped: the estimate is that of the tail of ``|X|``, which for
    a symmetric law has the same index as either tail),

    .. math:: \hat\alpha_k = \Big( \frac{1}{k} \sum_{i=1}^{k}
              \log \frac{X_{(i)}}{X_{(k+1)}} \Big)^{-1},

    which uses the ``k`` largest values above the threshold ``X_(k+1)``. It is
    consistent for any law with a regularly varying (Pareto-type) tail
    ``P(|X| > t) = t^(-alpha) L(t)`` as ``k -> inf``, ``k / n -> 0``.

    Default ``k = floor(sqrt(n))``. The bias of the Hill estimator grows with
    ``k / n`` at a rate set by the second-order term of the tail; for
    alpha-stable laws that term is ``t^(-2 alpha)`` (relative order
    ``t^(-alpha)``), and it is large when alpha is near 2, where the Gaussian
    body reaches far into the tail. At ``n = 1e5`` the mean error over 20
    symmetric stable samples is about -0.01 / -0.01 / +0.05 for alpha = 1.2 /
    1.5 / 1.8 with ``k = sqrt(n)``, against +0.03 / +0.22 / +1.0 with
    ``k = n / 10`` (see ``tests/test_compress.py``). ``sqrt(n)`` is a
    conservative choice that trades variance (about ``alpha / sqrt(k)``) for
    a small bias; for exact Pareto tails a larger ``k`` is unbiased and more
    precise.

    Parameters
    ----------
    x : array_like, shape (n,)
        Sample, ``n >= 2``, finite. For weights pass the row norms,
        ``numpy.linalg.norm(W, axis=1)``, or the entries ``W.ravel()``.
    k : int or array_like of int, optional
        Number(s) of upper order statistics, each in ``[1, n - 1]``. An array
        gives the Hill plot ``alpha_hat(k)`` in one sort. Default
        ``floor(sqrt(n))``.

    Returns
    -------
    float or numpy.ndarray
        The estimated tail index alpha (a float for scalar or default ``k``).

    Raises
    ------
    ValueError
        If x is not a finite 1-D array with ``n >= 2``, a k is out of range,
        ``X_(k+1) = 0`` (fewer than ``k + 1`` nonzero values), or the
        ``k + 1`` largest values are all equal (no tail to estimate).

    References
    ----------
    Hill (1975), "A simple general approach to inference about the tail of a
    distribution", Ann. Statist. 3(5). de Haan and Ferreira (2006), Extreme
    Value Theory, Section 3.2.
    """
    arr = check_array(x, "x", ndim=1, min_size=2)
    n = arr.size
    if k is None:
        ks = np.array([max(1, math.isqrt(n))])
        scalar = True
    elif isinstance(k, numbers.Integral) or (isinstance(k, float) and k.is_integer()):
        ks = np.array([check_int(k, "k", low=1, high=n - 1)])
        scalar = True
    else:
        ks_arr = np.asarray(k)
        if ks_arr.ndim != 1 or ks_arr.size == 0 or not np.issubdtype(ks_arr.dtype, np.integer):
            raise ParameterTypeError(
                f"k must be None, an integer or a non-empty 1-D array of integers, got {k!r}"
            )
        ks = ks_arr.astype(np.int64)
        bad = (ks < 1) | (ks > n - 1)
        if np.any(bad):
            raise ValueError(f"k must be an integer in [1, {n - 1}], got {int(ks[bad][0])}")
        scalar = False
    a = np.sort(np.abs(arr))[::-1]
    thresh = a[ks]
    if np.any(thresh == 0.0):
        kk = int(ks[thresh == 0.0][0])
        raise ValueError(
            f"hill needs at least k + 1 = {kk + 1} nonzero values of |x|, got "
            f"{int(np.count_nonzero(a))}"
        )
    if np.any(thresh == a[0]):
        kk = int(ks[thresh == a[0]][0])
        raise ValueError(
            f"the k + 1 = {kk + 1} largest values of |x| are all equal: the tail index is "
            "undefined"
        )
    # sum_{i<=k} log(X_(i) / X_(k+1)) = sum_{i<=k} (l_i - l_1) + k (l_1 - l_(k+1)), l = log X;
    # the shift by l_1 keeps the cumulative sum small, and one sort serves every k.
    logs = np.log(a[: int(ks.max()) + 1])
    cum = np.cumsum(logs[:-1] - logs[0])
    mean_excess = cum[ks - 1] / ks + (logs[0] - np.log(thresh))
    if np.any(mean_excess <= 0.0):  # cannot happen in exact arithmetic once a[0] > a[k]
        raise ValueError("the Hill mean excess is not positive: the top of |x| is degenerate")
    alpha = 1.0 / mean_excess
    return float(alpha[0]) if scalar else alpha


def block_sum_tail_index(x, k1=None) -> float:
    r"""Block-sum estimate of the index alpha of a symmetric alpha-stable sample.

    With ``K = K1 * K2`` draws ``X_1 .. X_K`` (the first ``K1 * K2`` entries of
    ``x``; at most ``K1 - 1`` trailing entries are ignored) and block sums
    ``Y_i = sum_{j=1}^{K1} X_{j + (i-1) K1}``,

    .. math:: \frac{1}{\hat\alpha} = \frac{1}{\log K_1} \Big(
              \frac{1}{K_2} \sum_{i=1}^{K_2} \log|Y_i| -
              \frac{1}{K} \sum_{i=1}^{K} \log|X_i| \Big).

    For an exact centred symmetric stable law ``Y_i`` has the law of
    ``K1^(1/alpha) X_1``, so ``1/alpha_hat`` is unbiased; unlike :func:`hill`
    it uses the whole sample, not only the tail, and is far less biased near
    alpha = 2. It assumes a *centred symmetric stable* law (or one close to
    it, in its domain of attraction with ``K1`` large): for non-negative data
    such as row norms the block sums grow like ``K1`` times the mean and the
    estimate drifts to 1. Use :func:`hill` there, or multiply by independent
    random signs first. The order of ``x`` matters only through the blocks:
    pass the sample in its draw order, never sorted.

    Parameters
    ----------
    x : array_like, shape (K,)
        Sample, finite and nonzero, ``K >= 4``.
    k1 : int, optional
        Block length ``K1`` in ``[2, K // 2]``. Default ``floor(sqrt(K))``,
        which balances the ``1 / log K1`` factor against the ``K2`` block
        sums averaged (both enter the standard error).

    Returns
    -------
    float
        The estimated tail index alpha.

    Raises
    ------
    ValueError
        If x is not a finite 1-D array with ``K >= 4``, contains a zero among
        the entries used, ``k1`` is out of range, or the estimate of
        ``1/alpha`` is not positive (the sample is not a centred stable one).

    References
    ----------
    Mohammadi, Mohammadpour and Ogata (2015), "On estimating the tail index
    and the spectral measure of multivariate alpha-stable distributions",
    Metrika 78(5). Simsekli, Sagun and Gurbuzbalaban (2019), "A tail-index
    analysis of stochastic gradient noise in deep neural networks", ICML.
    """
    arr = check_array(x, "x", ndim=1, min_size=4)
    K = arr.size
    k1 = max(2, math.isqrt(K)) if k1 is None else check_int(k1, "k1", low=2, high=K // 2)
    k2 = K // k1
    used = arr[: k1 * k2]
    # an exact power-of-two scaling shifts both log-means equally and keeps block sums finite
    _, e = np.frexp(np.max(np.abs(used)))
    used = np.ldexp(used, -int(e))
    if np.any(used == 0.0):
        raise ValueError(
            f"x must be nonzero (log|x| is used), got {int(np.count_nonzero(used == 0.0))} "
            "zero(s) among the entries used"
        )
    y = used.reshape(k2, k1).sum(axis=1)
    if np.any(y == 0.0):
        raise ValueError("a block sum of x is exactly zero (log|Y| is used); x is not continuous")
    inv_alpha = (np.mean(np.log(np.abs(y))) - np.mean(np.log(np.abs(used)))) / math.log(k1)
    if not inv_alpha > 0.0:
        raise ValueError(
            f"the block-sum estimate of 1/alpha is {inv_alpha:.3g} <= 0: x does not look like "
            "a centred symmetric stable sample"
        )
    return float(1.0 / inv_alpha)
