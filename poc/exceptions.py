"""The exceptions and warnings of ``poc``, in one place.

Each is also importable from the module that raises it
(``poc.particles.NonFiniteStateError``, ``poc.ParameterTypeError``,
``poc.units.UnitError``, ``poc.cache.CacheWarning``,
``poc.studies.StudyWarning``).

* :class:`ParameterTypeError` -- a parameter of the wrong type; bad *values*
  are plain ``ValueError`` s naming the parameter, the allowed range and the
  value received.
* :class:`NonFiniteStateError` -- a simulated state blew up.
* :class:`UnitError` -- a work unit of a study or check crashed.
* :class:`CacheWarning` -- a cache entry was unusable and is recomputed.
* :class:`StudyWarning` -- a study ran, but a setting weakens its interval.
"""

from __future__ import annotations

__all__ = ["CacheWarning", "NonFiniteStateError", "ParameterTypeError", "StudyWarning",
           "UnitError"]


class ParameterTypeError(TypeError, ValueError):
    """A parameter of the wrong type (subclass of both TypeError and ValueError)."""


class NonFiniteStateError(FloatingPointError, ValueError):
    """A simulated state became non-finite (also a FloatingPointError and a ValueError).

    Attributes
    ----------
    step_index : int
        Index k of the first non-finite state x_k (k >= 1).
    time : float
        Its time ``k * step``.
    """

    def __init__(self, message: str, step_index: int, time: float):
        super().__init__(message)
        self.step_index = step_index
        self.time = time


class UnitError(RuntimeError):
    """A work unit crashed; the message names its function, key, seed words and configuration.

    Bad input (ValueError, TypeError) and a missing extra (ImportError) raised by a unit keep
    their type, with the same description added as a note.
    """


class CacheWarning(UserWarning):
    """A cache entry was corrupted or truncated (it is recomputed) or cannot be written."""


class StudyWarning(UserWarning):
    """A study ran, but a setting makes its interval or its reference less trustworthy."""
