r"""Numba kernels of the noise sampler: a counter-based generator fused with vectorisable math.

Private to :mod:`poc.noise`, which documents the stream and the laws.

Why this shape. The CMS transform costs a handful of transcendentals per
draw. Numba's ``math.sin`` / ``math.log`` are scalar libm calls, and PyPI's
llvmlite has no vector math library (SVML), so a loop calling them does not
vectorise. Here every function is a branch-free polynomial with an explicit
range reduction, and the random bits come from Philox4x32-10, a counter-based
generator that is itself a few integer multiplies and xors; LLVM then turns
the whole per-draw loop into AVX2 / AVX-512 code. Draw ``i`` of a stream is a
pure function of (key, counter ``i``), so the output does not depend on how
the work is split among threads.

Functions
---------
* ``_philox(c0, c1, c2, c3, k0, k1)``: Philox4x32-10 (Salmon, Moraes, Dror and
  Shaw 2011); 32-bit words held in uint64.
* ``_sinpi64(y)``, ``_log64(x)``, ``_exp64(x)``: float64 to about 1 ulp on the
  ranges used here (``y`` in [0, 1/2], ``x > 0`` normal).
* ``_sinpi32`` and friends: the same below 1e-10 relative, for the float32
  output: minimax polynomials of lower degree, with fused multiply-adds in
  the stable transform (in float64, rounded once at the store).

Argument reductions avoid cancellation at the ends of the CMS angle: with
``V = s (pi/2 - pi m)``, ``m`` in (0, 1/2), ``cos V = sin(pi m)`` is formed
directly from ``m`` rather than as the cosine of a rounded angle near pi/2
(which in float32 can even be negative).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange, types
from numba.extending import intrinsic

from ._intrinsics import as_bits, fma, from_bits

# ---------------------------------------------------------------------------
# Philox4x32-10

_M0 = np.uint64(0xD2511F53)
_M1 = np.uint64(0xCD9E8D57)
_W0 = np.uint64(0x9E3779B9)
_W1 = np.uint64(0xBB67AE85)
_MASK32 = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)


@njit(inline="always")
def _philox_round(c0, c1, c2, c3, k0, k1):
    p0 = _M0 * c0
    p1 = _M1 * c2
    return (p1 >> _S32) ^ c1 ^ k0, p1 & _MASK32, (p0 >> _S32) ^ c3 ^ k1, p0 & _MASK32


@njit(inline="always")
def _philox(c0, c1, c2, c3, k0, k1):
    """Philox4x32-10 of counter (c0, c1, c2, c3) under key (k0, k1); words < 2^32 in uint64."""
    c0, c1, c2, c3 = _philox_round(c0, c1, c2, c3, k0, k1)
    for _ in range(9):
        k0 = (k0 + _W0) & _MASK32
        k1 = (k1 + _W1) & _MASK32
        c0, c1, c2, c3 = _philox_round(c0, c1, c2, c3, k0, k1)
    return c0, c1, c2, c3


# ---------------------------------------------------------------------------
# float64 math

_PI = math.pi
_LN2_HI = 6.93147180369123816490e-01  # ln 2 split so that k * _LN2_HI is exact for |k| < 2^20
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.0 / math.log(2.0)
_SQRT_HALF_BITS = 0x3FE6A09E667F3BCD  # bits of sqrt(1/2): log's reduction to [sqrt(1/2), sqrt(2))
_EXP_MASK = -(1 << 52)  # 0xfff0000000000000 as int64
_BIAS = 1023
# fdlibm e_log.c: minimax coefficients of (log(1+f) - f + f^2/2) / s - f^2/2 in s^2, s = f / (2 + f)
_LG1, _LG2, _LG3 = 6.666666666666735130e-01, 3.999999999940941908e-01, 2.857142874366239149e-01
_LG4, _LG5 = 2.222219843214978396e-01, 1.818357216161805012e-01
_LG6, _LG7 = 1.531383769920937332e-01, 1.479819860511658591e-01


# Taylor coefficients, highest degree first: -1/19!, 1/17!, ..., -1/3! in z = (pi y)^2 for
# sin(pi y) = x + x z (...), and 1/12!, ..., 1/2! for exp (every 1/k! here is a float64
# division of exact integers, as in a literal)
_SIN_TAYLOR = tuple((-1.0) ** ((k - 1) // 2) / math.factorial(k) for k in range(19, 2, -2))
_EXP_TAYLOR = tuple(1.0 / math.factorial(k) for k in range(12, 1, -1))


@njit(inline="always")
def _horner(c, z):
    """c[0] z^(k-1) + ... + c[k-1], Horner's rule over a constant tuple (LLVM unrolls it)."""
    p = c[0]
    for i in range(1, len(c)):
        p = p * z + c[i]
    return p


