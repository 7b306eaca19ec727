r"""Check ``compress``: heavy-tailed noisy SGD makes the trained network compressible.

Claim (Wan, Barsbey, Zaidi, Simsekli 2024, arXiv 2306.08125; :ref:`theory-chain`, chain
item 3). Train the mean-field network by noisy SGD with alpha-stable noise,
``alpha < 2``. As the width n grows the trained columns ``theta_i`` become
i.i.d. copies of a heavy-tailed limit law (propagation of chaos), so for every
fixed kept fraction ``kappa`` the relative error of the best ``kappa n``-term
approximation, ``||Theta - Theta^(kappa n)||_F / ||Theta||_F`` (keep the
``ceil(kappa n)`` columns of largest norm), falls towards 0 as n grows
(Gribonval, Cevher and Davies 2012). With Gaussian noise (alpha = 2) or no
noise the columns are light-tailed and nothing forces the error down.

Method.

* Model: :class:`poc.drifts.MeanFieldNetwork` with tanh on teacher-student
  data (:func:`poc.data.teacher_student`: ``m = 256`` points in ``d = 8``,
  4 teacher units, label noise 0.1), ``theta_i(0) ~ N(0, I_d)`` i.i.d.
  Training: :func:`poc.simulate` with minibatches of 32 (noisy SGD: gradient
  step, then ``sigma * step^(1/alpha) * noise``), step 1 for a fixed horizon
  ``T = 40`` (40 steps). Noise-free, this reaches a training loss of about
  0.008 from 0.055 at initialisation (label-noise floor 0.005); steps 0.2 and
  0.5 give the same loss curve.
* Step size: the paper's condition ``eta <= n^(-alpha/2 - 1)`` would need
  ``T / eta`` ~ 2e7 steps at ``n = 2^11``, alpha = 1.4; the step is fixed instead (the ``euler`` and
  ``chaos`` checks measure the step and width dependence). The limit law is
  then that of the Euler scheme with step 1, still heavy-tailed.
* Noise scale: ``sigma = 1 / T^(1/alpha)``, so the accumulated noise
  ``sigma L(T)`` is ``S_alpha(1)`` per coordinate for every alpha: the same
  scale as the initialisation. A light-tailed part (initialisation, the
  bounded gradient steps) delays the asymptotics; at this scale the stable
  part dominates the largest norms at laptop widths while the network still
  learns (the training losses are reported).
* alpha in {1.2, 1.4, 1.6} with "iid" noise; at alpha = 1.4 also the
  "isotropic" and "neuron" kinds (the paper's other noise types); controls:
  Gaussian noise (alpha = 2, same sigma rule, ``N(0, 2)`` per coordinate at
  T) and no noise (plain minibatch SGD). alpha is kept away from 2 because
  the predicted decay is very slow there (below).
* Widths n = 2^6 .. 2^11 (quick) or 2^6 .. 2^14 (full), independent
  replicates: 20 (quick) or 24 (full), one :func:`poc.compress_study` per
  condition (the code a user calls; seeds ``SeedSequence([seed, study id,
  unit index])`` from ``ctx.rng(1, condition)``). Per run: the best-k errors at ``kappa = 0.1`` and ``0.25``
  (:func:`poc.compress.best_k_error`), the paper's prunable fraction at
  threshold 0.1 (:func:`poc.compress.prunable_fraction`) and the training loss.
* Rates: log-log least-squares slope of the replicate-mean error against n,
  with bootstrap intervals over replicates (:func:`poc.rates.fit_rate`): the
  study's own fit of each kappa's curve, its bootstrap seeded by 0.
  Reference exponent: for i.i.d. rows whose norms have tail index
  ``alpha < 2`` the squared norms sum like ``n^(2/alpha)`` while the dropped
  ``(1 - kappa) n`` smallest sum like ``n``, so the error decays like
  ``n^(1/2 - 1/alpha)``: -1/3, -3/14 and -1/8 for alpha = 1.2, 1.4, 1.6
  (and about -0.06 at alpha = 1.8, too slow to resolve at these widths).
* Tails: survival function of the column norms at the largest n (all
  replicates pooled; the study's ``data["norms_at_n_max"]``), with the study's
  Hill estimate (``k = sqrt(n)`` upper order statistics, per replicate) and the
  block-sum estimate on the norms times independent random signs (the block-sum
  estimator needs centred symmetric data; :func:`poc.compress.block_sum_tail_index`), against alpha.

Verdicts and thresholds.

* Each heavy-tailed condition (3 alphas with "iid" noise and 2 other kinds
  at alpha = 1.4) and each kappa: passes when the 95 % bootstrap interval of
  the slope lies below 0 (``judge(..., relation="negative")``): the error
  decreases with n. The theorem gives no rate; ``n^(1/2 - 1/alpha)`` is shown
  as ``expected_rate`` for reference and is not judged. 20 replicates in quick
  mode make the intervals about +-0.05 wide at alpha = 1.6 (slope about
  -0.13): over seeds 0..5 every case passed, the largest upper end was -0.037.
* Controls (Gaussian, no noise): recorded, not judged (notes and the
  ``control_slopes`` values of every case): the theorem says nothing about
  them, and a flat error is what light tails give.

Sizes and time: quick 6 widths x 20 replicates x 7 conditions (840 trainings),
about 43 s of CPU (45-65 s wall on 2 cores shared with other jobs, plus about
15 s of Numba compilation on a first run); full 9 widths x 24 replicates
(1512 trainings), about 4 minutes of CPU (6-8 minutes wall on a shared
machine). The small per-step BLAS products run on one BLAS thread (through
threadpoolctl, see poc._threads): on a shared 2-core machine, waking the
second OpenBLAS thread made the steps up to 10x slower. Results do not depend
on it.

References
----------
Wan, Barsbey, Zaidi, Simsekli (2024), arXiv 2306.08125, Sections 4-5;
Gribonval, Cevher, Davies (2012), IEEE Trans. Inf. Theory 58(8);
Hill (1975), Ann. Statist. 3(5); Mohammadi, Mohammadpour, Ogata (2015), Metrika 78(5).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..compress import best_k_error, block_sum_tail_index, prunable_fraction
from ..data import teacher_student
from ..drifts import MeanFieldNetwork
from ..particles import simulate
from ..rates import RateFit, Verdict, judge
from ..studies import compress_study
from ..units import map_concurrently
from ._base import Case, Context
from ._judges import hill_verdict

NAME = "compress"
TITLE = ("Heavy-tailed noisy SGD (alpha < 2) makes the trained mean-field network compressible: "
         "the relative error of keeping its kappa*n largest columns falls as the width n grows "
         "(Gaussian and noise-free training shown as controls).")

KAPPAS = (0.1, 0.25)  # kept fractions (the examples)
PRUNE_THRESHOLD = 0.1  # the paper's squared relative error budget for its pruning rule
HEAVY_ALPHAS = (1.2, 1.4, 1.6)  # predicted slopes -0.33, -0.21, -0.13: resolvable at n <= 2^14
KIND_ALPHA = 1.4  # alpha at which the "isotropic" and "neuron" kinds are also run


@dataclass(frozen=True)
class Settings:
    """Sizes and model parameters of one mode of the check."""

    log2_n: tuple[int, ...]
    replicates: int
    m: int = 256
    d: int = 8
    n_teacher: int = 4
    label_noise: float = 0.1
    batch_size: int = 32
    step: float = 1.0
    n_steps: int = 40
    noise_scale: float = 1.0  # scale of the accumulated noise sigma * L(T), per coordinate
    init_scale: float = 1.0  # theta_i(0) ~ N(0, init_scale^2 I_d)

    @property
    def ns(self) -> np.ndarray:
        return np.array([2**k for k in self.log2_n], dtype=np.int64)

    @property
    def horizon(self) -> float:
        return self.step * self.n_steps


def settings(quick: bool) -> Settings:
    """The sizes of quick and full mode (see the module docstring)."""
    if quick:
        return Settings(log2_n=tuple(range(6, 12)), replicates=20)
    return Settings(log2_n=tuple(range(6, 15)), replicates=24)


@dataclass(frozen=True)
class Condition:
    """One training setting: a noise law, or none.

    ``role`` is "heavy" (alpha < 2, judged), "gaussian" or "none" (controls).
    ``key`` is the condition's part of the seed, fixed per condition so that
    adding a condition never changes the others' random numbers.
    """

    label: str
    alpha: float
    kind: str
    role: str
    key: int

    @property
    def noisy(self) -> bool:
        return self.role != "none"

    def sigma(self, s: Settings) -> float:
        """``sigma = noise_scale / T^(1/alpha)``: ``sigma L(T) ~ S_alpha(noise_scale)`` per coordinate."""
        return s.noise_scale / s.horizon ** (1.0 / self.alpha) if self.noisy else 0.0


def conditions() -> list[Condition]:
    """The heavy-tailed conditions, then the two controls."""
    out = [Condition(f"alpha = {a:g}", a, "iid", "heavy", round(100 * a)) for a in HEAVY_ALPHAS]
    out += [Condition(f"alpha = {KIND_ALPHA:g}, {kind}", KIND_ALPHA, kind, "heavy",
                      round(100 * KIND_ALPHA) + 1000 * (j + 1))
            for j, kind in enumerate(("isotropic", "neuron"))]
    out.append(Condition("Gaussian (alpha = 2)", 2.0, "iid", "gaussian", 200))
    out.append(Condition("no noise", 2.0, "iid", "none", 0))
    return out


def make_network(s: Settings, seed) -> MeanFieldNetwork:
    """The tanh mean-field network on the check's teacher-student data."""
    data = teacher_student(s.m, s.d, n_teacher=s.n_teacher, noise=s.label_noise, seed=seed)
    return MeanFieldNetwork(data.X_train, data.y_train, "tanh")


