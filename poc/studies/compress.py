"""The compress study: best-k error and prunable fraction of the final cloud against n
(:func:`compress_study`)."""

from __future__ import annotations

import math
import numbers
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import ParameterTypeError, check_int, check_real
from ..units import Unit, master_seed, run_units, study_id
from .fitting import curve_seeds, fit_curve, fmt_ci
from .inputs import (
    Start,
    blocks,
    check_horizon,
    check_sweep,
    gather,
)
from .result import Series, StudyResult

__all__ = ["THEOREM_EPSILONS", "compress_study", "theorem_step"]

#: The epsilon grid of ``P(error <= epsilon)`` reported by default.
THEOREM_EPSILONS = (0.5, 0.3, 0.2)


@dataclass(frozen=True)
class _CompressUnit:
    n: int
    count: int
    keep_norms: bool
    step: float
    n_steps: int


@dataclass(frozen=True, eq=False)
class _CompressShared:
    drift: Any
    start: Start
    kappa: tuple
    threshold: float
    kw: dict


def _compress_unit(cfg: _CompressUnit, ss, sh: _CompressShared) -> dict:
    from ..compress import best_k_error, prunable_fraction
    from ..particles import simulate

    err = np.empty((cfg.count, len(sh.kappa)))
    pf = np.empty(cfg.count)
    loss = np.full(cfg.count, np.nan)
    norms = []
    has_loss = hasattr(sh.drift, "loss")
    for i, child in enumerate(ss.spawn(cfg.count)):
        rng = np.random.default_rng(child)
        W = simulate(sh.drift, sh.start(cfg.n, rng), step=cfg.step, n_steps=cfg.n_steps,
                     seed=rng, progress=False, **sh.kw).final
        err[i] = best_k_error(W, list(sh.kappa))
        pf[i] = prunable_fraction(W, sh.threshold)
        if has_loss:
            loss[i] = sh.drift.loss(W)
        if cfg.keep_norms:
            norms.append(np.linalg.norm(W, axis=1))
    return {"err": err, "pf": pf, "loss": loss, "norms": norms}


def theorem_step(n: int, alpha: float, T: float) -> tuple[int, float]:
    r"""The compression theorem's step at width n: ``K_n`` steps of ``eta_n = T / K_n``.

    Parameters
    ----------
    n : int
        Width (particles), ``>= 1``.
    alpha : float
        Noise index in (0, 2].
    T : float
        Horizon, ``> 0``.

    Returns
    -------
    (K_n, eta_n) : tuple of int and float
        ``K_n = ceil(T n^(alpha/2 + 1))`` and ``eta_n = T / K_n``, so that
        ``eta_n <= n^(-alpha/2 - 1)``, the step condition of the compression
        theorem (Wan, Barsbey, Zaidi, Simsekli 2024, arXiv 2306.08125;
        docs/theory.rst, #theory-theorem), and ``K_n eta_n = T``.

    Raises
    ------
    ValueError
        Out-of-range ``n``, ``alpha`` or ``T``.
    """
    n = check_int(n, "n", low=1)
    alpha = check_real(alpha, "alpha", low=0.0, high=2.0, low_open=True)
    T = check_real(T, "T", low=0.0, low_open=True)
    k = math.ceil(T * float(n) ** (alpha / 2.0 + 1.0))
    return k, T / k


