r"""Euler simulation of mean-field particle systems, and noisy SGD.

The n-particle system

    d x_i = b(x_i, mu^n_t) dt + sigma dL_i(t),   mu^n_t = (1/n) sum_j delta_{x_j(t)},

with independent symmetric alpha-stable Levy processes ``L_i`` is advanced by
the Euler scheme (documentation: Theory, Conventions, Euler scheme; docs/theory.rst, #conv-euler-scheme):

    x_{k+1} = x_k + step * b(x_k, mu^n_k) + sigma * (L(t_{k+1}) - L(t_k)),

where the Levy increment over one step is ``step^(1/alpha) * xi`` with
``xi`` of the chosen noise kind. For a :class:`poc.drifts.MeanFieldNetwork`
this is exactly the noisy SGD of the paper (gradient step, then
``sigma * step^(1/alpha) * noise``), full-batch or with minibatches.

:func:`simulate` is the public entry point. The loop itself is the engine
(``poc.engine``), shared with the McKean-Vlasov references of
:mod:`poc.limits`, :func:`poc.strong_error` and :func:`poc.train`.
"""

from __future__ import annotations

from ._fastloop import CompiledStepper
from ._inputs import check_drift, check_progress, check_run, check_x0
from ._validation import as_generator, check_int
from .drifts import Drift, MeanFieldNetwork
from .engine import (
    NonFiniteStateError,
    Trajectory,
    batch_source,
    euler,
    increment_source,
)

__all__ = ["NonFiniteStateError", "Trajectory", "simulate"]


def simulate(drift: Drift, x0, *, alpha: float, sigma: float, step: float, n_steps: int,
             noise: str = "iid", seed=None, record_every: int | None = None,
             batch_size: int | None = None, progress: bool | None = None) -> Trajectory:
    r"""Simulate an n-particle system with the Euler scheme (noisy SGD for networks).

    Runs ``x_{k+1} = x_k + step * b(x_k, mu^n_k) + sigma * step^(1/alpha) * xi_{k+1}``
    for ``k = 0, ..., n_steps - 1`` (docs/theory.rst, #conv-euler-scheme), where ``xi`` is
    (n, d) symmetric alpha-stable noise of the given kind and ``b`` the drift
    evaluated at the empirical measure of the current cloud. For a
    :class:`poc.drifts.MeanFieldNetwork` this is the paper's noisy SGD: a
    gradient step on the (n-rescaled) squared loss, then
    ``sigma * step^(1/alpha) * noise``.

    Parameters
    ----------
    drift : poc.drifts.Drift
        A FeatureDrift, PairwiseDrift, NumpyDrift or built-in model.
    x0 : array_like, shape (n, d), or (n,) for d = 1
        Initial particle positions (finite).
    alpha : float
        Stability index of the noise, in (0, 2].
    sigma : float
        Noise scale, ``>= 0`` (0 gives the deterministic particle ODE /
        plain gradient descent, and draws no random numbers).
    step : float
        Step size (learning rate) ``eta > 0``.
    n_steps : int
        Number of steps, ``>= 1``.
    noise : {"iid", "isotropic", "neuron"}, optional
        Noise kind (see :func:`poc.sample_noise`).
    seed : None, int or numpy.random.Generator, optional
        Randomness. The noise of a block of ``L = min(1024, max(1, 2**20 //
        (n d)))`` steps is drawn at once, as ``(L n, d)`` rows of
        ``poc.noise._noise(rng, alpha, L n, d, noise, step ** (1 / alpha))``
        (the last block shorter), so the run is reproducible from the seed and
        bit-identical on any number of Numba threads. Minibatch indices come
        from a separate stream ``rng.spawn(1)[0]``: ``batch_size`` uniforms
        per step (drawn per block) drive a partial Fisher-Yates shuffle of a
        permutation of the data kept from step to step, so each batch is a
        uniform sample without replacement; the noise is therefore the same
        with and without minibatches.
    record_every : int, optional
        If given, record the state at steps 0, record_every, 2 record_every,
        ... and at the last step.
    batch_size : int, optional
        MeanFieldNetwork only: evaluate the gradient at each step on a
        minibatch of this many data points drawn without replacement (noisy
        SGD); ``1 <= batch_size <= m``. Default: the full data set.
    progress : bool or None, optional
        Show a tqdm progress bar (True), never (False), or automatically
        (None: on a terminal, once the run has lasted 5 seconds).

    Returns
    -------
    Trajectory
        ``.final`` (n, d) always; ``.times``, ``.states`` (and ``.features``
        for full-batch feature drifts) when ``record_every`` is given.

    Raises
    ------
    ValueError
        If a parameter is out of range, x0 does not fit the drift (e.g. the
        network's input dimension), or batch_size is used with a drift other
        than MeanFieldNetwork.
    TypeError
        If drift is not a poc drift or an argument has the wrong type.
    NonFiniteStateError
        (a FloatingPointError and ValueError) naming the first step at which
        the state became non-finite; no NaN is ever returned.

    Notes
    -----
    Feature drifts (the network, :class:`poc.drifts.LinearMeanField`, a
    :class:`poc.drifts.FeatureDrift`) run in a compiled loop, a block of
    steps per Numba call with no Python per step; progress, recording and
    the non-finite check (naming the exact step) are unchanged. Networks
    whose products exceed about 2 million multiply-adds per step
    (``batch * n * d``), and pairwise and NumPy drifts, run step by step
    with BLAS products or their own kernels. Small systems run their Numba
    kernels on one thread (waking a second costs more than the work). Large
    network steps alternate BLAS products with Numba kernels (see
    docs/user_guide/performance.rst and ``benchmarks/bench_sgd_step.py``).
    Results are bit-identical on any number of threads.

    References
    ----------
    Wan, Barsbey, Zaidi, Simsekli (2024), arXiv 2306.08125: noisy SGD as the
    Euler scheme of the particle SDE (Section 3).
    """
    drift = check_drift(drift)
    x = check_x0(x0)
    alpha, sigma, step, n_steps, noise, record_every = check_run(
        alpha, sigma, step, n_steps, noise, record_every)
    progress = check_progress(progress)
    n, d = x.shape
    drift.check_state(n, d)
    if batch_size is not None:
        if not isinstance(drift, MeanFieldNetwork):
            raise ValueError(
                "batch_size is only supported for MeanFieldNetwork drifts, got "
                f"{type(drift).__name__}"
            )
        batch_size = check_int(batch_size, "batch_size", low=1, high=drift.n_data)
    rng = as_generator(seed)
    increments = increment_source(rng, alpha, sigma, step, n, d, noise, n_steps)
    batches = None
    if batch_size is not None:
        batches = batch_source(rng, drift.n_data, batch_size, n, d, n_steps)
    return euler(drift, x, step, n_steps, sigma, increments, record_every=record_every,
                 batch_size=batch_size, batches=batches, progress=progress,
                 stepper=CompiledStepper(batch_size))
