"""The README's custom drift as a MODEL.py for ``poc study``.

    b(x_i, mu) = -x_i / 2 + (1/n) sum_j tanh(x_j - x_i),   d = 1:

a spring towards 0 and a bounded attraction (``examples/plot_03_custom_drift.py`` simulates
it and draws the cloud). Run (from the repository root), for the Euler order:

    poc study euler examples/models/custom_drift_model.py --alpha 1.5 --out figures

and for propagation of chaos:

    poc study chaos examples/models/custom_drift_model.py --alpha 1.5 --expected -0.5 --out figures
"""

import math

from numba import njit

from poc.drifts import PairwiseDrift


@njit
def confinement(x, out):
    """V(x) = -0.5 x: a pull towards 0."""
    for k in range(x.size):
        out[k] = -0.5 * x[k]


@njit
def interaction(x, y, out):
    """K(x, y) = tanh(y - x): a bounded attraction."""
    for k in range(x.size):
        out[k] = math.tanh(y[k] - x[k])


drift = PairwiseDrift(confinement, interaction)


def x0(n, rng):
    """n i.i.d. starts, N(0, 2^2), as in the README."""
    return rng.normal(0.0, 2.0, size=(n, 1))


defaults = {"alpha": [1.5], "sigma": 0.3, "T": 1.0, "step": 0.02, "ns": [32, 64, 128, 256],
            "replicates": 16, "steps": [0.125, 0.0625, 0.03125, 0.015625], "expected": None}
