"""Compare ``poc validate`` results with an earlier run's (``poc validate --baseline DIR``).

A contributor who edits a kernel reruns the checks and compares every case
with the committed ``figures/`` (or any earlier ``--out``): a change is

* a check whose status changed (PASS, FAIL, SKIPPED, ERROR), or which has no
  result in the baseline, or whose baseline was run with another seed or mode
  (its numbers cannot be compared);
* a case added, removed, or whose verdict flipped;
* a number that moved by more than its own stated uncertainty: a fitted rate
  (a case's ``measured_rate``, a value ``X_slope`` beside ``X_ci``) by more
  than its confidence interval's half-width (the larger of the two runs'),
  every other number, deterministic given the seed, by more than rounding
  (:data:`REL_ROUNDING` relative).

Not compared: text (the details), timings (values named ``*seconds``), and
per-run records (values that are lists of dicts, such as the mnist check's
``runs``): they are the raw material of the case's numbers, which are
compared, and float32 training on another BLAS or thread count moves them
without changing what the case measures. See
docs/user_guide/validate.rst, "Regressions against a baseline".
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["REL_ROUNDING", "Change", "Comparison", "compare_result", "compare_results",
           "load_baseline"]

#: Relative tolerance of numbers without a stated uncertainty. The checks are deterministic
#: given the seed; float32 training and another BLAS summation order move their numbers by
#: ~1e-7 relative, a changed computation by far more.
REL_ROUNDING = 1e-6
_ABS_FLOOR = 1e-12  # numbers that should be 0 (differences, errors) may carry ~1e-15 noise
#: Value names that are timings (``train_seconds``, ``cpu_seconds``, ...): never compared,
#: nor anything inside them (``train_seconds_by_protocol.adapted``).
_TIMING_SUFFIXES = ("seconds", "seconds_sum", "elapsed", "elapsed_s")


def _is_timing(name: str) -> bool:
    return name.endswith(_TIMING_SUFFIXES) or "_seconds_" in name


@dataclass(frozen=True)
class Change:
    """One difference against the baseline: the check, the case (or None) and what changed."""

    check: str
    case: str | None
    what: str

    def text(self) -> str:
        where = self.check if self.case is None else f"{self.check}: {self.case}"
        return f"{where}: {self.what}"


@dataclass
class Comparison:
    """The changes of a run against a baseline directory, and what could not be compared."""

    baseline: str
    changes: list[Change] = field(default_factory=list)
    compared: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.changes)

    def checks_changed(self) -> list[str]:
        """Names of the checks with at least one change, in order of first appearance."""
        return list(dict.fromkeys(c.check for c in self.changes))

    def summary(self, limit: int = 3) -> str:
        """One sentence: no change, or per check the number of changes and the first ones."""
        if not self.changes:
            return (f"no change against the baseline {self.baseline} "
                    f"({len(self.compared)} check{'s' if len(self.compared) != 1 else ''} compared)")
        parts = []
        for name in self.checks_changed():
            mine = [c for c in self.changes if c.check == name]
            shown = "; ".join((c.what if c.case is None else f"{c.case}: {c.what}")
                              for c in mine[:limit])
            more = f"; and {len(mine) - limit} more" if len(mine) > limit else ""
            parts.append(f"{name} ({len(mine)} change{'s' if len(mine) != 1 else ''}: "
                         f"{shown}{more})")
        return f"CHANGED against the baseline {self.baseline}: " + " | ".join(parts)

    def markdown(self) -> list[str]:
        """Lines for REPORT.md: a section listing every change."""
        lines = [f"## Changes against the baseline `{self.baseline}`", ""]
        if not self.changes:
            n = len(self.compared)
            lines.append(f"No change: {n} check{'s' if n != 1 else ''} compared, every status, "
                         "verdict and number as in the baseline (numbers within their stated "
                         f"uncertainty, or {REL_ROUNDING:g} relative).")
            return lines
        lines += ["| check | case | change |", "|---|---|---|"]
        for c in self.changes:
            lines.append(f"| {c.check} | {_md(c.case or '(check)')} | {_md(c.what)} |")
        return lines


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def load_baseline(directory: str | os.PathLike) -> dict[str, dict]:
    """The check results (``<check>.json`` with ``"check"`` and ``"status"`` or ``"passed"``) in
    ``directory``, by check name.

    Raises
    ------
    ValueError
        If ``directory`` does not exist, is not a directory, or holds no result.
    """
    path = Path(directory)
    if not path.exists():
        raise ValueError(f"--baseline {path}: no such directory")
    if not path.is_dir():
        raise ValueError(f"--baseline {path}: not a directory")
    out = {}
    for p in sorted(path.glob("*.json")):
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue
        if isinstance(data, dict) and "check" in data and ("status" in data or "passed" in data):
            out[str(data["check"])] = data
    if not out:
        raise ValueError(f"--baseline {path}: holds no poc validate results (<check>.json files)")
    return out


def _status(r: dict) -> str:
    status = r.get("status")
    if status in ("PASS", "FAIL", "SKIPPED", "ERROR"):
        return status
    return "PASS" if r.get("passed") else "FAIL"


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _fmt(x: Any) -> str:
    if _is_number(x):
        return f"{x:.6g}"
    return json.dumps(x)[:40]


def _moved(a: float, b: float, tol: float | None) -> bool:
    if a is None or b is None:
        return (a is None) != (b is None)
    if tol is not None:
        return abs(a - b) > tol
    return abs(a - b) > max(REL_ROUNDING * max(abs(a), abs(b)), _ABS_FLOOR)


def _flatten(x: Any, prefix: str, out: dict[str, Any]) -> None:
    if _is_timing(prefix.rsplit(".", 1)[-1]):
        return  # a timing, or a mapping of timings: not compared
    if isinstance(x, dict):
        for k, v in x.items():
            _flatten(v, f"{prefix}.{k}" if prefix else str(k), out)
    elif isinstance(x, list):
        if not x or any(isinstance(v, dict) for v in x):
            return  # per-run records (or none): not compared (see the module notes)
        if all(_is_number(v) or v is None for v in x):
            out[prefix] = x
        else:
            for i, v in enumerate(x):
                _flatten(v, f"{prefix}[{i}]", out)
    else:
        out[prefix] = x


def _half_width(ci: Any) -> float | None:
    if isinstance(ci, list) and len(ci) == 2 and all(_is_number(v) for v in ci):
        return 0.5 * abs(ci[1] - ci[0])
    return None


def _uncertainties(values: dict, now: dict, then: dict) -> dict[str, float]:
    """Stated uncertainties of fitted slopes in ``values``: ``X_slope`` with ``X_ci``."""
    tol = {}
    for key in values:
        if key.endswith("slope"):
            base = key[: -len("slope")]
            widths = [w for w in (_half_width(now.get(base + "ci")), _half_width(then.get(base + "ci")))
                      if w is not None]
            if widths:
                tol[key] = max(widths)
    return tol


def _compare_numbers(name: str, now: Any, then: Any, tol: float | None) -> str | None:
    if isinstance(now, list) or isinstance(then, list):
        if not (isinstance(now, list) and isinstance(then, list)) or len(now) != len(then):
            return f"{name} changed shape: {_fmt(then)} -> {_fmt(now)}"
        moved = [i for i, (a, b) in enumerate(zip(now, then, strict=True)) if _moved(a, b, tol)]
        if moved:
            i = moved[0]
            return (f"{name}[{i}] moved {_fmt(then[i])} -> {_fmt(now[i])}"
                    + (f" ({len(moved)} of {len(now)} entries)" if len(moved) > 1 else ""))
        return None
    if now is None or then is None:
        return None if now is then else f"{name} changed: {_fmt(then)} -> {_fmt(now)}"
    if _is_number(now) and _is_number(then):
        if _moved(float(now), float(then), tol):
            how = "more than rounding" if tol is None else f"more than its uncertainty {tol:.3g}"
            return f"{name} moved {_fmt(then)} -> {_fmt(now)} ({how})"
        return None
    return None if now == then else f"{name} changed: {_fmt(then)} -> {_fmt(now)}"


def _compare_case(check: str, now: dict, then: dict) -> list[Change]:
    name = now.get("name", "?")
    out = []
    if bool(now.get("passed")) != bool(then.get("passed")):
        out.append(Change(check, name, f"verdict {'pass' if then.get('passed') else 'FAIL'} -> "
                                       f"{'pass' if now.get('passed') else 'FAIL'}"))
    rate_now, rate_then = now.get("measured_rate"), then.get("measured_rate")
    widths = [w for w in (_half_width(now.get("ci")), _half_width(then.get("ci"))) if w is not None]
    msg = _compare_numbers("measured rate", rate_now, rate_then, max(widths) if widths else None)
    if msg:
        out.append(Change(check, name, msg))
    msg = _compare_numbers("expected rate", now.get("expected_rate"), then.get("expected_rate"), None)
    if msg:
        out.append(Change(check, name, msg))
    flat_now, flat_then = {}, {}
    _flatten(now.get("values", {}), "", flat_now)
    _flatten(then.get("values", {}), "", flat_then)
    tol = _uncertainties(flat_now, flat_now, flat_then)
    for key in sorted(set(flat_now) | set(flat_then)):
        if key not in flat_then:
            out.append(Change(check, name, f"value {key} added"))
        elif key not in flat_now:
            out.append(Change(check, name, f"value {key} removed"))
        elif key.endswith("ci") and (key[:-2] + "slope") in flat_now:
            continue  # judged through its slope
        else:
            msg = _compare_numbers(key, flat_now[key], flat_then[key], tol.get(key))
            if msg:
                out.append(Change(check, name, msg))
    return out


def compare_result(now: dict, then: dict | None) -> list[Change]:
    """The changes of one check's result ``now`` against its baseline result ``then``."""
    check = str(now.get("check", "?"))
    if then is None:
        return [Change(check, None, "no result in the baseline")]
    s_now, s_then = _status(now), _status(then)
    if (now.get("seed"), now.get("mode")) != (then.get("seed"), then.get("mode")):
        return [Change(check, None, f"not comparable: baseline seed {then.get('seed')} mode "
                                    f"{then.get('mode')}, this run seed {now.get('seed')} mode "
                                    f"{now.get('mode')}")]
    out = []
    if s_now != s_then:
        out.append(Change(check, None, f"status {s_then} -> {s_now}"))
    if s_now in ("SKIPPED", "ERROR") or s_then in ("SKIPPED", "ERROR"):
        return out
    cases_then = {c.get("name"): c for c in then.get("cases", [])}
    names_now = [c.get("name") for c in now.get("cases", [])]
    for c in now.get("cases", []):
        if c.get("name") in cases_then:
            out += _compare_case(check, c, cases_then[c.get("name")])
        else:
            out.append(Change(check, c.get("name"), "case added"))
    for name in cases_then:
        if name not in names_now:
            out.append(Change(check, name, "case removed"))
    return out


def compare_results(results: list[dict], baseline: dict[str, dict],
                    label: str | os.PathLike = "baseline") -> Comparison:
    """Compare the results of a run with a baseline loaded by :func:`load_baseline`.

    Parameters
    ----------
    results : list of dict
        The run's check results (the ``<check>.json`` contents).
    baseline : dict
        Check name -> baseline result.
    label : str or path
        How the report names the baseline (its directory).

    Returns
    -------
    Comparison
        Every change, in the order of ``results``; ``changed`` is False when
        nothing differs.
    """
    comp = Comparison(baseline=str(label))
    for r in results:
        comp.compared.append(str(r.get("check")))
        comp.changes += compare_result(r, baseline.get(str(r.get("check"))))
    return comp

