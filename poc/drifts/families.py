"""The drift families: :class:`FeatureDrift`, :class:`PairwiseDrift`, :class:`NumpyDrift`.

The first two evaluate the user's ``numba.njit`` functions for all particles
in parallel Numba kernels (private to the package); the third calls a
vectorised NumPy function. See :mod:`poc.drifts` for the formulas and costs.
"""

from __future__ import annotations

import numpy as np

from .._validation import ParameterTypeError, check_array, check_int
from ._kernels import feature_block_sums, feature_response_into, finish_mean, n_blocks, pairwise_into
from ._probes import ProbeCallError, check_user_function, check_writes, probe_point
from .base import Drift, as_cloud

__all__ = ["FeatureDrift", "NumpyDrift", "PairwiseDrift"]


class _ProbedDrift(Drift):
    """The Numba families' checks of the user's functions: that they write all of ``out``
    (see check_writes), at construction for d = 1 and once per other d on first use."""

    _probed: set[int] | None = None  # None: no user functions to probe (a built-in subclass)

    def _start_probes(self) -> None:
        self._probed = set()
        self._probe(1)

    def _check_writes(self, d: int) -> None:
        raise NotImplementedError

    def _probe(self, d: int) -> None:
        if self._probed is None or d in self._probed:
            return
        self._check_writes(d)
        self._probed.add(d)

    def check_state(self, n, d):
        super().check_state(n, d)
        self._probe(d)


class FeatureDrift(_ProbedDrift):
    r"""Feature (mean-field) drift ``b(x, mu) = response(x, int features dmu)``.

    Parameters
    ----------
    features : numba.njit function ``features(x, out)``
        Writes the feature vector ``g(x)`` (length ``n_features``) of one
        particle ``x`` (float64 array of length d) into ``out``.
    response : numba.njit function ``response(x, u, out)``
        Writes ``F(x, u)`` (length d) into ``out``, where ``u`` (length
        ``n_features``) is the mean of the features over all particles.
    n_features : int
        Length m of the feature vector, ``>= 1``.

    Notes
    -----
    Per evaluation the kernels compute ``u = (1/n) sum_j g(x_j)`` (a
    deterministic blocked sum) and then ``F(x_i, u)`` for every i, in parallel
    over particles: cost ``O(n m d)``. The McKean-Vlasov limit is the
    nonlinear SDE ``dx = F(x, u_t) dt + sigma dL`` with ``u_t = E g(x_t)``
    (Wan et al. 2024, arXiv 2306.08125; see the documentation: Theory, docs/theory.rst, #theory-chaos), which
    :mod:`poc.limits` estimates with a reference cloud.

    Raises
    ------
    TypeError (ParameterTypeError, also a ValueError)
        If a function is not a numba.njit function, or does not compile for
        float64 1-D array arguments; the message carries Numba's reason.
    ValueError
        If n_features is not a positive integer, or a function returns a
        value or leaves part of ``out`` unwritten on a probe (checked at
        construction for d = 1 and on first use for every other d).
    """

    features = None
    response = None
    n_features: int

    def __init__(self, features, response, n_features: int):
        self.features = check_user_function(features, "features", 2, "features(x, out)")
        self.response = check_user_function(response, "response", 3, "response(x, u, out)")
        self.n_features = check_int(n_features, "n_features", low=1)
        self._start_probes()

    def _check_writes(self, d: int) -> None:
        m = self.feature_count(d)
        check_writes(self.features, "features", "features(x, out)", [probe_point(d)], m)
        check_writes(self.response, "response", "response(x, u, out)",
                      [probe_point(d), probe_point(m, 0.2)], d)

    def __repr__(self) -> str:
        return (f"FeatureDrift(features={self.features.__name__}, "
                f"response={self.response.__name__}, n_features={self.n_features})")

    def cost(self, n, d):
        return 10.0 * n * (self.feature_count(d) + d)

    def feature_count(self, d: int) -> int:
        """Length m of the feature vector for particles in R^d (part of the drift protocol).

        :attr:`n_features` for this family; it may depend on d for a subclass
        (:class:`~poc.drifts.LinearMeanField` has m = d).

        Parameters
        ----------
        d : int

        Returns
        -------
        int
        """
        return self.n_features

    def workspace(self, n, d, batch_size=None):
        return {"partial": np.empty((n_blocks(n), self.feature_count(d))),
                "u": np.empty(self.feature_count(d))}

    def mean_features_into(self, ws: dict, x: np.ndarray, u: np.ndarray) -> None:
        """Write the mean features ``u = (1/n) sum_j g(x_j)`` of the cloud x into u.

        Part of the drift protocol: the engine calls it for the final mean
        features of a recorded run. ``ws`` is a :meth:`workspace`.
        """
        feature_block_sums(self.features, x, ws["partial"])
        finish_mean(ws["partial"], x.shape[0], u)

    def response_into(self, x: np.ndarray, u: np.ndarray, out: np.ndarray) -> None:
        """Write ``F(x_i, u)`` for every row of x into out (part of the drift protocol)."""
        feature_response_into(self.response, x, u, out)

    def against_workspace(self, k, N, d):
        return {"cloud": self.workspace(N, d), "u": np.empty(self.feature_count(d))}

    def against_cost(self, k, N, d):
        return self.cost(N, d) + self.cost(k, d)

    def against_into(self, ws, x, cloud, out):
        u = ws["u"]
        self.mean_features_into(ws["cloud"], cloud, u)
        self.response_into(x, u, out)

    def drift_into(self, ws, x, out, *, u_fixed=None, u_out=None, batch=None):
        """Write ``F(x_i, u)`` into out, with u the cloud's own mean features.

        ``u_fixed``: use this u instead (a frozen McKean-Vlasov path);
        ``u_out``: also write the cloud's u there. See :meth:`Drift.drift_into`.
        """
        if u_fixed is None:
            u = ws["u"]
            self.mean_features_into(ws, x, u)
            if u_out is not None:
                u_out[:] = u
        else:
            u = u_fixed
        self.response_into(x, u, out)

    def mean_features(self, x) -> np.ndarray:
        """Mean feature vector ``u = (1/n) sum_j g(x_j)`` of a cloud.

        Parameters
        ----------
        x : array_like, shape (n, d) or (n,)

        Returns
        -------
        numpy.ndarray, shape (n_features,)
        """
        x = as_cloud(x)
        self.check_state(*x.shape)
        ws = self.workspace(*x.shape)
        u = np.empty(self.feature_count(x.shape[1]))
        self.mean_features_into(ws, x, u)
        return u

    def response_drift(self, x, u) -> np.ndarray:
        """The drift ``F(x_i, u)`` with a given mean-feature vector ``u``.

        This is the drift of the nonlinear (McKean-Vlasov) copies, for which
        ``u`` is the limit path rather than the cloud's own mean features.

        Parameters
        ----------
        x : array_like, shape (n, d) or (n,)
        u : array_like, shape (n_features,)

        Returns
        -------
        numpy.ndarray, shape (n, d)
        """
        x = as_cloud(x)
        self.check_state(*x.shape)
        m = self.feature_count(x.shape[1])
        u = check_array(u, "u", ndim=1)
        if u.size != m:
            raise ValueError(f"u must have n_features = {m} entries, got {u.size}")
        out = np.empty_like(x)
        self.drift_into(self.workspace(*x.shape), x, out, u_fixed=u)
        return out


