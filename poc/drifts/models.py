"""Built-in models: :class:`LinearMeanField` (exact marginal) and :class:`DoubleWell`."""

from __future__ import annotations

import functools
import math

from numba import njit

from .._validation import check_real
from ._kernels import column_block_sums, finish_mean, linear_into
from .families import FeatureDrift, PairwiseDrift

__all__ = ["DoubleWell", "LinearMeanField"]


class LinearMeanField(FeatureDrift):
    r"""Linear mean-field model ``b(x, mu) = -a x + c * mean(mu)``.

    A feature drift with ``g(x) = x`` (so ``n_features = d``) and
    ``F(x, u) = -a x + c u``, applied coordinate-wise. Its McKean-Vlasov
    marginal is known in closed form (:meth:`marginal`), which makes it the
    reference model for checking the simulator.

    Parameters
    ----------
    a : float
        Restoring rate (any real; ``a > 0`` is mean-reverting).
    c : float
        Strength of the attraction to the mean (any real).
    """

    def __init__(self, a: float, c: float):
        self.a = check_real(a, "a")
        self.c = check_real(c, "c")

    def __repr__(self) -> str:
        return f"LinearMeanField(a={self.a!r}, c={self.c!r})"

    def feature_count(self, d):
        return d

    def cost(self, n, d):
        return 4.0 * n * d

    def mean_features_into(self, ws, x, u):
        column_block_sums(x, ws["partial"])
        finish_mean(ws["partial"], x.shape[0], u)

    def response_into(self, x, u, out):
        linear_into(x, u, self.a, self.c, out)

    def marginal(self, t: float, x0: float, alpha: float, sigma: float):
        r"""Exact McKean-Vlasov marginal at time t from a deterministic start.

        With ``x(0) = x0`` the solution of
        ``dx = (-a x + c E x) dt + sigma dL`` (L a standard symmetric
        alpha-stable Levy process, ``E exp(iu L_1) = exp(-|u|^alpha)``) is

        ``x(t) ~ m_t + S_alpha(sigma * ((1 - exp(-a alpha t)) / (a alpha))^(1/alpha))``,
        ``m_t = x0 exp((c - a) t)``,

        (the bracket is ``t`` when ``a = 0``). For d > 1 it is the law of each
        coordinate started at x0, for every noise kind (each coordinate of the
        noise is a standard scalar alpha-stable Levy process).

        Parameters
        ----------
        t : float
            Time, ``> 0``.
        x0 : float
            Deterministic initial value (scalar).
        alpha : float
            Stability index, in (1, 2] (the mean must exist); (0, 2] if c = 0.
        sigma : float
            Noise scale, ``> 0``.

        Returns
        -------
        scipy.stats.rv_continuous_frozen
            ``scipy.stats.levy_stable(alpha, 0, loc=m_t, scale=...)``.

        Raises
        ------
        ValueError
            If a parameter is out of range.

        References
        ----------
        Docs: docs/user_guide/drifts.rst, #drift-families; Samorodnitsky and Taqqu (1994), Prop. 3.4.1
        (stochastic integrals of deterministic functions against stable motion).
        """
        from scipy import stats

        t = check_real(t, "t", low=0.0, low_open=True)
        x0 = check_real(x0, "x0")
        low = 0.0 if self.c == 0.0 else 1.0
        alpha = check_real(alpha, "alpha", low=low, high=2.0, low_open=True)
        sigma = check_real(sigma, "sigma", low=0.0, low_open=True)
        k = self.a * alpha
        # integral_0^t exp(-k (t - s)) ds, stable also for k -> 0 and k < 0
        integral = t if k == 0.0 else -math.expm1(-k * t) / k
        loc = x0 * math.exp((self.c - self.a) * t)
        scale = sigma * integral ** (1.0 / alpha)
        if not (math.isfinite(loc) and math.isfinite(scale) and scale > 0.0):
            raise ValueError(
                f"the marginal at t = {t} is not representable in float64 "
                f"(loc = {loc}, scale = {scale}); use a smaller t"
            )
        return stats.levy_stable(alpha, 0.0, loc=loc, scale=scale)


@njit(cache=True)
def _double_well_confinement(x, out):
    # -grad of W(x) = |x|^4 / 4 - |x|^2 / 2: wells on the unit sphere
    r2 = 0.0
    for k in range(x.size):
        r2 += x[k] * x[k]
    for k in range(x.size):
        out[k] = x[k] * (1.0 - r2)


@functools.lru_cache(maxsize=64)
def _make_attraction(kappa: float):
    """K(x, y) = kappa (y - x) as an njit function (kappa frozen at compile time)."""

    @njit
    def attraction(x, y, out):
        for k in range(x.size):
            out[k] = kappa * (y[k] - x[k])

    return attraction


class DoubleWell(PairwiseDrift):
    r"""Pairwise example: double-well confinement with linear attraction.

    ``b(x_i, mu^n) = x_i (1 - |x_i|^2) + kappa (1/n) sum_j (x_j - x_i)``:
    the gradient flow of ``|x|^4/4 - |x|^2/2`` plus attraction of strength
    ``kappa`` to the other particles (the Desai-Zwanzig model when d = 1). It
    runs through the generic O(n^2) pairwise kernel. The interaction is
    unbounded, so the model lies outside the chaos theorem's hypotheses.

    Parameters
    ----------
    kappa : float, optional
        Attraction strength, ``>= 0``.

    References
    ----------
    Dawson (1983), "Critical dynamics and fluctuations for a mean-field model
    of cooperative behavior", J. Stat. Phys. 31.
    """

    def __init__(self, kappa: float = 1.0):
        self.kappa = check_real(kappa, "kappa", low=0.0)
        super().__init__(_double_well_confinement, _make_attraction(self.kappa))

    def __repr__(self) -> str:
        return f"DoubleWell(kappa={self.kappa!r})"


