"""Check ``noise``: the alpha-stable samplers draw the laws they claim.

Claim. ``poc.sample_stable(alpha, ...)`` draws ``scipy.stats.levy_stable(alpha, 0)``;
the positive (alpha/2)-stable subordinator draws ``levy_stable(alpha/2, 1)``;
the isotropic kind satisfies ``E cos(<u, X>) = exp(-|u|^alpha)`` for every
``u`` in ``R^3`` (rotation invariance and the right index at once); the
neuron kind repeats one stable scalar along each row.

Method.
* One-sample Kolmogorov-Smirnov tests against scipy's exact CDF. scipy's
  ``levy_stable.cdf`` is slow point by point (:ref:`ug-performance-timings`), so it is
  tabulated once per law on ~1200 points and interpolated monotonically
  (PCHIP; interpolation error < 1e-6, far below the KS resolution
  ``1/sqrt(n)``); see :func:`stable_cdf` for the two regions where scipy's
  CDF is wrong and identities replace it.
  A case passes when ``p > 1e-3``: with ~12 KS tests, a correct sampler fails
  any of them with probability ~1 %, and the seeds are fixed.
* For the isotropic kind, the empirical characteristic function on 24 vectors
  ``u`` (8 random directions, 3 norms) against ``exp(-|u|^alpha)``, as
  z-scores with the sample standard error. Pass when ``max |z| < 4.5``
  (two-sided ``P(|Z| > 4.5) = 7e-6`` per point). The "iid" kind, whose
  characteristic function is ``exp(-sum_j |u_j|^alpha)``, must *fail* the same
  test: this control shows the test can tell the two apart.

Work units (:mod:`poc.units`). The 13 sampler tests are grouped by the law
they test, 9 laws, and each law is a work unit, :class:`SamplerLaw`, 1-3 s
(its CDF table, built once, and its tests' samples and statistics), with seed
words ``(seed, study id, law index)``: the laws run serially or on a Dask
client (``poc validate --scheduler``) with the same numbers, and are stored in
the unit cache when there is one. Only the figure is drawn in-process.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from scipy import interpolate, stats

from ..noise import _noise, _positive_stable, _stable
from ..units import Unit, run_units, study_id
from ._base import Case, Context

NAME = "noise"
TITLE = ("The samplers draw scipy's levy_stable laws; the isotropic kind has characteristic "
         "function exp(-|u|^alpha); the neuron kind has constant rows.")

KS_PVALUE_MIN = 1e-3  # ~12 KS tests: a correct sampler fails one with probability ~1 %
Z_MAX = 4.5  # two-sided P(|Z| > 4.5) = 7e-6 per CF point, ~2e-4 over all points of a run


@functools.lru_cache(maxsize=16)
def stable_cdf(alpha: float, beta: float = 0.0):
    """Return a fast CDF of scipy's ``levy_stable(alpha, beta)`` (vectorised callable).

    This is the independent reference the samplers (this check), the
    calibration check and the tests are judged against: it evaluates scipy's
    ``levy_stable``, not :mod:`poc.stable` (the library's own stable law,
    which the Wasserstein estimators and the verdicts use), so that an error
    in either shows as a disagreement. It is built once per law in each
    process (several sampler tests share a law) and cached.

    ``beta`` is 0 (symmetric) or 1 with ``alpha < 1`` (positive). scipy's CDF
    is tabulated for ``0.01 <= |x| <= 1e3`` and interpolated with PCHIP
    (monotone). Two regions where scipy's CDF is known to be wrong are
    filled from identities instead:

    * ``|x| < 0.01`` (symmetric): scipy returns exactly 0.5 there (its
      "x near zeta" shortcut); we use ``F(x) = 1/2 + int_0^x f`` with scipy's
      (accurate) density and Simpson's rule, error ``O(x^5)``.
    * ``|x| > 1e3``: scipy's tail can collapse to 0 (scipy issue #17194); we
      use the stable tail ``P(X > x) ~ c_alpha (1 + beta) x^-alpha``,
      ``c_alpha = Gamma(alpha) sin(pi alpha / 2) / pi`` (Nolan 2020, Thm 1.2),
      whose relative error there is ``O(x^-alpha)``.

    Accurate to ~1e-6 for alpha >= 0.5 (tests compare it with a Gil-Pelaez
    inversion of the characteristic function); for smaller alpha the mass
    beyond 1e3 is large and the tail formula's error is no longer negligible.
    """
    law = stats.levy_stable(alpha, beta)
    x_lo, x_hi = 0.01, 1e3
    pos = np.geomspace(x_lo, x_hi, 700)
    c_tail = math.gamma(alpha) * math.sin(math.pi * alpha / 2) / math.pi if alpha < 2 else 0.0
    if beta == 1.0:
        grid = np.concatenate([[0.0], np.geomspace(1e-4, x_hi, 1200)])
        table = law.cdf(grid)
        table[0] = 0.0
    else:
        near = np.linspace(-x_lo, x_lo, 9)[1:-1]
        f0, f_half, f_end = law.pdf(0.0), law.pdf(near / 2), law.pdf(near)
        grid = np.concatenate([-pos[::-1], near, pos])
        table = np.concatenate([law.cdf(-pos[::-1]), 0.5 + near / 6 * (f0 + 4 * f_half + f_end),
                                law.cdf(pos)])
    with np.errstate(divide="ignore", over="ignore"):  # flat stretches of the table: zero slopes
        interp = interpolate.PchipInterpolator(grid, table, extrapolate=False)

    def cdf(x):
        x = np.asarray(x, float)
        out = interp(x)
        right = x > x_hi
        out[right] = 1.0 - c_tail * (1.0 + beta) * x[right] ** -alpha
        left = x < grid[0]
        if beta == 1.0:
            out[left] = 0.0
        else:
            out[left] = c_tail * np.abs(x[left]) ** -alpha
        return out

    return cdf


def _ks_case(name: str, x: np.ndarray, cdf) -> Case:
    res = stats.kstest(x, cdf)
    ok = bool(res.pvalue > KS_PVALUE_MIN)
    return Case(name=name, passed=ok,
                detail=f"KS D = {res.statistic:.4f}, p = {res.pvalue:.3g} (pass if p > {KS_PVALUE_MIN:g}),"
                       f" n = {x.size}",
                values={"ks_statistic": float(res.statistic), "p_value": float(res.pvalue),
                        "n": int(x.size)})


def _cf_zscores(x: np.ndarray, us: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    c = np.cos(x @ us.T)  # (n, k)
    emp = c.mean(axis=0)
    se = c.std(axis=0, ddof=1) / math.sqrt(x.shape[0])
    exact = np.exp(-np.linalg.norm(us, axis=1) ** alpha)
    return emp, exact, (emp - exact) / se


@dataclass(frozen=True)
class SamplerCase:
    """One sampler test.

    ``kind`` is "ks" (symmetric stable), "pos" (positive stable), "cf"
    (isotropic kind, with the iid control and a marginal KS test) or "neuron";
    ``n`` the sample size; ``keep`` returns the sample (or the CF points) for
    the figure.
    """

    kind: str
    alpha: float
    n: int
    keep: bool = False


def sampler_test(u: SamplerCase, ss: np.random.SeedSequence) -> dict:
    """The cases of one sampler test, and what the figure needs of it (``"figure"``)."""
    rng = np.random.default_rng(ss)
    a, n = u.alpha, u.n
    cases, fig = [], None
    if u.kind == "ks":
        x = _stable(rng, a, n)
        fig = x if u.keep else None
        cases.append(_ks_case(f"stable alpha={a:g} vs levy_stable", x, stable_cdf(a)))
    elif u.kind == "pos":
        x = _positive_stable(rng, a, n)
        cases.append(_ks_case(f"positive stable alpha={a:g} vs levy_stable(beta=1)", x,
                              stable_cdf(a, 1.0)))
    elif u.kind == "cf":
        g_dirs, g_iid = (np.random.default_rng(s) for s in ss.spawn(2))
        us = g_dirs.standard_normal((8, 3))
        us /= np.linalg.norm(us, axis=1, keepdims=True)
        us = np.concatenate([r * us for r in (0.3, 1.0, 2.0)])
        iso = _noise(rng, a, n, 3, "isotropic")
        emp, exact, z = _cf_zscores(iso, us, a)
        zmax = float(np.max(np.abs(z)))
        cases.append(Case(
            name=f"isotropic CF alpha={a:g}, d=3", passed=zmax < Z_MAX,
            detail=f"max |z| = {zmax:.2f} over {len(us)} vectors u (pass if < {Z_MAX}), n = {n}",
            values={"max_abs_z": zmax, "n": n}))
        iid = _noise(g_iid, a, n, 3, "iid")
        emp_iid, _, z_iid = _cf_zscores(iid, us, a)
        zmax_iid = float(np.max(np.abs(z_iid)))
        cases.append(Case(
            name=f"control: iid kind fails the isotropic CF, alpha={a:g}", passed=zmax_iid >= Z_MAX,
            detail=f"max |z| = {zmax_iid:.1f} (the test must reject it: pass if >= {Z_MAX})",
            values={"max_abs_z": zmax_iid}))
        cases.append(_ks_case(f"isotropic marginal alpha={a:g} vs levy_stable", iso[:, 0],
                              stable_cdf(a)))
        fig = (us, emp, exact, a, emp_iid) if u.keep else None
    elif u.kind == "neuron":
        x = _noise(rng, a, n, 4, "neuron")
        const = bool(np.all(x == x[:, :1]))
        cases.append(Case(name=f"neuron kind rows constant, alpha={a:g}", passed=const,
                          detail="every row repeats one scalar" if const else
                          "rows are not constant"))
        cases.append(_ks_case(f"neuron kind column alpha={a:g} vs levy_stable", x[:, 0],
                              stable_cdf(a)))
    else:
        raise ValueError(f"kind must be one of 'ks', 'pos', 'cf', 'neuron', got {u.kind!r}")
    return {"cases": cases, "figure": fig}


@dataclass(frozen=True)
class SamplerLaw:
    """The sampler tests against one law: a work unit (:mod:`poc.units`).

    Its tests share the law's CDF table (about a second to build from scipy),
    so that a cluster builds each table once; test k draws from child k of
    the unit's SeedSequence.
    """

    tests: tuple[SamplerCase, ...]


def sampler_unit(u: SamplerLaw, ss: np.random.SeedSequence, shared=None) -> list[dict]:
    """:func:`sampler_test` for each test of the law, in order."""
    return [sampler_test(t, child) for t, child in zip(u.tests, ss.spawn(len(u.tests)), strict=True)]


FIGURE_ALPHAS = (1.0, 1.5, 1.8, 2.0)  # the densities and tails drawn
FIGURE_CF_ALPHA = 1.5


SIZES = {"quick": {"n_ks": 20_000, "n_cf": 100_000},
         "full": {"n_ks": 200_000, "n_cf": 1_000_000}}


def run(ctx: Context) -> list[Case]:
    n_ks, n_cf = SIZES[ctx.mode]["n_ks"], SIZES[ctx.mode]["n_cf"]
    alphas = [0.8, 1.0, 1.3, 1.5, 1.8, 2.0]
    cf_alphas = [1.3, 1.5, 1.8]
    work = ([SamplerCase("ks", a, n_ks, a in FIGURE_ALPHAS) for a in alphas]
            + [SamplerCase("pos", a / 2, n_ks) for a in cf_alphas]
            + [SamplerCase("cf", a, n_cf, a == FIGURE_CF_ALPHA) for a in cf_alphas]
            + [SamplerCase("neuron", 1.5, n_ks)])
    by_law: dict[tuple, list[int]] = {}  # (alpha, positive) -> indices of its tests in `work`
    for i, w in enumerate(work):
        by_law.setdefault((w.alpha, w.kind == "pos"), []).append(i)
    units = [Unit.make(ctx.seed, study_id(NAME), (k,), SamplerLaw(tuple(work[i] for i in idx)))
             for k, idx in enumerate(by_law.values())]
    per_law = run_units(sampler_unit, units, client=ctx.client, cache=ctx.cache,
                        progress=ctx.units_bar(), desc="noise")
    out: list = [None] * len(work)
    for idx, results in zip(by_law.values(), per_law, strict=True):
        for i, r in zip(idx, results, strict=True):
            out[i] = r
    cases = [c for o in out for c in o["cases"]]
    samples = {}
    for w, o in zip(work, out, strict=True):
        if w.kind == "ks" and w.keep:
            samples[w.alpha] = o["figure"]
        elif w.kind == "cf" and w.keep:
            us, emp, exact, a, emp_iid = o["figure"]
            samples["cf"], samples["cf_iid"] = (us, emp, exact, a), emp_iid
    _figure(ctx, samples, cases)
    return cases


def _figure(ctx: Context, samples: dict, cases: list[Case]) -> None:
    from ..plotting import new_figure, verdict_badge

    fig, axes = new_figure(1, 3, width=4.6, height=3.9)
    ax_pdf, ax_tail, ax_cf = axes[0]
    palette = ["#0072B2", "#E69F00", "#009E73", "#CC79A7"]
    for a, col in zip(FIGURE_ALPHAS, palette, strict=True):
        x = samples[a]
        bins = np.linspace(-8, 8, 81)
        h, e = np.histogram(x, bins=bins)
        mid = 0.5 * (e[1:] + e[:-1])
        dens = h / (x.size * np.diff(e))
        ax_pdf.plot(mid[h > 0], dens[h > 0], ".", color=col, markersize=4)
        xx = np.linspace(-8, 8, 161)
        ax_pdf.plot(xx, stats.levy_stable(a, 0).pdf(xx), "-", color=col, lw=1.2,
                    label=f"alpha = {a:g}")
        xs = np.sort(np.abs(x))[::-1]
        surv = np.arange(1, xs.size + 1) / xs.size
        keep = (xs > 0.5) & (surv > 10 / xs.size)
        ax_tail.loglog(xs[keep][::7], surv[keep][::7], ".", color=col, markersize=3)
        grid = np.geomspace(0.5, xs[keep].max(), 60)
        ax_tail.loglog(grid, 2 * stats.levy_stable(a, 0).sf(grid), "-", color=col, lw=1.2,
                       label=f"alpha = {a:g}" + (" (tail ~ x^-alpha)" if a < 2 else ""))
    ax_pdf.set_yscale("log")
    ax_pdf.set_ylim(1e-4, 1)
    ax_pdf.set(xlabel="x", ylabel="density", title="Density: samples (dots) vs exact (lines)")
    ax_pdf.legend(fontsize=8)
    ax_tail.set(xlabel="x", ylabel="P(|X| > x)", title="Tails: heavier as alpha decreases")
    ax_tail.legend(fontsize=8)

    us, emp, _, a = samples["cf"]
    r = np.linalg.norm(us, axis=1)
    rr = np.linspace(0, 2.1, 100)
    ax_cf.plot(rr, np.exp(-rr**a), "-", color="k", lw=1.2, label=f"exp(-|u|^{a:g})")
    ax_cf.plot(r, emp, "o", color=palette[1], markersize=5, mfc="none",
               label="isotropic kind, 8 directions")
    ax_cf.plot(r, samples["cf_iid"], "x", color=palette[3], markersize=5,
               label="iid kind (not isotropic)")
    ax_cf.set(xlabel="|u|", ylabel="E cos(<u, X>)", title=f"Isotropic noise, d = 3, alpha = {a:g}")
    ax_cf.legend(fontsize=8)
    ok = all(c.passed for c in cases)
    verdict_badge(ax_cf, ok, f"{sum(c.passed for c in cases)}/{len(cases)} cases")
    fig.suptitle("Alpha-stable samplers against scipy.stats.levy_stable", fontsize=11)
    ctx.save_figure(fig, "noise.png")
