"""The alpha-stable samplers draw the laws the theory assumes.

Claim: ``poc.sample_stable(alpha, size)`` draws the symmetric alpha-stable law
S_alpha(1), whose characteristic function is exp(-|u|^alpha) -- the same law as
``scipy.stats.levy_stable(alpha, 0)``. The isotropic noise kind in R^d has
E exp(i<u, X>) = exp(-|u|^alpha) for every u (rotation invariance), while the
"iid" kind, exp(-sum_j |u_j|^alpha), does not.

What is measured, and why this way:

* Kolmogorov-Smirnov tests of 20 000 draws against scipy's exact CDF, for
  alpha in {1.0, 1.5, 1.8, 2.0}. A case passes when p > 1e-3: with several
  tests, a correct sampler fails one of them with probability about 1 %, and
  the seed is fixed.
* The density (histogram) against scipy's, and the tails P(|X| > x), which
  decay like x^(-alpha): the heavy tails that make trained networks compressible.
* The empirical E cos(<u, X>) of the isotropic kind in d = 3, on 8 random
  directions and 3 norms of u, against exp(-|u|^alpha); the iid kind is drawn as
  a control that must miss the curve off the axes.

Run: ``python validation/noise_samplers.py [--out figures] [--seed 0]``. It draws
OUT/noise_samplers.png. ``poc validate noise`` runs the full check (more laws,
the positive subordinator, the neuron kind, z-score verdicts).
"""

import argparse
from pathlib import Path

import numpy as np
from scipy import stats

import poc
from poc.plotting import new_figure

ALPHAS = (1.0, 1.5, 1.8, 2.0)
COLORS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7")
N_DRAWS = 20_000
P_MIN = 1e-3  # several KS tests: a correct sampler fails one with probability ~1 %


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path("figures"))
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    rng = np.random.default_rng(args.seed)

    fig, axes = new_figure(1, 3, width=4.6, height=3.9)
    ax_pdf, ax_tail, ax_cf = axes[0]
    passed = []
    for alpha, color in zip(ALPHAS, COLORS, strict=True):
        x = poc.sample_stable(alpha, N_DRAWS, seed=rng)
        law = stats.levy_stable(alpha, 0.0)
        # scipy's levy_stable.cdf is slow per point: test on a 2000-draw subsample
        ks = stats.kstest(x[:2000], law.cdf)
        passed.append(ks.pvalue > P_MIN)
        print(f"alpha = {alpha:g}: KS p-value {ks.pvalue:.3f} ({'pass' if passed[-1] else 'FAIL'})")

        dens, edges = np.histogram(x, bins=np.linspace(-8, 8, 81), density=True)
        dens *= np.mean((x > -8) & (x < 8))  # density of the whole sample, not of the window
        mid = 0.5 * (edges[1:] + edges[:-1])
        ax_pdf.plot(mid[dens > 0], dens[dens > 0], ".", color=color, markersize=4)
        grid = np.linspace(-8, 8, 161)
        ax_pdf.plot(grid, law.pdf(grid), "-", color=color, lw=1.2, label=f"alpha = {alpha:g}")

        tail = np.sort(np.abs(x))[::-1]
        surv = np.arange(1, tail.size + 1) / tail.size
        keep = (tail > 0.5) & (surv > 10 / tail.size)
        ax_tail.loglog(tail[keep][::7], surv[keep][::7], ".", color=color, markersize=3)
        grid = np.geomspace(0.5, tail[keep].max(), 60)
        ax_tail.loglog(grid, 2 * law.sf(grid), "-", color=color, lw=1.2, label=f"alpha = {alpha:g}")

    # isotropic kind: E cos(<u, X>) depends on |u| only, and equals exp(-|u|^alpha)
    alpha = 1.5
    dirs = rng.standard_normal((8, 3))
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    us = np.concatenate([r * dirs for r in (0.5, 1.0, 1.5)])
    for kind, marker, color in (("isotropic", "o", COLORS[1]), ("iid", "x", COLORS[3])):
        X = poc.sample_noise(alpha, N_DRAWS, 3, kind=kind, seed=rng)
        emp = np.cos(X @ us.T).mean(axis=0)
        ax_cf.plot(np.linalg.norm(us, axis=1), emp, marker, color=color, mfc="none",
                   label=f"{kind} kind, 8 directions")
    r = np.linspace(0, 1.6, 100)
    ax_cf.plot(r, np.exp(-r**alpha), "-", color="k", lw=1.2, label=f"exp(-|u|^{alpha:g})")

    ax_pdf.set(yscale="log", ylim=(1e-4, 1), xlabel="x", ylabel="density",
               title="Density: samples (dots) vs scipy (lines)")
    ax_tail.set(xlabel="x", ylabel="P(|X| > x)", title="Tails ~ x^(-alpha): heavier as alpha falls")
    ax_cf.set(xlabel="|u|", ylabel="E cos(<u, X>)", title=f"Noise in R^3, alpha = {alpha:g}")
    for ax in (ax_pdf, ax_tail, ax_cf):
        ax.legend(fontsize=8)
    args.out.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out / "noise_samplers.png", dpi=130, bbox_inches="tight")
    print(f"{sum(passed)}/{len(passed)} KS tests pass; figure in {args.out / 'noise_samplers.png'}")
    return 0 if all(passed) else 1


if __name__ == "__main__":
    raise SystemExit(main())
