"""Work units: the independent pieces a study is made of.

A study (a chaos rate, an Euler order, a compressibility slope) is a list of
:class:`Unit` s. Each unit is a small frozen, picklable configuration plus an
integer key, and its randomness is ``SeedSequence([seed, study_id, *key])``:
a function of the master seed, of a stable integer naming the study, and of
the unit's own index only. A unit runs as ``func(config, seedseq, shared)``
where ``func`` is a pure module-level function and ``shared`` holds the large
inputs built once (data sets, reference clouds) and passed by reference.

Hence the numbers do not depend on the order, or the process, in which the
units run: :func:`run_units` runs them serially in order today, and a later
version can hand the same units to Dask or cache them under a hash of
``(config, key, seed, version)`` without changing a result.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Unit", "master_seed", "run_units", "study_id"]


def study_id(name: str) -> int:
    """A stable 32-bit integer naming a study or check (CRC-32 of its name).

    Stable across Python processes and versions, unlike ``hash(name)``.
    """
    return zlib.crc32(name.encode("utf-8"))


def master_seed(seed) -> int:
    """The integer entropy behind ``seed`` (None: fresh entropy; int; Generator: one draw)."""
    if seed is None:
        return int(np.random.SeedSequence().entropy % (1 << 63))
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(1 << 63))
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        from ._validation import ParameterTypeError

        raise ParameterTypeError(
            f"seed must be None, a non-negative int or a numpy Generator, got {seed!r}")
    return int(seed)


@dataclass(frozen=True)
class Unit:
    """One independent piece of work.

    Attributes
    ----------
    key : tuple of int
        The unit's index inside its study (e.g. ``(n index, replicate block)``).
    config : object
        Small, frozen, picklable settings of the unit.
    entropy : tuple of int
        ``(seed, study_id, *key)``, the words of the unit's SeedSequence.
    """

    key: tuple[int, ...]
    config: Any
    entropy: tuple[int, ...]

    @classmethod
    def make(cls, seed: int, study: int, key: Sequence[int], config: Any) -> Unit:
        key = tuple(int(k) for k in key)
        return cls(key=key, config=config, entropy=(int(seed), int(study), *key))

    @property
    def seedseq(self) -> np.random.SeedSequence:
        """``SeedSequence([seed, study_id, *key])``: a fresh one at every access."""
        return np.random.SeedSequence(list(self.entropy))


def run_units(func: Callable[[Any, np.random.SeedSequence, Any], Any], units: Iterable[Unit], *,
              shared: Any = None, progress: bool | None = None, desc: str = "units") -> list:
    """Run ``func(unit.config, unit.seedseq, shared)`` for every unit; results in unit order.

    Parameters
    ----------
    func : callable
        A pure module-level function (picklable, so a distributed runner can
        ship it). It must not mutate ``shared``.
    units : iterable of Unit
    shared : object, optional
        Large inputs built once and passed by reference to every unit.
    progress : bool or None, optional
        Progress bar over units (None: only on a terminal, after 5 s).
    desc : str, optional
        Label of the progress bar.

    Returns
    -------
    list
        ``func``'s results, in the order of ``units``.
    """
    from .particles import _progress_bar

    units = list(units)
    bar = _progress_bar(progress, len(units), desc)
    out = []
    try:
        for u in units:
            out.append(func(u.config, u.seedseq, shared))
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return out
