r"""The Euler engine: the one loop that advances particle clouds, for every measurement.

Every simulation of the toolkit is a run of this engine: :func:`poc.simulate`,
the reference clouds, nonlinear copies and coupled runs of :mod:`poc.limits`,
the runs of :func:`poc.strong_error` and :func:`poc.train`. Each *system* (one
particle cloud) is advanced by the Euler scheme (docs/theory.rst, #conv-euler-scheme)

    x_{k+1} = x_k + step * b_k(x_k) + sigma * increment_k,

several systems in lock-step on the same increments (synchronous coupling).
What differs between the measurements is said by small strategy objects, not
by keywords of the loop:

* what the drift of a system reads at step k, its *source*:
  :class:`OwnCloud` (its own empirical measure: the n-particle system),
  :class:`FeaturePath` (a frozen mean-feature path ``u_k``: the nonlinear
  copies of a feature drift) or :class:`CloudPath` (frozen reference clouds:
  the nonlinear copies of a pairwise or NumPy drift);
* what is kept of the run, its *recorders*: :class:`RecordStates` (states,
  and the mean features of a feature drift, at chosen steps: the
  :class:`Trajectory`) and :class:`RecordPath` (``x_k`` or ``u_k`` at every
  step: a reference path);
* how the steps are taken, the *stepper*: :class:`PythonStepper` evaluates
  the drift and applies the update once per step. The engine hands a stepper
  whole segments of steps between two recorder stops (:meth:`Recorder.next_stop`),
  so a stepper that takes many steps in one compiled call fits in as another
  :class:`Stepper`.

A new measurement is a new source or recorder; the loop does not change. The
engine trusts its inputs (float64, C-contiguous, shapes that fit): the public
functions validate them first (``poc._inputs``).

The engine calls only the public drift protocol of :class:`poc.drifts.Drift`
(``workspace``, ``cost``, ``drift_into``, ``against_workspace``,
``against_cost``, ``against_into``, ``uses_blas``, and for feature drifts
``feature_count`` and ``mean_features_into``); see the documentation page
"Write your own drift family".

This module is internal to ``poc``: its names are stable within the package,
not a user API.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numba
import numpy as np
from numba import njit, prange

from ._fastloop import BlockBatches, BlockIncrements
from ._loop_kernels import update_row
from ._threads import split_blas
from .drifts import Drift, FeatureDrift
from .exceptions import NonFiniteStateError

__all__ = [
    "CloudPath",
    "FeaturePath",
    "NonFiniteStateError",
    "OwnCloud",
    "PythonStepper",
    "RecordPath",
    "RecordStates",
    "Recorder",
    "Run",
    "Stepper",
    "System",
    "Trajectory",
    "batch_source",
    "batch_stream",
    "euler",
    "increment_source",
    "progress_bar",
    "quiet_numba_threads",
    "record_steps",
    "run",
    "threads_for",
]


@dataclass(frozen=True, eq=False)
class Trajectory:
    """Result of a particle simulation.

    Attributes
    ----------
    final : numpy.ndarray, shape (n, d)
        State after the last step.
    times : numpy.ndarray, shape (r,), or None
        Recorded times ``k * step`` (None when nothing was recorded).
    states : numpy.ndarray, shape (r, n, d), or None
        Recorded states, ``states[0]`` is the initial state and
        ``states[-1]`` equals ``final``.
    steps : numpy.ndarray of int, shape (r,), or None
        Recorded step indices: ``0, record_every, 2 record_every, ...`` and
        the last step ``n_steps``.
    features : numpy.ndarray, shape (r, n_features), or None
        For full-batch feature drifts: the mean features ``u_k`` of the cloud
        at the recorded steps (for a MeanFieldNetwork, the network outputs on
        the data, flattened row-major from (m, c)).
    step : float
        Step size.
    n_steps : int
        Number of steps taken.
    """

    final: np.ndarray
    times: np.ndarray | None = None
    states: np.ndarray | None = None
    steps: np.ndarray | None = None
    features: np.ndarray | None = None
    step: float = math.nan
    n_steps: int = 0


# Particles per block of the update kernel: the blocks only split the work and
# the finiteness flags, each coordinate's update is the same whatever the split.
_BLOCK = 64


@njit(cache=True, parallel=True)
def _euler_update(x, b, step, sigma, incr, noisy, bad):
    """x += step * b (+ sigma * incr); bad[block] flags non-finite results.

    Returns True if every new coordinate is finite. The left-to-right order
    is the paper's: drift (gradient) step first, then the noise.
    """
    n = x.shape[0]
    nb = bad.size
    for blk in prange(nb):
        chk = 0.0
        for i in range(blk * _BLOCK, min(n, (blk + 1) * _BLOCK)):
            chk += update_row(x, i, b[i], incr, noisy, step, sigma)
        bad[blk] = chk != 0.0
    for blk in range(nb):
        if bad[blk]:
            return False
    return True


# ---------------------------------------------------------------------------
# sources: what the drift of a system reads at step k


class OwnCloud:
    """The drift at the system's own empirical measure ``mu^n_k`` (an n-particle system)."""

    #: whether the mean features u_k of a feature drift are computed (and so can be recorded)
    computes_features = True

    def workspace(self, drift: Drift, n: int, d: int, batch_size: int | None):
        return drift.workspace(n, d, batch_size), drift.cost(n, d)

    def drift_into(self, s: System, k: int, batch, u_out) -> None:
        kw = {}
        if batch is not None:
            kw["batch"] = batch
        if u_out is not None:
            kw["u_out"] = u_out
        s.drift.drift_into(s.ws, s.x, s.b, **kw)


