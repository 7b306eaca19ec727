r"""
Your first particle system: a custom pairwise drift
===================================================

The toolkit simulates n particles :math:`x_1, \dots, x_n` that move together:

.. math::

   dx_i = b(x_i, \mu)\, dt + \sigma\, dL_i

* :math:`\mu` is the whole cloud (every particle sees all the others);
* :math:`b` is the drift, the deterministic push on particle i;
* :math:`L_i` is heavy-tailed :math:`\alpha`-stable noise: mostly small kicks, now and then a
  big jump (:math:`\alpha = 2` would be Gaussian noise, smaller :math:`\alpha` = bigger jumps).

Here the drift is *pairwise*:

.. math::

   b(x_i, \mu) = V(x_i) + \frac1n \sum_j K(x_i, x_j)

:math:`V` pulls every particle back towards the origin, and :math:`K` is how particle j pulls
on particle i. You write V and K as two small functions, compiled with ``numba.njit``, that
fill an output array. That is all the library needs.

Run it as a script with ``python examples/plot_03_custom_drift.py``; it opens the figure.
"""

# %%
# 1. The drift: two functions
# ---------------------------
# Each function gets one particle ``x`` (an array of length d, here d = 1) and must write its
# answer into ``out`` (same length): it must not return it, and it must write every entry
# (``out`` is reused, so an entry you skip keeps an old value). Use plain loops and ``math``
# functions: numba compiles them to fast machine code.
import math

import matplotlib.pyplot as plt
import numpy as np
from numba import njit

import poc
from poc.drifts import PairwiseDrift


@njit
def confinement(x, out):
    """V(x) = -0.5 x: a spring pulling every particle back towards 0."""
    for k in range(x.size):
        out[k] = -0.5 * x[k]


@njit
def interaction(x, y, out):
    """K(x, y) = tanh(y - x): particle x is drawn towards particle y,
    with a force that saturates at 1 (a bounded interaction)."""
    for k in range(x.size):
        out[k] = math.tanh(y[k] - x[k])


# %%
# 2. Build the drift from the two functions
# -----------------------------------------
drift = PairwiseDrift(confinement, interaction)

# %%
# 3. Starting cloud: two groups of 200 particles, at -2 and +2
# ------------------------------------------------------------
# A 1-D array means d = 1; for particles in :math:`\mathbb{R}^d` pass an (n, d) array.
rng = np.random.default_rng(0)
x0 = np.concatenate([rng.normal(-2.0, 0.3, 200), rng.normal(2.0, 0.3, 200)])

# %%
# 4. Simulate with the Euler scheme
# ---------------------------------
# :math:`x_{k+1} = x_k + \eta\, b(x_k, \mu_k) + \sigma \eta^{1/\alpha} \xi_{k+1}`
# (:ref:`conv-euler-scheme`). ``record_every=50`` keeps the cloud every 50 steps (times 0, 1,
# 2, ...). If a particle ever became inf or NaN, :func:`poc.simulate` would stop with an
# error naming the step: a pull like :math:`-x^3` is unstable for this step size once a big
# jump throws a particle far out.
traj = poc.simulate(drift, x0, alpha=1.5, sigma=0.3, step=0.02, n_steps=250,
                    seed=1, record_every=50)
print(f"recorded times: {traj.times}")
print(f"states: {traj.states.shape}  (times, particles, coordinates)")

# %%
# 5. Plot the particle law at each recorded time
# ----------------------------------------------
fig, ax = plt.subplots(figsize=(7, 4))
bins = np.linspace(-4, 4, 41)
colors = plt.cm.viridis(np.linspace(0, 1, len(traj.times)))
for t, state, color in zip(traj.times, traj.states, colors, strict=True):
    # heavy tails: a few particles jump outside the plotted range
    ax.hist(state[:, 0], bins=bins, density=True, histtype="step", color=color,
            label=f"t = {t:.0f}")
ax.set_xlabel("particle position x")
ax.set_ylabel("density")
ax.set_title("What you should see: the two groups at -2 and +2 merge into one\n"
             "bump at 0 under the attraction (alpha = 1.5 noise)", fontsize=10)
ax.legend()
fig.tight_layout()
plt.show()