def train(net: MeanFieldNetwork, cond: Condition, n: int, s: Settings,
          rng: np.random.Generator) -> np.ndarray:
    """Trained columns ``Theta(T)`` (n, d) of a width-n network (initial values from ``rng``)."""
    x0 = s.init_scale * rng.standard_normal((n, s.d))
    tr = simulate(net, x0, alpha=cond.alpha, sigma=cond.sigma(s), step=s.step, n_steps=s.n_steps,
                  noise=cond.kind, seed=rng, batch_size=s.batch_size, progress=False)
    return tr.final


def measure(W: np.ndarray) -> tuple[np.ndarray, float]:
    """Best-k errors at :data:`KAPPAS` and the prunable fraction at :data:`PRUNE_THRESHOLD`."""
    return best_k_error(W, list(KAPPAS)), prunable_fraction(W, PRUNE_THRESHOLD)


def expected_exponent(alpha: float) -> float:
    """Decay exponent ``1/2 - 1/alpha`` of the best-k error of i.i.d. rows with tail index alpha."""
    return 0.5 - 1.0 / alpha


def decay_verdict(fit: RateFit, alpha: float) -> Verdict:
    """Judge whether the fitted error decreases with n (interval below 0).

    ``alpha`` (the noise index) only gives the reference exponent recorded in the verdict.
    """
    return judge(fit, expected_exponent(alpha), tolerance=0.0, relation="negative")


