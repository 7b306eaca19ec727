"""Euler discretization: the strong error of the scheme (and of minibatch noisy SGD) against the step.

Claim: the Euler scheme of the heavy-tailed particle SDE
``dx_i = b(x_i, mu^n) dt + sigma dL_i`` converges strongly at least at the
order ``1/alpha`` of the bound ``(n eta)^(1/alpha)`` (our reading of the
paper's discretization estimate, DESIGN.md section 1), and minibatch noisy
SGD, the paper's algorithm, stays within ``O(n^(-1/2))`` of the
continuous-time particle system on the step condition ``eta <= n^(-alpha/2 - 1)``.

How: ``poc.strong_error`` runs the scheme on nested grids with common random
numbers (one alpha-stable Levy path per replicate; a coarse increment is the
sum of the fine increments it covers) and compares each run with a
full-gradient reference 8 times finer, on the same path and from the same
start; the error is the mean over particles and replicates of
``|x_i^eta(T) - x_i^ref(T)|``. Log-log slopes with paired bootstrap
intervals, for alpha in {1.3, 1.5, 1.8} (and 2.0 for the single SDE), for
(a) the single SDE ``dx = (sin x - x) dt + dL``, (b) the mean-field network
particle system, (c) minibatch SGD against the step and against n along the
step condition. The measured orders (about 1 for the full-gradient scheme,
about 1/2 for minibatch SGD) are written to the JSON and the notes, next to
the bound's exponent.

Run: ``python validation/euler_discretization.py [--full] [--out figures] [--seed 0]``
(the same as ``poc validate euler``). Writes figures/euler.png, figures/euler.json.
The code of the check is ``poc/checks/euler.py``; the measurement is ``poc/euler.py``.
"""

from poc.cli import run_script

if __name__ == "__main__":
    raise SystemExit(run_script("euler"))
