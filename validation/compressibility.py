"""Heavy-tailed noisy SGD makes the trained network compressible.

Claim (Wan, Barsbey, Zaidi, Simsekli, arXiv 2306.08125): train the mean-field
network f(x) = (1/n) sum_i tanh(<theta_i, x>) by SGD with alpha-stable noise
injected into the weights, alpha < 2. The trained columns theta_i are then
approximately i.i.d. and heavy-tailed, so for a fixed kept fraction kappa the
relative error of keeping the kappa n columns of largest norm,

    ||Theta - Theta^(kappa n)||_F / ||Theta||_F,

falls towards 0 as the width n grows. With Gaussian noise or none it does not.

What is measured, and why this way:

* Minibatch noisy SGD (batch 32) on teacher-student data (256 points in d = 8),
  step 1 for T = 40 steps, theta_i(0) ~ N(0, I). The noise scale
  sigma = 1 / T^(1/alpha) makes the accumulated noise S_alpha(1) per
  coordinate for every alpha: the same scale as the initialisation.
* The paper's step condition eta <= n^(-alpha/2 - 1) would need ~1e7 steps at
  n = 2^11; the step is fixed instead (the chaos and euler checks measure the
  step and width dependence).
* For each width, independent replicates; the slope of log(mean error) against
  log n has a bootstrap interval. Heavy tails pass when the interval lies below
  0 (the theorem gives no rate; n^(1/2 - 1/alpha), the rate for exactly i.i.d.
  rows with tail index alpha, is printed for reference). The controls are shown,
  not judged.

Run: ``python validation/compressibility.py [--full] [--out figures] [--seed 0]``.
It draws the check's main panel (kappa = 0.1) to OUT/compressibility.png.
``poc validate compress`` runs the full check (other noise kinds, tails, pruning).
"""

import argparse
from pathlib import Path

import poc
from poc.data import teacher_student
from poc.drifts import MeanFieldNetwork
from poc.plotting import new_figure

T_STEPS, STEP = 40, 1.0
# (label, alpha, noisy, colour): three heavy-tailed settings, then the two controls
SETTINGS = [("alpha = 1.2", 1.2, True, "#0072B2"), ("alpha = 1.4", 1.4, True, "#E69F00"),
            ("alpha = 1.6", 1.6, True, "#009E73"), ("Gaussian (alpha = 2)", 2.0, True, "#56B4E9"),
            ("no noise", 2.0, False, "#000000")]


def gaussian_start(n, rng):
    """theta_i(0) ~ N(0, I_8), i.i.d."""
    return rng.standard_normal((n, 8))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--full", action="store_true", help="widths up to 2^14 (minutes)")
    p.add_argument("--out", type=Path, default=Path("figures"))
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    ns = [2**k for k in range(6, 15 if args.full else 12)]
    replicates = 24 if args.full else 20

    data = teacher_student(256, 8, n_teacher=4, noise=0.1, seed=args.seed)
    net = MeanFieldNetwork(data.X_train, data.y_train, "tanh")

    fig, axes = new_figure(1, 1, width=6.4, height=5.0)
    ax = axes[0, 0]
    verdicts = []
    for label, alpha, noisy, color in SETTINGS:
        sigma = 1.0 / (STEP * T_STEPS) ** (1 / alpha) if noisy else 0.0
        heavy = alpha < 2
        study = poc.compress_study(
            net, gaussian_start, alpha=alpha, sigma=sigma, T=STEP * T_STEPS, step=STEP, ns=ns,
            replicates=replicates, kappa=0.1, batch_size=32, seed=args.seed,
            # judged only for heavy tails: the error must decrease (interval below 0)
            expected=(0.5 - 1 / alpha) if heavy else None, relation="negative")
        print(f"{label}: {study.summary()}", end="\n\n")
        # the two controls coincide: the Gaussian one is a wide light line under the black one
        study.plot(ax, main_only=True, label=label, color=color,
                   linewidth=4.0 if label.startswith("Gaussian") else 1.4)
        if heavy:
            verdicts.append(study.verdict.passed)

    ax.set_xscale("log", base=2)
    ax.set_ylim(top=1.05)
    ax.set_title("Relative error keeping the 0.1 n largest columns, after noisy SGD", fontsize=9)
    args.out.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out / "compressibility.png", dpi=130, bbox_inches="tight")
    print(f"{sum(verdicts)}/{len(verdicts)} heavy-tailed settings compressible (error falls with n); "
          f"figure in {args.out / 'compressibility.png'}")
    return 0 if all(verdicts) else 1


if __name__ == "__main__":
    raise SystemExit(main())
