"""What a study returns: :class:`StudyResult` and its fitted curves (:class:`Series`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..rates import RateFit, Verdict, judge
from ..report import jsonable
from .fitting import fmt_ci

__all__ = ["NOT_IN_JSON", "Series", "StudyResult"]

#: Entries of :attr:`StudyResult.data` that :meth:`StudyResult.to_dict` leaves out: the row
#: norms of every replicate at n_max (n_max floats per replicate) would dwarf the rest.
NOT_IN_JSON = frozenset({"norms_at_n_max"})


@dataclass(frozen=True, eq=False)
class Series:
    """One fitted curve: replicate values per x, and the one fit of them.

    Attributes
    ----------
    label : str
        Legend label.
    x : numpy.ndarray, shape (k,)
        The abscissae (n, or steps).
    rows : list of numpy.ndarray
        One 1-D array of replicate values per x (as many per x, or a count per x).
    fit : poc.rates.RateFit
        The log-log fit of the replicate means, with its bootstrap interval.
    key : str
        The curve's name in :meth:`StudyResult.curve` (e.g. ``"coupling_error"``).
    """

    label: str
    x: np.ndarray
    rows: list
    fit: RateFit
    key: str = ""

    @property
    def mean(self) -> np.ndarray:
        """Replicate mean at every x, shape (k,)."""
        return np.array([r.mean() for r in self.rows])

    def as_array(self) -> np.ndarray:
        """The replicates as one array of shape (k, r) (every x with the same count r).

        Raises
        ------
        ValueError
            The x values carry different numbers of replicates.
        """
        counts = {len(r) for r in self.rows}
        if len(counts) != 1:
            raise ValueError(f"curve {self.key!r} has {sorted(counts)} replicates at different "
                             f"x: use .rows")
        return np.stack(self.rows)


@dataclass(frozen=True, eq=False)
class StudyResult:
    """What a study measured.

    Every number a check or a report needs is here, public: the fitted curves
    with their one interval each (:attr:`series`, :meth:`curve`), and every
    measurement per x and per replicate (:attr:`data`, whose keys each study
    lists under Returns). A check builds its cases from these; it does not
    refit.

    Attributes
    ----------
    study : {"chaos", "euler", "compress"}
    fit : poc.rates.RateFit
        The main slope (``.slope``, ``.ci``): ``series[0].fit``.
    data : dict
        The measurements: the x values and, per quantity, one array of
        replicate values per x (each study's docstring lists the keys).
    series : list of Series
        The fitted curves, drawn by :meth:`plot` (the first is the main one).
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

    def curve(self, key: str) -> Series:
        """The fitted curve ``key`` (e.g. ``"coupling_error"``; see each study's Returns)."""
        for s in self.series:
            if s.key == key:
                return s
        raise KeyError(f"no curve {key!r} in this {self.study} study; curves: "
                       f"{[s.key for s in self.series]}")

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
        from ..plotting import new_figure, rate_panel, reference_line, verdict_badge

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
        if "quantile" in self.data and not main_only:
            _probability_panels(ax, self)
        return ax

    def to_dict(self) -> dict:
        """A JSON-ready case: name, measured_rate, ci, expected_rate, passed, detail, values.

        ``values`` holds every curve (means, replicates, slope, interval) and every entry
        of :attr:`data` but the bulky ones in :data:`NOT_IN_JSON`.
        """
        v = self.verdict
        values = {"x": self.series[0].x}
        for s in self.series:
            values[s.label] = {"mean": s.mean, "replicates": [r for r in s.rows],
                               "slope": s.fit.slope, "ci": list(s.fit.ci)}
        values.update({k: v_ for k, v_ in self.data.items() if k not in ("x", "rows")
                       and k not in NOT_IN_JSON})
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
                f"log-log slope is {fmt_ci(self.fit)} (95 % bootstrap interval over {rep_txt} "
                f"replicates per point).")
        for t in self.notes:
            text += " " + t
        v = self.verdict
        if v is not None:
            text += (f" Verdict: {'PASS' if v.passed else 'FAIL'} -- {v.text} "
                     f"(relation '{self.relation}').")
        return text


def _probability_panels(ax, res: StudyResult) -> None:
    """The (1 - delta)-quantile of the main curve with its intervals, and an inset with
    ``P(error <= epsilon)`` against x (Wilson intervals): the compression theorem's terms."""
    d = res.data
    key = f"{d['kappa'][0]:g}"
    x = np.asarray(res.series[0].x, dtype=float)
    q = d["quantile"][key]
    qq = np.asarray(q["q"], dtype=float)
    lo = qq - np.asarray(q["low"], dtype=float)
    hi = np.asarray(q["high"], dtype=float) - qq
    hi[~np.isfinite(hi)] = 0.0  # too few replicates for a finite upper end: no bar
    ax.errorbar(x, qq, yerr=[lo, hi], fmt="v", color="0.25", mfc="none", capsize=2,
                markersize=5, label=f"{1 - d['delta']:g}-quantile (95 % CI)")
    lo_y, hi_y = ax.get_ylim()
    ax.set_ylim(lo_y / 4.0, hi_y * 1.5)  # room below the curves for the inset (log axis)
    ax.legend(fontsize=6, loc="upper right")
    ins = ax.inset_axes([0.08, 0.07, 0.36, 0.30])
    for j, (e, pr) in enumerate(d["probability"][key].items()):
        p = np.asarray(pr["p"], dtype=float)
        ins.errorbar(x, p, yerr=[p - np.asarray(pr["low"]), np.asarray(pr["high"]) - p],
                     marker="os^Dv"[j % 5], markersize=3, capsize=1.5, linewidth=0.9,
                     label=f"eps = {e}")
    ins.axhline(1.0 - d["delta"], color="0.5", linewidth=0.7, linestyle="--")
    ins.set_xscale("log", base=2)
    ins.set_ylim(-0.03, 1.03)
    ins.set_title("P(error <= eps), Wilson 95 %", fontsize=6)
    ins.tick_params(labelsize=5)
    ins.legend(fontsize=4.5, loc="upper left")
