"""The studies' rate fits: :func:`poc.rates.fit_rate`, also on ragged replicate sets.

With ``replicates`` a mapping (e.g. :func:`poc.studies.constant_work`) the
points carry different numbers of replicates; :func:`fit_curve` then gives the
same estimate as ``fit_rate`` (OLS of the log means) with a bootstrap that
resamples within each point.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..rates import RateFit, fit_rate
from ..rates import _slopes as _ols
from .inputs import rng

__all__: list[str] = []


def curve_seeds(fit_seed, n_curves: int, seed: int, sid: int) -> list:
    """Bootstrap seeds of a study's curves.

    ``fit_seed`` None gives curve q the stream ``SeedSequence([seed, sid, 3, q])``; otherwise it
    is a sequence of one seed per curve (None, int or Generator, as :func:`poc.rates.fit_rate`).
    """
    if fit_seed is None:
        return [rng(seed, sid, 3, q) for q in range(n_curves)]
    if isinstance(fit_seed, str) or not isinstance(fit_seed, Sequence):
        raise TypeError(f"fit_seed must be None or a sequence of {n_curves} seeds (one per "
                        f"curve), got {type(fit_seed).__name__}")
    if len(fit_seed) != n_curves:
        raise ValueError(f"fit_seed must hold one seed per curve ({n_curves}), got "
                         f"{len(fit_seed)}")
    return list(fit_seed)


def fit_curve(x, rows: list[np.ndarray], seed) -> RateFit:
    """:func:`poc.rates.fit_rate` when every x has as many replicates; otherwise the same
    estimate (OLS of log means) with a bootstrap resampling within each x."""
    sizes = {len(r) for r in rows}
    if len(sizes) == 1:
        return fit_rate(np.asarray(x, float), np.stack(rows), seed=seed)
    return _fit_ragged(np.asarray(x, float), rows, seed)


def _fit_ragged(x: np.ndarray, rows: list[np.ndarray], seed, *, level: float = 0.95,
                n_boot: int = 2000) -> RateFit:
    from scipy.stats import norm
    from scipy.stats import t as student_t

    for r in rows:
        if len(r) < 2 or np.any(~np.isfinite(r)) or np.any(r <= 0):
            raise ValueError("every x needs >= 2 positive finite replicates for a log-log fit")
    lx = np.log(x)
    means = np.array([r.mean() for r in rows])
    s, b = _ols(lx, np.log(means)[None, :])
    gen = np.random.default_rng(seed)
    boot_means = np.empty((n_boot, len(rows)))
    for j, r in enumerate(rows):
        idx = gen.integers(0, len(r), size=(n_boot, len(r)))
        boot_means[:, j] = r[idx].mean(axis=1)
    boot = _ols(lx, np.log(boot_means))[0]
    # expanded percentile level (as fit_rate), with per-x replicate counts
    c = lx - lx.mean()
    c = c / float(c @ c)
    rs = np.array([len(r) for r in rows], float)
    wv = c**2 * np.array([r.var(ddof=1) for r in rows]) / (rs * means**2)
    adj = level
    if float(wv.sum()) > 0:
        nu = float(wv.sum()) ** 2 / float(np.sum(wv**2 / (rs - 1)))
        r_eff = float(np.sum(wv * rs) / wv.sum())
        z = math.sqrt(r_eff / (r_eff - 1)) * float(student_t.ppf(0.5 * (1 + level), nu))
        adj = float(2 * norm.cdf(z) - 1)
    lo, hi = np.quantile(boot, [0.5 * (1 - adj), 0.5 * (1 + adj)])
    return RateFit(slope=float(s[0]), intercept=float(b[0]), ci=(float(lo), float(hi)),
                   level=level, n_boot=n_boot, x=x.copy(), y_mean=means)


def fmt_ci(fit: RateFit) -> str:
    """``"+0.123 [+0.100, +0.150]"``: a slope and its interval."""
    return f"{fit.slope:+.3f} [{fit.ci[0]:+.3f}, {fit.ci[1]:+.3f}]"
