r"""Compiled time loop: the engine's stepper that takes many Euler steps per Numba call.

:class:`CompiledStepper` advances one cloud of the mean-field network
(:class:`poc.drifts.MeanFieldNetwork`, full batch or minibatches), of
:class:`poc.drifts.LinearMeanField` or of a generic
:class:`poc.drifts.FeatureDrift` that reads its own empirical measure: the
noise increments and the minibatch indices of a *block* of steps are drawn at
once, and one Numba call (``poc._loop_kernels``) then runs all steps of the
block, with no Python per step. A step is

    x_{k+1} = x_k + step * b(x_k, mu^n_k) + sigma * incr_k,

the scheme of the per-step stepper of ``poc.engine`` (documentation: Theory,
Conventions, Euler scheme). Other runs (pairwise and NumPy drifts, frozen
paths, several clouds in lock-step, networks with large products) stay on
the per-step stepper.

Determinism: sums over particles are formed over fixed blocks of
``_PBLOCK`` particles, then over the blocks in order; the serial and the
parallel kernels run the same per-block code, so a trajectory is the same bits
on any number of Numba threads. For the feature drifts (generic and linear)
the arithmetic is the per-step path's, so both give the same bits on the same
increments; for the network the sum over hidden units is grouped by blocks
(the per-step path sums a whole row), which changes the last bits.

Noise stream: the increments of the steps ``[k0, k1)`` of a block are one
call of :func:`poc.noise.fill_noise` (:func:`_draw_noise_block`, the single
place the noise is drawn) on a counter-based stream whose key is drawn once
per run: step k's noise is a function of (key, k) only, so it does not
depend on the block size, the number of steps, recording, minibatching or
the thread count, and a run of K steps is the start of any longer run.
When the loop itself runs on one thread and a second is free, the next
block's noise is drawn on that thread while the loop runs the current block
(:meth:`_BlockSource.prefetch`): the values are the same, only the wall
time changes (both kernels release the GIL).
Minibatches: a partial Fisher-Yates shuffle of a persistent permutation of
the m data indices, driven by ``batch_size`` uniforms per step from the batch
stream (one draw per block): each step's batch is a uniform sample without
replacement, independent of the other steps.
"""

from __future__ import annotations

import threading

import numba
import numpy as np

from ._loop_kernels import feature_steps, linear_steps, network_steps, partial_fisher_yates
from .drifts import FeatureDrift, LinearMeanField, MeanFieldNetwork
from .drifts._kernels import PBLOCK as _PBLOCK
from .drifts.network import MAX_H
from .noise import fill_noise, noise_key

# Noise values held per block (8 MB of float64; the sampler holds about three
# such arrays while it draws). Steps per block: this over n d, within the bounds.
_BLOCK_VALUES = 1 << 20
_MIN_BLOCK_STEPS = 1
_MAX_BLOCK_STEPS = 1024
# Below this many operations per step the kernels run on the calling thread:
# a step wakes the other threads twice (10-20 us on an idle machine, far more
# on a busy one), which pays off only for about n >= 2048 at b = 32, d = 8.
_PARALLEL_MIN_WORK = 4_000_000
# Above this many multiply-adds per network product (batch * n * d) the
# per-step loop's BLAS products beat these loops (measured: benchmarks/bench_simulate_loop.py).
_MAX_LOOP_PRODUCT = 1 << 21


