r"""McKean-Vlasov references: reference clouds, nonlinear copies, coupled runs.

The McKean-Vlasov limit of an n-particle system is approximated by a large
*reference cloud* of N particles run once (:func:`reference_cloud`): an
ordinary N-particle Euler run whose law at step k stands for the limit law
``mu_k``. What is kept of it, the *reference path*, depends on the drift family:

* feature drifts ``b(x, mu) = F(x, int g dmu)`` (:class:`poc.drifts.FeatureDrift`,
  :class:`~poc.drifts.LinearMeanField`, :class:`~poc.drifts.MeanFieldNetwork`):
  the mean-feature path ``u_k = (1/N) sum_j g(x_j(t_k))``, shape
  (n_steps + 1, n_features), in :attr:`ReferenceCloud.features`;
* pairwise and NumPy drifts (:class:`~poc.drifts.PairwiseDrift`,
  :class:`~poc.drifts.DoubleWell`, :class:`~poc.drifts.NumpyDrift`): the
  cloud itself at every step, shape (n_steps + 1, N, d), in
  :attr:`ReferenceCloud.clouds`. It takes ``8 N d (n_steps + 1)`` bytes
  (N = 16384, d = 1, 50 steps: 6.7 MB); :func:`reference_cloud` refuses paths
  larger than :data:`MAX_REFERENCE_BYTES` (2 GiB).

*Nonlinear copies* ``xbar_i`` (:func:`nonlinear_copies`) then follow the
frozen-path dynamics ``xbar_{k+1} = xbar_k + step * b(xbar_k, mu_k) +
sigma * increment_k`` with ``b(., mu_k)`` = ``F(., u_k)`` or the drift against
the stored cloud (``drift.against(xbar, clouds[k])``), with the same initial
values and the same noise increments as an n-particle run of
:func:`poc.simulate` with the same seed (synchronous coupling).
:func:`coupled_run` runs an n-particle system and its copies together, so
the propagation-of-chaos coupling error ``mean_i |x_i(T) - xbar_i(T)|`` can
be measured (:meth:`CoupledRun.coupling_error`). Because the path is stored,
every (n, replicate) run of copies is independent of the others and of the
order in which they run.

Cost per step of n copies: feature drifts ``O(n m d)`` (m features), the same
as the n-particle system; pairwise drifts ``O(n N d)`` (every copy against
every reference particle, against ``O(n^2 d)`` for the system); NumPy drifts
whatever the user's function costs on (n, d) points against (N, d).

The copies are i.i.d. (given the path) solutions of the Euler scheme of the
McKean-Vlasov SDE up to the reference path's own ``O(N^(-1/2))`` error (the
propagation-of-chaos error of the reference cloud itself), so N must be
large against the n compared with it (the chaos check uses N = 32 n_max).
Exact marginals of the linear model are in
:meth:`poc.drifts.LinearMeanField.marginal`.

References
----------
Wan, Barsbey, Zaidi, Simsekli (2024), arXiv 2306.08125, propagation of chaos
for the mean-field network; Sznitman (1991), "Topics in propagation of chaos",
Ecole d'Ete de Probabilites de Saint-Flour XIX (synchronous coupling).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._inputs import check_drift, check_progress, check_run, check_x0
from ._validation import ParameterTypeError, as_generator
from .drifts import Drift, FeatureDrift
from .engine import (
    CloudPath,
    FeaturePath,
    RecordPath,
    RecordStates,
    System,
    Trajectory,
    euler,
    increment_source,
    record_steps,
    run,
)

__all__ = [
    "MAX_REFERENCE_BYTES",
    "CoupledRun",
    "ReferenceCloud",
    "coupled_run",
    "nonlinear_copies",
    "reference_cloud",
]

#: Largest stored reference path (``8 N d (n_steps + 1)`` bytes) that
#: :func:`reference_cloud` accepts for pairwise and NumPy drifts: 2 GiB.
MAX_REFERENCE_BYTES = 2 << 30


@dataclass(frozen=True, eq=False)
class ReferenceCloud:
    """A large particle cloud and the McKean-Vlasov path it estimates.

    Attributes
    ----------
    features : numpy.ndarray, shape (n_steps + 1, n_features), or None
        Feature drifts: ``u_k`` = mean features of the cloud at step k (time
        ``k * step``); step k of a nonlinear copy uses ``features[k]``.
        None for pairwise and NumPy drifts.
    trajectory : Trajectory
        The cloud's own simulation (final state, recorded states).
    alpha, sigma, step : float
        Parameters of the run, reused by the copies.
    n_steps : int
    noise : str
        Noise kind.
    clouds : numpy.ndarray, shape (n_steps + 1, N, d), or None
        Pairwise and NumPy drifts: the cloud at every step (``clouds[0]`` is
        x0, ``clouds[-1]`` the final state); step k of a nonlinear copy uses
        the drift against ``clouds[k]``. None for feature drifts.
    """

    features: np.ndarray | None
    trajectory: Trajectory
    alpha: float
    sigma: float
    step: float
    n_steps: int
    noise: str
    #: Pairwise and NumPy drifts: the cloud at every step k, shape
    #: (n_steps + 1, N, d); step k of a nonlinear copy uses the drift against
    #: ``clouds[k]``. None for feature drifts.
    clouds: np.ndarray | None = None

    @property
    def n_particles(self) -> int:
        """Size N of the reference cloud."""
        return self.trajectory.final.shape[0]

    @property
    def dim(self) -> int:
        """Coordinates per particle."""
        return self.trajectory.final.shape[1]

    @property
    def times(self) -> np.ndarray:
        """Times ``k * step`` of the rows of :attr:`features`."""
        return np.arange(self.n_steps + 1) * self.step


@dataclass(frozen=True, eq=False)
class CoupledRun:
    """An n-particle system and its nonlinear copies on the same noise.

    Attributes
    ----------
    system : Trajectory
        The interacting n-particle system (identical to :func:`poc.simulate`
        with the same drift, x0, parameters and seed).
    copies : Trajectory
        The nonlinear copies ``xbar_i`` driven by the reference path.
    """

    system: Trajectory
    copies: Trajectory

    def coupling_error(self) -> float:
        """``mean_i |x_i(T) - xbar_i(T)|`` at the final time (Euclidean norm in R^d)."""
        return float(np.mean(np.linalg.norm(self.system.final - self.copies.final, axis=1)))

    def coupling_errors(self) -> np.ndarray:
        """``mean_i |x_i(t) - xbar_i(t)|`` at every recorded time, shape (r,).

        Raises
        ------
        ValueError
            If the run was made without ``record_every``.
        """
        if self.system.states is None:
            raise ValueError("coupling_errors needs a run with record_every set")
        diff = self.system.states - self.copies.states
        return np.mean(np.linalg.norm(diff, axis=2), axis=1)


def _reference_bytes(N: int, d: int, n_steps: int) -> int:
    return 8 * N * d * (n_steps + 1)


def reference_cloud(drift: Drift, x0, *, alpha: float, sigma: float, step: float,
                    n_steps: int, noise: str = "iid", seed=None, record_every: int | None = None,
                    progress: bool | None = None) -> ReferenceCloud:
    r"""Simulate a reference cloud and record the McKean-Vlasov path it estimates.

    The cloud is an ordinary N-particle run (same scheme and noise convention
    as :func:`poc.simulate`; with the same seed it is the same run). In
    addition, for every ``k = 0 .. n_steps``, it stores

    * feature drifts: the mean features ``u_k = (1/N) sum_j g(x_j(t_k))``
      (:attr:`ReferenceCloud.features`), which estimate the McKean-Vlasov
      path ``E g(x(t_k))`` of the Euler scheme with error ``O(N^(-1/2))``;
    * pairwise and NumPy drifts: the cloud ``x(t_k)`` itself
      (:attr:`ReferenceCloud.clouds`, ``8 N d (n_steps + 1)`` bytes), whose
      empirical measure estimates the limit law ``mu_k``, again with error
      ``O(N^(-1/2))``.

    Parameters
    ----------
    drift : poc.drifts.Drift
        Any drift: FeatureDrift, PairwiseDrift, NumpyDrift or a built-in model.
    x0 : array_like, shape (N, d), or (N,) for d = 1
        Initial positions, typically N i.i.d. draws of the initial law.
    alpha, sigma, step, n_steps, noise, seed, record_every, progress
        As in :func:`poc.simulate`.

    Returns
    -------
    ReferenceCloud

    Raises
    ------
    ValueError, TypeError
        On invalid parameters, or (pairwise and NumPy drifts) if the stored
        path would exceed :data:`MAX_REFERENCE_BYTES`.
    NonFiniteStateError
        If the cloud becomes non-finite (naming the step).
    """
    drift = check_drift(drift)
    x = check_x0(x0)
    alpha, sigma, step, n_steps, noise, record_every = check_run(
        alpha, sigma, step, n_steps, noise, record_every)
    progress = check_progress(progress)
    n, d = x.shape
    drift.check_state(n, d)
    path = clouds = None
    if isinstance(drift, FeatureDrift):
        path = np.empty((n_steps + 1, drift.feature_count(d)))
    else:
        size = _reference_bytes(n, d, n_steps)
        if size > MAX_REFERENCE_BYTES:
            raise ValueError(
                f"the reference path of a {type(drift).__name__} stores the cloud at every step: "
                f"8 N d (n_steps + 1) = 8 x {n} x {d} x {n_steps + 1} bytes = {size / 2**30:.2f} "
                f"GiB, more than the {MAX_REFERENCE_BYTES / 2**30:.0f} GiB allowed; use fewer "
                "reference particles N or fewer steps (a larger step)"
            )
        clouds = np.empty((n_steps + 1, n, d))
    rng = as_generator(seed)
    traj = euler(drift, x, step, n_steps, sigma,
                 increment_source(rng, alpha, sigma, step, n, d, noise, n_steps),
                 recorders=[RecordPath(clouds=clouds, features=path)],
                 record_every=record_every, progress=progress, label="reference cloud")
    return ReferenceCloud(features=path, trajectory=traj, alpha=alpha, sigma=sigma, step=step,
                          n_steps=n_steps, noise=noise, clouds=clouds)


def _check_reference(drift: Drift, x: np.ndarray, reference) -> None:
    if not isinstance(reference, ReferenceCloud):
        raise ParameterTypeError(
            f"reference must be a ReferenceCloud (from reference_cloud), got "
            f"{type(reference).__name__}"
        )
    n, d = x.shape
    if d != reference.dim:
        raise ValueError(
            f"x0 has d = {d} coordinate(s) per particle but the reference cloud has d = "
            f"{reference.dim}"
        )
    drift.check_state(n, d)
    if isinstance(drift, FeatureDrift):
        if reference.features is None:
            raise ValueError(
                f"the drift is a feature drift ({type(drift).__name__}) but the reference was "
                "made with a pairwise or NumPy drift (it stores clouds, not a mean-feature path); "
                "use the same model"
            )
        m = drift.feature_count(d)
        if m != reference.features.shape[1]:
            raise ValueError(
                f"the drift has n_features = {m} but the reference path has "
                f"{reference.features.shape[1]} features per step; use the same model"
            )
    elif reference.clouds is None:
        raise ValueError(
            f"the drift is a {type(drift).__name__} but the reference was made with a feature "
            "drift (it stores a mean-feature path, not the clouds); use the same model"
        )


def _reference_source(drift: Drift, reference: ReferenceCloud):
    """What the copies read at each step: the reference's feature path or its clouds."""
    if isinstance(drift, FeatureDrift):
        return FeaturePath(reference.features)
    return CloudPath(reference.clouds)


