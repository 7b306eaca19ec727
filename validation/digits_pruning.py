"""Mean-field variant: does heavy-tailed noise make a network more prunable at equal accuracy?

This is the toolkit's mean-field variant, outside the paper's experimental
protocol (the paper's protocol on real MNIST digits is ``paper_mnist.py``).

Claim tested: on scikit-learn's handwritten digits (8x8 images, 10 classes),
the one-hidden-layer mean-field network trained by noisy SGD with
alpha-stable noise (alpha = 1.5 and 1.75) keeps the test accuracy of plain
SGD (within 2 points) while more of its hidden units are pruned, smallest
norms first. Recorded alongside: the paper's pruning-rule fraction (largest
fraction of units removable with squared relative Frobenius error <= 0.1),
which heavy tails should raise, and Gaussian noise (alpha = 2) at the same
sigma as a light-tailed control. The check passes only if the claim holds;
it reports honestly when it does not.

How: squared loss on one-hot targets, minibatch 64, step 1, iid noise of
scale sigma = 0.01; plain SGD, alpha = 1.5, 1.75 and 2 share per seed the
initial weights, the second layer, the minibatches and the noise variates
(paired comparison). For each trained network: test accuracy after pruning
0..95% of the units, the pruning-rule fraction and the accuracy of the
rule-pruned network. quick: n = 256, 600 steps, 4 seeds; full: n = 512,
1500 steps, 8 seeds.

Needs the digits extra: ``pip install "heavytail-poc[digits]"`` (scikit-learn;
the data are bundled, no download).

Run: ``python validation/digits_pruning.py [--full] [--out figures] [--seed 0]``
(the same as ``poc validate digits``). Writes figures/digits.png and
figures/digits.json. The code of the check is ``poc/checks/digits.py``;
training is ``poc.training.train``.
"""

from poc.cli import run_script

if __name__ == "__main__":
    raise SystemExit(run_script("digits"))
