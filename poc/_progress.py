"""Progress display that suits where stderr goes: bars on a terminal, plain lines in logs.

tqdm redraws its bar with carriage returns and cursor-movement escape codes;
captured by CI or redirected to a file they become hundreds of lines of
``\\r`` and ``ESC[A``. When stderr is not a terminal, :func:`progress_bar`
returns :class:`PlainProgress` instead, which prints one plain line at most
every :data:`HEARTBEAT_S` seconds with the fraction done.
"""

from __future__ import annotations

import sys
import time

__all__ = ["HEARTBEAT_S", "PlainProgress", "progress_bar", "stderr_is_terminal"]

# CI logs stay readable with one line per 10 s; a run that seems stuck shows
# it within that time.
HEARTBEAT_S = 10.0


def stderr_is_terminal() -> bool:
    """True if ``sys.stderr`` is an interactive terminal."""
    try:
        return sys.stderr is not None and sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced or closed stream
        return False


class PlainProgress:
    """A tqdm look-alike that writes a plain line at most every ``interval`` seconds.

    Supports the parts of the tqdm interface the toolkit uses: iteration,
    ``update``, ``set_postfix_str``, ``close`` and use as a context manager.
    The first line comes only after ``interval`` seconds, so short loops
    print nothing, unless ``final`` asks for one closing line (tqdm's
    ``leave=True``).
    """

    def __init__(self, iterable=None, *, total: int | None = None, desc: str | None = None,
                 file=None, interval: float = HEARTBEAT_S, final: bool = False):
        if total is None and iterable is not None:
            try:
                total = len(iterable)
            except TypeError:
                total = None
        self.iterable = iterable
        self.total = total
        self.desc = desc or "progress"
        self.n = 0
        self.postfix = ""
        self._file = file
        self._interval = interval
        self._final = final
        self._closed = False
        self._t0 = self._last = time.monotonic()

    def __iter__(self):
        try:
            for item in self.iterable:
                yield item
                self.update(1)
        finally:
            self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __len__(self):
        return self.total or 0

    def _line(self) -> str:
        elapsed = time.monotonic() - self._t0
        if self.total:
            done = f"{self.n}/{self.total} ({100.0 * self.n / self.total:.0f}%)"
        else:
            done = f"{self.n}"
        extra = f", {self.postfix}" if self.postfix else ""
        return f"  {self.desc}: {done}, {elapsed:.0f} s{extra}"

    def _print(self) -> None:
        print(self._line(), file=self._file or sys.stderr, flush=True)

    def update(self, n: int = 1) -> None:
        self.n += n
        now = time.monotonic()
        if now - self._last >= self._interval:
            self._last = now
            self._print()

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> None:
        self.postfix = s

    def set_description(self, desc: str | None = None, refresh: bool = True) -> None:
        self.desc = desc or self.desc

    def refresh(self) -> None:
        pass

    def close(self) -> None:
        if self._final and not self._closed:
            self._print()
        self._closed = True


class _NoProgress(PlainProgress):
    """Counts but never prints (progress turned off)."""

    def update(self, n: int = 1) -> None:
        self.n += n

    def close(self) -> None:
        pass


def progress_bar(iterable=None, *, total: int | None = None, desc: str | None = None,
                 enabled: bool | None = True, delay: float = 0.0, leave: bool = False):
    """A progress display for a loop of ``total`` steps, on stderr.

    Parameters
    ----------
    iterable : iterable, optional
        Wrapped and yielded from, as with tqdm.
    total : int, optional
        Number of steps (taken from ``len(iterable)`` when omitted).
    desc : str, optional
        Label printed before the count.
    enabled : bool or None
        True: always show progress; False: never; None: only on a terminal.
    delay : float
        Seconds before a terminal bar first appears.
    leave : bool
        Keep a terminal bar on screen once it is closed; off a terminal,
        print one closing line.

    Returns
    -------
    tqdm or PlainProgress
        A tqdm bar when stderr is a terminal, otherwise a :class:`PlainProgress`
        that prints a plain line at most every :data:`HEARTBEAT_S` seconds
        (or nothing when ``enabled`` is False or None).
    """
    terminal = stderr_is_terminal()
    if enabled is False or (enabled is None and not terminal):
        return _NoProgress(iterable, total=total, desc=desc)
    if not terminal:
        return PlainProgress(iterable, total=total, desc=desc, final=leave)
    from tqdm import tqdm

    return tqdm(iterable, total=total, desc=desc, leave=leave, delay=delay, dynamic_ncols=True)
