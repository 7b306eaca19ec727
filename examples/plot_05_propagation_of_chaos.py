r"""
Propagation of chaos: the coupling error against n
==================================================

The propagation-of-chaos theorem (:ref:`theory-chaos`) says that in a wide mean-field network
trained with heavy-tailed noise, each neuron :math:`\theta_i` stays close to an *independent*
copy :math:`\bar\theta_i` of the McKean-Vlasov SDE, with an error of order
:math:`n^{-1/2}`. We measure it as the ``chaos`` check does, at a smaller size:

1. a reference cloud of N = 16 384 neurons estimates the limit's network output path;
2. for each width n, :func:`poc.limits.coupled_run` trains a width-n network and its n
   nonlinear copies on the same noise and the same initial values;
3. the coupling error :math:`\frac1n \sum_i |\theta_i(T) - \bar\theta_i(T)|` is averaged
   over replicates, and :func:`poc.rates.fit_rate` fits its log-log slope with a bootstrap
   interval.
"""

# %%
# The network and the noise
# -------------------------
# A tanh network (bounded, the theorem's setting) on 20 teacher-student points in d = 3,
# full-gradient noisy SGD with alpha = 1.5 noise, step 0.02 for T = 1.
import matplotlib.pyplot as plt
import numpy as np

from poc.data import teacher_student
from poc.drifts import MeanFieldNetwork
from poc.limits import coupled_run, reference_cloud
from poc.plotting import rate_panel, reference_line
from poc.rates import fit_rate

data = teacher_student(20, 3, seed=0)
net = MeanFieldNetwork(data.X_train, data.y_train, activation="tanh")
params = dict(alpha=1.5, sigma=0.7, step=0.02, n_steps=50)
d = 3

ref = reference_cloud(net, np.random.default_rng(1).standard_normal((16_384, d)), seed=2,
                      **params)

# %%
# Coupled runs for n = 32 ... 512, 8 replicates each
# --------------------------------------------------
ns = np.array([32, 64, 128, 256, 512])
n_reps = 8
errors = np.empty((ns.size, n_reps))
for i, n in enumerate(ns):
    for r in range(n_reps):
        rng = np.random.default_rng([3, i, r])  # one independent stream per (n, replicate)
        run = coupled_run(net, rng.standard_normal((n, d)), ref, seed=rng)
        errors[i, r] = run.coupling_error()
fit = fit_rate(ns, errors, seed=0)
print(f"slope {fit.slope:.3f}, 95% interval [{fit.ci[0]:.3f}, {fit.ci[1]:.3f}]; theory -0.5")

# %%
# The figure
# ----------
fig, ax = plt.subplots(figsize=(6.5, 4.5))
rate_panel(ax, ns, errors, slope=fit.slope, intercept=fit.intercept, ci=fit.ci,
           label="coupling error", color="C0")
reference_line(ax, ns, errors[0].mean(), -0.5, "theory n^(-1/2)", color="k", linestyle=":")
ax.set(xlabel="width n", ylabel="mean_i |theta_i(T) - copy_i(T)|")
ax.legend(fontsize=8)
ax.set_title("What you should see: the coupling error falls along the n^(-1/2) line;\n"
             "with 8 replicates the fitted interval is wide but contains -1/2", fontsize=9)
fig.tight_layout()