def _check_copies_inputs(drift, x0, reference, record_every, progress, seed):
    """Shared checks of :func:`nonlinear_copies` and :func:`coupled_run`."""
    drift = check_drift(drift)
    x = check_x0(x0)
    _check_reference(drift, x, reference)
    _, _, _, _, _, record_every = check_run(
        reference.alpha, reference.sigma, reference.step, reference.n_steps, reference.noise,
        record_every)
    return drift, x, record_every, check_progress(progress), as_generator(seed)


def nonlinear_copies(drift: Drift, x0, reference: ReferenceCloud, *, seed=None,
                     record_every: int | None = None,
                     progress: bool | None = None) -> Trajectory:
    r"""Nonlinear (McKean-Vlasov) copies driven by a reference path.

    Each copy follows ``xbar_{k+1} = xbar_k + step * b(xbar_k, mu_k) +
    sigma * step^(1/alpha) * xi_{k+1}``, where ``b(., mu_k)`` is
    ``F(., u_k)`` with the reference's mean-feature path ``u_k`` (feature
    drifts) or ``drift.against(., clouds[k])`` (pairwise and NumPy drifts:
    cost ``O(n N d)`` per step for a pairwise drift), with the reference's alpha,
    sigma, step, n_steps and noise kind. The noise is drawn from ``seed``
    exactly as :func:`poc.simulate` draws it, so copies started from the
    same x0 with the same seed are synchronously coupled to that n-particle
    run. Copies do not interact: each is a function of its own start and noise.

    Parameters
    ----------
    drift : poc.drifts.Drift
        The same model as the reference cloud's (for a MeanFieldNetwork with
        explicit output weights, one whose weights match x0's n).
    x0 : array_like, shape (n, d), or (n,) for d = 1
        Initial values of the copies.
    reference : ReferenceCloud
        Source of the path (``features`` or ``clouds``) and of the run parameters.
    seed : None, int or numpy.random.Generator, optional
        Noise seed (use the seed of the n-particle run to couple).
    record_every : int, optional
        Record states as in :func:`poc.simulate`.
    progress : bool or None, optional
        Progress bar (see :func:`poc.simulate`).

    Returns
    -------
    Trajectory

    Raises
    ------
    ValueError, TypeError
        If the drift, x0 and reference do not fit together.
    NonFiniteStateError
        If a copy becomes non-finite (naming the step).
    """
    drift, x, record_every, progress, rng = _check_copies_inputs(
        drift, x0, reference, record_every, progress, seed)
    n, d = x.shape
    r = reference
    return euler(drift, x, r.step, r.n_steps, r.sigma,
                 increment_source(rng, r.alpha, r.sigma, r.step, n, d, r.noise, r.n_steps),
                 source=_reference_source(drift, r), record_every=record_every,
                 progress=progress, label="nonlinear copies")


