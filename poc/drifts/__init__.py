r"""Drift families of mean-field particle systems, and the built-in models.

A drift gives, for every particle ``x_i`` of a cloud ``x`` of shape (n, d),
the value ``b(x_i, mu^n)`` where ``mu^n = (1/n) sum_j delta_{x_j}`` is the
empirical measure of the cloud. Two families cover the models of the paper
(docs: docs/user_guide/drifts.rst, #drift-families); both take plain ``numba.njit`` functions from the
user and evaluate them for all particles in parallel Numba kernels:

* :class:`FeatureDrift` -- ``b(x, mu) = F(x, int g dmu)`` with features
  ``g: R^d -> R^m`` and a response ``F``; cost ``O(n m d)`` per evaluation.
  The mean-field network is of this form, and the McKean-Vlasov limit of a
  feature drift is driven by the deterministic path ``u_t = int g dmu_t``.
* :class:`PairwiseDrift` -- ``b(x_i, mu^n) = V(x_i) + (1/n) sum_j K(x_i, x_j)``;
  cost ``O(n^2 d)``. The sum includes ``j = i``, as in the formula.

A third, slower adapter, :class:`NumpyDrift`, takes a vectorised NumPy
function ``func(x, cloud)``. User ``njit`` functions are probed at
construction: one that returns its value instead of writing ``out``, or leaves
part of ``out`` unwritten, is refused with a ValueError naming it.

Every drift also evaluates ``b(x_i, mu^cloud)`` for points ``x`` under the
empirical measure of *another* cloud, :meth:`Drift.against` (cost
``O(k m d + N m d)`` for feature drifts, ``O(k N d)`` for pairwise drifts, k
points against N): the drift of the McKean-Vlasov copies in
:mod:`poc.limits`.

Built-in models: :class:`MeanFieldNetwork` (the paper's one-hidden-layer
network; its drift is minus the n-rescaled gradient of the squared loss),
:class:`LinearMeanField` (exact McKean-Vlasov marginal in closed form) and
:class:`DoubleWell` (a pairwise example).

Determinism: sums over particles are taken over fixed blocks of 64
particles and then over blocks in order, so every drift value is
bit-identical whatever the number of Numba threads.

Every drift implements the public protocol of :class:`Drift` (``drift_into``,
``workspace``, ``cost``, ``against_into``, ...), the only methods the Euler
engine calls; a new family subclasses :class:`Drift` (documentation:
:ref:`custom-family`).

Layout of the package: ``base`` (the :class:`Drift` protocol), ``families``
(:class:`FeatureDrift`, :class:`PairwiseDrift`, :class:`NumpyDrift`),
``network`` (:class:`MeanFieldNetwork` and its activations), ``models``
(:class:`LinearMeanField`, :class:`DoubleWell`), and the private ``_kernels``
(blocked Numba sums) and ``_probes`` (checks of the user's functions). Import
the names from ``poc.drifts``.

Example
-------
>>> import numpy as np
>>> from numba import njit
>>> from poc.drifts import PairwiseDrift
>>> @njit
... def confinement(x, out):       # V(x) = -x
...     for k in range(x.size):
...         out[k] = -x[k]
>>> @njit
... def interaction(x, y, out):    # K(x, y) = y - x (attraction)
...     for k in range(x.size):
...         out[k] = y[k] - x[k]
>>> b = PairwiseDrift(confinement, interaction)
>>> b(np.array([[0.0], [2.0]])).ravel().tolist()   # -x_i + (mean - x_i)
[1.0, -3.0]
"""


from ._kernels import PBLOCK
from .base import Drift
from .families import FeatureDrift, NumpyDrift, PairwiseDrift
from .models import DoubleWell, LinearMeanField
from .network import ACTIVATIONS, MeanFieldNetwork

__all__ = [
    "ACTIVATIONS",
    "DoubleWell",
    "Drift",
    "FeatureDrift",
    "LinearMeanField",
    "MeanFieldNetwork",
    "NumpyDrift",
    "PairwiseDrift",
]

# the block size under its old spelling (tests reproduce the blocked sums with it)
_PBLOCK = PBLOCK
