"""The ``mnist`` check's notes and markdown tables for REPORT.md.

Every table names its protocol (:data:`poc.checks.mnist.ADAPTED`,
:data:`poc.checks.mnist.AUTHORS`); :func:`side_by_side` sets the two
protocols' verdicts on the same claims next to each other, with the time
each took.
"""

from __future__ import annotations

import numpy as np

from ._base import BEYOND
from ._paper import QUOTES
from .mnist import CLAIMS, PLAIN, configs, label, paired_rule, values_of


def _strip(name: str) -> str:
    """A case's name without its ``[protocol] `` prefix."""
    return name.split("] ", 1)[1] if name.startswith("[") else name


def notes(rows: list[dict], grids, m: int, seconds: dict) -> list[str]:
    """The check's notes: sources, the Gaussian controls, missed targets, each protocol's cost."""
    out = [
        "Sources: cases C1a, C1b, C2, C3a and C4 test wording of the paper (quoted, with where "
        "it comes from, in the claims table below and in each case's JSON: source, quote, "
        "quoted_from); the check's verdict is theirs. C3b, T1 and T2 are beyond the paper: the "
        "toolkit's own questions, with their own verdict line.",
    ]
    for g in grids:
        p = g.protocol
        sub = [r for r in rows if r["protocol"] == p.name]
        for c in (c for c in configs(g) if c.role == "control"):
            ok, parts = paired_rule(sub, c, PLAIN, g.widths)
            out.append(f"[{p.name}] {label(c)[0].upper()}{label(c)[1:]}: by C2's rule it "
                       f"{'gives' if ok else 'does not give'} the gain in mce ratio "
                       f"({'; '.join(parts)}).")
        missed = [r for r in sub if r.get("role") in ("control", "matched")
                  and not r["reached_target"]]
        if missed:
            out.append(f"[{p.name}] Gaussian runs that did not reach 95 % within "
                       f"{p.max_steps} steps: " + "; ".join(
                           f"{r['label']} n={r['width']} seed {r['seed']}" for r in missed[:8]))
        out.append(
            f"[{p.name}] Settings: {p.describe(m)}, at most {p.max_steps} steps, target 95% "
            f"training accuracy, mce budget 0.1; {len(sub)} runs, {seconds[p.name]:.0f} s of "
            "training (summed over runs). Network, noise types and pruning follow the authors' "
            "code.")
    return out


def claims_table() -> str:
    """What each case tests, where the wording comes from, and why its threshold."""
    lines = ["Claims: what each case tests and where the wording comes from "
             "(arXiv 2306.08125, Wan, Barsbey, Zaidi, Simsekli):", "",
             "| case | source | wording tested | where | threshold / rule, and why |",
             "|---|---|---|---|---|"]
    for kind, (source, quote, reason) in CLAIMS.items():
        words, where = (f'"{QUOTES[quote][0]}"', QUOTES[quote][1]) if quote else ("-", "-")
        lines.append(f"| {kind} | {source} | {words} | {where} | {reason} |")
    return "\n".join(lines)


def table(rows: list[dict]) -> str:
    """The paper's table, one line per run, as markdown."""
    head = ("| protocol | width | configuration | seed | steps | train acc. | test acc. | "
            "mce ratio | pruned train acc. | pruned test acc. |")
    lines = ["Every run (accuracies in %; steps to 95% training accuracy, * = not reached):",
             "", head, "|" + "---|" * 10]
    for r in rows:
        lines.append(
            f"| {r['protocol']} | {r['width']} | {r['label']} | {r['seed']} | {r['steps']}"
            f"{'' if r['reached_target'] else '*'} | {100 * r['train_accuracy']:.1f} | "
            f"{100 * r['test_accuracy']:.1f} | {r['mce_ratio']:.3f} | "
            f"{100 * r['pruned_train_accuracy']:.1f} | {100 * r['pruned_test_accuracy']:.1f} |")
    return "\n".join(lines)


def summary_table(rows: list[dict], grid, m: int) -> str:
    """Mean over seeds per (configuration, width) for one protocol, as markdown."""
    lines = [f"Mean over seeds, {grid.protocol.describe(m)} (accuracies in %):", "",
             "| protocol | configuration | width | seeds | steps | test acc. | mce ratio | "
             "pruned test acc. |", "|" + "---|" * 8]
    for c in configs(grid):
        for w in grid.widths:
            g = {k: values_of(rows, c, w, k) for k in
                 ("steps", "test_accuracy", "mce_ratio", "pruned_test_accuracy")}
            if g["steps"].size == 0:
                continue
            lines.append(
                f"| {grid.protocol.name} | {label(c)} | {w} | {g['steps'].size} | "
                f"{g['steps'].mean():.0f} | {100 * g['test_accuracy'].mean():.1f} | "
                f"{g['mce_ratio'].mean():.3f} | {100 * g['pruned_test_accuracy'].mean():.1f} |")
    return "\n".join(lines)


def side_by_side(per: dict, grids, seconds: dict) -> str:
    """The same claims judged under each protocol, side by side, and whether the finding changes.

    ``per`` maps a protocol name to its list of cases. Only claims judged under every
    protocol appear (the authors' protocol runs a subset of the configurations).
    """
    names = [g.protocol.name for g in grids]
    by = {n: {_strip(c.name): c for c in per[n]} for n in names}
    common = [k for k in by[names[0]] if all(k in by[n] for n in names[1:])]
    lines = ["Both protocols side by side (same claims, same rules; the verdict of each):", "",
             "| case | source | " + " | ".join(names) + " | finding changes? |",
             "|" + "---|" * (len(names) + 3)]
    for k in common:
        cs = [by[n][k] for n in names]
        verdicts = ["pass" if c.passed else "**fail**" for c in cs]
        change = "no" if len({c.passed for c in cs}) == 1 else "**yes**"
        lines.append(f"| {k} | {cs[0].source} | " + " | ".join(verdicts) + f" | {change} |")
    lines.append("| time (training, summed over runs) | | "
                 + " | ".join(f"{seconds[n]:.0f} s" for n in names) + " | |")
    for n in names:
        paper = [c for c in per[n] if c.source != BEYOND]
        beyond = [c for c in per[n] if c.source == BEYOND]
        lines.append("")
        lines.append(f"{n}: paper cases {sum(c.passed for c in paper)}/{len(paper)} pass; beyond "
                     f"the paper {sum(c.passed for c in beyond)}/{len(beyond)}.")
    return "\n".join(lines)


def mean_grid(rows: list[dict], grid, key) -> tuple[list, list, np.ndarray]:
    """(configurations, widths, means (configs, widths)) of ``key(row)`` for one protocol."""
    cfgs = configs(grid)
    out = np.full((len(cfgs), len(grid.widths)), np.nan)
    for i, c in enumerate(cfgs):
        for j, w in enumerate(grid.widths):
            sel = [key(r) for r in rows if r["protocol"] == grid.protocol.name
                   and r["width"] == w and r["noise_type"] == c.noise_type
                   and r["alpha"] == c.alpha and r["sigma"] == c.sigma
                   and r.get("role", c.role) == c.role]
            if sel:
                out[i, j] = float(np.mean(sel))
    return cfgs, list(grid.widths), out
