r"""Numba kernels of the compiled time loop (see poc._fastloop): many Euler steps per call.

Each ``*_steps`` kernel runs the steps k0 .. k0 + nk - 1 of one cloud,
``x_{k+1} = x_k + step * b(x_k, mu^n_k) + sigma * incr_k``, records states and
mean features at the recorded steps, and returns the first step whose state is
non-finite (or -1). Sums over particles are formed over fixed blocks of
``_PBLOCK`` particles, then over the blocks in order; the serial and the
parallel variants run the same per-block code, so the bits do not depend on
the number of threads. ``error_model="numpy"``: Numba's default checks every
float division for a zero divisor, and that branch stops LLVM from
vectorising the activation loops (2048 tanh: 12 us scalar, 2 us vectorised).
"""

from __future__ import annotations

from numba import njit, prange

from ._intrinsics import fma
from .drifts._kernels import PBLOCK as _PBLOCK
from .drifts._kernels import feature_block_sum
from .drifts.network import activate_row


@njit(cache=True, error_model="numpy")
def partial_fisher_yates(perm, u, out):
    """out[s] = the first b entries of perm after a partial Fisher-Yates shuffle driven by u[s].

    perm (m,) is a permutation of 0..m-1, shuffled in place from step to step:
    whatever its current order, the first b entries after the shuffle are a
    uniform ordered sample without replacement.
    """
    m = perm.size
    nk, b = u.shape
    for s in range(nk):
        for t in range(b):
            j = t + int(u[s, t] * (m - t))
            if j >= m:  # u rounds to 1 only through m - t rounding; keep j in range
                j = m - 1
            tmp = perm[t]
            perm[t] = perm[j]
            perm[j] = tmp
            out[s, t] = perm[t]


# ---------------------------------------------------------------------------
# shared pieces of the step loops


@njit(cache=True, inline="always", error_model="numpy")
def update_row(x, i, g, incr_k, noisy, step, sigma):
    """x_i += step * g (+ sigma * incr_k[i]); returns 0.0 if finite, else NaN."""
    chk = 0.0
    for j in range(x.shape[1]):
        v = x[i, j] + step * g[j]
        if noisy:
            v += sigma * incr_k[i, j]
        x[i, j] = v
        chk += v - v  # 0 for finite v, NaN for inf or NaN
    return chk


@njit(cache=True, inline="always", error_model="numpy")
def _after_update(x, k1, bad, rec, ptr, states):
    """Record x_{k1} if wanted; returns False if a block of particles went non-finite."""
    for blk in range(bad.size):
        if bad[blk]:
            return False
    r = ptr[0]
    if r < rec.size and rec[r] == k1:
        states[r] = x
        ptr[0] = r + 1
    return True


@njit(cache=True, inline="always", error_model="numpy")
def _finish_mean_rec(partial, n, u, k, rec, ptr, feats, track):
    """u = (sum over blocks of partial, in order) / n, and record u at step k if wanted."""
    nb, m = partial.shape
    for j in range(m):
        s = 0.0
        for b in range(nb):
            s += partial[b, j]
        u[j] = s / n
    r = ptr[1]
    if track and r < rec.size and rec[r] == k:
        feats[r] = u
        ptr[1] = r + 1


# ---------------------------------------------------------------------------
# the mean-field network. Per block of P = _PBLOCK particles: the block's state
# transposed (d, P), the pre-activations of the batch (b, P) and the block's
# partial network outputs (phase A); then the residuals (serial); then the
# gradient (d, P) and the update (phase C). Every inner loop runs over the
# particles of the block, contiguous in memory, so that LLVM vectorises it.


@njit(cache=True, inline="always", error_model="numpy")
def _wsum(a, w, p, use_w):
    """sum_i w[i] a[i] (or sum_i a[i]) over i < p: eight accumulators, fixed order."""
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
    p8 = p - p % 8
    if use_w:
        for i in range(0, p8, 8):
            s0 += w[i] * a[i]
            s1 += w[i + 1] * a[i + 1]
            s2 += w[i + 2] * a[i + 2]
            s3 += w[i + 3] * a[i + 3]
            s4 += w[i + 4] * a[i + 4]
            s5 += w[i + 5] * a[i + 5]
            s6 += w[i + 6] * a[i + 6]
            s7 += w[i + 7] * a[i + 7]
        for i in range(p8, p):
            s0 += w[i] * a[i]
    else:
        for i in range(0, p8, 8):
            s0 += a[i]
            s1 += a[i + 1]
            s2 += a[i + 2]
            s3 += a[i + 3]
            s4 += a[i + 4]
            s5 += a[i + 5]
            s6 += a[i + 6]
            s7 += a[i + 7]
        for i in range(p8, p):
            s0 += a[i]
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))


