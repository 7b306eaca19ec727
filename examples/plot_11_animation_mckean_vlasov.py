r"""
Animation: the particle cloud against its McKean-Vlasov limit, alpha = 1.5 and 2
================================================================================

A picture of propagation of chaos in motion (:ref:`theory-chaos`). On each side, n = 400
particles of the feature-drift system of
:ref:`sphx_glr_auto_examples_plot_04_feature_drift_limit.py` (feature :math:`\tanh(x)`,
response :math:`1 - x + 2u`) start far from equilibrium and move; the black curve is the
density of the McKean-Vlasov limit at the same time, estimated by a reference cloud of
N = 10 000 particles. Left: :math:`\alpha = 1.5`, right: :math:`\alpha = 2` (Gaussian), same
:math:`\sigma`.

The histogram of 400 particles is a noisy picture of a density, but it follows the limit
at every time: the particles move as if they were independent samples of the limit law. The
heavy-tailed cloud also shows what the Gaussian one never does: particles thrown far out by
a single jump (counted at the edges of the plot) that the drift then pulls back.
"""

# %%
# Simulate the systems and the reference clouds, recording every 5 steps
# ----------------------------------------------------------------------
import math

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.animation import FuncAnimation
from numba import njit

import poc
from poc.drifts import FeatureDrift
from poc.limits import reference_cloud


@njit
def features(x, out):
    out[0] = math.tanh(x[0])


@njit
def response(x, u, out):
    out[0] = 1.0 - x[0] + 2.0 * u[0]


drift = FeatureDrift(features, response, n_features=1)
params = dict(sigma=0.6, step=0.02, n_steps=160, record_every=5)
alphas = (1.5, 2.0)
systems, limits = {}, {}
for j, alpha in enumerate(alphas):
    rng = np.random.default_rng([11, j])
    limits[alpha] = reference_cloud(drift, rng.normal(-2.0, 0.4, (10_000, 1)), alpha=alpha,
                                    seed=rng, **params).trajectory
    systems[alpha] = poc.simulate(drift, rng.normal(-2.0, 0.4, (400, 1)), alpha=alpha,
                                  seed=rng, **params)
times = systems[alphas[0]].times

# %%
# The animation
# -------------
# Each frame redraws both panels at one recorded time. The page shows it as an animated GIF.
edges = np.linspace(-4.0, 6.0, 51)
centers = 0.5 * (edges[1:] + edges[:-1])


def density(x):
    h, _ = np.histogram(np.clip(x, edges[0], edges[-1]), bins=edges, density=True)
    return h


fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), sharey=True)
artists = []  # drawn once, then updated frame by frame (much faster than redrawing)
for ax, alpha in zip(axes, alphas, strict=True):
    bars = ax.bar(centers, density(systems[alpha].states[0, :, 0]), width=edges[1] - edges[0],
                  color="C0" if alpha < 2 else "C2", alpha=0.6, label="n = 400 particles")
    (line,) = ax.plot(centers, density(limits[alpha].states[0, :, 0]), "k", lw=1.5,
                      label="limit (N = 10000)")
    ax.set(xlim=(edges[0], edges[-1]), ylim=(0, 1.6), xlabel="x")
    ax.legend(loc="upper right", fontsize=8)
    artists.append((ax, alpha, bars, line))
axes[0].set_ylabel("density (outliers in the edge bins)")


def draw(k):
    for ax, alpha, bars, line in artists:
        for bar, h in zip(bars, density(systems[alpha].states[k, :, 0]), strict=True):
            bar.set_height(h)
        line.set_ydata(density(limits[alpha].states[k, :, 0]))
        ax.set_title(f"alpha = {alpha:g}, t = {times[k]:.2f}")


draw(0)
fig.tight_layout()  # after the first titles exist, so that they fit
anim = FuncAnimation(fig, draw, frames=len(times), interval=120)

# %%
# The last frame, as a still figure
# ---------------------------------
# What you should see in the animation: both clouds travel from -2 to the right and spread,
# and the particle histograms track the black limit density all the way, within the noise of
# a 400-particle histogram; the alpha = 1.5 cloud has particles in the edge bins (thrown out
# by single jumps), the Gaussian one does not.
# sphinx_gallery_thumbnail_number = 2
fig2, ax2 = plt.subplots(figsize=(6, 3.6))
for alpha, color in zip(alphas, ("C0", "C2"), strict=True):
    ax2.step(centers, density(systems[alpha].final[:, 0]), where="mid", color=color,
             label=f"particles, alpha = {alpha:g}")
    ax2.plot(centers, density(limits[alpha].final[:, 0]), color=color, ls="--", lw=1,
             label=f"limit, alpha = {alpha:g}")
ax2.set(xlabel="x", ylabel="density", title=f"t = {times[-1]:.1f}: particles (solid) and limits "
        "(dashed)")
ax2.legend(fontsize=8)
fig2.tight_layout()
