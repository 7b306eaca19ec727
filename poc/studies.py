r"""Studies: from a drift to a measured convergence rate, with its interval, in one call.

* :func:`chaos_study` -- propagation of chaos: the coupling error
  ``mean_i |x_i^n(T) - xbar_i(T)|`` between an n-particle system and its
  nonlinear (McKean-Vlasov) copies, and the W_1 distance of the cloud to the
  limit next to the i.i.d. floor, against n.
* :func:`euler_study` -- the strong error of the Euler scheme against the step,
  on nested grids with common random numbers.
* :func:`compress_study` -- the relative best-k error and the prunable fraction
  of the final cloud against n, with Hill estimates of the column norms' tail.

Each returns a result with ``.fit`` (a :class:`poc.rates.RateFit`), ``.data``
(the per-n or per-step, per-replicate measurements), ``.plot(ax=None)``,
``.to_dict()`` (JSON-ready) and ``.summary()`` (one paragraph, with a verdict
when ``expected=`` is given).

Every study is a list of independent work units (see :mod:`poc._units`), one
per (n or replicate block), each seeded by
``SeedSequence([seed, study id, *unit index])``: the numbers depend on the
seed only, not on the order in which the units run.

How many replicates
-------------------
The bootstrap interval of a slope needs replicates at every n. Large n needs
fewer (the error fluctuates less), so ``replicates`` may be a mapping
``{n: count}``; :func:`constant_work` builds one that keeps
``replicates x n`` constant. With alpha < 2 the errors of some models (those
whose interaction runs through an unbounded mean, e.g. the linear model) have
infinite variance, and bootstrap intervals of their means need many
replicates: the studies warn below :data:`MIN_HEAVY_REPLICATES`.

References
----------
Wan, Barsbey, Zaidi, Simsekli (2024), arXiv 2306.08125 (propagation of chaos,
Euler discretization, compressibility); Sznitman (1991), Ecole d'Ete de
Saint-Flour XIX (synchronous coupling); Gribonval, Cevher, Davies (2012),
IEEE Trans. Inf. Theory 58(8) (compressible priors); Hill (1975), Ann.
Statist. 3(5).
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._units import Unit, master_seed, run_units, study_id
from ._validation import ParameterTypeError, check_choice, check_int, check_real
from .euler import DEFAULT_REFINEMENT
from .noise import NOISE_KINDS
from .rates import RELATIONS, RateFit, Verdict, fit_rate, judge
from .report import jsonable

__all__ = [
    "MIN_HEAVY_REPLICATES",
    "MIN_REFERENCE_FACTOR",
    "REFERENCE_FACTOR",
    "StudyResult",
    "StudyWarning",
    "chaos_study",
    "compress_study",
    "constant_work",
    "euler_study",
]

#: Default reference size ``N = REFERENCE_FACTOR * n_max``. The reference's
#: own error and the n-particle fluctuation are independent and add in
#: quadrature (bounded interactions), inflating the coupling error at n by
#: ``sqrt(1 + n / N)``: 1.6 % at ``n_max``, a slope bias below 0.005.
REFERENCE_FACTOR = 32
#: Below ``N = MIN_REFERENCE_FACTOR * n_max`` the reference inflates the error
#: at n_max by more than 6 % (slope bias up to ~0.02): the studies warn.
MIN_REFERENCE_FACTOR = 8
#: With alpha < 2 and fewer replicates than this at some n, a warning says the
#: bootstrap interval may not be trusted: for errors of tail index alpha the
#: mean of a few dozen replicates is dominated by its one or two largest terms,
#: and percentile intervals under-cover badly.
MIN_HEAVY_REPLICATES = 50
#: The Euler study's default reference step is this many times finer than the
#: smallest tested step (:data:`poc.euler.DEFAULT_REFINEMENT`): the reference's
#: own error (same path, leading term shared) then biases the fitted order by
#: less than ~0.01, against 0.04-0.14 with 8x.
EULER_REFINEMENT = DEFAULT_REFINEMENT
#: Directions of the sliced W_1 in d > 1 (fixed for the whole study, so the
#: slicing adds no Monte Carlo noise to the slope).
N_DIRECTIONS = 32
# replicates per work unit: about this many particles
_UNIT_PARTICLES = 4096


class StudyWarning(UserWarning):
    """A study ran, but a setting makes its interval or its reference less trustworthy."""


# ---------------------------------------------------------------------------
# input checks


def constant_work(ns, total: int, *, minimum: int = 2) -> dict[int, int]:
    """Replicates per n that keep ``replicates x n`` about constant.

    Parameters
    ----------
    ns : sequence of int
        The particle counts.
    total : int
        Target ``replicates x n`` (e.g. 4096).
    minimum : int, optional
        At least this many replicates at every n (``>= 2``).

    Returns
    -------
    dict
        ``{n: max(minimum, total // n)}``.
    """
    total = check_int(total, "total", low=1)
    minimum = check_int(minimum, "minimum", low=2)
    return {int(n): max(minimum, total // int(n)) for n in ns}


def _check_ns(ns) -> tuple[int, ...]:
    try:
        vals = [int(v) for v in ns]
        exact = all(float(v) == float(w) for v, w in zip(vals, ns, strict=True))
    except (TypeError, ValueError) as exc:
        raise ParameterTypeError(f"ns must be a sequence of integers, got {ns!r}") from exc
    if not exact:
        raise ValueError(f"ns must be integers, got {list(ns)}")
    if len(vals) < 3:
        raise ValueError(f"ns must have at least 3 values (a slope and its interval), got {vals}")
    if vals[0] < 2 or any(b <= a for a, b in itertools.pairwise(vals)):
        raise ValueError(f"ns must be strictly increasing integers >= 2, got {vals}")
    return tuple(vals)


def _check_replicates(replicates, ns) -> dict[int, int]:
    if isinstance(replicates, Mapping):
        missing = [n for n in ns if n not in replicates]
        if missing:
            raise ValueError(f"replicates (a mapping n -> count) has no entry for n = {missing}")
        out = {n: replicates[n] for n in ns}
    else:
        out = dict.fromkeys(ns, replicates)
    for n, r in out.items():
        out[n] = check_int(r, f"replicates (at n = {n})", low=2)
    return out


def _n_steps(T: float, step: float) -> int:
    ratio = T / step
    k = round(ratio)
    if k < 1 or abs(ratio - k) > 1e-9 * ratio:
        raise ValueError(f"step must divide T (T / step an integer): T = {T:g}, step = {step:g}, "
                         f"T / step = {ratio:g}")
    return int(k)


@dataclass(frozen=True)
class _Start:
    """Initial values: a callable ``(n, rng) -> (n, d)`` or one point every particle starts from."""

    func: Callable | None
    point: np.ndarray | None
    d: int

    def __call__(self, n: int, rng: np.random.Generator) -> np.ndarray:
        if self.func is None:
            return np.tile(self.point, (n, 1))
        x = self.func(n, rng)
        return _check_start_output(x, n, self.d, self.func)


def _name(func) -> str:
    return getattr(func, "__name__", None) or repr(func)


def _check_start_output(x, n: int, d: int | None, func) -> np.ndarray:
    try:
        x = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ParameterTypeError(
            f"x0 ({_name(func)}) must return a real array of shape (n, d), got "
            f"{type(x).__name__}") from exc
    if x.ndim == 1 and d in (None, 1) and x.shape[0] == n:
        x = x.reshape(n, 1)
    if x.ndim != 2 or x.shape[0] != n or (d is not None and x.shape[1] != d):
        want = f"({n}, d)" if d is None else f"({n}, {d})"
        raise ValueError(f"x0 ({_name(func)}) must return an array of shape {want} for n = {n}, "
                         f"got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"x0 ({_name(func)}) returned non-finite values for n = {n}")
    return np.ascontiguousarray(x)


def _check_start(x0) -> _Start:
    if callable(x0):
        probe = _check_start_output(x0(3, np.random.default_rng(0)), 3, None, x0)
        return _Start(func=x0, point=None, d=probe.shape[1])
    try:
        p = np.asarray(x0, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ParameterTypeError(
            f"x0 must be a callable (n, rng) -> (n, d) array or one point of shape (d,), got "
            f"{type(x0).__name__}") from exc
    if p.ndim == 0:
        p = p.reshape(1)
    if p.ndim != 1 or p.size == 0:
        raise ValueError(f"x0 must be a callable (n, rng) -> (n, d) array or one point of shape "
                         f"(d,), got an array of shape {p.shape}")
    if not np.all(np.isfinite(p)):
        raise ValueError(f"x0 must be finite, got {p.tolist()}")
    return _Start(func=None, point=p.copy(), d=p.size)


def _check_verdict_args(expected, tolerance, relation):
    if expected is not None:
        expected = check_real(expected, "expected")
    tolerance = check_real(tolerance, "tolerance", low=0.0)
    relation = check_choice(relation, "relation", RELATIONS)
    return expected, tolerance, relation



def _gather(blocks, out, name: str, n_groups: int) -> list[np.ndarray]:
    """Per n (group j of ``blocks``), the replicate blocks' ``name`` arrays joined in unit order."""
    rows = [[] for _ in range(n_groups)]
    for (j, *_), o in zip(blocks, out, strict=True):
        rows[j].append(o[name])
    return [np.concatenate(r) for r in rows]

def _blocks(ns, reps: dict[int, int]):
    """(n index, block index, n, first replicate, count): about _UNIT_PARTICLES particles per unit."""
    for j, n in enumerate(ns):
        size = max(1, _UNIT_PARTICLES // n)
        for b, r0 in enumerate(range(0, reps[n], size)):
            yield j, b, n, r0, min(size, reps[n] - r0)


def _rng(seed: int, sid: int, *key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, sid, *key]))


def _warn_heavy(alpha: float, reps: dict[int, int], what: str) -> None:
    if alpha < 2.0 and min(reps.values()) < MIN_HEAVY_REPLICATES:
        warnings.warn(
            f"only {min(reps.values())} replicates at some n with alpha = {alpha:g} < 2: if the "
            f"{what} has infinite variance (heavy tails passed on by an unbounded interaction), "
            f"a bootstrap interval over so few replicates cannot be trusted; use at least "
            f"{MIN_HEAVY_REPLICATES} per n", StudyWarning, stacklevel=3)


# ---------------------------------------------------------------------------
# fitting ragged replicate sets


def _fit(x, rows: list[np.ndarray], seed) -> RateFit:
    """:func:`poc.rates.fit_rate` when every x has as many replicates; otherwise the same
    estimate (OLS of log means) with a bootstrap resampling within each x."""
    sizes = {len(r) for r in rows}
    if len(sizes) == 1:
        return fit_rate(np.asarray(x, float), np.stack(rows), seed=seed)
    return _fit_ragged(np.asarray(x, float), rows, seed)


def _fit_ragged(x: np.ndarray, rows: list[np.ndarray], seed, *, level: float = 0.95,
                n_boot: int = 2000) -> RateFit:
    from scipy.stats import norm
    from scipy.stats import t as student_t

    from .rates import _slopes

    for r in rows:
        if len(r) < 2 or np.any(~np.isfinite(r)) or np.any(r <= 0):
            raise ValueError("every x needs >= 2 positive finite replicates for a log-log fit")
    lx = np.log(x)
    means = np.array([r.mean() for r in rows])
    s, b = _slopes(lx, np.log(means)[None, :])
    rng = np.random.default_rng(seed)
    boot_means = np.empty((n_boot, len(rows)))
    for j, r in enumerate(rows):
        idx = rng.integers(0, len(r), size=(n_boot, len(r)))
        boot_means[:, j] = r[idx].mean(axis=1)
    boot = _slopes(lx, np.log(boot_means))[0]
    # expanded percentile level (as fit_rate), with per-x replicate counts
    c = lx - lx.mean()
    c = c / float(c @ c)
    rs = np.array([len(r) for r in rows], float)
    wv = c**2 * np.array([r.var(ddof=1) for r in rows]) / (rs * means**2)
    adj = level
    if float(wv.sum()) > 0:
        nu = float(wv.sum()) ** 2 / float(np.sum(wv**2 / (rs - 1)))
        r_eff = float(np.sum(wv * rs) / wv.sum())
        z = math.sqrt(r_eff / (r_eff - 1)) * float(student_t.ppf(0.5 * (1 + level), nu))
        adj = float(2 * norm.cdf(z) - 1)
    lo, hi = np.quantile(boot, [0.5 * (1 - adj), 0.5 * (1 + adj)])
    return RateFit(slope=float(s[0]), intercept=float(b[0]), ci=(float(lo), float(hi)),
                   level=level, n_boot=n_boot, x=x.copy(), y_mean=means)


def _fmt_ci(fit: RateFit) -> str:
    return f"{fit.slope:+.3f} [{fit.ci[0]:+.3f}, {fit.ci[1]:+.3f}]"


# ---------------------------------------------------------------------------
# the result


@dataclass(frozen=True, eq=False)
class Series:
    """One measured curve: replicate values per x, and its fit."""

    label: str
    x: np.ndarray
    rows: list  # one 1-D array of replicates per x
    fit: RateFit

    @property
    def mean(self) -> np.ndarray:
        return np.array([r.mean() for r in self.rows])


@dataclass(frozen=True, eq=False)
class StudyResult:
    """What a study measured.

    Attributes
    ----------
    study : {"chaos", "euler", "compress"}
    fit : poc.rates.RateFit
        The main slope (``.slope``, ``.ci``).
    data : dict
        Raw measurements: ``"x"`` values and, per quantity, one array of
        replicate values per x (see each study's docstring).
    series : list of Series
        The curves drawn by :meth:`plot` (the first is the fitted one).
    settings : dict
        The study's parameters.
    expected : float or None
        Theory slope, if given.
    tolerance : float
    relation : str
        How :attr:`verdict` compares the interval with ``expected``
        (see :func:`poc.rates.judge`).
    notes : list of str
        Plain-words remarks (reference size, warnings) used by :meth:`summary`.
    """

    study: str
    fit: RateFit
    data: dict
    series: list
    settings: dict
    xlabel: str
    ylabel: str
    what: str
    expected: float | None = None
    tolerance: float = 0.05
    relation: str = "equal"
    notes: list = field(default_factory=list)

    @property
    def verdict(self) -> Verdict | None:
        """:func:`poc.rates.judge` of :attr:`fit` against ``expected`` (None without it)."""
        if self.expected is None:
            return None
        return judge(self.fit, self.expected, tolerance=self.tolerance, relation=self.relation)

    def plot(self, ax=None, *, main_only: bool = False, label: str | None = None,
             color=None, linewidth: float = 1.4):
        """The log-log panel: replicate means, bootstrap band, fitted lines, theory slope.

        The band is a 95 % bootstrap band of each replicate mean; the legend
        gives each fitted slope with the same interval as :attr:`fit`. The
        theory slope (when ``expected`` was given) is a guide drawn through
        1.4 x the first point, not a bound.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw (a new figure if None).
        main_only : bool, optional
            Draw only the fitted quantity (to overlay several studies on one panel).
        label : str, optional
            Legend label of the main curve (default: the quantity's name).
        color : optional
            Colour of the main curve.
        linewidth : float, optional
            Width of the main fitted line (a wide light line stays visible under
            another curve that coincides with it).

        Returns
        -------
        matplotlib.axes.Axes
        """
        from .plotting import new_figure, rate_panel, reference_line, verdict_badge

        if ax is None:
            _, axes = new_figure(1, 1, width=5.6, height=4.4)
            ax = axes[0, 0]
        colors = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00"]
        markers = ["o", "s", "^", "D", "v"]
        shown = self.series[:1] if main_only else self.series
        for k, s in enumerate(shown):
            col = color if (k == 0 and color is not None) else colors[k % 5]
            rate_panel(ax, s.x, s.rows, slope=s.fit.slope, intercept=s.fit.intercept,
                       ci=s.fit.ci, label=(label if k == 0 and label else s.label), color=col,
                       marker=markers[k % 5], linewidth=linewidth if k == 0 else 1.4)
        if self.expected is not None and not main_only:
            first = self.series[0]
            reference_line(ax, first.x, 1.4 * float(first.mean[0]), self.expected,
                           f"theory slope {self.expected:+.3g} (guide, not a bound)")
        ax.set(xlabel=self.xlabel, ylabel=self.ylabel, title=f"{self.study} study: {self.what}")
        ax.title.set_fontsize(9)
        ax.legend(fontsize=7, loc="best")
        v = self.verdict
        if v is not None and not main_only:
            verdict_badge(ax, v.passed, f"slope vs {self.expected:+.3g}")
        return ax

    def to_dict(self) -> dict:
        """A JSON-ready case: name, measured_rate, ci, expected_rate, passed, detail, values."""
        v = self.verdict
        values = {"x": self.series[0].x}
        for s in self.series:
            values[s.label] = {"mean": s.mean, "replicates": [r for r in s.rows],
                               "slope": s.fit.slope, "ci": list(s.fit.ci)}
        values.update({k: v_ for k, v_ in self.data.items() if k not in ("x", "rows")
                       and not k.startswith("_")})
        return jsonable({
            "name": f"{self.study} study: {self.what}",
            "measured_rate": self.fit.slope,
            "ci": list(self.fit.ci),
            "expected_rate": self.expected,
            "passed": None if v is None else v.passed,
            "detail": self.summary(),
            "values": values,
            "settings": self.settings,
        })

    def summary(self) -> str:
        """One paragraph in plain words, ending with a verdict when ``expected`` was given."""
        s = self.series[0]
        reps = [len(r) for r in s.rows]
        rep_txt = f"{reps[0]}" if len(set(reps)) == 1 else f"{max(reps)} to {min(reps)}"
        xs = s.x
        text = (f"{self.study.capitalize()} study: {self.what} goes from {s.mean[0]:.4g} at "
                f"{self.xlabel.split(' ')[0]} = {xs[0]:g} to {s.mean[-1]:.4g} at {xs[-1]:g}; the "
                f"log-log slope is {_fmt_ci(self.fit)} (95 % bootstrap interval over {rep_txt} "
                f"replicates per point).")
        for t in self.notes:
            text += " " + t
        v = self.verdict
        if v is not None:
            text += (f" Verdict: {'PASS' if v.passed else 'FAIL'} -- {v.text} "
                     f"(relation '{self.relation}').")
        return text


# ---------------------------------------------------------------------------
# chaos


@dataclass(frozen=True)
class _ChaosUnit:
    n: int
    count: int
    fluctuation: bool  # also measure the n-system's mean-field fluctuation (n = n_max)


@dataclass(frozen=True, eq=False)
class _ChaosShared:
    drift: Any
    start: _Start
    reference: Any
    sorted_ref: Any
    probe: np.ndarray | None


def _field(drift, z: np.ndarray, cloud: np.ndarray) -> np.ndarray:
    """The quantity through which the cloud acts on a particle: mean features for a feature
    drift, else the drift field ``b(z, mu^cloud)`` on probe points ``z``."""
    from .drifts import FeatureDrift

    if isinstance(drift, FeatureDrift):
        return drift.mean_features(cloud)
    return drift.against(z, cloud)


#: Random half-splits averaged by the reference-error estimate: one split gives an estimate
#: with as many degrees of freedom as the field has components (2 for a Kuramoto drift:
#: off by 10x either way); 16 splits bring its relative spread to about 1/4.
N_SPLITS = 16


def _half_split_error(drift, probe, cloud: np.ndarray, rng: np.random.Generator) -> float:
    """Mean square of ``(field(half A) - field(half B)) / 2`` over random half-splits of the
    reference: an estimate of the squared error of the reference's own field, ``~ 1/N``."""
    N = cloud.shape[0]
    half = N // 2
    acc = 0.0
    for _ in range(N_SPLITS):
        perm = rng.permutation(N)
        a = _field(drift, probe, cloud[perm[:half]])
        b = _field(drift, probe, cloud[perm[half:2 * half]])
        acc += float(np.mean((0.5 * (a - b)) ** 2))
    return acc / N_SPLITS


@dataclass(frozen=True)
class _ReferenceUnit:
    N: int
    alpha: float
    sigma: float
    step: float
    n_steps: int
    noise: str


def _reference_unit(cfg: _ReferenceUnit, ss: np.random.SeedSequence, sh):
    from .limits import reference_cloud

    drift, start = sh
    g = np.random.default_rng(ss)
    return reference_cloud(drift, start(cfg.N, g), alpha=cfg.alpha, sigma=cfg.sigma,
                           step=cfg.step, n_steps=cfg.n_steps, noise=cfg.noise, seed=g,
                           progress=False)


def _half_split_unit(cfg, ss: np.random.SeedSequence, sh) -> float:
    drift, probe, final = sh
    return _half_split_error(drift, probe, final, np.random.default_rng(ss))


def _chaos_unit(cfg: _ChaosUnit, ss: np.random.SeedSequence, sh: _ChaosShared) -> dict:
    from .limits import coupled_run

    ce = np.empty(cfg.count)
    w1p = np.empty(cfg.count)
    w1c = np.empty(cfg.count)
    fluct = np.empty(cfg.count) if cfg.fluctuation else None
    ref_field = None
    for i, child in enumerate(ss.spawn(cfg.count)):
        rng = np.random.default_rng(child)
        run = coupled_run(sh.drift, sh.start(cfg.n, rng), sh.reference, seed=rng, progress=False)
        ce[i] = run.coupling_error()
        w1p[i] = sh.sorted_ref.sliced_w1(run.system.final)
        w1c[i] = sh.sorted_ref.sliced_w1(run.copies.final)
        if fluct is not None:
            if ref_field is None:
                ref_field = _field(sh.drift, sh.probe, sh.reference.trajectory.final)
            fluct[i] = float(np.mean((_field(sh.drift, sh.probe, run.system.final) - ref_field) ** 2))
    return {"ce": ce, "w1p": w1p, "w1c": w1c, "fluct": fluct}


def chaos_study(drift, x0, *, alpha: float, sigma: float, T: float, step: float, ns,
                replicates, noise: str = "iid", reference: int | None = None, seed=0,
                expected: float | None = None, tolerance: float = 0.05, relation: str = "equal",
                progress: bool | None = None, client=None, cache=None) -> StudyResult:
    r"""Propagation of chaos: the coupling error to the McKean-Vlasov limit against n.

    For each n, each replicate runs the n-particle system and its nonlinear
    copies on the same initial values and noise (:func:`poc.limits.coupled_run`,
    synchronous coupling) and measures

    * the coupling error ``mean_i |x_i^n(T) - xbar_i(T)|`` (the fitted slope);
    * the sliced W_1 of the particle cloud to the reference cloud, and of the
      n copies (n i.i.d. limit samples: the sampling floor, which decays like
      ``n^(1/alpha - 1)`` in heavy tails). Exact W_1 in d = 1.

    The limit is estimated once by a reference cloud of N particles
    (:func:`poc.limits.reference_cloud`), shared by every unit. Its own error
    is measured by a half-split estimate (half the difference of two halves'
    mean features, or drift fields on 256 probe points, averaged over 16
    random splits) and reported relative to the fluctuation of the n_max system.

    Parameters
    ----------
    drift : poc.drifts.Drift
        Any drift the limits accept (feature, pairwise, NumPy, built-in).
    x0 : callable or array_like, shape (d,)
        ``x0(n, rng) -> (n, d)`` i.i.d. initial values, or one point every
        particle starts from (a deterministic start).
    alpha : float
        Noise index, in (1, 2] (W_1 and the mean error need a first moment).
    sigma : float
        Noise scale, ``>= 0``.
    T, step : float
        Horizon and Euler step; ``step`` must divide ``T``.
    ns : sequence of int
        At least 3 strictly increasing particle counts ``>= 2``.
    replicates : int or mapping n -> int
        Replicates per n (``>= 2``); :func:`constant_work` keeps
        ``replicates x n`` constant.
    noise : {"iid", "isotropic", "neuron"}, optional
    reference : int, optional
        Reference size N ``>= n_max``. Default ``32 * n_max`` (the reference
        then inflates the coupling error at n_max by ``sqrt(1 + 1/32) - 1 =
        1.6 %``); a warning is given below ``8 * n_max``.
    seed : None, int or numpy.random.Generator, optional
        Master seed (default 0).
    expected : float, optional
        Theory slope (e.g. -0.5); gives a verdict and a guide line.
    tolerance : float, optional
        Slack of the verdict (default 0.05).
    relation : str, optional
        See :func:`poc.rates.judge` (default "equal"; "not_above" for an
        upper bound such as n^(-1/2)).
    progress : bool, None or a progress bar, optional
        Progress bar over the work units (None: only on a terminal, after
        5 s). A bar object (e.g. tqdm) is shared: the study adds its units to
        its total and leaves it open.
    client : dask.distributed.Client, optional
        Run the work units (blocks of replicates) on this Dask cluster, with
        the reference cloud scattered once to every worker. Same numbers as
        the default None (serially in this process). Use one thread per
        worker process.
    cache : None, str, os.PathLike or poc._units.UnitCache, optional
        Directory of finished work units: a rerun with the same settings,
        seed and package version reads them instead of recomputing (default
        None: no cache).

    Returns
    -------
    StudyResult
        ``data``: ``n``, ``coupling_error``, ``w1_particles``, ``w1_iid_floor``
        (one replicate array per n), ``reference_size``, ``reference_ratio``
        (reference error / n_max fluctuation; about ``sqrt(n_max / N)``).

    Raises
    ------
    ValueError, TypeError
        Bad ``ns`` (fewer than 3, not increasing), ``replicates < 2``,
        ``reference < n_max``, ``step`` not dividing ``T``, an ``x0`` of the
        wrong shape or non-finite, other out-of-range parameters.

    Warns
    -----
    StudyWarning
        Reference smaller than ``8 n_max``; alpha < 2 with fewer than
        :data:`MIN_HEAVY_REPLICATES` replicates at some n.

    Notes
    -----
    Cost per step: O((N + n) m d) for feature drifts. For pairwise and NumPy drifts the
    reference is an N-particle system, O(N^2) per step, and the copies cost
    O(n N) per step against it.
    """
    from .particles import _check_drift
    from .wasserstein import SortedReference, require_finite_moment, unit_directions

    drift = _check_drift(drift)
    alpha = check_real(alpha, "alpha", low=0.0, high=2.0, low_open=True)
    require_finite_moment(alpha, 1)
    sigma = check_real(sigma, "sigma", low=0.0)
    T = check_real(T, "T", low=0.0, low_open=True)
    step = check_real(step, "step", low=0.0, low_open=True)
    n_steps = _n_steps(T, step)
    ns = _check_ns(ns)
    reps = _check_replicates(replicates, ns)
    noise = check_choice(noise, "noise", NOISE_KINDS)
    expected, tolerance, relation = _check_verdict_args(expected, tolerance, relation)
    start = _check_start(x0)
    n_max = ns[-1]
    if reference is None:
        N = REFERENCE_FACTOR * n_max
    else:
        N = check_int(reference, "reference", low=n_max)
    if N < MIN_REFERENCE_FACTOR * n_max:
        warnings.warn(
            f"reference cloud N = {N} is smaller than {MIN_REFERENCE_FACTOR} x n_max = "
            f"{MIN_REFERENCE_FACTOR * n_max}: its own error then adds more than about 6 % to the "
            f"coupling error at n = {n_max} and flattens the fitted slope; the default is "
            f"{REFERENCE_FACTOR} x n_max", StudyWarning, stacklevel=2)
    _warn_heavy(alpha, reps, "coupling error")
    seed = master_seed(seed)
    sid = study_id("chaos_study")

    # the reference and its half-split error are units of their own, cached like the others
    # (a rerun skips them too) and run where the others run (concurrent studies then build
    # their references on different workers)
    sub = progress if hasattr(progress, "update") else False
    ref_cfg = _ReferenceUnit(N, alpha, sigma, step, n_steps, noise)
    ref = run_units(_reference_unit, [Unit.make(seed, sid, (0,), ref_cfg)],
                    shared=(drift, start), client=client, cache=cache, progress=sub)[0]
    final = ref.trajectory.final
    d = final.shape[1]
    dirs = np.ones((1, 1)) if d == 1 else unit_directions(_rng(seed, sid, 1), N_DIRECTIONS, d)
    probe = None if _is_feature(drift) else np.ascontiguousarray(final[: min(N, 256)])
    shared = _ChaosShared(drift, start, ref, SortedReference.build(final, dirs), probe)
    blocks = list(_blocks(ns, reps))
    units = [Unit.make(seed, sid, (2, j, b), _ChaosUnit(n, c, n == n_max))
             for j, b, n, _, c in blocks]
    out = run_units(_chaos_unit, units, shared=shared, client=client, cache=cache,
                    progress=progress, desc="chaos study")

    ce, w1p, w1c = (_gather(blocks, out, name, len(ns)) for name in ("ce", "w1p", "w1c"))
    fluct = np.concatenate([o["fluct"] for o in out if o["fluct"] is not None])
    split = run_units(_half_split_unit, [Unit.make(seed, sid, (4,), None)],
                      shared=(drift, probe, final), client=client, cache=cache,
                      progress=sub)[0]
    ratio = math.sqrt(split / float(np.mean(fluct)))
    x = np.asarray(ns, float)
    f_ce = _fit(x, ce, _rng(seed, sid, 3, 0))
    f_p = _fit(x, w1p, _rng(seed, sid, 3, 1))
    f_c = _fit(x, w1c, _rng(seed, sid, 3, 2))
    w1 = "W1" if d == 1 else "sliced W1"
    series = [Series("coupling error mean_i |x_i(T) - xbar_i(T)|", x, ce, f_ce),
                 Series(f"{w1}(particles, limit)", x, w1p, f_p),
                 Series(f"{w1}(n i.i.d. copies, limit): sampling floor", x, w1c, f_c)]
    notes = [
        f"{w1} of the particle cloud to the limit has slope {_fmt_ci(f_p)}, next to the i.i.d. "
        f"floor's {_fmt_ci(f_c)} (heavy-tailed floor theory 1/alpha - 1 = {1 / alpha - 1:+.3f}).",
        f"The limit is a reference cloud of N = {N} particles"
        + (f" (the default {REFERENCE_FACTOR} x n_max)" if reference is None else "")
        + f"; its own error (half-split estimate) is {ratio:.2f} times the fluctuation of the "
        f"n = {n_max} system (about sqrt(n_max / N) = {math.sqrt(n_max / N):.2f} expected), so it "
        f"inflates the coupling error at n_max by about {100 * (math.sqrt(1 + ratio**2) - 1):.1f} %.",
    ]
    data = {"n": list(ns), "coupling_error": ce, "w1_particles": w1p, "w1_iid_floor": w1c,
            "replicates": [reps[n] for n in ns], "reference_size": N, "reference_ratio": ratio}
    settings = {"drift": repr(drift), "x0": _name(start.func) if start.func else start.point,
                "alpha": alpha, "sigma": sigma, "T": T, "step": step, "noise": noise,
                "ns": list(ns), "reference": N, "seed": seed}
    return StudyResult("chaos", f_ce, data, series, settings, "n (particles)",
                       "distance at T", "the coupling error", expected, tolerance, relation,
                       notes)


def _is_feature(drift) -> bool:
    from .drifts import FeatureDrift

    return isinstance(drift, FeatureDrift)


# ---------------------------------------------------------------------------
# euler


@dataclass(frozen=True)
class _EulerUnit:
    count: int
    n: int


@dataclass(frozen=True, eq=False)
class _EulerShared:
    drift: Any
    start: _Start
    kw: dict


def _euler_unit(cfg: _EulerUnit, ss: np.random.SeedSequence, sh: _EulerShared) -> np.ndarray:
    from .euler import strong_error

    rng = np.random.default_rng(ss)
    if sh.start.func is None:
        x = sh.start(cfg.n, rng)
    else:
        x = np.stack([sh.start(cfg.n, rng) for _ in range(cfg.count)])
    return strong_error(sh.drift, x, n_replicates=cfg.count, seed=rng, progress=False,
                        **sh.kw).errors


def euler_study(drift, x0, *, alpha: float, sigma: float, T: float, steps, replicates: int,
                reference_step: float | None = None, n: int = 1, noise: str = "iid",
                interacting: bool = True, batch_size: int | None = None, seed=0,
                expected: float | None = None,
                tolerance: float = 0.05, relation: str = "equal",
                progress: bool | None = None, client=None, cache=None) -> StudyResult:
    r"""Strong error ``E|x^eta(T) - x(T)|`` of the Euler scheme against the step eta.

    Built on :func:`poc.euler.strong_error`: nested grids, one Levy path per
    replicate shared by every step (common random numbers), reference = a
    fine-step Euler run on the same path. The slope is the measured strong
    order, with a paired bootstrap interval (whole replicates resampled).

    The default reference step is ``steps[-1] / 64``: the reference shares the
    leading error term of every run, and an 8x finer reference biased fitted
    orders upwards by 0.04-0.14; at 64x the bias is below ~0.01.

    Parameters
    ----------
    drift : poc.drifts.Drift
    x0 : callable or array_like, shape (d,)
        ``x0(n, rng) -> (n, d)`` (a fresh start per replicate) or one point.
    alpha : float
        Noise index in (1, 2].
    sigma, T : float
        Noise scale (``>= 0``) and horizon (``> 0``).
    steps : sequence of float
        Strictly decreasing steps, each dividing ``T`` and a multiple of the
        smallest one's reference grid (at least 3).
    replicates : int
        Independent Levy paths, ``>= 2``.
    reference_step : float, optional
        Default ``steps[-1] / 64``; at least 8 times finer than ``steps[-1]``.
    n : int, optional
        Particles per replicate (default 1: a single SDE).
    noise : {"iid", "isotropic", "neuron"}, optional
    interacting : bool, optional
        False for a drift without interaction (simulated in shared clouds, faster).
    batch_size : int, optional
        MeanFieldNetwork only: the tested runs are minibatch noisy SGD (see
        :func:`poc.euler.strong_error`), the reference the full-gradient system.
    seed, expected, tolerance, relation, progress, client, cache
        As in :func:`chaos_study`.

    Returns
    -------
    StudyResult
        ``data``: ``steps``, ``strong_error`` (one replicate array per step),
        ``reference_step``.

    Raises
    ------
    ValueError, TypeError
        Steps not decreasing, fewer than 3, not dividing T; ``replicates < 2``;
        bad x0; other out-of-range parameters.
    """
    from .euler import _grid, fit_paired_rate
    from .particles import _check_drift

    drift = _check_drift(drift)
    alpha = check_real(alpha, "alpha", low=1.0, high=2.0, low_open=True)
    sigma = check_real(sigma, "sigma", low=0.0)
    T = check_real(T, "T", low=0.0, low_open=True)
    replicates = check_int(replicates, "replicates", low=2)
    n = check_int(n, "n", low=1)
    noise = check_choice(noise, "noise", NOISE_KINDS)
    expected, tolerance, relation = _check_verdict_args(expected, tolerance, relation)
    arr = np.asarray(steps, dtype=float)
    if arr.ndim != 1 or arr.size < 3:
        raise ValueError(f"steps must hold at least 3 step sizes, got {np.asarray(steps).tolist()}")
    if reference_step is None:
        reference_step = float(arr[-1]) / EULER_REFINEMENT
    steps_v, _, n_fine = _grid(T, arr, reference_step, None)
    start = _check_start(x0)
    seed = master_seed(seed)
    sid = study_id("euler_study")
    kw = {"alpha": alpha, "sigma": sigma, "T": T, "steps": steps_v,
          "reference_step": T / n_fine, "noise": noise, "interacting": bool(interacting),
          "batch_size": batch_size}
    size = max(1, 2048 // n) if not interacting else max(1, _UNIT_PARTICLES // (n * 64))
    counts = [min(size, replicates - r0) for r0 in range(0, replicates, size)]
    units = [Unit.make(seed, sid, (b,), _EulerUnit(c, n)) for b, c in enumerate(counts)]
    out = run_units(_euler_unit, units, shared=_EulerShared(drift, start, kw), client=client,
                    cache=cache, progress=progress, desc="euler study")
    errors = np.concatenate(out, axis=1)
    fit = fit_paired_rate(steps_v, errors, seed=_rng(seed, sid, 3, 0))
    rows = list(errors)
    series = [Series("strong error E|x^eta(T) - x(T)|", steps_v, rows, fit)]
    notes = [f"Reference: a fine Euler run with step {T / n_fine:g} "
             f"({round(steps_v[-1] * n_fine / T)} x finer than the smallest step), same Levy path "
             f"and start; the interval is a paired bootstrap over the {replicates} paths."]
    data = {"steps": steps_v, "strong_error": rows, "reference_step": T / n_fine,
            "replicates": replicates, "n": n, "d": start.d, "batch_size": batch_size}
    settings = {"drift": repr(drift), "x0": _name(start.func) if start.func else start.point,
                "alpha": alpha, "sigma": sigma, "T": T, "steps": steps_v,
                "reference_step": T / n_fine, "n": n, "noise": noise, "seed": seed}
    return StudyResult("euler", fit, data, series, settings, "step eta", "strong error at T",
                       "the strong error", expected, tolerance, relation, notes)


# ---------------------------------------------------------------------------
# compress


@dataclass(frozen=True)
class _CompressUnit:
    n: int
    count: int
    keep_norms: bool


@dataclass(frozen=True, eq=False)
class _CompressShared:
    drift: Any
    start: _Start
    kappa: tuple
    threshold: float
    kw: dict


def _compress_unit(cfg: _CompressUnit, ss, sh: _CompressShared) -> dict:
    from .compress import best_k_error, prunable_fraction
    from .particles import simulate

    err = np.empty((cfg.count, len(sh.kappa)))
    pf = np.empty(cfg.count)
    loss = np.full(cfg.count, np.nan)
    norms = []
    has_loss = hasattr(sh.drift, "loss")
    for i, child in enumerate(ss.spawn(cfg.count)):
        rng = np.random.default_rng(child)
        W = simulate(sh.drift, sh.start(cfg.n, rng), seed=rng, progress=False, **sh.kw).final
        err[i] = best_k_error(W, list(sh.kappa))
        pf[i] = prunable_fraction(W, sh.threshold)
        if has_loss:
            loss[i] = sh.drift.loss(W)
        if cfg.keep_norms:
            norms.append(np.linalg.norm(W, axis=1))
    return {"err": err, "pf": pf, "loss": loss, "norms": norms}


def compress_study(drift, x0, *, alpha: float, sigma: float, step: float, n_steps: int, ns,
                   replicates, kappa=(0.1, 0.25), noise: str = "iid", threshold: float = 0.1,
                   batch_size: int | None = None, seed=0, expected: float | None = None,
                   tolerance: float = 0.05, relation: str = "equal",
                   progress: bool | None = None, client=None, cache=None) -> StudyResult:
    r"""Compressibility of the final cloud: best-k error and prunable fraction against n.

    Each replicate simulates the n-particle system (:func:`poc.simulate`) and
    measures on the final cloud Theta (n, d), one row per particle (a column
    of the network's weights):

    * the relative best-k error ``||Theta - Theta^(kappa n)||_F / ||Theta||_F``
      (keep the ``ceil(kappa n)`` rows of largest norm) for every kappa; the
      fitted slope is that of the first kappa;
    * the paper's prunable fraction (largest fraction of rows removable with
      squared relative error ``<= threshold``);
    * at the largest n, the Hill estimate of the row norms' tail index
      (``k = sqrt(n)`` upper order statistics), per replicate.

    For rows with i.i.d. norms of tail index alpha < 2 the best-k error decays
    like ``n^(1/2 - 1/alpha)``; light tails give no decay.

    Parameters
    ----------
    drift : poc.drifts.Drift
    x0 : callable or array_like, shape (d,)
    alpha : float
        Noise index in (0, 2].
    sigma, step : float
        Noise scale ``>= 0`` (0: no noise) and step ``> 0``.
    n_steps : int
        Euler steps ``>= 1``.
    ns, replicates
        As in :func:`chaos_study`.
    kappa : float or sequence of float, optional
        Kept fractions in (0, 1].
    noise : {"iid", "isotropic", "neuron"}, optional
    threshold : float, optional
        Error budget of the prunable fraction (default 0.1, the paper's).
    batch_size : int, optional
        Minibatch size (noisy SGD) for a MeanFieldNetwork drift.
    seed, expected, tolerance, relation, progress, client, cache
        As in :func:`chaos_study`.

    Returns
    -------
    StudyResult
        ``data``: ``n``, ``best_k_error`` (per kappa, one replicate array per
        n), ``prunable_fraction`` (one array per n), ``hill`` (per replicate at
        n_max), ``loss`` (networks only).

    Raises
    ------
    ValueError, TypeError
        Bad ``ns``, ``replicates < 2``, bad x0, kappa outside (0, 1], other
        out-of-range parameters.
    """
    from ._threads import serial_blas
    from .compress import hill
    from .particles import _check_drift

    drift = _check_drift(drift)
    alpha = check_real(alpha, "alpha", low=0.0, high=2.0, low_open=True)
    sigma = check_real(sigma, "sigma", low=0.0)
    step = check_real(step, "step", low=0.0, low_open=True)
    n_steps = check_int(n_steps, "n_steps", low=1)
    ns = _check_ns(ns)
    reps = _check_replicates(replicates, ns)
    noise = check_choice(noise, "noise", NOISE_KINDS)
    kap = tuple(float(k) for k in np.atleast_1d(np.asarray(kappa, dtype=float)))
    for k in kap:
        check_real(k, "kappa", low=0.0, high=1.0, low_open=True)
    threshold = check_real(threshold, "threshold", low=0.0, low_open=True)
    expected, tolerance, relation = _check_verdict_args(expected, tolerance, relation)
    start = _check_start(x0)
    seed = master_seed(seed)
    sid = study_id("compress_study")
    kw = {"alpha": alpha, "sigma": sigma, "step": step, "n_steps": n_steps, "noise": noise,
          "batch_size": batch_size}
    sh = _CompressShared(drift, start, kap, threshold, kw)
    blocks = list(_blocks(ns, reps))
    units = [Unit.make(seed, sid, (2, j, b), _CompressUnit(n, c, n == ns[-1]))
             for j, b, n, _, c in blocks]
    with serial_blas():
        out = run_units(_compress_unit, units, shared=sh, client=client, cache=cache,
                        progress=progress, desc="compress study")

    err, pf, loss = (_gather(blocks, out, name, len(ns)) for name in ("err", "pf", "loss"))
    norms = [a for (j, *_), o in zip(blocks, out, strict=True) if j == len(ns) - 1
             for a in o["norms"]]
    hills = np.array([hill(a) for a in norms])
    x = np.asarray(ns, float)
    series = []
    for q, k in enumerate(kap):
        rows = [e[:, q] for e in err]
        series.append(Series(f"best-k error, kappa = {k:g}", x, rows,
                             _fit(x, rows, _rng(seed, sid, 3, q))))
    notes = [
        "Prunable fraction (squared relative error <= " + f"{threshold:g}): "
        + ", ".join(f"{p.mean():.3f}" for p in pf) + f" for n = {', '.join(map(str, ns))}.",
        f"Hill tail index of the row norms at n = {ns[-1]}: {hills.mean():.2f} +- "
        f"{hills.std():.2f} over replicates (noise alpha = {alpha:g}; below 2 means heavy tails).",
    ]
    if len(kap) > 1:
        notes.insert(0, "Other kept fractions: " + "; ".join(
            f"kappa = {k:g}: slope {_fmt_ci(s.fit)}" for k, s in zip(kap[1:], series[1:],
                                                                   strict=True)) + ".")
    data = {"n": list(ns), "kappa": list(kap),
            "best_k_error": {f"{k:g}": s.rows for k, s in zip(kap, series, strict=True)},
            "prunable_fraction": pf, "hill": hills, "replicates": [reps[n] for n in ns]}
    if hasattr(drift, "loss"):
        data["loss"] = loss
    data["_norms_at_n_max"] = norms
    settings = {"drift": repr(drift), "x0": _name(start.func) if start.func else start.point,
                "alpha": alpha, "sigma": sigma, "step": step, "n_steps": n_steps, "noise": noise,
                "ns": list(ns), "kappa": list(kap), "threshold": threshold,
                "batch_size": batch_size, "seed": seed}
    return StudyResult("compress", series[0].fit, data, series, settings, "n (particles)",
                       "relative best-k error", f"the best-k error (kappa = {kap[0]:g})", expected,
                       tolerance, relation, notes)
