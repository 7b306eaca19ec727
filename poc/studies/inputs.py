"""The input checks the studies share, and how they cut their work into units.

:func:`constant_work` is public (``poc.studies.constant_work``); the other
functions are the studies' own and keep no promise outside the package.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from .._inputs import check_drift  # also re-exported for the studies
from .._validation import check_choice, check_int, check_real
from ..exceptions import ParameterTypeError, StudyWarning
from ..noise import NOISE_KINDS
from ..rates import RELATIONS

__all__ = ["MIN_HEAVY_REPLICATES", "constant_work"]

#: With alpha < 2 and fewer replicates than this at some n, a warning says the
#: bootstrap interval may not be trusted: for errors of tail index alpha the
#: mean of a few dozen replicates is dominated by its one or two largest terms,
#: and percentile intervals under-cover badly.
MIN_HEAVY_REPLICATES = 50
# replicates per work unit: about this many particles
UNIT_PARTICLES = 4096


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


def check_ns(ns) -> tuple[int, ...]:
    """At least 3 strictly increasing integers ``>= 2``."""
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


def check_replicates(replicates, ns) -> dict[int, int]:
    """``{n: count >= 2}`` from one count or a mapping with an entry for every n."""
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


def step_count(T: float, step: float) -> int:
    """``T / step``, which must be a whole number (the studies' one time convention)."""
    ratio = T / step
    k = round(ratio)
    if k < 1 or abs(ratio - k) > 1e-9 * ratio:
        raise ValueError(f"step must divide T (T / step an integer): T = {T:g}, step = {step:g}, "
                         f"T / step = {ratio:g}")
    return int(k)


def check_horizon(T, step) -> tuple[float, float, int]:
    """Validated ``(T, step, T / step)``: horizon and step positive, the step dividing T."""
    T = check_real(T, "T", low=0.0, low_open=True)
    step = check_real(step, "step", low=0.0, low_open=True)
    return T, step, step_count(T, step)


def check_verdict_args(expected, tolerance, relation) -> tuple[float | None, float, str]:
    """Validated ``expected`` (or None), ``tolerance >= 0`` and ``relation``."""
    if expected is not None:
        expected = check_real(expected, "expected")
    tolerance = check_real(tolerance, "tolerance", low=0.0)
    relation = check_choice(relation, "relation", RELATIONS)
    return expected, tolerance, relation


@dataclass(frozen=True)
class Start:
    """Initial values: a callable ``(n, rng) -> (n, d)`` or one point every particle starts from."""

    func: Callable | None
    point: np.ndarray | None
    d: int

    def __call__(self, n: int, rng: np.random.Generator) -> np.ndarray:
        if self.func is None:
            return np.tile(self.point, (n, 1))
        x = self.func(n, rng)
        return _check_start_output(x, n, self.d, self.func)

    def describe(self):
        """The start as a result's settings record it: the function's name, or the point."""
        return func_name(self.func) if self.func else self.point


def func_name(func) -> str:
    """A function's ``__name__``, or its repr."""
    return getattr(func, "__name__", None) or repr(func)


def _check_start_output(x, n: int, d: int | None, func) -> np.ndarray:
    try:
        x = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ParameterTypeError(
            f"x0 ({func_name(func)}) must return a real array of shape (n, d), got "
            f"{type(x).__name__}") from exc
    if x.ndim == 1 and d in (None, 1) and x.shape[0] == n:
        x = x.reshape(n, 1)
    if x.ndim != 2 or x.shape[0] != n or (d is not None and x.shape[1] != d):
        want = f"({n}, d)" if d is None else f"({n}, {d})"
        raise ValueError(f"x0 ({func_name(func)}) must return an array of shape {want} for "
                         f"n = {n}, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"x0 ({func_name(func)}) returned non-finite values for n = {n}")
    return np.ascontiguousarray(x)


def check_start(x0) -> Start:
    """``x0`` (a callable ``(n, rng) -> (n, d)`` or one point) as a :class:`Start`."""
    if callable(x0):
        probe = _check_start_output(x0(3, np.random.default_rng(0)), 3, None, x0)
        return Start(func=x0, point=None, d=probe.shape[1])
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
    return Start(func=None, point=p.copy(), d=p.size)


def check_sweep(drift, x0, alpha, sigma, ns, replicates, noise, verdict) -> tuple:
    """The inputs every sweep over n takes, validated: ``(drift, start, alpha, sigma, ns, reps,
    noise, (expected, tolerance, relation))`` (``alpha`` in (0, 2], ``sigma >= 0``)."""
    drift = check_drift(drift)
    alpha = check_real(alpha, "alpha", low=0.0, high=2.0, low_open=True)
    sigma = check_real(sigma, "sigma", low=0.0)
    ns = check_ns(ns)
    reps = check_replicates(replicates, ns)
    noise = check_choice(noise, "noise", NOISE_KINDS)
    verdict = check_verdict_args(*verdict)
    return drift, check_start(x0), alpha, sigma, ns, reps, noise, verdict


def warn_heavy(alpha: float, reps: dict[int, int], what: str) -> None:
    """A StudyWarning when alpha < 2 and some n has fewer than MIN_HEAVY_REPLICATES replicates."""
    if alpha < 2.0 and min(reps.values()) < MIN_HEAVY_REPLICATES:
        warnings.warn(
            f"only {min(reps.values())} replicates at some n with alpha = {alpha:g} < 2: if the "
            f"{what} has infinite variance (heavy tails passed on by an unbounded interaction), "
            f"a bootstrap interval over so few replicates cannot be trusted; use at least "
            f"{MIN_HEAVY_REPLICATES} per n", StudyWarning, stacklevel=3)


# ---------------------------------------------------------------------------
# work units


def blocks(ns, reps: dict[int, int]):
    """(n index, block index, n, first replicate, count): about UNIT_PARTICLES particles per unit."""
    for j, n in enumerate(ns):
        size = max(1, UNIT_PARTICLES // n)
        for b, r0 in enumerate(range(0, reps[n], size)):
            yield j, b, n, r0, min(size, reps[n] - r0)


def gather(block_list, out, name: str, n_groups: int) -> list[np.ndarray]:
    """Per n (group j of ``block_list``), the blocks' ``name`` arrays joined in unit order."""
    rows = [[] for _ in range(n_groups)]
    for (j, *_), o in zip(block_list, out, strict=True):
        rows[j].append(o[name])
    return [np.concatenate(r) for r in rows]


def rng(seed: int, sid: int, *key: int) -> np.random.Generator:
    """``default_rng(SeedSequence([seed, sid, *key]))``."""
    return np.random.default_rng(np.random.SeedSequence([seed, sid, *key]))
