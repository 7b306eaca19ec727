r"""Strong error of the Euler scheme, measured on nested grids with common random numbers.

What "strong error" means here
------------------------------
For a drift ``b``, a horizon ``T`` and a step ``eta`` dividing ``T``, let
``x^eta(T)`` be the Euler scheme (:ref:`conv-euler-scheme`) after ``T/eta`` steps
and ``x(T)`` the solution of the SDE (or particle system)
``dx_i = b(x_i, mu^n_t) dt + sigma dL_i(t)`` **driven by the same Levy
paths** ``L_i`` and started from the same ``x(0)``. The strong error is

    e(eta) = E[ (1/n) sum_i \|x_i^eta(T) - x_i(T)\| ],

the mean over particles ``i`` and over the randomness (noise, and the initial
values if they are random) of the Euclidean distance in ``R^d``. It measures
how far the scheme's *path* is from the true path, not how far its *law* is
(that would be a weak error). With alpha-stable noise only moments of order
``< alpha`` exist, so the first moment (alpha > 1) is the natural one.

How the coupling is done
------------------------
All runs of one replicate are driven by one Levy path, sampled on the finest
grid ``eta_f = T / N_f``: the fine increments are
``Delta_j = eta_f^(1/alpha) * xi_j`` with ``xi_j`` i.i.d. standard stable noise
of the chosen kind, drawn one step at a time (one ``poc.noise._noise`` call
per fine step; :func:`poc.simulate` draws a block of steps per call, so its
stream differs). A run with step ``eta = m * eta_f`` uses, at its step ``k``, the sum of
the ``m`` fine increments it covers,

    L(t_{k+1}) - L(t_k) = Delta_{km} + Delta_{km+1} + ... + Delta_{km+m-1},

added left to right in float64. That sum is exactly distributed as
``eta^(1/alpha) * xi`` (stability), so each run on its own is the ordinary Euler
scheme with step ``eta``, and all runs follow the same path ``L``. The reference
``x(T)`` is the Euler run on the fine grid itself (by default 64 times finer
than the smallest tested step, at least 8 times if chosen by the caller), or
an exact solution supplied by the caller as a function of the increments
(``exact=``).

The reference's own error is not modelled in the fit; it is made small
instead. On one path the errors of the tested run and of the reference point
the same way, so the measured error at step ``eta`` is about ``(1 -
(eta_f/eta)^p)`` times the true one (order p): with the default 64x this
lowers the error at the smallest step by about 1.6 % for p = 1 and tilts the
fitted order up by about 0.01, against 0.04-0.14 with an 8x reference. Cost:
the reference run takes 64 times the steps of the smallest tested run, i.e.
most of the time of a measurement.

Why independent noise would be wrong
------------------------------------
With independent noise for ``x^eta`` and for the reference, ``|x^eta(T) -
x^ref(T)|`` is the distance between two *independent* draws of (nearly) the
same law: it stays of the order of the spread of ``x(T)`` (for stable noise,
``sigma T^(1/alpha)``) however small ``eta`` is, and hides the discretization
error completely. Common random numbers cancel the noise itself and leave
only the error the scheme makes along a path.

Confidence intervals
--------------------
The replicates are the independent units; the errors of one replicate at the
different steps are strongly dependent (same path). :func:`fit_paired_rate`
therefore bootstraps whole replicates (all steps together), which keeps that
dependence and gives much tighter, still valid, intervals than resampling each
step independently (:func:`poc.rates.fit_rate`). Heavy tails make a single
replicate's error erratic, but its *ratio* across steps is stable; the paired
bootstrap uses exactly that.

References
----------
Kloeden and Platen (1992), *Numerical Solution of Stochastic Differential
Equations*, Sections 9.6 and 10.2 (strong convergence, nested grids);
Higham (2001), "An algorithmic introduction to numerical simulation of
stochastic differential equations", SIAM Review 43(3), Section 5 (the
Brownian-path refinement used here, transposed to Levy paths);
Wan, Barsbey, Zaidi, Simsekli (2024), arXiv 2306.08125 (Euler discretization of
the heavy-tailed particle SDE; noisy SGD as its Euler scheme).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numba import njit

from ._inputs import check_drift, check_progress
from ._validation import (
    ParameterTypeError,
    as_generator,
    check_array,
    check_choice,
    check_int,
    check_real,
)
from .drifts import Drift, MeanFieldNetwork
from .engine import (
    NonFiniteStateError,
    euler,
    progress_bar,
    threads_for,
)
from .noise import NOISE_KINDS, _noise
from .rates import RateFit, _slopes, fit_rate

__all__ = ["DEFAULT_REFINEMENT", "MIN_REFINEMENT", "StrongError", "fit_paired_rate",
           "strong_error"]

#: An explicit fine reference step must be at least this many times smaller
#: than the smallest tested step (its own error is then at most 1/8 of the
#: smallest measured error for a first-order scheme).
MIN_REFINEMENT = 8

#: Default refinement of the fine reference step over the smallest tested step.
#: The reference's own error shrinks every measured error by a factor of about
#: ``1 - (eta_f / eta)^p`` (order p; the errors of nearby steps on one path are
#: strongly correlated), most at the smallest step, which tilts the fitted slope
#: upwards: by 0.04-0.14 with 8x (1.08 [1.07, 1.08] for a true order 1), by
#: about 8x less with 64x (1 - 1/64 = 0.984 at the smallest step).
DEFAULT_REFINEMENT = 64

# A replicate's fine increments are kept in memory (drawn once, shared by all
# runs) up to this many float64 values (64 MB); beyond, every run redraws them
# from the same seed, one fine step at a time: same bits, no memory.
_MATERIALIZE_MAX = 1 << 23

# Without interaction, replicates are simulated together, in clouds of at most this
# many particles (and at most _MATERIALIZE_MAX stored increments): below it the
# Euler loop's kernels stay on one thread, and the fine path stays in memory.
_STACK_PARTICLES = 2048

# Relative tolerance for "T / step is an integer" with steps given as floats.
_GRID_RTOL = 1e-9

# Entries of the bootstrap weight matrix generated at once (memory bound).
_BOOT_BLOCK = 1 << 22


@njit(cache=True)
def _block_sums(fine, m, out):
    """out[k] = fine[k m] + fine[k m + 1] + ... + fine[k m + m - 1], added left to right."""
    K, n, d = out.shape
    for k in range(K):
        o = out[k]
        f0 = fine[k * m]
        for i in range(n):
            for j in range(d):
                o[i, j] = f0[i, j]
        for r in range(1, m):
            f = fine[k * m + r]
            for i in range(n):
                for j in range(d):
                    o[i, j] += f[i, j]


class _FineNoise:
    """The Levy increments of one replicate on the fine grid, and their coarse sums.

    Fine step ``j`` is ``_noise(rng, alpha, n, d, kind, eta_f^(1/alpha))``, the
    ``j``-th such call on a generator made from ``seedseq`` (the per-step
    stream; :func:`poc.simulate` draws blocks of steps). A run with step ``m *
    eta_f`` receives the left-to-right sums of ``m`` consecutive fine
    increments, either from the stored fine path or, when it is too large to
    store, redrawn from the same seed: both give the same bits.
    """

    def __init__(self, seedseq, alpha, n, d, kind, fine_step, n_fine, *, keep=None):
        self.seedseq = seedseq
        self.alpha, self.n, self.d, self.kind = alpha, n, d, kind
        self.scale = fine_step ** (1.0 / alpha)
        self.n_fine = n_fine
        if keep is None:
            keep = n_fine * n * d <= _MATERIALIZE_MAX
        self.path = self._draw_all() if keep else None

    def _draw(self, rng):
        return _noise(rng, self.alpha, self.n, self.d, self.kind, self.scale)

    def _draw_all(self) -> np.ndarray:
        rng = np.random.default_rng(self.seedseq)
        path = np.empty((self.n_fine, self.n, self.d))
        # same thread policy as the Euler loop, which draws these inside its loop
        with threads_for(100.0 * self.n * self.d):
            for j in range(self.n_fine):
                path[j] = self._draw(rng)
        return path

    def increments(self, m: int):
        """Increments of the run with step ``m * eta_f``: an (N_f/m, n, d) array or a callable."""
        if self.path is not None:
            if m == 1:
                return self.path
            out = np.empty((self.n_fine // m, self.n, self.d))
            _block_sums(self.path, m, out)
            return out
        rng = np.random.default_rng(self.seedseq)

        def incr(k):
            acc = self._draw(rng)
            for _ in range(m - 1):
                acc += self._draw(rng)
            return acc

        return incr


@dataclass(frozen=True, eq=False)
class StrongError:
    """Strong errors of the Euler scheme at several step sizes.

    Attributes
    ----------
    steps : numpy.ndarray, shape (k,)
        Tested step sizes, decreasing (each ``T / N_j`` for an integer ``N_j``).
    errors : numpy.ndarray, shape (k, r)
        ``errors[j, q]`` = ``(1/n) sum_i |x_i^{steps[j]}(T) - x_i(T)|`` in
        replicate ``q`` (Euclidean norm in R^d, mean over the n particles).
        Replicates are independent; the entries of one column share one Levy
        path (common random numbers).
    T : float
        Horizon.
    reference : {"fine", "exact"}
        What ``x(T)`` is: a fine-step Euler run or the caller's exact solution.
    reference_step : float
        The fine grid's step (the reference run's step, or for ``"exact"`` the
        grid on which the increments were passed to it).
    alpha, sigma : float
        Noise index and scale.
    noise : str
        Noise kind.
    n, d : int
        Particles per replicate and coordinates per particle.
    batch_size : int or None
        Minibatch size of the tested runs (None: full gradient).
    interacting : bool
        False if the replicates were simulated together in shared clouds
        (drift without interaction).
    """

    steps: np.ndarray
    errors: np.ndarray
    T: float
    reference: str
    reference_step: float
    alpha: float
    sigma: float
    noise: str
    n: int
    d: int
    batch_size: int | None = None
    interacting: bool = True

    @property
    def n_replicates(self) -> int:
        return int(self.errors.shape[1])

    @property
    def mean(self) -> np.ndarray:
        """Estimated strong error ``E|x^eta(T) - x(T)|`` per step, shape (k,)."""
        return self.errors.mean(axis=1)

    def fit(self, *, level: float = 0.95, n_boot: int = 2000, seed=0) -> RateFit:
        """Log-log slope of the error against the step (the measured order), paired bootstrap CI.

        See :func:`fit_paired_rate`; ``slope`` is the measured strong order.
        """
        return fit_paired_rate(self.steps, self.errors, level=level, n_boot=n_boot, seed=seed)


def fit_paired_rate(x, y, *, level: float = 0.95, n_boot: int = 2000, seed=0) -> RateFit:
    r"""Fit ``y ~ C x^s`` in log-log when the replicates are paired across ``x``.

    Same estimate as :func:`poc.rates.fit_rate` (OLS slope of
    ``log(mean_r y)`` on ``log x``), but the bootstrap resamples whole
    replicates (columns of ``y``), as is right when column ``r`` holds
    measurements of one random experiment at every ``x`` (common random
    numbers).

    Parameters
    ----------
    x : array_like, shape (k,)
        Positive abscissae, at least 3 distinct values.
    y : array_like, shape (k, r)
        Positive values; ``y[:, q]`` is replicate ``q`` at every ``x``.
    level : float, optional
        Confidence level in (0, 1).
    n_boot : int, optional
        Bootstrap resamples, ``>= 100``.
    seed : None, int or numpy.random.Generator, optional
        Source of the resampling (default 0: reproducible).

    Returns
    -------
    poc.rates.RateFit
        Usable with :func:`poc.rates.judge`.

    Raises
    ------
    ValueError
        Non-positive or non-finite values, mismatched shapes, fewer than 3
        distinct ``x``, bad ``level`` or ``n_boot``.

    Notes
    -----
    With ``r = 1`` this is :func:`poc.rates.fit_rate` (OLS interval). With
    ``r >= 2`` the interval is a percentile interval of ``n_boot`` slopes
    from multinomial replicate weights, read at the expanded level of
    Hesterberg (2015) with ``r - 1`` degrees of freedom: to first order the
    slope is the mean over replicates of
    ``z_q = sum_j c_j y_jq / ybar_j`` (``c`` the OLS weights of ``log x``),
    an average of ``r`` i.i.d. terms.

    References
    ----------
    Efron and Tibshirani (1993), *An Introduction to the Bootstrap*, Ch. 13;
    Hesterberg (2015), The American Statistician 69(4), Section 4.2.
    """
    from scipy.stats import norm
    from scipy.stats import t as student_t

    xa = check_array(x, "x", ndim=1)
    ya = check_array(y, "y", ndim=2)
    k, r = ya.shape
    if k != xa.size:
        raise ValueError(f"y must have one row per x value: x has {xa.size} values, y has shape {ya.shape}")
    if np.any(xa <= 0.0):
        raise ValueError(f"x must be positive, got min(x)={xa.min():g}")
    if np.any(ya <= 0.0):
        raise ValueError(f"y must be positive (log-log fit), got min(y)={ya.min():g}")
    if np.unique(xa).size < 3:
        raise ValueError(f"x must have at least 3 distinct values, got {np.unique(xa).size}")
    level = check_real(level, "level", low=0.0, high=1.0, low_open=True, high_open=True)
    n_boot = check_int(n_boot, "n_boot", low=100)
    if r == 1:
        return fit_rate(xa, ya[:, 0], level=level, n_boot=n_boot, seed=seed)

    lx = np.log(xa)
    ybar = ya.mean(axis=1)
    s, b = _slopes(lx, np.log(ybar)[None, :])
    slope, intercept = float(s[0]), float(b[0])
    # Hand-written rather than scipy.stats.bootstrap(..., paired=True): scipy draws the same
    # indices (its intervals agree to rounding) but gathers every row for every resample,
    # where the replicate-count weights below need one (n_boot, r) x (r, k) product.
    # Measured (CPU time, 2 shared cores, n_boot = 2000): scipy costs 2.1x at k = 6, r = 5,
    # 1.8x at r = 20, 2.6x at r = 200 and 1.7x at k = 5, r = 2048; calibration's coverage
    # case took 2.6x as long. Issue 18 allowed the swap at no more than 2x.
    rng = as_generator(seed)
    boot = np.empty(n_boot)
    block = max(1, _BOOT_BLOCK // r)
    for start in range(0, n_boot, block):
        nb = min(block, n_boot - start)
        # replicate counts of nb resamples (r draws with replacement each), then weighted means
        idx = rng.integers(0, r, size=(nb, r)) + (np.arange(nb) * r)[:, None]
        w = np.bincount(idx.ravel(), minlength=nb * r).reshape(nb, r).astype(np.float64)
        boot[start:start + nb] = _slopes(lx, np.log((w @ ya.T) / r))[0]
    if np.ptp(boot) == 0.0:
        ci = (slope, slope)
    else:
        c = lx - lx.mean()
        c = c / float(c @ c)
        z = c @ (ya / ybar[:, None])
        adj = level
        if float(z.var(ddof=1)) > 0.0:
            q = math.sqrt(r / (r - 1)) * float(student_t.ppf(0.5 * (1.0 + level), r - 1))
            adj = float(2.0 * norm.cdf(q) - 1.0)
        lo, hi = np.quantile(boot, [0.5 * (1.0 - adj), 0.5 * (1.0 + adj)])
        ci = (float(lo), float(hi))
    return RateFit(slope=slope, intercept=intercept, ci=ci, level=level, n_boot=n_boot,
                   x=xa.copy(), y_mean=ybar)


# ---------------------------------------------------------------------------
# input checks


def step_grid(T: float, steps, reference_step, exact) -> tuple[np.ndarray, np.ndarray, int]:
    """Validated steps, their step counts N_j = T/step_j, and the fine count N_f."""
    steps = check_array(steps, "steps", ndim=1)
    if np.any(steps <= 0.0):
        raise ValueError(f"steps must be positive, got {steps.tolist()}")
    if np.any(np.diff(steps) >= 0.0):
        raise ValueError(f"steps must be strictly decreasing (coarsest first), got {steps.tolist()}")
    ratio = T / steps
    counts = np.rint(ratio)
    bad = (counts < 1) | (np.abs(ratio - counts) > _GRID_RTOL * ratio)
    if np.any(bad):
        raise ValueError(
            f"every step must divide T = {T:g} (T / step an integer); steps {steps[bad].tolist()} "
            f"give T / step = {ratio[bad].tolist()}"
        )
    counts = counts.astype(np.int64)
    if exact is not None:
        if reference_step is not None:
            raise ValueError("give either exact or reference_step, not both")
        n_fine = int(counts[-1])
        fine_name = "the smallest step"
    else:
        smallest = float(steps[-1])
        if reference_step is None:
            n_fine = DEFAULT_REFINEMENT * int(counts[-1])
        else:
            reference_step = check_real(reference_step, "reference_step", low=0.0, low_open=True)
            limit = smallest / MIN_REFINEMENT
            if reference_step > limit * (1.0 + _GRID_RTOL):
                raise ValueError(
                    f"reference_step must be at least {MIN_REFINEMENT} times finer than the smallest "
                    f"step {smallest:g}, i.e. <= {limit:g}, got {reference_step:g}"
                )
            rf = T / reference_step
            n_fine = round(rf)
            if abs(rf - n_fine) > _GRID_RTOL * rf:
                raise ValueError(
                    f"reference_step must divide T = {T:g} (T / reference_step an integer), got "
                    f"reference_step = {reference_step:g} (T / reference_step = {rf:g})"
                )
        fine_name = "reference_step"
    not_nested = n_fine % counts != 0
    if np.any(not_nested):
        raise ValueError(
            f"every step must be an integer multiple of {fine_name} {T / n_fine:g} (nested grids); "
            f"steps {steps[not_nested].tolist()} are not"
        )
    return T / counts, counts, int(n_fine)


def _check_x0(x0, n_replicates: int) -> np.ndarray:
    """x0 as an (r, n, d) array view or an (n, d) array (shared by all replicates)."""
    x = check_array(x0, "x0", ndim=(1, 2, 3))
    if x.ndim == 1:
        return x.reshape(-1, 1)
    if x.ndim == 3 and x.shape[0] != n_replicates:
        raise ValueError(
            f"a 3-D x0 must hold one (n, d) start per replicate: expected shape "
            f"({n_replicates}, n, d), got {x.shape}"
        )
    return x


def _stack_size(n: int, d: int, n_fine: int) -> int:
    """Replicates per cloud when they are stacked (interacting=False)."""
    return max(1, min(_STACK_PARTICLES // n, _MATERIALIZE_MAX // (n_fine * n * d)))


def _check_no_interaction(drift: Drift, d: int) -> None:
    """Raise unless the drift of a particle ignores the other particles (probe on a random cloud)."""
    z = np.random.default_rng(12345).standard_normal((8, d))
    try:
        full = drift(z)
        half = drift(z[:4])
    except ValueError as exc:  # e.g. a network whose output weights fix the number of particles
        raise ValueError(
            f"interacting=False needs a drift that can be evaluated on clouds of any size without "
            f"interaction; probing {drift!r} failed: {exc}"
        ) from exc
    scale = max(1.0, float(np.max(np.abs(full))))
    if not np.allclose(full[:4], half, rtol=1e-10, atol=1e-10 * scale):
        raise ValueError(
            "interacting=False needs a drift that does not depend on the other particles "
            f"(b(x, mu) = b(x)), but {drift!r} changes when particles are removed; use "
            "interacting=True (the default)"
        )


def _check_exact_output(value, shape) -> np.ndarray:
    try:
        out = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ParameterTypeError(f"exact must return an array of reals, got {type(value).__name__}") from exc
    if out.shape != shape:
        raise ValueError(f"exact must return an array of shape {shape} (x(T)), got shape {out.shape}")
    if not np.all(np.isfinite(out)):
        raise ValueError("exact returned non-finite values")
    return out


# ---------------------------------------------------------------------------
# the measurement


def _per_particle(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sqrt(np.sum((a - b) ** 2, axis=1))


def _one_group(drift, x, *, counts, n_fine, T, alpha, sigma, noise, batch_size, exact,
               noise_ss, batch_key, keep):
    """Per-particle errors (k, n_rows) of one cloud: tested runs against the reference."""
    n, d = x.shape
    k = counts.size
    tape = None
    if sigma > 0.0:
        # exact() takes the whole path, so it is then always kept in memory
        tape = _FineNoise(noise_ss, alpha, n, d, noise, T / n_fine, n_fine,
                          keep=True if exact is not None else keep)

    def run(n_steps, label, *, batched):
        step = T / n_steps
        m = n_fine // n_steps
        incr = None if tape is None else tape.increments(m)
        kw = {}
        if batched:
            brng = np.random.default_rng(np.random.SeedSequence(batch_key[0],
                                                                spawn_key=(*batch_key[1:], n_steps)))
            n_data = drift.n_data
            kw = {"batch_size": batch_size,
                  "batches": lambda _k: brng.choice(n_data, size=batch_size, replace=False)}
        try:
            return euler(drift, x, step, n_steps, sigma, incr, label=label, **kw).final
        except NonFiniteStateError as exc:
            raise NonFiniteStateError(f"strong_error, run with step {step:g}: {exc}",
                                      exc.step_index, exc.time) from exc

    if exact is None:
        ref = run(n_fine, "reference run", batched=False)
    else:
        path = np.zeros((n_fine, n, d)) if tape is None else tape.path
        ref = _check_exact_output(exact(x.copy(), path.copy()), (n, d))
    out = np.empty((k, n))
    for j in range(k):
        out[j] = _per_particle(run(int(counts[j]), f"run with step {T / counts[j]:g}",
                                   batched=batch_size is not None), ref)
    return out


def strong_error(drift: Drift, x0, *, alpha: float, sigma: float, T: float, steps,
                 n_replicates: int, reference_step: float | None = None,
                 exact: Callable | None = None, noise: str = "iid", batch_size: int | None = None,
                 interacting: bool = True, seed=None, progress: bool | None = None) -> StrongError:
    r"""Strong error ``E|x^eta(T) - x(T)|`` of the Euler scheme for several steps ``eta``.

    Every replicate draws one Levy path on a fine grid; each tested step runs
    the Euler scheme (:func:`poc.simulate`'s scheme) on the sums of the fine
    increments it covers (common random numbers, see the module docstring),
    and is compared with the reference ``x(T)`` on the same path and from the
    same start: a fine-step Euler run, or ``exact`` if given.

    Parameters
    ----------
    drift : poc.drifts.Drift
        The model (FeatureDrift, PairwiseDrift, NumpyDrift, MeanFieldNetwork,
        LinearMeanField, ...).
    x0 : array_like, shape (n, d) or (n,) for d = 1, or (n_replicates, n, d)
        Start of every replicate (2-D, shared), or one start per replicate (3-D).
        A single SDE is ``n = 1``.
    alpha : float
        Stability index of the noise, in (0, 2]; the first moment needs
        alpha > 1 (for alpha <= 1 the mean error may not exist).
    sigma : float
        Noise scale, ``>= 0``.
    T : float
        Horizon, ``> 0``.
    steps : array_like, shape (k,)
        Step sizes to test: strictly decreasing, each dividing ``T``, each an
        integer multiple of the fine step (nested grids).
    n_replicates : int
        Independent replicates (Levy paths and, with a 3-D x0, starts), ``>= 1``.
    reference_step : float, optional
        Step of the fine reference run: must divide ``T``, be at most
        ``steps[-1] / 8`` (:data:`MIN_REFINEMENT`) and divide every tested
        step. Default ``steps[-1] / 64`` (:data:`DEFAULT_REFINEMENT`): the
        reference's own error is not modelled in the fit, and a coarser
        reference biases the fitted order upwards (see the module docstring).
    exact : callable, optional
        ``exact(x0, increments) -> x(T)`` for models whose solution is a known
        function of the Levy increments on the grid of the smallest step:
        ``x0`` (n, d) and ``increments`` (N, n, d) with ``N = T / steps[-1]``,
        the unit-scale increments ``L(t_{j+1}) - L(t_j)`` (not multiplied by
        sigma). Replaces the fine reference run; incompatible with
        ``reference_step``. For most drifts no such function exists (the
        solution depends on the path between grid points): use the fine
        reference.
    noise : {"iid", "isotropic", "neuron"}, optional
        Noise kind.
    batch_size : int, optional
        MeanFieldNetwork only: the tested runs are minibatch noisy SGD with
        this batch size (fresh minibatches drawn without replacement at every
        step, independently for every step size), while the reference stays
        the full-gradient system. Measures the error of minibatch SGD against
        the continuous-time particle system.
    interacting : bool, optional
        False declares that ``b(x, mu)`` does not depend on ``mu`` (checked on
        a random cloud); the replicates are then simulated together, in
        clouds of up to 2048 particles, which is much faster for single
        SDEs. Cloud ``g`` draws its increments from
        ``SeedSequence(entropy, spawn_key=(g, 0))``: a different stream from
        the interacting path's (same law).
    seed : None, int or numpy.random.Generator, optional
        Randomness. Replicate ``q`` draws its fine increments from
        ``SeedSequence(entropy, spawn_key=(q, 0))`` with ``entropy`` drawn
        from ``seed``; results are reproducible and identical on any number of
        Numba threads.
    progress : bool or None, optional
        Progress bar over replicates (None: automatic).

    Returns
    -------
    StrongError
        ``errors`` (k, n_replicates) replicate-level errors; ``.mean`` the
        estimates; ``.fit()`` the measured order with a paired bootstrap interval.

    Raises
    ------
    ValueError
        If steps are not strictly decreasing, do not divide ``T`` or are not
        nested; if the reference step is not at least 8 times finer than the
        smallest step or does not divide ``T``; on any other out-of-range
        parameter; if ``interacting=False`` for a drift with interaction.
    TypeError
        (ParameterTypeError) for arguments of the wrong type.
    NonFiniteStateError
        If a run becomes non-finite (naming the step size and the step index).

    References
    ----------
    Kloeden and Platen (1992), Section 9.6; Wan et al. (2024), arXiv
    2306.08125 (Euler scheme of the heavy-tailed particle SDE).

    Examples
    --------
    >>> from poc.drifts import LinearMeanField
    >>> res = strong_error(LinearMeanField(a=1.0, c=0.0), [[1.0]], alpha=1.5, sigma=1.0, T=1.0,
    ...                    steps=[2**-2, 2**-3, 2**-4], n_replicates=200, interacting=False, seed=0)
    >>> res.errors.shape
    (3, 200)
    >>> bool(res.mean[0] > res.mean[-1])
    True
    """
    a = _check_strong_inputs(drift, x0, alpha, sigma, T, steps, n_replicates, reference_step, exact,
                             noise, batch_size, interacting, progress)
    entropy = int(as_generator(seed).integers(2**63))
    errors = (_errors_interacting if a.interacting else _errors_stacked)(a, entropy)
    n, d = a.x.shape[-2:]
    return StrongError(steps=a.steps, errors=errors, T=a.T,
                       reference="fine" if a.exact is None else "exact",
                       reference_step=a.T / a.n_fine, alpha=a.alpha, sigma=a.sigma, noise=a.noise,
                       n=int(n), d=int(d), batch_size=a.batch_size, interacting=a.interacting)


# ---------------------------------------------------------------------------
# the steps of strong_error: checks, and the loops over replicates


@dataclass(frozen=True, eq=False)
class _StrongInputs:
    """The validated arguments of :func:`strong_error` (same names and meanings)."""

    drift: Drift
    x: np.ndarray  # (n, d) shared start or (n_replicates, n, d)
    alpha: float
    sigma: float
    T: float
    steps: np.ndarray
    counts: np.ndarray  # steps per tested run, T / steps
    n_fine: int  # steps of the fine grid
    n_replicates: int
    exact: Callable | None
    noise: str
    batch_size: int | None
    interacting: bool
    progress: bool | None

    def group_kwargs(self) -> dict:
        """The keywords every :func:`_one_group` call shares."""
        return {"counts": self.counts, "n_fine": self.n_fine, "T": self.T, "alpha": self.alpha,
                "sigma": self.sigma, "noise": self.noise, "batch_size": self.batch_size,
                "exact": self.exact, "keep": None}


def _check_strong_inputs(drift, x0, alpha, sigma, T, steps, n_replicates, reference_step, exact,
                         noise, batch_size, interacting, progress) -> _StrongInputs:
    """Validate the arguments of :func:`strong_error` and raise as it documents."""
    drift = check_drift(drift)
    alpha = check_real(alpha, "alpha", low=0.0, high=2.0, low_open=True)
    sigma = check_real(sigma, "sigma", low=0.0)
    T = check_real(T, "T", low=0.0, low_open=True)
    n_replicates = check_int(n_replicates, "n_replicates", low=1)
    noise = check_choice(noise, "noise", NOISE_KINDS)
    if exact is not None and not callable(exact):
        raise ParameterTypeError(f"exact must be a callable exact(x0, increments), got {exact!r}")
    steps, counts, n_fine = step_grid(T, steps, reference_step, exact)
    if not isinstance(interacting, bool | np.bool_):
        raise ParameterTypeError(f"interacting must be True or False, got {interacting!r}")
    interacting = bool(interacting)
    progress = check_progress(progress)
    x = _check_x0(x0, n_replicates)
    n, d = x.shape[-2:]
    drift.check_state(n, d)
    if batch_size is not None:
        if not isinstance(drift, MeanFieldNetwork):
            raise ValueError(
                f"batch_size is only supported for MeanFieldNetwork drifts, got {type(drift).__name__}"
            )
        batch_size = check_int(batch_size, "batch_size", low=1, high=drift.n_data)
    if not interacting:
        _check_no_interaction(drift, d)
    return _StrongInputs(drift, x, alpha, sigma, T, steps, counts, n_fine, n_replicates, exact,
                         noise, batch_size, interacting, progress)


def _errors_interacting(a: _StrongInputs, entropy: int) -> np.ndarray:
    """Errors (k, n_replicates), one particle system per replicate."""
    errors = np.empty((a.counts.size, a.n_replicates))
    bar = progress_bar(a.progress, a.n_replicates, "strong error")
    try:
        for q in range(a.n_replicates):
            xq = a.x[q] if a.x.ndim == 3 else a.x
            err = _one_group(a.drift, xq, noise_ss=np.random.SeedSequence(entropy, spawn_key=(q, 0)),
                             batch_key=(entropy, q, 1), **a.group_kwargs())
            errors[:, q] = err.mean(axis=1)
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return errors


def _errors_stacked(a: _StrongInputs, entropy: int) -> np.ndarray:
    """Errors (k, n_replicates), replicates stacked in shared clouds (drift without interaction)."""
    errors = np.empty((a.counts.size, a.n_replicates))
    n, d = a.x.shape[-2:]
    per_group = _stack_size(n, d, a.n_fine)
    groups = range(0, a.n_replicates, per_group)
    bar = progress_bar(a.progress, len(groups), "strong error") if len(groups) > 1 else None
    try:
        for g, q0 in enumerate(groups):
            q1 = min(a.n_replicates, q0 + per_group)
            cloud = a.x[q0:q1].reshape(-1, d) if a.x.ndim == 3 else np.tile(a.x, (q1 - q0, 1))
            err = _one_group(a.drift, np.ascontiguousarray(cloud),
                             noise_ss=np.random.SeedSequence(entropy, spawn_key=(g, 0)),
                             batch_key=(entropy, g, 1), **a.group_kwargs())
            errors[:, q0:q1] = err.reshape(a.counts.size, q1 - q0, n).mean(axis=2)
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return errors