def block_steps(n: int, d: int) -> int:
    """Steps per block of drawn noise and minibatches for a cloud of shape (n, d)."""
    return int(min(_MAX_BLOCK_STEPS, max(_MIN_BLOCK_STEPS, _BLOCK_VALUES // max(1, n * d))))


def _draw_noise_block(key: np.ndarray, alpha: float, kind: str, scale: float, k0: int,
                      nk: int, n: int, d: int) -> np.ndarray:
    """The (nk, n, d) increments of steps k0 .. k0 + nk - 1: one sampler call per block."""
    return fill_noise(np.empty((nk, n, d)), alpha, kind, scale, key, step=k0)


# ---------------------------------------------------------------------------
# strategies: one per drift family, holding the buffers of its kernel


class _NetworkKernel:
    """The network's loop; ``batch`` is the minibatch size, or None for the full data."""

    def __init__(self, drift: MeanFieldNetwork, n: int, d: int, batch: int | None):
        self.drift = drift
        self.full = batch is None
        b = drift.n_data if batch is None else batch
        c = drift.n_outputs
        nb = (n + _PBLOCK - 1) // _PBLOCK
        self.X, self.Y = drift.X, drift._Y
        self.wt = drift._weights_t(n)
        if self.full:
            self.Xb, self.Yb = np.ascontiguousarray(self.X), np.ascontiguousarray(self.Y)
        else:
            self.Xb, self.Yb = np.empty((b, d)), np.empty((b, c))
        self.XT = np.empty((nb, d, _PBLOCK))
        self.H = np.empty((nb, b, _PBLOCK))
        self.Phi = np.empty((nb, b, _PBLOCK))
        self.fpart = np.empty((nb, c, b))
        self.R = np.empty((c, b))
        self.GT = np.empty((nb, d, _PBLOCK))
        self.bad = np.zeros(nb, dtype=np.bool_)
        self.work = float(b) * n * (4.0 * d + 30.0 + 4.0 * c)
        self.n_features = drift.n_features
        self.tracks = self.full

    def steps(self, x, idx, incr, noisy, step, sigma, k0, nk, rec, ptr, states, feats, par):
        return network_steps(x, self.X, self.Y, self.wt, self.drift._kind, idx, self.full, incr,
                          noisy, step, sigma, k0, nk, rec, ptr, states, feats, self.tracks,
                          self.Xb, self.Yb, self.XT, self.H, self.Phi, self.fpart, self.R,
                          self.GT, self.bad, par)


class _LinearKernel:
    def __init__(self, drift: LinearMeanField, n: int, d: int):
        nb = (n + _PBLOCK - 1) // _PBLOCK
        self.a, self.c = float(drift.a), float(drift.c)
        self.partial = np.empty((nb, d))
        self.u = np.empty(d)
        self.G = np.empty((nb, d))
        self.bad = np.zeros(nb, dtype=np.bool_)
        self.work = 6.0 * n * d
        self.n_features = d
        self.tracks = True

    def steps(self, x, idx, incr, noisy, step, sigma, k0, nk, rec, ptr, states, feats, par):
        return linear_steps(x, self.a, self.c, incr, noisy, step, sigma, k0, nk, rec, ptr, states,
                          feats, self.tracks, self.partial, self.u, self.G, self.bad, par)


class _FeatureKernel:
    def __init__(self, drift: FeatureDrift, n: int, d: int):
        nb = (n + _PBLOCK - 1) // _PBLOCK
        m = drift.feature_count(d)
        self.features, self.response = drift.features, drift.response
        self.partial = np.empty((nb, m))
        self.tmp = np.empty((nb, m))
        self.u = np.empty(m)
        self.G = np.empty((nb, d))
        self.bad = np.zeros(nb, dtype=np.bool_)
        self.work = drift.cost(n, d)
        self.n_features = m
        self.tracks = True

    def steps(self, x, idx, incr, noisy, step, sigma, k0, nk, rec, ptr, states, feats, par):
        return feature_steps(self.features, self.response, x, incr, noisy, step, sigma, k0, nk,
                           rec, ptr, states, feats, self.tracks, self.partial, self.tmp, self.u,
                           self.G, self.bad, par)


def _overrides(drift, base, *names) -> bool:
    return any(getattr(type(drift), name) is not getattr(base, name) for name in names)


def loop_kernel(drift, n: int, d: int, batch_size: int | None):
    """The compiled strategy for this drift and cloud, or None for the per-step loop.

    The per-step loop keeps what these kernels do not cover (pairwise and
    NumPy drifts, subclasses that change the evaluation) and the networks whose
    products are large enough for BLAS to beat Numba loops.
    """
    if isinstance(drift, MeanFieldNetwork):
        if _overrides(drift, MeanFieldNetwork, "drift_into", "mean_features_into"):
            return None
        b = drift.n_data if batch_size is None else batch_size
        if b * n > MAX_H or b * n * d > _MAX_LOOP_PRODUCT:
            return None
        return _NetworkKernel(drift, n, d, batch_size)
    if batch_size is not None:
        return None
    if isinstance(drift, LinearMeanField):
        if _overrides(drift, LinearMeanField, "mean_features_into", "response_into",
                      "drift_into"):
            return None
        return _LinearKernel(drift, n, d)
    if isinstance(drift, FeatureDrift) and drift.features is not None:
        if _overrides(drift, FeatureDrift, "mean_features_into", "response_into",
                      "drift_into"):
            return None
        return _FeatureKernel(drift, n, d)
    return None


# ---------------------------------------------------------------------------
# block sources of noise and minibatches, and the stepper


def block_end(k: int, n: int, d: int, n_steps: int) -> int:
    """End (exclusive) of the block of steps that contains step k."""
    length = block_steps(n, d)
    return min(n_steps, (k // length + 1) * length)


class _Prefetched:
    """``fn(*args)`` running on a thread of its own, with Numba limited to one thread there."""

    def __init__(self, fn, *args):
        self._out = self._err = None
        self._thread = threading.Thread(target=self._run, args=(fn, args), daemon=True)
        self._thread.start()

    def _run(self, fn, args) -> None:
        numba.set_num_threads(1)  # thread-local: the serial sampler, not a second pool
        try:
            self._out = fn(*args)
        except BaseException as err:  # re-raised in the caller's thread by result()
            self._err = err

    def result(self):
        self._thread.join()
        if self._err is not None:
            raise self._err
        return self._out


class _BlockSource:
    """Per-step values drawn a block of steps at a time.

    :meth:`span` gives the block that contains step k (drawing it when k
    enters it; steps are asked for in increasing order), and ``source(k)``
    the values of step k from the same blocks: the compiled and the per-step
    loops see the same values.
    """

    def __init__(self, n: int, d: int, n_steps: int):
        self.n, self.d, self.n_steps = n, d, n_steps
        self._k0 = self._k1 = 0
        self._buf = None
        self._ahead = False
        self._next = None  # (k0, k1, _Prefetched) of the block after the current one

    def prefetch(self) -> None:
        """From now on, draw the next block on a second thread while the current one is used."""
        self._ahead = True

    def _draw(self, k0: int, k1: int):
        nxt = self._next
        self._next = None
        if nxt is not None and nxt[:2] == (k0, k1):
            return nxt[2].result()
        return self.block(k0, k1)

    def span(self, k: int):
        """(k0, k1, values of steps k0 .. k1 - 1) for the block that contains step k."""
        if not self._k0 <= k < self._k1:
            self._k0, self._k1 = k, block_end(k, self.n, self.d, self.n_steps)
            self._buf = self._draw(self._k0, self._k1)
            if self._ahead and self._k1 < self.n_steps:
                k2 = block_end(self._k1, self.n, self.d, self.n_steps)
                self._next = (self._k1, k2, _Prefetched(self.block, self._k1, k2))
        return self._k0, self._k1, self._buf

    def __call__(self, k: int) -> np.ndarray:
        k0, _, buf = self.span(k)
        return buf[k - k0]


class BlockIncrements(_BlockSource):
    """Levy increments ``scale * xi`` of (n, d) noise of one kind, one sampler call per block."""

    def __init__(self, rng, alpha: float, kind: str, scale: float, n: int, d: int,
                 n_steps: int):
        super().__init__(n, d, n_steps)
        self.key = noise_key(rng)  # the run's stream: step k's noise depends on (key, k) only
        self.alpha, self.kind, self.scale = alpha, kind, scale

    def block(self, k0: int, k1: int) -> np.ndarray:
        return _draw_noise_block(self.key, self.alpha, self.kind, self.scale, k0, k1 - k0,
                                 self.n, self.d)


class BlockBatches(_BlockSource):
    """Minibatch indices without replacement: partial Fisher-Yates on the uniforms of a block.

    n and d are the cloud's (they set the blocks); m data points, batches of b.
    """

    def __init__(self, rng, m: int, b: int, n: int, d: int, n_steps: int):
        super().__init__(n, d, n_steps)
        self.rng, self.b = rng, b
        self.perm = np.arange(m, dtype=np.int64)

    def block(self, k0: int, k1: int) -> np.ndarray:
        u = self.rng.random((k1 - k0, self.b))
        out = np.empty((k1 - k0, self.b), dtype=np.int64)
        partial_fisher_yates(self.perm, u, out)
        return out


class Shifted:
    """``source(k + offset)``: a run of steps 0.. that continues a longer run at ``offset``."""

    def __init__(self, source, offset: int):
        self.source, self.offset = source, offset

    def __call__(self, k: int) -> np.ndarray:
        return self.source(k + self.offset)

    def span(self, k: int):
        k0, k1, buf = self.source.span(k + self.offset)
        return k0 - self.offset, k1 - self.offset, buf

    def prefetch(self) -> None:
        self.source.prefetch()


def _values(source, k: int, k_stop: int, n: int, d: int):
    """(values of steps k .. e - 1, e) with e <= k_stop, from a block source, a pre-drawn
    array, or a callable (stacked step by step)."""
    if hasattr(source, "span"):
        k0, k1, buf = source.span(k)
        e = min(k1, k_stop)
        return buf[k - k0:e - k0], e
    e = min(k_stop, k + block_steps(n, d))
    if isinstance(source, np.ndarray):
        return source[k:e], e
    return np.stack([source(j) for j in range(k, e)]), e


_NO_INDICES = np.zeros((1, 1), dtype=np.int64)
_NO_RECORD = np.zeros(0, dtype=np.int64)


class CompiledStepper:
    """The engine's stepper (the ``poc.engine.Stepper`` protocol) that runs many steps per
    Numba call: a block of steps of one cloud that reads its own empirical measure.

    Parameters
    ----------
    batch_size : int, optional
        Minibatch size of the run (MeanFieldNetwork), None for the full data.
    """

    def __init__(self, batch_size: int | None = None):
        self.batch_size = batch_size
        self._kernel = None
        self._threads = 1

    def supports(self, run) -> bool:
        if len(run.systems) != 1:
            return False
        s = run.systems[0]
        if not getattr(s.source, "computes_features", False):  # frozen paths: per step
            return False
        n, d = s.x.shape
        self._kernel = loop_kernel(s.drift, n, d, self.batch_size)
        # the caller's threads, before the engine narrows Numba to one for small work
        self._threads = numba.get_num_threads()
        return self._kernel is not None

    def advance(self, run, k0: int, k1: int) -> None:
        s = run.systems[0]
        kernel = self._kernel
        n, d = s.x.shape
        keepers = s.feature_keepers(k0)
        # the recorders stop the engine at their steps: only u_{k0} is owed inside a segment
        rec = np.array([k0], dtype=np.int64) if keepers else _NO_RECORD
        feats = np.empty((1, kernel.n_features))
        ptr = np.zeros(2, dtype=np.int64)
        par = kernel.work >= _PARALLEL_MIN_WORK and numba.get_num_threads() > 1
        if run.noisy and not par and self._threads > 1 and hasattr(run.increments, "prefetch"):
            run.increments.prefetch()  # the loop uses one thread: draw noise on the other
        k = k0
        while k < k1:
            e = k1
            incr = s.b[None]  # unused placeholder
            if run.noisy:
                incr, e = _values(run.increments, k, e, n, d)
                incr = np.ascontiguousarray(incr, dtype=np.float64)
            idx = _NO_INDICES
            if run.batches is not None:
                idx, e2 = _values(run.batches, k, e, n, d)
                idx = np.ascontiguousarray(idx[:e - k], dtype=np.int64)
                if e2 < e:
                    e, incr = e2, incr[:e2 - k]
            bad = kernel.steps(s.x, idx, incr, run.noisy, run.step, run.sigma, k, e - k, rec,
                               ptr, s.b[None], feats, par)
            if bad >= 0:
                s.raise_non_finite(bad, run.step)
            if k == k0:
                for r in keepers:
                    r.keep_features(k0, feats[0])
            run.tick(e - k)
            k = e
        run.after_step(k1)
