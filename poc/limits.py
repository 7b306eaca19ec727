r"""McKean-Vlasov references: reference clouds, nonlinear copies, coupled runs.

For a feature drift ``b(x, mu) = F(x, int g dmu)`` the McKean-Vlasov limit is
characterised by the deterministic mean-feature path ``u_t = E g(x_t)``
(DESIGN.md section 3). This module

* estimates that path on the time grid ``t_k = k * step`` with a large
  *reference cloud* of N particles (:func:`reference_cloud`), recording
  ``u_k`` for every step;
* runs *nonlinear copies* ``xbar_i`` that follow the frozen-path dynamics
  ``xbar_{k+1} = xbar_k + step * F(xbar_k, u_k) + sigma * increment_k``
  (:func:`nonlinear_copies`), with the same initial values and the same noise
  increments as an n-particle run of :func:`poc.simulate` with the same
  seed (synchronous coupling);
* runs an n-particle system and its copies together, in lock-step on the same
  increments (:func:`coupled_run`), so the propagation-of-chaos coupling
  error ``mean_i |x_i(T) - xbar_i(T)|`` can be measured
  (:meth:`CoupledRun.coupling_error`).

The copies are i.i.d. (given the path) solutions of the Euler scheme of the
McKean-Vlasov SDE up to the reference cloud's own O(N^(-1/2)) error, which
the propagation-of-chaos theorem compares with the n-particle system.
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

from ._validation import ParameterTypeError, as_generator
from .drifts import FeatureDrift
from .particles import (
    Trajectory,
    _check_common,
    _check_drift,
    _check_progress,
    _check_x0,
    _euler,
    _euler_systems,
    _increment_source,
    _record_steps,
    _System,
)

__all__ = ["CoupledRun", "ReferenceCloud", "coupled_run", "nonlinear_copies", "reference_cloud"]


@dataclass(frozen=True, eq=False)
class ReferenceCloud:
    """A large particle cloud and the mean-feature path it estimates.

    Attributes
    ----------
    features : numpy.ndarray, shape (n_steps + 1, n_features)
        ``u_k`` = mean features of the cloud at step k (time ``k * step``);
        step k of a nonlinear copy uses ``features[k]``.
    trajectory : Trajectory
        The cloud's own simulation (final state, recorded states).
    alpha, sigma, step : float
        Parameters of the run, reused by the copies.
    n_steps : int
    noise : str
        Noise kind.
    """

    features: np.ndarray
    trajectory: Trajectory
    alpha: float
    sigma: float
    step: float
    n_steps: int
    noise: str

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


def _check_feature_drift(drift) -> FeatureDrift:
    drift = _check_drift(drift)
    if not isinstance(drift, FeatureDrift):
        raise ParameterTypeError(
            "drift must be a FeatureDrift (or a built-in feature model such as MeanFieldNetwork "
            "or LinearMeanField): its McKean-Vlasov limit is driven by a mean-feature path; "
            f"got {type(drift).__name__}"
        )
    return drift


def reference_cloud(drift: FeatureDrift, x0, *, alpha: float, sigma: float, step: float,
                    n_steps: int, noise: str = "iid", seed=None, record_every: int | None = None,
                    progress: bool | None = None) -> ReferenceCloud:
    r"""Simulate a reference cloud and record its mean-feature path at every step.

    The cloud is an ordinary N-particle run (same scheme and noise convention
    as :func:`poc.simulate`; with the same seed it is the same run); in
    addition ``u_k = (1/N) sum_j g(x_j(t_k))`` is stored for every
    ``k = 0 .. n_steps``. For large N, ``u_k`` estimates the McKean-Vlasov
    path ``E g(x(t_k))`` of the Euler scheme, with error ``O(N^(-1/2))``.

    Parameters
    ----------
    drift : poc.drifts.FeatureDrift
        Feature drift (MeanFieldNetwork, LinearMeanField or a user's).
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
        On invalid parameters or a drift that is not a feature drift.
    NonFiniteStateError
        If the cloud becomes non-finite (naming the step).
    """
    drift = _check_feature_drift(drift)
    x = _check_x0(x0)
    alpha, sigma, step, n_steps, noise, record_every = _check_common(
        alpha, sigma, step, n_steps, noise, record_every)
    progress = _check_progress(progress)
    n, d = x.shape
    drift._check_state(n, d)
    rng = as_generator(seed)
    path = np.empty((n_steps + 1, drift._n_features(d)))
    traj = _euler(drift, x, step, n_steps, sigma,
                  _increment_source(rng, alpha, sigma, step, n, d, noise),
                  record_every=record_every, feature_path=path, progress=progress,
                  label="reference cloud")
    return ReferenceCloud(features=path, trajectory=traj, alpha=alpha, sigma=sigma, step=step,
                          n_steps=n_steps, noise=noise)


def _check_reference(drift: FeatureDrift, x: np.ndarray, reference) -> None:
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
    drift._check_state(n, d)
    m = drift._n_features(d)
    if m != reference.features.shape[1]:
        raise ValueError(
            f"the drift has n_features = {m} but the reference path has "
            f"{reference.features.shape[1]} features per step; use the same model"
        )


def _check_copies_inputs(drift, x0, reference, record_every, progress, seed):
    """Shared checks of :func:`nonlinear_copies` and :func:`coupled_run`."""
    drift = _check_feature_drift(drift)
    x = _check_x0(x0)
    _check_reference(drift, x, reference)
    _, _, _, _, _, record_every = _check_common(
        reference.alpha, reference.sigma, reference.step, reference.n_steps, reference.noise,
        record_every)
    return drift, x, record_every, _check_progress(progress), as_generator(seed)


def nonlinear_copies(drift: FeatureDrift, x0, reference: ReferenceCloud, *, seed=None,
                     record_every: int | None = None,
                     progress: bool | None = None) -> Trajectory:
    r"""Nonlinear (McKean-Vlasov) copies driven by a reference path.

    Each copy follows ``xbar_{k+1} = xbar_k + step * F(xbar_k, u_k) +
    sigma * step^(1/alpha) * xi_{k+1}`` with the reference's ``u_k``, alpha,
    sigma, step, n_steps and noise kind. The noise is drawn from ``seed``
    exactly as :func:`poc.simulate` draws it, so copies started from the
    same x0 with the same seed are synchronously coupled to that n-particle
    run. Copies do not interact: each is a function of its own start and noise.

    Parameters
    ----------
    drift : poc.drifts.FeatureDrift
        The same model as the reference cloud's (for a MeanFieldNetwork with
        explicit output weights, one whose weights match x0's n).
    x0 : array_like, shape (n, d), or (n,) for d = 1
        Initial values of the copies.
    reference : ReferenceCloud
        Source of the path ``u_k`` and of the run parameters.
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
    return _euler(drift, x, r.step, r.n_steps, r.sigma,
                  _increment_source(rng, r.alpha, r.sigma, r.step, n, d, r.noise),
                  record_every=record_every, features_in=r.features, progress=progress,
                  label="nonlinear copies")


def coupled_run(drift: FeatureDrift, x0, reference: ReferenceCloud, *, seed=None,
                record_every: int | None = None, progress: bool | None = None) -> CoupledRun:
    r"""Run an n-particle system and its nonlinear copies on the same noise.

    Both start from x0 and receive, at every step, the same Levy increments
    (drawn once from ``seed``, as :func:`poc.simulate` would); the system
    uses its own empirical mean features, the copies the reference path.
    ``result.system`` equals ``poc.simulate(drift, x0, seed=seed, ...)`` with
    the reference's parameters, and ``result.copies`` equals
    ``nonlinear_copies(drift, x0, reference, seed=seed)``, bit for bit.

    Parameters
    ----------
    drift : poc.drifts.FeatureDrift
        The model (same as the reference cloud's).
    x0 : array_like, shape (n, d), or (n,) for d = 1
        Common initial values.
    reference : ReferenceCloud
        Mean-feature path and run parameters (alpha, sigma, step, n_steps, noise).
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
    record = _record_steps(r.n_steps, record_every)
    system = _System(drift, x, label="n-particle system", record=record)
    copies = _System(drift, x, label="nonlinear copies", features_in=r.features, record=record)
    _euler_systems([system, copies], r.step, r.n_steps, r.sigma,
                   _increment_source(rng, r.alpha, r.sigma, r.step, n, d, r.noise),
                   progress=progress, desc="coupled run")
    return CoupledRun(system=system.trajectory(r.step, r.n_steps),
                      copies=copies.trajectory(r.step, r.n_steps))