def describe_control(fit: RateFit, errors_last: float) -> str:
    """A plain sentence on a control's fitted slope (not a verdict)."""
    lo, hi = fit.ci
    head = f"slope {fit.slope:+.3f} [{lo:+.3f}, {hi:+.3f}]"
    if lo <= 0.0 <= hi:
        shape = "flat (the interval contains 0)"
    elif hi < 0.0:
        shape = "decreasing"
    else:
        shape = "slightly increasing (a finite-size drift, not a decay)"
    return f"{head}: {shape}; error {errors_last:.3f} at the largest n"


def signed_block_sum(norms: np.ndarray, rng: np.random.Generator) -> float:
    """Block-sum tail index of one sample of norms, given random signs.

    The block-sum estimator needs centred symmetric data, so the norms are
    multiplied by independent signs first (same tail, now symmetric). An
    estimate the estimator refuses (a non-positive ``1/alpha``) is NaN. (The
    Hill estimate of the same norms is the study's, ``data["hill"]``.)
    """
    signs = np.where(rng.random(norms.size) < 0.5, -1.0, 1.0)
    try:
        return block_sum_tail_index(norms * signs)
    except ValueError:
        return math.nan


@dataclass
class Results:
    """Everything measured for one condition."""

    errors: np.ndarray  # (k, r, len(KAPPAS))
    fits: list  # the study's fit of each kappa's error (one interval per curve)
    prunable: np.ndarray  # (k, r)
    loss: np.ndarray  # (k, r)
    norms_last: list = field(default_factory=list)  # row norms at the largest n, per replicate
    hill: np.ndarray | None = None  # (r,)
    block_sum: np.ndarray | None = None  # (r,)


