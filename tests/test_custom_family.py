"""The docs' example drift family (examples/models/median_attraction.py, included verbatim by
docs/user_guide/custom_family.rst): a Drift subclass that uses only the public protocol runs
through simulate, the McKean-Vlasov references and the `poc study` model loader."""

from pathlib import Path

import numpy as np
import pytest

import poc
from poc.limits import coupled_run, nonlinear_copies, reference_cloud
from poc.studies.model_file import load_model

MODEL = Path(__file__).resolve().parents[1] / "examples" / "models" / "median_attraction.py"


@pytest.fixture(scope="module")
def model():
    return load_model(MODEL)


def test_example_family_evaluates_its_formula(model):
    drift = model.drift
    x = np.random.default_rng(0).standard_normal((9, 2))
    expected = -drift.a * x + drift.kappa * (np.median(x, axis=0) - x)
    np.testing.assert_allclose(drift(x), expected, rtol=1e-15, atol=1e-15)
    np.testing.assert_array_equal(drift.against(x, x), drift(x))
    cloud = x[:4] + 3.0
    np.testing.assert_allclose(drift.against(x, cloud),
                               -drift.a * x + drift.kappa * (np.median(cloud, axis=0) - x),
                               rtol=1e-15, atol=1e-15)


def test_example_family_simulates_the_euler_recurrence(model):
    drift = model.drift
    x0 = model.x0(50, np.random.default_rng(1))
    step, k = 0.05, 7
    x = x0.copy()
    for _ in range(k):
        x = x + step * drift(x)
    got = poc.simulate(drift, x0, alpha=1.5, sigma=0.0, step=step, n_steps=k, seed=0).final
    np.testing.assert_allclose(got, x, rtol=1e-14, atol=1e-14)


def test_example_family_copies_of_its_own_reference_follow_it(model):
    # copies started where the reference cloud starts, on its noise, read at every step a
    # cloud equal to their own: they reproduce the reference bit for bit
    drift = model.drift
    x0 = model.x0(40, np.random.default_rng(2))
    kw = dict(alpha=1.5, sigma=0.5, step=0.02, n_steps=10)
    ref = reference_cloud(drift, x0, seed=3, **kw)
    assert ref.clouds.shape == (11, 40, 1) and ref.features is None
    np.testing.assert_array_equal(nonlinear_copies(drift, x0, ref, seed=3).final,
                                  ref.trajectory.final)
    run = coupled_run(drift, x0[:10], ref, seed=4)
    np.testing.assert_array_equal(
        run.system.final, poc.simulate(drift, x0[:10], seed=4, **kw, noise="iid").final)
    assert 0.0 < run.coupling_error() < 1.0
