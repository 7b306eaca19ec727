"""The compression theorem at its own step condition, as a statement about probability.

Claim (Wan, Barsbey, Zaidi, Simsekli, arXiv 2306.08125; paraphrased, not quoted): for every
kept fraction kappa and every epsilon, delta there is an N such that for n >= N and a step
eta <= n^(-alpha/2 - 1), at a fixed horizon, with probability at least 1 - delta,

    ||Theta^(kappa n) - Theta^n||_F / ||Theta^n||_F <= epsilon,

where Theta^(kappa n) keeps the kappa n columns of largest norm.

What is measured, and why this way:

* The tanh mean-field network f(x) = (1/n) sum_i tanh(<theta_i, x>) on teacher-student data
  (64 points in d = 4), theta_i(0) ~ N(0, I), trained by full-batch noisy SGD (the Euler
  scheme the theorem is about) at the theorem's step: K_n = ceil(T n^(alpha/2 + 1)) steps of
  T / K_n, T = 1 (``poc.compress_study(..., T=1, step="theorem")``).
* sigma = 2: the accumulated noise S_alpha(2) per coordinate outweighs the N(0, 1)
  initialisation, so the stable tail of the columns shows at the widths a laptop reaches.
* The statement is about probability, so the study reports per n the 0.9-quantile of the
  error over independent runs (delta = 0.1) with its interval and P(error <= epsilon) with
  Wilson intervals. The slope of the log 0.9-quantile against log n has a bootstrap interval
  (replicates resampled within each n); heavy tails pass when it lies below 0. Gaussian noise
  (alpha = 2) is shown as a control, not judged.

Run: ``python validation/compression_theorem.py [--full] [--out figures] [--seed 0]``. It draws
OUT/compression_theorem.png. ``poc validate theorem`` runs the whole check (minibatch, kappa in
{0.1, 0.25, 0.5}, the noise-free control, the paired fixed step).
"""

import argparse
from pathlib import Path

import numpy as np

import poc
from poc.data import teacher_student
from poc.drifts import MeanFieldNetwork
from poc.plotting import new_figure
from poc.probability import fit_quantile_rate

KAPPA = 0.25
SETTINGS = [(1.3, "#0072B2"), (1.5, "#E69F00"), (1.7, "#009E73"), (2.0, "#56B4E9")]


def gaussian_start(n, rng):
    """theta_i(0) ~ N(0, I_4), i.i.d."""
    return rng.standard_normal((n, 4))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--full", action="store_true", help="widths up to 512, 100 replicates (hours)")
    p.add_argument("--out", type=Path, default=Path("figures"))
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    ns = [2**k for k in range(3, 10 if args.full else 7)]
    replicates = 100 if args.full else 40

    data = teacher_student(64, 4, n_teacher=4, noise=0.1, seed=args.seed)
    net = MeanFieldNetwork(data.X_train, data.y_train, "tanh")

    fig, axes = new_figure(1, 2, width=5.6, height=4.4)
    verdicts = []
    for alpha, color in SETTINGS:
        study = poc.compress_study(net, gaussian_start, alpha=alpha, sigma=2.0, T=1.0,
                                   step="theorem", ns=ns, replicates=replicates, kappa=KAPPA,
                                   delta=0.1, seed=args.seed)
        print(f"alpha = {alpha:g}: {study.summary()}", end="\n\n")
        rows = study.data["best_k_error"][f"{KAPPA:g}"]
        fit = fit_quantile_rate(ns, rows, q=0.9, seed=args.seed)
        q = fit.quantiles
        err = np.abs(fit.quantile_ci.T - q)
        err[~np.isfinite(err)] = 0.0
        axes[0, 0].errorbar(ns, q, yerr=err, color=color, marker="o", capsize=2,
                            label=f"alpha = {alpha:g}: slope {fit.slope:+.3f} "
                                  f"[{fit.ci[0]:+.3f}, {fit.ci[1]:+.3f}]")
        prob = study.data["probability"][f"{KAPPA:g}"]["0.3"]
        axes[0, 1].errorbar(ns, prob["p"], yerr=[np.subtract(prob["p"], prob["low"]),
                                                 np.subtract(prob["high"], prob["p"])],
                            color=color, marker="o", capsize=2, label=f"alpha = {alpha:g}")
        if alpha < 2:
            # judged only for heavy tails: the 0.9-quantile decreases (interval below 0)
            verdicts.append(fit.ci[1] < 0)
            print(f"alpha = {alpha:g}: 0.9-quantile slope {fit.slope:+.3f} "
                  f"[{fit.ci[0]:+.3f}, {fit.ci[1]:+.3f}] -> "
                  f"{'PASS' if fit.ci[1] < 0 else 'FAIL'} (pass if the interval is below 0)")
    for ax in axes[0]:
        ax.set_xscale("log", base=2)
        ax.legend(fontsize=7)
    axes[0, 0].set_yscale("log")
    axes[0, 0].set(xlabel="width n", ylabel="0.9-quantile of the relative best-k error",
                   title=f"kappa = {KAPPA:g}, theorem step eta_n = T / ceil(T n^(alpha/2+1))")
    axes[0, 1].axhline(0.9, color="0.5", linestyle="--", linewidth=0.8)
    axes[0, 1].set(xlabel="width n", ylabel="P(error <= 0.3)", ylim=(-0.02, 1.02),
                   title="P(error <= 0.3) with Wilson 95 % intervals")
    args.out.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(args.out / "compression_theorem.png", dpi=130)
    ok = all(verdicts)
    print("PASS" if ok else "FAIL", f"({sum(verdicts)}/{len(verdicts)} heavy-tailed alphas)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
