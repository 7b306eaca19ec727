r"""
A study in one call: your own drift, its convergence rate
==========================================================

Example 05 built a propagation-of-chaos measurement by hand: reference cloud, coupled runs
in a loop over :math:`n` and replicates, a fitted slope. :func:`poc.chaos_study` does all of
it in one call, for any drift (:ref:`studies`). Here the drift is a user's own pairwise
model, a Kuramoto-type system of oscillators in :math:`d = 1`,

.. math::

   dx_i = \Big(-x_i + \frac1n \sum_{j=1}^n \sin(x_j - x_i)\Big)\,dt + \sigma\, dL_i(t),

a spring towards 0 plus a bounded, Lipschitz attraction between oscillators, driven by
:math:`\alpha`-stable noise with :math:`\alpha = 1.5`. The interaction is bounded and smooth,
so propagation of chaos at rate :math:`n^{-1/2}` is expected.

The same model is shipped as the model file ``examples/models/kuramoto.py``, for the command line:

.. code-block:: console

   poc study chaos examples/models/kuramoto.py --alpha 1.5 --ns 32,64,128,256 --expected -0.5 --out figures
"""

# %%
# The drift, written by the user
# ------------------------------
# A :class:`poc.drifts.PairwiseDrift` takes two plain ``numba.njit`` functions: the
# confinement :math:`V(x) = -x` and the interaction kernel :math:`K(x, y) = \sin(y - x)`.
# Each writes its value into ``out`` (and must not keep a reference to it).
import math

import matplotlib.pyplot as plt
import numpy as np
from numba import njit

import poc
from poc.drifts import FeatureDrift, PairwiseDrift


@njit
def confinement(x, out):
    out[0] = -x[0]


@njit
def interaction(x, y, out):
    out[0] = math.sin(y[0] - x[0])


pairwise = PairwiseDrift(confinement, interaction)

# %%
# The same drift in feature form
# ------------------------------
# Since :math:`\sin(y - x) = \sin y \cos x - \cos y \sin x`, the mean interaction only needs
# the two means :math:`u = (\mathbb{E}\sin y, \mathbb{E}\cos y)`: a
# :class:`poc.drifts.FeatureDrift` with features :math:`g(y) = (\sin y, \cos y)` and response
# :math:`F(x, u) = -x + \cos(x)\,u_0 - \sin(x)\,u_1`. Same numbers up to rounding, but
# :math:`O(n)` per step instead of :math:`O(n^2)`.


@njit
def features(x, out):
    out[0] = math.sin(x[0])
    out[1] = math.cos(x[0])


@njit
def response(x, u, out):
    out[0] = -x[0] + math.cos(x[0]) * u[0] - math.sin(x[0]) * u[1]


feature = FeatureDrift(features, response, 2)

# the two forms agree at a random cloud (a cheap sanity check before a long study)
cloud = np.random.default_rng(0).standard_normal((200, 1))
print("max |pairwise - feature| on 200 points:",
      float(np.abs(pairwise(cloud) - feature(cloud)).max()))

# %%
# One call per drift
# ------------------
# ``x0(n, rng)`` draws the :math:`n` i.i.d. starting points. The limit is estimated by a
# reference cloud of :math:`N = 32\, n_{\max}` particles (the default reference-size rule).
# **Cost.** For a pairwise drift the reference is itself an :math:`N`-particle system,
# :math:`O(N^2)` per step, and each replicate's :math:`n` nonlinear copies cost
# :math:`O(nN)` per step against it; that is why this example keeps :math:`n \le 64`
# (:math:`N = 2048`). The feature form costs :math:`O(N + n)` per step and would afford far
# larger :math:`n`. With :math:`\alpha < 2`, fewer than 50 replicates per :math:`n` makes
# the study warn that the bootstrap interval may under-cover, so we use 50.


def x0(n, rng):
    return rng.standard_normal((n, 1))


settings = dict(alpha=1.5, sigma=0.5, T=1.0, step=0.02, ns=[8, 16, 32, 64], replicates=50,
                seed=0, expected=-0.5)
res_pair = poc.chaos_study(pairwise, x0, **settings)
res_feat = poc.chaos_study(feature, x0, **settings)

# %%
# The summaries
# -------------
# ``.summary()`` says in words what was measured, the slope with its 95 % bootstrap
# interval, how much the reference's own error inflates the result, and the verdict against
# ``expected`` (the default rule of :func:`poc.rates.judge`; with 50 replicates at four small
# :math:`n` the interval is wide, about :math:`\pm 0.14`, so this is a weak test of the rate --
# the ``chaos`` check uses many more replicates and a larger range of :math:`n`).
print(res_pair.summary())
print()
print(res_feat.summary())

# %%
# The pictures
# ------------
# ``.plot()`` draws the coupling error (the fitted quantity), the :math:`W_1` distance of the
# cloud to the limit and the i.i.d. sampling floor, with bootstrap bands and the theory
# slope as a guide. **What you should see:** the coupling error falls with slope close to
# :math:`-1/2` in both panels, and the two panels agree -- the same seed and the same noise
# give the same numbers whichever form of the drift is used. If a verdict badge says FAIL,
# the summary above says by how much; the seed was not chosen to make it pass.
fig, axes = plt.subplots(1, 2, figsize=(11, 4.4), constrained_layout=True)
res_pair.plot(ax=axes[0])
axes[0].set_title("PairwiseDrift (O(n^2) per step)", fontsize=9)
res_feat.plot(ax=axes[1])
axes[1].set_title("FeatureDrift, same model (O(n) per step)", fontsize=9)
plt.show()

# %%
# ``.fit`` is a :class:`poc.rates.RateFit`, ``.data`` holds every replicate, and
# ``.to_dict()`` is the JSON case that ``poc study`` writes next to its figure.
print("pairwise slope", round(res_pair.fit.slope, 3), "CI", np.round(res_pair.fit.ci, 3))
print("feature  slope", round(res_feat.fit.slope, 3), "CI", np.round(res_feat.fit.ci, 3))
