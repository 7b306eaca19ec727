"""Calibration of the compressibility measures: Hill on exact Pareto samples, and every rule that
keeps or removes rows (best_k_error for p = 1, 2 and inf, best_k_approximation, prunable_fraction,
mce_prune, fraction_prune) against a direct sort of the row norms."""

from __future__ import annotations

import math

import numpy as np

from ... import compress
from .._base import Case, Context
from ._common import ALPHA, REL_ROUNDING, Z_MAX, rel


def case_hill_pareto(ctx: Context) -> list[Case]:
    """Mean of 1/hill on exact Pareto samples against 1/alpha (exactly unbiased there)."""
    alpha, n = ALPHA, 1000
    M = 2000 if ctx.quick else 8000
    ks = np.array([10, 30, 100])
    g = ctx.rng(16)
    inv = np.empty((M, ks.size))
    for i in range(M):
        inv[i] = 1.0 / compress.hill(1.0 + g.pareto(alpha, n), ks)
    mean = inv.mean(axis=0)
    se = inv.std(axis=0, ddof=1) / math.sqrt(M)
    z = (mean - 1.0 / alpha) / se
    rel = mean * alpha - 1.0
    # k (1/hill) / (1/alpha) is Gamma(k, 1) for exact Pareto: 1/hill is unbiased; an off-by-one
    # threshold gives relative bias -1/k (-10 % at k = 10, i.e. ~14 se here)
    return [Case(
        name="poc.compress.hill unbiased on exact Pareto samples (1/hill vs 1/alpha)",
        passed=bool(np.all(np.abs(z) < Z_MAX)),
        detail=(f"alpha = {alpha:g}, n = {n}, {M} samples: relative bias of mean(1/hill) at k = "
                + ", ".join(f"{k}: {r:+.4f} (z = {zz:+.2f})" for k, r, zz in zip(ks, rel, z, strict=True))
                + f" (pass if every |z| < {Z_MAX:g})"),
        values={"k": ks, "relative_bias": rel, "z": z, "samples": M})]


def _heavy_rows(ctx: Context, key: int) -> np.ndarray:
    # heavy rows, n not a multiple of 1/kappa; continuous norms, so no ties
    return ctx.rng(key).standard_t(1.5, (997, 4))


def case_best_k_direct(ctx: Context) -> list[Case]:
    """best_k_error (p = 1, 2, inf) against a direct sort of the row norms."""
    W = _heavy_rows(ctx, 17)
    kappas = np.array([0.05, 0.1, 0.25, 0.5])
    norms = np.linalg.norm(W, axis=1)
    desc = np.sort(norms)[::-1]
    worst, parts = 0.0, []
    for p in (1.0, 2.0, math.inf):
        direct = []
        for kap in kappas:
            k = math.ceil(kap * W.shape[0] - 1e-9)
            dropped = desc[k:]  # the rows W - W^(k) keeps
            if p == math.inf:
                direct.append(dropped.max() / desc[0])
            else:
                direct.append((np.sum(dropped ** p) / np.sum(desc ** p)) ** (1.0 / p))
        err = rel(compress.best_k_error(W, kappas, p=p), direct)
        worst = max(worst, err)
        parts.append(f"p={p:g}: {err:.1e}")
    return [Case(
        name="poc.compress.best_k_error (p = 1, 2, inf) vs a direct sort",
        passed=bool(worst <= REL_ROUNDING),
        detail=(f"n = 997 rows, kappa {kappas.tolist()}: relative differences "
                f"{', '.join(parts)} (pass if <= {REL_ROUNDING:g})"),
        values={"relative_difference": worst})]


def case_prune_rules(ctx: Context) -> list[Case]:
    """best_k_approximation, prunable_fraction, mce_prune and fraction_prune vs a direct sort."""
    W = _heavy_rows(ctx, 27)
    n = W.shape[0]
    norms = np.linalg.norm(W, axis=1)
    asc = np.argsort(norms)
    checks = {}
    # best-k approximation keeps the ceil(kappa n) largest rows; its error is best_k_error's
    kap = 0.1
    k = math.ceil(kap * n - 1e-9)
    approx = compress.best_k_approximation(W, kap)
    kept = np.flatnonzero(np.any(approx != 0.0, axis=1))
    checks["best_k_approximation keeps the k largest rows"] = (
        np.array_equal(np.sort(kept), np.sort(asc[-k:])) and np.array_equal(approx[kept], W[kept]))
    err = np.linalg.norm(W - approx) / np.linalg.norm(W)
    checks["its error equals best_k_error"] = rel(err, compress.best_k_error(W, kap)) <= REL_ROUNDING
    # the paper's rule: remove the smallest rows while the squared error stays <= threshold
    thr = 0.1
    sq = norms[asc] ** 2
    j = int(np.sum(np.cumsum(sq) <= thr * sq.sum()))
    removed = compress.mce_prune(W, thr)
    checks["mce_prune removes the j smallest rows"] = np.array_equal(removed, asc[:j])
    checks["prunable_fraction = j / n"] = (compress.prunable_fraction(W, thr, return_count=True) == j
                                           and compress.prunable_fraction(W, thr) == j / n)
    kept_rows = np.setdiff1d(np.arange(n), removed)
    W_pruned = np.zeros_like(W)
    W_pruned[kept_rows] = W[kept_rows]
    checks["mce_prune's squared error is within the threshold"] = (
        np.linalg.norm(W - W_pruned) ** 2 <= thr * np.linalg.norm(W) ** 2)
    frac = 0.3
    checks["fraction_prune removes the int(fraction n) smallest rows"] = np.array_equal(
        np.sort(compress.fraction_prune(W, frac)), np.sort(asc[: int(frac * n)]))
    bad = [name for name, ok in checks.items() if not ok]
    return [Case(
        name="poc.compress pruning rules (best_k_approximation, mce_prune, prunable_fraction, "
             "fraction_prune) vs a direct sort",
        passed=not bad,
        detail=(f"n = {n} heavy rows, kappa {kap:g}, threshold {thr:g} (direct count {j}), "
                f"fraction {frac:g}: "
                + ("all agree" if not bad else "DISAGREE: " + "; ".join(bad))),
        values={"checks": {k: bool(v) for k, v in checks.items()}, "direct_count": j})]
