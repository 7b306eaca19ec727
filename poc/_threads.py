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
import os

from threadpoolctl import threadpool_limits

# Products below this many multiply-adds (batch * n * d) run on one BLAS thread: a
# digits step (64 x 256 x 65) was about 7x slower with two spinning OpenBLAS workers.
BLAS_SERIAL_WORK = 1e7


@contextlib.contextmanager
def serial_blas(work: float = 0.0):
    """Run the block with one BLAS thread when ``work`` (multiply-adds per product) is small."""
    if work >= BLAS_SERIAL_WORK:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


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