def coupled_run(drift: Drift, x0, reference: ReferenceCloud, *, seed=None,
                record_every: int | None = None, progress: bool | None = None) -> CoupledRun:
    r"""Run an n-particle system and its nonlinear copies on the same noise.

    Both start from x0 and receive, at every step, the same Levy increments
    (drawn once from ``seed``, as :func:`poc.simulate` would); the system
    uses its own empirical measure, the copies the reference path.
    ``result.system`` equals ``poc.simulate(drift, x0, seed=seed, ...)`` with
    the reference's parameters, and ``result.copies`` equals
    ``nonlinear_copies(drift, x0, reference, seed=seed)``, bit for bit.

    Parameters
    ----------
    drift : poc.drifts.Drift
        The model (same as the reference cloud's): any drift family.
    x0 : array_like, shape (n, d), or (n,) for d = 1
        Common initial values.
    reference : ReferenceCloud
        Reference path and run parameters (alpha, sigma, step, n_steps, noise).
    seed : None, int or numpy.random.Generator, optional
        Noise seed.
    record_every : int, optional
        Record both clouds at the same steps (for :meth:`CoupledRun.coupling_errors`).
    progress : bool or None, optional
        Progress bar (see :func:`poc.simulate`).

    Returns
    -------
    CoupledRun
        With :meth:`CoupledRun.coupling_error` ``= mean_i |x_i(T) - xbar_i(T)|``.

    Raises
    ------
    ValueError, TypeError
        If the drift, x0 and reference do not fit together.
    NonFiniteStateError
        If either cloud becomes non-finite (naming which and the step).

    References
    ----------
    Wan et al. (2024), arXiv 2306.08125 (propagation of chaos at rate n^(-1/2));
    Sznitman (1991) (synchronous coupling).
    """
    drift, x, record_every, progress, rng = _check_copies_inputs(
        drift, x0, reference, record_every, progress, seed)
    n, d = x.shape
    r = reference
    steps = record_steps(r.n_steps, record_every)
    system = System(drift, x, label="n-particle system",
                    recorders=[] if steps is None else [RecordStates(steps)])
    copies = System(drift, x, label="nonlinear copies", source=_reference_source(drift, r),
                    recorders=[] if steps is None else [RecordStates(steps)])
    run([system, copies], r.step, r.n_steps, r.sigma,
        increment_source(rng, r.alpha, r.sigma, r.step, n, d, r.noise, r.n_steps),
        progress=progress, desc="coupled run")
    return CoupledRun(system=system.trajectory(r.step, r.n_steps),
                      copies=copies.trajectory(r.step, r.n_steps))
