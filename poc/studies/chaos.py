"""The chaos study: the coupling error to the McKean-Vlasov limit against n (:func:`chaos_study`)."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import check_int
from ..drifts import FeatureDrift
from ..exceptions import StudyWarning
from ..units import Unit, master_seed, run_units, study_id
from .fitting import curve_seeds, fit_curve, fmt_ci
from .inputs import (
    Start,
    blocks,
    check_horizon,
    check_sweep,
    gather,
    rng,
    warn_heavy,
)
from .result import Series, StudyResult

__all__ = ["MIN_REFERENCE_FACTOR", "N_DIRECTIONS", "N_SPLITS", "REFERENCE_FACTOR", "chaos_study"]

#: Default reference size ``N = REFERENCE_FACTOR * n_max``. The reference's
#: own error and the n-particle fluctuation are independent and add in
#: quadrature (bounded interactions), inflating the coupling error at n by
#: ``sqrt(1 + n / N)``: 1.6 % at ``n_max``, a slope bias below 0.005.
REFERENCE_FACTOR = 32
#: Below ``N = MIN_REFERENCE_FACTOR * n_max`` the reference inflates the error
#: at n_max by more than 6 % (slope bias up to ~0.02): the studies warn.
MIN_REFERENCE_FACTOR = 8
#: Directions of the sliced W_1 in d > 1 (fixed for the whole study, so the
#: slicing adds no Monte Carlo noise to the slope).
N_DIRECTIONS = 32


@dataclass(frozen=True)
class _ChaosUnit:
    n: int
    count: int
    fluctuation: bool  # also measure the n-system's mean-field fluctuation (n = n_max)
    w1_count: int  # W1 of the first w1_count replicates of the block only
    sup_time: bool = False  # also max_k mean_i |x_i(t_k) - xbar_i(t_k)| over the time grid


@dataclass(frozen=True, eq=False)
class _ChaosShared:
    drift: Any
    start: Start
    reference: Any
    sorted_ref: Any
    probe: np.ndarray | None


def _field(drift, z: np.ndarray, cloud: np.ndarray) -> np.ndarray:
    """The quantity through which the cloud acts on a particle: mean features for a feature
    drift, else the drift field ``b(z, mu^cloud)`` on probe points ``z``."""
    if isinstance(drift, FeatureDrift):
        return drift.mean_features(cloud)
    return drift.against(z, cloud)


#: Random half-splits averaged by the reference-error estimate: one split gives an estimate
#: with as many degrees of freedom as the field has components (2 for a Kuramoto drift:
#: off by 10x either way); 16 splits bring its relative spread to about 1/4.
N_SPLITS = 16


def _half_split_error(drift, probe, cloud: np.ndarray, rng: np.random.Generator) -> float:
    """Mean square of ``(field(half A) - field(half B)) / 2`` over random half-splits of the
    reference: an estimate of the squared error of the reference's own field, ``~ 1/N``."""
    N = cloud.shape[0]
    half = N // 2
    acc = 0.0
    for _ in range(N_SPLITS):
        perm = rng.permutation(N)
        a = _field(drift, probe, cloud[perm[:half]])
        b = _field(drift, probe, cloud[perm[half:2 * half]])
        acc += float(np.mean((0.5 * (a - b)) ** 2))
    return acc / N_SPLITS


@dataclass(frozen=True)
class _ReferenceUnit:
    N: int
    alpha: float
    sigma: float
    step: float
    n_steps: int
    noise: str


def _reference_unit(cfg: _ReferenceUnit, ss: np.random.SeedSequence, sh):
    from ..limits import reference_cloud

    drift, start = sh
    g = np.random.default_rng(ss)
    return reference_cloud(drift, start(cfg.N, g), alpha=cfg.alpha, sigma=cfg.sigma,
                           step=cfg.step, n_steps=cfg.n_steps, noise=cfg.noise, seed=g,
                           progress=False)


def _half_split_unit(cfg, ss: np.random.SeedSequence, sh) -> float:
    drift, probe, final = sh
    return _half_split_error(drift, probe, final, np.random.default_rng(ss))


