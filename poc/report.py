"""Atomic result files and the REPORT.md summary written by ``poc validate``."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["atomic_write_json", "atomic_write_text", "load_results", "write_report"]

# mkstemp creates files readable by their owner only; results are for everyone.
_FILE_MODE = 0o644


def _atomic_write(path: str | os.PathLike, write) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it over ``path``.

    An interrupted run therefore leaves either the old file or the new one,
    never half of one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # keep the suffix so writers that infer the format from it (savefig) still can
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (temporary file, fsync, rename)."""

    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())

    return _atomic_write(path, write)


def atomic_write_json(path: str | os.PathLike, data: Any) -> Path:
    """Write ``data`` as indented JSON, atomically."""
    return atomic_write_text(path, json.dumps(data, indent=2, allow_nan=False) + "\n")


def atomic_save_figure(fig, path: str | os.PathLike, **kwargs) -> Path:
    """Save a matplotlib figure atomically."""
    return _atomic_write(path, lambda tmp: fig.savefig(tmp, **kwargs))


def load_results(out: str | os.PathLike) -> list[dict]:
    """All check results (``<check>.json`` files with a ``"check"`` key) in ``out``."""
    results = []
    for p in sorted(Path(out).glob("*.json")):
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if isinstance(data, dict) and "check" in data and "passed" in data:
            results.append(data)
    return results


def _fmt_rate(case: dict) -> str:
    rate = case.get("measured_rate")
    if rate is None:
        return ""
    ci = case.get("ci")
    s = f"{rate:+.3f}"
    if ci:
        s += f" [{ci[0]:+.3f}, {ci[1]:+.3f}]"
    exp = case.get("expected_rate")
    if exp is not None:
        s += f" vs {exp:+.3f}"
    return s


def write_report(out: str | os.PathLike, order: list[str] | None = None) -> Path:
    """(Re)write ``out/REPORT.md`` from every check result found in ``out``.

    Checks run at different times keep their own mode, seed and run time in
    the table, so a partial re-run never hides what an older result was.
    """
    out = Path(out)
    results = load_results(out)
    if order:
        rank = {name: i for i, name in enumerate(order)}
        results.sort(key=lambda r: rank.get(r["check"], len(rank)))
    lines = [
        "# heavytail-poc validation report",
        "",
        "Numerical checks of Wan, Barsbey, Zaidi, Simsekli, *Implicit Compressibility of",
        "Overparametrized Neural Networks Trained with Heavy-Tailed SGD* (arXiv 2306.08125).",
        "Regenerate with `poc validate` (quick) or `poc validate --full`.",
        "",
        "| check | verdict | cases passed | mode | seed | time (s) |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        cases = r.get("cases", [])
        n_ok = sum(bool(c.get("passed")) for c in cases)
        verdict = "PASS" if r["passed"] else "**FAIL**"
        lines.append(
            f"| [{r['check']}](#{r['check']}) | {verdict} | {n_ok}/{len(cases)} | {r.get('mode', '')} "
            f"| {r.get('seed', '')} | {r.get('elapsed_s', float('nan')):.1f} |"
        )
    for r in results:
        lines += ["", f"## {r['check']}", ""]
        if r.get("title"):
            lines += [r["title"], ""]
        lines += ["| case | verdict | measured rate [CI] vs expected | detail |", "|---|---|---|---|"]
        for c in r.get("cases", []):
            detail = str(c.get("detail", "")).replace("|", "\\|").replace("\n", " ")
            lines.append(
                f"| {c['name']} | {'pass' if c.get('passed') else '**fail**'} | {_fmt_rate(c)} | {detail} |"
            )
        for note in r.get("notes", []):
            lines += ["", f"- {note}"]
        for table in r.get("tables", []):  # ready-made markdown blocks (e.g. the mnist table)
            lines += ["", table]
        for fig in r.get("figures", []):
            lines += ["", f"![{r['check']}]({fig})"]
    return atomic_write_text(out / "REPORT.md", "\n".join(lines) + "\n")
