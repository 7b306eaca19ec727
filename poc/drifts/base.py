"""The drift protocol: :class:`Drift`, the base class of every drift family.

The Euler engine (and the McKean-Vlasov references, the strong error and the
training loop built on it) talks to a drift only through the public methods
documented on :class:`Drift`. A new family subclasses it and implements
:meth:`Drift.drift_into` (and :meth:`Drift.against_into` if its nonlinear
copies are wanted); see the documentation page :ref:`custom-family`.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_array

__all__ = ["Drift"]


def as_cloud(x, name: str = "x") -> np.ndarray:
    """``x`` as a finite float64 (n, d) array; a 1-D array is a cloud in d = 1."""
    arr = check_array(x, name, ndim=(1, 2))
    return arr.reshape(-1, 1) if arr.ndim == 1 else arr


class Drift:
    r"""Base class of the drift families: the protocol the Euler engine uses.

    A drift gives, for every particle ``x_i`` of a cloud ``x`` of shape
    (n, d), the value ``b(x_i, mu^n)`` at the empirical measure ``mu^n`` of
    the cloud. Calling a drift on a cloud (or (n,) for d = 1) returns the
    (n, d) array of these values; :meth:`against` evaluates it under the
    empirical measure of another cloud.

    Subclass it to write a new family: implement :meth:`drift_into` and, for
    the nonlinear copies of :mod:`poc.limits`, :meth:`against_into`; override
    the others when the defaults do not suit. The engine calls, per run,
    :meth:`check_state` (through the public functions), :meth:`workspace`
    and :meth:`cost` once, then :meth:`drift_into` once per step, with
    trusted inputs (float64, C-contiguous, the shapes announced). Results
    must not depend on the number of threads if runs are to be reproducible.
    The built-in families are :class:`~poc.drifts.FeatureDrift`,
    :class:`~poc.drifts.PairwiseDrift` and :class:`~poc.drifts.NumpyDrift`.

    Attributes
    ----------
    dim : int or None
        Number of coordinates per particle the drift requires (None: any d).
    uses_blas : bool
        True if an evaluation calls multithreaded BLAS; the engine then
        chooses the threads of its Numba kernels with BLAS in mind.

    Notes
    -----
    The documentation page :ref:`custom-family` ("Write your own drift
    family") has a complete example family.
    """

    dim: int | None = None
    uses_blas: bool = False

    def __getstate__(self):
        # which dimensions were probed here is not part of the drift: a copy (on a Dask worker)
        # probes again on first use, and a unit's cache key does not change as the drift is used
        state = self.__dict__.copy()
        if "_probed" in state:
            state["_probed"] = set()
        return state

    # -- the protocol the engine calls ----------------------------------------------

    def check_state(self, n: int, d: int) -> None:
        """Raise ValueError if a cloud of n particles in R^d is not supported.

        Called by the public functions before a run (and by :meth:`__call__`
        and :meth:`against`). The default checks :attr:`dim`; families that
        probe user functions do it here, once per d.

        Parameters
        ----------
        n : int
            Number of particles.
        d : int
            Coordinates per particle.

        Raises
        ------
        ValueError
            If the drift does not accept such a cloud, naming the reason.
        """
        if self.dim is not None and d != self.dim:
            raise ValueError(
                f"x0 has d = {d} coordinate(s) per particle but {type(self).__name__} "
                f"needs d = {self.dim}"
            )

    def workspace(self, n: int, d: int, batch_size: int | None = None) -> dict:
        """Buffers reused by :meth:`drift_into` at every step of a run (default: none).

        Parameters
        ----------
        n, d : int
            Shape of the cloud.
        batch_size : int or None
            Minibatch size, for drifts that take minibatches (the network).

        Returns
        -------
        dict
            Passed back as ``ws`` to every :meth:`drift_into` call of the run.
        """
        return {}

    def cost(self, n: int, d: int) -> float:
        """Rough operation count of one :meth:`drift_into` call in Numba kernels.

        The engine runs small work on one thread (waking a second costs more);
        BLAS work is not counted. The default is ``10 n d``.

        Parameters
        ----------
        n, d : int
            Shape of the cloud.

        Returns
        -------
        float
        """
        return 10.0 * n * d

    def drift_into(self, ws: dict, x: np.ndarray, out: np.ndarray, **options) -> None:
        """Write ``b(x_i, mu^n)`` for every particle of ``x`` into ``out``.

        Parameters
        ----------
        ws : dict
            The run's :meth:`workspace`.
        x : numpy.ndarray, shape (n, d)
            The cloud (read only).
        out : numpy.ndarray, shape (n, d)
            Receives the drift; every entry must be written.
        **options
            Passed only to the families that use them: ``batch`` (int array
            of data indices, minibatches of the network), ``u_fixed`` and
            ``u_out`` (mean features, :class:`~poc.drifts.FeatureDrift`). A
            new family need not accept them.

        Raises
        ------
        NotImplementedError
            In the base class.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement drift_into")

    def against_workspace(self, k: int, N: int, d: int) -> dict:
        """Buffers of :meth:`against_into` for k points against a cloud of N (default: none).

        Parameters
        ----------
        k, N, d : int
            Number of points, size of the cloud, coordinates.

        Returns
        -------
        dict
        """
        return {}

    def against_cost(self, k: int, N: int, d: int) -> float:
        """Rough operation count of one :meth:`against_into` call (see :meth:`cost`).

        Parameters
        ----------
        k, N, d : int
            Number of points, size of the cloud, coordinates.

        Returns
        -------
        float
        """
        return self.cost(max(k, N), d)

    def against_into(self, ws: dict, x: np.ndarray, cloud: np.ndarray, out: np.ndarray) -> None:
        """Write ``b(x_i, mu^cloud)`` for every row of ``x`` into ``out``.

        The nonlinear copies of :mod:`poc.limits` call it at every step, with
        the reference cloud of that step as ``cloud``; ``against_into(ws, x,
        x, out)`` must equal :meth:`drift_into`.

        Parameters
        ----------
        ws : dict
            The run's :meth:`against_workspace`.
        x : numpy.ndarray, shape (k, d)
            Points (read only).
        cloud : numpy.ndarray, shape (N, d)
            Particles whose empirical measure is used (read only).
        out : numpy.ndarray, shape (k, d)
            Receives the drift.

        Raises
        ------
        NotImplementedError
            In the base class.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement against_into")

    def against(self, x, cloud) -> np.ndarray:
        r"""The drift at the points ``x`` under the empirical measure of ``cloud``.

        Returns ``b(x_i, mu^cloud)`` with ``mu^cloud = (1/N) sum_j
        delta_{cloud_j}``: the drift that the McKean-Vlasov (nonlinear) copies
        feel when ``cloud`` is a large reference cloud standing for the limit
        law. ``drift.against(x, x)`` equals ``drift(x)``.

        Parameters
        ----------
        x : array_like, shape (k, d) or (k,)
            Points at which the drift is evaluated.
        cloud : array_like, shape (N, d) or (N,)
            Particles whose empirical measure is used.

        Returns
        -------
        numpy.ndarray, shape (k, d)

        Raises
        ------
        ValueError
            If x or cloud is not a finite real array of 1 or 2 dimensions,
            their numbers of coordinates differ, or the drift does not accept
            them (e.g. a network's input dimension).
        """
        x = as_cloud(x, "x")
        cloud = as_cloud(cloud, "cloud")
        if x.shape[1] != cloud.shape[1]:
            raise ValueError(
                f"x and cloud must have the same number of coordinates d: x has shape {x.shape}, "
                f"cloud has shape {cloud.shape}"
            )
        (k, d), N = x.shape, cloud.shape[0]
        self.check_state(N, d)
        self.check_state(k, d)
        out = np.empty_like(x)
        self.against_into(self.against_workspace(k, N, d), x, cloud, out)
        return out

    def __call__(self, x) -> np.ndarray:
        """Evaluate the drift at every particle of the cloud ``x``.

        Parameters
        ----------
        x : array_like, shape (n, d) or (n,)
            Particle positions (the empirical measure is their average).

        Returns
        -------
        numpy.ndarray, shape (n, d)
        """
        x = as_cloud(x)
        self.check_state(*x.shape)
        out = np.empty_like(x)
        self.drift_into(self.workspace(*x.shape), x, out)
        return out

