"""A Kuramoto-type model as a MODEL.py for ``poc study``.

    dx_i = ( -x_i + (1/n) sum_j sin(x_j - x_i) ) dt + sigma dL_i,     d = 1,

i.e. b(x, mu) = -x + int sin(y - x) mu(dy): a spring towards 0 plus a bounded,
smooth attraction between oscillators. The interaction is bounded and
Lipschitz, so propagation of chaos at rate n^(-1/2) is expected whatever alpha.

Run (from the repository root):

    poc study chaos examples/models/kuramoto.py --alpha 1.5 --ns 32,64,128,256 --expected -0.5 --out figures

(``python -m poc study ...`` if the console script is not installed). The same
model through its exact feature form, sin(y - x) = sin y cos x - cos y sin x, is
``examples/models/kuramoto_features.py``.
"""

import math

from numba import njit

from poc.drifts import PairwiseDrift


@njit
def confinement(x, out):
    """V(x) = -x."""
    out[0] = -x[0]


@njit
def interaction(x, y, out):
    """K(x, y) = sin(y - x)."""
    out[0] = math.sin(y[0] - x[0])


drift = PairwiseDrift(confinement, interaction)


def x0(n, rng):
    """n i.i.d. starts, N(0, 1)."""
    return rng.standard_normal((n, 1))


defaults = {"alpha": [1.5], "sigma": 0.5, "T": 1.0, "step": 0.02, "ns": [32, 64, 128, 256],
            "replicates": 16, "steps": [0.125, 0.0625, 0.03125, 0.015625]}
