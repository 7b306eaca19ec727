"""Mutation harness for the calibration check (issue 22): one seeded bug per class of error.

Each bug is injected by monkeypatching (no source edit); the calibration cases that concern its
class run with it, and at least one must fail with a name that names the broken instrument.
The classes are those of issue 22's table. This is a floor, not the measure: the measure is a
fresh set of bugs nobody designed the cases for (see docs/user_guide/calibration.rst).

Injection points that are private (the bootstrap's generator, the training's batch stream) are
named once below; if a refactor renames them, repoint the constant (the test then fails loudly,
never passes silently: a fault that is not injected is not caught).
"""

from __future__ import annotations

import importlib
import math

import numpy as np
import pytest
from _injection import patch_at, quick_ctx
from scipy import stats

from poc.checks import calibration as calib

pytestmark = pytest.mark.slow

BOOTSTRAP_GENERATOR = ("poc.rates", "as_generator")  # fit_rate's source of resampling indices
TRAIN_BATCH_STREAM = ("poc.engine", "batch_stream")  # the minibatch stream of train and simulate


# ---------------------------------------------------------------------------
# one bug per class


def bug_scale_marginal(m):
    """Scale error KS cannot see: LinearMeanField.marginal decays as exp(-a t), not exp(-a alpha t)."""
    from poc.drifts import LinearMeanField

    def marginal(self, t, x0, alpha, sigma):
        integral = t if self.a == 0.0 else -math.expm1(-self.a * t) / self.a
        scale = sigma * integral ** (1.0 / alpha)
        return stats.levy_stable(alpha, 0.0, loc=x0 * math.exp((self.c - self.a) * t), scale=scale)

    m.setattr(LinearMeanField, "marginal", marginal)


def bug_scale_sampler(m):
    """Scale error KS cannot see: sample_noise 3 % too wide."""
    import poc.noise

    original = poc.noise.sample_noise
    m.setattr(poc.noise, "sample_noise",
              lambda alpha, n, d, *, kind="iid", scale=1.0, seed=None:
              original(alpha, n, d, kind=kind, scale=1.03 * scale, seed=seed))


def bug_sliced_mean_wp(m):
    """Public option no check used: sliced W_p as the mean of W_p, not (mean W_p^p)^(1/p)."""
    w = importlib.import_module("poc.wasserstein")  # poc.wasserstein is also a function

    def sliced(x, y, p=1, n_projections=100, seed=None, *, projections=None, alpha=None):
        x, y = np.atleast_2d(np.asarray(x, float).T).T, np.atleast_2d(np.asarray(y, float).T).T
        dirs = (w.unit_directions(np.random.default_rng(seed), n_projections, x.shape[1])
                if projections is None else np.asarray(projections, float))
        return float(np.mean([w.wasserstein(x @ t, y @ t, p=p) for t in dirs]))

    m.setattr(w, "sliced_wasserstein", sliced)


class _LeaveOneOut(np.random.Generator):
    """A generator whose integers(0, r) never draw r - 1."""

    def integers(self, low, high=None, size=None, **kw):
        return super().integers(low, high - 1, size=size, **kw)


def bug_bootstrap_leave_one_out(m):
    """Bootstrap bug: fit_rate's resampling never draws the last replicate."""
    patch_at(m, BOOTSTRAP_GENERATOR, lambda seed: _LeaveOneOut(np.random.PCG64(
        np.random.default_rng(seed).integers(2**62))))


def bug_reference_kernel_n(m):
    """Relative verdicts that move together: the reference kernel's W1 scaled by N / n."""
    w = importlib.import_module("poc.wasserstein")

    original = w.SortedReference.sliced_w1

    def sliced_w1(self, x):
        return original(self, x) * self.sorted_proj.shape[1] / np.asarray(x).shape[0]

    m.setattr(w.SortedReference, "sliced_w1", sliced_w1)


def bug_floor_on_particles(m):
    """Derived quantity from the wrong object: the copies are the particles (floor on particles).

    The coupling error is then 0 and chaos_study's fit raises: the case reports the exception
    as a failure named after the instrument.
    """
    import poc.limits as limits

    original = limits.coupled_run

    def coupled_run(*args, **kw):
        run = original(*args, **kw)
        return limits.CoupledRun(system=run.system, copies=run.system)

    m.setattr(limits, "coupled_run", coupled_run)


def bug_batches_from_noise_stream(m):
    """Broken pairing: train's minibatches drawn from the noise stream."""
    patch_at(m, TRAIN_BATCH_STREAM, lambda rng: rng)


def bug_best_k_smallest(m):
    """Selection direction: best_k_approximation keeps the smallest rows."""
    import poc.compress as compress

    def approx(W, kappa):
        W = np.asarray(W, float)
        a = np.linalg.norm(W, axis=1) if W.ndim == 2 else np.abs(W)
        keep = np.argsort(a, kind="stable")[: math.ceil(kappa * a.size - 1e-9)]
        out = np.zeros_like(W)
        out[keep] = W[keep]
        return out

    m.setattr(compress, "best_k_approximation", approx)


# bug -> (injector, calibration case keys to run, text a failing case's name must contain)
BUGS = {
    "scale_marginal": (bug_scale_marginal, ["linear_marginal"], "LinearMeanField.marginal"),
    "scale_sampler": (bug_scale_sampler, ["noise_samplers"], "poc.sample_noise"),
    "sliced_mean_wp": (bug_sliced_mean_wp, ["sliced_closed_form"], "poc.sliced_wasserstein"),
    "bootstrap_leave_one_out": (bug_bootstrap_leave_one_out, ["fit_rate_coverage"], "fit_rate"),
    "reference_kernel_n": (bug_reference_kernel_n, ["reference_kernel_1d", "iid_floor_anchor"],
                           "reference kernel"),
    "floor_on_particles": (bug_floor_on_particles, ["iid_floor_anchor"], "i.i.d. floor"),
    "batches_from_noise_stream": (bug_batches_from_noise_stream, ["pairing"], "paired runs (train"),
    "best_k_smallest": (bug_best_k_smallest, ["prune_rules"], "best_k_approximation"),
}


@pytest.mark.parametrize("bug", list(BUGS))
def test_calibration_catches_the_seeded_bug(bug, tmp_path, monkeypatch):
    inject, keys, names = BUGS[bug]
    clean = calib.run_cases(quick_ctx(tmp_path), keys)
    assert all(c.passed for c in clean), [c.detail for c in clean if not c.passed]
    with monkeypatch.context() as m:
        inject(m)
        faulty = calib.run_cases(quick_ctx(tmp_path), keys)
    failed = [c.name for c in faulty if not c.passed]
    assert any(names in name for name in failed), (bug, failed)
