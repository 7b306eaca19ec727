"""The alpha-stable samplers draw the laws the theory assumes.

Claim: ``poc.sample_stable(alpha, ...)`` draws ``scipy.stats.levy_stable(alpha, 0)``
(characteristic function ``exp(-|u|^alpha)``), the isotropic noise kind has
characteristic function ``exp(-|u|^alpha)`` in every direction of R^3, and the
neuron kind repeats one stable scalar along each row (the paper's noise types).

How: one-sample KS tests against scipy's CDF for alpha in {0.8, 1, 1.3, 1.5,
1.8, 2}, the positive (alpha/2)-stable subordinator against levy_stable(beta=1),
the empirical characteristic function of the isotropic kind as z-scores on 24
vectors (and, as a control, the iid kind must fail that same test).

Run: ``python validation/noise_samplers.py [--full] [--out figures] [--seed 0]``
(the same as ``poc validate noise``). Writes figures/noise.png, figures/noise.json.
The code of the check is ``poc/checks/noise.py``.
"""

from poc.cli import run_script

if __name__ == "__main__":
    raise SystemExit(run_script("noise"))