@njit(cache=True, inline="always", error_model="numpy")
def _axpy4(out, init, c0, c1, c2, c3, v0, v1, v2, v3, p):
    """out[:p] (= 0 if init) + c0 v0 + c1 v1 + c2 v2 + c3 v3, one chain of fused multiply-adds.

    Four terms per pass: one load and store of out per four products.
    """
    if init:
        for q in range(p):
            out[q] = fma(c3, v3[q], fma(c2, v2[q], fma(c1, v1[q], c0 * v0[q])))
    else:
        for q in range(p):
            out[q] = fma(c3, v3[q], fma(c2, v2[q], fma(c1, v1[q], fma(c0, v0[q], out[q]))))


@njit(cache=True, inline="always", error_model="numpy")
def _axpy1(out, init, c0, v0, p):
    """out[:p] (= 0 if init) + c0 v0."""
    if init:
        for q in range(p):
            out[q] = c0 * v0[q]
    else:
        for q in range(p):
            out[q] = fma(c0, v0[q], out[q])


@njit(cache=True, inline="always", error_model="numpy")
def _mfn_a_blk(blk, x, Xb, wt, kind, XT, H, Phi, fpart):
    n, d = x.shape
    b = Xb.shape[0]
    i0 = blk * _PBLOCK
    p = min(n, i0 + _PBLOCK) - i0
    xT = XT[blk]
    for q in range(p):
        for j in range(d):
            xT[j, q] = x[i0 + q, j]
    Hb = H[blk]
    Pb = Phi[blk]
    fp = fpart[blk]
    nc = wt.shape[0]
    d4 = d - d % 4
    for k in range(b):
        h = Hb[k, :p]
        xk = Xb[k]
        for j in range(0, d4, 4):
            _axpy4(h, j == 0, xk[j], xk[j + 1], xk[j + 2], xk[j + 3],
                   xT[j], xT[j + 1], xT[j + 2], xT[j + 3], p)
        for j in range(d4, d):
            _axpy1(h, j == 0, xk[j], xT[j], p)
        phi = Pb[k, :p]
        activate_row(h, phi, kind)  # phi = phi(h), h = phi'(h)
        if nc == 0:
            fp[0, k] = _wsum(phi, phi, p, False)
        else:
            for c in range(nc):
                fp[c, k] = _wsum(phi, wt[c, i0:i0 + p], p, True)


@njit(cache=True, inline="always", error_model="numpy")
def _mfn_c_blk(blk, x, Xb, wt, H, Phi, R, GT, incr_k, noisy, step, sigma, bad):
    n, d = x.shape
    b = Xb.shape[0]
    i0 = blk * _PBLOCK
    p = min(n, i0 + _PBLOCK) - i0
    Hb = H[blk]
    nc = wt.shape[0]
    g = GT[blk]
    for k in range(b):
        h = Hb[k, :p]  # phi'(h) on entry
        if nc == 0:
            r0 = R[0, k]
            for q in range(p):
                h[q] *= r0
        else:
            t = Phi[blk, k, :p]
            for q in range(p):
                t[q] = 0.0
            for c in range(nc):
                rc = R[c, k]
                w = wt[c, i0:i0 + p]
                for q in range(p):
                    t[q] += w[q] * rc
            for q in range(p):
                h[q] *= t[q]
    b4 = b - b % 4
    for j in range(d):
        gj = g[j, :p]
        for k in range(0, b4, 4):
            _axpy4(gj, k == 0, Xb[k, j], Xb[k + 1, j], Xb[k + 2, j], Xb[k + 3, j],
                   Hb[k, :p], Hb[k + 1, :p], Hb[k + 2, :p], Hb[k + 3, :p], p)
        for k in range(b4, b):
            _axpy1(gj, k == 0, Xb[k, j], Hb[k, :p], p)
    chk = 0.0
    for q in range(p):
        i = i0 + q
        for j in range(d):
            v = x[i, j] + step * g[j, q]
            if noisy:
                v += sigma * incr_k[i, j]
            x[i, j] = v
            chk += v - v  # 0 for finite v, NaN for inf or NaN
    bad[blk] = chk != 0.0


