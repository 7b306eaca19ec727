r"""Euler simulation of mean-field particle systems, and noisy SGD.

The n-particle system

    d x_i = b(x_i, mu^n_t) dt + sigma dL_i(t),   mu^n_t = (1/n) sum_j delta_{x_j(t)},

with independent symmetric alpha-stable Levy processes ``L_i`` is advanced by
the Euler scheme (documentation: Theory, Conventions, Euler scheme; docs/theory.rst, #conv-euler-scheme):

    x_{k+1} = x_k + step * b(x_k, mu^n_k) + sigma * (L(t_{k+1}) - L(t_k)),

where the Levy increment over one step is ``step^(1/alpha) * xi`` with
``xi`` of the chosen noise kind. For a :class:`poc.drifts.MeanFieldNetwork`
this is exactly the noisy SGD of the paper (gradient step, then
``sigma * step^(1/alpha) * noise``), full-batch or with minibatches.

:func:`simulate` is the public entry point. The loop itself is the private
:func:`_euler`, which takes the Levy increments from the caller (for common
random numbers across step sizes) and can drive a feature drift by a given
mean-feature path (for the McKean-Vlasov copies of :mod:`poc.limits`).
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable
from dataclasses import dataclass

import numba
import numpy as np
from numba import njit, prange

from ._threads import split_blas
from ._validation import (
    ParameterTypeError,
    as_generator,
    check_array,
    check_choice,
    check_int,
    check_real,
)
from .drifts import _PBLOCK, Drift, FeatureDrift, MeanFieldNetwork
from .exceptions import NonFiniteStateError
from .noise import NOISE_KINDS, _noise

__all__ = ["NonFiniteStateError", "Trajectory", "simulate"]


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


@njit(cache=True, parallel=True)
def _euler_update(x, b, step, sigma, incr, noisy, bad):
    """x += step * b (+ sigma * incr); bad[block] flags non-finite results.

    Returns True if every new coordinate is finite. The left-to-right order
    is the paper's: drift (gradient) step first, then the noise.
    """
    n, d = x.shape
    nb = bad.size
    for blk in prange(nb):
        chk = 0.0
        for i in range(blk * _PBLOCK, min(n, (blk + 1) * _PBLOCK)):
            for j in range(d):
                v = x[i, j] + step * b[i, j]
                if noisy:
                    v += sigma * incr[i, j]
                x[i, j] = v
                chk += v - v  # 0 for finite v, NaN for inf or NaN
        bad[blk] = chk != 0.0
    for blk in range(nb):
        if bad[blk]:
            return False
    return True


def _record_steps(n_steps: int, record_every: int | None) -> np.ndarray | None:
    if record_every is None:
        return None
    steps = np.arange(0, n_steps + 1, record_every, dtype=np.int64)
    if steps[-1] != n_steps:
        steps = np.append(steps, np.int64(n_steps))
    return steps


class _System:
    """One particle cloud advanced by the Euler loop (state and buffers)."""

    def __init__(self, drift: Drift, x0: np.ndarray, *, label: str, batch_size=None,
                 features_in=None, feature_path=None, record=None, clouds_in=None,
                 cloud_path=None):
        self.drift = drift
        self.label = label
        self.x = np.array(x0, dtype=np.float64, order="C", copy=True)
        n, d = self.x.shape
        self.b = np.empty_like(self.x)
        self.bad = np.zeros((n + _PBLOCK - 1) // _PBLOCK, dtype=np.bool_)
        # clouds_in (n_steps + 1, N, d): step k uses the drift against clouds_in[k]
        # (nonlinear copies of a pairwise or NumPy drift); cloud_path receives x_k
        self.clouds_in = clouds_in
        self.cloud_path = cloud_path
        if cloud_path is not None:
            cloud_path[0] = self.x
        if clouds_in is None:
            self.ws = drift._workspace(n, d, batch_size)
            self.work = drift._work(n, d)
        else:
            self.ws = drift._against_workspace(n, clouds_in.shape[1], d)
            self.work = drift._against_work(n, clouds_in.shape[1], d)
        self.features_in = features_in
        self.feature_path = feature_path
        is_feature = isinstance(drift, FeatureDrift)
        self.n_features = drift._n_features(d) if is_feature else 0
        # the loop computes u_k anyway; record it unless the path is frozen or batched
        self.track = is_feature and features_in is None and batch_size is None
        self.record = record
        if record is not None:
            self.states = np.empty((record.size, n, d))
            self.states[0] = self.x
            self.features = np.empty((record.size, self.n_features)) if self.track else None
        self.u_buf = np.empty(self.n_features) if self.track else None

    def trajectory(self, step: float, n_steps: int) -> Trajectory:
        if self.record is None:
            return Trajectory(final=self.x, step=step, n_steps=n_steps)
        return Trajectory(final=self.x, times=self.record * step, states=self.states,
                          steps=self.record, features=self.features, step=step, n_steps=n_steps)


# Below this many operations per step (drift kernels, noise transform, update)
# the loop runs its Numba kernels on one thread: waking a second thread costs
# 10 us on an idle machine and up to a scheduler tick on a busy one, more than
# the work itself. Results are the same bits either way (fixed blocking).
_PARALLEL_MIN_WORK = 300_000


def _quiet_numba_threads() -> bool:
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
def _threads_for(work: float, uses_blas: bool = False):
    """Choose the threads of the loop's Numba kernels and, beside them, of BLAS.

    Small work runs on one Numba thread. Beside BLAS (the network drift),
    OpenBLAS's idle workers spin for ~0.1 s after each call unless
    OPENBLAS_THREAD_TIMEOUT was set before it loaded; if Numba's workers sleep
    (the workqueue layer that ``import poc`` selects), BLAS runs on one thread
    per call for the loop and the large products are split over sleeping
    Python threads (:func:`poc._threads.split_blas`), with Numba on all
    threads: on 2 shared cores a network step (benchmarks/bench_sgd_step.py)
    went from 103 to 24 ms by default and from 77 to 25 ms with the variables. If
    Numba's workers spin too (GNU OpenMP), Numba runs on one thread. Results
    are the same bits on any number of Numba threads (fixed blocking).
    """
    if work >= _PARALLEL_MIN_WORK and not uses_blas:
        yield
        return
    if work >= _PARALLEL_MIN_WORK and _quiet_numba_threads():
        with split_blas():
            yield
        return
    previous = numba.get_num_threads()
    numba.set_num_threads(1)  # thread-local setting of the calling thread
    try:
        yield
    finally:
        numba.set_num_threads(previous)


def _progress_bar(progress: bool | None, total: int, desc: str):
    if progress is False:
        return None
    from ._progress import progress_bar

    # None: only on a terminal, and only once the run has lasted 5 s; True off a
    # terminal gives plain heartbeat lines instead of a bar's escape codes
    return progress_bar(total=total, desc=desc, enabled=progress,
                        delay=5.0 if progress is None else 0.0, leave=progress is not None)


def _euler_systems(systems: list[_System], step: float, n_steps: int, sigma: float,
                   increments, *, batches=None, progress=None, desc="simulate") -> None:
    """Advance several clouds of equal shape in lock-step on the same increments."""
    n, d = systems[0].x.shape
    noisy = sigma != 0.0
    if noisy and increments is None:
        raise ValueError("increments must be given when sigma > 0")
    pre_drawn = increments is not None and not callable(increments)
    if pre_drawn and increments.shape[:3] != (n_steps, n, d):
        raise ValueError(
            f"pre-drawn increments must have shape (n_steps, n, d) = {(n_steps, n, d)}, "
            f"got {increments.shape}"
        )
    record = systems[0].record
    rec_pos = {} if record is None else {int(k): r for r, k in enumerate(record)}
    work = sum(s.work + 5.0 * n * d for s in systems) + (100.0 * n * d if noisy else 0)
    bar = _progress_bar(progress, n_steps, desc)
    uses_blas = any(s.drift._uses_blas for s in systems)
    with _threads_for(work, uses_blas):
        _euler_loop(systems, step, n_steps, sigma, increments, noisy, pre_drawn, rec_pos,
                    batches, bar)
    # mean features of the final state (one extra evaluation) where they are wanted
    for s in systems:
        if s.track and (s.feature_path is not None or record is not None):
            u = s.u_buf
            s.drift._mean_features_into(s.drift._workspace(n, d), s.x, u)
            if s.feature_path is not None:
                s.feature_path[n_steps] = u
            if record is not None:
                s.features[-1] = u


def _euler_loop(systems, step, n_steps, sigma, increments, noisy, pre_drawn, rec_pos, batches,
                bar):
    n, d = systems[0].x.shape
    try:
        for k in range(n_steps):
            if not noisy:
                incr = systems[0].b  # unused placeholder
            else:
                incr = increments[k] if pre_drawn else increments(k)
                if incr.shape != (n, d):
                    raise ValueError(
                        f"increments({k}) must have shape (n, d) = {(n, d)}, got {incr.shape}"
                    )
                incr = np.ascontiguousarray(incr, dtype=np.float64)
            batch = None if batches is None else batches(k)
            r_now = rec_pos.get(k)
            for s in systems:
                u_fixed = None if s.features_in is None else s.features_in[k]
                u_out = None
                if s.feature_path is not None:
                    u_out = s.feature_path[k]
                elif s.track and r_now is not None:
                    u_out = s.u_buf
                if s.clouds_in is not None:
                    s.drift._against_into(s.ws, s.x, s.clouds_in[k], s.b)
                else:
                    s.drift._drift_into(s.ws, s.x, s.b, u_fixed=u_fixed, u_out=u_out,
                                        batch=batch)
                if s.track and r_now is not None:
                    s.features[r_now] = u_out
                if not _euler_update(s.x, s.b, step, sigma, incr, noisy, s.bad):
                    _raise_non_finite(s, k + 1, step)
                if s.cloud_path is not None:
                    s.cloud_path[k + 1] = s.x
            r_next = rec_pos.get(k + 1)
            if r_next is not None:
                for s in systems:
                    s.states[r_next] = s.x
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()


def _raise_non_finite(s: _System, k: int, step: float):
    with np.errstate(invalid="ignore", over="ignore"):
        bad_rows = int(np.count_nonzero(~np.isfinite(s.x).all(axis=1)))
    t = k * step
    raise NonFiniteStateError(
        f"{s.label} became non-finite at step {k} (t = {t:.6g}): {bad_rows} of "
        f"{s.x.shape[0]} particles have a non-finite coordinate; the step {step:g} may be "
        "too large for this drift, or the drift may blow up",
        k, t,
    )


def _euler(drift: Drift, x, step: float, n_steps: int, sigma: float, increments, *,
           record_every: int | None = None, batch_size: int | None = None, batches=None,
           features_in=None, feature_path=None, clouds_in=None, cloud_path=None,
           progress: bool | None = False, label: str = "simulation") -> Trajectory:
    r"""Private core of the Euler loop; inputs are trusted (no validation).

    Advances ``x_{k+1} = x_k + step * b(x_k, mu^n_k) + sigma * increment_k``
    for k = 0 .. n_steps - 1 and returns a :class:`Trajectory`.

    Parameters
    ----------
    drift : poc.drifts.Drift
    x : numpy.ndarray, shape (n, d), float64
        Initial state (copied, not modified).
    step : float
        Step size ``> 0``.
    n_steps : int
        Number of steps ``>= 1``.
    sigma : float
        Noise scale ``>= 0``; with 0 no increment is requested.
    increments : callable, numpy.ndarray or None
        The Levy increments ``L(t_{k+1}) - L(t_k)`` of a unit-scale process,
        i.e. already multiplied by ``step^(1/alpha)`` but not by sigma:
        either a callable ``increments(k) -> (n, d) array`` called once per
        step in increasing k, or a pre-drawn array of shape (n_steps, n, d).
        :func:`simulate` uses ``lambda k: _noise(rng, alpha, n, d, kind,
        step ** (1 / alpha))``. For nested grids with common random numbers,
        pass the sums of the fine increments each coarse step covers:
        ``sum_{j<r} (step/r)^(1/alpha) xi_j``.
    record_every : int, optional
        Record states at k = 0, record_every, 2 record_every, ... and n_steps.
    batch_size : int, optional
        Size of the minibatches returned by ``batches`` (MeanFieldNetwork only).
    batches : callable, optional
        ``batches(k) -> int array`` of data indices used at step k.
    features_in : numpy.ndarray, shape (n_steps, n_features), optional
        Frozen mean-feature path: step k uses ``F(x, features_in[k])`` instead
        of the cloud's own mean features (the nonlinear McKean-Vlasov copies).
    feature_path : numpy.ndarray, shape (n_steps + 1, n_features), optional
        Output: receives the cloud's own mean features ``u_k`` for every k,
        including the final state (a reference cloud's path).
    clouds_in : numpy.ndarray, shape (n_steps + 1, N, d), optional
        Frozen reference clouds: step k uses ``drift._against_into`` with
        ``clouds_in[k]`` instead of the cloud's own empirical measure (the
        nonlinear copies of a pairwise or NumPy drift).
    cloud_path : numpy.ndarray, shape (n_steps + 1, n, d), optional
        Output: receives the state ``x_k`` for every k (a reference cloud's path).
    progress : bool or None
        tqdm progress bar: True, False, or None for automatic.
    label : str
        Name of the system in error messages.

    Raises
    ------
    NonFiniteStateError
        At the first step whose new state has a non-finite coordinate.
    """
    s = _System(drift, x, label=label, batch_size=batch_size, features_in=features_in,
                feature_path=feature_path, record=_record_steps(n_steps, record_every),
                clouds_in=clouds_in, cloud_path=cloud_path)
    _euler_systems([s], step, n_steps, sigma, increments, batches=batches, progress=progress)
    return s.trajectory(step, n_steps)


# ---------------------------------------------------------------------------
# public API


def _check_drift(drift) -> Drift:
    if not isinstance(drift, Drift):
        raise ParameterTypeError(
            "drift must be a poc.drifts drift (FeatureDrift, PairwiseDrift, NumpyDrift, "
            f"MeanFieldNetwork, LinearMeanField, ...), got {drift!r} of type {type(drift).__name__}"
        )
    return drift


def _check_x0(x0) -> np.ndarray:
    x = check_array(x0, "x0", ndim=(1, 2))
    return x.reshape(-1, 1) if x.ndim == 1 else x


def _check_progress(progress):
    if progress is not None and not isinstance(progress, bool | np.bool_):
        raise ParameterTypeError(
            f"progress must be True, False or None (automatic), got {progress!r}"
        )
    return None if progress is None else bool(progress)


def _check_common(alpha, sigma, step, n_steps, noise, record_every):
    alpha = check_real(alpha, "alpha", low=0.0, high=2.0, low_open=True)
    sigma = check_real(sigma, "sigma", low=0.0)
    step = check_real(step, "step", low=0.0, low_open=True)
    n_steps = check_int(n_steps, "n_steps", low=1)
    noise = check_choice(noise, "noise", NOISE_KINDS)
    if record_every is not None:
        record_every = check_int(record_every, "record_every", low=1)
    return alpha, sigma, step, n_steps, noise, record_every


def _increment_source(rng: np.random.Generator, alpha: float, sigma: float, step: float,
                      n: int, d: int, noise: str) -> Callable | None:
    """The increments simulate() uses: one _noise call per step, scale step^(1/alpha)."""
    if sigma == 0.0:
        return None
    scale = step ** (1.0 / alpha)
    return lambda k: _noise(rng, alpha, n, d, noise, scale)


def _batch_stream(rng: np.random.Generator) -> np.random.Generator:
    """A child stream for minibatch indices, leaving rng's noise stream untouched."""
    try:
        return rng.spawn(1)[0]
    except (TypeError, ValueError):  # bit generator without a SeedSequence
        return np.random.default_rng(rng.integers(2**63))


def simulate(drift: Drift, x0, *, alpha: float, sigma: float, step: float, n_steps: int,
             noise: str = "iid", seed=None, record_every: int | None = None,
             batch_size: int | None = None, progress: bool | None = None) -> Trajectory:
    r"""Simulate an n-particle system with the Euler scheme (noisy SGD for networks).

    Runs ``x_{k+1} = x_k + step * b(x_k, mu^n_k) + sigma * step^(1/alpha) * xi_{k+1}``
    for ``k = 0, ..., n_steps - 1`` (docs/theory.rst, #conv-euler-scheme), where ``xi`` is
    (n, d) symmetric alpha-stable noise of the given kind and ``b`` the drift
    evaluated at the empirical measure of the current cloud. For a
    :class:`poc.drifts.MeanFieldNetwork` this is the paper's noisy SGD: a
    gradient step on the (n-rescaled) squared loss, then
    ``sigma * step^(1/alpha) * noise``.

    Parameters
    ----------
    drift : poc.drifts.Drift
        A FeatureDrift, PairwiseDrift, NumpyDrift or built-in model.
    x0 : array_like, shape (n, d), or (n,) for d = 1
        Initial particle positions (finite).
    alpha : float
        Stability index of the noise, in (0, 2].
    sigma : float
        Noise scale, ``>= 0`` (0 gives the deterministic particle ODE /
        plain gradient descent, and draws no random numbers).
    step : float
        Step size (learning rate) ``eta > 0``.
    n_steps : int
        Number of steps, ``>= 1``.
    noise : {"iid", "isotropic", "neuron"}, optional
        Noise kind (see :func:`poc.sample_noise`).
    seed : None, int or numpy.random.Generator, optional
        Randomness. Step k draws its noise as
        ``poc.noise._noise(rng, alpha, n, d, noise, step ** (1 / alpha))``
        (one call per step, in order), so the run is reproducible from the
        seed and bit-identical on any number of Numba threads. Minibatch
        indices come from a separate stream ``rng.spawn(1)[0]``, which calls
        ``choice(m, batch_size, replace=False)`` once per step; the noise is
        therefore the same with and without minibatches.
    record_every : int, optional
        If given, record the state at steps 0, record_every, 2 record_every,
        ... and at the last step.
    batch_size : int, optional
        MeanFieldNetwork only: evaluate the gradient at each step on a
        minibatch of this many data points drawn without replacement (noisy
        SGD); ``1 <= batch_size <= m``. Default: the full data set.
    progress : bool or None, optional
        Show a tqdm progress bar (True), never (False), or automatically
        (None: on a terminal, once the run has lasted 5 seconds).

    Returns
    -------
    Trajectory
        ``.final`` (n, d) always; ``.times``, ``.states`` (and ``.features``
        for full-batch feature drifts) when ``record_every`` is given.

    Raises
    ------
    ValueError
        If a parameter is out of range, x0 does not fit the drift (e.g. the
        network's input dimension), or batch_size is used with a drift other
        than MeanFieldNetwork.
    TypeError
        If drift is not a poc drift or an argument has the wrong type.
    NonFiniteStateError
        (a FloatingPointError and ValueError) naming the first step at which
        the state became non-finite; no NaN is ever returned.

    Notes
    -----
    Small systems run their Numba kernels on one thread (waking a second
    costs more than the work). Network steps alternate BLAS products with
    Numba kernels; idle OpenBLAS and GNU OpenMP workers spin between calls
    and slow each other down, so these steps use one Numba thread unless the
    process was started with ``OPENBLAS_THREAD_TIMEOUT=4`` and
    ``OMP_WAIT_POLICY=PASSIVE`` (about 1.4x faster on 2 cores; see
    ``benchmarks/bench_sgd_step.py``). Results are bit-identical either way.

    References
    ----------
    Wan, Barsbey, Zaidi, Simsekli (2024), arXiv 2306.08125: noisy SGD as the
    Euler scheme of the particle SDE (Section 3).
    """
    drift = _check_drift(drift)
    x = _check_x0(x0)
    alpha, sigma, step, n_steps, noise, record_every = _check_common(
        alpha, sigma, step, n_steps, noise, record_every)
    progress = _check_progress(progress)
    n, d = x.shape
    drift._check_state(n, d)
    if batch_size is not None:
        if not isinstance(drift, MeanFieldNetwork):
            raise ValueError(
                "batch_size is only supported for MeanFieldNetwork drifts, got "
                f"{type(drift).__name__}"
            )
        batch_size = check_int(batch_size, "batch_size", low=1, high=drift.n_data)
    rng = as_generator(seed)
    increments = _increment_source(rng, alpha, sigma, step, n, d, noise)
    batches = None
    if batch_size is not None:
        brng = _batch_stream(rng)
        m = drift.n_data
        batches = lambda k: brng.choice(m, size=batch_size, replace=False)  # noqa: E731
    return _euler(drift, x, step, n_steps, sigma, increments, record_every=record_every,
                  batch_size=batch_size, batches=batches, progress=progress)
