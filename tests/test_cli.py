"""End-to-end: the `poc` command, its results files and its error handling."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from poc.cli import main


def _poc(*args):
    return subprocess.run([sys.executable, "-m", "poc", *args], capture_output=True, text=True)


def test_validate_noise_end_to_end(tmp_path):
    out = tmp_path / "figs"
    res = _poc("validate", "noise", "--quick", "--out", str(out), "--seed", "0", "--no-progress")
    assert res.returncode == 0, res.stdout + res.stderr
    data = json.loads((out / "noise.json").read_text())
    assert data["check"] == "noise" and data["mode"] == "quick" and data["seed"] == 0
    assert data["passed"] is True
    assert all(c["passed"] for c in data["cases"]) and len(data["cases"]) >= 10
    assert data["figures"] == ["noise.png"] and (out / "noise.png").stat().st_size > 10_000
    report = (out / "REPORT.md").read_text()
    assert "| [noise](#noise) | PASS |" in report and "![noise](noise.png)" in report
    # atomic writes leave no temporaries (hidden ".<name>.*" files beside the results)
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]
    assert (out / "noise.json").stat().st_mode & 0o044 == 0o044  # readable by all, like any file
    assert "noise" in res.stdout and "PASS" in res.stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["validate", "nosuchcheck"], "unknown check(s) nosuchcheck"),
        (["validate", "--seed", "-1"], "--seed must be a non-negative integer"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(args, needle, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_argparse_errors_exit_2():
    res = _poc("validate", "--quick", "--full")
    assert res.returncode == 2


def test_list():
    res = _poc("list")
    assert res.returncode == 0 and "noise" in res.stdout
