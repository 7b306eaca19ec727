"""compress_study at the theorem's step, its probabilities, and chaos_study uniformly in time."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from _small_studies import small_chaos

import poc
from poc.drifts import LinearMeanField
from poc.studies import theorem_step

DRIFT = LinearMeanField(1.0, 0.5)


def _normal_start(n, rng):
    return rng.standard_normal((n, 2))


def _theorem_study(**kw):
    args = {"alpha": 1.5, "sigma": 1.0, "T": 0.5, "step": "theorem", "ns": [4, 8, 16],
            "replicates": 30, "kappa": (0.25, 0.5), "seed": 2}
    args.update(kw)
    return poc.compress_study(DRIFT, _normal_start, **args)


@pytest.mark.parametrize("alpha", [1.2, 1.5, 2.0])
@pytest.mark.parametrize("T", [0.5, 1.0, 2.5])
def test_theorem_step_is_the_condition(alpha, T):
    for n in (1, 3, 16, 100, 4096):
        k, eta = theorem_step(n, alpha, T)
        assert k == math.ceil(T * n ** (alpha / 2 + 1))
        assert eta == T / k and eta <= n ** (-alpha / 2 - 1)


def test_compress_study_theorem_step_counts_and_probabilities():
    res = _theorem_study()
    ns = [4, 8, 16]
    assert res.data["n_steps"] == [math.ceil(0.5 * n ** 1.75) for n in ns]
    assert res.data["step"] == [0.5 / k for k in res.data["n_steps"]]
    assert all(e <= n ** -1.75 for e, n in zip(res.data["step"], ns, strict=True))
    assert res.settings["step"] == "theorem" and res.data["delta"] == 0.1
    rows = res.data["best_k_error"]["0.25"]
    q = res.data["quantile"]["0.25"]
    assert np.allclose(q["q"], [np.quantile(r, 0.9) for r in rows])
    assert np.all(q["low"] <= q["q"]) and np.all(q["q"] <= q["high"])
    for eps in ("0.5", "0.3", "0.2"):
        pr = res.data["probability"]["0.25"][eps]
        assert np.allclose(pr["p"], [np.mean(r <= float(eps)) for r in rows])
        assert np.all(pr["low"] <= pr["p"]) and np.all(pr["p"] <= pr["high"])
    text = res.summary()
    assert "0.9-quantile" in text and "P(error <= 0.3)" in text and "K_n = " in text
    json.dumps(res.to_dict(), allow_nan=False)
    res.plot()


def test_theorem_step_runs_exactly_k_n_steps(monkeypatch):
    # the simulation is called with eta_n and K_n at each n (recorded through simulate)
    import poc.particles

    calls = []
    real = poc.particles.simulate

    def spy(drift, x0, **kw):
        calls.append((x0.shape[0], kw["step"], kw["n_steps"]))
        return real(drift, x0, **kw)

    monkeypatch.setattr(poc.particles, "simulate", spy)
    _theorem_study(replicates=2, ns=[4, 8, 16])
    assert {(n, s, k) for n, s, k in calls} == {
        (n, *reversed(theorem_step(n, 1.5, 0.5))) for n in (4, 8, 16)}


def test_delta_and_epsilons_change_the_report_not_the_runs():
    a = _theorem_study(replicates=8)
    b = _theorem_study(replicates=8, delta=0.25, epsilons=[0.4])
    for ra, rb in zip(a.data["best_k_error"]["0.5"], b.data["best_k_error"]["0.5"], strict=True):
        assert np.array_equal(ra, rb)
    assert np.allclose(b.data["quantile"]["0.5"]["q"],
                       [np.quantile(r, 0.75) for r in b.data["best_k_error"]["0.5"]])
    assert list(b.data["probability"]["0.5"]) == ["0.4"]


@pytest.mark.parametrize("kw,exc,match", [
    ({"T": None}, ValueError, "step='theorem' needs the horizon T"),
    ({"step": "fast"}, ValueError, "step must be a positive number or 'theorem'"),
    ({"step": [0.1]}, TypeError, "step must be a positive number or 'theorem'"),
    ({"delta": 0.0}, ValueError, "delta must be in"),
    ({"delta": 1.0}, ValueError, "delta must be in"),
    ({"delta": -0.5}, ValueError, "delta must be in"),
    ({"epsilons": [0.3, 0.0]}, ValueError, "epsilons must be in"),
])
def test_theorem_bad_inputs(kw, exc, match):
    with pytest.raises(exc, match=match):
        _theorem_study(replicates=2, **kw)


def test_fixed_step_still_works_and_reports_probabilities():
    res = _theorem_study(step=0.1, replicates=4)
    assert res.data["n_steps"] == [5, 5, 5] and res.data["step"] == [0.1] * 3
    assert "quantile" in res.data and res.settings["step"] == 0.1


# ---------------------------------------------------------------------------
# chaos uniformly in time


def _chaos(**kw):
    return small_chaos(_normal_start, **kw)


def test_sup_time_is_at_least_the_error_at_T_and_changes_nothing_else():
    plain = _chaos()
    sup = _chaos(sup_time=True)
    for a, b, s in zip(plain.data["coupling_error"], sup.data["coupling_error"],
                       sup.data["sup_coupling_error"], strict=True):
        assert np.array_equal(a, b)  # recording every step draws no random numbers
        assert np.all(s >= b)
    assert sup.curve("sup_coupling_error").fit.ci[0] <= sup.curve("sup_coupling_error").fit.slope
    assert len(sup.series) == 4 and len(plain.series) == 3
    assert "Uniformly in time" in sup.summary()


def test_sup_time_equals_the_error_at_T_on_a_one_step_grid():
    res = _chaos(T=0.05, step=0.05, sup_time=True)
    for b, s in zip(res.data["coupling_error"], res.data["sup_coupling_error"], strict=True):
        assert np.array_equal(b, s)


# ---------------------------------------------------------------------------
# poc study compress --step theorem


def test_study_command_theorem_step(tmp_path):
    model = Path(__file__).resolve().parents[1] / "examples" / "models" / "kuramoto_features.py"
    res = subprocess.run(
        [sys.executable, "-m", "poc", "study", "compress", str(model), "--T", "0.5", "--step",
         "theorem", "--ns", "4,8,16", "--replicates", "4", "--out", str(tmp_path),
         "--no-progress"], capture_output=True, text=True, timeout=600)
    assert res.returncode in (0, 1), res.stdout + res.stderr
    data = json.loads((tmp_path / "compress-kuramoto_features.json").read_text())
    case = data["cases"][0]
    assert case["settings"]["step"] == "theorem"
    assert case["values"]["n_steps"] == [theorem_step(n, 1.5, 0.5)[0] for n in (4, 8, 16)]
    assert "K_n = " in res.stdout
    bad = subprocess.run([sys.executable, "-m", "poc", "study", "compress", str(model), "--step",
                          "often", "--out", str(tmp_path)], capture_output=True, text=True,
                         timeout=600)
    assert bad.returncode == 2 and "'theorem'" in bad.stderr