@njit(inline="always")
def _sinpi(y, c):
    """sin(pi y) for y in [0, 1/2] from odd coefficients c in z = (pi y)^2 (_SIN_TAYLOR, ...)."""
    x = _PI * y
    z = x * x
    return x + x * (z * _horner(c, z))


@njit(inline="always")
def _sinpi64(y):
    """sin(pi y) for y in [0, 1/2]: odd Taylor polynomial to degree 19 (error < 3e-16 at pi/2)."""
    return _sinpi(y, _SIN_TAYLOR)


@njit(inline="always")
def _log_reduce(x):
    """(k, f) with x = 2^k (1 + f), 1 + f in [sqrt(1/2), sqrt(2)); x > 0 normal."""
    ix = as_bits(x)
    tmp = ix - _SQRT_HALF_BITS
    k = tmp >> 52
    return float(k), from_bits(ix - (tmp & _EXP_MASK)) - 1.0


@njit(inline="always")
def _log64(x):
    """Natural log of a positive normal float64 (fdlibm's e_log.c polynomial, < 1 ulp)."""
    dk, f = _log_reduce(x)
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    t1 = w * (_LG2 + w * (_LG4 + w * _LG6))
    t2 = z * (_LG1 + w * (_LG3 + w * (_LG5 + w * _LG7)))
    hfsq = 0.5 * f * f
    return s * (hfsq + t1 + t2) + dk * _LN2_LO - hfsq + f + dk * _LN2_HI


@njit(inline="always")
def _times_pow2(p, k):
    """p 2^k for integer k in [-1076, 1024], p in [0.7, 1.5]: two normal powers of two, applied
    one after the other, so that 2^1024 is never formed and subnormal results round once."""
    k1 = k >> 1
    return (p * from_bits((k1 + _BIAS) << 52)) * from_bits((k - k1 + _BIAS) << 52)


@njit(inline="always")
def _exp_reduce(x):
    kf = math.floor(x * _INV_LN2 + 0.5)
    return kf, (x - kf * _LN2_HI) - kf * _LN2_LO


@njit(inline="always")
def _exp(x, c):
    """exp(x) for x in [-746, 709.78] from the Taylor coefficients c (_EXP_TAYLOR or its tail)."""
    kf, r = _exp_reduce(x)
    p = 1.0 + (r + r * (r * _horner(c, r)))
    return _times_pow2(p, np.int64(kf))


@njit(inline="always")
def _exp64(x):
    """exp(x) for x in [-746, 709.78]: Taylor degree 12 on |r| <= ln(2)/2 (error < 2e-16)."""
    return _exp(x, _EXP_TAYLOR)


# ---------------------------------------------------------------------------
# lower-degree math for the float32 output (below 1e-10 relative, far below float32's 6e-8
# rounding). Fused multiply-adds shorten each draw's long dependency chain, which is what
# limits this loop: 1.3x faster than separate products and sums (AVX-512, one thread).


# Estrin's scheme (c highest degree first): pairs of terms in parallel, then powers of z
# join them; a shorter dependency chain than Horner's rule (faster here by about 2 %)


@njit(inline="always")
def _estrin4(c, z):
    """c[0] z^3 + ... + c[3]."""
    return fma(fma(c[0], z, c[1]), z * z, fma(c[2], z, c[3]))


@njit(inline="always")
def _estrin5(c, z):
    """c[0] z^4 + ... + c[4]."""
    z2 = z * z
    return fma(fma(c[0], z2, fma(c[1], z, c[2])), z2, fma(c[3], z, c[4]))


@njit(inline="always")
def _estrin6(c, z):
    """c[0] z^5 + ... + c[5]."""
    z2 = z * z
    return fma(fma(c[0], z, c[1]), z2 * z2, fma(fma(c[2], z, c[3]), z2, fma(c[4], z, c[5])))


