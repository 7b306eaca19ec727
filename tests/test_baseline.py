"""`poc validate --baseline DIR`: the comparison rules (poc.baseline) and the exit codes.

The CLI tests run fake checks (modules written to tmp_path, added to poc.checks.CHECKS by a
launcher script, see _fake_checks.py) whose numbers come from environment variables, so
a "kernel edit" is a changed variable.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from _fake_checks import fake_checks_env

from poc.baseline import REL_ROUNDING, compare_result, compare_results, load_baseline
from poc.cli import exit_code


def _case(name="c", passed=True, rate=None, ci=None, **values):
    return {"name": name, "passed": passed, "detail": "text with numbers 1.23",
            "measured_rate": rate, "ci": ci, "expected_rate": None if rate is None else -0.5,
            "values": values}


def _result(*cases, check="x", status=None, seed=0, mode="quick"):
    passed = all(c["passed"] for c in cases)
    return {"check": check, "status": status or ("PASS" if passed else "FAIL"), "passed": passed,
            "seed": seed, "mode": mode, "cases": list(cases), "elapsed_s": 1.0}


# ---------------------------------------------------------------- comparison rules


def test_identical_results_have_no_change():
    r = _result(_case(rate=-0.52, ci=[-0.6, -0.44], z=1.5, arr=[1.0, 2.0, None]))
    assert compare_result(r, json.loads(json.dumps(r))) == []


def test_text_and_timing_are_not_compared():
    a = _result(_case(z=1.0))
    b = json.loads(json.dumps(a))
    b["cases"][0]["detail"] = "other text"
    b["elapsed_s"] = 99.0
    assert compare_result(b, a) == []


def test_timings_and_per_run_records_are_not_compared():
    then = _result(_case(train_seconds=[1.0, 2.0], cpu_seconds=3.0,
                         runs=[{"steps": 551, "acc": 0.9}], mean_acc=0.9))
    now = _result(_case(train_seconds=[5.0, 9.0], cpu_seconds=30.0,
                        runs=[{"steps": 651, "acc": 0.91}], mean_acc=0.9))
    assert compare_result(now, then) == []
    moved = _result(_case(train_seconds=[1.0, 2.0], cpu_seconds=3.0, runs=[], mean_acc=0.91))
    assert [c.what.split()[0] for c in compare_result(moved, then)] == ["mean_acc"]


def test_a_mapping_of_timings_is_not_compared():
    # the mnist check records seconds per protocol: {"adapted": 256.5, "authors'": ...}
    then = _result(_case(settings={"train_seconds_by_protocol": {"adapted": 256.5},
                                   "lr": 0.1}))
    now = _result(_case(settings={"train_seconds_by_protocol": {"adapted": 235.6},
                                  "lr": 0.1}))
    assert compare_result(now, then) == []
    moved = _result(_case(settings={"train_seconds_by_protocol": {"adapted": 256.5},
                                    "lr": 0.2}))
    assert [c.what.split()[0] for c in compare_result(moved, then)] == ["settings.lr"]


def test_expected_rate_compares_to_rounding():
    then = _result(_case(rate=-0.3, ci=[-0.4, -0.2]))
    now = json.loads(json.dumps(then))
    now["cases"][0]["expected_rate"] = -0.5 * (1 + 1e-15)
    assert compare_result(now, then) == []
    now["cases"][0]["expected_rate"] = -0.25
    assert [c.what for c in compare_result(now, then)] == [
        "expected rate moved -0.5 -> -0.25 (more than rounding)"]


def test_verdict_flip_is_a_change_naming_the_case():
    then = _result(_case("ks", passed=True), _case("other", passed=False))
    now = _result(_case("ks", passed=False), _case("other", passed=False))
    assert then["status"] == now["status"] == "FAIL"
    assert [(c.case, c.what) for c in compare_result(now, then)] == [("ks", "verdict pass -> FAIL")]


def test_status_change_is_reported_for_the_check():
    now = _result(_case(passed=False))
    changes = compare_result(now, _result(_case()))
    assert changes[0].case is None and changes[0].what == "status PASS -> FAIL"


def test_rate_within_its_interval_half_width_is_no_change():
    then = _result(_case(rate=-0.50, ci=[-0.56, -0.44]))  # half-width 0.06
    assert compare_result(_result(_case(rate=-0.55, ci=[-0.6, -0.5])), then) == []
    moved = compare_result(_result(_case(rate=-0.58, ci=[-0.62, -0.54])), then)
    assert len(moved) == 1 and "measured rate moved" in moved[0].what
    assert "uncertainty 0.06" in moved[0].what


def test_slope_values_use_their_ci():
    then = _result(_case(floor_slope=-0.30, floor_ci=[-0.35, -0.25]))
    assert compare_result(_result(_case(floor_slope=-0.34, floor_ci=[-0.4, -0.3])), then) == []
    assert compare_result(_result(_case(floor_slope=-0.40, floor_ci=[-0.45, -0.35])), then)


def test_deterministic_numbers_allow_rounding_only():
    then = _result(_case(err=2.0, arr=[1.0, 3.0], nested={"p": 0.5}))
    tiny = 1.0 + 0.1 * REL_ROUNDING
    assert compare_result(_result(_case(err=2.0 * tiny, arr=[1.0, 3.0 * tiny],
                                        nested={"p": 0.5 * tiny})), then) == []
    changes = compare_result(_result(_case(err=2.001, arr=[1.0, 3.0], nested={"p": 0.5})), then)
    assert [c.what for c in changes] == ["err moved 2 -> 2.001 (more than rounding)"]
    changes = compare_result(_result(_case(err=2.0, arr=[1.0, 3.1], nested={"p": 0.6})), then)
    assert sorted(c.what.split()[0] for c in changes) == ["arr[1]", "nested.p"]


def test_zero_valued_errors_tolerate_float_noise():
    then = _result(_case(max_error=0.0))
    assert compare_result(_result(_case(max_error=1e-15)), then) == []
    assert compare_result(_result(_case(max_error=1e-6)), then)


def test_cases_added_removed_and_values_added():
    then = _result(_case("a"), _case("b", z=1.0))
    now = _result(_case("a"), _case("b", z=1.0, extra=2.0), _case("c"))
    whats = {(c.case, c.what) for c in compare_result(now, then)}
    assert whats == {("b", "value extra added"), ("c", "case added")}
    whats = {(c.case, c.what) for c in compare_result(_result(_case("a")), then)}
    assert whats == {("b", "case removed")}


def test_other_seed_or_mode_is_not_comparable():
    changes = compare_result(_result(_case(), seed=1), _result(_case()))
    assert len(changes) == 1 and "not comparable" in changes[0].what
    assert compare_result(_result(_case(), mode="full"), _result(_case()))


def test_missing_baseline_result_is_a_change_and_old_fail_is_not():
    comp = compare_results([_result(_case(passed=False), check="digits"),
                            _result(_case(), check="new")],
                           {"digits": _result(_case(passed=False), check="digits")}, "figures")
    assert comp.changed and [c.check for c in comp.changes] == ["new"]
    assert comp.summary().startswith("CHANGED against the baseline figures: new (1 change:")
    same = compare_results([_result(_case(passed=False), check="digits")],
                           {"digits": _result(_case(passed=False), check="digits")}, "figures")
    assert not same.changed
    assert same.summary() == "no change against the baseline figures (1 check compared)"


def test_skipped_in_both_is_no_change():
    skipped = {"check": "mnist", "status": "SKIPPED", "passed": False, "seed": 0, "mode": "quick",
               "cases": [], "reason": "r"}
    assert compare_result(skipped, dict(skipped)) == []


def test_load_baseline_refuses_bad_directories(tmp_path):
    with pytest.raises(ValueError, match="no such directory"):
        load_baseline(tmp_path / "nope")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="not a directory"):
        load_baseline(tmp_path / "file")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "other.json").write_text('{"unrelated": 1}')
    with pytest.raises(ValueError, match="holds no poc validate results"):
        load_baseline(tmp_path / "empty")
    (tmp_path / "empty" / "x.json").write_text(json.dumps(_result(_case())))
    assert list(load_baseline(tmp_path / "empty")) == ["x"]


def test_exit_code_with_a_baseline():
    assert exit_code(["FAIL", "PASS"], changed=False) == 0  # an old finding is no change
    assert exit_code(["PASS"], changed=True) == 1
    assert exit_code(["SKIPPED", "FAIL"], changed=False) == 3
    assert exit_code(["SKIPPED"], changed=True) == 1
    assert exit_code(["ERROR", "PASS"], changed=True) == 4
    assert exit_code(["FAIL"], changed=None) == 1  # without a baseline: the claims


# ---------------------------------------------------------------- the command line

FAKE = {
    "measure": """
        import os
        NAME, TITLE = "measure", "A check whose number comes from FAKE_VALUE."

        def run(ctx):
            from poc.checks import Case
            v = float(os.environ.get("FAKE_VALUE", "1.0"))
            return [Case("the number", True, f"value {v}", values={"value": v})]
    """,
    "finding": """
        NAME, TITLE = "finding", "A check that always fails (an honest finding)."

        def run(ctx):
            from poc.checks import Case
            return [Case("disagrees with the paper", False, "measured", values={"z": 5.0})]
    """,
}


@pytest.fixture
def env(tmp_path):
    return fake_checks_env(tmp_path, FAKE)


def _poc(*args, env):
    return subprocess.run([sys.executable, env["POC_LAUNCHER"], "validate", *args,
                           "--no-progress"], capture_output=True, text=True, env=env, timeout=300)


def test_cli_baseline_exit_0_unchanged_and_1_with_the_change_named(tmp_path, env):
    base, new = tmp_path / "base", tmp_path / "new"
    first = _poc("measure", "finding", "--out", str(base), env=env)
    assert first.returncode == 1  # the finding, without a baseline
    same = _poc("measure", "finding", "--out", str(new), "--baseline", str(base), env=env)
    assert same.returncode == 0, same.stdout + same.stderr
    last = same.stdout.strip().splitlines()[-1]
    assert "no change against the baseline" in last and last.endswith("(exit code 0)")
    assert "No change: 2 checks compared" in (new / "REPORT.md").read_text()

    env["FAKE_VALUE"] = "1.5"
    moved = _poc("measure", "finding", "--out", str(new), "--baseline", str(base), env=env)
    assert moved.returncode == 1, moved.stdout + moved.stderr
    last = moved.stdout.strip().splitlines()[-1]
    assert "CHANGED against the baseline" in last and "measure (1 change: the number: value " \
        "moved 1 -> 1.5" in last and last.endswith("(exit code 1)")
    report = (new / "REPORT.md").read_text()
    assert "## Changes against the baseline" in report
    assert "| measure | the number | value moved 1 -> 1.5 (more than rounding) |" in report


def test_cli_baseline_may_be_the_out_directory(tmp_path, env):
    out = tmp_path / "figs"
    assert _poc("measure", "--out", str(out), env=env).returncode == 0
    env["FAKE_VALUE"] = "2.0"
    res = _poc("measure", "--out", str(out), "--baseline", str(out), env=env)
    assert res.returncode == 1 and "value moved 1 -> 2" in res.stdout  # read before overwritten


@pytest.mark.parametrize("kind", ["missing", "file", "empty"])
def test_cli_bad_baseline_is_one_line_exit_2(tmp_path, env, kind):
    path = tmp_path / kind
    if kind == "file":
        path.write_text("not a directory")
    elif kind == "empty":
        path.mkdir()
    res = _poc("measure", "--out", str(tmp_path / "out"), "--baseline", str(path), env=env)
    assert res.returncode == 2, res.stderr
    err = res.stderr.strip().splitlines()
    assert len(err) == 1 and str(path) in err[0] and "--baseline" in err[0], res.stderr
    assert "Traceback" not in res.stderr and res.stdout == ""
    assert not (tmp_path / "out" / "measure.json").exists()  # nothing ran
