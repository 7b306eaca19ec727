"""A two-feature user drift shared by the simulation tests (Numba kernels)."""

import math

from numba import njit


@njit
def feat(x, out):
    out[0] = math.tanh(x[0] - x[1])
    out[1] = x[0] * x[0]


@njit
def resp(x, u, out):
    out[0] = -x[0] + u[0]
    out[1] = -0.5 * x[1] + 0.1 * u[1] * math.sin(x[0])
