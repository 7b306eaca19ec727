"""The cache of finished work units: :class:`UnitCache` and the keys it files units under.

A unit's key hashes the unit function, the unit's key and seed words, its
configuration, the shared inputs and the versions of the numerical stack
(:func:`unit_keys`), so a rerun with the same settings reads what is there
and computes only what is missing (:func:`poc.units.run_units`). Only point a
cache at files you trust: entries are unpickled.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import pickle
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numba.core.dispatcher import Dispatcher  # poc's kernels import Numba anyway

from .exceptions import CacheWarning, ParameterTypeError

if TYPE_CHECKING:
    from .units import Unit

# CacheWarning is importable here too (documented in poc.exceptions)
__all__ = ["UnitCache", "fingerprint", "unit_keys"]

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
    :attr:`corrupt`, a :class:`~poc.exceptions.CacheWarning` names it, and the unit is
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
        """Where the entry of ``key`` lives."""
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
        """File ``result``, a unit just computed, under ``key`` (counted in :attr:`computed`)."""
        from .report import atomic_write_bytes

        payload = _dumps(result)
        atomic_write_bytes(self.path(key), _MAGIC + hashlib.sha256(payload).digest() + payload)
        self._count("computed")


def as_cache(cache) -> UnitCache | None:
    """``cache`` as a :class:`UnitCache` (None stays None; a directory becomes a cache)."""
    if cache is None or isinstance(cache, UnitCache):
        return cache
    if isinstance(cache, str | os.PathLike):
        return UnitCache(cache)
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


def fingerprint(obj) -> bytes | None:
    """sha256 of ``obj`` pickled, or None when it cannot be pickled (then nothing is cached).

    Parameters
    ----------
    obj : object
        A unit's function, configuration or shared inputs.

    Returns
    -------
    bytes or None
        32 bytes, the same in every process for equal values (Numba-compiled
        functions count by their source identity); None if ``obj`` cannot be
        pickled, even by cloudpickle.

    Notes
    -----
    Containers (tuple, list, dict, dataclass) are hashed part by part: pickle memoizes
    shared sub-objects (e.g. one float64 dtype object), so the same values computed afresh
    or read back from the cache would otherwise pickle, and hash, differently. Protocol 4,
    because protocol 5 pickles a contiguous array and an equal strided view differently.
    """
    if isinstance(obj, tuple | list):
        parts = [type(obj).__name__.encode(), *(fingerprint(v) for v in obj)]
    elif isinstance(obj, dict):
        parts = [b"dict"]
        for k, v in obj.items():
            parts += [fingerprint(k), fingerprint(v)]
    elif (dataclasses.is_dataclass(obj) and not isinstance(obj, type)
          and set(getattr(obj, "__dict__", {})) == {f.name for f in dataclasses.fields(obj)}):
        # only when the fields are the whole state, else pickled whole below
        parts = [fingerprint(type(obj))]
        for f in dataclasses.fields(obj):
            parts += [f.name.encode(), fingerprint(getattr(obj, f.name))]
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
    """The cache key of every unit (hex sha256), or None when the inputs cannot be hashed.

    Parameters
    ----------
    func : callable
        The unit function.
    units : sequence of poc.units.Unit
    shared : object
        The inputs shared by every unit.

    Returns
    -------
    list of str or None
        One key per unit: sha256 of the fingerprints of ``func`` with the versions of poc,
        NumPy, SciPy and Numba, of ``shared``, and of the unit's seed words and configuration.
    """
    import numba
    import scipy

    from . import __version__

    # a module-level function pickles as its name; a closure (cloudpickle) as its code. The
    # versions of the numerical stack too: a new NumPy, SciPy or Numba may change last bits
    versions = (__version__, np.__version__, scipy.__version__, numba.__version__)
    base = fingerprint((versions, func))
    sh = fingerprint(shared)
    if base is None or sh is None:
        return None
    keys = []
    for u in units:
        fp = fingerprint((u.entropy, u.config))
        if fp is None:
            return None
        keys.append(hashlib.sha256(base + sh + fp).hexdigest())
    return keys