# Minimax coefficients, highest degree first, of the float32 path's polynomials: each
# minimises the largest relative error of the whole function on its range (Lawson's
# iteratively reweighted least squares in float64 on 4000 Chebyshev points, 300 passes).
# Max relative errors measured on 2e6-point grids against math.sin / math.exp / math.log1p
# (re-measured by tests/test_stable_kernels.py): 2.4e-11, 5.2e-11 and 4.8e-12, each below
# the degree-higher Taylor polynomials they replace (6.6e-10, 2.7e-10, 5.1e-11).
# sin(x) = x + x z P(z), x = pi y in [0, pi/2], z = x^2 (degree 11)
_SIN_MINIMAX32 = (-2.3888908508384682e-08, 2.7525384379845575e-06, -1.984086820899126e-04,
                  8.333331108595835e-03, -1.6666666626149476e-01)
# exp(r) = 1 + r + r^2 P(r), |r| <= ln(2)/2 (degree 7)
_EXP_MINIMAX32 = (1.9790341531941854e-04, 1.3944659646662066e-03, 8.333497074935834e-03,
                  4.1666294946953814e-02, 1.6666665868934227e-01, 5.000000067682226e-01)
# log(1 + f) = 2 s + s z Q(z), s = f / (2 + f), z = s^2 <= (3 - 2 sqrt(2))^2 (degree 9 in s)
_LOG_MINIMAX32 = (2.3581613865310816e-01, 2.853733995870799e-01, 4.0000334637017143e-01,
                  6.666666564823169e-01)


@njit(inline="always")
def _sinpi32(y):
    """sin(pi y) for y in [0, 1/2]: odd minimax polynomial of degree 11 (error < 2.4e-11)."""
    x = _PI * y
    z = x * x
    return fma(x, z * _estrin5(_SIN_MINIMAX32, z), x)


@njit(inline="always")
def _log32(x):
    """Natural log, x > 0 normal: minimax in s^2 to degree 9 in s (error < 4.8e-12 relative)."""
    dk, f = _log_reduce(x)
    s = f / (2.0 + f)
    z = s * s
    hfsq = 0.5 * f * f
    r = z * _estrin4(_LOG_MINIMAX32, z)
    return fma(dk, _LN2_HI, (fma(s, hfsq + r, dk * _LN2_LO) - hfsq) + f)


@njit(inline="always")
def _log32_nofma(x):
    """:func:`_log32` without fused multiply-adds (the same polynomial; its error bound too).

    For Box-Muller's shorter loop, which LLVM unrolls by two vectors only when it holds no
    fma intrinsic: 1.86 ms per 10^6 float32 normals against 2.1 with it (one thread).
    """
    dk, f = _log_reduce(x)
    s = f / (2.0 + f)
    z = s * s
    hfsq = 0.5 * f * f
    r = z * _horner(_LOG_MINIMAX32, z)
    return s * (hfsq + r) + dk * _LN2_LO - hfsq + f + dk * _LN2_HI


@njit(inline="always")
def _exp32(x):
    """exp(x) for x in [-746, 709.78]: minimax degree 7 on |r| <= ln(2)/2 (error < 5.2e-11)."""
    k = math.floor(x * _INV_LN2 + 0.5)
    kf = float(k)
    r = fma(-kf, _LN2_LO, fma(-kf, _LN2_HI, x))
    p = 1.0 + fma(r, r * _estrin6(_EXP_MINIMAX32, r), r)
    return _times_pow2(p, k)


# ---------------------------------------------------------------------------
# uniforms from Philox words, and the transforms

_TWO_M53 = 2.0 ** -53
_TWO_M52 = 2.0 ** -52
_TWO_M32 = 2.0 ** -32
_S11 = np.uint64(11)
_S12 = np.uint64(12)
_S20 = np.uint64(20)
_S21 = np.uint64(21)
_ONE = np.uint64(1)
_LOG_MAX64 = 709.78  # exp of it is the largest float64 below DBL_MAX: the saturation point
_LOG_MAX32 = 88.7228  # the same for float32 (exp(88.7228) = 3.40270e38 < FLT_MAX)
_LOG_MIN = -746.0  # exp underflows to 0 below this anyway; the clamp keeps 2^k in range


@intrinsic
def _is_f32(typingctx, arr):
    """Compile-time constant: is ``arr`` a float32 array (folds the dtype branches away)."""
    is32 = isinstance(arr, types.Array) and arr.dtype == types.float32

    def codegen(context, builder, signature, args):
        return context.get_constant(types.boolean, is32)

    return types.boolean(arr), codegen


@njit(inline="always")
def _u52(hi, lo):
    """Uniform on (0, 1) from 52 bits of two words: (k + 1/2) 2^-52, exact, never 0 or 1."""
    return (float((hi << _S20) | (lo >> _S12)) + 0.5) * _TWO_M52


