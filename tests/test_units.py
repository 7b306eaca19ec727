"""Work units run serially: order, errors naming the unit, and the resume cache."""

from __future__ import annotations

import subprocess
import sys
import threading
import warnings

import numpy as np
import pytest

from poc.units import CacheWarning, Unit, UnitCache, UnitError, run_units, unit_keys, watch_units


def _draw(cfg, ss, shared):
    """A unit: normal draws from its own SeedSequence, offset by the shared input."""
    return np.random.default_rng(ss).standard_normal(cfg) + shared


def _boom(cfg, ss, shared):
    if cfg == 3:
        raise ZeroDivisionError("unit three divides by zero")
    return cfg


def _units(seed=7, sizes=(3, 5, 2, 4, 6)):
    return [Unit.make(seed, 11, (k,), s) for k, s in enumerate(sizes)]


def _same(a, b):
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_results_do_not_depend_on_order():
    units = _units()
    fwd = run_units(_draw, units, shared=1.0, progress=False)
    back = run_units(_draw, units[::-1], shared=1.0, progress=False)[::-1]
    assert _same(fwd, back)
    assert [len(r) for r in fwd] == [3, 5, 2, 4, 6]


def test_unit_error_names_its_configuration():
    units = [Unit.make(0, 5, (k,), k) for k in range(5)]
    with pytest.raises(UnitError, match=r"key=\(3,\).*config=3.*ZeroDivisionError") as info:
        run_units(_boom, units, progress=False)
    assert isinstance(info.value.__cause__, ZeroDivisionError)


def _bad_input(cfg, ss, shared):
    raise ValueError(f"size must be >= 0, got {cfg}")


def test_bad_input_in_a_unit_keeps_its_type_with_a_note():
    with pytest.raises(ValueError, match="size must be") as info:
        run_units(_bad_input, [Unit.make(0, 5, (2,), -1)], progress=False)
    assert any("key=(2,)" in n and "config=-1" in n for n in info.value.__notes__)


def test_cache_resumes_an_interrupted_run(tmp_path):
    units = _units()
    clean = run_units(_draw, units, shared=1.0, progress=False)
    cache = UnitCache(tmp_path / ".cache")
    # the "interrupted" run finished units 0 and 3 only
    run_units(_draw, [units[0], units[3]], shared=1.0, cache=cache, progress=False)
    assert (cache.hits, cache.computed) == (0, 2)
    again = UnitCache(tmp_path / ".cache")
    resumed = run_units(_draw, units, shared=1.0, cache=again, progress=False)
    assert (again.hits, again.computed, again.corrupt) == (2, 3, 0)
    assert _same(resumed, clean)
    warm = UnitCache(tmp_path / ".cache")
    assert _same(run_units(_draw, units, shared=1.0, cache=warm, progress=False), clean)
    assert (warm.hits, warm.computed) == (5, 0)


def test_cache_key_changes_with_seed_config_and_shared():
    base = unit_keys(_draw, _units(), 1.0)
    assert len(set(base)) == 5
    assert unit_keys(_draw, _units(), 1.0) == base  # stable
    assert set(unit_keys(_draw, _units(seed=8), 1.0)).isdisjoint(base)
    assert set(unit_keys(_draw, _units(), 2.0)).isdisjoint(base)
    assert unit_keys(_draw, _units(sizes=(3, 5, 2, 4, 7)), 1.0)[:4] == base[:4]
    assert unit_keys(_draw, _units(sizes=(3, 5, 2, 4, 7)), 1.0)[4] != base[4]
    assert set(unit_keys(_boom, _units(), 1.0)).isdisjoint(base)


@pytest.mark.parametrize("damage", ["truncate", "flip", "empty"])
def test_corrupted_entry_is_recomputed_and_reported(tmp_path, damage):
    units = _units()
    clean = run_units(_draw, units, shared=1.0, cache=tmp_path, progress=False)
    key = unit_keys(_draw, units, 1.0)[2]
    path = UnitCache(tmp_path).path(key)
    blob = bytearray(path.read_bytes())
    if damage == "truncate":
        blob = blob[: len(blob) - 7]
    elif damage == "flip":
        blob[-3] ^= 0x01  # one bit of the pickled payload
    else:
        blob = b""
    path.write_bytes(bytes(blob))
    cache = UnitCache(tmp_path)
    with pytest.warns(CacheWarning, match="corrupted or truncated"):
        got = run_units(_draw, units, shared=1.0, cache=cache, progress=False)
    assert (cache.hits, cache.computed, cache.corrupt) == (4, 1, 1)
    assert _same(got, clean)
    cache = UnitCache(tmp_path)  # the entry was written again, sound
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheWarning)
        run_units(_draw, units, shared=1.0, cache=cache, progress=False)
    assert (cache.hits, cache.corrupt) == (5, 0)



