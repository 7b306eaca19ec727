"""Work units: the independent pieces a study is made of, and where they run.

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
  once, the units are submitted longest first in batches sized to about
  :data:`TARGET_BATCH_S` seconds of work each (measured as the run goes, so
  that scheduling costs little next to the work and an interrupt loses
  little), and the results come back in unit order, whatever order the
  batches finish in;

and, given a :class:`UnitCache`, stores every finished unit under a hash of
``(function, unit key and seed, configuration, shared inputs, package
version)`` so that a rerun computes only what is missing.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import pickle
import threading
import time
import warnings
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numba.core.dispatcher import Dispatcher  # poc's kernels import Numba anyway

__all__ = ["CacheWarning", "Unit", "UnitCache", "UnitError", "map_concurrently", "master_seed",
           "run_units", "study_id"]

# seconds of work per Dask task: Dask's ~1 ms per task is then below 0.1 % of the work, and a
# lost worker or an interrupt costs at most a few seconds of finished-but-unsaved units
TARGET_BATCH_S = 2.0
# tasks queued per worker thread: the next batch is waiting when one finishes
IN_FLIGHT = 2
# retries of a batch whose worker raised; a worker that dies is rescheduled by Dask anyway
RETRIES = 2


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


class UnitError(RuntimeError):
    """A work unit crashed; the message names its function, key, seed words and configuration.

    Bad input (ValueError, TypeError) and a missing extra (ImportError) raised by a unit keep
    their type, with the same description added as a note.
    """


class CacheWarning(UserWarning):
    """A cache entry was corrupted or truncated (it is recomputed) or cannot be written."""


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


#: Set to a list to record ``(function name, unit key, config repr, seconds)`` for every unit
#: computed (not read from the cache), where it ran; used by benchmarks/bench_dask.py.
UNIT_TIMES: list | None = None
#: Set to a list to record the ``(start, end)`` perf_counter times of every run_units call.
UNIT_SPANS: list | None = None


def _record(func, unit: Unit, seconds: float) -> None:
    if UNIT_TIMES is not None:
        UNIT_TIMES.append((getattr(func, "__name__", str(func)), unit.key, repr(unit.config),
                           seconds))


# ---------------------------------------------------------------------------
# cache

_MAGIC = b"POCU1\n"
_DIGEST = 32  # sha256


def _dumps(obj) -> bytes:
    return pickle.dumps(obj, protocol=5)


class UnitCache:
    """Finished work units on disk, one file per unit, each with its own checksum.

    An entry is ``magic + sha256(payload) + payload`` with ``payload`` the
    pickled result, written atomically (a temporary file, then a rename), so
    an interrupted run leaves whole entries or none. An entry whose checksum
    does not match (truncated, a flipped byte) is never trusted: it counts in
    :attr:`corrupt`, a :class:`CacheWarning` names it, and the unit is
    recomputed and stored again.

    The key of a unit hashes the unit function's name, the unit's key and seed
    words, its configuration, the shared inputs and the versions of poc, NumPy,
    SciPy and Numba, so a different setting, seed or release never reuses an
    entry (Numba-compiled functions count by their source, not by their
    process-specific pickle). Only point a
    cache at files you trust: entries are unpickled.

    Parameters
    ----------
    directory : str or os.PathLike
        Where the entries live (created on the first write), e.g. ``OUT/.cache``.

    Attributes
    ----------
    hits, computed, corrupt : int
        Units read from the cache, units computed (and stored), and corrupted
        entries found (and recomputed), since the cache object was made.
    """

    def __init__(self, directory: str | os.PathLike):
        self.directory = Path(directory)
        self.hits = 0
        self.computed = 0
        self.corrupt = 0
        self._lock = threading.Lock()  # concurrent studies share one cache

    def _count(self, name: str) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + 1)

    def __repr__(self) -> str:
        return (f"UnitCache({str(self.directory)!r}, hits={self.hits}, computed={self.computed}, "
                f"corrupt={self.corrupt})")

    def path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.pkl"

    def load(self, key: str) -> tuple[bool, Any]:
        """``(True, result)`` for a sound entry, ``(False, None)`` when missing or corrupted."""
        p = self.path(key)
        try:
            blob = p.read_bytes()
        except FileNotFoundError:
            return False, None
        head = len(_MAGIC) + _DIGEST
        payload = blob[head:]
        if (len(blob) < head or blob[:len(_MAGIC)] != _MAGIC
                or hashlib.sha256(payload).digest() != blob[len(_MAGIC):head]):
            self._count("corrupt")
            warnings.warn(f"cache entry {p} is corrupted or truncated (checksum mismatch); "
                          f"recomputing it", CacheWarning, stacklevel=3)
            return False, None
        self._count("hits")
        return True, pickle.loads(payload)

    def store(self, key: str, result: Any) -> None:
        from .report import _atomic_write

        payload = _dumps(result)
        blob = _MAGIC + hashlib.sha256(payload).digest() + payload

        def write(tmp):
            with open(tmp, "wb") as fh:
                fh.write(blob)

        _atomic_write(self.path(key), write)


def _as_cache(cache) -> UnitCache | None:
    if cache is None or isinstance(cache, UnitCache):
        return cache
    if isinstance(cache, str | os.PathLike):
        return UnitCache(cache)
    from ._validation import ParameterTypeError

    raise ParameterTypeError(
        f"cache must be None, a directory or a poc UnitCache, got {type(cache).__name__}")


def _compiled_function(*identity):
    """Stands for a Numba-compiled function in a fingerprint (never called: hashes only)."""


class _StablePickler(pickle.Pickler):
    """A pickler for fingerprints that reduces Numba-compiled functions to their source identity.

    A Numba dispatcher pickles with an id fresh in every process and with the
    signatures compiled so far, so a user's drift kernel would hash differently
    in every run and a resumed run would recompute its units. Its module,
    qualified name, bytecode, constants, closure values and compile options
    name the same function in every process instead.
    """

    def reducer_override(self, obj):
        return _reduce_compiled(obj)


def _code_identity(code) -> tuple:
    consts = tuple(_code_identity(c) if hasattr(c, "co_code") else c for c in code.co_consts)
    return code.co_code, consts, code.co_names


def _reduce_compiled(obj):
    # called for every object a fingerprint pickles: no import here
    if isinstance(obj, Dispatcher):
        f = obj.py_func
        cells = tuple(c.cell_contents for c in f.__closure__ or ())
        return _compiled_function, (f.__module__, f.__qualname__, _code_identity(f.__code__),
                                    cells, tuple(sorted(obj.targetoptions.items())))
    return NotImplemented


def _cloud_dumps(obj) -> bytes:
    """cloudpickle (functions by value: closures, model files), Numba functions as above."""
    import cloudpickle

    class Stable(cloudpickle.Pickler):
        def reducer_override(self, obj):
            r = _reduce_compiled(obj)
            return super().reducer_override(obj) if r is NotImplemented else r

    buf = io.BytesIO()
    Stable(buf, protocol=4).dump(obj)
    return buf.getvalue()


def _fingerprint(obj) -> bytes | None:
    """sha256 of ``obj`` pickled, or None when it cannot be pickled (then nothing is cached).

    Containers (tuple, list, dict, dataclass) are hashed part by part: pickle memoizes
    shared sub-objects (e.g. one float64 dtype object), so the same values computed afresh
    or read back from the cache would otherwise pickle, and hash, differently. Protocol 4,
    because protocol 5 pickles a contiguous array and an equal strided view differently.
    """
    if isinstance(obj, tuple | list):
        parts = [type(obj).__name__.encode(), *(_fingerprint(v) for v in obj)]
    elif isinstance(obj, dict):
        parts = [b"dict"]
        for k, v in obj.items():
            parts += [_fingerprint(k), _fingerprint(v)]
    elif (dataclasses.is_dataclass(obj) and not isinstance(obj, type)
          and set(getattr(obj, "__dict__", {})) == {f.name for f in dataclasses.fields(obj)}):
        # only when the fields are the whole state, else pickled whole below
        parts = [_fingerprint(type(obj))]
        for f in dataclasses.fields(obj):
            parts += [f.name.encode(), _fingerprint(getattr(obj, f.name))]
    else:
        try:
            buf = io.BytesIO()
            _StablePickler(buf, protocol=4).dump(obj)
            data = buf.getvalue()
        except Exception:
            try:
                data = _cloud_dumps(obj)
            except Exception:
                return None
        return hashlib.sha256(data).digest()
    if any(p is None for p in parts):
        return None
    return hashlib.sha256(b"\0".join(parts)).digest()


def unit_keys(func, units: Sequence[Unit], shared) -> list[str] | None:
    """The cache key of every unit (hex sha256), or None when the inputs cannot be hashed."""
    import numba
    import scipy

    from . import __version__

    # a module-level function pickles as its name; a closure (cloudpickle) as its code. The
    # versions of the numerical stack too: a new NumPy, SciPy or Numba may change last bits
    versions = (__version__, np.__version__, scipy.__version__, numba.__version__)
    base = _fingerprint((versions, func))
    sh = _fingerprint(shared)
    if base is None or sh is None:
        return None
    keys = []
    for u in units:
        fp = _fingerprint((u.entropy, u.config))
        if fp is None:
            return None
        keys.append(hashlib.sha256(base + sh + fp).hexdigest())
    return keys


# ---------------------------------------------------------------------------
# running


def client_threads(client) -> int:
    """Worker threads of a Dask client's cluster (at least 1)."""
    workers = client.scheduler_info().get("workers", {})
    return max(1, sum(int(w.get("nthreads", 1)) for w in workers.values()))


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
    cache : None, str, os.PathLike or UnitCache, optional
        Directory (or :class:`UnitCache`) of finished units: units found there
        are not recomputed, and every unit computed here is stored as soon as
        its batch finishes. None (default): no cache.
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
    from .particles import _progress_bar

    units = list(units)
    t_start = time.perf_counter()
    cache = _as_cache(cache)
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

    def done(i, value):
        out[i] = value
        if keys is not None:
            cache.store(keys[i], value)
            cache._count("computed")

    shared_bar = hasattr(progress, "update")
    if shared_bar:
        bar = progress
        with _BAR_LOCK:
            bar.total = (bar.total or 0) + len(units)
            bar.refresh()
    else:
        bar = _progress_bar(progress, len(units), desc) or _NullBar()
    try:
        if len(todo) < len(units):
            bar.update(len(units) - len(todo))
        if client is None:
            for i in todo:
                value, seconds = _timed_call(func, units[i], shared)
                _record(func, units[i], seconds)
                done(i, value)
                bar.update(1)
        elif todo:
            _run_on_client(client, func, units, todo, shared, done, bar)
    finally:
        if not shared_bar:
            bar.close()
        if UNIT_SPANS is not None:
            UNIT_SPANS.append((t_start, time.perf_counter()))
    return out