@njit(inline="always")
def _u32(x):
    """Uniform on (0, 1) from one 32-bit word: (x + 1/2) 2^-32."""
    return (float(x) + 0.5) * _TWO_M32


@njit(inline="always")
def _cms64(m, u_w, sa_arg, c2_arg, e, ia, log_s, lmax):
    """sin(pi sa_arg) * exp(e log(sin(pi c2_arg) / W) - log(sin(pi m)) / alpha + log_s), W = -log u_w.

    Every angle is given as y in (0, 1/2] with the sine of pi y wanted, so no
    argument reduction can cancel; the exponent is clamped (saturation).
    """
    w = -_log64(u_w)
    lx = e * _log64(_sinpi64(c2_arg) / w) - ia * _log64(_sinpi64(m)) + log_s
    return _sinpi64(sa_arg) * _exp64(min(max(lx, _LOG_MIN), lmax))


@njit(inline="always")
def _cms32(m, u_w, sa_arg, c2_arg, e, ia, log_s, lmax):
    """:func:`_cms64` with the float32-accuracy polynomials."""
    w = -_log32(u_w)
    lx = fma(e, _log32(_sinpi32(c2_arg) / w), fma(-ia, _log32(_sinpi32(m)), log_s))
    return _sinpi32(sa_arg) * _exp32(min(max(lx, _LOG_MIN), lmax))


@njit(inline="always")
def _sym_args(m, alpha, b):
    """CMS angles of the symmetric law for V = +-pi (1/2 - m): (sin(alpha V), cos((1-alpha) V)) args."""
    h = 0.5 - m
    a = alpha * h
    return min(a, 1.0 - a), 0.5 - b * h


@njit(inline="always")
def _pos_args(u, alpha, b):
    """Totally skewed law, theta = pi u, b = 1 - alpha: args of sin(theta), sin(alpha theta),
    sin((1 - alpha) theta) (the CMS cos V, sin(alpha(V + pi/2)), cos(V - alpha(V + pi/2)))."""
    a = alpha * u
    c = b * u
    return min(u, 1.0 - u), min(a, 1.0 - a), min(c, 1.0 - c)


# ---------------------------------------------------------------------------
# row blocks: out[r, c_lo:c_hi] from counters base + (c_lo..c_hi) (float64: one Philox call per
# value; float32: one call per pair, c_lo even). Each block is one vectorised loop.

_BLOCK = 2048  # values per parallel task; fixed, so the work split never depends on the thread count


@njit(inline="always")
def _sym_one64(x0, x1, x2, x3, alpha, b, e, ia, log_s):
    """Symmetric CMS from one call: m from 52 bits, the sign from 1, W from 52 bits."""
    m = (float((x0 << _S20) | (x1 >> _S12)) + 0.5) * _TWO_M53
    sa, c2 = _sym_args(m, alpha, b)
    v = _cms64(m, _u52(x2, x3), sa, c2, e, ia, log_s, _LOG_MAX64)
    return -v if (x1 >> _S11) & _ONE else v


@njit(inline="always")
def _sym_one32(x0, x1, alpha, b, e, ia, log_s):
    """Symmetric CMS from two words: m from 31 bits, the sign from 1, W from 32 bits."""
    m = _u32(x0 >> _ONE)
    sa, c2 = _sym_args(m, alpha, b)
    v = _cms32(m, _u32(x1), sa, c2, e, ia, log_s, _LOG_MAX32)
    return -v if x0 & _ONE else v


@njit(inline="always")
def _pos_one64(x0, x1, x2, x3, alpha, b, e, ia, log_s):
    """Totally skewed CMS from one call (theta / pi and W from 52 bits each)."""
    m, sa, c2 = _pos_args(_u52(x0, x1), alpha, b)
    return _cms64(m, _u52(x2, x3), sa, c2, e, ia, log_s, _LOG_MAX64)


@njit(inline="always")
def _pos_one32(x0, x1, alpha, b, e, ia, log_s):
    m, sa, c2 = _pos_args(_u32(x0), alpha, b)
    return _cms32(m, _u32(x1), sa, c2, e, ia, log_s, _LOG_MAX32)


