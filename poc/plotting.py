"""Shared figure style and the log-log rate panel used by the checks.

Imported only by the checks (never by ``import poc``), so the core stays
free of matplotlib.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # figures are files; never needs a display

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

__all__ = ["layout_problems", "new_figure", "rate_panel", "reference_line", "slope_text",
           "verdict_badge"]


def new_figure(nrows: int = 1, ncols: int = 1, *, width: float = 5.0, height: float = 4.0, **kw):
    """A figure in the toolkit's style (seaborn whitegrid, colour-blind palette)."""
    sns.set_theme(style="whitegrid", context="notebook", palette="colorblind", font_scale=0.9)
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows),
                             squeeze=False, **kw)
    return fig, axes


def rate_panel(ax, x, y_reps, *, slope: float, intercept: float, ci, label: str, color,
               marker: str = "o", level: float = 0.95, show_points: bool = True,
               linestyle: str = "-", linewidth: float = 1.4) -> None:
    """Plot replicate means with a bootstrap band, the fitted power law and its slope.

    Parameters
    ----------
    ax : matplotlib Axes (log-log scale is set here)
    x : (k,) abscissae; y_reps : (k, r) replicate values (or (k,)), or a list of k
        1-D arrays (a different number of replicates at each x)
    slope, intercept, ci : the log-log fit ``log y = intercept + slope log x`` and its interval
    label : legend label; the fitted slope and CI are appended
    """
    x = np.asarray(x, float)
    if isinstance(y_reps, list | tuple):  # ragged: one replicate array per x
        rows = [np.atleast_1d(np.asarray(r, float)) for r in y_reps]
    else:
        y = np.asarray(y_reps, float)
        rows = list(y if y.ndim == 2 else y[:, None])
    mean = np.array([r.mean() for r in rows])
    ax.set_xscale("log")
    ax.set_yscale("log")
    if show_points:
        if min(r.size for r in rows) > 1:
            # percentile band of the replicate mean: what the bootstrap resamples
            rng = np.random.default_rng(0)
            lo, hi = np.empty(len(rows)), np.empty(len(rows))
            for j, r in enumerate(rows):
                boot = r[rng.integers(0, r.size, size=(500, r.size))].mean(axis=1)
                lo[j], hi[j] = np.percentile(boot, [50 * (1 - level), 50 * (1 + level)])
            ax.fill_between(x, lo, hi, color=color, alpha=0.18, linewidth=0)
        ax.plot(x, mean, marker, color=color, markersize=4 if marker != "x" else 6,
                mfc="none" if marker in "Dx" else color)
    xx = np.geomspace(x.min(), x.max(), 50)
    ax.plot(xx, np.exp(intercept) * xx**slope, linestyle=linestyle, color=color, linewidth=linewidth,
            label=f"{label}: slope {slope_text(slope, ci)}")


def slope_text(slope: float, ci) -> str:
    """``+0.12 [+0.10, +0.14]`` with enough decimals to show the interval's width and sign
    (a near-flat control's ``[-0.004, +0.002]`` must not print as ``[+0.00, +0.00]``)."""
    lo, hi = float(ci[0]), float(ci[1])
    scale = max(hi - lo, 1e-12)
    digits = 2
    while digits < 5 and (scale < 2 * 10.0**-digits or (lo < 0 < hi and
                                                         min(-lo, hi) < 10.0**-digits)):
        digits += 1
    return f"{slope:+.{digits}f} [{lo:+.{digits}f}, {hi:+.{digits}f}]"


def reference_line(ax, x, anchor_y: float, slope: float, label: str, **kw) -> None:
    """A dashed power law ``anchor_y * (x / x[0])**slope`` for a theory exponent."""
    x = np.asarray(x, float)
    xx = np.geomspace(x.min(), x.max(), 50)
    kw.setdefault("color", "0.35")
    kw.setdefault("linestyle", "--")
    kw.setdefault("linewidth", 1.0)
    ax.plot(xx, anchor_y * (xx / x.min()) ** slope, label=label, **kw)


def verdict_badge(ax, passed: bool, text: str | None = None) -> None:
    """A PASS/FAIL tag in the corner of a panel, so the figure states its verdict."""
    msg = ("PASS" if passed else "FAIL") + (f": {text}" if text else "")
    ax.text(0.02, 0.02, msg, transform=ax.transAxes, fontsize=8, ha="left", va="bottom",
            color="white", bbox={"boxstyle": "round,pad=0.3",
                                 "facecolor": "#2a7d2e" if passed else "#b22222",
                                 "edgecolor": "none"})


def _visible_tick_labels(axis) -> list:
    """The tick labels ``axis`` draws: visible, non-empty, at a location inside the view."""
    lo, hi = sorted(axis.get_view_interval())
    span = (hi - lo) * 1e-9
    out = []
    for ticks in (axis.get_major_ticks(), axis.get_minor_ticks()):
        for tick in ticks:
            for lab in (tick.label1, tick.label2):
                if (lab.get_visible() and lab.get_text().strip() and tick.get_visible()
                        and lo - span <= tick.get_loc() <= hi + span):
                    out.append(lab)
    return out


def layout_problems(fig) -> list[str]:
    """What makes a figure hard to read: legends over data, tick labels over each other.

    Draws the figure, then compares bounding boxes in display space: every
    legend (of the figure or of an axes) against the data area (the axes
    patch) of every axes that has data, and, on every axis, every pair of
    drawn tick labels. Colorbar axes count as axes but hold no legend data.

    Parameters
    ----------
    fig : matplotlib.figure.Figure

    Returns
    -------
    list of str
        One sentence per problem; empty when the figure is clean.
    """
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    problems = []
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend()]
    data_axes = [ax for ax in fig.axes if ax.get_visible() and ax.axison
                 and (ax.lines or ax.collections or ax.images or ax.patches)]
    for leg in legends:
        lb = leg.get_window_extent(renderer)
        for ax in data_axes:
            if lb.overlaps(ax.patch.get_window_extent(renderer)):
                problems.append(f"a legend ({', '.join(t.get_text() for t in leg.get_texts()[:2])}"
                                f", ...) overlaps the data area of axes {ax.get_title()!r}")
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            labels = _visible_tick_labels(axis)
            boxes = [lab.get_window_extent(renderer) for lab in labels]
            for i in range(len(boxes)):
                for j in range(i + 1, len(boxes)):
                    if boxes[i].overlaps(boxes[j]):
                        problems.append(
                            f"{name} tick labels {labels[i].get_text()!r} and "
                            f"{labels[j].get_text()!r} overlap on axes {ax.get_title()!r}")
    return problems
