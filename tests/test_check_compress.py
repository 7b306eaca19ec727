"""The `compress` check: its building blocks on small sizes, and that it can fail."""

from __future__ import annotations

import json
import math
import types

import numpy as np
import pytest

import poc
from poc.checks import CHECKS, get_check, run_check
from poc.checks import compress as cc
from poc.rates import fit_rate

NS = 2 ** np.arange(6, 12)


def _rows(law: str, alpha: float, n: int, rng) -> np.ndarray:
    """n i.i.d. rows in R^8: stable (the limit law's tail) or Gaussian (a light-tailed control)."""
    if law == "stable":
        return poc.sample_stable(alpha, (n, 8), seed=rng)
    return rng.standard_normal((n, 8))


def _errors(law: str, alpha: float, reps: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.array([[cc.measure(_rows(law, alpha, int(n), rng))[0][0] for _ in range(reps)]
                     for n in NS])


def test_registered():
    assert "compress" in CHECKS
    mod = get_check("compress")
    assert mod.NAME == "compress" and mod.TITLE and callable(mod.run)


def test_expected_exponent():
    for alpha, e in [(1.2, -1 / 3), (1.4, -3 / 14), (1.6, -1 / 8), (2.0, 0.0)]:
        assert cc.expected_exponent(alpha) == pytest.approx(e, abs=1e-12)


def test_sigma_makes_the_accumulated_noise_unit_scale():
    s = cc.Settings(log2_n=(6, 7, 8), replicates=2)
    for c in cc.conditions():
        if c.noisy:
            assert c.sigma(s) * s.horizon ** (1 / c.alpha) == pytest.approx(s.noise_scale, rel=1e-12)
        else:
            assert c.sigma(s) == 0.0
    roles = [c.role for c in cc.conditions()]
    assert roles.count("gaussian") == 1 and roles.count("none") == 1
    assert len({c.key for c in cc.conditions()}) == len(roles)  # distinct seed keys


def test_train_is_reproducible_and_noise_free_training_learns():
    s = cc.Settings(log2_n=(6,), replicates=1, n_steps=20)
    net = cc.make_network(s, 0)
    conds = {c.role: c for c in cc.conditions()}
    heavy = cc.conditions()[0]
    w1 = cc.train(net, heavy, 64, s, np.random.default_rng(3))
    w2 = cc.train(net, heavy, 64, s, np.random.default_rng(3))
    assert w1.shape == (64, s.d) and np.array_equal(w1, w2)
    x0 = s.init_scale * np.random.default_rng(4).standard_normal((64, s.d))
    w = cc.train(net, conds["none"], 64, s, np.random.default_rng(4))
    # T = 10 of noise-free SGD removes a third of the initial loss (0.063 -> about 0.03)
    assert net.loss(w) < 0.7 * net.loss(x0)


def test_measure_matches_definitions():
    W = np.random.default_rng(0).standard_normal((40, 3))
    errs, pf = cc.measure(W)
    a2 = np.sort(np.sum(W**2, axis=1))  # ascending squared norms
    for e, kap in zip(errs, cc.KAPPAS, strict=True):
        k = math.ceil(kap * 40)
        assert e == pytest.approx(math.sqrt(a2[: 40 - k].sum() / a2.sum()), rel=1e-12)
    j = int(np.searchsorted(np.cumsum(a2) / a2.sum(), cc.PRUNE_THRESHOLD, side="right"))
    assert pf == j / 40


def test_verdict_passes_on_iid_heavy_tailed_rows():
    # i.i.d. S_1.2 rows: the error decays like n^(1/2 - 1/alpha) = n^(-1/3)
    errs = _errors("stable", 1.2, 12, 1)
    fit = fit_rate(NS, errs)
    v = cc.decay_verdict(fit, 1.2)
    assert v.passed and fit.ci[1] < 0
    # and at the reference rate: the interval (half-width ~0.12 with 12 replicates) widened by
    # 0.05, the pre-asymptotic steepening seen at these widths (mean slope about -0.37 over seeds)
    assert fit.ci[0] - 0.05 <= cc.expected_exponent(1.2) <= fit.ci[1] + 0.05


def test_verdict_fails_on_light_tailed_rows():
    # the check can fail: Gaussian rows have a flat error (about 0.89 at kappa = 0.1)
    errs = _errors("gauss", 2.0, 12, 2)
    fit = fit_rate(NS, errs)
    v = cc.decay_verdict(fit, 2.0)
    assert not v.passed and abs(fit.slope) < 0.01
    flat = np.full((NS.size, 5), 0.5) * np.linspace(0.9, 1.1, 5)
    assert not cc.decay_verdict(fit_rate(NS, flat), 1.5).passed


def test_describe_control():
    rng = np.random.default_rng(0)
    noise = np.exp(0.05 * rng.standard_normal((NS.size, 8)))
    flat = fit_rate(NS, 0.9 * noise)
    down = fit_rate(NS, (NS[:, None] ** -0.2) * noise)
    up = fit_rate(NS, (NS[:, None] ** 0.2) * noise)
    assert "flat" in cc.describe_control(flat, 0.9)
    assert "decreasing" in cc.describe_control(down, 0.1)
    assert "increasing" in cc.describe_control(up, 0.9)


def test_signed_block_sum_recovers_alpha_of_stable_norms():
    # |X| with independent random signs has the law of X for symmetric X, so the
    # block-sum estimate is that of a stable sample
    x = np.abs(poc.sample_stable(1.5, 100_000, seed=5))
    b = cc.signed_block_sum(x, np.random.default_rng(6))
    assert abs(b - 1.5) < 0.15  # block-sum: sd about 0.04 at K = 1e5 (tests/test_compress.py)


def test_miniature_run_writes_results(tmp_path, quick_context):
    s = cc.Settings(log2_n=(4, 5, 6), replicates=3, n_steps=4)
    mod = types.SimpleNamespace(NAME=cc.NAME, TITLE=cc.TITLE, run=lambda ctx: cc.run_with(ctx, s))
    result = run_check(mod, quick_context)
    data = json.loads((tmp_path / "compress.json").read_text())
    assert data["check"] == "compress" and data["figures"] == ["compress.png"]
    assert (tmp_path / "compress.png").stat().st_size > 10_000
    heavy = [c for c in cc.conditions() if c.role == "heavy"]
    # one decay case per (condition, kappa) and one tail-index case per condition
    assert len(data["cases"]) == len(heavy) * (len(cc.KAPPAS) + 1)
    hill_cases = [c for c in data["cases"] if "tail index (Hill)" in c["name"]]
    assert len(hill_cases) == len(heavy) and all(len(c["values"]["hill"]) == 3 for c in hill_cases)
    for c in (c for c in data["cases"] if c not in hill_cases):
        v = c["values"]
        assert len(v["error_mean"]) == 3 and 0 < v["prunable_fraction_at_n_max"] < 1
        assert set(v["control_slopes"]) == {f"{lab}, kappa={k:g}" for lab in
                                            ("Gaussian (alpha = 2)", "no noise") for k in cc.KAPPAS}
    assert any("not judged" in n for n in data["notes"])
    assert result["passed"] == all(c["passed"] for c in data["cases"])


@pytest.mark.slow
def test_quick_mode_passes(tmp_path):
    from poc.cli import main

    assert main(["validate", "compress", "--quick", "--out", str(tmp_path), "--no-progress"]) == 0
    data = json.loads((tmp_path / "compress.json").read_text())
    # 5 heavy-tailed conditions x (2 kappas + 1 tail-index case)
    assert data["passed"] and len(data["cases"]) == 15