@njit(inline="always")
def _stable_pair32(p, k0, k1, nonce, tag, skewed, alpha, b, e, ia, log_s):
    """Two float32-accuracy values from the call at counter p."""
    x0, x1, x2, x3 = _philox(p & _MASK32, p >> _S32, nonce, tag, k0, k1)
    if skewed:
        return _pos_one32(x0, x1, alpha, b, e, ia, log_s), _pos_one32(x2, x3, alpha, b, e, ia, log_s)
    return _sym_one32(x0, x1, alpha, b, e, ia, log_s), _sym_one32(x2, x3, alpha, b, e, ia, log_s)


@njit(cache=True, nogil=True, error_model="numpy")
def _stable_block(out, r, c_lo, c_hi, base, k0, k1, nonce, tag, skewed, alpha, b, e, ia, log_s):
    """out[r, c_lo:c_hi] from counters base + ...; ``skewed`` (loop-invariant) picks the law.

    float32 puts a call's two values in the two halves of the block, so that
    both stores are contiguous (and vectorise).
    """
    if _is_f32(out):
        n2 = (c_hi - c_lo) >> 1
        c_b = c_hi - n2
        base += np.uint64(c_lo >> 1)
        for j in range(n2):
            v0, v1 = _stable_pair32(base + np.uint64(j), k0, k1, nonce, tag, skewed, alpha, b, e, ia, log_s)
            # unsigned indices: no negative-index wraparound, so LLVM can vectorise both stores
            out[r, np.uint64(c_lo + j)] = v0
            out[r, np.uint64(c_b + j)] = v1
        if c_b - c_lo > n2:
            out[r, c_lo + n2] = _stable_pair32(base + np.uint64(n2), k0, k1, nonce, tag, skewed,
                                               alpha, b, e, ia, log_s)[0]
    else:
        for c in range(c_lo, c_hi):
            p = base + np.uint64(c)
            x0, x1, x2, x3 = _philox(p & _MASK32, p >> _S32, nonce, tag, k0, k1)
            if skewed:
                out[r, c] = _pos_one64(x0, x1, x2, x3, alpha, b, e, ia, log_s)
            else:
                out[r, c] = _sym_one64(x0, x1, x2, x3, alpha, b, e, ia, log_s)


@njit(inline="always")
def _stable_consts(alpha, skewed):
    """(b, e, 1/alpha): b = |1 - alpha| (symmetric) or 1 - alpha (skewed), e = (1 - alpha) / alpha."""
    return (1.0 - alpha) if skewed else abs(1.0 - alpha), (1.0 - alpha) / alpha, 1.0 / alpha


@njit(cache=True, nogil=True, error_model="numpy")
def stable_rows(out, ctr0, row_stride, k0, k1, nonce, tag, skewed, alpha, log_s):
    """Stable values into out (R, C), row r from counter ctr0 + r row_stride; one thread."""
    b, e, ia = _stable_consts(alpha, skewed)
    n_cols = out.shape[1]
    for r in range(out.shape[0]):
        for c_lo in range(0, n_cols, _BLOCK):
            _stable_block(out, r, c_lo, min(n_cols, c_lo + _BLOCK), ctr0 + np.uint64(r) * row_stride,
                          k0, k1, nonce, tag, skewed, alpha, b, e, ia, log_s)


@njit(cache=True, parallel=True, error_model="numpy")
def stable_rows_par(out, ctr0, row_stride, k0, k1, nonce, tag, skewed, alpha, log_s):
    """:func:`stable_rows` over threads, in the same blocks (so the same values)."""
    b, e, ia = _stable_consts(alpha, skewed)
    n_rows, n_cols = out.shape
    nb = (n_cols + _BLOCK - 1) // _BLOCK
    for t in prange(n_rows * nb):
        r = t // nb
        c_lo = (t - r * nb) * _BLOCK
        _stable_block(out, r, c_lo, min(n_cols, c_lo + _BLOCK), ctr0 + np.uint64(r) * row_stride,
                      k0, k1, nonce, tag, skewed, alpha, b, e, ia, log_s)


# ---------------------------------------------------------------------------
# standard normals (Box-Muller: two per call) and the isotropic kind's row scaling

_MASK30 = np.uint64(0x3FFFFFFF)
_S30 = np.uint64(30)
_TWO_M30 = 2.0 ** -30
_TWO_M51 = 2.0 ** -51
_TWO = np.uint64(2)


