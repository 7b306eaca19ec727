"""Checks of the inputs shared by the public simulation functions.

:func:`poc.simulate`, :mod:`poc.limits`, :func:`poc.strong_error`, the
studies and :func:`poc.train` validate their arguments here before they hand
them, trusted, to the Euler engine (``poc.engine``).
"""

from __future__ import annotations

import numpy as np

from ._validation import ParameterTypeError, check_array, check_choice, check_int, check_real
from .drifts import Drift
from .noise import NOISE_KINDS

__all__ = ["check_drift", "check_progress", "check_run", "check_x0"]


def check_drift(drift) -> Drift:
    """Raise ParameterTypeError unless ``drift`` is a :class:`poc.drifts.Drift`."""
    if not isinstance(drift, Drift):
        raise ParameterTypeError(
            "drift must be a poc.drifts drift (FeatureDrift, PairwiseDrift, NumpyDrift, "
            f"MeanFieldNetwork, LinearMeanField, ...), got {drift!r} of type {type(drift).__name__}"
        )
    return drift


def check_x0(x0) -> np.ndarray:
    """x0 as a finite float64 (n, d) array ((n,) means d = 1)."""
    x = check_array(x0, "x0", ndim=(1, 2))
    return x.reshape(-1, 1) if x.ndim == 1 else x


def check_progress(progress) -> bool | None:
    """progress as True, False or None (automatic)."""
    if progress is not None and not isinstance(progress, bool | np.bool_):
        raise ParameterTypeError(
            f"progress must be True, False or None (automatic), got {progress!r}"
        )
    return None if progress is None else bool(progress)


def check_run(alpha, sigma, step, n_steps, noise, record_every):
    """Checked (alpha, sigma, step, n_steps, noise, record_every) of a run."""
    alpha = check_real(alpha, "alpha", low=0.0, high=2.0, low_open=True)
    sigma = check_real(sigma, "sigma", low=0.0)
    step = check_real(step, "step", low=0.0, low_open=True)
    n_steps = check_int(n_steps, "n_steps", low=1)
    noise = check_choice(noise, "noise", NOISE_KINDS)
    if record_every is not None:
        record_every = check_int(record_every, "record_every", low=1)
    return alpha, sigma, step, n_steps, noise, record_every