@dataclass(frozen=True)
class ScaledGaussianStart:
    """``theta_i(0) ~ N(0, scale^2 I_d)`` i.i.d.: the ``x0`` of the studies (picklable)."""

    d: int
    scale: float

    def __call__(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return self.scale * rng.standard_normal((n, self.d))


def experiment(ctx: Context, s: Settings, conds: list[Condition]) -> tuple[dict, float]:
    """One :func:`poc.compress_study` per condition (every width and replicate); returns the
    results and the loss at initialisation."""
    net = make_network(s, ctx.rng(0))
    ns = s.ns
    r = s.replicates
    init_loss = net.loss(s.init_scale * ctx.rng(5).standard_normal((int(ns[-1]), s.d)))

    def study(c):
        # every kappa's bootstrap seeded by 0 (fit_rate's default), as this check always did
        return compress_study(net, ScaledGaussianStart(s.d, s.init_scale), alpha=c.alpha,
                              sigma=c.sigma(s), T=s.horizon, step=s.step,
                              ns=[int(n) for n in ns], replicates=r, kappa=KAPPAS,
                              noise=c.kind, threshold=PRUNE_THRESHOLD,
                              batch_size=s.batch_size, seed=ctx.rng(1, c.key),
                              fit_seed=[0] * len(KAPPAS), progress=ctx.units_bar(),
                              client=ctx.client, cache=ctx.cache)

    # on a cluster the conditions' units are in flight together (same numbers as in turn)
    studies = map_concurrently(study, conds, ctx.client)
    res = {}
    for c, st in zip(conds, studies, strict=True):
        d = st.data
        curves = [st.curve(f"best_k_error[{kap:g}]") for kap in KAPPAS]
        out = Results(np.stack([cv.as_array() for cv in curves], axis=2),
                      [cv.fit for cv in curves], np.stack(d["prunable_fraction"]),
                      np.stack(d["loss"]), norms_last=list(d["norms_at_n_max"]),
                      hill=np.asarray(d["hill"]))
        out.block_sum = np.array([signed_block_sum(a, ctx.rng(2, c.key, rep))
                                  for rep, a in enumerate(out.norms_last)])
        res[c.key] = out
    return res, init_loss


def run(ctx: Context) -> list[Case]:
    return run_with(ctx, settings(ctx.quick))


def run_with(ctx: Context, s: Settings) -> list[Case]:
    """Run the check with the given settings (``run`` uses the mode's)."""
    conds = conditions()
    res, init_loss = experiment(ctx, s, conds)
    ns = s.ns
    fits: dict[tuple[int, int], RateFit] = {}
    verdicts: dict[tuple[int, int], Verdict] = {}
    for c in conds:
        for j in range(len(KAPPAS)):
            fits[c.key, j] = res[c.key].fits[j]
            verdicts[c.key, j] = decay_verdict(fits[c.key, j], c.alpha)

    controls = [c for c in conds if c.role != "heavy"]
    control_slopes = {
        f"{c.label}, kappa={kap:g}": {"slope": fits[c.key, j].slope, "ci": fits[c.key, j].ci,
                                     "error_at_n_max": float(res[c.key].errors[-1, :, j].mean())}
        for c in controls for j, kap in enumerate(KAPPAS)}

    cases: list[Case] = []
    for c in conds:
        if c.role != "heavy":
            continue
        out = res[c.key]
        for j, kap in enumerate(KAPPAS):
            fit, v = fits[c.key, j], verdicts[c.key, j]
            e = out.errors[:, :, j].mean(axis=1)
            detail = (f"{v.text} (pass if the 95 % interval is below 0); error {e[0]:.3f} at n = "
                      f"{ns[0]} -> {e[-1]:.3f} at n = {ns[-1]}; i.i.d. heavy-tail reference "
                      f"n^(1/2 - 1/alpha) = n^{expected_exponent(c.alpha):+.3f}, not judged")
            cases.append(Case(
                name=f"{c.label}: best-k error decreases, kappa = {kap:g}", passed=v.passed,
                detail=detail, measured_rate=fit.slope, ci=fit.ci,
                expected_rate=expected_exponent(c.alpha),
                values={"alpha": c.alpha, "noise_kind": c.kind, "kappa": kap, "sigma": c.sigma(s),
                        "n": ns, "error_mean": e,
                        "prunable_fraction_mean": out.prunable.mean(axis=1),
                        "prunable_fraction_at_n_max": float(out.prunable[-1].mean()),
                        "train_loss_at_n_max": float(out.loss[-1].mean()),
                        "hill_mean": float(np.mean(out.hill)), "hill_sd": float(np.std(out.hill)),
                        "block_sum_mean": float(np.nanmean(out.block_sum)),
                        "replicates": s.replicates, "control_slopes": control_slopes}))
    for c in conds:
        if c.role != "heavy":
            continue
        # the tails themselves: Hill at n_max against alpha, within the bias the calibration
        # check states for this setting (poc.checks._judges.HILL_BIAS)
        ok, text = hill_verdict(res[c.key].hill, c.alpha)
        cases.append(Case(name=f"{c.label}: column-norm tail index (Hill) matches alpha",
                          passed=ok, detail=f"{text}; n = {ns[-1]}",
                          values={"alpha": c.alpha, "hill": res[c.key].hill}))

    _notes(ctx, s, conds, res, fits, init_loss)
    _figure(ctx, s, conds, res, fits, cases)
    return cases


def _notes(ctx: Context, s: Settings, conds, res, fits, init_loss: float) -> None:
    ns = s.ns
    paper_steps = s.horizon * float(ns[-1]) ** (KIND_ALPHA / 2 + 1)
    ctx.notes.append(
        f"Training: tanh mean-field network, teacher-student data (m = {s.m}, d = {s.d}), minibatch "
        f"{s.batch_size}, fixed step {s.step:g} for T = {s.horizon:g} ({s.n_steps} steps) at every "
        f"width; noise scale sigma = {s.noise_scale:g} / T^(1/alpha), so the accumulated noise is "
        f"S_alpha({s.noise_scale:g}) per coordinate. The paper's step condition eta <= "
        f"n^(-alpha/2 - 1) is impractical here (T / eta = {paper_steps:.1e} steps at n = {ns[-1]}, "
        f"alpha = {KIND_ALPHA:g}) and is not used; the euler and chaos checks measure the step and "
        "width dependence.")
    heavy = [c for c in conds if c.role == "heavy" and c.kind == "iid"]
    parts = [f"alpha = {c.alpha:g}: {fits[c.key, 0].slope:+.3f} (reference "
             f"{expected_exponent(c.alpha):+.3f})" for c in heavy]
    ctx.notes.append(
        "Measured slopes at kappa = 0.1 against the i.i.d. heavy-tail reference n^(1/2 - 1/alpha): "
        + "; ".join(parts) + ". The reference is for exactly i.i.d. rows with tail index alpha; "
        "the initialisation and the bounded gradient steps add a light-tailed part that shifts "
        "the measured slopes at these widths.")
    for c in conds:
        if c.role == "heavy":
            continue
        out = res[c.key]
        txt = "; ".join(f"kappa = {kap:g}: " + describe_control(fits[c.key, j],
                                                                  float(out.errors[-1, :, j].mean()))
                        for j, kap in enumerate(KAPPAS))
        ctx.notes.append(f"Control {c.label} (recorded, not judged): {txt}; prunable fraction "
                         f"{out.prunable[-1].mean():.3f} at n = {ns[-1]}.")
    losses = ", ".join(f"{c.label} {res[c.key].loss[-1].mean():.4f}" for c in conds)
    worst = max(float(res[c.key].loss[-1].mean()) for c in conds)
    learned = ("every network ends below its initial loss" if worst < init_loss else
               "some networks end above the initial loss: the noise is too strong for them to learn")
    ctx.notes.append(
        f"Training loss at n = {ns[-1]} (mean over replicates): {losses}; at initialisation "
        f"{init_loss:.4f}, label-noise floor {0.5 * s.label_noise**2:.4f}: {learned}.")
    tails = "; ".join(f"{c.label}: Hill {np.mean(res[c.key].hill):.2f} +- {np.std(res[c.key].hill):.2f}, "
                      f"block-sum {np.nanmean(res[c.key].block_sum):.2f}"
                      for c in conds if c.kind == "iid")
    ctx.notes.append(
        f"Tail indices of the column norms at n = {ns[-1]} (mean +- sd over replicates): {tails}. "
        "Both are biased upwards when a light-tailed part reaches into the tail (Hill with k = "
        "sqrt(n); block-sum by O(1/log K1) with blocks of K1 = sqrt(n)); for light tails Hill has "
        "no finite limit and the block-sum estimate approaches 2 only slowly.")


_COLORS = {"alpha = 1.2": "#0072B2", "alpha = 1.4": "#E69F00", "alpha = 1.6": "#009E73",
           "Gaussian (alpha = 2)": "#56B4E9", "no noise": "#000000"}
_KIND_STYLE = {"isotropic": ("#D55E00", "s"), "neuron": ("#CC79A7", "^")}
# the two controls nearly coincide: distinct markers and dash patterns keep both visible
# (a wide light line under a thin dotted black one: both stay visible where they coincide)
_CONTROL_STYLE = {"gaussian": ("D", "-"), "none": ("x", (0, (1, 1.5)))}
_CONTROL_WIDTH = {"gaussian": 4.0, "none": 1.4}


def _style(c: Condition) -> tuple[str, str]:
    if c.kind != "iid":
        return _KIND_STYLE[c.kind]
    return _COLORS.get(c.label, "#56B4E9"), _CONTROL_STYLE.get(c.role, ("o", "-"))[0]


def _linestyle(c: Condition):
    return _CONTROL_STYLE.get(c.role, ("o", "-"))[1]


def _figure(ctx: Context, s: Settings, conds, res, fits, cases) -> None:
    from ..plotting import new_figure, rate_panel, reference_line, verdict_badge

    ns = s.ns
    fig, axes = new_figure(2, 2, width=6.4, height=4.6)
    for j, kap in enumerate(KAPPAS):
        ax = axes[0, j]
        for c in conds:
            col, mk = _style(c)
            f = fits[c.key, j]
            rate_panel(ax, ns, res[c.key].errors[:, :, j], slope=f.slope, intercept=f.intercept,
                       ci=f.ci, label=c.label, color=col, marker=mk, linestyle=_linestyle(c),
                       linewidth=_CONTROL_WIDTH.get(c.role, 1.4))
        first = True
        for c in conds:
            if c.role == "heavy" and c.kind == "iid":
                col, _ = _style(c)
                reference_line(ax, ns, float(res[c.key].errors[0, :, j].mean()),
                               expected_exponent(c.alpha), color=col, linestyle=":", linewidth=1.2,
                               label="i.i.d. reference n^(1/2 - 1/alpha)" if first else None)
                first = False
        ax.set(xlabel="width n", ylabel=r"$\|\Theta - \Theta^{(\kappa n)}\|_F / \|\Theta\|_F$",
               title=f"Relative error keeping the {kap:g} n largest columns")
        ax.set_xscale("log", base=2)
        # room below the curves for the legend
        lo = min(float(res[c.key].errors[:, :, j].mean(axis=1).min()) for c in conds)
        ax.set_ylim(lo / 8.0, 1.05)
        ax.legend(fontsize=6.5, loc="lower left", bbox_to_anchor=(0.0, 0.07))
        mine = [cs for cs in cases if f"kappa = {kap:g}" in cs.name]
        verdict_badge(ax, all(cs.passed for cs in mine),
                      f"{sum(cs.passed for cs in mine)}/{len(mine)} heavy-tailed slopes < 0")

    ax = axes[1, 0]
    for c in conds:
        if c.kind != "iid":
            continue
        col, _ = _style(c)
        a = np.sort(np.concatenate(res[c.key].norms_last))[::-1]
        surv = np.arange(1, a.size + 1) / a.size
        idx = np.unique(np.geomspace(1, a.size, 300).astype(np.int64) - 1)
        hl, bs = np.mean(res[c.key].hill), np.nanmean(res[c.key].block_sum)
        lab = f"{c.label}: Hill {hl:.2f}, block-sum {bs:.2f}"
        ax.loglog(a[idx], surv[idx], "-", color=col, linewidth=1.4, label=lab)
        if c.role == "heavy":
            # slope -alpha through the point where 1 % of the norms are larger
            i0 = int(0.01 * a.size)
            xx = np.geomspace(a[i0], a[0], 20)
            ax.loglog(xx, surv[i0] * (xx / a[i0]) ** -c.alpha, ":", color=col, linewidth=1.2)
    ax.plot([], [], ":", color="0.3", label="slope -alpha (theory)")
    ax.set(xlabel="column norm |theta_i|", ylabel="fraction of columns with a larger norm",
           title=f"Column-norm tails at n = {ns[-1]} ({s.replicates} replicates pooled)")
    ax.legend(fontsize=6.5, loc="lower left")

    ax = axes[1, 1]
    for c in conds:
        col, mk = _style(c)
        p = res[c.key].prunable.mean(axis=1)
        ax.plot(ns, p, marker=mk, linestyle=_linestyle(c), color=col, markersize=4,
                linewidth=_CONTROL_WIDTH.get(c.role, 1.4),
                mfc="none" if mk in "Dx" else col,
                label=f"{c.label} (train loss {res[c.key].loss[-1].mean():.3f})")
    ax.set_xscale("log", base=2)
    ax.set(xlabel="width n", ylabel="prunable fraction",
           title=f"Paper's pruning rule: fraction removable at squared error <= {PRUNE_THRESHOLD:g}")
    ax.legend(fontsize=6.5)
    fig.suptitle(f"Compressibility of the mean-field network after noisy SGD (T = {s.horizon:g}, "
                 f"step {s.step:g}, sigma L(T) ~ S_alpha(1); {s.replicates} replicates)", fontsize=11)
    fig.tight_layout()
    ctx.save_figure(fig, "compress.png")