@njit(inline="always")
def _box_muller(log_u, q, f, f32):
    """sqrt(-2 log u) (cos, sin) of the angle (pi/2)(q + f), q in 0..3, f in (0, 1) on a 2^-k grid.

    sin and cos of (pi/2) f are sin(pi f/2) and sin(pi (1-f)/2), both arguments
    exact, then rotated by the quadrant with selects.
    """
    if f32:  # the float32 polynomial without fma (see _log32_nofma)
        s0 = _sinpi(0.5 * f, _SIN_MINIMAX32)
        c0 = _sinpi(0.5 * (1.0 - f), _SIN_MINIMAX32)
    else:
        s0 = _sinpi64(0.5 * f)
        c0 = _sinpi64(0.5 * (1.0 - f))
    rad = math.sqrt(-2.0 * log_u)
    odd = q & _ONE
    cos_t = s0 if odd else c0
    sin_t = c0 if odd else s0
    cos_t = -cos_t if (q == _ONE) | (q == _TWO) else cos_t
    sin_t = -sin_t if q >= _TWO else sin_t
    return rad * cos_t, rad * sin_t


@njit(inline="always")
def _normal_pair(p, k0, k1, nonce, tag, f32):
    x0, x1, x2, x3 = _philox(p & _MASK32, p >> _S32, nonce, tag, k0, k1)
    if f32:  # u from 32 bits, the quadrant from 2, the angle within it from 30
        return _box_muller(_log32_nofma(_u32(x0)), x1 >> _S30, (float(x1 & _MASK30) + 0.5) * _TWO_M30, True)
    # u from 52 bits, the quadrant from 2, the angle within it from 51
    f = (float(((x2 & _MASK30) << _S21) | (x3 >> _S11)) + 0.5) * _TWO_M51
    return _box_muller(_log64(_u52(x0, x1)), x2 >> _S30, f, False)


@njit(cache=True, nogil=True, error_model="numpy")
def _normal_block(out, r, c_lo, c_hi, base, k0, k1, nonce, tag):
    """Standard normals into out[r, c_lo:c_hi]: a call's pair goes to the two halves of the block."""
    f32 = _is_f32(out)
    n2 = (c_hi - c_lo) >> 1
    c_b = c_hi - n2
    base += np.uint64(c_lo >> 1)
    for j in range(n2):
        z0, z1 = _normal_pair(base + np.uint64(j), k0, k1, nonce, tag, f32)
        out[r, np.uint64(c_lo + j)] = z0
        out[r, np.uint64(c_b + j)] = z1
    if c_b - c_lo > n2:
        out[r, c_lo + n2] = _normal_pair(base + np.uint64(n2), k0, k1, nonce, tag, f32)[0]


@njit(cache=True, nogil=True, error_model="numpy")
def normal_rows(out, ctr0, row_stride, k0, k1, nonce, tag):
    """Standard normals into out (R, C), row r from counter ctr0 + r row_stride; one thread."""
    n_cols = out.shape[1]
    for r in range(out.shape[0]):
        for c_lo in range(0, n_cols, _BLOCK):
            _normal_block(out, r, c_lo, min(n_cols, c_lo + _BLOCK), ctr0 + np.uint64(r) * row_stride,
                          k0, k1, nonce, tag)


@njit(cache=True, parallel=True, error_model="numpy")
def normal_rows_par(out, ctr0, row_stride, k0, k1, nonce, tag):
    """:func:`normal_rows` over threads, in the same blocks."""
    n_rows, n_cols = out.shape
    nb = (n_cols + _BLOCK - 1) // _BLOCK
    for t in prange(n_rows * nb):
        r = t // nb
        c_lo = (t - r * nb) * _BLOCK
        _normal_block(out, r, c_lo, min(n_cols, c_lo + _BLOCK), ctr0 + np.uint64(r) * row_stride,
                      k0, k1, nonce, tag)


@njit(inline="always")
def _scale_row(out, radius, big, t):
    n = out.shape[1]
    s = t // n
    i = t - s * n
    rad = radius[s, i]
    for j in range(out.shape[2]):
        out[s, i, j] = min(max(rad * out[s, i, j], -big), big)


@njit(cache=True, nogil=True, error_model="numpy")
def scale_rows(out, radius, big):
    """out[s, i, :] *= radius[s, i], saturating at +-big (the dtype's largest finite value)."""
    for t in range(out.shape[0] * out.shape[1]):
        _scale_row(out, radius, big, t)


@njit(cache=True, parallel=True, error_model="numpy")
def scale_rows_par(out, radius, big):
    """:func:`scale_rows` over threads (elementwise: the same values)."""
    for t in prange(out.shape[0] * out.shape[1]):
        _scale_row(out, radius, big, t)