def _time_grid(T, step, n_steps, ns, alpha) -> tuple[float, float | str, dict[int, tuple[float, int]]]:
    """``(T, step, {n: (step, step count)})`` from the horizon and the step.

    ``step="theorem"`` gives every n its own step (:func:`theorem_step`). ``n_steps`` is the
    deprecated spelling (with ``step``, instead of ``T``).
    """
    if isinstance(step, str):
        if step != "theorem":
            raise ValueError(f"step must be a positive number or 'theorem', got {step!r}")
        if n_steps is not None:
            raise TypeError("n_steps cannot be given with step='theorem' (each n runs "
                            "K_n = ceil(T n^(alpha/2+1)) steps)")
        if T is None:
            raise ValueError("step='theorem' needs the horizon T: each n runs "
                             "K_n = ceil(T n^(alpha/2+1)) steps of T / K_n")
        T = check_real(T, "T", low=0.0, low_open=True)
        grid = {}
        for n in ns:
            k, eta = theorem_step(n, alpha, T)
            grid[n] = (eta, k)
        return T, "theorem", grid
    if isinstance(step, bool) or not isinstance(step, numbers.Real):
        raise ParameterTypeError(f"step must be a positive number or 'theorem', got {step!r} of "
                                 f"type {type(step).__name__}")
    if n_steps is not None:
        if T is not None:
            raise TypeError("compress_study takes the horizon T and the step; n_steps (the old "
                            "spelling of T / step) cannot be given with T")
        step = check_real(step, "step", low=0.0, low_open=True)
        n_steps = check_int(n_steps, "n_steps", low=1)
        warnings.warn("compress_study(step=..., n_steps=...) is deprecated: give the horizon "
                      f"instead, compress_study(T={step * n_steps:g}, step={step:g}) (T = step * "
                      "n_steps; the step count is derived)", DeprecationWarning, stacklevel=3)
        T = step * n_steps
    elif T is None:
        raise TypeError("compress_study() missing the keyword argument T (the horizon; the "
                        "step count is T / step)")
    else:
        T, step, n_steps = check_horizon(T, step)
    return T, step, {n: (step, n_steps) for n in ns}


def _tails(block_list, out, n_max_index: int) -> tuple[list, np.ndarray]:
    """The row norms of every replicate at n_max, and their Hill estimates."""
    from ..compress import hill

    norms = [a for (j, *_), o in zip(block_list, out, strict=True) if j == n_max_index
             for a in o["norms"]]
    return norms, np.array([hill(a) for a in norms])


