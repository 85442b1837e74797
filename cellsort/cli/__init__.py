"""The ``cellsort`` command line: one Typer sub-app per stage."""
from __future__ import annotations

import sys

import typer
from rich.console import Console

from cellsort.cli import data as data_cli
from cellsort.cli import demo as demo_cli
from cellsort.config import ConfigError
from cellsort.data.dataset import DataError

app = typer.Typer(help="Real-time, label-free cell classification on FPGAs.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
app.add_typer(data_cli.app, name="data")
app.command("demo")(demo_cli.demo)

#: Errors shown as one clear line (they already name the file and the problem).
USER_ERRORS = (DataError, ConfigError, FileNotFoundError)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``cellsort`` console script."""
    try:
        app(args=argv, standalone_mode=False)
    except USER_ERRORS as exc:
        Console(stderr=True).print(f"[bold red]error:[/] {exc}", highlight=False)
        return 2
    except SystemExit as exc:  # typer's own exits (e.g. --help)
        return int(exc.code or 0)
    except Exception as exc:
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            return exc.exit_code
        if isinstance(exc, click.exceptions.Abort):
            return 1
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
