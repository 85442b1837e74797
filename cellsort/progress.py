"""Progress bars for long work (rich), silenced in non-interactive runs when asked."""
from __future__ import annotations

from typing import Iterable, Iterator, TypeVar

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

T = TypeVar("T")


def track(items: Iterable[T], description: str, total: int | None = None,
          enabled: bool = True) -> Iterator[T]:
    """Iterate over ``items`` showing a progress bar (no bar when ``enabled`` is False)."""
    if not enabled:
        yield from items
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeRemainingColumn())
    with Progress(*columns, transient=False) as bar:
        yield from bar.track(items, total=total, description=description)