class PairwiseDrift(_ProbedDrift):
    r"""Pairwise drift ``b(x_i, mu^n) = V(x_i) + (1/n) sum_j K(x_i, x_j)``.

    Parameters
    ----------
    confinement : numba.njit function ``f(x, out)``
        Writes ``V(x)`` (length d) into ``out``.
    interaction : numba.njit function ``k(x, y, out)``
        Writes ``K(x, y)`` (length d) into ``out``. The sum runs over all j
        including ``j = i``, so ``K(x, x)`` must be finite (it is 0 for the
        usual odd kernels ``K(x, y) = -grad W(x - y)``).

    Notes
    -----
    Cost ``O(n^2 d)`` per evaluation, and ``O(k N d)`` for
    :meth:`against` (k points against a cloud of N), parallel over fixed
    blocks of points; the sum over j is sequential, so results do not depend
    on the number of threads.

    Raises
    ------
    TypeError (ParameterTypeError, also a ValueError)
        If a function is not a numba.njit function, or does not compile for
        float64 1-D array arguments; the message carries Numba's reason.
    ValueError
        If a function returns a value or leaves part of ``out`` unwritten on a
        probe (checked at construction for d = 1 and on first use for every
        other d).
    """

    def __init__(self, confinement, interaction):
        self.confinement = check_user_function(confinement, "confinement", 2, "f(x, out)")
        self.interaction = check_user_function(interaction, "interaction", 3, "k(x, y, out)")
        self._start_probes()

    def _check_writes(self, d: int) -> None:
        check_writes(self.confinement, "confinement", "f(x, out)", [probe_point(d)], d)
        check_writes(self.interaction, "interaction", "k(x, y, out)",
                      [probe_point(d), probe_point(d, -0.9)], d)

    def __repr__(self) -> str:
        return (f"PairwiseDrift(confinement={self.confinement.__name__}, "
                f"interaction={self.interaction.__name__})")

    def cost(self, n, d):
        return 10.0 * n * n * d

    def against_cost(self, k, N, d):
        return 10.0 * k * N * d

    def drift_into(self, ws, x, out, *, u_fixed=None, u_out=None, batch=None):
        pairwise_into(self.confinement, self.interaction, x, x, out)

    def against_into(self, ws, x, cloud, out):
        pairwise_into(self.confinement, self.interaction, x, cloud, out)