@njit(cache=True, parallel=True, error_model="numpy")
def _mfn_a_par(x, Xb, wt, kind, XT, H, Phi, fpart):
    for blk in prange(fpart.shape[0]):
        _mfn_a_blk(blk, x, Xb, wt, kind, XT, H, Phi, fpart)


@njit(cache=True, error_model="numpy")
def _mfn_a_ser(x, Xb, wt, kind, XT, H, Phi, fpart):
    for blk in range(fpart.shape[0]):
        _mfn_a_blk(blk, x, Xb, wt, kind, XT, H, Phi, fpart)


@njit(cache=True, parallel=True, error_model="numpy")
def _mfn_c_par(x, Xb, wt, H, Phi, R, GT, incr_k, noisy, step, sigma, bad):
    for blk in prange(bad.size):
        _mfn_c_blk(blk, x, Xb, wt, H, Phi, R, GT, incr_k, noisy, step, sigma, bad)


@njit(cache=True, error_model="numpy")
def _mfn_c_ser(x, Xb, wt, H, Phi, R, GT, incr_k, noisy, step, sigma, bad):
    for blk in range(bad.size):
        _mfn_c_blk(blk, x, Xb, wt, H, Phi, R, GT, incr_k, noisy, step, sigma, bad)


@njit(nogil=True, cache=True, error_model="numpy")
def network_steps(x, X, Y, wt, kind, idx, full, incr, noisy, step, sigma, k0, nk, rec, ptr,
               states, feats, track, Xb, Yb, XT, H, Phi, fpart, R, GT, bad, par):
    """Run steps k0 .. k0 + nk - 1 of the network; returns the first bad step, or -1.

    full: Xb, Yb hold the whole data set; otherwise step k0 + s gathers the
    rows idx[s]. R[c, k] = -(f_kc - y_kc) / b is the scaled residual; the
    features u = (f_kc) flattened row-major are recorded at the recorded steps.
    """
    n, d = x.shape
    b = Xb.shape[0]
    nc = Yb.shape[1]
    nb = bad.size
    coef = -1.0 / b
    for s in range(nk):
        k = k0 + s
        if not full:
            for t in range(b):
                row = idx[s, t]
                for j in range(d):
                    Xb[t, j] = X[row, j]
                for c in range(nc):
                    Yb[t, c] = Y[row, c]
        if par:
            _mfn_a_par(x, Xb, wt, kind, XT, H, Phi, fpart)
        else:
            _mfn_a_ser(x, Xb, wt, kind, XT, H, Phi, fpart)
        rf = ptr[1]
        rec_f = track and rf < rec.size and rec[rf] == k
        for c in range(nc):
            for t in range(b):
                f = 0.0
                for blk in range(nb):
                    f += fpart[blk, c, t]
                f /= n
                R[c, t] = coef * (f - Yb[t, c])
                if rec_f:
                    feats[rf, t * nc + c] = f
        if rec_f:
            ptr[1] = rf + 1
        incr_k = incr[s] if noisy else incr[0]
        if par:
            _mfn_c_par(x, Xb, wt, H, Phi, R, GT, incr_k, noisy, step, sigma, bad)
        else:
            _mfn_c_ser(x, Xb, wt, H, Phi, R, GT, incr_k, noisy, step, sigma, bad)
        if not _after_update(x, k + 1, bad, rec, ptr, states):
            return k + 1
    return -1


# ---------------------------------------------------------------------------
# LinearMeanField: u = mean of x, b = -a x + c u


@njit(cache=True, inline="always", error_model="numpy")
def _lin_a_blk(blk, x, partial):
    n, d = x.shape
    acc = partial[blk]
    acc[:] = 0.0
    for i in range(blk * _PBLOCK, min(n, (blk + 1) * _PBLOCK)):
        for j in range(d):
            acc[j] += x[i, j]


@njit(cache=True, inline="always", error_model="numpy")
def _lin_c_blk(blk, x, u, a, c, G, incr_k, noisy, step, sigma, bad):
    n, d = x.shape
    g = G[blk]
    chk = 0.0
    for i in range(blk * _PBLOCK, min(n, (blk + 1) * _PBLOCK)):
        for j in range(d):
            g[j] = -a * x[i, j] + c * u[j]
        chk += update_row(x, i, g, incr_k, noisy, step, sigma)
    bad[blk] = chk != 0.0