def _chaos_unit(cfg: _ChaosUnit, ss: np.random.SeedSequence, sh: _ChaosShared) -> dict:
    from ..limits import coupled_run

    ce = np.empty(cfg.count)
    w1p = np.empty(cfg.w1_count)
    w1c = np.empty(cfg.w1_count)
    fluct = np.empty(cfg.count) if cfg.fluctuation else None
    sup = np.empty(cfg.count) if cfg.sup_time else None
    ref_field = None
    for i, child in enumerate(ss.spawn(cfg.count)):
        rng = np.random.default_rng(child)
        # recording every step draws no random numbers: the same run as without it
        run = coupled_run(sh.drift, sh.start(cfg.n, rng), sh.reference, seed=rng, progress=False,
                          record_every=1 if cfg.sup_time else None)
        ce[i] = run.coupling_error()
        if sup is not None:
            sup[i] = float(np.max(run.coupling_errors()))
        if i < cfg.w1_count:
            w1p[i] = sh.sorted_ref.sliced_w1(run.system.final)
            w1c[i] = sh.sorted_ref.sliced_w1(run.copies.final)
        if fluct is not None:
            if ref_field is None:
                ref_field = _field(sh.drift, sh.probe, sh.reference.trajectory.final)
            fluct[i] = float(np.mean((_field(sh.drift, sh.probe, run.system.final) - ref_field) ** 2))
    return {"ce": ce, "w1p": w1p, "w1c": w1c, "fluct": fluct, "sup": sup}


