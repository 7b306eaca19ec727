"""heavytail-poc: numerical checks of heavy-tailed SGD theory.

Verifies, on a laptop, the chain of results of Wan, Barsbey, Zaidi and
Simsekli, "Implicit Compressibility of Overparametrized Neural Networks
Trained with Heavy-Tailed SGD" (arXiv 2306.08125): noisy SGD is the Euler
scheme of an interacting particle SDE, the particles propagate chaos at rate
n^(-1/2), and the heavy-tailed limit makes the weights compressible.
"""

from . import drifts, euler, limits, rates, studies
from ._validation import ParameterTypeError
from .euler import strong_error
from .noise import NOISE_KINDS, sample_noise, sample_positive_stable, sample_stable
from .particles import Trajectory, simulate
from .studies import chaos_study, compress_study, euler_study
from .training import TrainResult, train
from .wasserstein import (
    require_finite_moment,
    sliced_wasserstein,
    wasserstein,
    wasserstein_to_law,
)

__version__ = "0.1.0"

__all__ = [
    "NOISE_KINDS",
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
    "strong_error",
    "studies",
    "train",
    "wasserstein",
    "wasserstein_to_law",
]
