r"""
Stable laws: heavy tails, alpha = 1 and alpha = 2, and the sampler
==================================================================

The noise of the toolkit is the symmetric :math:`\alpha`-stable law
:math:`S_\alpha(\text{scale})`, with characteristic function
:math:`\exp(-|\text{scale}\, u|^\alpha)` (see :ref:`conv-stable-law`). It is the same law as
``scipy.stats.levy_stable(alpha, 0, scale=scale)``. Two members are familiar:

* :math:`\alpha = 2` is the Gaussian :math:`N(0, 2\,\text{scale}^2)` -- note the variance 2;
* :math:`\alpha = 1` is the Cauchy law.

For :math:`\alpha < 2` the tails are *heavy*: :math:`P(|X| > x) \approx C x^{-\alpha}`, so
moments of order :math:`\alpha` and above are infinite. :func:`poc.sample_stable` draws the
law by the Chambers-Mallows-Stuck method.
"""

# %%
# Draw samples and compare with the exact densities
# -------------------------------------------------
# We draw 200 000 values for three indices with one fixed seed each, and compare their
# histograms with exact densities: the normal and Cauchy laws for alpha = 2 and 1, and scipy's
# ``levy_stable`` density for alpha = 1.5.
import matplotlib.pyplot as plt
import numpy as np
from scipy import stats

import poc

alphas = [1.0, 1.5, 2.0]
samples = {a: poc.sample_stable(a, 200_000, seed=i) for i, a in enumerate(alphas)}
exact = {
    1.0: stats.cauchy(),
    1.5: stats.levy_stable(1.5, 0.0),
    2.0: stats.norm(scale=np.sqrt(2.0)),
}

# %%
# The tails on a log-log scale
# ----------------------------
# The empirical survival function :math:`P(|X| > x)` of each sample is a straight line of
# slope :math:`-\alpha` far out for :math:`\alpha < 2`, and falls off a cliff for the
# Gaussian.
fig, (ax_pdf, ax_tail) = plt.subplots(1, 2, figsize=(10, 4))
grid = np.linspace(-6, 6, 121)
bins = np.linspace(-6, 6, 81)
colors = {1.0: "C3", 1.5: "C0", 2.0: "C2"}
for a in alphas:
    # normalise by all draws, not only those inside the plotted range: with heavy tails many
    # fall outside it, and density=True would lift the histogram above the density
    w = np.full(samples[a].size, 1.0 / (samples[a].size * (bins[1] - bins[0])))
    ax_pdf.hist(samples[a], bins=bins, weights=w, histtype="step", color=colors[a],
                label=f"samples, alpha = {a:g}")
    ax_pdf.plot(grid, exact[a].pdf(grid), color=colors[a], lw=1, ls="--")
ax_pdf.set(xlabel="x", ylabel="density", title="histograms (solid) vs exact densities (dashed)")
ax_pdf.legend(fontsize=8)

for a in alphas:
    x = np.sort(np.abs(samples[a]))
    surv = 1.0 - np.arange(x.size) / x.size
    ax_tail.loglog(x[::50], surv[::50], color=colors[a], label=f"alpha = {a:g}")
xs = np.logspace(0.5, 3, 10)
for a in (1.0, 1.5):
    c = np.mean(np.abs(samples[a]) > xs[0]) * xs[0] ** a
    ax_tail.loglog(xs, c * xs ** -a, color="k", lw=0.8, ls=":")
ax_tail.set(xlabel="x", ylabel="P(|X| > x)", xlim=(0.1, 1e4), ylim=(1e-5, 1.5),
            title="tails: dotted lines have slope -alpha")
ax_tail.legend(fontsize=8)
fig.suptitle("What you should see: the three histograms sit on their exact densities; on the "
             "right, alpha = 1 and 1.5\nfollow straight lines of slope -1 and -1.5, while the "
             "Gaussian tail (alpha = 2) drops off", fontsize=9)
fig.tight_layout()

# %%
# The largest of 200 000 draws tells the same story: a Gaussian never goes far, a Cauchy
# draw goes very far.
for a in alphas:
    print(f"alpha = {a:g}: max |X| = {np.max(np.abs(samples[a])):.3g}")