class NumpyDrift(Drift):
    r"""Drift given by a vectorised NumPy function ``func(x, cloud)``.

    ``func(x, cloud)`` returns the (k, d) array of ``b(x_i, mu^cloud)`` for
    points ``x`` (k, d) under the empirical measure of ``cloud`` (N, d); the
    particle system calls ``func(x, x)``, the McKean-Vlasov copies
    ``func(xbar, reference_cloud)``. Both arguments are read-only.

    This adapter is for models that are easiest to write in NumPy. It is
    slower than the Numba families (:class:`FeatureDrift`,
    :class:`PairwiseDrift`): the function runs single-threaded in Python
    and, for a pairwise interaction written by broadcasting, allocates
    (k, N, d) temporaries.

    Parameters
    ----------
    func : callable
        ``func(x, cloud) -> ndarray of shape (len(x), d)``, real and finite.
    name : str, optional
        Name used in error messages (default: ``func.__name__``).

    Raises
    ------
    TypeError (ParameterTypeError)
        If func is not callable or name is not a string.
    ValueError
        If, on a probe cloud (5 points in d = 1, or in d = 2 or 3 if d = 1
        fails), func raises, returns a non-real array, the wrong shape, or
        non-finite values. The message names the function. The shape is
        checked again at every call.

    Examples
    --------
    >>> import numpy as np
    >>> def kuramoto(x, cloud):  # -x + mean_j sin(y_j - x)
    ...     return -x + np.sin(cloud[None, :, :] - x[:, None, :]).mean(axis=1)
    >>> b = NumpyDrift(kuramoto)
    >>> b(np.zeros((3, 1))).ravel().tolist()
    [0.0, 0.0, 0.0]
    """

    def __init__(self, func, *, name: str | None = None):
        if not callable(func):
            raise ParameterTypeError(
                f"func must be a callable func(x, cloud) -> (len(x), d) array, got {func!r} of "
                f"type {type(func).__name__}"
            )
        if name is not None and not isinstance(name, str):
            raise ParameterTypeError(f"name must be a string or None, got {name!r}")
        self.func = func
        self.name = name if name is not None else getattr(func, "__name__", repr(func))
        self._probe()

    def __repr__(self) -> str:
        return f"NumpyDrift({self.name})"

    def _probe(self) -> None:
        rng = np.random.default_rng(20240601)
        first = None
        for d in (1, 2, 3):
            z = rng.standard_normal((5, d))
            try:
                self._call(z, z, check_finite=True)
                return
            except ProbeCallError as exc:
                first = first or exc
                continue
        raise ValueError(f"{first} (probed with clouds of shape (5, d) for d = 1, 2, 3)") \
            from first.__cause__

    def _call(self, x, cloud, *, check_finite: bool = False) -> np.ndarray:
        xv = x.view()
        xv.flags.writeable = False
        cv = xv if cloud is x else cloud.view()
        cv.flags.writeable = False
        try:
            r = self.func(xv, cv)
        except Exception as exc:
            raise ProbeCallError(
                f"NumpyDrift {self.name!r}: func(x, cloud) raised {type(exc).__name__}: {exc}"
            ) from exc
        r = np.asarray(r)
        if r.dtype.kind not in "biuf":
            raise ValueError(
                f"NumpyDrift {self.name!r}: func(x, cloud) must return a real array, got dtype "
                f"{r.dtype}"
            )
        if r.shape != x.shape:
            raise ValueError(
                f"NumpyDrift {self.name!r}: func(x, cloud) must return shape (len(x), d) = "
                f"{x.shape}, got {r.shape}"
            )
        if check_finite and not np.all(np.isfinite(r)):
            raise ValueError(
                f"NumpyDrift {self.name!r}: func(x, cloud) returned non-finite values on a probe "
                f"cloud of shape {x.shape}"
            )
        return r

    def cost(self, n, d):
        return 10.0 * n * n * d

    def against_cost(self, k, N, d):
        return 10.0 * k * N * d

    def drift_into(self, ws, x, out, *, u_fixed=None, u_out=None, batch=None):
        out[:] = self._call(x, x)

    def against_into(self, ws, x, cloud, out):
        out[:] = self._call(x, cloud)


