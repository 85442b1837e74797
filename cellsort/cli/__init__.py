"""The ``cellsort`` command line: one Typer sub-app per stage."""
from __future__ import annotations

import sys

import typer
from rich.console import Console

from cellsort.cli import data as data_cli
from cellsort.cli import demo as demo_cli
from cellsort.cli import hls as hls_cli
from cellsort.cli import score as score_cli
from cellsort.cli import sort as sort_cli
from cellsort.cli import student as student_cli
from cellsort.cli import train as train_cli
from cellsort.config import ConfigError
from cellsort.data.dataset import DataError

app = typer.Typer(help="Real-time, label-free cell classification on FPGAs.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
app.add_typer(data_cli.app, name="data")
app.add_typer(student_cli.app, name="student")
app.add_typer(hls_cli.app, name="hls")
app.command("demo")(demo_cli.demo)
app.command("train-teacher")(train_cli.train_teacher_cmd)
app.command("distill")(train_cli.distill_cmd)
app.command("sort")(sort_cli.sort_cmd)
app.command("score")(score_cli.score_cmd)

#: Errors shown as one clear line (they already name the file and the problem).
USER_ERRORS = (DataError, ConfigError, FileNotFoundError)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``cellsort`` console script; returns the exit status."""
    try:
        app(args=argv, prog_name="cellsort")
    except USER_ERRORS as exc:
        Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] {exc}", highlight=False)
        return 2
    except SystemExit as exc:  # typer always exits; usage errors are already printed
        return exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    return 0

if __name__ == "__main__":
    sys.exit(main())
