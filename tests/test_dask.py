"""Work units on a Dask LocalCluster (2 single-threaded worker processes on 127.0.0.1):
the same numbers as serially, after a lost worker too, and clusters that are shut down."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import threading
import time
import warnings

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")

import poc  # noqa: E402
from poc._cluster import scheduler_client  # noqa: E402
from poc.checks import Context, chaos, run_check  # noqa: E402
from poc.checks.chaos import GaussianStart  # noqa: E402
from poc.data import teacher_student  # noqa: E402
from poc.drifts import MeanFieldNetwork  # noqa: E402
from poc.studies import StudyWarning, chaos_study  # noqa: E402
from poc.units import Unit, UnitError, run_units, watch_units  # noqa: E402


def _listening_ports(pid: int) -> list[str]:
    """Local addresses ``ip:port`` on which process ``pid`` listens (Linux /proc)."""
    out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True).stdout
    return [line.split()[3] for line in out.splitlines() if f"pid={pid}," in line]


@pytest.fixture(scope="module")
def client():
    with scheduler_client("local:2") as c:
        yield c
    # closed on exit: the workers are gone
    assert c.status == "closed"


def _net():
    data = teacher_student(10, 3, seed=0)
    return MeanFieldNetwork(data.X_train, data.y_train, "tanh")


STUDY = dict(alpha=1.5, sigma=0.7, T=0.2, step=0.02, ns=[16, 32, 64, 128], replicates=8,
             seed=3, progress=False)


def _study(**kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StudyWarning)
        return chaos_study(_net(), GaussianStart(3), **STUDY, **kw)


def _same_study(a, b):
    for key in ("coupling_error", "w1_particles", "w1_iid_floor"):
        assert all(np.array_equal(x, y) for x, y in zip(a.data[key], b.data[key], strict=True))
    assert a.data["reference_ratio"] == b.data["reference_ratio"]
    assert (a.fit.slope, a.fit.ci) == (b.fit.slope, b.fit.ci)


def test_cluster_is_two_processes_on_loopback(client):
    pids = client.run(os.getpid)
    assert len(pids) == 2 and os.getpid() not in pids.values()
    assert all(a.startswith("tcp://127.0.0.1:") for a in pids)
    assert client.scheduler.address.startswith("tcp://127.0.0.1:")
    for pid in [*pids.values(), os.getpid()]:  # the scheduler runs in this process
        assert all(p.startswith(("127.0.0.1:", "[::1]:")) for p in _listening_ports(pid))
    assert {w["nthreads"] for w in client.scheduler_info()["workers"].values()} == {1}


def test_chaos_study_same_numbers_serial_and_cluster(client):
    _same_study(_study(), _study(client=client))


def test_cluster_results_fill_and_read_the_cache(client, tmp_path):
    from poc.cache import UnitCache

    serial = _study()
    cache = UnitCache(tmp_path)
    _same_study(_study(client=client, cache=cache), serial)
    assert cache.hits == 0 and cache.computed > 0
    warm = UnitCache(tmp_path)
    _same_study(_study(client=client, cache=warm), serial)  # nothing submitted
    assert (warm.hits, warm.computed) == (cache.computed, 0)


def _fails_on_three(cfg, ss, shared):
    if cfg == 3:
        raise ArithmeticError("three is not allowed")
    return cfg


def test_unit_error_on_a_worker_names_the_unit(client):
    units = [Unit.make(0, 1, (k,), k) for k in range(6)]
    with pytest.raises(UnitError, match=r"key=\(3,\).*config=3.*ArithmeticError: three"):
        run_units(_fails_on_three, units, client=client, progress=False)


_QUICK = chaos.settings(True)


def _shrunk(quick: bool) -> chaos.Settings:
    return dataclasses.replace(_QUICK, ns=(16, 32, 64, 128), reps_net=8,
                               reps_w1_net=8, reps_lin=64, n_steps=10,
                               lin_steps=5)


def test_chaos_check_same_json_serial_and_cluster(client, tmp_path, monkeypatch):
    # the check's sizes shrunk: the units carry their own configuration, so the workers
    # need no patch
    monkeypatch.setattr(chaos, "settings", _shrunk)
    res = []
    for where, c in (("serial", None), ("dask", client)):
        run_check(chaos, Context(out=tmp_path / where, progress=False, client=c))
        r = json.loads((tmp_path / where / "chaos.json").read_text())
        for k in ("started", "finished", "elapsed_s"):
            r.pop(k)
        res.append(r)
    assert res[0]["status"] in ("PASS", "FAIL")  # it ran
    assert res[1]["status"] == res[0]["status"], res[1].get("reason")
    assert res[0] == res[1]


def _slow_draw(cfg, ss, shared):
    time.sleep(0.15)
    return np.random.default_rng(ss).standard_normal(cfg) * shared


def test_killed_worker_same_numbers():
    units = [Unit.make(5, 9, (k,), 3 + k % 4) for k in range(40)]
    serial = run_units(_slow_draw, units, shared=2.0, progress=False)
    with scheduler_client("local:2") as c:
        victim = next(iter(c.run(os.getpid).values()))
        killer = threading.Timer(1.0, os.kill, (victim, signal.SIGKILL))
        killer.start()
        got = run_units(_slow_draw, units, shared=2.0, client=c, progress=False)
        killer.join()
        assert victim not in c.run(os.getpid).values()  # it did die (the nanny restarted one)
    assert all(np.array_equal(a, b) for a, b in zip(serial, got, strict=True))


@pytest.mark.slow
def test_cli_local_cluster_same_json_and_cache_line(tmp_path):
    """``--scheduler local:2`` end to end on the quick chaos check, then a serial warm rerun
    that reads every unit from OUT/.cache and writes the same JSON numbers."""
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(poc.__file__)))

    def run(out, *extra):
        return subprocess.run([sys.executable, "-m", "poc", "validate", "chaos", "--out",
                               str(out), "--no-progress", *extra], capture_output=True,
                              text=True, env=env, timeout=900)

    p = run(tmp_path / "a", "--scheduler", "local:2")
    assert p.returncode in (0, 1), p.stderr
    assert "Dask LocalCluster: 2 workers at tcp://127.0.0.1:" in p.stderr
    assert "0 from the cache" in p.stdout
    first = json.loads((tmp_path / "a" / "chaos.json").read_text())
    q = run(tmp_path / "a")
    assert ", 0 computed" in q.stdout and " 0 from the cache" not in q.stdout, q.stdout
    again = json.loads((tmp_path / "a" / "chaos.json").read_text())
    for r in (first, again):
        for k in ("started", "finished", "elapsed_s"):
            r.pop(k)
    assert first == again


def test_unreachable_scheduler_exit_2_after_timeout(tmp_path):
    env = dict(os.environ, POC_SCHEDULER_TIMEOUT="1")
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "poc", "validate", "noise", "--out", str(tmp_path),
                        "--scheduler", "tcp://127.0.0.1:9"], capture_output=True, text=True,
                       env=env, timeout=120)
    assert p.returncode == 2
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "no Dask scheduler answered within 1 s" in lines[0], p.stderr
    assert time.perf_counter() - t0 < 60


# ---------------------------------------------------------------------------
# every check on units: serial, the cluster and a warm cache give the same JSON numbers


def _numbers(out, name: str) -> dict:
    """The result file without its timings (run times, per-run training seconds)."""
    r = json.loads((out / f"{name}.json").read_text())
    for k in ("started", "finished", "elapsed_s"):
        r.pop(k)
    for case in r["cases"]:
        for cfg in case["values"].get("configs", {}).values():
            cfg.pop("train_seconds", None)  # the digits check's wall time of each training run
    return r


def _same_json_serial_cluster_and_cache(module, client, tmp_path, cached: bool = True) -> dict:
    """Serial without a cache; on the cluster into a fresh cache; serial again from that cache,
    computing nothing (``cached``) or, for a check that never reads the cache, everything again.
    The three result files agree, timings aside."""
    from poc.cache import UnitCache

    name = module.NAME
    run_check(module, Context(out=tmp_path / "serial", progress=False))
    cold = UnitCache(tmp_path / "cache")
    run_check(module, Context(out=tmp_path / "dask", progress=False, client=client, cache=cold))
    warm = UnitCache(tmp_path / "cache")
    run_check(module, Context(out=tmp_path / "warm", progress=False, cache=warm))
    serial, dask, again = (_numbers(tmp_path / d, name) for d in ("serial", "dask", "warm"))
    assert serial["status"] in ("PASS", "FAIL"), serial.get("reason")  # it ran
    assert dask == serial, dask.get("reason")
    if cached:
        assert (cold.hits, cold.corrupt) == (0, 0) and cold.computed > 0
        assert (warm.computed, warm.hits, warm.corrupt) == (0, cold.computed, 0)
    else:
        assert (cold.hits, cold.computed, warm.hits, warm.computed) == (0, 0, 0, 0)
        assert not (tmp_path / "cache").exists()
    assert again == serial
    return serial


def _tiny_euler(quick: bool) -> dict:
    return {"steps": [2.0**-2, 2.0**-3, 2.0**-4], "ref": 2.0**-7, "sde_reps": 40, "n": 4,
            "net_reps": 3, "n_grid": [2, 4, 8], "n_reps": 3, "fixed_step": 2.0**-2,
            "fixed_ref": 2.0**-5, "fixed_n": [2, 4, 8], "fixed_reps": 3, "grid_n": [2, 4, 8],
            "grid_steps": [2.0**-2, 2.0**-3, 2.0**-4], "grid_ref": 2.0**-7, "grid_reps": 3}


def test_euler_check_same_json_serial_cluster_and_cache(client, tmp_path, monkeypatch):
    from poc.checks import euler

    # the units carry their sizes: the workers need no patch
    monkeypatch.setattr(euler, "sizes", _tiny_euler)
    r = _same_json_serial_cluster_and_cache(euler, client, tmp_path)
    assert sum(c["name"].startswith("(c2)") for c in r["cases"]) == 3
    assert sum(c["name"].startswith("(d)") for c in r["cases"]) == 2


def test_theorem_check_same_json_serial_cluster_and_cache(client, tmp_path, monkeypatch):
    from poc.checks import theorem

    # tiny widths; the compress studies' units carry their step counts: the workers need no patch
    tiny = theorem.Settings(log2_n=(2, 3, 4), replicates=30, max_steps=1e5)
    monkeypatch.setattr(theorem, "settings", lambda quick: tiny)
    r = _same_json_serial_cluster_and_cache(theorem, client, tmp_path)
    assert len(r["cases"]) == 18


def test_digits_check_same_json_serial_cluster_and_cache(client, tmp_path, monkeypatch):
    pytest.importorskip("sklearn")
    from poc.checks import digits

    monkeypatch.setitem(digits.SIZES, "quick", {"n": 16, "n_steps": 12, "seeds": 2})
    r = _same_json_serial_cluster_and_cache(digits, client, tmp_path)
    configs = r["cases"][0]["values"]["configs"]
    assert all(len(c["test_accuracy"]) == 2 for c in configs.values())  # 2 seeds, 4 configurations
    assert len(configs) == 4


def test_noise_check_same_json_serial_cluster_and_cache(client, tmp_path, monkeypatch):
    from poc.checks import noise

    monkeypatch.setitem(noise.SIZES, "quick", {"n_ks": 400, "n_cf": 2000})
    r = _same_json_serial_cluster_and_cache(noise, client, tmp_path)
    assert len(r["cases"]) == 20


def test_calibration_check_same_json_serial_cluster_and_cache(client, tmp_path, monkeypatch):
    from poc.checks import calibration

    # the cheap cases; the units name their case function, which the workers look up
    keep = ("network_gradient", "wp_exact_nd", "hill_pareto", "best_k_direct", "strong_nested",
            "private_sliced_closed_form")
    monkeypatch.setattr(calibration, "CASES", [c for c in calibration.CASES if c[0] in keep])
    # calibration measures this installation every time: it never reads or fills the cache
    r = _same_json_serial_cluster_and_cache(calibration, client, tmp_path, cached=False)
    assert len(r["cases"]) == len(keep)


def test_watch_units_sees_units_computed_on_workers_and_in_concurrent_studies(client):
    from poc.units import map_concurrently

    units = [Unit.make(5, 9, (k,), 3 + k % 4) for k in range(6)]
    timings = []

    def one(shared):
        return run_units(_slow_draw, units, shared=shared, client=client, progress=False)

    with watch_units(on_unit=timings.append):
        got = map_concurrently(one, [1.0, 2.0], client)
    assert [np.array_equal(a, 2 * b) for a, b in zip(got[1], got[0], strict=True)] == [True] * 6
    # every unit of both threads, timed on its worker (each sleeps 0.15 s)
    assert sorted(t.key for t in timings) == sorted([(k,) for k in range(6)] * 2)
    assert all(t.function == "_slow_draw" and t.seconds >= 0.15 for t in timings)
