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
    # atomic writes leave no temporaries (hidden ".<name>.*" files beside the results, or
    # beside the work units in the cache directory OUT/.cache)
    assert (out / ".cache").is_dir() and "9 computed" in res.stdout
    assert not [str(p) for p in out.rglob(".*") if p != out / ".cache"]
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


# ---------------------------------------------------------------------------
# poc study


def test_study_end_to_end(tmp_path):
    from pathlib import Path

    model = Path(__file__).resolve().parents[1] / "examples" / "models" / "kuramoto_features.py"
    res = _poc("study", "chaos", str(model), "--alpha", "1.5", "1.8", "--ns", "8,16,32",
               "--replicates", "4", "--T", "0.2", "--step", "0.05", "--expected", "-0.5",
               "--out", str(tmp_path), "--seed", "1", "--no-progress")
    assert res.returncode in (0, 1), res.stdout + res.stderr
    assert "Traceback" not in res.stderr
    data = json.loads((tmp_path / "chaos-kuramoto_features.json").read_text())
    assert data["study"] == "chaos" and data["seed"] == 1 and len(data["cases"]) == 2
    case = data["cases"][0]
    assert case["expected_rate"] == -0.5 and len(case["ci"]) == 2
    assert case["passed"] in (True, False) and case["settings"]["alpha"] == 1.5
    assert res.returncode == (0 if data["passed"] else 1)
    assert (tmp_path / "chaos-kuramoto_features.png").stat().st_size > 20_000
    assert res.stdout.count("Chaos study:") == 2 and "Verdict:" in res.stdout
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_study_euler_uses_model_defaults(tmp_path):
    model = tmp_path / "sde.py"
    model.write_text(
        "import numpy as np\nfrom poc.drifts import LinearMeanField\n"
        "drift = LinearMeanField(1.0, 0.0)\nx0 = np.array([1.0])\n"
        "defaults = {'steps': [0.25, 0.125, 0.0625], 'replicates': 8, 'alpha': 1.8}\n")
    res = _poc("study", "euler", str(model), "--out", str(tmp_path), "--no-progress")
    assert res.returncode == 0, res.stdout + res.stderr
    data = json.loads((tmp_path / "euler-sde.json").read_text())
    assert data["cases"][0]["settings"]["alpha"] == 1.8
    assert len(data["cases"][0]["values"]["x"]) == 3


@pytest.mark.parametrize(
    ("source", "needle"),
    [
        ("import numpy as np\nx0 = np.zeros(1)\n", "does not define `drift`"),
        ("import nosuchmodule_xyz\n", "cannot be imported: ModuleNotFoundError"),
        ("from poc.drifts import LinearMeanField\ndrift = LinearMeanField(1.0, 0.0)\n"
         "def x0(n, rng):\n    return rng.standard_normal((n + 1, 1))\n", "wrong `x0`"),
        ("from poc.drifts import LinearMeanField\ndrift = LinearMeanField(1.0, 0.0)\n",
         "does not define `x0`"),
        ("import numpy as np\nfrom poc.drifts import MeanFieldNetwork\n"
         "drift = MeanFieldNetwork(np.ones((4, 3)), np.ones(4))\nx0 = np.zeros(2)\n",
         "`x0` gives points in R^2, which `drift` does not accept"),
    ],
)
def test_study_bad_model_file(tmp_path, capsys, source, needle):
    model = tmp_path / "bad_model.py"
    model.write_text(source)
    assert main(["study", "chaos", str(model), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err
    assert needle in lines[0] and str(model) in lines[0]
    assert not (tmp_path / "o").exists()


def test_study_missing_model_file(tmp_path):
    res = _poc("study", "euler", str(tmp_path / "nope.py"))
    assert res.returncode == 2 and "nope.py: no such file" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_run_script_is_deprecated_and_still_runs_validate(capsys):
    from poc.cli import EXIT_USAGE, run_script

    with pytest.deprecated_call(match=r"poc.cli.main\(\['validate'"):
        assert run_script("no-such-check", []) == EXIT_USAGE
    assert "no-such-check" in capsys.readouterr().err
