"""The console every command prints through, and tables that keep words whole.

Lines are soft-wrapped (a long line stays one line in a log, the terminal folds it), and
output that is not a terminal gets 200 columns instead of rich's 80, so tables written to a
log keep their layout. Table cells never wrap: a cell that cannot fit is cut with an
ellipsis rather than broken inside a word or between a number and its unit.
"""
from __future__ import annotations

import sys

from rich.console import Console
from rich.table import Table

#: Width given to output that is not a terminal (files, pipes, CI logs).
LOG_WIDTH = 200

console = Console(soft_wrap=True, highlight=False, width=None if sys.stdout.isatty() else LOG_WIDTH)
#: Warnings and errors (standard error), never mixed into ``--json`` output.
err_console = Console(stderr=True, soft_wrap=True, highlight=False)


def make_table(title: str, *columns: str, right: tuple[str, ...] = ()) -> Table:
    """A table whose cells do not wrap; columns named in ``right`` are right-justified."""
    table = Table(title=title)
    for name in columns:
        table.add_column(name, justify="right" if name in right else "left", no_wrap=True,
                         overflow="ellipsis")
    return table