def compress_study(drift, x0, *, alpha: float, sigma: float, T: float | None = None,
                   step: float | str, ns, replicates, kappa=(0.1, 0.25), noise: str = "iid",
                   threshold: float = 0.1, batch_size: int | None = None, delta: float = 0.1,
                   epsilons=THEOREM_EPSILONS, seed=0, fit_seed=None,
                   expected: float | None = None, tolerance: float = 0.05,
                   relation: str = "equal", progress: bool | None = None, client=None,
                   cache=None, n_steps: int | None = None) -> StudyResult:
    r"""Compressibility of the final cloud: best-k error and prunable fraction against n.

    Each replicate simulates the n-particle system (:func:`poc.simulate`) to
    the horizon T and measures on the final cloud Theta (n, d), one row per
    particle (a column of the network's weights):

    * the relative best-k error ``||Theta - Theta^(kappa n)||_F / ||Theta||_F``
      (keep the ``ceil(kappa n)`` rows of largest norm) for every kappa; the
      main curve is that of the first kappa;
    * the paper's prunable fraction (largest fraction of rows removable with
      squared relative error ``<= threshold``);
    * at the largest n, the row norms and their Hill estimate of the tail
      index (``k = sqrt(n)`` upper order statistics), per replicate.

    For rows with i.i.d. norms of tail index alpha < 2 the best-k error decays
    like ``n^(1/2 - 1/alpha)``; light tails give no decay. As the compression
    theorem is about probability (docs/theory.rst, #theory-theorem), the study
    also reports per n and kappa the ``(1 - delta)``-quantile of the error and
    ``P(error <= epsilon)`` (:mod:`poc.probability`); ``step="theorem"`` runs
    each n at the theorem's step.

    Parameters
    ----------
    drift : poc.drifts.Drift
    x0 : callable or array_like, shape (d,)
    alpha : float
        Noise index in (0, 2].
    sigma : float
        Noise scale ``>= 0`` (0: no noise).
    T, step : float, and float or "theorem"
        Horizon and Euler step dividing ``T``; ``step="theorem"``: at each n,
        ``K_n = ceil(T n^(alpha/2 + 1))`` steps of ``T / K_n`` (:func:`theorem_step`).
    ns, replicates
        As in :func:`chaos_study`.
    kappa : float or sequence of float, optional
        Kept fractions in (0, 1].
    noise : {"iid", "isotropic", "neuron"}, optional
    threshold : float, optional
        Error budget of the prunable fraction (default 0.1, the paper's).
    batch_size : int, optional
        Minibatch size (noisy SGD) for a MeanFieldNetwork drift.
    delta, epsilons : float and sequence of float, optional
        Report the ``(1 - delta)``-quantile, delta in (0, 1) (default 0.1), and
        ``P(error <= epsilon)`` for each epsilon > 0 (default 0.5, 0.3, 0.2).
    seed, fit_seed, expected, tolerance, relation, progress, client, cache
        As in :func:`chaos_study` (one curve per kappa).
    n_steps : int, optional
        Deprecated: ``step=h, n_steps=K`` is ``T=h * K, step=h`` (a DeprecationWarning
        says so).

    Returns
    -------
    StudyResult
        Curves (:meth:`~StudyResult.curve`): ``"best_k_error[<kappa>]"`` per
        kappa, e.g. ``"best_k_error[0.1]"``, the first kappa's the main one.
        ``data``: ``n``; ``kappa``; ``best_k_error`` (per kappa, ``"0.1"``,
        one replicate array per n); ``prunable_fraction`` (one replicate
        array per n); ``loss`` (networks only, one replicate array per n);
        ``norms_at_n_max`` (per replicate at n_max, the n_max row norms; not
        in :meth:`~StudyResult.to_dict`); ``hill`` (per replicate at n_max,
        the Hill estimate of those norms); ``replicates``, ``n_steps``, ``step``
        (per n); ``delta``, ``epsilons``; ``quantile`` (per kappa: ``q``, ``low``,
        ``high`` per n, 95 % interval); ``probability`` (per kappa and epsilon,
        e.g. ``["0.25"]["0.3"]``: ``p``, ``low``, ``high``, ``successes`` per n).

    Raises
    ------
    ValueError, TypeError
        Bad ``ns``, ``replicates < 2``, bad x0, kappa outside (0, 1], a ``step`` neither
        dividing ``T`` nor ``"theorem"`` (which needs ``T``), ``delta`` outside (0, 1).
    """
    from .._threads import serial_blas

    drift, start, alpha, sigma, ns, reps, noise, verdict = check_sweep(
        drift, x0, alpha, sigma, ns, replicates, noise, (expected, tolerance, relation))
    T, step, grid = _time_grid(T, step, n_steps, ns, alpha)
    kap, delta, eps = _check_levels(kappa, delta, epsilons)
    threshold = check_real(threshold, "threshold", low=0.0, low_open=True)
    seed = master_seed(seed)
    sid = study_id("compress_study")
    fit_seeds = curve_seeds(fit_seed, len(kap), seed, sid)
    sh = _CompressShared(drift, start, kap, threshold, {"alpha": alpha, "sigma": sigma,
                                                         "noise": noise, "batch_size": batch_size})
    block_list = list(blocks(ns, reps))
    units = [Unit.make(seed, sid, (2, j, b), _CompressUnit(n, c, n == ns[-1], *grid[n]))
             for j, b, n, _, c in block_list]
    with serial_blas():
        out = run_units(_compress_unit, units, shared=sh, client=client, cache=cache,
                        progress=progress, desc="compress study")

    err, pf, loss = (gather(block_list, out, name, len(ns)) for name in ("err", "pf", "loss"))
    norms, hills = _tails(block_list, out, len(ns) - 1)
    x = np.asarray(ns, float)
    series = []
    for q, (k, s) in enumerate(zip(kap, fit_seeds, strict=True)):
        rows = [e[:, q] for e in err]
        series.append(Series(f"best-k error, kappa = {k:g}", x, rows, fit_curve(x, rows, s),
                             f"best_k_error[{k:g}]"))
    data, notes = _data_and_notes(ns, kap, series, pf, loss if hasattr(drift, "loss") else None,
                                  norms, hills, reps, threshold, alpha)
    notes += _add_probabilities(data, series, grid, delta, eps, step)
    settings = {"drift": repr(drift), "x0": start.describe(), "alpha": alpha, "sigma": sigma, "T": T,
                "step": step, "n_steps": grid[ns[-1]][1], "noise": noise, "ns": list(ns), "kappa": list(kap),
                "threshold": threshold, "batch_size": batch_size, "delta": delta, "seed": seed}
    return StudyResult("compress", series[0].fit, data, series, settings, "n (particles)",
                       "relative best-k error", f"the best-k error (kappa = {kap[0]:g})", *verdict,
                       notes)


