"""Progress of long work: a rich bar on a terminal, periodic plain lines in a log.

A rich bar written to a file or a pipe shows nothing until it ends, so where standard error
is not a terminal :func:`track` prints one line every ``interval`` seconds instead (count,
percentage, elapsed and remaining time) and a last line when the work is done.
"""
from __future__ import annotations

import sys
import time
from typing import Iterable, Iterator, TypeVar

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

T = TypeVar("T")

#: Seconds between two plain progress lines.
PLAIN_INTERVAL_S = 10.0


def duration_text(seconds: float) -> str:
    """``42 s``, ``3 min 5 s`` or ``1 h 02 min``."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def plain_line(description: str, done: int, total: int | None, elapsed: float) -> str:
    """One progress line: ``description: done/total (pct%), elapsed, about ... left``."""
    if not total:
        return f"{description}: {done} done, {duration_text(elapsed)} elapsed"
    left = elapsed / done * (total - done) if done else float("nan")
    eta = f", about {duration_text(left)} left" if done and done < total else ""
    return (f"{description}: {done}/{total} ({100 * done / total:.0f}%), "
            f"{duration_text(elapsed)} elapsed{eta}")


def _plain(items: Iterable[T], description: str, total: int | None, interval: float,
           stream) -> Iterator[T]:
    start = last = time.monotonic()
    done = 0
    for item in items:
        yield item
        done += 1
        now = time.monotonic()
        if now - last >= interval:
            print(plain_line(description, done, total, now - start), file=stream, flush=True)
            last = now
    print(plain_line(description, done, total, time.monotonic() - start), file=stream, flush=True)


def track(items: Iterable[T], description: str, total: int | None = None,
          enabled: bool = True, interval: float = PLAIN_INTERVAL_S) -> Iterator[T]:
    """Iterate over ``items`` showing progress on standard error.

    Parameters
    ----------
    enabled : bool
        False shows nothing (``--json`` runs).
    interval : float
        Seconds between plain lines when standard error is not a terminal.
    """
    if not enabled:
        yield from items
        return
    if not sys.stderr.isatty():
        yield from _plain(items, description, total, interval, sys.stderr)
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        yield from bar.track(items, total=total, description=description)
