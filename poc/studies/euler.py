"""The Euler study: the strong error of the Euler scheme against the step (:func:`euler_study`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import check_choice, check_int, check_real
from ..euler import DEFAULT_REFINEMENT
from ..noise import NOISE_KINDS
from ..units import Unit, master_seed, run_units, study_id
from .fitting import curve_seeds
from .inputs import (
    UNIT_PARTICLES,
    Start,
    check_drift,
    check_start,
    check_verdict_args,
)
from .result import Series, StudyResult

__all__ = ["EULER_REFINEMENT", "euler_study"]

#: The Euler study's default reference step is this many times finer than the
#: smallest tested step (:data:`poc.euler.DEFAULT_REFINEMENT`): the reference's
#: own error (same path, leading term shared) then biases the fitted order by
#: less than ~0.01, against 0.04-0.14 with 8x.
EULER_REFINEMENT = DEFAULT_REFINEMENT


@dataclass(frozen=True)
class _EulerUnit:
    count: int
    n: int


@dataclass(frozen=True, eq=False)
class _EulerShared:
    drift: Any
    start: Start
    kw: dict


def _euler_unit(cfg: _EulerUnit, ss: np.random.SeedSequence, sh: _EulerShared) -> np.ndarray:
    from ..euler import strong_error

    rng = np.random.default_rng(ss)
    if sh.start.func is None:
        x = sh.start(cfg.n, rng)
    else:
        x = np.stack([sh.start(cfg.n, rng) for _ in range(cfg.count)])
    return strong_error(sh.drift, x, n_replicates=cfg.count, seed=rng, progress=False,
                        **sh.kw).errors


def euler_study(drift, x0, *, alpha: float, sigma: float, T: float, steps, replicates: int,
                reference_step: float | None = None, n: int = 1, noise: str = "iid",
                interacting: bool = True, batch_size: int | None = None, seed=0,
                fit_seed=None, expected: float | None = None,
                tolerance: float = 0.05, relation: str = "equal",
                progress: bool | None = None, client=None, cache=None) -> StudyResult:
    r"""Strong error ``E|x^eta(T) - x(T)|`` of the Euler scheme against the step eta.

    Built on :func:`poc.euler.strong_error`: nested grids, one Levy path per
    replicate shared by every step (common random numbers), reference = a
    fine-step Euler run on the same path. The slope is the measured strong
    order, with a paired bootstrap interval (whole replicates resampled).

    The default reference step is ``steps[-1] / 64``: the reference shares the
    leading error term of every run, and an 8x finer reference biased fitted
    orders upwards by 0.04-0.14; at 64x the bias is below ~0.01.

    Parameters
    ----------
    drift : poc.drifts.Drift
    x0 : callable or array_like, shape (d,)
        ``x0(n, rng) -> (n, d)`` (a fresh start per replicate) or one point.
    alpha : float
        Noise index in (1, 2].
    sigma, T : float
        Noise scale (``>= 0``) and horizon (``> 0``).
    steps : sequence of float
        Strictly decreasing steps, each dividing ``T`` and a multiple of the
        smallest one's reference grid (at least 3).
    replicates : int
        Independent Levy paths, ``>= 2``.
    reference_step : float, optional
        Default ``steps[-1] / 64``; at least 8 times finer than ``steps[-1]``.
    n : int, optional
        Particles per replicate (default 1: a single SDE).
    noise : {"iid", "isotropic", "neuron"}, optional
    interacting : bool, optional
        False for a drift without interaction (simulated in shared clouds, faster).
    batch_size : int, optional
        MeanFieldNetwork only: the tested runs are minibatch noisy SGD (see
        :func:`poc.euler.strong_error`), the reference the full-gradient system.
    seed, fit_seed, expected, tolerance, relation, progress, client, cache
        As in :func:`chaos_study` (one curve).

    Returns
    -------
    StudyResult
        One curve, ``"strong_error"``. ``data``: ``steps``; ``strong_error``
        (one replicate array per step; replicate r is the same Levy path at
        every step); ``reference_step``; ``replicates``; ``n``; ``d``;
        ``batch_size``.

    Raises
    ------
    ValueError, TypeError
        Steps not decreasing, fewer than 3, not dividing T; ``replicates < 2``;
        bad x0; other out-of-range parameters.
    """
    from ..euler import fit_paired_rate, step_grid

    drift = check_drift(drift)
    alpha = check_real(alpha, "alpha", low=1.0, high=2.0, low_open=True)
    sigma = check_real(sigma, "sigma", low=0.0)
    T = check_real(T, "T", low=0.0, low_open=True)
    replicates = check_int(replicates, "replicates", low=2)
    n = check_int(n, "n", low=1)
    noise = check_choice(noise, "noise", NOISE_KINDS)
    expected, tolerance, relation = check_verdict_args(expected, tolerance, relation)
    arr = np.asarray(steps, dtype=float)
    if arr.ndim != 1 or arr.size < 3:
        raise ValueError(f"steps must hold at least 3 step sizes, got {np.asarray(steps).tolist()}")
    if reference_step is None:
        reference_step = float(arr[-1]) / EULER_REFINEMENT
    steps_v, _, n_fine = step_grid(T, arr, reference_step, None)
    start = check_start(x0)
    seed = master_seed(seed)
    sid = study_id("euler_study")
    fit_seed = curve_seeds(fit_seed, 1, seed, sid)[0]
    kw = {"alpha": alpha, "sigma": sigma, "T": T, "steps": steps_v,
          "reference_step": T / n_fine, "noise": noise, "interacting": bool(interacting),
          "batch_size": batch_size}
    size = max(1, 2048 // n) if not interacting else max(1, UNIT_PARTICLES // (n * 64))
    counts = [min(size, replicates - r0) for r0 in range(0, replicates, size)]
    units = [Unit.make(seed, sid, (b,), _EulerUnit(c, n)) for b, c in enumerate(counts)]
    out = run_units(_euler_unit, units, shared=_EulerShared(drift, start, kw), client=client,
                    cache=cache, progress=progress, desc="euler study")
    errors = np.concatenate(out, axis=1)
    fit = fit_paired_rate(steps_v, errors, seed=fit_seed)
    rows = list(errors)
    series = [Series("strong error E|x^eta(T) - x(T)|", steps_v, rows, fit, "strong_error")]
    notes = [f"Reference: a fine Euler run with step {T / n_fine:g} "
             f"({round(steps_v[-1] * n_fine / T)} x finer than the smallest step), same Levy path "
             f"and start; the interval is a paired bootstrap over the {replicates} paths."]
    data = {"steps": steps_v, "strong_error": rows, "reference_step": T / n_fine,
            "replicates": replicates, "n": n, "d": start.d, "batch_size": batch_size}
    settings = {"drift": repr(drift), "x0": start.describe(),
                "alpha": alpha, "sigma": sigma, "T": T, "steps": steps_v,
                "reference_step": T / n_fine, "n": n, "noise": noise, "seed": seed}
    return StudyResult("euler", fit, data, series, settings, "step eta", "strong error at T",
                       "the strong error", expected, tolerance, relation, notes)
