"""Define your own mean-field drift, simulate it, and plot how the cloud evolves.

The toolkit simulates n particles x_1, ..., x_n that move together:

    dx_i = b(x_i, mu) dt + sigma dL_i

* mu is the whole cloud (every particle sees all the others);
* b is the drift, the deterministic push on particle i;
* L_i is heavy-tailed alpha-stable noise: mostly small kicks, now and then a
  big jump (alpha = 2 would be Gaussian noise, smaller alpha = bigger jumps).

Here the drift is "pairwise":

    b(x_i, mu) = V(x_i) + average over j of K(x_i, x_j)

V pulls every particle back towards the origin, and K is how particle j
pulls on particle i. You write V and K as two small functions, compiled
with numba.njit, that fill an output array. That is all the library needs.

Run it with:    python examples/custom_drift.py [--out figures]
It saves custom_drift.png (histograms of the cloud at several times).
"""

import argparse
import math
from pathlib import Path

import numpy as np
from numba import njit

import poc
from poc.drifts import PairwiseDrift

# --- 1. The drift: two functions -----------------------------------------------
# Each function gets one particle x (an array of length d, here d = 1) and must
# write its answer into `out` (same length). Use plain loops and math
# functions: numba compiles them to fast machine code.


@njit
def confinement(x, out):
    """V(x) = -0.5 x: a spring pulling every particle back towards 0."""
    for k in range(x.size):
        out[k] = -0.5 * x[k]


@njit
def interaction(x, y, out):
    """K(x, y) = tanh(y - x): particle x is drawn towards particle y,
    with a force that saturates at 1 (a bounded interaction)."""
    for k in range(x.size):
        out[k] = math.tanh(y[k] - x[k])


def main() -> None:
    parser = argparse.ArgumentParser(description="Simulate a user-defined pairwise drift.")
    parser.add_argument("--out", type=Path, default=Path("figures"),
                        help="directory for custom_drift.png (default: figures)")
    args = parser.parse_args()

    # --- 2. Build the drift from the two functions ---------------------------
    drift = PairwiseDrift(confinement, interaction)

    # --- 3. Starting cloud: two groups of 500 particles, at -2 and +2 --------
    # (a 1-D array means d = 1; for particles in R^d pass an (n, d) array)
    rng = np.random.default_rng(0)
    x0 = np.concatenate([rng.normal(-2.0, 0.3, 500), rng.normal(2.0, 0.3, 500)])

    # --- 4. Simulate with the Euler scheme -----------------------------------
    # x_{k+1} = x_k + step * b(x_k, cloud_k) + sigma * step^(1/alpha) * noise
    # record_every=50 keeps the cloud every 50 steps (times 0, 1, 2, ...).
    # (If a particle ever became inf/NaN, simulate would stop with an error
    # naming the step: e.g. a pull like -x^3 is unstable for this step size
    # once a big jump throws a particle far out.)
    traj = poc.simulate(drift, x0, alpha=1.5, sigma=0.3, step=0.02, n_steps=250,
                        seed=1, record_every=50)
    print(f"recorded times: {traj.times}")
    print(f"states: {traj.states.shape}  (times, particles, coordinates)")

    # --- 5. Plot the particle law at each recorded time ----------------------
    import matplotlib

    matplotlib.use("Agg")  # write files, no window
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    bins = np.linspace(-4, 4, 65)
    colors = plt.cm.viridis(np.linspace(0, 1, len(traj.times)))
    for t, state, color in zip(traj.times, traj.states, colors, strict=True):
        # heavy tails: a few particles jump outside the plotted range
        ax.hist(state[:, 0], bins=bins, density=True, histtype="step", color=color,
                label=f"t = {t:.0f}")
    ax.set_xlabel("particle position x")
    ax.set_ylabel("density")
    ax.set_title("Two groups merging under attraction (alpha = 1.5 noise)")
    ax.legend()
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "custom_drift.png"
    fig.savefig(path, dpi=120, bbox_inches="tight")
    print(f"saved {path}")


if __name__ == "__main__":
    main()
