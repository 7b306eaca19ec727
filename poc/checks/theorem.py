r"""Check ``theorem``: the compression theorem at its own step condition, as a probability.

The theorem (Wan, Barsbey, Zaidi, Simsekli 2024, arXiv 2306.08125, the main
compressibility theorem of the section on compressibility; docs/theory.rst,
"The theorem at its step condition"). In our paraphrase (not a quotation): for
every kept fraction ``kappa`` and every ``epsilon, delta > 0`` there is an ``N``
such that for ``n >= N`` and a step ``eta <= n^(-alpha/2 - 1)``, the noisy-SGD
weights at a fixed time ``t`` (iterate ``floor(t / eta)``) satisfy, with
probability at least ``1 - delta``,

    ||Theta^(kappa n) - Theta^n||_F / ||Theta^n||_F <= epsilon,

where ``Theta^(kappa n)`` keeps the ``kappa n`` columns of largest norm. The
statement is about a probability, so it is checked on the ``(1 - delta)``-quantile
of the error over independent runs and on ``P(error <= epsilon)``, at the step
the theorem assumes: ``K_n = ceil(T n^(alpha/2 + 1))`` steps of ``eta_n = T / K_n``.

Method.

* Model: :class:`poc.drifts.MeanFieldNetwork` (tanh, second layer fixed to 1) on
  teacher-student data (:func:`poc.data.teacher_student`: ``m = 64`` points in
  ``d = 4``, 4 teacher units, label noise 0.1), ``theta_i(0) ~ N(0, I_d)`` i.i.d.,
  as in the ``compress`` check but smaller (the step condition multiplies the
  number of steps by ``n^(alpha/2 + 1)``).
* Horizon and noise: ``T = 1`` and ``sigma = 2``. The accumulated noise
  ``sigma L(T)`` is then ``S_alpha(2)`` per coordinate, twice the scale of the
  initialisation, while the drift is bounded (tanh network, bounded data) and
  moves a column by O(T) = O(1). So the largest column norms come from the
  stable part already at n = 16..256 (the widths a laptop reaches at this step),
  which is what the theorem's limit is about; a larger T would cost ``K_n``
  proportionally more steps, and a smaller sigma would let the light-tailed
  initialisation hide the tail at these widths. In pure sampling (no drift:
  ``N(0, I) + 2 S_alpha``) the 0.9-quantile slopes at n = 16..256 are close to
  the i.i.d. exponent ``1/2 - 1/alpha`` (e.g. -0.16 against -0.17 at alpha = 1.5,
  kappa = 0.25).
* Conditions: alpha in {1.3, 1.5, 1.7} with "iid" noise, full batch (the Euler
  scheme the theorem is about) and minibatch 16 (noisy SGD, a second condition);
  controls: Gaussian noise (alpha = 2, ``K_n = T n^2``) and no noise (plain
  gradient descent, the step of alpha = 1.5); the paired fixed step: every heavy
  alpha also at a fixed step ``T / 10`` (10 steps), full batch, with the same
  seeds (same data, same initial values replicate by replicate).
* Widths n = 2^4 .. and replicates per mode (:func:`settings`); a condition runs
  only the widths whose ``K_n`` is at most ``max_steps``. Each condition is one
  :func:`poc.compress_study` with ``step="theorem"`` (the code a user calls),
  whose blocks of replicates are work units (cache, resume, Dask); the
  conditions of one alpha share the study seed, so their replicates are paired.
* Per run: the relative best-k error (:func:`poc.compress.best_k_error`) at
  ``kappa`` in {0.1, 0.25, 0.5} and the training loss.

Verdicts and thresholds.

* Judged, for every heavy alpha, batch condition and kappa: the 0.9-quantile
  (``delta = 0.1``) of the error decreases with n: the 95 % bootstrap interval of
  the slope of its log against log n (replicates resampled within each n,
  :func:`poc.probability.fit_quantile_rate`) lies below 0. The theorem gives no
  rate; ``n^(1/2 - 1/alpha)``, that of exactly i.i.d. rows, is recorded for
  reference and not judged.
* Recorded: ``P(error <= epsilon)`` for epsilon in {0.5, 0.3, 0.2} with Wilson
  intervals; the smallest measured n whose Wilson lower end reaches 0.9; ``N(epsilon)``
  extrapolated from the fitted quantile law, with its bootstrap interval; the
  ratio of the 0.9-quantiles, theorem step over fixed step, per n with a paired
  bootstrap interval.
* Controls (Gaussian, no noise): recorded, not judged. With light tails the
  best-k error tends to a positive constant; at small n its quantiles may still
  fall towards it, so a slightly negative control slope is no contradiction.

Sizes and time. Quick: n = 8..64, 40 replicates, 11 conditions (3.6e7 particle-steps),
about 20 s of simulation on one thread. Full: n = 16 up to 4096 (every width with
K_n <= 1.1e6: 4096 for alpha = 1.3, 2048 for 1.5 and the noise-free control, 1024 for 1.7
and the Gaussian), 128 replicates: a cluster job. ``benchmarks/bench_theorem_full.py``
projects it from measured per-step times (and checks the projection on the quick mode);
the performance page gives its numbers. Not run here.

References
----------
Wan, Barsbey, Zaidi, Simsekli (2024), arXiv 2306.08125; Gribonval, Cevher,
Davies (2012), IEEE Trans. Inf. Theory 58(8); Wilson (1927), JASA 22(158).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..data import teacher_student
from ..drifts import MeanFieldNetwork
from ..probability import (
    QuantileFit,
    fit_quantile_rate,
    n_for_error,
    quantile_ratio,
    smallest_n_reaching,
    wilson_interval,
)
from ..studies import compress_study, theorem_step
from ..units import map_concurrently
from ._base import Case, Context

NAME = "theorem"
TITLE = ("The compression theorem at its step condition eta <= n^(-alpha/2-1): at a fixed "
         "horizon, the 0.9-quantile over runs of the relative best-k error of noisy SGD with "
         "alpha-stable noise (alpha < 2) falls as the width n grows.")

KAPPAS = (0.1, 0.25, 0.5)
EPSILONS = (0.5, 0.3, 0.2)
DELTA = 0.1  # the theorem's delta: the 0.9-quantile is judged
HEAVY_ALPHAS = (1.3, 1.5, 1.7)
NO_NOISE_STEP_ALPHA = 1.5  # the noise-free control runs at the step of this alpha


@dataclass(frozen=True)
class Settings:
    """Sizes and model parameters of one mode of the check."""

    log2_n: tuple[int, ...]
    replicates: int
    max_steps: float  # a condition runs the widths with K_n <= max_steps
    m: int = 64
    d: int = 4
    n_teacher: int = 4
    label_noise: float = 0.1
    T: float = 1.0
    sigma: float = 2.0
    batch_size: int = 16
    fixed_steps: int = 10  # the paired fixed step is T / fixed_steps
    init_scale: float = 1.0

    @property
    def ns(self) -> np.ndarray:
        return np.array([2**k for k in self.log2_n], dtype=np.int64)


def settings(quick: bool) -> Settings:
    """Quick: n = 8..64, 40 replicates. Full: n = 16..4096 (as far as K_n <= 1.1e6), 100."""
    if quick:
        return Settings(log2_n=(3, 4, 5, 6), replicates=40, max_steps=1.0e4)
    return Settings(log2_n=tuple(range(4, 13)), replicates=128, max_steps=1.1e6)


def theorem_steps(n: int, alpha: float, T: float) -> tuple[int, float]:
    """``K_n = ceil(T n^(alpha/2 + 1))`` steps of ``eta_n = T / K_n <= n^(-alpha/2 - 1)``
    (:func:`poc.studies.theorem_step`)."""
    return theorem_step(n, alpha, T)


@dataclass(frozen=True)
class Condition:
    """One training setting.

    ``role``: "heavy" (judged), "gaussian", "none" (controls) or "fixed" (the
    paired fixed step of a heavy alpha, recorded). ``key`` is the seed key: the
    conditions of one alpha share it, so their replicates start from the same
    initial values.
    """

    label: str
    alpha: float
    role: str
    batch: bool
    key: int
    step_alpha: float

    @property
    def sigma_on(self) -> bool:
        return self.role != "none"


def conditions() -> list[Condition]:
    """Heavy full batch, heavy minibatch, the two controls, the fixed-step pairs."""
    out = [Condition(f"alpha = {a:g}, full batch", a, "heavy", False, round(100 * a), a)
           for a in HEAVY_ALPHAS]
    out += [Condition(f"alpha = {a:g}, minibatch", a, "heavy", True, round(100 * a), a)
            for a in HEAVY_ALPHAS]
    out.append(Condition("Gaussian (alpha = 2)", 2.0, "gaussian", False, 200, 2.0))
    # sigma = 0 draws no noise: alpha only sets the step, that of NO_NOISE_STEP_ALPHA
    out.append(Condition("no noise", NO_NOISE_STEP_ALPHA, "none", False, 0, NO_NOISE_STEP_ALPHA))
    out += [Condition(f"alpha = {a:g}, fixed step", a, "fixed", False, round(100 * a), a)
            for a in HEAVY_ALPHAS]
    return out


def widths(cond: Condition, s: Settings) -> list[int]:
    """The widths of ``s`` whose theorem step count is at most ``s.max_steps``."""
    return [int(n) for n in s.ns if theorem_steps(int(n), cond.step_alpha, s.T)[0] <= s.max_steps]


def n_steps(cond: Condition, n: int, s: Settings) -> int:
    """Steps run at width n: the theorem's ``K_n``, or ``s.fixed_steps`` for the fixed step."""
    return s.fixed_steps if cond.role == "fixed" else theorem_steps(n, cond.step_alpha, s.T)[0]