def test_unpicklable_shared_input_is_not_cached(tmp_path):
    with pytest.warns(CacheWarning, match="not cached"):
        got = run_units(_boom, _units(sizes=(1, 2)), shared=threading.Lock(), cache=tmp_path,
                        progress=False)
    assert got == [1, 2]
    assert not list(tmp_path.rglob("*.pkl"))


def test_bad_cache_argument():
    with pytest.raises(TypeError, match="cache must be None, a directory"):
        run_units(_draw, _units(), shared=1.0, cache=3, progress=False)


@pytest.mark.parametrize("spec, msg", [
    ("nonsense", "--scheduler must be 'local', 'local:N'"),
    ("local:0", "needs N >= 1"),
    ("tcp://nohost", "--scheduler must be"),
])
def test_bad_scheduler_is_one_line_exit_2(tmp_path, spec, msg):
    p = subprocess.run([sys.executable, "-m", "poc", "validate", "noise", "--out", str(tmp_path),
                        "--scheduler", spec], capture_output=True, text=True, timeout=120)
    assert p.returncode == 2
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and msg in lines[0], p.stderr
    assert not list(tmp_path.glob("*.json"))  # rejected before any check ran


def test_scheduler_without_the_dask_extra_is_exit_2(tmp_path):
    # hide distributed from the child: a meta-path finder that refuses it
    code = ("import sys\n"
            "class Block:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name == 'distributed' or name.startswith('distributed.'):\n"
            "            raise ImportError('blocked')\n"
            "sys.meta_path.insert(0, Block())\n"
            "from poc.cli import main\n"
            f"sys.exit(main(['validate', 'noise', '--out', {str(tmp_path)!r}, "
            "'--scheduler', 'local:2']))\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 2, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "extra 'dask'" in lines[0], p.stderr


def test_one_units_bar_per_check_when_asked_from_many_threads(monkeypatch):
    """The studies of a check (map_concurrently) ask for its bar at once: they all get one bar."""
    import time

    from poc.checks import _base
    from poc.checks._base import Context

    def slow_bar(**kw):  # widens the window in which an unlocked lazy init would race
        time.sleep(0.05)
        return object()

    monkeypatch.setattr(_base, "progress_bar", slow_bar)
    ctx = Context(progress=False)
    got = []
    threads = [threading.Thread(target=lambda: got.append(ctx.units_bar())) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 8 and len({id(b) for b in got}) == 1


def test_user_numba_drift_has_the_same_cache_key_in_every_process():
    """A Numba dispatcher pickles with a per-process id and its compiled signatures; the cache
    key hashes the kernel's source identity instead, so a resumed run with a user's drift finds
    its units. Here: the Kuramoto pairwise drift, compiled (used) in this process only."""
    import os
    import subprocess
    import sys

    from _kuramoto import conf, inter

    import poc
    from poc.cache import fingerprint

    drift = poc.drifts.PairwiseDrift(conf, inter)
    drift(np.zeros((4, 2)))  # probes d = 2 and compiles more signatures here than over there
    code = ("import poc; from poc.cache import fingerprint; "
            "from _kuramoto import conf, inter; "
            "print(fingerprint(poc.drifts.PairwiseDrift(conf, inter)).hex())")
    root = os.path.dirname(os.path.dirname(poc.__file__))  # a checkout, or site-packages
    here = os.path.dirname(os.path.abspath(__file__))  # where _kuramoto.py lives
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([here, root]))
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                           timeout=300, check=True).stdout.strip()
    assert other == fingerprint(drift).hex()
    # and the key still tells kernels apart
    import math

    from numba import njit

    @njit
    def inter_cos(x, y, out):
        for k in range(x.size):
            out[k] = math.cos(y[k] - x[k])

    assert fingerprint(poc.drifts.PairwiseDrift(conf, inter_cos)).hex() != other


def test_watch_units_reports_every_computed_unit_and_run(tmp_path):
    units = _units()
    timings, runs = [], []
    with watch_units(on_unit=timings.append, on_run=lambda *a: runs.append(a)):
        run_units(_draw, units[:2], shared=1.0, cache=tmp_path, progress=False, desc="first")
        run_units(_draw, units, shared=1.0, cache=tmp_path, progress=False, desc="second")
    # the two cached units of the first call are not computed again
    assert [(t.function, t.key) for t in timings] == [("_draw", (k,)) for k in (0, 1, 2, 3, 4)]
    assert [t.config for t in timings] == [3, 5, 2, 4, 6] and all(t.seconds >= 0 for t in timings)
    assert [r[0] for r in runs] == ["first", "second"]
    assert all(start <= end for _, start, end in runs) and runs[0][2] <= runs[1][1]
    run_units(_draw, units, shared=1.0, progress=False)  # outside the block: nothing reported
    assert len(timings) == 5 and len(runs) == 2
