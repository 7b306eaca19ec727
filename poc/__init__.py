"""heavytail-poc: numerical checks of heavy-tailed SGD theory.

Verifies, on a laptop, the chain of results of Wan, Barsbey, Zaidi and
Simsekli, "Implicit Compressibility of Overparametrized Neural Networks
Trained with Heavy-Tailed SGD" (arXiv 2306.08125): noisy SGD is the Euler
scheme of an interacting particle SDE, the particles propagate chaos at rate
n^(-1/2), and the heavy-tailed limit makes the weights compressible.
"""

import sys as _sys

from . import drifts, euler, limits, rates, stable, studies, transport
from ._threads import prefer_quiet_layer
from ._validation import ParameterTypeError
from .euler import strong_error
from .experiments import FCNResult, train_fcn
from .noise import NOISE_KINDS, sample_noise, sample_positive_stable, sample_stable
from .particles import Trajectory, simulate
from .stable import require_finite_moment
from .studies import chaos_study, compress_study, euler_study
from .training import TrainResult, train
from .transport import sliced_wasserstein, wasserstein, wasserstein_to_law

# The estimators' module was poc/wasserstein.py, whose name the function ``poc.wasserstein``
# hid; it is poc.transport now, and the old import path ``from poc.wasserstein import ...``
# stays an alias of it (no file, so importing it never rebinds ``poc.wasserstein``).
_sys.modules[f"{__name__}.wasserstein"] = transport

__version__ = "0.1.0"

# Numba's threads start at the first parallel kernel, never at import: choosing
# their layer here is in time (see poc._threads for why and when it is skipped).
prefer_quiet_layer()

# Public submodules not needed by the names above, imported on first attribute
# access (PEP 562) so that `poc.compress` works after `import poc` without
# making `import poc` slower. A new public submodule is one more entry here.
_LAZY_SUBMODULES = frozenset({
    "baseline",
    "cache",
    "checks",
    "cli",
    "compress",
    "data",
    "exceptions",
    "plotting",
    "probability",
    "report",
    "units",
})


def __getattr__(name: str):
    if name in _LAZY_SUBMODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _LAZY_SUBMODULES)

__all__ = [
    "NOISE_KINDS",
    "FCNResult",
    "ParameterTypeError",
    "TrainResult",
    "Trajectory",
    "__version__",
    "chaos_study",
    "compress_study",
    "drifts",
    "euler",
    "euler_study",
    "limits",
    "rates",
    "require_finite_moment",
    "sample_noise",
    "sample_positive_stable",
    "sample_stable",
    "simulate",
    "sliced_wasserstein",
    "stable",
    "strong_error",
    "studies",
    "train",
    "train_fcn",
    "transport",
    "wasserstein",
    "wasserstein_to_law",
]
