"""How `poc validate` ends when something goes wrong: exit codes, one-line messages, REPORT.md.

Crashing, extra-lacking and slow checks are tiny modules written to tmp_path and
added to ``poc.checks.CHECKS`` by a launcher script there, which then runs the
command line as ``python -m poc`` does; so these tests take seconds (test_cli.py
runs a real check end to end).
"""

from __future__ import annotations

import json
import os
import pkgutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from _fake_checks import fake_checks_env

import poc
from poc.cli import exit_code, summary_sentence
from poc.report import write_report

FAKE_CHECKS = {
    "tick": """
        NAME, TITLE = "tick", "A check that passes at once."

        def run(ctx):
            from poc.checks import Case
            return [Case("always", True, "passes")]
    """,
    "boom": """
        NAME, TITLE = "boom", "A check that crashes."

        def run(ctx):
            raise RuntimeError("injected crash\\nsecond line of the message")
    """,
    "needs_extra": """
        NAME, TITLE = "needs_extra", "A check whose optional extra is missing."

        def run(ctx):
            from poc._validation import MissingExtraError
            raise MissingExtraError("the fake data", "fakepkg", "fake")
    """,
    "sleepy": """
        import os, time
        NAME, TITLE = "sleepy", "A check that waits (for the interrupt test)."

        def run(ctx):
            from poc.checks import Case
            for _ in ctx.bar(range(int(os.environ.get("FAKE_SLEEP_STEPS", "0"))), desc="sleepy"):
                time.sleep(0.1)
            return [Case("slept", True, "woke up")]
    """,
    "tock": """
        NAME, TITLE = "tock", "A check that passes at once, run last."

        def run(ctx):
            from poc.checks import Case
            return [Case("always", True, "passes")]
    """,
}


@pytest.fixture
def fake_env(tmp_path):
    """Environment for a `poc` subprocess that knows the fake checks (see _fake_checks)."""
    return fake_checks_env(tmp_path, FAKE_CHECKS)


def _argv(env) -> list[str]:
    """``python -m poc``, or the fake checks' launcher when ``env`` names one."""
    if env is not None and "POC_LAUNCHER" in env:
        return [sys.executable, env["POC_LAUNCHER"]]
    return [sys.executable, "-m", "poc"]


def _poc(*args, env=None):
    return subprocess.run([*_argv(env), *args], capture_output=True, text=True, env=env,
                          timeout=300)


def _no_traceback(res):
    assert "Traceback" not in res.stderr and "Traceback" not in res.stdout, res.stderr


# ---------------------------------------------------------------- --out problems: exit 2


def _assert_out_error(res, path, reason):
    _no_traceback(res)
    assert res.returncode == 2, res.stderr
    err = res.stderr.strip().splitlines()
    assert len(err) == 1, res.stderr
    assert str(path) in err[0] and reason in err[0], err[0]
    assert "started" not in res.stderr and res.stdout == ""  # nothing ran


def test_out_naming_an_existing_file(tmp_path):
    f = tmp_path / "results.txt"
    f.write_text("not a folder")
    res = _poc("validate", "noise", "--out", str(f))
    _assert_out_error(res, f, "exists and is not a directory")
    assert f.read_text() == "not a folder"


def test_out_under_a_file(tmp_path):
    f = tmp_path / "results.txt"
    f.write_text("not a folder")
    res = _poc("validate", "noise", "--out", str(f / "sub"))
    _assert_out_error(res, f / "sub", "cannot create the directory")


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs a Linux /proc")
def test_out_where_nobody_may_write():
    # Even root cannot create directories in /proc, so this holds in containers too.
    res = _poc("validate", "noise", "--out", "/proc/poc-results")
    _assert_out_error(res, "/proc/poc-results", "cannot create the directory")


# ---------------------------------------------------------------- skipped, crashed


def test_missing_extra_skips_only_that_check(tmp_path, fake_env):
    out = tmp_path / "out"
    res = _poc("validate", "tick", "needs_extra", "tock", "--out", str(out), "--no-progress",
               env=fake_env)
    _no_traceback(res)
    assert res.returncode == 3, res.stdout + res.stderr
    for name in ("tick", "tock"):
        assert json.loads((out / f"{name}.json").read_text())["status"] == "PASS"
    skipped = json.loads((out / "needs_extra.json").read_text())
    assert skipped["status"] == "SKIPPED" and skipped["passed"] is False
    assert skipped["install"] == 'pip install "heavytail-poc[fake]"'
    report = (out / "REPORT.md").read_text()
    assert "| [needs_extra](#needs_extra) | SKIPPED |" in report
    assert 'pip install "heavytail-poc[fake]"' in report
    last = res.stdout.strip().splitlines()[-1]
    assert last.startswith("2 of 3 checks pass; needs_extra SKIPPED") and last.endswith("(exit code 3)")
    assert 'pip install "heavytail-poc[fake]"' in last