class FeaturePath:
    """A frozen mean-feature path: step k uses ``F(x, features[k])`` (feature drifts).

    Parameters
    ----------
    features : numpy.ndarray, shape (n_steps (+ 1), n_features)
        The path ``u_k``, e.g. a reference cloud's; the nonlinear copies of
        :mod:`poc.limits` read it.
    """

    computes_features = False

    def __init__(self, features: np.ndarray):
        self.features = features

    def workspace(self, drift: Drift, n: int, d: int, batch_size: int | None):
        return drift.workspace(n, d, batch_size), drift.cost(n, d)

    def drift_into(self, s: System, k: int, batch, u_out) -> None:
        kw = {} if batch is None else {"batch": batch}
        s.drift.drift_into(s.ws, s.x, s.b, u_fixed=self.features[k], **kw)


class CloudPath:
    """Frozen reference clouds: step k uses the drift against ``clouds[k]``.

    Parameters
    ----------
    clouds : numpy.ndarray, shape (n_steps (+ 1), N, d)
        The clouds, e.g. a reference cloud's at every step; the nonlinear
        copies of a pairwise or NumPy drift read them.
    """

    computes_features = False

    def __init__(self, clouds: np.ndarray):
        self.clouds = clouds

    def workspace(self, drift: Drift, n: int, d: int, batch_size: int | None):
        N = self.clouds.shape[1]
        return drift.against_workspace(n, N, d), drift.against_cost(n, N, d)

    def drift_into(self, s: System, k: int, batch, u_out) -> None:
        s.drift.against_into(s.ws, s.x, self.clouds[k], s.b)


# ---------------------------------------------------------------------------
# recorders: what is kept of a run


class Recorder:
    """What a system keeps of its run; subclasses override the hooks they need.

    The engine calls :meth:`start` once (the state is ``x_0``), then, for
    every step k, :meth:`wants_features` (before the drift is evaluated at
    ``x_k``) and :meth:`keep_features` with the mean features ``u_k``, and
    :meth:`keep_state` with ``x_j`` at every stop ``j``
    (:meth:`next_stop`); after the last step :meth:`keep_features` may
    receive ``u_{n_steps}``.
    """

    def start(self, s: System, n_steps: int) -> None:
        """Called once with the system in its initial state."""

    def next_stop(self, k: int) -> int | None:
        """The first step index ``j > k`` at which ``x_j`` or ``u_j`` must be seen (None: none).

        The engine ends a stepper's segment there; a recorder that wants every
        step returns ``k + 1``.
        """
        return None

    def wants_features(self, k: int) -> bool:
        """Whether the mean features ``u_k`` of the state ``x_k`` are kept."""
        return False

    def keep_features(self, k: int, u: np.ndarray) -> None:
        """Receive ``u_k`` (a buffer that is reused: copy what you keep)."""

    def keep_state(self, k: int, x: np.ndarray) -> None:
        """Receive ``x_k`` at a stop (a buffer that is reused: copy what you keep)."""