def chaos_study(drift, x0, *, alpha: float, sigma: float, T: float, step: float, ns,
                replicates, noise: str = "iid", reference: int | None = None,
                w1_replicates: int | None = None, sup_time: bool = False, seed=0, fit_seed=None,
                expected: float | None = None, tolerance: float = 0.05, relation: str = "equal",
                progress: bool | None = None, client=None, cache=None) -> StudyResult:
    r"""Propagation of chaos: the coupling error to the McKean-Vlasov limit against n.

    For each n, each replicate runs the n-particle system and its nonlinear
    copies on the same initial values and noise (:func:`poc.limits.coupled_run`,
    synchronous coupling) and measures

    * the coupling error ``mean_i |x_i^n(T) - xbar_i(T)|`` (the fitted slope);
    * the sliced W_1 of the particle cloud to the reference cloud, and of the
      n copies (n i.i.d. limit samples: the sampling floor, which decays like
      ``n^(1/alpha - 1)`` in heavy tails). Exact W_1 in d = 1.

    The limit is estimated once by a reference cloud of N particles
    (:func:`poc.limits.reference_cloud`), shared by every unit. Its own error
    is measured by a half-split estimate (half the difference of two halves'
    mean features, or drift fields on 256 probe points, averaged over 16
    random splits) and reported relative to the fluctuation of the n_max system.

    Parameters
    ----------
    drift : poc.drifts.Drift
        Any drift the limits accept (feature, pairwise, NumPy, built-in).
    x0 : callable or array_like, shape (d,)
        ``x0(n, rng) -> (n, d)`` i.i.d. initial values, or one point every
        particle starts from (a deterministic start).
    alpha, sigma : float
        Noise index in (1, 2] (W_1 and the mean error need a first moment)
        and noise scale ``>= 0``.
    T, step : float
        Horizon and Euler step; ``step`` must divide ``T``.
    ns : sequence of int
        At least 3 strictly increasing particle counts ``>= 2``.
    replicates : int or mapping n -> int
        Replicates per n (``>= 2``; see :func:`constant_work`).
    noise : {"iid", "isotropic", "neuron"}, optional
    reference : int, optional
        Reference size N ``>= n_max``. Default ``32 * n_max`` (inflating the
        coupling error at n_max by ``sqrt(1 + 1/32) - 1 = 1.6 %``).
    w1_replicates : int, optional
        Measure the two W_1 distances on the first ``w1_replicates``
        replicates at each n only (``>= 2``; default: on every replicate).
    sup_time : bool, optional
        Also ``max_k mean_i |x_i(t_k) - xbar_i(t_k)|`` over every step of the grid
        (uniformly in time; both clouds kept at every step, ``16 n d T / step`` bytes).
    seed : None, int or numpy.random.Generator, optional
        Master seed (default 0).
    fit_seed : sequence, optional
        One bootstrap seed per curve, in the order of ``series`` (each as
        :func:`poc.rates.fit_rate`'s); default: from ``seed``.
    expected, tolerance, relation : optional
        Theory slope (e.g. -0.5: a verdict and a guide line), the verdict's
        slack (default 0.05) and how it compares (:func:`poc.rates.judge`;
        default "equal", "not_above" for an upper bound such as n^(-1/2)).
    progress : bool, None or a progress bar, optional
        Progress bar over the work units (None: only on a terminal, after
        5 s); a bar object (e.g. tqdm) is shared, as in :func:`poc.units.run_units`.
    client : dask.distributed.Client, optional
        Run the work units on this Dask cluster (the reference scattered once
        to every worker): the same numbers as serially (None, the default).
        Use one thread per worker process.
    cache : None, str, os.PathLike or poc.cache.UnitCache, optional
        Finished work units: a rerun with the same settings, seed and package
        version reads them instead of recomputing (default None: no cache).

    Returns
    -------
    StudyResult
        Curves (:meth:`~StudyResult.curve`, in this order): ``"coupling_error"``
        (the main one), ``"w1_particles"``, ``"w1_iid_floor"`` (and with ``sup_time``
        ``"sup_coupling_error"``). ``data``: ``n``; one replicate array per n for each
        curve, under its key; ``replicates`` (per n); ``reference_size`` (N); ``reference_ratio``
        (reference error / n_max fluctuation; about ``sqrt(n_max / N)``).

    Raises
    ------
    ValueError, TypeError
        Bad ``ns`` (fewer than 3, not increasing), ``replicates < 2``,
        ``reference < n_max``, ``step`` not dividing ``T``, a bad ``x0``, other
        out-of-range parameters.

    Warns
    -----
    StudyWarning
        Reference below ``8 n_max``; alpha < 2 with fewer than
        :data:`MIN_HEAVY_REPLICATES` replicates at some n.

    Notes
    -----
    Cost per step: O((N + n) m d) for feature drifts; for pairwise and NumPy drifts
    O(N^2) for the reference and O(n N) for the copies against it.
    """
    from ..wasserstein import require_finite_moment

    drift, start, alpha, sigma, ns, reps, noise, verdict = check_sweep(
        drift, x0, alpha, sigma, ns, replicates, noise, (expected, tolerance, relation))
    require_finite_moment(alpha, 1)
    T, step, n_steps = check_horizon(T, step)
    w1_replicates = None if w1_replicates is None else check_int(w1_replicates, "w1_replicates", low=2)
    N = _reference_size(reference, ns[-1])
    warn_heavy(alpha, reps, "coupling error")
    seed, sid = master_seed(seed), study_id("chaos_study")
    fit_seeds = curve_seeds(fit_seed, 4 if sup_time else 3, seed, sid)
    rows, ratio, d = _measure(drift, start, ns, reps, w1_replicates,
                              _ReferenceUnit(N, alpha, sigma, step, n_steps, noise), seed, sid,
                              progress=progress, client=client, cache=cache, sup_time=bool(sup_time))
    settings = {"drift": repr(drift), "x0": start.describe(), "alpha": alpha, "sigma": sigma,
                "T": T, "step": step, "noise": noise, "ns": list(ns), "reference": N,
                "w1_replicates": w1_replicates, "sup_time": bool(sup_time), "seed": seed}
    return _result(rows, ratio, d, reps, fit_seeds, settings, reference is None, verdict)


