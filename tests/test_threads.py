"""`import poc` picks Numba's workqueue layer (idle workers sleep) unless the user chose one."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

_CODE = ("import poc, numba\n"
         "poc.sample_stable(1.5, 100_000, seed=0)  # starts Numba's threads\n"
         "print(numba.threading_layer())\n")


@pytest.mark.parametrize(("chosen", "expected"), [(None, "workqueue"), ("omp", "omp")])
def test_threading_layer(chosen, expected):
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_THREADING_LAYER"}
    if chosen:
        env["NUMBA_THREADING_LAYER"] = chosen
    res = subprocess.run([sys.executable, "-c", _CODE], capture_output=True, text=True, env=env,
                         timeout=300)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == expected


def test_layer_left_alone_once_numba_threads_run():
    code = ("import numba, numpy as np\n"
            "numba.config.THREADING_LAYER = 'omp'\n"
            "f = numba.njit(parallel=True)(lambda a: a.sum())\n"
            "f(np.ones(10))\n"
            "import poc\n"
            "from poc._threads import prefer_quiet_layer\n"
            "print(prefer_quiet_layer(), numba.threading_layer())\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["omp", "omp"]
