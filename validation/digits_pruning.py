"""Mean-field variant: does heavy-tailed noise make a network more prunable at equal accuracy?

This is the toolkit's mean-field variant, outside the paper's experimental protocol (the
paper's protocol on real MNIST digits is ``paper_mnist.py``). ``poc validate digits`` is the
command that judges the claim (its cases say which test the paper's wording and which are the
toolkit's own questions); this script shows the experiment itself, on the public API.

Claim: on scikit-learn's 8x8 handwritten digits, the one-hidden-layer mean-field network
trained by noisy SGD with alpha-stable noise keeps the test accuracy of plain SGD while more of
its hidden units can be removed, smallest norms first. Heavy tails concentrate the weight
norm in a few units, so zeroing the many small ones should cost little.

What is measured, per seed, for plain SGD, alpha = 1.5 and alpha = 2 (Gaussian noise at the same
sigma, the light-tailed control): the test accuracy after pruning a fraction f of the units, for
f = 0 .. 0.95, and the paper's pruning rule (the largest fraction removable with squared relative
Frobenius error <= 0.1). All configurations of one seed share the initial weights, the
minibatches and the noise variates: a paired comparison.

Needs the digits extra (``pip install "heavytail-poc[digits]"``; no download). About a minute
on 2 cores. Run: ``python validation/digits_pruning.py`` (writes digits_pruning.png here).
"""

import numpy as np

import poc
from poc.compress import best_k_approximation, prunable_fraction
from poc.data import load_digits
from poc.plotting import new_figure

N_HIDDEN, N_STEPS, SEEDS = 256, 600, 3  # the check's quick size, fewer seeds
SIGMA = 0.01  # the check's noise scale: the largest that keeps accuracy near plain SGD's
CONFIGS = {"plain SGD": None, "alpha = 1.5": 1.5, "Gaussian (alpha = 2)": 2.0}
FRACTIONS = np.round(np.arange(0.0, 0.951, 0.05), 2)

X, X_test, y, y_test = load_digits(seed=0)

curves = {label: [] for label in CONFIGS}
rule = {label: [] for label in CONFIGS}
for seed in range(SEEDS):
    for label, alpha in CONFIGS.items():
        # the same seed for every configuration: common random numbers across the comparison
        net = poc.train(X, y, N_HIDDEN, alpha=alpha, sigma=0.0 if alpha is None else SIGMA,
                        step=1.0, n_steps=N_STEPS, batch_size=64, seed=seed, progress=False)
        W = net.weights  # (n, d): one row per hidden unit
        # keep the ceil((1 - f) n) largest-norm units, zero the rest, measure test accuracy
        curves[label].append([net.accuracy(X_test, y_test, best_k_approximation(W, 1.0 - f))
                              if f > 0 else net.accuracy(X_test, y_test) for f in FRACTIONS])
        rule[label].append(prunable_fraction(W, 0.1))

fig, axes = new_figure(1, 2, width=5.4, height=4.2)
ax = axes[0, 0]
for label in CONFIGS:
    c = np.array(curves[label])  # (seeds, fractions)
    ax.plot(FRACTIONS, c.mean(axis=0), "o-", markersize=3, label=label)
    ax.fill_between(FRACTIONS, c.min(axis=0), c.max(axis=0), alpha=0.15, linewidth=0)
ax.axhline(np.mean(np.array(curves["plain SGD"])[:, 0]) - 0.02, color="0.4", ls=":", lw=1,
           label="plain SGD accuracy - 2 points")
ax.set(xlabel="fraction of hidden units pruned (smallest norms)", ylabel="test accuracy",
       title="Accuracy kept under pruning (band: seeds)", ylim=(0.0, 1.0))
ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.15), ncols=2)  # off the data

ax = axes[0, 1]
labels = list(CONFIGS)
for i, label in enumerate(labels):
    ax.plot(np.full(SEEDS, i), rule[label], "o", alpha=0.6)
    ax.plot([i - 0.2, i + 0.2], [np.mean(rule[label])] * 2, "k-")
ax.set_xticks(range(len(labels)), labels)
ax.set(ylabel="fraction removable with relative error^2 <= 0.1",
       title="The paper's pruning rule (bar: mean)")
fig.suptitle("Digits, mean-field network (outside the paper's protocol): heavy tails raise the "
             "rule's fraction; whether accuracy survives is what `poc validate digits` judges",
             fontsize=9)
fig.savefig("digits_pruning.png", dpi=120, bbox_inches="tight")

for label in labels:
    c = np.array(curves[label])
    print(f"{label:22s} test accuracy {c[:, 0].mean():.3f}; pruning-rule fraction "
          f"{np.mean(rule[label]):.2f}; accuracy with half the units pruned {c[:, 10].mean():.3f}")