def _result(rows: dict, ratio: float, d: int, reps: dict, fit_seeds, settings: dict,
            default_size: bool, verdict: tuple) -> StudyResult:
    """The curves, each fitted once, the notes and the data of a chaos study."""
    ns, N, alpha = settings["ns"], settings["reference"], settings["alpha"]
    x = np.asarray(ns, float)
    w1 = "W1" if d == 1 else "sliced W1"
    labels = ("coupling error mean_i |x_i(T) - xbar_i(T)|", f"{w1}(particles, limit)",
              f"{w1}(n i.i.d. copies, limit): sampling floor",
              "sup_t coupling error max_k mean_i |x_i(t_k) - xbar_i(t_k)|")
    series = [Series(label, x, rows[key], fit_curve(x, rows[key], s), key) for label, key, s in
              zip(labels, [k for k in _CURVES if k in rows], fit_seeds, strict=False)]
    f_p, f_c = series[1].fit, series[2].fit
    n_max = ns[-1]
    notes = [
        f"{w1} of the particle cloud to the limit has slope {fmt_ci(f_p)}, next to the i.i.d. "
        f"floor's {fmt_ci(f_c)} (heavy-tailed floor theory 1/alpha - 1 = {1 / alpha - 1:+.3f}).",
        f"The limit is a reference cloud of N = {N} particles"
        + (f" (the default {REFERENCE_FACTOR} x n_max)" if default_size else "")
        + f"; its own error (half-split estimate) is {ratio:.2f} times the fluctuation of the "
        f"n = {n_max} system (about sqrt(n_max / N) = {math.sqrt(n_max / N):.2f} expected), so it "
        f"inflates the coupling error at n_max by about {100 * (math.sqrt(1 + ratio**2) - 1):.1f} %.",
    ]
    if "sup_coupling_error" in rows:
        notes.append(f"Uniformly in time: the coupling error's maximum over the time grid has "
                     f"slope {fmt_ci(series[3].fit)}, next to {fmt_ci(series[0].fit)} at T.")
    data = {"n": list(ns), **rows, "replicates": [reps[n] for n in ns], "reference_size": N,
            "reference_ratio": ratio}
    return StudyResult("chaos", series[0].fit, data, series, settings, "n (particles)",
                       "distance at T", "the coupling error", *verdict, notes)

_CURVES = ("coupling_error", "w1_particles", "w1_iid_floor", "sup_coupling_error")


def _reference_size(reference, n_max: int) -> int:
    """N: ``reference``, or REFERENCE_FACTOR * n_max; a StudyWarning below MIN_REFERENCE_FACTOR."""
    if reference is None:
        N = REFERENCE_FACTOR * n_max
    else:
        N = check_int(reference, "reference", low=n_max)
    if N < MIN_REFERENCE_FACTOR * n_max:
        warnings.warn(
            f"reference cloud N = {N} is smaller than {MIN_REFERENCE_FACTOR} x n_max = "
            f"{MIN_REFERENCE_FACTOR * n_max}: its own error then adds more than about 6 % to the "
            f"coupling error at n = {n_max} and flattens the fitted slope; the default is "
            f"{REFERENCE_FACTOR} x n_max", StudyWarning, stacklevel=3)
    return N


def _measure(drift, start: Start, ns, reps: dict, w1_replicates: int | None,
             ref_cfg: _ReferenceUnit, seed: int, sid: int, *, progress, client, cache,
             sup_time: bool = False):
    """Run the study's units: ``({curve key: one replicate array per n}, reference ratio, d)``."""
    from ..wasserstein import SortedReference, unit_directions

    # the reference and its half-split error are units of their own, cached like the others
    # (a rerun skips them too) and run where the others run (concurrent studies then build
    # their references on different workers)
    sub = progress if hasattr(progress, "update") else False
    ref = run_units(_reference_unit, [Unit.make(seed, sid, (0,), ref_cfg)],
                    shared=(drift, start), client=client, cache=cache, progress=sub)[0]
    final = ref.trajectory.final
    N, d = final.shape
    dirs = np.ones((1, 1)) if d == 1 else unit_directions(rng(seed, sid, 1), N_DIRECTIONS, d)
    probe = None if isinstance(drift, FeatureDrift) else np.ascontiguousarray(final[: min(N, 256)])
    shared = _ChaosShared(drift, start, ref, SortedReference.build(final, dirs), probe)
    w1_reps = {n: r if w1_replicates is None else min(r, w1_replicates) for n, r in reps.items()}
    block_list = list(blocks(ns, reps))
    units = [Unit.make(seed, sid, (2, j, b),
                       _ChaosUnit(n, c, n == ns[-1], max(0, min(c, w1_reps[n] - r0)), sup_time))
             for j, b, n, r0, c in block_list]
    out = run_units(_chaos_unit, units, shared=shared, client=client, cache=cache,
                    progress=progress, desc="chaos study")
    rows = {key: gather(block_list, out, name, len(ns))
            for key, name in zip(_CURVES, ("ce", "w1p", "w1c", "sup"), strict=True)
            if name != "sup" or sup_time}
    fluct = np.concatenate([o["fluct"] for o in out if o["fluct"] is not None])
    split = run_units(_half_split_unit, [Unit.make(seed, sid, (4,), None)],
                      shared=(drift, probe, final), client=client, cache=cache,
                      progress=sub)[0]
    return rows, math.sqrt(split / float(np.mean(fluct))), d
