"""The vectorised sampler: Philox against its known answers, the transform against libm,
float32 against the law, the stream against block size and thread count."""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest
from scipy import stats

import poc
from poc import _stable_kernels as K
from poc.checks.noise import stable_cdf
from poc.noise import fill_noise, noise_key

# Fixed seeds; a correct sampler fails a KS test at this level once in 1000 runs.
P_MIN = 1e-3
# The kernel's sin/log/exp are polynomials of about 1 ulp; the CMS formula adds a few
# operations, and the exponent |L| <= 746 turns an absolute error in L into a relative one.
REL_TOL_64 = 1e-12
# float32 rounding alone is 6e-8; the float32 path's polynomials add < 2e-9 (max errors
# 2.4e-11 sin, 5.2e-11 exp, 4.8e-12 log, below; times up to 1/alpha = 20 in the exponent).
REL_TOL_32 = 1e-6
U32 = np.uint64(0xFFFFFFFF)


def _philox_np(c0, c1, c2, c3, k0, k1):
    """Philox4x32-10 in NumPy (an independent implementation: Salmon et al. 2011)."""
    m0, m1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
    w0, w1 = np.uint64(0x9E3779B9), np.uint64(0xBB67AE85)
    s = np.uint64(32)
    c0, c1, c2, c3 = (np.asarray(c, dtype=np.uint64) for c in (c0, c1, c2, c3))
    k0, k1 = np.uint64(k0), np.uint64(k1)
    for r in range(10):
        if r:
            k0, k1 = (k0 + w0) & U32, (k1 + w1) & U32
        p0, p1 = m0 * c0, m1 * c2
        c0, c1, c2, c3 = (p1 >> s) ^ c1 ^ k0, p1 & U32, (p0 >> s) ^ c3 ^ k1, p0 & U32
    return c0, c1, c2, c3


@pytest.mark.parametrize(("ctr", "key", "expected"), [
    # Random123's kat_vectors, the three philox4x32 10 lines
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
])
def test_philox_known_answers(ctr, key, expected):
    u = np.uint64
    got = K._philox(*(u(c) for c in ctr), *(u(k) for k in key))
    assert tuple(int(g) for g in got) == expected
    assert tuple(int(g[()]) for g in _philox_np(*ctr, *key)) == expected


def _words(key, counters):
    return _philox_np(counters & U32, counters >> np.uint64(32), key[2], np.uint64(0), key[0], key[1])


def _cms_libm(m, u_w, alpha, log_s, lmax):
    """The symmetric CMS formula of the kernel, evaluated with NumPy's libm (float64)."""
    b, e, ia = abs(1.0 - alpha), (1.0 - alpha) / alpha, 1.0 / alpha
    w = -np.log(u_w)
    h = 0.5 - m
    a = alpha * h
    sa = np.sin(np.pi * np.minimum(a, 1.0 - a))
    c1, c2 = np.sin(np.pi * m), np.sin(np.pi * (0.5 - b * h))
    lx = e * np.log(c2 / w) - ia * np.log(c1) + log_s
    return sa * np.exp(np.clip(lx, -746.0, lmax))


def _reference64(key, n, alpha, log_s, start=0):
    x0, x1, x2, x3 = _words(key, np.arange(start, start + n, dtype=np.uint64))
    m = (((x0 << np.uint64(20)) | (x1 >> np.uint64(12))).astype(float) + 0.5) * 2.0**-53
    u_w = (((x2 << np.uint64(20)) | (x3 >> np.uint64(12))).astype(float) + 0.5) * 2.0**-52
    ref = _cms_libm(m, u_w, alpha, log_s, 709.78)
    return np.where((x1 >> np.uint64(11)) & np.uint64(1), -ref, ref)


