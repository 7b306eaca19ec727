"""The quantile integral behind :func:`poc.transport.wasserstein_to_law`.

``W_p^p`` between a sorted 1-D sample and a continuous law, integrated piece
by piece over the plateaus of the empirical quantile function; the method and
its accuracy are described in the notes of :mod:`poc.transport`.
:func:`law_from` turns a frozen scipy law or a quantile function into the
halves the integral reads, :func:`w_to_law_pp` integrates.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import numpy as np

from . import stable
from ._validation import ParameterTypeError
from .stable import require_finite_moment


class _Law:
    """Quantile/cdf access split into halves: u = t on the lower half, u = 1 - t on the upper.

    lower(u) = F^{-1}(u), upper(u) = F^{-1}(1 - u) for u in (0, 1/2];
    cdf/sf may be None (crossings are then found by bisection on the quantiles);
    upper_min is the smallest u at which upper() is accurate.
    """

    def __init__(self, lower, upper, cdf=None, sf=None, upper_min=0.0, name="law"):
        self.lower = lower
        self.upper = upper
        self.cdf = cdf
        self.sf = sf
        self.upper_min = upper_min
        self.name = name


# Tail index of heavy-tailed scipy families (finite p-th moment iff index > p).
_TAIL_INDEX: dict[str, Callable[..., float]] = {
    "cauchy": lambda: 1.0,
    "halfcauchy": lambda: 1.0,
    "levy": lambda: 0.5,
    "levy_l": lambda: 0.5,
    "t": lambda df: df,
    "pareto": lambda b: b,
    "lomax": lambda c: c,
    "invgamma": lambda a: a,
    "fisk": lambda c: c,
}


def law_from(law, p: float) -> tuple[_Law, float, float]:
    """Return (_Law, loc, scale): W_p(x, law) = scale * W_p((x - loc) / scale, _Law)."""
    from scipy.stats._distn_infrastructure import rv_continuous_frozen, rv_discrete_frozen

    if isinstance(law, rv_discrete_frozen):
        raise ParameterTypeError(
            f"law must be a continuous distribution or a quantile function, got the discrete "
            f"{law.dist.name}"
        )
    if isinstance(law, rv_continuous_frozen):
        dist = law.dist
        shapes, loc, scale = dist._parse_args(*law.args, **law.kwds)
        shapes = tuple(float(s) for s in shapes)
        name = f"{dist.name}({', '.join(f'{s:g}' for s in shapes)})"
        if dist.name == "levy_stable":
            alpha, beta = shapes
            require_finite_moment(alpha, p)
            if alpha == 2.0:
                # S_2(scale) is N(0, 2 scale^2)
                from scipy.stats import norm

                return law_from(norm(loc, math.sqrt(2.0) * scale), p)
            if beta != 0.0:
                raise ValueError(
                    f"wasserstein_to_law supports levy_stable only with beta=0 (scipy's skewed "
                    f"quantiles are too slow and inaccurate in the tails), got beta={beta:g}"
                )

            def upper(s, _a=alpha):
                return stable.isf(s, _a)

            def lower(s, _a=alpha):
                return stable.ppf(s, _a)

            def sf(z, _a=alpha):
                return stable.sf(z, _a)

            def cdf(z, _a=alpha):
                return stable.cdf(z, _a)

            return _Law(lower, upper, cdf, sf, name=name), float(loc), float(scale)
        if dist.name in _TAIL_INDEX:
            index = float(_TAIL_INDEX[dist.name](*shapes))
            if index <= p:
                raise ValueError(
                    f"W_p needs a finite p-th moment: the law {name} has tail index {index:g}, "
                    f"which must be > p={p:g}"
                )
        return _Law(law.ppf, law.isf, law.cdf, law.sf, name=name), 0.0, 1.0
    if callable(law):

        def upper(s, _f=law):
            return _f(1.0 - s)

        # 1 - u is exact to 1e-16 absolute only: upper quantiles below u = 1e-10 are
        # extrapolated (see _remainder).
        return _Law(law, upper, upper_min=1e-10, name="ppf"), 0.0, 1.0
    raise ParameterTypeError(
        "law must be a frozen scipy.stats continuous distribution or a callable quantile "
        f"function (ppf), got {type(law).__name__}"
    )


@functools.lru_cache(maxsize=4)
def _gauss(k: int):
    g, w = np.polynomial.legendre.leggauss(k)
    return 0.5 * (g + 1.0), 0.5 * w


@functools.lru_cache(maxsize=1)
def _tanh_sinh():
    """Tanh-sinh nodes on [0, 1] as (from_left, frac, weight).

    Node position is frac from the left end (from_left) or from the right end,
    so that positions next to either end keep full relative precision.
    h = 1/5, |tau| <= 3.2 (33 nodes, frac >= 3e-17): it is used only on pieces
    whose nearest singularity other than the endpoint kink is at least a
    piece width away, where this gives ~1e-15 for |t - t*|^p behaviour
    (h = 1/4 leaves 7e-13).
    """
    h = 0.2
    tau = h * np.arange(-16, 17)
    z = 0.5 * math.pi * np.sinh(tau)
    ez = np.exp(-2.0 * np.abs(z))
    frac = ez / (1.0 + ez)  # distance to the nearer end, as a fraction of the length
    weight = h * math.pi * np.cosh(tau) * ez / (1.0 + ez) ** 2
    return tau <= 0.0, frac, weight


def _power(diff: np.ndarray, p: float) -> np.ndarray:
    diff = np.abs(diff)
    if p == 1.0:
        return diff
    if p == 2.0:
        return diff * diff
    return diff**p


def _eval(fun, u: np.ndarray, law: _Law) -> np.ndarray:
    q = np.asarray(fun(u), dtype=np.float64)
    if not np.all(np.isfinite(q)):
        bad = u[~np.isfinite(q)][0]
        raise ValueError(
            f"the quantile function of {law.name} is not finite at u={bad:.3g} "
            "(a law with unbounded support must have finite quantiles on (0, 1))"
        )
    return q


def _gauss_pieces(fun, law, a, b, c, p, k) -> float:
    """sum over pieces of int_a^b |c - fun(u)|^p du, k-point Gauss-Legendre, chunked."""
    if a.size == 0:
        return 0.0
    nodes, weights = _gauss(k)
    total = 0.0
    step = max(1, (1 << 19) // k)
    for s in range(0, a.size, step):
        aa, bb, cc = a[s:s + step], b[s:s + step], c[s:s + step]
        width = bb - aa
        u = aa[:, None] + width[:, None] * nodes
        q = _eval(fun, u.ravel(), law).reshape(u.shape)
        total += float(np.sum(width * (_power(cc[:, None] - q, p) @ weights)))
    return total


def _ts_pieces(fun, law, a, b, c, p) -> float:
    """Same with tanh-sinh for non-integer p (pieces ending at a kink, where the
    integrand behaves like |u - u*|^p); for integer p such pieces are smooth."""
    if a.size == 0:
        return 0.0
    if p == int(p):
        return _gauss_pieces(fun, law, a, b, c, p, 8)
    left, frac, weight = _tanh_sinh()
    total = 0.0
    step = max(1, (1 << 19) // frac.size)
    for s in range(0, a.size, step):
        aa, bb, cc = a[s:s + step], b[s:s + step], c[s:s + step]
        width = bb - aa
        off = width[:, None] * frac
        u = np.where(left, aa[:, None] + off, bb[:, None] - off)
        q = _eval(fun, u.ravel(), law).reshape(u.shape)
        total += float(np.sum(width * (_power(cc[:, None] - q, p) @ weight)))
    return total


def _dyadic(lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """Pieces [e_k, e_{k+1}] covering [lo, hi] with e_{k+1} <= 2 e_k (lo > 0)."""
    k = max(1, math.ceil(math.log2(hi / lo)))
    edges = lo * 2.0 ** np.arange(k + 1)
    edges[-1] = hi
    edges = edges[np.concatenate([[True], np.diff(edges) > 0.0])]
    return edges[:-1], edges[1:]


def _remainder(fun, law, c, p, u_min) -> float:
    """int_0^u_min |c - fun(u)|^p du by a power law g(u_min) (u / u_min)^(-beta).

    beta is fitted from g at u_min and 2 u_min; beta >= 1 means divergence.
    """
    g1, g2 = _power(c - _eval(fun, np.array([u_min, 2.0 * u_min]), law), p)
    if g1 == 0.0 or g2 == 0.0:
        return 0.0
    beta = math.log(g1 / g2) / math.log(2.0)
    if beta >= 1.0:
        raise ValueError(
            f"W_p to {law.name} is infinite: the p-th power of its quantile function is not "
            f"integrable at the ends (local exponent {beta:.3g} >= 1), i.e. no finite p-th moment"
        )
    return u_min * g1 / (1.0 - beta)


def _end_plateau(fun, law, hi, c, p, u_min, u0) -> float:
    """int_0^hi |c - fun(u)|^p du for the plateau touching the end u = 0.

    The quantile function is singular at 0, so [u_min, hi] is cut into dyadic
    pieces (each at least its own width away from the singularity: 10-point
    Gauss-Legendre is accurate to ~1e-15 on each, whatever happens over the
    hundreds of decades between u_min and hi), the pieces next to a kink u0
    (inside, or just beyond hi) use tanh-sinh, and [0, u_min] is extrapolated.
    """
    total = _remainder(fun, law, c, p, u_min)
    ts_lo, ts_hi = [], []
    if math.isfinite(u0) and 4.0 * u_min < u0 < hi:
        top = min(2.0 * u0, hi)
        ts_lo, ts_hi = [0.5 * u0, u0], [u0, top]
        lo_e, hi_e = _dyadic(u_min, 0.5 * u0)
        if top < hi:
            lo2, hi2 = _dyadic(top, hi)
            lo_e, hi_e = np.concatenate([lo_e, lo2]), np.concatenate([hi_e, hi2])
    elif math.isfinite(u0) and hi <= u0 <= 1.5 * hi:
        ts_lo, ts_hi = [0.5 * hi], [hi]
        lo_e, hi_e = _dyadic(u_min, 0.5 * hi)
    else:
        lo_e, hi_e = _dyadic(u_min, hi)
    total += _ts_pieces(fun, law, np.array(ts_lo), np.array(ts_hi), np.full(len(ts_lo), c), p)
    total += _gauss_pieces(fun, law, lo_e, hi_e, np.full(lo_e.shape, c), p, 10)
    return total


def _crossings(fun, dist_fn, law, lo, hi, c, side: str, u_min: float) -> np.ndarray:
    """u* with fun(u*) = c (the kink of |c - fun(u)|^p), or NaN if not near [lo, hi].

    With a cdf (sf) it is just cdf(c) (sf(c)); otherwise bisection on the
    monotone quantile function over [lo - w, hi + w], w = hi - lo.
    """
    if dist_fn is not None:
        return np.asarray(dist_fn(c), dtype=np.float64)
    ustar = np.full(c.shape, np.nan)
    w = hi - lo
    a_ext = np.maximum(lo - w, u_min)
    b_ext = np.minimum(hi + w, 0.5)
    with np.errstate(invalid="ignore"):
        q_lo = np.asarray(fun(a_ext))
        q_hi = np.asarray(fun(b_ext))
    incr = side == "lower"  # lower(u) increases with u, upper(u) decreases
    found = (c > q_lo) & (c < q_hi) if incr else (c < q_lo) & (c > q_hi)
    a, b, cc = a_ext[found], b_ext[found], c[found]
    for _ in range(64):
        mid = 0.5 * (a + b)
        below = np.asarray(fun(mid)) < cc
        go_right = below if incr else ~below
        a = np.where(go_right, mid, a)
        b = np.where(go_right, b, mid)
    ustar[found] = 0.5 * (a + b)
    return ustar


def _half_integral(side: str, law: _Law, c, n, p, u_min) -> float:
    """int_0^{1/2} |Q_n - Q|^p over one half, c[j] the sample value on plateau j (from the end)."""
    j = np.arange(c.size)
    lo = j / n
    hi = np.minimum((j + 1) / n, 0.5)
    fun, dist_fn = (law.lower, law.cdf) if side == "lower" else (law.upper, law.sf)
    ustar = _crossings(fun, dist_fn, law, lo, hi, c, side, u_min)
    # end plateau j = 0: [0, hi], possibly with a kink
    total = _end_plateau(fun, law, hi[0], c[0], p, u_min, float(ustar[0]))
    # Other plateaus. A kink inside splits the plateau into two tanh-sinh pieces; a
    # kink within one width beyond either end makes |c - Q|^p nearly singular at that
    # end (for non-integer p), so tanh-sinh too; smooth plateaus use Gauss-Legendre.
    lo, hi, c, ustar, j = lo[1:], hi[1:], c[1:], ustar[1:], j[1:]
    w = hi - lo
    with np.errstate(invalid="ignore"):
        split = (ustar > lo) & (ustar < hi)
        near = ~split & (ustar >= lo - w) & (ustar <= hi + w)
    total += _ts_pieces(fun, law, np.concatenate([lo[split], ustar[split], lo[near]]),
                        np.concatenate([ustar[split], hi[split], hi[near]]),
                        np.concatenate([c[split], c[split], c[near]]), p)
    # Gauss-Legendre error ~ rho^(-2k), rho ~ 2 (2j + 1) (nearest singularity at u = 0):
    # 8 nodes give < 1e-12 for j >= 1, 4 nodes give < 1e-14 for j >= 32.
    smooth = ~split & ~near
    total += _gauss_pieces(fun, law, lo[smooth & (j < 32)], hi[smooth & (j < 32)],
                           c[smooth & (j < 32)], p, 8)
    total += _gauss_pieces(fun, law, lo[smooth & (j >= 32)], hi[smooth & (j >= 32)],
                           c[smooth & (j >= 32)], p, 4)
    return total


def w_to_law_pp(xs: np.ndarray, law: _Law, p: float) -> float:
    """W_p^p between the sorted sample xs and the law."""
    n = xs.size
    half = (n + 1) // 2  # plateaus meeting each half; the middle one is split at 1/2 if n is odd
    u_min = 1e-200 / n
    lower = _half_integral("lower", law, xs[:half], n, p, u_min)
    upper = _half_integral("upper", law, xs[::-1][:half].copy(), n, p, max(u_min, law.upper_min))
    return lower + upper

