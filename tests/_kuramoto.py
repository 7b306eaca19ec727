"""The Kuramoto-type drift b(x, mu) = -x + int sin(y - x) mu(dy) in every form the tests compare.

Pairwise (V, K), its exact feature form (sin(y - x) = sin y cos x - cos y sin x, so the
features are (sin y, cos y)) and plain NumPy; shared by the drift, limit and study tests.
"""

import math

import numpy as np
from numba import njit


@njit
def conf(x, out):  # V(x) = -x
    for k in range(x.size):
        out[k] = -x[k]


@njit
def inter(x, y, out):  # K(x, y) = sin(y - x)
    for k in range(x.size):
        out[k] = math.sin(y[k] - x[k])


@njit
def feat(x, out):  # d = 1 only
    out[0] = math.sin(x[0])
    out[1] = math.cos(x[0])


@njit
def resp(x, u, out):
    # mean_j sin(y_j - x) = cos x mean sin y - sin x mean cos y
    out[0] = -x[0] + math.cos(x[0]) * u[0] - math.sin(x[0]) * u[1]


def numpy_form(x, cloud):
    return -x + np.sin(cloud[None, :, :] - x[:, None, :]).mean(axis=1)