@njit(cache=True, parallel=True, error_model="numpy")
def _lin_a_par(x, partial):
    for blk in prange(partial.shape[0]):
        _lin_a_blk(blk, x, partial)


@njit(cache=True, error_model="numpy")
def _lin_a_ser(x, partial):
    for blk in range(partial.shape[0]):
        _lin_a_blk(blk, x, partial)


@njit(cache=True, parallel=True, error_model="numpy")
def _lin_c_par(x, u, a, c, G, incr_k, noisy, step, sigma, bad):
    for blk in prange(bad.size):
        _lin_c_blk(blk, x, u, a, c, G, incr_k, noisy, step, sigma, bad)


@njit(cache=True, error_model="numpy")
def _lin_c_ser(x, u, a, c, G, incr_k, noisy, step, sigma, bad):
    for blk in range(bad.size):
        _lin_c_blk(blk, x, u, a, c, G, incr_k, noisy, step, sigma, bad)


@njit(nogil=True, cache=True, error_model="numpy")
def linear_steps(x, a, c, incr, noisy, step, sigma, k0, nk, rec, ptr, states, feats, track,
               partial, u, G, bad, par):
    n = x.shape[0]
    for s in range(nk):
        k = k0 + s
        if par:
            _lin_a_par(x, partial)
        else:
            _lin_a_ser(x, partial)
        _finish_mean_rec(partial, n, u, k, rec, ptr, feats, track)
        incr_k = incr[s] if noisy else incr[0]
        if par:
            _lin_c_par(x, u, a, c, G, incr_k, noisy, step, sigma, bad)
        else:
            _lin_c_ser(x, u, a, c, G, incr_k, noisy, step, sigma, bad)
        if not _after_update(x, k + 1, bad, rec, ptr, states):
            return k + 1
    return -1


# ---------------------------------------------------------------------------
# generic FeatureDrift: the user's njit features(x, out) and response(x, u, out).
# Numba cannot cache a compilation keyed on another dispatcher, hence no cache=True.


@njit(inline="always", error_model="numpy")
def _feat_c_blk(blk, response, x, u, G, incr_k, noisy, step, sigma, bad):
    n = x.shape[0]
    g = G[blk]
    chk = 0.0
    for i in range(blk * _PBLOCK, min(n, (blk + 1) * _PBLOCK)):
        response(x[i], u, g)
        chk += update_row(x, i, g, incr_k, noisy, step, sigma)
    bad[blk] = chk != 0.0


@njit(parallel=True, error_model="numpy")
def _feat_a_par(features, x, partial, tmp):
    for blk in prange(partial.shape[0]):
        feature_block_sum(blk, features, x, partial[blk], tmp[blk])


@njit(error_model="numpy")
def _feat_a_ser(features, x, partial, tmp):
    for blk in range(partial.shape[0]):
        feature_block_sum(blk, features, x, partial[blk], tmp[blk])


@njit(parallel=True, error_model="numpy")
def _feat_c_par(response, x, u, G, incr_k, noisy, step, sigma, bad):
    for blk in prange(bad.size):
        _feat_c_blk(blk, response, x, u, G, incr_k, noisy, step, sigma, bad)


@njit(error_model="numpy")
def _feat_c_ser(response, x, u, G, incr_k, noisy, step, sigma, bad):
    for blk in range(bad.size):
        _feat_c_blk(blk, response, x, u, G, incr_k, noisy, step, sigma, bad)


@njit(nogil=True, error_model="numpy")
def feature_steps(features, response, x, incr, noisy, step, sigma, k0, nk, rec, ptr, states,
                feats, track, partial, tmp, u, G, bad, par):
    n = x.shape[0]
    for s in range(nk):
        k = k0 + s
        if par:
            _feat_a_par(features, x, partial, tmp)
        else:
            _feat_a_ser(features, x, partial, tmp)
        _finish_mean_rec(partial, n, u, k, rec, ptr, feats, track)
        incr_k = incr[s] if noisy else incr[0]
        if par:
            _feat_c_par(response, x, u, G, incr_k, noisy, step, sigma, bad)
        else:
            _feat_c_ser(response, x, u, G, incr_k, noisy, step, sigma, bad)
        if not _after_update(x, k + 1, bad, rec, ptr, states):
            return k + 1
    return -1


