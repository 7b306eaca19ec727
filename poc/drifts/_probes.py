"""Checks of the user's functions, made once when a drift is built or first used.

Private to :mod:`poc.drifts`: a user ``njit`` function must compile for the
argument types the kernels pass, and write every entry of ``out`` (a function
that returns its value instead leaves uninitialised memory behind).
"""

from __future__ import annotations

import re

import numpy as np
from numba import njit, typeof
from numba.core.dispatcher import Dispatcher

from .._validation import ParameterTypeError


# probes used to check, once, that a user function compiles for the argument
# types the kernels pass (1-D C-contiguous float64 arrays)
@njit
def _probe_unary(f, x, out):
    f(x, out)


@njit
def _probe_binary(f, x, y, out):
    f(x, y, out)


_ROW = typeof(np.empty(1))


def _root_cause(exc: Exception) -> str:
    """The line of a Numba compile error that says what is wrong.

    Numba wraps the cause in layers of "Failed in nopython mode pipeline",
    "During: ..." and source excerpts; the cause is a "due to" clause of an
    argument-binding failure, a "No implementation ... >>> signature" pair, or
    the first line that is none of the wrappers.
    """
    text = str(exc)
    m = re.search(r'due to "(?:\w+Error: )?([^"]+)"', text)
    if m:
        return m.group(1)
    lines = [ln.strip() for ln in text.splitlines()]
    keep = [ln for ln in lines
            if ln and not ln.startswith(("Failed in ", "During:", "File ", "^"))]
    if not keep:
        return type(exc).__name__
    first = keep[0]
    if first.startswith("No implementation of function"):
        sig = next((ln for ln in keep if ln.startswith(">>>")), None)
        if sig is not None:
            return f"no implementation of {sig[3:].strip()}"
    return first


def check_user_function(func, name: str, n_arrays: int, form: str):
    """Raise ParameterTypeError unless ``func`` is a numba.njit function
    that compiles when called with ``n_arrays`` float64 1-D arrays."""
    if not isinstance(func, Dispatcher):
        raise ParameterTypeError(
            f"{name} must be a numba.njit function of the form {form}, got "
            f"{func!r} of type {type(func).__name__} (decorate it with @numba.njit)"
        )
    probe = _probe_unary if n_arrays == 2 else _probe_binary
    try:
        probe.compile((typeof(func),) + (_ROW,) * n_arrays)
    except Exception as exc:  # numba raises TypingError, LoweringError, ...
        raise ParameterTypeError(
            f"{name} ({getattr(func, '__name__', func)!s}) does not compile as {form} with "
            f"float64 1-D arrays: {_root_cause(exc)}"
        ) from exc
    return func


# Second fill value of the write probe (see check_writes): an entry that is
# NaN after a NaN fill *and* this value after this fill was never written.
_UNSET = -7.7700013e307
# Spare entries after every probe array: a function written for a larger d
# than the probe's writes there instead of past the end of the allocation.
_PROBE_PAD = 64


def _probe_array(values) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    buf = np.zeros(values.size + _PROBE_PAD)
    buf[: values.size] = values
    return buf[: values.size]


def check_writes(func, name: str, form: str, inputs, out_len: int) -> None:
    """Call ``func(*inputs, out)`` on probes; ValueError if it returns a value
    or leaves an entry of ``out`` unwritten.

    A kernel that returns its result instead of writing it leaves ``out`` as it
    was, which in the simulation kernels is uninitialised memory: silent
    garbage. ``out`` is filled with NaN and, in a second call, with another
    value, so that an entry is reported only if it kept the fill both times
    (a function may legitimately write NaN).
    """
    fname = getattr(func, "__name__", repr(func))
    got = []
    for fill in (np.nan, _UNSET):
        out = _probe_array(np.full(out_len, fill))
        args = [_probe_array(a) for a in inputs]
        try:
            ret = func(*args, out)
        except Exception as exc:
            raise ValueError(
                f"{name} ({fname}) raised {type(exc).__name__} when called as {form} on a probe "
                f"(x of length {len(inputs[0])}): {exc}"
            ) from exc
        if ret is not None:
            raise ValueError(
                f"{name} ({fname}) returned a value ({type(ret).__name__}) when called as {form}; "
                "the return value is ignored: write into out rather than return"
            )
        got.append(out.copy())
    unwritten = np.flatnonzero(np.isnan(got[0]) & (got[1] == _UNSET))
    if unwritten.size:
        raise ValueError(
            f"{name} ({fname}) left out[{', '.join(map(str, unwritten[:5].tolist()))}] unwritten "
            f"({unwritten.size} of {out_len} entries) when called as {form} with x of length "
            f"{len(inputs[0])}: every entry of out must be set; write into out rather than return"
        )


def probe_point(d: int, shift: float = 0.0) -> np.ndarray:
    """A fixed, generic probe point in R^d (no zeros, no repeated values)."""
    return 0.3 + shift + 0.137 * np.arange(1, d + 1) * np.where(np.arange(d) % 2, -1.0, 1.0)


class ProbeCallError(ValueError):
    """func of a NumpyDrift raised (a ValueError naming the function)."""
