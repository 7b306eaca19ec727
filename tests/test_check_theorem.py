"""Tests of the ``theorem`` check: the step condition, verdicts that can fail, and (slow) the check."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from poc.checks import CHECKS, Context, get_check, run_check
from poc.checks import theorem as C
from poc.probability import fit_quantile_rate

NS = [16, 32, 64, 128]


def test_registered_after_compress():
    names = list(CHECKS)
    assert names.index("theorem") == names.index("compress") + 1
    mod = get_check("theorem")
    assert mod.NAME == "theorem" and mod.TITLE


@pytest.mark.parametrize("alpha", [1.3, 1.5, 1.7, 2.0])
@pytest.mark.parametrize("n", [1, 4, 16, 100, 1024])
@pytest.mark.parametrize("T", [0.5, 1.0, 3.0])
def test_theorem_steps(alpha, n, T):
    k, eta = C.theorem_steps(n, alpha, T)
    assert k == math.ceil(T * n ** (alpha / 2 + 1))
    assert eta == T / k
    assert eta <= n ** (-alpha / 2 - 1)


def test_settings_and_widths():
    quick, full = C.settings(True), C.settings(False)
    assert quick.replicates >= 30 and full.replicates >= 100
    for s in (quick, full):
        for c in C.conditions():
            ns = C.widths(c, s)
            assert len(ns) >= 3
            assert all(C.theorem_steps(n, c.step_alpha, s.T)[0] <= s.max_steps for n in ns)
    # full mode: the widest power of 2 with K_n <= ~1e6 for every condition
    for c in C.conditions():
        n_max = C.widths(c, full)[-1]
        assert C.theorem_steps(2 * n_max, c.step_alpha, full.T)[0] > 1e6


def test_paired_conditions_share_seed_keys():
    by_alpha = {}
    for c in C.conditions():
        if c.role in ("heavy", "fixed"):
            by_alpha.setdefault(c.alpha, set()).add(c.key)
    assert sorted(by_alpha) == list(C.HEAVY_ALPHAS)
    assert all(len(keys) == 1 for keys in by_alpha.values())
    controls = [c for c in C.conditions() if c.role in ("gaussian", "none")]
    assert len({c.key for c in controls} | {k for ks in by_alpha.values() for k in ks}) == 5
    heavy = [c for c in C.conditions() if c.role == "heavy"]
    assert {c.alpha for c in heavy} == set(C.HEAVY_ALPHAS) and len(heavy) == 6


def _results(slope: float, reps: int = 40, seed: int = 0) -> C.Results:
    rng = np.random.default_rng(seed)
    errs = [np.column_stack([min(0.9, 0.8 * (n / 16) ** slope) * rng.uniform(0.5, 1.0, reps)
                             for _ in C.KAPPAS]) for n in NS]
    return C.Results(NS, [10] * len(NS), errs, [np.zeros(reps)] * len(NS))


def test_decay_verdict_passes_a_decrease_and_fails_otherwise():
    for slope, want in ((-0.3, True), (0.0, False), (0.2, False)):
        r = _results(slope)
        passed, text = C.decay_verdict(fit_quantile_rate(NS, r.rows(0)))
        assert passed is want, text
        assert ("below 0: the quantile decreases" in text) is want


def test_probabilities_and_paired_ratio():
    r = _results(-0.5)
    fit = fit_quantile_rate(NS, r.rows(1))
    probs = C.probabilities(r, 1, fit)
    assert set(probs) == {f"{e:g}" for e in C.EPSILONS}
    p = probs["0.5"]["p"]
    want = [np.mean(x <= 0.5) for x in r.rows(1)]
    assert np.allclose(p, want)
    assert np.all(probs["0.5"]["wilson_low"] <= p) and np.all(p <= probs["0.5"]["wilson_high"])
    n_eps, lo, hi = probs["0.2"]["N_epsilon"], *probs["0.2"]["N_epsilon_ci"]
    assert lo <= n_eps <= hi and n_eps > NS[-1]
    ctx = Context(progress=False)
    same = C.paired_ratios(ctx, r, r, 0, 150)
    assert same["ratio"] == [1.0] * len(NS) and same["low"] == same["ratio"]
    assert "no measurable difference" in C.describe_ratio(same)
    half = C.Results(NS, r.n_steps, [2.0 * e for e in r.errors], r.loss)
    pr = C.paired_ratios(ctx, r, half, 0, 150)
    assert np.allclose(pr["ratio"], 0.5)
    assert "smaller 0.9-quantile at every n" in C.describe_ratio(pr)


@pytest.mark.slow
def test_whole_check_small(tmp_path):
    # tiny widths (the check's code path, not its sizes): every condition, cases and files
    s = C.Settings(log2_n=(2, 3, 4), replicates=30, max_steps=1e5)
    ctx = Context(mode="quick", seed=0, out=tmp_path, progress=False)
    cases = C.run_with(ctx, s)
    assert len(cases) == 2 * len(C.HEAVY_ALPHAS) * len(C.KAPPAS)
    for c in cases:
        assert c.measured_rate is not None and len(c.ci) == 2
        assert c.values["n_steps"] == [C.theorem_steps(n, c.values["alpha"], 1.0)[0]
                                       for n in c.values["n"]]
    assert (tmp_path / "theorem.png").stat().st_size > 10_000
    assert any("fixed step" in note for note in ctx.notes) and ctx.tables


@pytest.mark.slow
def test_quick_check_runs(tmp_path):
    ctx = Context(mode="quick", seed=0, out=tmp_path, progress=False)
    result = run_check(get_check("theorem"), ctx)
    assert result["status"] in ("PASS", "FAIL"), result.get("reason")
    saved = json.loads((tmp_path / "theorem.json").read_text())
    assert saved["figures"] == ["theorem.png"]
