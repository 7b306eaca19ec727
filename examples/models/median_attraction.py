"""A drift family of your own, subclassing ``poc.drifts.Drift``, as a MODEL.py for ``poc study``.

    b(x_i, mu) = -a x_i + kappa (median(mu) - x_i),   coordinate-wise,

a spring towards 0 plus an attraction towards the median of the cloud. The
median is neither a mean of features (FeatureDrift) nor a sum over pairs
(PairwiseDrift), so this is a family of its own: ``O(n d)`` per step with
NumPy's median instead of the ``O(n^2 d)`` of a pairwise rewrite. The
documentation page "Write your own drift family" walks through it. Run (from
the repository root):

    poc study chaos examples/models/median_attraction.py --alpha 1.5 --out figures
"""

import numpy as np

from poc.drifts import Drift


class MedianAttraction(Drift):
    """``b(x_i, mu) = -a x_i + kappa (median(mu) - x_i)``, coordinate-wise.

    Parameters
    ----------
    a : float
        Strength of the spring towards 0.
    kappa : float
        Strength of the attraction towards the median of the cloud.
    """

    def __init__(self, a: float = 1.0, kappa: float = 1.0):
        self.a = float(a)
        self.kappa = float(kappa)

    def __repr__(self) -> str:
        return f"MedianAttraction(a={self.a!r}, kappa={self.kappa!r})"

    # -- the drift protocol: what the Euler engine calls --------------------------

    def workspace(self, n, d, batch_size=None):
        # buffers reused at every step of a run
        return {"median": np.empty(d)}

    def cost(self, n, d):
        # no Numba kernel of its own: the engine's update is the only parallel work
        return 10.0 * n * d

    def drift_into(self, ws, x, out):
        median = np.median(x, axis=0, out=ws["median"])
        np.multiply(x, -(self.a + self.kappa), out=out)
        out += self.kappa * median

    def against_into(self, ws, x, cloud, out):
        # the nonlinear copies: the median of a reference cloud instead of their own
        median = np.median(cloud, axis=0)
        np.multiply(x, -(self.a + self.kappa), out=out)
        out += self.kappa * median


drift = MedianAttraction(a=1.0, kappa=1.0)


def x0(n, rng):
    """n i.i.d. starts, N(0, 1)."""
    return rng.standard_normal((n, 1))


defaults = {"alpha": [1.5], "sigma": 0.5, "T": 1.0, "step": 0.02, "ns": [32, 64, 128, 256],
            "replicates": 16, "steps": [0.125, 0.0625, 0.03125, 0.015625]}