class RecordStates(Recorder):
    """States (and own mean features) at the steps ``steps``: a :class:`Trajectory`.

    Parameters
    ----------
    steps : numpy.ndarray of int, shape (r,)
        Increasing step indices from 0 to n_steps (see :func:`record_steps`).
    """

    def __init__(self, steps: np.ndarray):
        self.steps = steps
        self._pos = {int(k): r for r, k in enumerate(steps)}
        self.states = self.features = None

    def start(self, s: System, n_steps: int) -> None:
        n, d = s.x.shape
        self.states = np.empty((self.steps.size, n, d))
        self.states[0] = s.x
        # the loop computes u_k anyway when the system reads its own cloud in full batch
        if s.tracks_features:
            self.features = np.empty((self.steps.size, s.n_features))

    def next_stop(self, k: int) -> int | None:
        r = int(np.searchsorted(self.steps, k, side="right"))
        return int(self.steps[r]) if r < self.steps.size else None

    def wants_features(self, k: int) -> bool:
        return self.features is not None and k in self._pos

    def keep_features(self, k: int, u: np.ndarray) -> None:
        self.features[self._pos[k]] = u

    def keep_state(self, k: int, x: np.ndarray) -> None:
        r = self._pos.get(k)
        if r is not None:
            self.states[r] = x


class RecordPath(Recorder):
    """Every state ``x_k`` and/or every mean-feature vector ``u_k``, k = 0 .. n_steps.

    Parameters
    ----------
    clouds : numpy.ndarray, shape (n_steps + 1, n, d), optional
        Receives ``x_k`` (a reference cloud's path for pairwise and NumPy drifts).
    features : numpy.ndarray, shape (n_steps + 1, n_features), optional
        Receives ``u_k`` (a reference cloud's path for feature drifts; the
        system must read its own cloud in full batch).
    """

    def __init__(self, clouds: np.ndarray | None = None, features: np.ndarray | None = None):
        self.clouds = clouds
        self.features = features

    def start(self, s: System, n_steps: int) -> None:
        if self.clouds is not None:
            self.clouds[0] = s.x

    def next_stop(self, k: int) -> int | None:
        return k + 1 if self.clouds is not None or self.features is not None else None

    def wants_features(self, k: int) -> bool:
        return self.features is not None

    def keep_features(self, k: int, u: np.ndarray) -> None:
        self.features[k] = u

    def keep_state(self, k: int, x: np.ndarray) -> None:
        if self.clouds is not None:
            self.clouds[k] = x


# ---------------------------------------------------------------------------
# systems


