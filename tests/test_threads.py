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


def test_split_products_do_not_depend_on_the_pool_size(monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np

    import poc._threads as t

    rng = np.random.default_rng(0)
    X, T = rng.standard_normal((500, 64)), rng.standard_normal((2000, 64))

    def products():
        H, G, S = np.empty((500, 2000)), np.empty((2000, 64)), np.empty((2000, 64))
        with t.split_blas():
            t.dot(X, T.T, H)  # shapes of the two products of a network step
            t.dot_tn(H, X, G)
            t.dot_tn(H, H[:, :64], S)  # a Gram block: its first 64 rows are symmetric
        return H, G, S

    results = []
    for workers in (1, 3):
        with ThreadPoolExecutor(max_workers=workers) as pool:
            monkeypatch.setattr(t, "_pool", pool)
            results.append(products())
    (H1, G1, S1), (H3, G3, S3) = results
    assert np.array_equal(H1, H3) and np.array_equal(G1, G3) and np.array_equal(S1, S3)
    # independent: NumPy's product of the whole matrices (another order of summation)
    np.testing.assert_allclose(H1, X @ T.T, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(G1, H1.T @ X, rtol=1e-12, atol=1e-12)
    # identity: H^T H[:, :64] is symmetric in its first 64 rows (500 terms of size ~1: atol 1e-10)
    np.testing.assert_allclose(S1[:64], S1[:64].T, rtol=0, atol=1e-10)


def test_overlapping_serial_blas_blocks_restore_the_original_limit():
    # threads of map_concurrently enter and leave in any order: the limit holds while any block
    # is open and the original comes back when the last one leaves (not a stale "1")
    from threadpoolctl import threadpool_info

    from poc._threads import serial_blas

    def blas_threads():
        return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]

    before = blas_threads()
    assert before, "numpy's BLAS is not visible to threadpoolctl"
    a, b = serial_blas(), serial_blas()
    a.__enter__()
    b.__enter__()
    assert all(n == 1 for n in blas_threads())
    a.__exit__(None, None, None)  # the first to enter leaves first
    assert all(n == 1 for n in blas_threads())
    b.__exit__(None, None, None)
    assert blas_threads() == before