def _halves(n):
    """(counter, second half?) of each value of a row of n in the two-per-call layout: the
    call's two values go to the two halves of each block of K._BLOCK values."""
    c = np.arange(n)
    c_lo = c // K._BLOCK * K._BLOCK
    length = np.minimum(n, c_lo + K._BLOCK) - c_lo
    first = length - length // 2
    second = (c - c_lo) >= first
    return (c_lo // 2 + np.where(second, c - c_lo - first, c - c_lo)).astype(np.uint64), second


def _reference32(key, n, alpha, log_s):
    """float64 libm values of the float32 stream (two values per call)."""
    counter, second = _halves(n)
    x0, x1, x2, x3 = _words(key, counter)
    xa, xb = np.where(second, x2, x0), np.where(second, x3, x1)
    m = ((xa >> np.uint64(1)).astype(float) + 0.5) * 2.0**-32
    ref = _cms_libm(m, (xb.astype(float) + 0.5) * 2.0**-32, alpha, log_s, 88.7228)
    return np.where(xa & np.uint64(1), -ref, ref)


def _max_rel_err(got, ref):
    assert np.all(np.isfinite(got))
    tiny = ref != 0.0
    assert np.all(got[~tiny] == 0.0)
    return float(np.max(np.abs(got[tiny] / ref[tiny] - 1.0)))


def _kernel(n, alpha, log_s, key, dtype):
    out = np.empty((1, n), dtype=dtype)
    K.stable_rows_par(out, np.uint64(0), np.uint64(n), key[0], key[1], key[2], np.uint64(0), False,
                       alpha, log_s)
    return out[0]


ALPHAS = [0.05, 0.5, 1.0, 1.5, 1.9, 2.0]


def _accuracy(n, dtype):
    key = noise_key(17)
    for alpha in ALPHAS:
        for log_s in (0.0, math.log(1e-3)):
            got = _kernel(n, alpha, log_s, key, dtype)
            if dtype == np.float64:
                err, tol = _max_rel_err(got, _reference64(key, n, alpha, log_s)), REL_TOL_64
            else:
                err, tol = _max_rel_err(got.astype(float), _reference32(key, n, alpha, log_s)), REL_TOL_32
            assert err < tol, (alpha, log_s, err)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_transform_agrees_with_libm(dtype):
    _accuracy(300_001, dtype)  # odd, not a multiple of the block: the remainder paths too


@pytest.mark.slow
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_transform_agrees_with_libm_over_1e7_draws(dtype):
    _accuracy(10**7, dtype)


@pytest.mark.parametrize("alpha", [0.05, 0.5, 1.5, 2.0])
def test_transform_at_the_extreme_words(alpha):
    # the smallest and largest uniforms of both layouts: V at +-pi/2 and 0, W near 0 and at its max
    e, ia, b = (1.0 - alpha) / alpha, 1.0 / alpha, abs(1.0 - alpha)
    for hi in (0, 1, 0x7FFFFFFF, 0xFFFFFFFE, 0xFFFFFFFF):
        for lo in (0, 0xFFFFFFFF):
            u = np.uint64
            got = K._sym_one64(u(hi), u(lo), u(lo), u(hi), alpha, b, e, ia, 0.0)
            ref = _reference64_words(hi, lo, lo, hi, alpha)
            assert math.isfinite(got) and abs(got - ref) <= REL_TOL_64 * abs(ref)
            got32 = K._sym_one32(u(hi), u(lo), alpha, b, e, ia, 0.0)
            m = ((hi >> 1) + 0.5) * 2.0**-32
            ref32 = float(_cms_libm(np.array([m]), np.array([(lo + 0.5) * 2.0**-32]), alpha, 0.0, 88.7228)[0])
            ref32 = -ref32 if hi & 1 else ref32
            assert math.isfinite(float(np.float32(got32))) and abs(got32 - ref32) <= 1e-9 * abs(ref32)


@numba.njit
def _apply32(which, x):
    out = np.empty_like(x)
    for i in range(x.size):
        if which == 0:
            out[i] = K._sinpi32(x[i])
        elif which == 1:
            out[i] = K._exp32(x[i])
        elif which == 2:
            out[i] = K._log32(x[i])
        elif which == 3:  # Box-Muller's float32 versions, without fma
            out[i] = K._sinpi(x[i], K._SIN_MINIMAX32)
        else:
            out[i] = K._log32_nofma(x[i])
    return out


def test_float32_polynomials_keep_their_stated_max_errors():
    # the bounds are the max relative errors the module states for its minimax coefficients
    # (measured on 2e6-point grids); libm's own error (< 1 ulp, 1e-16) is far below them
    n = 400_001
    y = np.linspace(0.0, 0.5, n)[1:]
    for which in (0, 3):
        assert np.max(np.abs(_apply32(which, y) / np.sin(np.pi * y) - 1.0)) < 2.4e-11
    h = math.log(2.0) / 2.0
    for k in (-60, -1, 0, 1, 60):  # the reduced argument r over [-ln2/2, ln2/2], scaled by 2^k
        x = k * math.log(2.0) + np.linspace(-h, h, n)
        assert np.max(np.abs(_apply32(1, x) / np.exp(x) - 1.0)) < 5.2e-11
    x = np.linspace(math.sqrt(0.5), math.sqrt(2.0), n)
    x = x[x != 1.0]
    for which in (2, 4):
        assert np.max(np.abs(_apply32(which, x) / np.log(x) - 1.0)) < 4.8e-12
        for k in (-100, -1, 1, 100):  # log(2^k x): the k ln 2 term adds only its rounding
            xk = x * 2.0**k
            assert np.max(np.abs(_apply32(which, xk) / np.log(xk) - 1.0)) < 4.8e-12


def _reference64_words(x0, x1, x2, x3, alpha):
    m = (((x0 << 20) | (x1 >> 12)) + 0.5) * 2.0**-53
    u_w = (((x2 << 20) | (x3 >> 12)) + 0.5) * 2.0**-52
    ref = float(_cms_libm(np.array([m]), np.array([u_w]), alpha, 0.0, 709.78)[0])
    return -ref if (x1 >> 11) & 1 else ref


def test_public_sampler_is_the_kernel_stream():
    # sample_stable takes one key from the Generator, then counters 0, 1, ...
    g = np.random.default_rng(5)
    x = poc.sample_stable(1.5, 1000, scale=2.0, seed=g)
    key = noise_key(np.random.default_rng(5))
    np.testing.assert_allclose(x, _reference64(key, 1000, 1.5, math.log(2.0)), rtol=REL_TOL_64, atol=0)


def test_box_muller_normals_agree_with_libm():
    key = noise_key(3)
    n = 20_001
    out = np.empty((1, n))
    K.normal_rows(out, np.uint64(0), np.uint64(n), key[0], key[1], key[2], np.uint64(2))
    counter, second = _halves(n)
    x0, x1, x2, x3 = _philox_np(counter, 0, key[2], 2, key[0], key[1])
    u = (((x0 << np.uint64(20)) | (x1 >> np.uint64(12))).astype(float) + 0.5) * 2.0**-52
    q = (x2 >> np.uint64(30)).astype(float)
    f_bits = ((x2 & np.uint64(0x3FFFFFFF)) << np.uint64(21)) | (x3 >> np.uint64(11))
    f = (f_bits.astype(float) + 0.5) * 2.0**-51
    theta = 0.5 * np.pi * (q + f)
    r = np.sqrt(-2.0 * np.log(u))
    ref = np.where(second, r * np.sin(theta), r * np.cos(theta))
    # the angle (pi/2)(q + f) is rounded in the reference: an absolute 1e-15 on a radius <= 9
    assert np.max(np.abs(out[0] - ref)) < 1e-13


# ---------------------------------------------------------------------------
# float32


@pytest.mark.parametrize("alpha", [0.7, 1.0, 1.5, 1.9, 2.0])
def test_float32_law(alpha):
    x32 = poc.sample_stable(alpha, 100_000, seed=21, dtype=np.float32)
    assert x32.dtype == np.float32
    ref = stable_cdf(alpha) if alpha < 2 else stats.norm(scale=math.sqrt(2.0)).cdf
    assert stats.kstest(x32.astype(float), ref).pvalue > P_MIN
    x64 = poc.sample_stable(alpha, 100_000, seed=22)
    assert stats.ks_2samp(x32, x64).pvalue > P_MIN


def test_float32_positive_and_isotropic_laws():
    a = poc.sample_positive_stable(0.75, 100_000, seed=23, dtype=np.float32)
    assert a.dtype == np.float32 and a.min() >= 0.0
    assert stats.kstest(a.astype(float), stable_cdf(0.75, 1.0)).pvalue > P_MIN
    x = poc.sample_noise(1.5, 50_000, 3, kind="isotropic", seed=24, dtype=np.float32)
    assert x.dtype == np.float32
    # every coordinate of the isotropic kind is S_alpha(1)
    assert stats.kstest(x[:, 1].astype(float), stable_cdf(1.5)).pvalue > P_MIN
    g = poc.sample_noise(2.0, 50_000, 2, kind="isotropic", seed=25, dtype=np.float32)
    assert stats.kstest(g.ravel().astype(float), stats.norm(scale=math.sqrt(2.0)).cdf).pvalue > P_MIN


@pytest.mark.parametrize("alpha", [0.02, 0.1, 0.5, 1.0, 1.999, 2.0])
def test_float32_never_inf_or_nan(alpha):
    # alpha = 0.02 draws beyond 3.4e38 (saturated); the uniforms' ends give W -> 0 and cos V -> 0
    for kind in poc.NOISE_KINDS:
        x = poc.sample_noise(alpha, 100_000, 2, kind=kind, seed=26, dtype=np.float32)
        assert np.all(np.isfinite(x))
    x = poc.sample_stable(alpha, 300_000, scale=1e30, seed=27, dtype=np.float32)
    assert np.all(np.isfinite(x))
    if alpha <= 0.1:
        # P(|X| > 1e38 / scale) is about 0.17 at alpha = 0.02: such draws saturate at
        # sin(alpha V) * 3.4e38 (the exponent is clamped), finite
        assert np.max(np.abs(x)) > 1e36
    if alpha < 2.0:
        assert np.all(np.isfinite(poc.sample_positive_stable(alpha / 2, 100_000, seed=28, dtype=np.float32)))


@pytest.mark.parametrize("dtype", ["int64", np.int32, object, "float16", complex])
def test_bad_dtype_is_a_type_error_naming_it(dtype):
    for call in (lambda: poc.sample_stable(1.5, 10, dtype=dtype),
                 lambda: poc.sample_positive_stable(0.5, 10, dtype=dtype),
                 lambda: poc.sample_noise(1.5, 10, 2, dtype=dtype)):
        with pytest.raises(TypeError, match=r"dtype must be numpy.float64 or numpy.float32, got"):
            call()


# ---------------------------------------------------------------------------
# the stream


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind", poc.NOISE_KINDS)
def test_fill_noise_does_not_depend_on_the_block_of_steps(kind, dtype):
    key = noise_key(31)
    n, d, steps = 300, 7, 6
    whole = fill_noise(np.empty((steps, n, d), dtype=dtype), 1.3, kind, 0.5, key, step=10)
    for k in range(steps):
        one = fill_noise(np.empty((1, n, d), dtype=dtype), 1.3, kind, 0.5, key, step=10 + k)
        assert np.array_equal(one[0], whole[k])
    assert not np.array_equal(whole[0], whole[1])


def test_bit_identical_for_one_and_two_numba_threads():
    before = numba.get_num_threads()
    results = []
    try:
        for threads in sorted({1, min(2, numba.config.NUMBA_NUM_THREADS)}):
            numba.set_num_threads(threads)
            results.append([poc.sample_noise(a, 20_000, 3, kind=k, seed=9, dtype=dt)
                            for a in (0.7, 1.5, 2.0) for k in poc.NOISE_KINDS
                            for dt in (np.float64, np.float32)])
    finally:
        numba.set_num_threads(before)
    for a, b in zip(results[0], results[-1], strict=True):
        assert np.array_equal(a, b)


def test_fill_noise_rejects_bad_buffers_and_keys():
    key = noise_key(0)
    with pytest.raises(TypeError, match="out must be"):
        fill_noise(np.empty((2, 3, 4), dtype=np.int64), 1.5, "iid", 1.0, key)
    with pytest.raises(TypeError, match="out must be"):
        fill_noise(np.empty((2, 4, 3)).transpose(0, 2, 1), 1.5, "iid", 1.0, key)
    with pytest.raises(ValueError, match=r"out must have shape \(steps, n, d\)"):
        fill_noise(np.empty((3, 4)), 1.5, "iid", 1.0, key)
    with pytest.raises(TypeError, match="key must be"):
        fill_noise(np.empty((1, 3, 4)), 1.5, "iid", 1.0, key.astype(np.int64))
    with pytest.raises(ValueError, match="step must be"):
        fill_noise(np.empty((1, 3, 4)), 1.5, "iid", 1.0, key, step=-1)


# slow: compiles the sampler anew into a user function, once per dtype (about a minute on 2 cores)
@pytest.mark.slow
def test_kernel_callable_from_compiled_code_gives_the_fill_noise_values():
    # what a compiled time loop does: the iid noise of steps 4..6 from inside an njit function
    from poc.noise import stable_rows

    @numba.njit
    def loop(out, key, alpha, log_scale, step0):
        n_cols = out.shape[1]
        stable_rows(out, np.uint64(step0 * n_cols), np.uint64(n_cols), key[0], key[1], key[2],
                    np.uint64(0), False, alpha, log_scale)

    key = noise_key(41)
    for dtype in (np.float64, np.float32):
        got = np.empty((3, 5 * 4), dtype=dtype)
        loop(got, key, 1.5, math.log(0.3), 4)
        want = fill_noise(np.empty((3, 5, 4), dtype=dtype), 1.5, "iid", 0.3, key, step=4)
        assert np.array_equal(got, want.reshape(3, 20))
