r"""
A custom feature drift and its McKean-Vlasov limit
==================================================

A *feature drift* lets the particles interact only through the mean of a few features:

.. math::

   b(x, \mu) = F\Big(x, \int g\, d\mu\Big), \qquad g: \mathbb{R}^d \to \mathbb{R}^m .

The mean-field network is of this form (:ref:`theory-network`). Its McKean-Vlasov limit is
simple to describe: as :math:`n \to \infty` the mean :math:`u_t = \int g\, d\mu_t` becomes a
*deterministic path*, and each particle follows :math:`d\bar x = F(\bar x, u_t)\, dt + \sigma
dL` on its own. :mod:`poc.limits` estimates :math:`u_t` once with a large *reference cloud*
and then runs *nonlinear copies* :math:`\bar x_i` that share the initial values and the noise
of the :math:`n`-particle system (synchronous coupling).

Here, in d = 1, the feature is :math:`g(x) = \tanh(x)` (bounded, as the theorem asks) and the
response :math:`F(x, u) = 1 - x + 2u` pulls each particle towards a point that moves with
the crowd.
"""

# %%
# The two functions
# -----------------
# ``features(x, out)`` writes :math:`g(x)` (length m = 1) and ``response(x, u, out)`` writes
# :math:`F(x, u)` (length d = 1), both into ``out``.
import math

import matplotlib.pyplot as plt
import numpy as np
from numba import njit

from poc.drifts import FeatureDrift
from poc.limits import coupled_run, reference_cloud


@njit
def features(x, out):
    out[0] = math.tanh(x[0])


@njit
def response(x, u, out):
    out[0] = 1.0 - x[0] + 2.0 * u[0]


drift = FeatureDrift(features, response, n_features=1)
params = dict(alpha=1.5, sigma=0.5, step=0.02, n_steps=150)

# %%
# The reference cloud: N = 20 000 particles estimate the limit path u_t
# ---------------------------------------------------------------------
rng = np.random.default_rng(0)
ref = reference_cloud(drift, rng.normal(-2.0, 0.5, (20_000, 1)), seed=1, record_every=10,
                      **params)

# %%
# Small systems and their coupled copies
# --------------------------------------
# For each n, :func:`poc.limits.coupled_run` runs the interacting system and its nonlinear
# copies on the same noise. The parameters (alpha, sigma, step) come from the reference.
runs = {}
for n in (20, 200, 2000):
    x0 = np.random.default_rng(10 + n).normal(-2.0, 0.5, (n, 1))
    runs[n] = coupled_run(drift, x0, ref, seed=100 + n, record_every=10)
    print(f"n = {n:5d}: coupling error mean_i |x_i(T) - xbar_i(T)| = "
          f"{runs[n].coupling_error():.4f}")

# %%
# The figure
# ----------
fig, (ax_u, ax_x) = plt.subplots(1, 2, figsize=(10, 4))
ax_u.plot(ref.times, ref.features[:, 0], "k", lw=2, label="limit u_t (reference, N = 20000)")
for n, run in runs.items():
    ax_u.plot(run.system.times, run.system.features[:, 0], lw=1, label=f"n = {n} system")
ax_u.set(xlabel="time t", ylabel="mean feature u = mean tanh(x)", title="the interaction path")
ax_u.legend(fontsize=8)

run = runs[2000]
ax_x.scatter(run.copies.final[:, 0], run.system.final[:, 0], s=3)
lim = np.quantile(run.copies.final[:, 0], [0.005, 0.995])
ax_x.plot(lim, lim, "k", lw=0.8)
ax_x.set(xlim=lim, ylim=lim, xlabel="nonlinear copy xbar_i(T)", ylabel="particle x_i(T)",
         title="n = 2000: each particle against its copy")
fig.suptitle("What you should see: the systems' paths u_t approach the limit path as n grows "
             "(n = 20 wanders), and at n = 2000\nevery particle sits on the diagonal next to "
             "its independent copy, even after big jumps", fontsize=9)
fig.tight_layout()
