r"""
Noisy SGD on the mean-field network as an Euler scheme
======================================================

Full-gradient noisy SGD on the mean-field network *is* the Euler scheme of the particle SDE
:math:`d\theta_i = b(\theta_i, \mu^n_t)dt + \sigma dL_i` (:ref:`theory-euler`). Minibatch SGD
is the same scheme with a noisy estimate of :math:`b`. Both converge to the SDE as the step
:math:`\eta \to 0`, but at different orders:

* the full-gradient scheme at order about 1 -- better than the :math:`1/\alpha` of the
  paper's bound in our reading;
* minibatch SGD at order about 1/2: the minibatch gradient noise is a martingale whose sum
  over :math:`T/\eta` steps has size :math:`\eta^{1/2}`.

:func:`poc.strong_error` with ``batch_size`` measures the second against the full-gradient
continuous system, on common random numbers.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

import poc
from poc.data import teacher_student
from poc.drifts import MeanFieldNetwork

data = teacher_student(64, 3, seed=0)
net = MeanFieldNetwork(data.X_train, data.y_train, activation="tanh")
alpha, sigma, T, n = 1.5, 0.5, 1.0, 32
steps = T / np.array([4, 8, 16, 32, 64])
x0 = np.random.default_rng(1).standard_normal((n, 3))

fig, ax = plt.subplots(figsize=(6.5, 4.5))
for batch, color, label in ((None, "C0", "full gradient"), (8, "C1", "minibatch 8 of 64")):
    res = poc.strong_error(net, x0, alpha=alpha, sigma=sigma, T=T, steps=steps,
                           n_replicates=8, batch_size=batch, seed=2)
    fit = res.fit(seed=0)
    print(f"{label}: order {fit.slope:.2f} [{fit.ci[0]:.2f}, {fit.ci[1]:.2f}]")
    ax.loglog(res.steps, res.mean, "o-", color=color,
              label=f"{label}: order {fit.slope:.2f} [{fit.ci[0]:.2f}, {fit.ci[1]:.2f}]")
ax.loglog(steps, 0.5 * res.mean[0] * (steps / steps[0]) ** (1 / alpha), "k:",
          label=f"order 1/alpha = {1 / alpha:.2f} (our reading of the bound)")
ax.set(xlabel="step eta", ylabel="mean_i E|theta_i^eta(T) - theta_i(T)|")
ax.legend(fontsize=8)
ax.set_title("What you should see: full-gradient noisy SGD converges at order about 1,\n"
             "minibatch SGD at order about 1/2 (gradient noise)", fontsize=9)
fig.tight_layout()