class System:
    """One particle cloud advanced by the engine: its state, buffers and strategies.

    Parameters
    ----------
    drift : poc.drifts.Drift
    x0 : numpy.ndarray, shape (n, d)
        Initial state (copied).
    label : str
        Name of the system in error messages.
    source : OwnCloud, FeaturePath or CloudPath, optional
        What the drift reads at each step (default: :class:`OwnCloud`).
    recorders : sequence of Recorder, optional
        What is kept of the run.
    batch_size : int, optional
        Size of the minibatches the engine's ``batches`` returns (MeanFieldNetwork).
    """

    def __init__(self, drift: Drift, x0: np.ndarray, *, label: str, source=None,
                 recorders: Sequence[Recorder] = (), batch_size: int | None = None):
        self.drift = drift
        self.label = label
        self.source = OwnCloud() if source is None else source
        self.recorders = tuple(recorders)
        self.x = np.array(x0, dtype=np.float64, order="C", copy=True)
        n, d = self.x.shape
        self.b = np.empty_like(self.x)
        self.bad = np.zeros((n + _BLOCK - 1) // _BLOCK, dtype=np.bool_)
        self.ws, self.cost = self.source.workspace(drift, n, d, batch_size)
        is_feature = isinstance(drift, FeatureDrift)
        self.n_features = drift.feature_count(d) if is_feature else 0
        self.tracks_features = (is_feature and self.source.computes_features
                                and batch_size is None)
        self.u_buf = np.empty(self.n_features) if self.tracks_features else None

    def trajectory(self, step: float, n_steps: int) -> Trajectory:
        """The run as a :class:`Trajectory` (its :class:`RecordStates`, if any)."""
        rec = next((r for r in self.recorders if isinstance(r, RecordStates)), None)
        if rec is None:
            return Trajectory(final=self.x, step=step, n_steps=n_steps)
        return Trajectory(final=self.x, times=rec.steps * step, states=rec.states,
                          steps=rec.steps, features=rec.features, step=step, n_steps=n_steps)

    def feature_keepers(self, k: int) -> list[Recorder]:
        if not self.tracks_features:
            return []
        return [r for r in self.recorders if r.wants_features(k)]

    def raise_non_finite(self, k: int, step: float):
        with np.errstate(invalid="ignore", over="ignore"):
            bad_rows = int(np.count_nonzero(~np.isfinite(self.x).all(axis=1)))
        t = k * step
        raise NonFiniteStateError(
            f"{self.label} became non-finite at step {k} (t = {t:.6g}): {bad_rows} of "
            f"{self.x.shape[0]} particles have a non-finite coordinate; the step {step:g} may be "
            "too large for this drift, or the drift may blow up",
            k, t,
        )


# ---------------------------------------------------------------------------
# threads and progress


# Below this many operations per step (drift kernels, noise transform, update)
# the loop runs its Numba kernels on one thread: waking a second thread costs
# 10 us on an idle machine and up to a scheduler tick on a busy one, more than
# the work itself. Results are the same bits either way (fixed blocking).
_PARALLEL_MIN_WORK = 300_000


def quiet_numba_threads() -> bool:
    """True if Numba's idle worker threads sleep instead of spinning.

    Numba's "workqueue" layer (which ``import poc`` selects unless the user chose
    a layer) parks idle workers on a condition variable; GNU OpenMP workers
    (the "omp" layer) spin unless OMP_WAIT_POLICY=PASSIVE was set before they
    started.
    """
    from numba.np.ufunc import parallel

    layer = numba.threading_layer() if parallel._is_initialized else numba.config.THREADING_LAYER
    if layer == "workqueue":
        return True
    return layer == "omp" and os.environ.get("OMP_WAIT_POLICY", "").upper() == "PASSIVE"


@contextlib.contextmanager
def threads_for(work: float, uses_blas: bool = False):
    """Choose the threads of the loop's Numba kernels and, beside them, of BLAS.

    Small work runs on one Numba thread. Beside BLAS (the network drift),
    OpenBLAS's idle workers spin for ~0.1 s after each call unless
    OPENBLAS_THREAD_TIMEOUT was set before it loaded; if Numba's workers sleep
    (the workqueue layer that ``import poc`` selects), BLAS runs on one thread
    per call for the loop and the large products are split over sleeping
    Python threads (:func:`poc._threads.split_blas`), with Numba on all
    threads (benchmarks/bench_sgd_step.py measures the difference). If
    Numba's workers spin too (GNU OpenMP), Numba runs on one thread. Results
    are the same bits on any number of Numba threads (fixed blocking).
    """
    if work >= _PARALLEL_MIN_WORK and not uses_blas:
        yield
        return
    if work >= _PARALLEL_MIN_WORK and quiet_numba_threads():
        with split_blas():
            yield
        return
    previous = numba.get_num_threads()
    numba.set_num_threads(1)  # thread-local setting of the calling thread
    try:
        yield
    finally:
        numba.set_num_threads(previous)


def progress_bar(progress: bool | None, total: int, desc: str):
    """A progress bar for ``total`` steps, or None when ``progress`` is False."""
    if progress is False:
        return None
    from ._progress import progress_bar as _bar

    # None: only on a terminal, and only once the run has lasted 5 s; True off a
    # terminal gives plain heartbeat lines instead of a bar's escape codes
    return _bar(total=total, desc=desc, enabled=progress,
                delay=5.0 if progress is None else 0.0, leave=progress is not None)


# ---------------------------------------------------------------------------
# steppers and the run


class Stepper:
    """How the engine takes the steps ``k0 .. k1 - 1`` of a run (see :class:`PythonStepper`).

    The engine cuts a run into segments at the recorders' stops
    (:meth:`Recorder.next_stop`), so no recorder needs to see a state or
    mean features strictly inside a segment: only ``u_{k0}`` (the features of
    the segment's first state, :meth:`System.feature_keepers`) and ``x_{k1}``.
    :meth:`advance` must leave every system in the state ``x_{k1}``, hand
    ``u_{k0}`` to the recorders that want it, call :meth:`Run.after_step`
    with ``k1`` (it may call it at the steps between), draw the increments and
    minibatches of steps k0 .. k1 - 1 in order (:meth:`Run.increment`,
    ``Run.batches``) unless it documents another stream, and report progress
    with :meth:`Run.tick`. A stepper that takes many steps in one compiled call
    returns False from :meth:`supports` for the runs it cannot take (e.g.
    frozen paths or drifts without a compiled form); the engine then uses
    :class:`PythonStepper`.
    """

    def supports(self, run: Run) -> bool:
        """Whether this stepper can advance the systems of ``run``."""
        return True

    def advance(self, run: Run, k0: int, k1: int) -> None:
        raise NotImplementedError


class PythonStepper(Stepper):
    """One drift evaluation and one update kernel per system and step, driven from Python."""

    def advance(self, run: Run, k0: int, k1: int) -> None:
        for k in range(k0, k1):
            incr = run.increment(k)
            batch = None if run.batches is None else run.batches(k)
            for s in run.systems:
                keepers = s.feature_keepers(k)
                u_out = s.u_buf if keepers else None
                s.source.drift_into(s, k, batch, u_out)
                for rec in keepers:
                    rec.keep_features(k, u_out)
                if not _euler_update(s.x, s.b, run.step, run.sigma, incr, run.noisy, s.bad):
                    s.raise_non_finite(k + 1, run.step)
            run.after_step(k + 1)
            run.tick(1)


class Run:
    """The systems of one run, its increments and its progress (handed to a stepper)."""

    def __init__(self, systems: list[System], step: float, n_steps: int, sigma: float,
                 increments, batches, bar):
        self.systems = systems
        self.step = step
        self.n_steps = n_steps
        self.sigma = sigma
        self.noisy = sigma != 0.0
        self.increments = increments
        self.pre_drawn = increments is not None and not callable(increments)
        self.batches = batches
        self.bar = bar
        self.shape = systems[0].x.shape

    def increment(self, k: int) -> np.ndarray:
        """The increment of step k, (n, d) float64 C-contiguous (unused when sigma = 0)."""
        if not self.noisy:
            return self.systems[0].b  # unused placeholder
        incr = self.increments[k] if self.pre_drawn else self.increments(k)
        if incr.shape != self.shape:
            raise ValueError(
                f"increments({k}) must have shape (n, d) = {self.shape}, got {incr.shape}"
            )
        return np.ascontiguousarray(incr, dtype=np.float64)

    def after_step(self, k: int) -> None:
        """Hand ``x_k`` to the recorders that stop at k."""
        for s in self.systems:
            for rec in s.recorders:
                rec.keep_state(k, s.x)

    def tick(self, steps: int) -> None:
        if self.bar is not None:
            self.bar.update(steps)

    def next_stop(self, k: int) -> int:
        """The end of the segment that starts at step k: the next recorder stop, or n_steps."""
        stop = self.n_steps
        for s in self.systems:
            for rec in s.recorders:
                j = rec.next_stop(k)
                if j is not None:
                    stop = min(stop, j)
        return stop


def run(systems: list[System], step: float, n_steps: int, sigma: float, increments, *,
        batches: Callable | None = None, progress: bool | None = False, desc: str = "simulate",
        stepper: Stepper | None = None) -> None:
    """Advance several systems of equal shape in lock-step on the same increments.

    Parameters
    ----------
    systems : list of System
        Clouds of the same shape (n, d).
    step : float
        Step size ``> 0``.
    n_steps : int
        Number of steps ``>= 1``.
    sigma : float
        Noise scale ``>= 0``; with 0 no increment is requested.
    increments : callable, numpy.ndarray or None
        The Levy increments ``L(t_{k+1}) - L(t_k)`` of a unit-scale process,
        already multiplied by ``step^(1/alpha)`` but not by sigma: either a
        callable ``increments(k) -> (n, d) array`` called once per step in
        increasing k, or a pre-drawn array of shape (n_steps, n, d). For
        nested grids with common random numbers, pass the sums of the fine
        increments each coarse step covers.
    batches : callable, optional
        ``batches(k) -> int array`` of data indices used at step k (minibatches).
    progress : bool or None
        Progress bar: True, False, or None for automatic.
    desc : str
        Label of the progress bar.
    stepper : Stepper, optional
        How steps are taken; :class:`PythonStepper` by default.

    Raises
    ------
    ValueError
        If the increments have the wrong shape.
    NonFiniteStateError
        At the first step whose new state has a non-finite coordinate.
    """
    n, d = systems[0].x.shape
    noisy = sigma != 0.0
    if noisy and increments is None:
        raise ValueError("increments must be given when sigma > 0")
    if increments is not None and not callable(increments) \
            and increments.shape[:3] != (n_steps, n, d):
        raise ValueError(
            f"pre-drawn increments must have shape (n_steps, n, d) = {(n_steps, n, d)}, "
            f"got {increments.shape}"
        )
    for s in systems:
        for rec in s.recorders:
            rec.start(s, n_steps)
    work = sum(s.cost + 5.0 * n * d for s in systems) + (100.0 * n * d if noisy else 0)
    uses_blas = any(s.drift.uses_blas for s in systems)
    bar = progress_bar(progress, n_steps, desc)
    state = Run(systems, step, n_steps, sigma, increments, batches, bar)
    stepper = PythonStepper() if stepper is None or not stepper.supports(state) else stepper
    try:
        with threads_for(work, uses_blas):
            k = 0
            while k < n_steps:
                stop = state.next_stop(k)
                stepper.advance(state, k, stop)
                k = stop
    finally:
        if bar is not None:
            bar.close()
    # mean features of the final state (one extra evaluation) where they are wanted
    for s in systems:
        keepers = s.feature_keepers(n_steps)
        if keepers:
            u = s.u_buf
            s.drift.mean_features_into(s.drift.workspace(n, d), s.x, u)
            for rec in keepers:
                rec.keep_features(n_steps, u)


def record_steps(n_steps: int, record_every: int | None) -> np.ndarray | None:
    """Steps ``0, record_every, 2 record_every, ...`` and ``n_steps`` (None if not recording)."""
    if record_every is None:
        return None
    steps = np.arange(0, n_steps + 1, record_every, dtype=np.int64)
    if steps[-1] != n_steps:
        steps = np.append(steps, np.int64(n_steps))
    return steps


def euler(drift: Drift, x, step: float, n_steps: int, sigma: float, increments, *,
          source=None, recorders: Sequence[Recorder] = (), record_every: int | None = None,
          batch_size: int | None = None, batches: Callable | None = None,
          progress: bool | None = False, label: str = "simulation",
          stepper: Stepper | None = None) -> Trajectory:
    r"""Run one system; inputs are trusted (no validation).

    Advances ``x_{k+1} = x_k + step * b(x_k, mu_k) + sigma * increment_k``
    for k = 0 .. n_steps - 1 and returns a :class:`Trajectory`.

    Parameters
    ----------
    drift : poc.drifts.Drift
    x : numpy.ndarray, shape (n, d), float64
        Initial state (copied, not modified).
    step, n_steps, sigma, increments, batches, progress
        As in :func:`run`.
    source : OwnCloud, FeaturePath or CloudPath, optional
        What the drift reads (default: the system's own cloud).
    recorders : sequence of Recorder, optional
        Extra recorders (e.g. :class:`RecordPath` for a reference cloud).
    record_every : int, optional
        Record states at k = 0, record_every, 2 record_every, ... and n_steps
        (a :class:`RecordStates`).
    batch_size : int, optional
        Size of the minibatches returned by ``batches`` (MeanFieldNetwork only).
    label : str
        Name of the system in error messages.
    stepper : Stepper, optional
        As in :func:`run` (``poc._fastloop.CompiledStepper`` for many steps per call).

    Returns
    -------
    Trajectory

    Raises
    ------
    NonFiniteStateError
        At the first step whose new state has a non-finite coordinate.
    """
    steps = record_steps(n_steps, record_every)
    recs = list(recorders) + ([] if steps is None else [RecordStates(steps)])
    s = System(drift, x, label=label, source=source, recorders=recs, batch_size=batch_size)
    run([s], step, n_steps, sigma, increments, batches=batches, progress=progress,
        stepper=stepper)
    return s.trajectory(step, n_steps)


# ---------------------------------------------------------------------------
# the randomness of a run


def increment_source(rng: np.random.Generator, alpha: float, sigma: float, step: float,
                     n: int, d: int, noise: str, n_steps: int) -> BlockIncrements | None:
    """The increments simulate() uses, scale step^(1/alpha): one sampler call per block of
    steps (``poc._fastloop.BlockIncrements``), also callable per step."""
    if sigma == 0.0:
        return None
    return BlockIncrements(rng, alpha, noise, step ** (1.0 / alpha), n, d, n_steps)


def batch_stream(rng: np.random.Generator) -> np.random.Generator:
    """A child stream for minibatch indices, leaving rng's noise stream untouched."""
    try:
        return rng.spawn(1)[0]
    except (TypeError, ValueError):  # bit generator without a SeedSequence
        return np.random.default_rng(rng.integers(2**63))


def batch_source(rng: np.random.Generator, m: int, batch_size: int | None, n: int, d: int,
                 n_steps: int) -> BlockBatches | None:
    """The minibatches simulate() uses: uniform samples without replacement from the child
    stream :func:`batch_stream` (``poc._fastloop.BlockBatches``), also callable per step."""
    if batch_size is None:
        return None
    return BlockBatches(batch_stream(rng), m, batch_size, n, d, n_steps)
