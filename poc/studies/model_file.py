"""Model files for ``poc study``: a Python file that defines ``drift`` and ``x0``.

A MODEL.py defines

* ``drift`` -- a :mod:`poc.drifts` drift (feature, pairwise, NumPy or built-in);
* ``x0`` -- a callable ``(n, rng) -> (n, d)`` array, or one point of shape (d,);
* optionally ``defaults`` -- a dict of option values (``alpha``, ``sigma``,
  ``T``, ``step``, ``steps``, ``ns``, ``replicates``, ``noise``, ``expected``)
  used when the command line does not give them.

Every problem is a :class:`ModelFileError` (a ValueError) whose one-line
message names the file and what is wrong.
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .inputs import check_start

OPTIONS = ("alpha", "sigma", "T", "step", "steps", "ns", "replicates", "noise", "expected")


class ModelFileError(ValueError):
    """A model file that cannot be used, with the reason in one line."""


@dataclass(frozen=True)
class Model:
    name: str
    path: Path
    drift: Any
    x0: Any
    defaults: dict


def load_model(path) -> Model:
    """Import ``path`` and check its ``drift``, ``x0`` and ``defaults``."""
    from ..drifts import Drift

    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"model file {path}: no such file")
    name = path.stem
    spec = importlib.util.spec_from_file_location(f"_poc_model_{name}", path)
    if spec is None or spec.loader is None:
        raise ModelFileError(f"model file {path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # so numba and pickle can find its functions
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # any error in the user's file is reported, not raised
        sys.modules.pop(spec.name, None)
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise ModelFileError(
            f"model file {path} cannot be imported: {type(exc).__name__}: {msg}") from exc
    if not hasattr(module, "drift"):
        raise ModelFileError(f"model file {path} does not define `drift` (a poc.drifts drift)")
    if not isinstance(module.drift, Drift):
        raise ModelFileError(f"model file {path}: `drift` must be a poc.drifts drift, got "
                             f"{type(module.drift).__name__}")
    if not hasattr(module, "x0"):
        raise ModelFileError(f"model file {path} does not define `x0` (a callable (n, rng) -> "
                             "(n, d) array, or one point of shape (d,))")
    try:
        start = check_start(module.x0)
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"model file {path}: wrong `x0`: {exc}") from exc
    try:  # x0's dimension must suit the drift (e.g. a network's input dimension)
        module.drift.check_state(8, start.d)
    except ValueError as exc:
        raise ModelFileError(f"model file {path}: `x0` gives points in R^{start.d}, which "
                             f"`drift` does not accept: {exc}") from exc
    defaults = getattr(module, "defaults", {}) or {}
    if not isinstance(defaults, dict):
        raise ModelFileError(f"model file {path}: `defaults` must be a dict, got "
                             f"{type(defaults).__name__}")
    unknown = sorted(set(defaults) - set(OPTIONS))
    if unknown:
        raise ModelFileError(f"model file {path}: unknown key(s) in `defaults`: "
                             f"{', '.join(unknown)} (allowed: {', '.join(OPTIONS)})")
    return Model(name=name, path=path, drift=module.drift, x0=module.x0, defaults=dict(defaults))
