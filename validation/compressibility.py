"""Heavy-tailed noisy SGD makes the trained network compressible.

Claim (Wan, Barsbey, Zaidi, Simsekli, arXiv 2306.08125): train the mean-field
network f(x) = (1/n) sum_i tanh(<theta_i, x>) by SGD with alpha-stable noise
injected into the weights, alpha < 2. The trained columns theta_i are then
approximately i.i.d. and heavy-tailed, so for a fixed kept fraction kappa the
relative error of keeping the kappa*n columns of largest norm,
||Theta - Theta^(kappa n)||_F / ||Theta||_F, falls towards 0 as the width n
grows. With Gaussian noise (alpha = 2) or without noise it does not.

How: minibatch noisy SGD (poc.simulate) on teacher-student data for a fixed
horizon T = 40 at step 0.5, with the accumulated noise S_alpha(1) per
coordinate, for alpha in {1.2, 1.4, 1.6} ("iid" noise, plus the "isotropic"
and "neuron" kinds at alpha = 1.4), Gaussian noise and no noise; widths
n = 2^6 .. 2^11 (quick) or 2^6 .. 2^14 (--full), independent replicates at
each n. The verdict: for every heavy-tailed setting and kappa in {0.1, 0.25},
the 95 % bootstrap interval of the log-log slope of the error against n lies
below 0. The controls' slopes are recorded, not judged; n^(1/2 - 1/alpha), the
rate for exactly i.i.d. heavy-tailed rows, is drawn for reference. The figure
also shows the column-norm tails at the largest n with Hill and block-sum
tail-index estimates, and the paper's pruning rule (fraction of columns
removable at squared relative error <= 0.1) against n.

Run: ``python validation/compressibility.py [--full] [--out figures] [--seed 0]``
(the same as ``poc validate compress``). Writes figures/compress.png and
figures/compress.json. The code of the check is ``poc/checks/compress.py``.
"""

from poc.cli import run_script

if __name__ == "__main__":
    raise SystemExit(run_script("compress"))
