"""Euler discretization: the strong error of the scheme vanishes at least at order 1/alpha in the step.

Claim (our reading of the paper's discretization bound, arXiv 2306.08125): the
strong error of the Euler scheme of the heavy-tailed particle SDE is bounded like
(n eta)^(1/alpha), so its order in the step eta is at least 1/alpha.

What is measured, and why this way:

* The single SDE dx = (sin x - x) dt + dL (smooth, Lipschitz drift, additive
  alpha-stable noise, x0 = 1) at T = 1, for several alpha.
* Strong error = E|x^eta(T) - x(T)|: the scheme's *path* against the true
  path driven by the *same* Levy path. Every replicate draws one path on a fine
  grid; a coarse step uses the sums of the fine increments it covers (common
  random numbers). With independent noise the difference would be the spread
  of x(T) itself, and no discretization error would be visible.
* x(T) is a fine Euler run 64 times finer than the smallest tested step; an
  8x finer one shares too much of the leading error and biases orders upwards.
* The order is the log-log slope, with a paired bootstrap interval (whole
  replicates resampled, since all steps of one replicate share a path).
  It passes when the interval's lower end is >= 1/alpha - 0.05.

With additive noise and a smooth drift the measured order is near 1: better
than the bound, which is not sharp in eta here. A verification tool reports
what it measures.

Run: ``python validation/euler_discretization.py [--full] [--out figures] [--seed 0]``.
It draws the check's panel (a) to OUT/euler_discretization.png. ``poc validate
euler`` runs the full check (the network particle system, minibatch SGD).
"""

import argparse
import math
from pathlib import Path

from numba import njit

import poc
from poc.drifts import FeatureDrift
from poc.plotting import new_figure

ALPHAS = (1.3, 1.5, 1.8, 2.0)
COLORS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7")


# b(x) = sin x - x written as a feature drift with no features (no interaction)
@njit
def no_features(x, out):
    out[0] = 0.0


@njit
def sine_response(x, u, out):
    for k in range(x.size):
        out[k] = math.sin(x[k]) - x[k]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--full", action="store_true", help="more replicates and a smaller step")
    p.add_argument("--out", type=Path, default=Path("figures"))
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    steps = [2.0**-k for k in range(3, 9 if args.full else 8)]
    replicates = 20000 if args.full else 2000
    drift = FeatureDrift(no_features, sine_response, 1)

    fig, axes = new_figure(1, 1, width=6.4, height=5.0)
    ax = axes[0, 0]
    verdicts = []
    for alpha, color in zip(ALPHAS, COLORS, strict=True):
        # interacting=False: one SDE, so the replicates run together as one cloud (fast)
        study = poc.euler_study(drift, [1.0], alpha=alpha, sigma=1.0, T=1.0, steps=steps,
                                replicates=replicates, interacting=False, seed=args.seed,
                                expected=1 / alpha, tolerance=0.05, relation="at_least")
        print(study.summary(), end="\n\n")
        study.plot(ax, main_only=True, label=f"alpha = {alpha:g}", color=color)
        verdicts.append(study.verdict.passed)

    ax.set_title("Single SDE dx = (sin x - x) dt + dL: strong error against the step", fontsize=9)
    args.out.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out / "euler_discretization.png", dpi=130, bbox_inches="tight")
    print(f"{sum(verdicts)}/{len(verdicts)} orders at least 1/alpha; "
          f"figure in {args.out / 'euler_discretization.png'}")
    return 0 if all(verdicts) else 1


if __name__ == "__main__":
    raise SystemExit(main())
