"""Input checks shared by every public function.

Each check raises an error that names the parameter, the allowed range and
the value received, e.g. ``alpha must be in (0, 2], got 2.3``.  Type problems
raise :class:`ParameterTypeError`, which is both a ``TypeError`` and a
``ValueError`` so callers may catch either.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence

import numpy as np

from .exceptions import ParameterTypeError

__all__ = [
    "MissingExtraError",
    "ParameterTypeError",
    "as_generator",
    "check_array",
    "check_choice",
    "check_int",
    "check_labels",
    "check_real",
    "check_size",
]


class MissingExtraError(ImportError):
    """An optional dependency is missing; the message names the extra that installs it.

    Attributes
    ----------
    extra : str
        Name of the optional extra of ``heavytail-poc`` (e.g. ``"digits"``).
    install : str
        The command that installs it.
    """

    def __init__(self, what: str, package: str, extra: str):
        self.extra = extra
        self.install = f'pip install "heavytail-poc[{extra}]"'
        super().__init__(
            f"{what} needs {package}, from the optional extra '{extra}': {self.install} "
            f'(or pip install ".[{extra}]" in a checkout)'
        )


def _interval(low, high, low_open, high_open) -> str:
    lo = "-inf" if low is None else f"{low:g}"
    hi = "inf" if high is None else f"{high:g}"
    left = "(" if (low_open or low is None) else "["
    right = ")" if (high_open or high is None) else "]"
    return f"{left}{lo}, {hi}{right}"


def check_real(
    value,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as a finite float inside the given interval, or raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ParameterTypeError(
            f"{name} must be a real number in {_interval(low, high, low_open, high_open)}, "
            f"got {value!r} of type {type(value).__name__}"
        )
    v = float(value)
    ok = math.isfinite(v)
    if ok and low is not None:
        ok = v > low if low_open else v >= low
    if ok and high is not None:
        ok = v < high if high_open else v <= high
    if not ok:
        raise ValueError(
            f"{name} must be {'finite and ' if not math.isfinite(v) else ''}in "
            f"{_interval(low, high, low_open, high_open)}, got {value!r}"
        )
    return v


def check_int(value, name: str, *, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` as a Python int inside ``[low, high]``, or raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise ParameterTypeError(
                f"{name} must be an integer in {_interval(low, high, False, False)}, "
                f"got {value!r} of type {type(value).__name__}"
            )
    v = int(value)
    if (low is not None and v < low) or (high is not None and v > high):
        raise ValueError(f"{name} must be an integer in {_interval(low, high, False, False)}, got {v}")
    return v


def check_size(size, name: str = "size") -> tuple[int, ...]:
    """Normalise an int or a sequence of non-negative ints to a shape tuple."""
    if isinstance(size, Iterable) and not isinstance(size, str | bytes):
        shape = tuple(check_int(s, f"{name}[{i}]", low=0) for i, s in enumerate(size))
    else:
        shape = (check_int(size, name, low=0),)
    return shape


def check_choice(value, name: str, choices: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``choices``, or raise listing them."""
    if not isinstance(value, str) or value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
    return value


def as_generator(seed) -> np.random.Generator:
    """Turn ``seed`` (None, a non-negative int, or a Generator) into a Generator.

    A Generator is used as is (and advanced), so a caller can thread one
    generator through several calls.
    """
    if seed is None or isinstance(seed, np.random.Generator):
        return np.random.default_rng(seed)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise ParameterTypeError(
            "seed must be None, a non-negative integer or a numpy.random.Generator, "
            f"got {seed!r} of type {type(seed).__name__}"
        )
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    return np.random.default_rng(int(seed))


def check_array(
    x,
    name: str,
    *,
    ndim: int | tuple[int, ...] | None = None,
    min_size: int = 1,
    finite: bool = True,
) -> np.ndarray:
    """Return ``x`` as a C-contiguous float64 array after shape and value checks."""
    try:
        arr = np.ascontiguousarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ParameterTypeError(f"{name} must be an array of real numbers, got {type(x).__name__}") from exc
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else ndim
        if arr.ndim not in allowed:
            want = " or ".join(f"{k}-D" for k in allowed)
            raise ValueError(f"{name} must be {want}, got an array of shape {arr.shape}")
    if arr.size < min_size:
        raise ValueError(f"{name} must have at least {min_size} element(s), got shape {arr.shape}")
    if finite and not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name} must be finite, got {bad} non-finite value(s)")
    return arr


def check_labels(y, name: str, m: int, *, n_classes: int | None = None,
                 integer_dtype: bool = True) -> np.ndarray:
    """Return ``y`` as int64 class labels, one per row of a data matrix with ``m`` rows, or raise.

    Labels are ``>= 0`` and, when ``n_classes`` is given, ``< n_classes``. With
    ``integer_dtype`` (where the dtype tells class labels from regression targets)
    ``y`` must have an integer dtype; otherwise floats holding whole numbers pass too.
    """
    arr = np.asarray(y)
    if arr.ndim != 1 or (integer_dtype and not np.issubdtype(arr.dtype, np.integer)):
        kind = "integer labels" if integer_dtype else "class labels"
        raise ValueError(f"{name} must be a 1-D array of {kind}, got dtype {arr.dtype} "
                         f"and shape {arr.shape}")
    if arr.shape[0] != m:
        raise ValueError(f"{name} must have one label per row of X: X has {m} rows, "
                         f"got {name} of shape {arr.shape}")
    if not integer_dtype and arr.size and (not np.all(np.isfinite(arr))
                                           or np.any(arr != np.round(arr))):
        raise ValueError(f"{name} must hold whole numbers (class labels)")
    if arr.size and arr.min() < 0:
        raise ValueError(f"{name} must hold labels >= 0, got {arr.min():g}")
    if n_classes is not None and arr.size and arr.max() >= n_classes:
        raise ValueError(f"{name} must hold labels in [0, {n_classes - 1}], got {arr.max():g}")
    return arr.astype(np.int64)
