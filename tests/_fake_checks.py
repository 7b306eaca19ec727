"""Fake checks for `poc` subprocesses: tiny modules written to a temporary folder and added to
``poc.checks.CHECKS`` by a launcher script there, which then runs the command line as
``python -m poc`` does (test_cli_failures.py, test_baseline.py)."""

from __future__ import annotations

import os
import textwrap

LAUNCHER = """
import sys

from poc.checks import CHECKS

CHECKS.update({names!r})
from poc.cli import main

sys.exit(main())
"""


def fake_checks_env(tmp_path, sources: dict[str, str]) -> dict[str, str]:
    """Environment for a `poc` subprocess that knows the fake checks ``sources`` (name: module
    source): its ``POC_LAUNCHER`` runs the command line with them added to ``poc.checks.CHECKS``."""
    mods = tmp_path / "fakemods"
    mods.mkdir()
    for name, src in sources.items():
        (mods / f"fake_{name}.py").write_text(textwrap.dedent(src))
    launcher = mods / "fake_poc.py"
    launcher.write_text(LAUNCHER.format(names={n: f"fake_{n}" for n in sources}))
    env = dict(os.environ)
    env.pop("POC_DEBUG", None)
    env["PYTHONPATH"] = os.pathsep.join([str(mods), *filter(None, [env.get("PYTHONPATH")])])
    env["POC_LAUNCHER"] = str(launcher)
    return env
