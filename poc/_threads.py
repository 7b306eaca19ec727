"""Thread control: Numba's threading layer, and BLAS threads for small products.

Numba layer: GNU OpenMP workers (Numba's usual "omp" layer on Linux) spin
after every parallel kernel and steal the cores from the BLAS calls that
follow, unless OMP_WAIT_POLICY=PASSIVE was set before they started. A
library must not set its user's environment, so :func:`prefer_quiet_layer`
(called by ``import poc``) selects Numba's "workqueue" layer instead, whose
idle workers sleep -- only if the user has not chosen a layer
(NUMBA_THREADING_LAYER) and no Numba threads have started yet. Results do not
depend on the layer. The workqueue layer is not thread-safe: a program that
calls parallel ``poc`` functions from several Python threads at once should
set NUMBA_THREADING_LAYER=omp (or tbb), which this module then leaves alone.

BLAS: a minibatch step multiplies a (batch x d) block by (d x n) weights: too small
for two BLAS threads, whose wake-ups made steps up to 10x slower on a shared
2-core machine. Results are the same bits either way; only speed changes.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from threadpoolctl import threadpool_limits

# Products below this many multiply-adds (batch * n * d) run on one BLAS thread: a
# digits step (64 x 256 x 65) was about 7x slower with two spinning OpenBLAS workers.
BLAS_SERIAL_WORK = 1e7


_blas_lock = threading.Lock()
_blas_depth = 0
_blas_limiter = None


@contextlib.contextmanager
def serial_blas(work: float = 0.0):
    """Run the block with one BLAS thread when ``work`` (multiply-adds per product) is small.

    The limit is process-wide, so overlapping blocks (studies run in threads by
    ``map_concurrently``) share one: the first to enter sets it, the last to
    leave restores the original.
    """
    global _blas_depth, _blas_limiter
    if work >= BLAS_SERIAL_WORK:
        yield
        return
    with _blas_lock:
        if _blas_depth == 0:
            _blas_limiter = threadpool_limits(limits=1, user_api="blas")
        _blas_depth += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_depth -= 1
            if _blas_depth == 0:
                _blas_limiter.restore_original_limits()
                _blas_limiter = None


def prefer_quiet_layer() -> str:
    """Select Numba's workqueue threading layer unless a layer was already chosen or started.

    Returns
    -------
    str
        The layer Numba will use (or is using): ``"workqueue"`` after a
        successful selection, otherwise what was already configured.
    """
    import numba
    from numba.np.ufunc import parallel

    if parallel._is_initialized:
        return numba.threading_layer()
    if os.environ.get("NUMBA_THREADING_LAYER") or numba.config.THREADING_LAYER != "default":
        return numba.config.THREADING_LAYER
    numba.config.THREADING_LAYER = "workqueue"
    return "workqueue"


# --- products split over threads that sleep when idle ---------------------------------

# Below this many multiply-adds a product is not worth handing to other threads.
_SPLIT_MIN_WORK = 2e6
# Large products are computed as this many blocks of rows, always the same ones, so
# their bits never depend on the machine's thread count or the environment. Each block
# is a BLAS call that packs the whole other operand again: 4 blocks made train_fcn's
# forward product 25 % slower than OpenBLAS on two threads, 2 blocks 8 % (float32,
# 500 x 784 by 784 x 1000). More blocks would only pay on more than two cores.
_BLOCKS = 2
_state = threading.local()
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            import numba

            workers = max(1, min(_BLOCKS, int(numba.config.NUMBA_NUM_THREADS)))
            _pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="poc-blas")
    return _pool


@contextlib.contextmanager
def split_blas():
    """One BLAS thread per call; :func:`dot` runs the blocks of large products concurrently.

    OpenBLAS's own workers spin for ~0.1 s after every call (unless
    OPENBLAS_THREAD_TIMEOUT was set before it loaded) and steal the cores
    from the parallel Numba kernels between products. Python pool threads
    wait on a lock instead, so the products stay parallel without spinning.
    """
    previous = getattr(_state, "split", False)
    with threadpool_limits(limits=1, user_api="blas"):
        _state.split = True
        try:
            yield
        finally:
            _state.split = previous


def dot(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out[:] = a @ b``; inside :func:`split_blas`, large products by blocks on a thread pool.

    The blocks of rows are fixed (:data:`_BLOCKS`, whatever the number of
    threads) and each is one single-threaded BLAS call, so the bits of the
    result do not depend on how many threads compute them. Outside
    :func:`split_blas` this is ``np.dot(a, b, out=out)``.
    """
    m = out.shape[0]
    if not _splits(m, float(m) * a.shape[1] * out.shape[1]):
        return np.dot(a, b, out=out)
    _run_blocks(lambda lo, hi: np.dot(a[lo:hi], b, out[lo:hi]), m)
    return out


def _splits(rows: int, work: float) -> bool:
    """Whether a product of ``rows`` output rows and ``work`` multiply-adds is split."""
    return getattr(_state, "split", False) and rows >= 2 * _BLOCKS and work >= _SPLIT_MIN_WORK


def _run_blocks(task, m: int) -> None:
    """``task(lo, hi)`` for the :data:`_BLOCKS` fixed blocks of ``range(m)``, on the pool."""
    edges = [m * i // _BLOCKS for i in range(_BLOCKS + 1)]
    futures = [_executor().submit(task, lo, hi) for lo, hi in itertools.pairwise(edges)]
    for f in futures:
        f.result()


def dot_tn(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out[:] = a.T @ b`` for a (m, n) and b (m, d): the gradient product of a network.

    Inside :func:`split_blas`, large products are computed as ``b.T @ a[:, lo:hi]``
    (d x block) per fixed block of columns, then transposed into ``out[lo:hi]``:
    with few columns d, OpenBLAS runs this orientation about 1.3x faster than
    ``a.T @ b`` (benchmarks/bench_sgd_step.py). Outside it, ``np.dot(a.T, b, out=out)``.
    """
    n = out.shape[0]
    if not _splits(n, float(n) * a.shape[0] * out.shape[1]):
        return np.dot(a.T, b, out=out)
    bt = b.T

    def block(lo: int, hi: int) -> None:
        out[lo:hi] = np.dot(bt, a[:, lo:hi]).T

    _run_blocks(block, n)
    return out
