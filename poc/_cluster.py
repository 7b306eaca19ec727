"""Where the work units of ``poc validate`` run: the ``--scheduler`` option.

``local`` starts a Dask LocalCluster with one single-threaded worker process
per core, ``local:N`` one with N workers, and ``tcp://HOST:PORT`` connects to
a scheduler that is already running (for instance one started by
dask-jobqueue on a SLURM or PBS cluster). Workers are processes with one
thread each: poc selects Numba's workqueue threading layer, which is not
thread-safe, so several threads of one process must not run poc kernels at
once. A LocalCluster listens on the loopback interface only.

Dask is imported only here, and only when a scheduler is asked for.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re

from ._validation import MissingExtraError

__all__ = ["SCHEDULER_TIMEOUT_S", "parse_scheduler", "scheduler_client"]

#: Seconds to wait for an existing scheduler (``tcp://...``) to answer before giving up;
#: the environment variable POC_SCHEDULER_TIMEOUT overrides it.
SCHEDULER_TIMEOUT_S = 10.0


def _timeout() -> float:
    try:
        return float(os.environ.get("POC_SCHEDULER_TIMEOUT", SCHEDULER_TIMEOUT_S))
    except ValueError:
        return SCHEDULER_TIMEOUT_S

_LOCAL = re.compile(r"local(?::(\d+))?")
_TCP = re.compile(r"tcp://[^\s:/]+:\d{1,5}")


def parse_scheduler(spec: str) -> tuple[str, int | str]:
    """``("local", n_workers)`` or ``("tcp", address)`` for a ``--scheduler`` value.

    Raises
    ------
    ValueError
        One line naming the accepted forms and the value received.
    """
    text = str(spec).strip()
    m = _LOCAL.fullmatch(text)
    if m:
        n = int(m.group(1)) if m.group(1) else (os.cpu_count() or 1)
        if n < 1:
            raise ValueError(f"--scheduler local:N needs N >= 1 workers, got {spec!r}")
        return "local", n
    if _TCP.fullmatch(text):
        return "tcp", text
    raise ValueError(f"--scheduler must be 'local', 'local:N' (N >= 1 workers) or "
                     f"'tcp://HOST:PORT' (a running Dask scheduler), got {spec!r}")


def import_distributed():
    try:
        import distributed
    except ImportError:
        raise MissingExtraError("--scheduler (running work units on Dask)",
                                "dask.distributed", "dask") from None
    return distributed


@contextlib.contextmanager
def scheduler_client(spec: str | None, *, dashboard: bool = False,
                     timeout: float | None = None):
    """A ``dask.distributed.Client`` for ``spec`` (None: yields None), closed on exit.

    A LocalCluster it starts (workers and scheduler on 127.0.0.1, the
    dashboard too when ``dashboard`` and bokeh is installed) is shut down on
    exit, including after an error or Ctrl-C.

    Raises
    ------
    ValueError
        A malformed ``spec``, or no scheduler answering at ``tcp://...``
        within ``timeout`` seconds (default :data:`SCHEDULER_TIMEOUT_S`).
    poc._validation.MissingExtraError
        Dask's ``distributed`` is not installed (the extra ``dask``).
    """
    if spec is None:
        yield None
        return
    kind, where = parse_scheduler(spec)
    timeout = _timeout() if timeout is None else float(timeout)
    distributed = import_distributed()
    if kind == "tcp":
        try:
            client = distributed.Client(where, timeout=f"{timeout}s")
        except (OSError, TimeoutError) as exc:
            raise ValueError(f"--scheduler {where}: no Dask scheduler answered within "
                             f"{timeout:g} s ({type(exc).__name__})") from None
        try:
            yield client
        finally:
            client.close()
        return
    if dashboard:
        try:
            import bokeh  # noqa: F401  (the dashboard needs it)
        except ImportError:
            dashboard = False
    cluster = distributed.LocalCluster(
        n_workers=where, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address="127.0.0.1:0",  # a free port: the HTTP server runs without a dashboard
        scheduler_kwargs=None if dashboard else {"dashboard": False},
        silence_logs=logging.ERROR,
        # one Numba thread per worker: the workers already use every core
        env={"NUMBA_NUM_THREADS": "1"})
    try:
        client = distributed.Client(cluster)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()
