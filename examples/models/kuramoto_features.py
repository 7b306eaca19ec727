"""The Kuramoto-type model of ``examples/models/kuramoto.py`` in its exact feature form.

    b(x, mu) = -x + int sin(y - x) mu(dy) = -x + cos(x) E sin(y) - sin(x) E cos(y),

so with features g(y) = (sin y, cos y) and response F(x, u) = -x + cos(x) u_0 -
sin(x) u_1 it is a FeatureDrift: cost O(n) per step instead of O(n^2), and the
same numbers up to rounding.

Run (from the repository root):

    poc study chaos examples/models/kuramoto_features.py --alpha 1.5 --ns 32,64,128,256 \
        --expected -0.5 --out figures
"""

import math

from numba import njit

from poc.drifts import FeatureDrift


@njit
def features(x, out):
    out[0] = math.sin(x[0])
    out[1] = math.cos(x[0])


@njit
def response(x, u, out):
    out[0] = -x[0] + math.cos(x[0]) * u[0] - math.sin(x[0]) * u[1]


drift = FeatureDrift(features, response, 2)


def x0(n, rng):
    """n i.i.d. starts, N(0, 1)."""
    return rng.standard_normal((n, 1))


defaults = {"alpha": [1.5], "sigma": 0.5, "T": 1.0, "step": 0.02, "ns": [32, 64, 128, 256],
            "replicates": 16, "steps": [0.125, 0.0625, 0.03125, 0.015625]}
