"""The plain-NumPy noisy SGD step of the tanh network that the loop benchmarks time poc against
(bench_sgd_step.py, bench_simulate_loop.py), written as a competent NumPy user would."""

from __future__ import annotations

import numpy as np


def numpy_cms(g: np.random.Generator, alpha: float, shape) -> np.ndarray:
    """Textbook vectorised Chambers-Mallows-Stuck draws (symmetric, alpha != 1) from ``g``."""
    u = g.random(shape)
    w = g.standard_exponential(shape)
    v = np.pi * (u - 0.5)
    return (np.sin(alpha * v) / np.cos(v) ** (1 / alpha)
            * (np.cos((1 - alpha) * v) / w) ** ((1 - alpha) / alpha))


def numpy_gradient_step(theta: np.ndarray, X: np.ndarray, y: np.ndarray, eta: float) -> None:
    """``theta -= eta G`` in place: ``G = ((1 - tanh^2 H) * r)^T X / m`` with ``H = X theta^T``
    and ``r = mean_i tanh(H) - y`` over the m rows of X."""
    T = np.tanh(X @ theta.T)
    r = T.mean(axis=1) - y
    T *= T
    np.subtract(1.0, T, out=T)
    T *= r[:, None]
    grad = T.T @ X
    grad /= X.shape[0]
    theta -= eta * grad