@dataclass(frozen=True)
class GaussianStart:
    """``theta_i(0) ~ N(0, scale^2 I_d)`` i.i.d.: the ``x0`` of the studies (picklable)."""

    d: int
    scale: float = 1.0

    def __call__(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return self.scale * rng.standard_normal((n, self.d))


@dataclass
class Results:
    """Everything measured for one condition: per width, replicate arrays."""

    ns: list[int]
    n_steps: list[int]
    errors: list[np.ndarray]  # per n: (r, len(KAPPAS))
    loss: list[np.ndarray]  # per n: (r,)

    def rows(self, j: int) -> list[np.ndarray]:
        return [e[:, j] for e in self.errors]


def make_network(s: Settings, seed) -> MeanFieldNetwork:
    """The tanh mean-field network on the check's teacher-student data."""
    data = teacher_student(s.m, s.d, n_teacher=s.n_teacher, noise=s.label_noise, seed=seed)
    return MeanFieldNetwork(data.X_train, data.y_train, "tanh")


def run_condition(ctx: Context, s: Settings, cond: Condition, net: MeanFieldNetwork) -> Results:
    """Every width and replicate of one condition: one :func:`poc.compress_study`.

    The conditions of one alpha (full batch, minibatch, fixed step) share the study seed
    ``ctx.rng(1, key)`` and the widths, hence the work-unit seeds: replicate i starts from
    the same initial values, with the same noise stream, in each (paired).
    """
    study = compress_study(
        net, GaussianStart(s.d, s.init_scale), alpha=cond.alpha,
        sigma=s.sigma if cond.sigma_on else 0.0, T=s.T,
        step=s.T / s.fixed_steps if cond.role == "fixed" else "theorem", ns=widths(cond, s),
        replicates=s.replicates, kappa=KAPPAS, delta=DELTA, epsilons=EPSILONS,
        batch_size=s.batch_size if cond.batch else None, seed=ctx.rng(1, cond.key),
        fit_seed=[ctx.rng(2, cond.key, j) for j in range(len(KAPPAS))],
        progress=ctx.units_bar(), client=ctx.client, cache=ctx.cache)
    d = study.data
    errors = [np.column_stack([d["best_k_error"][f"{k:g}"][i] for k in KAPPAS])
              for i in range(len(d["n"]))]
    return Results(list(d["n"]), list(d["n_steps"]), errors, list(d["loss"]))


def expected_exponent(alpha: float) -> float:
    """``1/2 - 1/alpha``: the best-k error's exponent for exactly i.i.d. rows of tail index alpha."""
    return 0.5 - 1.0 / alpha


def decay_verdict(fit: QuantileFit) -> tuple[bool, str]:
    """The judged claim: the 0.9-quantile decreases (the slope's interval lies below 0)."""
    passed = bool(fit.ci[1] < 0.0)
    text = (f"0.9-quantile slope {fit.slope:+.3f} [{fit.ci[0]:+.3f}, {fit.ci[1]:+.3f}] "
            f"({'below 0: the quantile decreases' if passed else 'not below 0'}; pass if the "
            f"{round(100 * fit.level)} % interval is below 0)")
    return passed, text


def probabilities(res: Results, j: int, fit: QuantileFit) -> dict:
    """``P(error <= epsilon)`` per n with Wilson intervals, the first n reaching 0.9, N(epsilon)."""
    out = {}
    trials = np.array([e.shape[0] for e in res.errors])
    for eps in EPSILONS:
        succ = np.array([int(np.count_nonzero(r <= eps)) for r in res.rows(j)])
        p, lo, hi = wilson_interval(succ, trials)
        n_eps, n_lo, n_hi = n_for_error(fit, eps)
        out[f"{eps:g}"] = {"p": p, "wilson_low": lo, "wilson_high": hi,
                           "smallest_n_reaching_0.9": smallest_n_reaching(res.ns, succ, trials,
                                                                          target=1.0 - DELTA),
                           "N_epsilon": n_eps, "N_epsilon_ci": (n_lo, n_hi)}
    return out


def paired_ratios(ctx: Context, theo: Results, fixed: Results, j: int, key: int) -> dict:
    """Ratio of 0.9-quantiles, theorem step over fixed step, per n (paired bootstrap)."""
    rat, lo, hi = [], [], []
    for i, _ in enumerate(theo.ns):
        r, a, b = quantile_ratio(theo.errors[i][:, j], fixed.errors[i][:, j], q=1.0 - DELTA,
                                 paired=True, seed=ctx.rng(4, key, j, i))
        rat.append(r)
        lo.append(a)
        hi.append(b)
    return {"n": list(theo.ns), "ratio": rat, "low": lo, "high": hi}


def describe_ratio(pr: dict) -> str:
    """A plain sentence: does the step condition change the 0.9-quantile?"""
    lo, hi = np.array(pr["low"]), np.array(pr["high"])
    parts = ", ".join(f"n = {n}: {r:.3f} [{a:.3f}, {b:.3f}]"
                      for n, r, a, b in zip(pr["n"], pr["ratio"], lo, hi, strict=True))
    if np.all((lo <= 1.0) & (hi >= 1.0)):
        verdict = "no measurable difference (every interval contains 1)"
    elif np.all(hi < 1.0):
        verdict = "the theorem's step gives a smaller 0.9-quantile at every n"
    elif np.all(lo > 1.0):
        verdict = "the theorem's step gives a larger 0.9-quantile at every n"
    else:
        verdict = "the step changes the 0.9-quantile at some widths (intervals excluding 1)"
    return f"{parts}: {verdict}"


def run(ctx: Context) -> list[Case]:
    return run_with(ctx, settings(ctx.quick))


def run_with(ctx: Context, s: Settings) -> list[Case]:
    """Run the check with the given settings (``run`` uses the mode's)."""
    conds = conditions()
    for c in conds:
        if len(widths(c, s)) < 3:
            raise ValueError(f"{c.label}: fewer than 3 widths with K_n <= {s.max_steps:g}")
    net = make_network(s, ctx.rng(0))
    results = map_concurrently(lambda c: run_condition(ctx, s, c, net), conds, ctx.client)
    res = {c.label: r for c, r in zip(conds, results, strict=True)}
    q = 1.0 - DELTA
    fits = {(c.label, j): fit_quantile_rate(res[c.label].ns, res[c.label].rows(j), q=q,
                                            seed=ctx.rng(3, c.key, int(c.batch), j,
                                                         ["heavy", "gaussian", "none",
                                                          "fixed"].index(c.role)))
            for c in conds for j in range(len(KAPPAS))}
    cases = []
    for c in conds:
        if c.role != "heavy":
            continue
        r = res[c.label]
        fixed = None if c.batch else res[f"alpha = {c.alpha:g}, fixed step"]
        for j, kap in enumerate(KAPPAS):
            f = fits[c.label, j]
            passed, text = decay_verdict(f)
            probs = probabilities(r, j, f)
            ratio = None if fixed is None else paired_ratios(ctx, r, fixed, j, c.key)
            p03 = probs["0.3"]
            detail = (f"{text}; 0.9-quantile {f.quantiles[0]:.3f} at n = "
                      f"{r.ns[0]} -> {f.quantiles[-1]:.3f} at n = {r.ns[-1]}; P(error <= 0.3) "
                      f"{p03['p'][0]:.2f} -> {p03['p'][-1]:.2f}; i.i.d. reference exponent "
                      f"{expected_exponent(c.alpha):+.3f}, not judged")
            cases.append(Case(
                name=f"{c.label}: 0.9-quantile of the best-k error decreases, kappa = {kap:g}",
                passed=passed, detail=detail, measured_rate=f.slope, ci=f.ci,
                expected_rate=expected_exponent(c.alpha),
                values={"alpha": c.alpha, "kappa": kap, "batch_size": s.batch_size if c.batch
                        else None, "sigma": s.sigma, "T": s.T, "n": r.ns, "n_steps": r.n_steps,
                        "step": [s.T / k for k in r.n_steps], "replicates": s.replicates,
                        "quantile_0.9": f.quantiles, "quantile_0.9_ci": f.quantile_ci,
                        "error_mean": [float(x.mean()) for x in r.rows(j)],
                        "probabilities": probs, "ratio_to_fixed_step": ratio,
                        "fixed_step": s.T / s.fixed_steps,
                        "train_loss_at_n_max": float(r.loss[-1].mean())}))
    _notes(ctx, s, conds, res, fits)
    _figure(ctx, s, conds, res, fits, cases)
    return cases


def _notes(ctx: Context, s: Settings, conds, res, fits) -> None:
    ns = res[conds[0].label].ns
    steps = "; ".join(f"alpha = {a:g}: K_n = " + ", ".join(
        str(theorem_steps(int(n), a, s.T)[0]) for n in ns) for a in (*HEAVY_ALPHAS, 2.0))
    ctx.notes.append(
        f"Training: tanh mean-field network, teacher-student data (m = {s.m}, d = {s.d}), T = "
        f"{s.T:g}, sigma = {s.sigma:g} (sigma L(T) ~ S_alpha(sigma T^(1/alpha)) per coordinate), "
        f"{s.replicates} replicates per n, n = {', '.join(map(str, ns))}; the theorem's "
        f"step eta_n = T / ceil(T n^(alpha/2+1)): {steps}. Minibatch condition: batch "
        f"{s.batch_size} of {s.m}.")
    for c in conds:
        if c.role not in ("gaussian", "none"):
            continue
        parts = []
        for j, kap in enumerate(KAPPAS):
            f = fits[c.label, j]
            parts.append(f"kappa = {kap:g}: slope {f.slope:+.3f} [{f.ci[0]:+.3f}, {f.ci[1]:+.3f}], "
                         f"0.9-quantile {f.quantiles[-1]:.3f} at n = {res[c.label].ns[-1]}")
        ctx.notes.append(f"Control {c.label} (recorded, not judged): " + "; ".join(parts) + ".")
    for a in HEAVY_ALPHAS:
        theo, fixed = res[f"alpha = {a:g}, full batch"], res[f"alpha = {a:g}, fixed step"]
        j = KAPPAS.index(0.25)
        pr = paired_ratios(ctx, theo, fixed, j, round(100 * a))
        ctx.notes.append(
            f"Step condition against a fixed step {s.T / s.fixed_steps:g} (same seeds, full batch), "
            f"alpha = {a:g}, kappa = 0.25, ratio of 0.9-quantiles theorem/fixed: "
            + describe_ratio(pr) + ".")
    losses = ", ".join(f"{c.label} {res[c.label].loss[-1].mean():.4f}" for c in conds)
    init = make_network(s, ctx.rng(0)).loss(s.init_scale * ctx.rng(5).standard_normal(
        (int(ns[-1]), s.d)))
    noisy = [float(res[c.label].loss[-1].mean()) for c in conds if c.sigma_on]
    quiet = float(res[next(c.label for c in conds if c.role == "none")].loss[-1].mean())
    ctx.notes.append(
        f"Training loss at the largest n (mean over replicates): {losses}; at initialisation "
        f"{init:.4f} (one draw). " + (
            f"The noisy runs end above the noise-free one ({min(noisy):.4f} to {max(noisy):.4f} "
            f"against {quiet:.4f}): at sigma = {s.sigma:g} the injected noise outweighs the "
            f"gradient over T = {s.T:g}. " if min(noisy) > quiet else "")
        + "The theorem is about the weights at a fixed horizon, not about convergence of the "
        "training; the minibatch runs differ from the full-batch ones by a gradient noise of "
        "order eta^(1/2) (the euler check), which is small at these step counts.")
    ctx.tables.append(_table(conds, res, fits))


def _table(conds, res, fits) -> str:
    lines = ["0.9-quantile of the relative best-k error (theorem step), its slope in n, and "
             "P(error <= 0.3) at the largest n (Wilson 95 %):", "",
             "| condition | kappa | slope [95 % CI] | q0.9 at n_min -> n_max | P(err <= 0.3) at n_max "
             "| first n with P >= 0.9 | N(0.3) [CI] |", "|" + "---|" * 7]
    for c in conds:
        if c.role == "fixed":
            continue
        r = res[c.label]
        for j, kap in enumerate(KAPPAS):
            f = fits[c.label, j]
            probs = probabilities(r, j, f)["0.3"]
            n0 = probs["smallest_n_reaching_0.9"]
            ne, (nl, nh) = probs["N_epsilon"], probs["N_epsilon_ci"]
            lines.append(
                f"| {c.label} | {kap:g} | {f.slope:+.3f} [{f.ci[0]:+.3f}, {f.ci[1]:+.3f}] | "
                f"{f.quantiles[0]:.3f} -> {f.quantiles[-1]:.3f} | {probs['p'][-1]:.2f} "
                f"[{probs['wilson_low'][-1]:.2f}, {probs['wilson_high'][-1]:.2f}] | "
                f"{n0 if n0 is not None else 'none measured'} | {_big(ne)} [{_big(nl)}, {_big(nh)}] |")
    return "\n".join(lines)


def _big(x: float) -> str:
    return "inf" if not math.isfinite(x) else f"{x:.3g}"


_COLORS = {1.3: "#0072B2", 1.5: "#E69F00", 1.7: "#009E73"}


def _style(c: Condition) -> dict:
    if c.role == "gaussian":
        return {"color": "#56B4E9", "marker": "D", "linestyle": "-", "mfc": "none"}
    if c.role == "none":
        return {"color": "#000000", "marker": "x", "linestyle": ":"}
    col = _COLORS[c.alpha]
    if c.role == "fixed":
        return {"color": col, "marker": "s", "linestyle": "--", "mfc": "none"}
    return {"color": col, "marker": "^" if c.batch else "o", "linestyle": "-." if c.batch else "-"}


def _figure(ctx: Context, s: Settings, conds, res, fits, cases) -> None:
    from ..plotting import new_figure, verdict_badge

    fig, axes = new_figure(2, 3, width=5.0, height=4.2)
    for j, kap in enumerate(KAPPAS):
        ax = axes[0, j]
        for c in conds:
            if c.role == "fixed":  # in the ratio panel
                continue
            f, r = fits[c.label, j], res[c.label]
            st = _style(c)
            if c.batch:  # nearly on the full-batch curve: markers only
                ax.plot(r.ns, f.quantiles, st["marker"], color=st["color"], markersize=5,
                        mfc="none", label=f"{c.label}: {f.slope:+.3f}")
                continue
            yerr = np.abs(f.quantile_ci.T - f.quantiles)
            yerr[~np.isfinite(yerr)] = 0.0
            ax.errorbar(r.ns, f.quantiles, yerr=yerr, capsize=2, markersize=4, linewidth=1.2,
                        label=f"{c.label}: {f.slope:+.3f}", **st)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set(xlabel="width n", ylabel="0.9-quantile of the relative best-k error",
               title=f"kappa = {kap:g}: 0.9-quantile over runs (95 % CI)")
        lo, hi = ax.get_ylim()
        ax.set_ylim(lo / 2.5, hi)  # room below the curves for the legend and the badge
        ax.legend(fontsize=5.5, loc="lower left", bbox_to_anchor=(0.0, 0.08), ncol=2)
        mine = [cs for cs in cases if cs.name.endswith(f"kappa = {kap:g}")]
        verdict_badge(ax, all(cs.passed for cs in mine),
                      f"{sum(cs.passed for cs in mine)}/{len(mine)} slopes < 0")
    j = KAPPAS.index(0.25)
    for i, eps in enumerate(EPSILONS[:2]):
        ax = axes[1, i]
        for c in conds:
            if c.role == "fixed" or c.batch:  # minibatch: nearly the full-batch numbers
                continue
            r = res[c.label]
            pr = probabilities(r, j, fits[c.label, j])[f"{eps:g}"]
            st = _style(c)
            ax.errorbar(r.ns, pr["p"], yerr=[pr["p"] - pr["wilson_low"], pr["wilson_high"] - pr["p"]],
                        capsize=2, markersize=4, linewidth=1.2, label=c.label, **st)
        ax.axhline(1.0 - DELTA, color="0.5", linewidth=0.8, linestyle="--")
        ax.set_xscale("log", base=2)
        ax.set(xlabel="width n", ylabel=f"P(error <= {eps:g})", ylim=(-0.02, 1.02),
               title=f"kappa = 0.25: P(error <= {eps:g}) (Wilson 95 %)")
        ax.legend(fontsize=5.5, loc="upper left")
    ax = axes[1, 2]
    for a in HEAVY_ALPHAS:
        theo, fixed = res[f"alpha = {a:g}, full batch"], res[f"alpha = {a:g}, fixed step"]
        pr = paired_ratios(ctx, theo, fixed, j, round(100 * a))
        rr = np.array(pr["ratio"])
        ax.errorbar(pr["n"], rr, yerr=[rr - pr["low"], np.array(pr["high"]) - rr], capsize=2,
                    marker="o", markersize=4, color=_COLORS[a], label=f"alpha = {a:g}")
    ax.axhline(1.0, color="0.5", linewidth=0.8)
    ax.set_xscale("log", base=2)
    ax.set(xlabel="width n", ylabel="0.9-quantile ratio, theorem step / fixed step",
           title=f"kappa = 0.25: step condition vs fixed step {s.T / s.fixed_steps:g} (paired)")
    ax.legend(fontsize=6)
    fig.suptitle(f"Compression theorem at its step condition (T = {s.T:g}, sigma = {s.sigma:g}, "
                 f"{s.replicates} replicates per n)", fontsize=11)
    fig.tight_layout()
    ctx.save_figure(fig, "theorem.png")
