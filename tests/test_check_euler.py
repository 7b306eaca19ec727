"""Tests of the ``euler`` check: building blocks, verdicts that can fail, and (slow) the whole check."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from poc.checks import CHECKS, Context, get_check, run_check
from poc.checks import euler as C
from poc.euler import fit_paired_rate, strong_error
from poc.rates import fit_rate

STEPS = np.array([2.0**-k for k in range(3, 8)])


def _paired(slope: float, reps: int = 30, seed: int = 0):
    """Coupled replicate data following eta^slope, with replicate-level heavy-tailed factors."""
    rng = np.random.default_rng(seed)
    level = np.exp(rng.standard_normal(reps))
    y = level[None, :] * STEPS[:, None] ** slope * np.exp(0.05 * rng.standard_normal((STEPS.size, reps)))
    return fit_paired_rate(STEPS, y)


def _over_n(slope: float, ns=(4, 8, 16, 32), reps: int = 10, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = np.array(ns, float)
    y = x[:, None] ** slope * np.exp(0.2 * rng.standard_normal((x.size, reps)))
    return fit_rate(x, y)


def test_registered_after_noise_or_chaos():
    names = list(CHECKS)
    assert "euler" in names
    before = "chaos" if "chaos" in names else "noise"
    assert names.index("euler") == names.index(before) + 1
    mod = get_check("euler")
    assert mod.NAME == "euler" and mod.TITLE


@pytest.mark.parametrize("alpha", [1.3, 1.5, 1.8, 2.0])
@pytest.mark.parametrize("n", [1, 4, 16, 32, 100])
def test_condition_step(alpha, n):
    eta = C.condition_step(n, alpha)
    bound = n ** (-alpha / 2 - 1)
    count = 1.0 / eta
    assert count == pytest.approx(round(count), abs=1e-9)  # divides T = 1
    assert eta <= bound * (1 + 1e-12)  # on the paper's condition
    assert round(count) == 1 or 1.0 / (round(count) - 1) > bound  # and the largest such step


def test_sizes():
    for quick in (True, False):
        sz = C.sizes(quick)
        steps = np.array(sz["steps"])
        assert np.all(np.diff(steps) < 0)
        assert steps[-1] / sz["ref"] >= 8
        assert sz["fixed_step"] / sz["fixed_ref"] >= 8
        assert sz["sde_reps"] >= 1000 and sz["net_reps"] >= 10


def test_sine_drift_and_single_sde_order():
    drift = C.sine_drift()
    x = np.array([[0.3], [-2.0], [5.0]])
    np.testing.assert_allclose(drift(x), np.sin(x) - x, rtol=1e-15)
    # it has no interaction, so the replicates may be stacked; Euler order ~1 >= 1/alpha
    res = strong_error(drift, [[1.0]], alpha=1.5, sigma=1.0, T=1.0, steps=STEPS[:4], reference_step=2**-9,
                       n_replicates=1000, interacting=False, seed=0)
    case = C.step_order_case("sde", res.fit(n_boot=500), 1.5)
    assert case.passed, case.detail
    assert case.values["better_than_bound"]  # ~1, clearly above 2/3 with 1000 replicates


def test_sine_drift_has_the_same_cache_key_in_every_process():
    """Numba functions pickle with a per-process id; the sine drift pickles by name instead, so
    a rerun finds the cached units of part (a)."""
    import poc
    from poc.cache import fingerprint

    code = ("from poc.cache import fingerprint; from poc.checks.euler import sine_drift; "
            "print(fingerprint(sine_drift()).hex())")
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(poc.__file__)))
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                           timeout=300, check=True).stdout.strip()
    assert other == fingerprint(C.sine_drift()).hex()


def test_network_building_block_small():
    ctx = Context(mode="quick", seed=0)
    net = C._network(ctx)
    assert net.n_data == C.N_DATA and net.dim == C.DIM
    ns, errs, etas = C._n_sweep(ctx, net, 1.5, [2, 4], 3, (0,),
                                lambda n: C.condition_step(n, 1.5), batch=C.BATCH)
    assert ns == [2, 4] and errs.shape == (2, 3) and np.all(errs > 0)
    assert etas == [C.condition_step(2, 1.5), C.condition_step(4, 1.5)]
    # every block of replicates is a pure function of its seed words: the same key gives the
    # same numbers, another key other numbers
    again = C._n_sweep(ctx, net, 1.5, [2, 4], 3, (0,), lambda n: C.condition_step(n, 1.5),
                       batch=C.BATCH)[1]
    np.testing.assert_array_equal(errs, again)
    other = C._n_sweep(ctx, net, 1.5, [2, 4], 3, (1,), lambda n: C.condition_step(n, 1.5),
                       batch=C.BATCH)[1]
    assert not np.array_equal(errs, other)


# ---------------------------------------------------------------------------
# verdicts: each must pass on data that satisfy the claim and fail on data that violate it


@pytest.mark.parametrize("alpha", [1.3, 1.5, 1.8])
def test_step_order_verdict(alpha):
    good = C.step_order_case("x", _paired(1.0), alpha)
    assert good.passed and good.values["better_than_bound"]
    assert "better than the bound" in good.detail
    slow = C.step_order_case("x", _paired(0.5 / alpha), alpha)  # half the bound's order
    assert not slow.passed
    assert "below the lower bound" in slow.detail


def test_step_order_verdict_at_the_bound_uses_the_tolerance():
    # slope exactly at 1/alpha: passes (lower end within TOL), but is not "better than the bound"
    case = C.step_order_case("x", _paired(1 / 1.5, reps=200), 1.5)
    assert case.passed and not case.values["better_than_bound"]


def test_sgd_step_verdict():
    half = C.sgd_step_case("x", _paired(0.5), 1.5)
    assert half.passed
    assert half.values["slower_than_reading"] and "slower in eta" in half.detail
    plateau = C.sgd_step_case("x", _paired(0.05), 1.5)  # SGD error not vanishing with the step
    assert not plateau.passed and "does NOT vanish" in plateau.detail
    fast = C.sgd_step_case("x", _paired(1.0), 1.5)
    assert fast.passed and not fast.values["slower_than_reading"]


def test_sgd_n_verdict():
    assert C.sgd_n_case("x", _over_n(-0.9), 1.5).passed
    flat = C.sgd_n_case("x", _over_n(-0.2), 1.5)  # slower than n^(-1/2)
    assert not flat.passed and "shallower than the bound" in flat.detail
    growing = C.sgd_n_case("x", _over_n(0.3), 1.5)
    assert not growing.passed


def test_tolerance_justification():
    # TOL covers the slope bias of a reference 8x finer than the smallest of 5 halving steps:
    # sum_j w_j log(1 + 2^-(3 + j)) over the OLS weights of the 3 smallest steps
    lx = np.log(STEPS)
    w = (lx - lx.mean()) / np.sum((lx - lx.mean()) ** 2)
    bias = sum(abs(w[-1 - j]) * math.log1p(2.0 ** -(3 + j)) for j in range(3))
    assert bias <= C.TOL


@pytest.mark.slow
def test_whole_check_quick(tmp_path, quick_context):
    result = run_check(get_check("euler"), quick_context)
    assert result["passed"], [c["detail"] for c in result["cases"] if not c["passed"]]
    saved = json.loads((tmp_path / "euler.json").read_text())
    assert saved["figures"] == ["euler.png"] and (tmp_path / "euler.png").stat().st_size > 10_000
    names = [c["name"] for c in saved["cases"]]
    assert sum(n.startswith("(a)") for n in names) == 4
    assert sum(n.startswith("(c2)") for n in names) == 3
    assert sum(n.startswith("(d)") for n in names) == 2
    for c in saved["cases"]:
        assert c["measured_rate"] is not None and len(c["ci"]) == 2
    assert any("better than the bound" in note.lower() for note in saved["notes"])


# ---------------------------------------------------------------------------
# (d) the (n, eta) grid


def _grid_errors(a: float, b: float, ns=(4, 8, 16, 32), reps: int = 12, seed: int = 0):
    """Replicates on a grid whose mean follows eta^a n^b, paired across eta (one factor each)."""
    rng = np.random.default_rng(seed)
    steps = [2.0**-k for k in range(2, 6)]
    errs = []
    for n in ns:
        level = np.exp(0.3 * rng.standard_normal(reps))
        errs.append(np.array(steps)[:, None] ** a * float(n) ** b * level[None, :]
                    * np.exp(0.02 * rng.standard_normal((len(steps), reps))))
    return list(ns), steps, errs


def test_sizes_grid():
    for quick in (True, False):
        sz = C.sizes(quick)
        assert len(sz["grid_n"]) >= 4 and len(sz["grid_steps"]) >= 4
        assert sz["grid_steps"][-1] / sz["grid_ref"] >= 8


def test_fit_n_eta_recovers_an_exact_plane():
    steps = [2.0**-k for k in range(2, 6)]
    ns = [4, 8, 16, 32]
    errs = [0.3 * np.array(steps)[:, None] ** 0.9 * float(n) ** -0.2 * np.ones((4, 5)) for n in ns]
    gf = C.fit_n_eta(ns, steps, errs, 1.5)
    assert (gf.a, gf.b, gf.c) == pytest.approx((0.9, -0.2, math.log(0.3)), abs=1e-10)
    assert gf.rms["free"] < 1e-10 < gf.rms["order 1"]


@pytest.mark.parametrize("alpha", [1.3, 1.7])
def test_grid_verdict_passes_order_one_and_the_reading(alpha):
    for a, b, better in ((1.0, 0.0, "order 1"), (1 / alpha, 1 / alpha, "reading")):
        gf = C.fit_n_eta(*_grid_errors(a, b), alpha)
        case = C.grid_case("d", gf, alpha)
        assert case.passed, case.detail
        assert case.values["better_form"] == better
        assert case.values["inside_intervals"][better]


@pytest.mark.parametrize("a,b", [(0.4, 0.0), (1.0, 1.0)])
def test_grid_verdict_fails_when_the_error_grows_faster_than_the_reading(a, b):
    # order 0.4 in eta (below 1/1.5 - 0.05) or growth like n^1 (above 1/1.5 + 0.05)
    gf = C.fit_n_eta(*_grid_errors(a, b), 1.5)
    case = C.grid_case("d", gf, 1.5)
    assert not case.passed
    assert "NOT met" in case.detail
