"""Atomic result files and the REPORT.md summary written by ``poc validate``."""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "jsonable",
    "load_results",
    "result_status",
    "utc_now",
    "write_report",
]

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


def utc_now() -> str:
    """The current time in UTC as ISO 8601 to the second, e.g. ``2026-01-31T12:00:00Z``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def jsonable(x: Any) -> Any:
    """``x`` with NumPy scalars and arrays turned into Python ones, ready for :mod:`json`.

    Tuples become lists, dict keys strings, and non-finite floats ``None``
    (JSON has no NaN or infinity).
    """
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return jsonable(x.tolist())
    if isinstance(x, bool | np.bool_):
        return bool(x)
    if isinstance(x, int | np.integer):
        return int(x)
    if isinstance(x, float | np.floating):
        x = float(x)
        return x if math.isfinite(x) else None
    return x


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (temporary file, fsync, rename)."""

    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())

    return _atomic_write(path, write)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (a temporary file beside it, then a rename)."""

    def write(tmp):
        with open(tmp, "wb") as fh:
            fh.write(data)

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


def _split_sources(cases: list[dict]) -> tuple[list[dict], list[dict]]:
    """(cases testing the paper, cases beyond the paper) of a result's cases."""
    beyond = [c for c in cases if c.get("source") == "beyond the paper"]
    return [c for c in cases if c.get("source") != "beyond the paper"], beyond


def beyond_line(cases: list[dict]) -> str:
    """``beyond the paper: FAIL 0/18``: the own verdict of a check's additions to the paper."""
    n_ok = sum(bool(c.get("passed")) for c in cases)
    return f"beyond the paper: {'PASS' if n_ok == len(cases) else 'FAIL'} {n_ok}/{len(cases)}"


def result_status(result: dict) -> str:
    """PASS, FAIL, SKIPPED or ERROR; result files older than the status field give PASS/FAIL."""
    status = result.get("status")
    if status in ("PASS", "FAIL", "SKIPPED", "ERROR"):
        return status
    return "PASS" if result.get("passed") else "FAIL"


_VERDICT_MD = {"PASS": "PASS", "FAIL": "**FAIL**", "SKIPPED": "SKIPPED", "ERROR": "**ERROR**"}


