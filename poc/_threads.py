"""BLAS thread control for the small products of minibatch steps.

A minibatch step multiplies a (batch x d) block by (d x n) weights: too small
for two BLAS threads, whose wake-ups made steps up to 10x slower on a shared
2-core machine. Results are the same bits either way; only speed changes.
"""

from __future__ import annotations

import contextlib

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
