r"""
Outside the hypotheses: the linear mean interaction and the stable-CLT rate
===========================================================================

The :math:`n^{-1/2}` rate of propagation of chaos needs a *bounded* interaction. The network
interacts through its output, a mean of bounded :math:`\tanh` values, and the ordinary central
limit theorem gives the :math:`n^{-1/2}`. What if the particles interact through their plain
mean?

.. math::

   b(x, \mu) = -a x + c \int y\, \mu(dy)
   \qquad (:class:`poc.drifts.LinearMeanField`)

The mean of n heavy-tailed particles does *not* obey the ordinary CLT: the mean of n i.i.d.
:math:`S_\alpha` variables is :math:`n^{1/\alpha - 1} S_\alpha` (the stable CLT). The
coupling error inherits that rate, :math:`n^{1/\alpha - 1}`, slower than :math:`n^{-1/2}`
for every :math:`\alpha < 2`. A verification tool must be able to show a theorem's rate
*failing* where its hypotheses fail.

For this model the limit's mean path is known exactly (:math:`m_k = (1 + \eta(c - a))^k x_0`
for the Euler scheme, started at :math:`x_0` with mean-zero noise), so no reference cloud is
needed: we build the :class:`poc.limits.ReferenceCloud` by hand from that path.
"""

# %%
# An exact reference, with many replicates at once
# ------------------------------------------------
# The drift acts coordinate-wise, so the ``d`` coordinates of a system are ``d`` independent
# replicates: one run with d = 64 gives 64 replicates. The exact mean path goes in every
# column of the reference's features.
import matplotlib.pyplot as plt
import numpy as np

from poc.drifts import LinearMeanField
from poc.limits import ReferenceCloud, coupled_run
from poc.particles import Trajectory
from poc.rates import fit_rate

a, c, x0, step, n_steps, sigma = 1.0, 2.0, 1.0, 0.05, 20, 1.0
model = LinearMeanField(a, c)
reps = 64
mean_path = x0 * (1.0 + step * (c - a)) ** np.arange(n_steps + 1)


def exact_reference(alpha):
    feats = np.ascontiguousarray(np.repeat(mean_path[:, None], reps, axis=1))
    traj = Trajectory(final=np.full((1, reps), mean_path[-1]), step=step, n_steps=n_steps)
    return ReferenceCloud(features=feats, trajectory=traj, alpha=alpha, sigma=sigma,
                          step=step, n_steps=n_steps, noise="iid")


# %%
# Coupling error against n for alpha = 1.3, 1.6 and 2
# ---------------------------------------------------
ns = np.array([8, 32, 128, 512, 2048])
fig, ax = plt.subplots(figsize=(6.5, 4.5))
for j, alpha in enumerate((1.3, 1.6, 2.0)):
    ref = exact_reference(alpha)
    errs = np.empty((ns.size, reps))
    for i, n in enumerate(ns):
        run = coupled_run(model, np.full((n, reps), x0), ref,
                          seed=np.random.default_rng([j, i]))
        # the error is the same for every particle of a replicate: take particle 0
        errs[i] = np.abs(run.system.final[0] - run.copies.final[0])
    fit = fit_rate(ns, errs, seed=0)
    print(f"alpha = {alpha}: slope {fit.slope:.2f} [{fit.ci[0]:.2f}, {fit.ci[1]:.2f}], "
          f"stable-CLT rate {1 / alpha - 1:.2f}")
    ax.loglog(ns, errs.mean(axis=1), "o-", color=f"C{j}",
              label=f"alpha = {alpha:g}: slope {fit.slope:.2f} [{fit.ci[0]:.2f}, {fit.ci[1]:.2f}]"
                    f"; 1/alpha - 1 = {1 / alpha - 1:.2f}")
    ax.loglog(ns, errs.mean(axis=1)[0] * (ns / ns[0]) ** (1 / alpha - 1), ":", color=f"C{j}")
ax.set(xlabel="n", ylabel="mean |x_i(T) - xbar_i(T)|")
ax.legend(fontsize=7)
ax.set_title("What you should see: the heavier the tail, the flatter the decay; slopes follow\n"
             "1/alpha - 1 (dotted), not -1/2, except at alpha = 2 where the two coincide",
             fontsize=9)
fig.tight_layout()

# %%
# The mean of heavy-tailed replicates is itself noisy: with 64 replicates a slope can be off
# by 0.1; the ``chaos`` check uses 320 to 512 replicates per n.