_BAR_LOCK = threading.Lock()  # concurrent studies (map_concurrently) share one bar


def map_concurrently(fn: Callable[[Any], Any], items: Sequence, client) -> list:
    """``[fn(item) for item in items]``; with a Dask client, one thread per item.

    Each ``fn`` submits its own work units; run together, the units of every
    item are in flight at once, so the workers never wait for one item's
    serial steps (a reference cloud, a fit) before starting the next item's
    units. Without a client the items run one after the other, as written.
    The results are the same either way: every unit is a pure function of its
    configuration and seed.
    """
    items = list(items)
    if client is None or len(items) < 2:
        return [fn(x) for x in items]
    from concurrent.futures import ThreadPoolExecutor

    ex = ThreadPoolExecutor(max_workers=len(items), thread_name_prefix="poc-study")
    try:
        return list(ex.map(fn, items))
    finally:  # after an error or Ctrl-C, do not wait for the other items
        ex.shutdown(wait=False, cancel_futures=True)


class _NullBar:
    def update(self, n=1):
        pass

    def close(self):
        pass


def _next_size(queue_len: int, threads: int, unit_s: float | None) -> int:
    """Units in the next batch: about TARGET_BATCH_S of work, and a share of what is left.

    Before any batch has finished (``unit_s`` None) a batch is one unit. The cap of
    ``queue / (IN_FLIGHT * threads)`` splits the tail finely, so no worker idles at the end
    while another works through a long batch.
    """
    size = 1 if not unit_s else max(1, int(TARGET_BATCH_S / unit_s))
    return max(1, min(size, -(-queue_len // (IN_FLIGHT * threads))))


def _run_on_client(client, func, units, todo, shared, done, bar) -> None:
    import uuid
    from collections import deque

    from distributed import as_completed

    threads = client_threads(client)
    # units are listed cheapest first (n, width ascending): start from the most expensive,
    # so that the long ones do not finish last on one worker (longest-first scheduling)
    queue = deque(reversed(todo))
    # one future for the whole object (a bare tuple or dict would be scattered piecewise);
    # hash=False: a content-hashed key reused by the next call while this call's release is
    # still in flight makes the scheduler drop it ("lost dependencies")
    shared_ref = (client.scatter([shared], broadcast=True, hash=False)[0]
                  if shared is not None else None)
    tag = f"poc-{getattr(func, '__name__', 'unit')}-{uuid.uuid4().hex[:8]}"
    futures: dict = {}
    unit_s = None  # seconds per unit of the last finished batch (worker time)

    def submit():
        idx = [queue.popleft() for _ in range(_next_size(len(queue), threads, unit_s))]
        fut = client.submit(_run_batch, func, [units[i] for i in idx], shared_ref,
                            key=f"{tag}-{len(futures)}", retries=RETRIES, pure=False)
        futures[fut] = idx
        return fut

    pending = as_completed([submit() for _ in range(min(len(queue), IN_FLIGHT * threads))])
    try:
        for fut in pending:
            if fut.status == "error":
                fut.result()  # re-raises the unit's UnitError here
            idx = futures[fut]
            timed = fut.result()
            for i, (value, seconds) in zip(idx, timed, strict=True):
                _record(func, units[i], seconds)
                done(i, value)
            bar.update(len(idx))
            fut.release()
            unit_s = sum(t for _, t in timed) / len(idx)
            if queue:
                pending.add(submit())
    finally:  # after an error or an interrupt, nothing of this run keeps the workers busy
        client.cancel(list(futures))
