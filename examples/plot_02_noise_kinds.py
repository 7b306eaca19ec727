r"""
Noise kinds: iid, isotropic and neuron
======================================

A particle lives in :math:`\mathbb{R}^d`, so its noise is a vector. The toolkit has three
kinds of multivariate :math:`\alpha`-stable noise (:ref:`conv-noise-kinds`), chosen with
``kind=`` in :func:`poc.sample_noise` and ``noise=`` in :func:`poc.simulate`:

* ``"iid"``: every coordinate independent :math:`S_\alpha`. A big jump almost always happens
  in *one* coordinate at a time, so big jumps point along the axes.
* ``"isotropic"``: :math:`\sqrt{A}\, G`, a Gaussian vector with a random heavy-tailed
  variance. The law is rotation invariant: big jumps point in every direction.
* ``"neuron"``: one scalar per particle, added to all its coordinates: every jump lies on the
  diagonal.

In all three kinds each single coordinate is :math:`S_\alpha(\text{scale})`.
"""

# %%
# Draw 3000 vectors in d = 2 of each kind and plot them
# -----------------------------------------------------
# Linear axes, cut at +-25: the bulk is a small blob at the centre, and the big jumps are the
# points far out (a few land beyond the frame).
import matplotlib.pyplot as plt
from scipy import stats

import poc

alpha, n, d = 1.5, 3000, 2
fig, axes = plt.subplots(1, 3, figsize=(11, 3.8), sharex=True, sharey=True)
for ax, kind in zip(axes, poc.NOISE_KINDS, strict=True):
    X = poc.sample_noise(alpha, n, d, kind=kind, seed=7)
    ax.scatter(X[:, 0], X[:, 1], s=3, alpha=0.5)
    ax.set(xlim=(-25, 25), ylim=(-25, 25), aspect="equal")
    ax.set(title=f'kind = "{kind}"', xlabel="coordinate 1")
    # every kind has S_alpha coordinates: a KS test of coordinate 1 against levy_stable
    p = stats.kstest(X[:, 0], stats.levy_stable(alpha, 0.0).cdf).pvalue
    ax.text(0.02, 0.02, f"KS p of coordinate 1: {p:.2f}", transform=ax.transAxes, fontsize=8)
axes[0].set_ylabel("coordinate 2")
fig.suptitle("What you should see: iid jumps along the axes (a cross), isotropic jumps in all "
             "directions,\nneuron jumps on the diagonal only; each coordinate alone is the "
             "same stable law", fontsize=9)
fig.tight_layout()
