"""A small chaos study the study tests share (seconds, not minutes)."""

from __future__ import annotations

import warnings

import poc
from poc.drifts import LinearMeanField
from poc.studies import StudyWarning


def small_chaos(x0, **kw):
    """chaos_study of ``LinearMeanField(1, 0.5)`` from ``x0`` at n = 8, 16, 32 with 4 replicates
    (seed 3), ``kw`` overriding; the warnings about so few replicates are silenced."""
    args = {"alpha": 1.5, "sigma": 0.5, "T": 0.2, "step": 0.05, "ns": [8, 16, 32],
            "replicates": 4, "seed": 3}
    args.update(kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StudyWarning)
        return poc.chaos_study(LinearMeanField(1.0, 0.5), x0, **args)