def _md(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _odd_ones(results: list[dict], run: dict | None) -> dict[str, str]:
    """Why a row does not belong with the others: check name -> short note.

    Against the current run when there is one (a different seed or mode, or
    a result older than the run, i.e. left from an earlier run); otherwise
    against the most common seed and mode among the results.
    """
    if not results:
        return {}
    if run is not None:
        seed, mode, since = run.get("seed"), run.get("mode"), run.get("started")
    else:
        seed = Counter(r.get("seed") for r in results).most_common(1)[0][0]
        mode = Counter(r.get("mode") for r in results).most_common(1)[0][0]
        since = None
    notes = {}
    for r in results:
        why = []
        if r.get("seed") != seed:
            why.append(f"seed {r.get('seed')}, not {seed}")
        if r.get("mode") != mode:
            why.append(f"mode {r.get('mode')}, not {mode}")
        started = r.get("started")
        if since is not None and (started is None or started < since):
            why.append("from an earlier run")
        if why:
            notes[r["check"]] = "; ".join(why)
    return notes


def write_report(out: str | os.PathLike, order: list[str] | None = None,
                 run: dict | None = None, comparison=None) -> Path:
    """(Re)write ``out/REPORT.md`` from every check result found in ``out``.

    Parameters
    ----------
    out : path
        Folder holding the ``<check>.json`` result files.
    order : list of str, optional
        Order of the checks in the report; unknown names go last.
    run : dict, optional
        The run that is writing the report: ``seed``, ``mode``, ``started``
        (UTC timestamp), ``checks`` (names it was asked to run) and, if it was
        interrupted, ``unfinished`` (names that did not finish).
    comparison : poc.baseline.Comparison, optional
        The run's changes against a baseline (``poc validate --baseline``),
        listed in a section before the table.

    Returns
    -------
    Path
        The path of REPORT.md.

    Notes
    -----
    Every row shows the seed, mode and start time of its result, so results
    of different runs are never mixed silently: a row whose seed or mode
    differs from the current run (or, without a run, from most rows), or
    which is older than the current run, is marked with a footnote.
    """
    out = Path(out)
    results = load_results(out)
    if order:
        rank = {name: i for i, name in enumerate(order)}
        results.sort(key=lambda r: rank.get(r["check"], len(rank)))
    odd = _odd_ones(results, run)
    lines = [
        "# heavytail-poc validation report",
        "",
        "Numerical checks of Wan, Barsbey, Zaidi, Simsekli, *Implicit Compressibility of",
        "Overparametrized Neural Networks Trained with Heavy-Tailed SGD* (arXiv 2306.08125).",
        "Regenerate with `poc validate` (quick) or `poc validate --full`.",
        "",
    ]
    if run is not None and run.get("unfinished"):
        left = ", ".join(run["unfinished"])
        lines += [
            f"> **Interrupted run** (started {run.get('started')}, seed {run.get('seed')}, "
            f"mode {run.get('mode')}): these checks did not finish: {left}. "
            "Rows shown for them, if any, are from an earlier run.",
            "",
        ]
    calib = next((r for r in results if r["check"] == "calibration"), None)
    if calib is not None and result_status(calib) != "PASS":
        # the theorem checks' verdicts rest on the instruments the calibration check proves
        broken = [c["name"] for c in calib.get("cases", []) if not c.get("passed")]
        lines += [
            f"> **Calibration {result_status(calib)}**"
            + (f" ({'; '.join(broken)})" if broken else "")
            + ": an instrument the theorem checks rely on is broken or unproven, so the verdicts "
            "below are untrustworthy until it is fixed.",
            "",
        ]
    if comparison is not None:
        lines += [*comparison.markdown(), ""]
    lines += [
        "| check | verdict | cases passed | mode | seed | started (UTC) | time (s) | note |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        status = result_status(r)
        paper, beyond = _split_sources(r.get("cases", []))
        n_ok = sum(bool(c.get("passed")) for c in paper)
        elapsed = r.get("elapsed_s")
        note = f"**different run**: {odd[r['check']]}" if r["check"] in odd else ""
        extra = f" ({beyond_line(beyond)})" if beyond else ""
        lines.append(
            f"| [{r['check']}](#{r['check']}) | {_VERDICT_MD[status]} | {n_ok}/{len(paper)}{extra} "
            f"| {r.get('mode', '')} | {r.get('seed', '')} | {r.get('started', 'unknown')} "
            f"| {'' if elapsed is None else f'{elapsed:.1f}'} | {note} |"
        )
    for r in results:
        status = result_status(r)
        lines += ["", f"## {r['check']}", ""]
        if r.get("title"):
            lines += [r["title"], ""]
        if status == "SKIPPED":
            lines += [f"SKIPPED: {r.get('reason', 'an optional extra is missing')}. "
                      f"Install it with `{r.get('install', '')}` and run this check again."]
            continue
        if status == "ERROR":
            lines += [f"ERROR: the check crashed: `{_md(r.get('reason', ''))}`. "
                      f"The traceback is in `{r.get('log', '')}` beside this report."]
            continue
        paper, beyond = _split_sources(r.get("cases", []))
        for group, head in ((paper, "Cases testing the paper (the check's verdict):"),
                            (beyond, f"Beyond the paper, judged on their own: "
                                     f"**{beyond_line(beyond)}**")):
            if not group:
                continue
            if beyond:  # two tables: say which is which
                lines += [head, ""]
            lines += ["| case | verdict | measured rate [CI] vs expected | detail |",
                      "|---|---|---|---|"]
            for c in group:
                lines.append(
                    f"| {c['name']} | {'pass' if c.get('passed') else '**fail**'} "
                    f"| {_fmt_rate(c)} | {_md(c.get('detail', ''))} |"
                )
            lines.append("")
        lines.pop()
        for note in r.get("notes", []):
            lines += ["", f"- {note}"]
        for table in r.get("tables", []):  # ready-made markdown blocks (e.g. the mnist table)
            lines += ["", table]
        for fig in r.get("figures", []):
            lines += ["", f"![{r['check']}]({fig})"]
    return atomic_write_text(out / "REPORT.md", "\n".join(lines) + "\n")
