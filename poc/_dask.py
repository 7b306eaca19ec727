"""Running work units on a Dask client: batches sized as the run goes, longest first.

:func:`poc.units.run_units` calls :func:`run_on_client` when it is given a
client (``poc._cluster`` makes the client). ``shared`` is scattered to every
worker once; the units are submitted longest first in batches of about
:data:`TARGET_BATCH_S` seconds of work each (measured as the run goes, so that
scheduling costs little next to the work and an interrupt loses little); each
result is handed back as soon as its batch finishes, whatever the order.
Dask is imported only when a client is used.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["client_threads", "run_on_client"]

# seconds of work per Dask task: Dask's ~1 ms per task is then below 0.1 % of the work, and a
# lost worker or an interrupt costs at most a few seconds of finished-but-unsaved units
TARGET_BATCH_S = 2.0
# tasks queued per worker thread: the next batch is waiting when one finishes
IN_FLIGHT = 2
# retries of a batch whose worker raised; a worker that dies is rescheduled by Dask anyway
RETRIES = 2


def client_threads(client) -> int:
    """Worker threads of a Dask client's cluster (at least 1)."""
    workers = client.scheduler_info().get("workers", {})
    return max(1, sum(int(w.get("nthreads", 1)) for w in workers.values()))


def next_size(queue_len: int, threads: int, unit_s: float | None) -> int:
    """Units in the next batch: about TARGET_BATCH_S of work, and a share of what is left.

    Before any batch has finished (``unit_s`` None) a batch is one unit. The cap of
    ``queue / (IN_FLIGHT * threads)`` splits the tail finely, so no worker idles at the end
    while another works through a long batch.
    """
    size = 1 if not unit_s else max(1, int(TARGET_BATCH_S / unit_s))
    return max(1, min(size, -(-queue_len // (IN_FLIGHT * threads))))


def run_on_client(client, run_batch: Callable, func, units: list, todo: list[int], shared,
                  done: Callable[[int, object, float], None], bar) -> None:
    """Run ``units[i]`` for every i in ``todo`` on ``client``.

    ``run_batch(func, batch, shared)`` is what a worker runs: it returns each unit's
    ``(result, seconds)``; ``done(i, result, seconds)`` receives them on the client.
    """
    import uuid
    from collections import deque

    from distributed import as_completed

    threads = client_threads(client)
    # units are listed cheapest first (n, width ascending): start from the most expensive,
    # so that the long ones do not finish last on one worker (longest-first scheduling)
    queue = deque(reversed(todo))
    # one future for the whole object (a bare tuple or dict would be scattered piecewise);
    # hash=False: a content-hashed key reused by the next call while this call's release is
    # still in flight makes the scheduler drop it ("lost dependencies")
    shared_ref = (client.scatter([shared], broadcast=True, hash=False)[0]
                  if shared is not None else None)
    tag = f"poc-{getattr(func, '__name__', 'unit')}-{uuid.uuid4().hex[:8]}"
    futures: dict = {}
    unit_s = None  # seconds per unit of the last finished batch (worker time)

    def submit():
        idx = [queue.popleft() for _ in range(next_size(len(queue), threads, unit_s))]
        fut = client.submit(run_batch, func, [units[i] for i in idx], shared_ref,
                            key=f"{tag}-{len(futures)}", retries=RETRIES, pure=False)
        futures[fut] = idx
        return fut

    pending = as_completed([submit() for _ in range(min(len(queue), IN_FLIGHT * threads))])
    try:
        for fut in pending:
            if fut.status == "error":
                fut.result()  # re-raises the unit's UnitError here
            idx = futures[fut]
            timed = fut.result()
            for i, (value, seconds) in zip(idx, timed, strict=True):
                done(i, value, seconds)
            bar.update(len(idx))
            fut.release()
            unit_s = sum(t for _, t in timed) / len(idx)
            if queue:
                pending.add(submit())
    finally:  # after an error or an interrupt, nothing of this run keeps the workers busy
        client.cancel(list(futures))