def _data_and_notes(ns, kap, series, pf, loss, norms, hills, reps, threshold, alpha):
    """The ``data`` of a compress study and its plain-words notes."""
    notes = [
        "Prunable fraction (squared relative error <= " + f"{threshold:g}): "
        + ", ".join(f"{p.mean():.3f}" for p in pf) + f" for n = {', '.join(map(str, ns))}.",
        f"Hill tail index of the row norms at n = {ns[-1]}: {hills.mean():.2f} +- "
        f"{hills.std():.2f} over replicates (noise alpha = {alpha:g}; below 2 means heavy tails).",
    ]
    if len(kap) > 1:
        notes.insert(0, "Other kept fractions: " + "; ".join(
            f"kappa = {k:g}: slope {fmt_ci(s.fit)}" for k, s in zip(kap[1:], series[1:],
                                                                  strict=True)) + ".")
    data = {"n": list(ns), "kappa": list(kap),
            "best_k_error": {f"{k:g}": s.rows for k, s in zip(kap, series, strict=True)},
            "prunable_fraction": pf, "hill": hills, "replicates": [reps[n] for n in ns]}
    if loss is not None:
        data["loss"] = loss
    data["norms_at_n_max"] = norms
    return data, notes


def _check_levels(kappa, delta, epsilons) -> tuple[tuple, float, tuple]:
    """Validated kept fractions in (0, 1], delta in (0, 1) and error levels > 0."""
    kap = tuple(float(k) for k in np.atleast_1d(np.asarray(kappa, dtype=float)))
    for k in kap:
        check_real(k, "kappa", low=0.0, high=1.0, low_open=True)
    delta = check_real(delta, "delta", low=0.0, high=1.0, low_open=True, high_open=True)
    eps = tuple(check_real(e, "epsilons", low=0.0, low_open=True)
                for e in np.atleast_1d(np.asarray(epsilons, dtype=float)).tolist())
    return kap, delta, eps


def _add_probabilities(data: dict, series, grid, delta: float, eps, step) -> list[str]:
    """Put the step grid, quantiles and probabilities into ``data``; return their notes."""
    ns, kap = data["n"], data["kappa"]
    data.update(n_steps=[grid[n][1] for n in ns], step=[grid[n][0] for n in ns], delta=delta,
                epsilons=list(eps), **_probabilities(series, kap, delta, eps))
    return _probability_notes(ns, data, kap[0], delta, eps, step)


def _probabilities(series, kap, delta: float, eps) -> dict:
    """Per kappa: the (1 - delta)-quantile per n with its interval, and P(error <= eps)."""
    from ..probability import quantile_interval, wilson_interval

    quant, prob = {}, {}
    for k, s in zip(kap, series, strict=True):
        qi = np.array([quantile_interval(r, 1.0 - delta) for r in s.rows])
        quant[f"{k:g}"] = {"q": qi[:, 0], "low": qi[:, 1], "high": qi[:, 2]}
        trials = [r.size for r in s.rows]
        prob[f"{k:g}"] = {}
        for e in eps:
            succ = [int(np.count_nonzero(r <= e)) for r in s.rows]
            p, lo, hi = wilson_interval(succ, trials)
            prob[f"{k:g}"][f"{e:g}"] = {"p": p, "low": lo, "high": hi, "successes": succ}
    return {"quantile": quant, "probability": prob}


def _probability_notes(ns, data, k0: float, delta: float, eps, step) -> list[str]:
    """The quantiles and probabilities of the first kappa, per n, in words."""
    q = data["quantile"][f"{k0:g}"]

    def ci(lo, hi):
        return f"[{lo:.3f}, {hi:.3f}]" if math.isfinite(hi) else f"[{lo:.3f}, inf)"

    head = ("At the theorem's step (eta_n = T / ceil(T n^(alpha/2+1)); K_n = "
            + ", ".join(map(str, data["n_steps"])) + " steps). " if step == "theorem" else "")
    notes = [head + f"{1 - delta:g}-quantile of the best-k error (kappa = {k0:g}) over the "
             "replicates, with its 95 % order-statistic interval: "
             + ", ".join(f"n = {n}: {a:.3f} {ci(lo, hi)}"
                         for n, a, lo, hi in zip(ns, q["q"], q["low"], q["high"], strict=True))
             + "."]
    for e in eps:
        pr = data["probability"][f"{k0:g}"][f"{e:g}"]
        notes.append(f"P(error <= {e:g}) (kappa = {k0:g}, Wilson 95 %): " + ", ".join(
            f"n = {n}: {p:.2f} [{lo:.2f}, {hi:.2f}]"
            for n, p, lo, hi in zip(ns, pr["p"], pr["low"], pr["high"], strict=True)) + ".")
    return notes
