"""Work units: the independent pieces a study is made of, their seeds, and how they run.

A study (a chaos rate, an Euler order, a compressibility slope) is a list of
:class:`Unit` s. Each unit is a small frozen, picklable configuration plus an
integer key, and its randomness is ``SeedSequence([seed, study_id, *key])``:
a function of the master seed, of a stable integer naming the study, and of
the unit's own index only. A unit runs as ``func(config, seedseq, shared)``
where ``func`` is a pure module-level function and ``shared`` holds the large
inputs built once (data sets, reference clouds) and passed by reference.

Hence the numbers do not depend on the order, or the process, in which the
units run. :func:`run_units` runs them

* serially in this process (``client=None``; Dask is never imported), or
* on a ``dask.distributed.Client``: ``shared`` is scattered to every worker
  once and the units run in batches, longest first; the results come back in
  unit order, whatever order the batches finish in;

and, given a :class:`poc.cache.UnitCache`, stores every finished unit so that
a rerun computes only what is missing. :func:`watch_units` reports how long
each unit took, where it ran (for benchmarks and dashboards).
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
import time
import warnings
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .cache import CacheWarning, as_cache, unit_keys
from .cache import UnitCache as UnitCache
from .exceptions import ParameterTypeError, UnitError

# UnitError, UnitCache and CacheWarning are importable here too (documented in their homes)
__all__ = ["Unit", "UnitTiming", "map_concurrently", "master_seed", "run_units", "study_id",
           "watch_units"]


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
        """The unit of study ``study`` (a :func:`study_id`) at ``key``, under master seed ``seed``."""
        key = tuple(int(k) for k in key)
        return cls(key=key, config=config, entropy=(int(seed), int(study), *key))

    @property
    def seedseq(self) -> np.random.SeedSequence:
        """``SeedSequence([seed, study_id, *key])``: a fresh one at every access."""
        return np.random.SeedSequence(list(self.entropy))


def _call(func, unit: Unit, shared):
    try:
        return func(unit.config, unit.seedseq, shared)
    except Exception as exc:
        where = (f"work unit {getattr(func, '__qualname__', func)} key={unit.key} "
                 f"seed words={unit.entropy} config={unit.config!r}")
        if isinstance(exc, ValueError | TypeError | ImportError):
            # bad input or a missing extra keeps its type (usage errors, SKIPPED checks)
            exc.add_note(f"in {where}")
            raise
        msg = str(exc).strip().splitlines()
        raise UnitError(f"{where} raised {type(exc).__name__}"
                        + (f": {msg[0]}" if msg else "")) from exc


def _timed_call(func, unit: Unit, shared) -> tuple[Any, float]:
    t0 = time.perf_counter()
    value = _call(func, unit, shared)
    return value, time.perf_counter() - t0


def _run_batch(func, units: list[Unit], shared) -> list[tuple[Any, float]]:
    """What one Dask task runs: a batch of units, in order, in one worker thread; each result
    with the seconds it took (to size the next batches)."""
    return [_timed_call(func, u, shared) for u in units]


# ---------------------------------------------------------------------------
# watching


@dataclass(frozen=True)
class UnitTiming:
    """One computed work unit (not read from a cache), as :func:`watch_units` reports it.

    Attributes
    ----------
    function : str
        Name of the unit function.
    key : tuple of int
        The unit's key in its study.
    config : object
        The unit's configuration.
    seconds : float
        Time spent computing it, measured where it ran (on a Dask worker, or here).
    """

    function: str
    key: tuple[int, ...]
    config: Any
    seconds: float


_WATCHERS: contextvars.ContextVar[tuple] = contextvars.ContextVar("poc_unit_watchers",
                                                                   default=())


@contextlib.contextmanager
def watch_units(on_unit: Callable[[UnitTiming], None] | None = None,
                on_run: Callable[[str, float, float], None] | None = None) -> Iterator[None]:
    """Report every work unit computed, and every :func:`run_units` call, inside the block.

    Parameters
    ----------
    on_unit : callable, optional
        Called on this thread with a :class:`UnitTiming` for each unit computed
        (serially or on a Dask worker), as its result arrives.
    on_run : callable, optional
        Called as ``on_run(desc, start, end)`` when a :func:`run_units` call
        ends, with its ``time.perf_counter()`` start and end.

    Notes
    -----
    The callbacks hold in the block's context, including the threads
    :func:`map_concurrently` starts from it; blocks nest.

    Examples
    --------
    >>> times = []
    >>> with watch_units(on_unit=times.append):  # doctest: +SKIP
    ...     poc.chaos_study(...)
    """
    token = _WATCHERS.set((*_WATCHERS.get(), (on_unit, on_run)))
    try:
        yield
    finally:
        _WATCHERS.reset(token)


def _report_unit(func, unit: Unit, seconds: float) -> None:
    for on_unit, _ in _WATCHERS.get():
        if on_unit is not None:
            on_unit(UnitTiming(getattr(func, "__name__", str(func)), unit.key, unit.config,
                               seconds))


def _report_run(desc: str, start: float, end: float) -> None:
    for _, on_run in _WATCHERS.get():
        if on_run is not None:
            on_run(desc, start, end)


# ---------------------------------------------------------------------------
# running


class _NullBar:
    def update(self, n=1):
        pass

    def close(self):
        pass


_BAR_LOCK = threading.Lock()  # concurrent studies (map_concurrently) share one bar


def _own_bar(progress: bool | None, total: int, desc: str):
    if progress is False:
        return _NullBar()
    from ._progress import progress_bar

    # None: only on a terminal, and only once the run has lasted 5 s; True off a
    # terminal gives plain heartbeat lines instead of a bar's escape codes
    return progress_bar(total=total, desc=desc, enabled=progress,
                        delay=5.0 if progress is None else 0.0, leave=progress is not None)


def run_units(func: Callable[[Any, np.random.SeedSequence, Any], Any], units: Iterable[Unit], *,
              shared: Any = None, client=None, cache=None, progress: bool | None = None,
              desc: str = "units") -> list:
    """Run ``func(unit.config, unit.seedseq, shared)`` for every unit; results in unit order.

    Parameters
    ----------
    func : callable
        A pure module-level function (picklable, so that Dask workers can
        run it). It must not mutate ``shared``.
    units : iterable of Unit
    shared : object, optional
        Large inputs built once and passed by reference to every unit; with
        a client, scattered once to every worker.
    client : dask.distributed.Client, optional
        Run the units on this client's workers (use one thread per worker
        process: Numba's workqueue threading layer is not thread-safe). None
        (default): serially in this process, without importing Dask.
    cache : None, str, os.PathLike or poc.cache.UnitCache, optional
        Directory (or :class:`~poc.cache.UnitCache`) of finished units: units
        found there are not recomputed, and every unit computed here is stored
        as soon as its batch finishes. None (default): no cache.
    progress : bool, None or a progress bar, optional
        Progress bar over units (None: only on a terminal, after 5 s). A bar
        object (tqdm, or the one a check gets from ``Context.units_bar``) is
        shared: its total grows by the number of units and it is left open,
        so several calls show one bar.
    desc : str, optional
        Label of the progress bar.

    Returns
    -------
    list
        ``func``'s results, in the order of ``units``: the same numbers
        serially, on any cluster and from the cache.

    Raises
    ------
    UnitError
        A unit raised; the message gives its key, seed words and configuration
        (the original exception is its ``__cause__`` when run serially).
    """
    units = list(units)
    t_start = time.perf_counter()
    cache = as_cache(cache)
    keys = unit_keys(func, units, shared) if cache is not None else None
    if cache is not None and keys is None:
        warnings.warn(f"{desc}: the unit function or its shared inputs cannot be pickled, so "
                      f"its units are not cached", CacheWarning, stacklevel=2)
    out: list = [None] * len(units)
    todo = []
    for i in range(len(units)):
        if keys is not None:
            hit, value = cache.load(keys[i])
            if hit:
                out[i] = value
                continue
        todo.append(i)

    def done(i, value, seconds):
        _report_unit(func, units[i], seconds)
        out[i] = value
        if keys is not None:
            cache.store(keys[i], value)

    shared_bar = hasattr(progress, "update")
    if shared_bar:
        bar = progress
        with _BAR_LOCK:
            bar.total = (bar.total or 0) + len(units)
            bar.refresh()
    else:
        bar = _own_bar(progress, len(units), desc)
    try:
        if len(todo) < len(units):
            bar.update(len(units) - len(todo))
        if client is None:
            for i in todo:
                done(i, *_timed_call(func, units[i], shared))
                bar.update(1)
        elif todo:
            from ._dask import run_on_client

            run_on_client(client, _run_batch, func, units, todo, shared, done, bar)
    finally:
        if not shared_bar:
            bar.close()
        _report_run(desc, t_start, time.perf_counter())
    return out


def map_concurrently(fn: Callable[[Any], Any], items: Sequence, client) -> list:
    """``[fn(item) for item in items]``; with a Dask client, one thread per item.

    Each ``fn`` submits its own work units; run together, the units of every
    item are in flight at once, so the workers never wait for one item's
    serial steps (a reference cloud, a fit) before starting the next item's
    units. Without a client the items run one after the other, as written.
    The results are the same either way: every unit is a pure function of its
    configuration and seed. Each thread runs in a copy of the caller's context
    (so :func:`watch_units` sees its units).
    """
    items = list(items)
    if client is None or len(items) < 2:
        return [fn(x) for x in items]
    from concurrent.futures import ThreadPoolExecutor

    contexts = [contextvars.copy_context() for _ in items]
    ex = ThreadPoolExecutor(max_workers=len(items), thread_name_prefix="poc-study")
    try:
        return list(ex.map(lambda c, x: c.run(fn, x), contexts, items))
    finally:  # after an error or Ctrl-C, do not wait for the other items
        ex.shutdown(wait=False, cancel_futures=True)
