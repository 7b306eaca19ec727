"""Numba kernels of the drift families: blocked sums over particles, pairwise sums.

Private to :mod:`poc.drifts`. Sums over particles are taken over fixed blocks
of ``PBLOCK`` particles and then over blocks in order, so every drift value is
bit-identical whatever the number of Numba threads.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

# Particles per block in parallel loops. Sums over particles are formed per
# block and then over blocks in order, so the grouping (and hence the rounding)
# depends on n only, never on the number of threads.
PBLOCK = 64


def n_blocks(n: int) -> int:
    return (n + PBLOCK - 1) // PBLOCK


@njit(cache=True)
def n_blocks_nb(n):
    return (n + PBLOCK - 1) // PBLOCK


# ---------------------------------------------------------------------------
# generic kernels, specialised on the user's functions. Numba cannot cache a
# compilation keyed on another dispatcher (the key is a per-process object, so
# every run would add a new cache file), hence no cache=True on these three.


@njit(inline="always")
def feature_block_sum(b, features, x, acc, tmp):
    """acc = the sum of features(x_i) over block b of the particles, in i order (tmp: a buffer
    of acc's length); the compiled loop (poc._loop_kernels) sums its blocks with it too."""
    acc[:] = 0.0
    for i in range(b * PBLOCK, min(x.shape[0], (b + 1) * PBLOCK)):
        features(x[i], tmp)
        for j in range(acc.size):
            acc[j] += tmp[j]


@njit(parallel=True)
def feature_block_sums(features, x, partial):
    nb, m = partial.shape
    for b in prange(nb):
        feature_block_sum(b, features, x, partial[b], np.empty(m))


@njit(parallel=True)
def feature_response_into(response, x, u, out):
    n = x.shape[0]
    for b in prange(n_blocks_nb(n)):
        for i in range(b * PBLOCK, min(n, (b + 1) * PBLOCK)):
            response(x[i], u, out[i])


# Columns j of the cloud visited per tile by the pairwise kernel: a tile of
# 256 rows (d <= 8: <= 16 KB) stays in L1 while the 64 rows i of a block run
# over it. Tiling changes the order in which (i, j) pairs are *visited*, not
# the order in which each sum is *formed*: acc[i] still receives K(x_i, y_0),
# K(x_i, y_1), ... in j order, so the result is the plain sequential sum,
# independent of the tile size and of the number of threads. No fastmath: it
# would let LLVM reassociate that sum (and assume the user's values finite).
_JTILE = 256


@njit(parallel=True)
def pairwise_into(confinement, interaction, x, cloud, out):
    """out[i] = V(x_i) + (1/N) sum_j K(x_i, cloud_j); x (k, d), cloud (N, d).

    The particle drift is the case cloud = x. Parallel over fixed blocks of
    PBLOCK points; per point the sum over j is sequential (see _JTILE).
    """
    k, d = x.shape
    N = cloud.shape[0]
    for b in prange(n_blocks_nb(k)):
        i0 = b * PBLOCK
        i1 = min(k, i0 + PBLOCK)
        tmp = np.empty(d)
        acc = np.zeros((i1 - i0, d))
        for j0 in range(0, N, _JTILE):
            j1 = min(N, j0 + _JTILE)
            for i in range(i0, i1):
                xi = x[i]
                ai = acc[i - i0]
                for j in range(j0, j1):
                    interaction(xi, cloud[j], tmp)
                    for c in range(d):
                        ai[c] += tmp[c]
        for i in range(i0, i1):
            confinement(x[i], tmp)
            for c in range(d):
                out[i, c] = tmp[c] + acc[i - i0, c] / N


@njit(cache=True)
def finish_mean(partial, n, u):
    """u = (sum of the block partial sums, in block order) / n."""
    nb, m = partial.shape
    for j in range(m):
        u[j] = 0.0
    for b in range(nb):
        for j in range(m):
            u[j] += partial[b, j]
    for j in range(m):
        u[j] /= n


# ---------------------------------------------------------------------------
# kernels of the built-in linear model (cached)


@njit(cache=True, parallel=True)
def column_block_sums(x, partial):
    n, d = x.shape
    nb = partial.shape[0]
    for b in prange(nb):
        acc = partial[b]
        acc[:] = 0.0
        for i in range(b * PBLOCK, min(n, (b + 1) * PBLOCK)):
            for j in range(d):
                acc[j] += x[i, j]


@njit(cache=True, parallel=True)
def linear_into(x, u, a, c, out):
    n, d = x.shape
    for b in prange(n_blocks_nb(n)):
        for i in range(b * PBLOCK, min(n, (b + 1) * PBLOCK)):
            for j in range(d):
                out[i, j] = -a * x[i, j] + c * u[j]