def test_crash_is_an_error_and_the_others_still_run(tmp_path, fake_env):
    # progress stays on: with stderr a pipe it must be plain lines, no escape codes,
    # and a heartbeat once a check has run for 10 s (sleepy takes 11 s here)
    out = tmp_path / "out"
    res = _poc("validate", "boom", "sleepy", "tock", "--out", str(out),
               env=dict(fake_env, FAKE_SLEEP_STEPS="110"))
    _no_traceback(res)
    assert res.returncode == 4, res.stdout + res.stderr
    assert "\x1b" not in res.stderr and "\r" not in res.stderr
    err = res.stderr.splitlines()
    assert "poc: [1/3] boom: started" in err and "poc: [2/3] sleepy: started" in err
    assert any(line.startswith("poc: [1/3] boom: ERROR: RuntimeError: injected crash (traceback in")
               for line in err), res.stderr
    assert any(line.startswith("  sleepy: ") and "/110 (" in line for line in err), res.stderr
    assert any(line.startswith("poc: [3/3] tock: PASS") for line in err), res.stderr
    crashed = json.loads((out / "boom.json").read_text())
    assert crashed["status"] == "ERROR" and crashed["reason"] == "RuntimeError: injected crash"
    log = (out / crashed["log"]).read_text()
    assert "Traceback" in log and "injected crash" in log
    for name in ("sleepy", "tock"):
        assert json.loads((out / f"{name}.json").read_text())["status"] == "PASS"
    assert "| [boom](#boom) | **ERROR** |" in (out / "REPORT.md").read_text()
    last = res.stdout.strip().splitlines()[-1]
    assert last.startswith("2 of 3 checks pass; boom ERROR") and last.endswith("(exit code 4)")


# ---------------------------------------------------------------- interrupt


def test_sigint_leaves_a_report_marking_unfinished_checks(tmp_path, fake_env):
    out = tmp_path / "out"
    res = _poc("validate", "tick", "sleepy", "tock", "--out", str(out), "--seed", "1",
               env=fake_env)
    assert res.returncode == 0, res.stdout + res.stderr
    env = dict(fake_env, FAKE_SLEEP_STEPS="600")  # 60 s unless interrupted
    proc = subprocess.Popen([*_argv(env), "validate", "tick", "sleepy", "tock",
                             "--out", str(out), "--seed", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        lines = []
        for line in proc.stderr:
            lines.append(line)
            if "sleepy: started" in line:
                break
        proc.send_signal(signal.SIGINT)
        _, rest = proc.communicate(timeout=60)
    finally:
        proc.kill()
    stderr = "".join(lines) + rest
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert "interrupted during sleepy; not finished: sleepy, tock" in stderr
    assert json.loads((out / "tick.json").read_text())["seed"] == 2
    report = (out / "REPORT.md").read_text()
    assert "**Interrupted run**" in report and "did not finish: sleepy, tock" in report
    rows = {line.split("|")[1].strip(): line for line in report.splitlines()
            if line.startswith("| [")}
    assert "different run" not in rows["[tick](#tick)"]
    for name in ("sleepy", "tock"):  # left from the seed-1 run, and marked as such
        assert "| 1 |" in rows[f"[{name}](#{name})"]
        assert "**different run**: seed 1, not 2" in rows[f"[{name}](#{name})"]


# ---------------------------------------------------------------- pieces


def test_exit_code_precedence():
    assert exit_code([]) == 0
    assert exit_code(["PASS", "PASS"]) == 0
    assert exit_code(["PASS", "SKIPPED"]) == 3
    assert exit_code(["SKIPPED", "FAIL"]) == 1
    assert exit_code(["FAIL", "ERROR", "SKIPPED"]) == 4


def test_summary_sentence_for_a_failure():
    results = [{"check": n, "status": "PASS"} for n in ("noise", "chaos", "euler", "compress")]
    results.append({"check": "pruning", "status": "FAIL"})
    assert summary_sentence(results, Path("REPORT.md")) == (
        "4 of 5 checks pass; pruning FAILS: a measured disagreement with the paper's claim, "
        "see REPORT.md#pruning (exit code 1)")


def test_report_without_a_run_marks_the_odd_seed(tmp_path):
    for name, seed in (("a", 0), ("b", 0), ("c", 3)):
        (tmp_path / f"{name}.json").write_text(json.dumps(
            {"check": name, "mode": "quick", "seed": seed, "passed": True, "cases": []}))
    rows = [line for line in write_report(tmp_path).read_text().splitlines() if line.startswith("| [")]
    assert ["different run" in row for row in rows] == [False, False, True]
    assert "seed 3, not 0" in rows[2]


def test_plain_progress_has_no_escape_codes():
    import io

    from poc._progress import PlainProgress

    buf = io.StringIO()
    for _ in PlainProgress(range(4), desc="steps", file=buf, interval=0.0):
        pass
    text = buf.getvalue()
    assert text.splitlines()[-1].startswith("  steps: 4/4 (100%)")
    assert "\x1b" not in text and "\r" not in text


def test_simulate_progress_off_a_terminal_prints_plain_lines():
    code = ("import numpy as np, poc\n"
            "net = poc.drifts.MeanFieldNetwork(np.eye(3), np.ones(3), 'tanh')\n"
            "for p in (None, True):\n"
            "    poc.simulate(net, np.zeros((5, 3)), alpha=1.5, sigma=0.1, step=0.1, n_steps=20,"
            " seed=0, progress=p)\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert "\x1b" not in res.stderr and "\r" not in res.stderr


def test_every_public_submodule_is_an_attribute():
    names = [m.name for m in pkgutil.iter_modules(poc.__path__) if not m.name.startswith("_")]
    assert {"compress", "data", "training", "limits", "drifts", "rates", "checks"} <= set(names)
    missing = [n for n in names if not hasattr(poc, n)]
    assert not missing, missing


def test_lazy_submodules_load_on_first_use():
    code = ("import sys, poc\n"
            "assert 'poc.compress' not in sys.modules and 'matplotlib' not in sys.modules\n"
            "assert poc.compress.__name__ == 'poc.compress' and 'compress' in dir(poc)\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
