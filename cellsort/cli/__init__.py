"""The ``cellsort`` command line: one Typer sub-app per stage, each a thin layer over the
library (options parsed and validated, a library call, its figures printed or ``--json``).

Owns: argument parsing, printing, and the one mapping of errors to exit codes (:func:`main`).
May import: every package.
"""
from __future__ import annotations

import typer
from rich.markup import escape
from typer._click import exceptions as click_exceptions

from cellsort.cli import data as data_cli
from cellsort.cli import demo as demo_cli
from cellsort.cli import explore as explore_cli
from cellsort.cli import hls as hls_cli
from cellsort.cli import report as report_cli
from cellsort.cli import rtl as rtl_cli
from cellsort.cli import score as score_cli
from cellsort.cli import sort as sort_cli
from cellsort.cli import student as student_cli
from cellsort.cli import train as train_cli
from cellsort.cli.console import err_console
from cellsort.errors import UserError, one_line
from cellsort.keras_compat import set_verbose

app = typer.Typer(help="Real-time, label-free cell classification on FPGAs.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
app.add_typer(data_cli.app, name="data")
app.add_typer(student_cli.app, name="student")
app.add_typer(hls_cli.app, name="hls")
app.add_typer(rtl_cli.app, name="rtl")
app.command("demo")(demo_cli.demo)
app.command("train-teacher")(train_cli.train_teacher_cmd)
app.command("distill")(train_cli.distill_cmd)
app.command("sort")(sort_cli.sort_cmd)
app.command("score")(score_cli.score_cmd)
app.command("report")(report_cli.report_cmd)
app.command("explore")(explore_cli.explore_cmd)

_DEBUG = {"on": False}


@app.callback()
def _options(debug: bool = typer.Option(False, "--debug", help="Show the Python traceback of an "
                                                               "error instead of one line."),
             verbose: bool = typer.Option(False, "--verbose", help="Show the TensorFlow, absl, "
                                          "oneDNN and CUDA log lines (hidden by default).")):
    """Real-time, label-free cell classification on FPGAs."""
    _DEBUG["on"] = debug
    set_verbose(verbose)


def _one_line(exc: BaseException) -> str:
    """The message of a user-facing error on one line, naming the file where the OS error has one."""
    if isinstance(exc, OSError) and exc.strerror is not None:
        text = f"{exc.filename}: {exc.strerror}" if exc.filename is not None else exc.strerror
    elif isinstance(exc, MemoryError):
        text = f"not enough memory ({exc or 'the request is too large for this machine'})"
    elif isinstance(exc, click_exceptions.ClickException):
        text = exc.format_message()
    else:
        text = str(exc)
    return one_line(text)


def _error(exc: BaseException) -> None:
    err_console.print(f"[bold red]error:[/] {escape(_one_line(exc))}", highlight=False)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``cellsort`` console script; returns the exit status.

    Bad input gives exit 2 and one line naming the file, option or value and the problem:
    data and config errors (:class:`~cellsort.errors.UserError`), a bad option on the command
    line, files the OS refuses, too little memory; ``--debug`` shows the traceback instead.
    Any other exception is a bug in cellsort: exit 1 with one line that says so.
    """
    try:
        code = app(args=argv, prog_name="cellsort", standalone_mode=False)
    except click_exceptions.NoArgsIsHelpError as exc:
        exc.show()
        return 0
    except click_exceptions.ClickException as exc:  # a bad option or argument
        _error(exc)
        return 2
    except typer.Abort:
        err_console.print("aborted")
        return 130
    except SystemExit as exc:  # e.g. rich on a closed pipe
        return exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    except (UserError, OSError, MemoryError) as exc:
        if _DEBUG["on"]:
            raise
        _error(exc)
        return 2
    except Exception as exc:  # noqa: BLE001 - the one place that turns bugs into one line
        if _DEBUG["on"]:
            raise
        err_console.print(f"[bold red]error:[/] internal error, please report it: "
                          f"{type(exc).__name__}: {escape(_one_line(exc))} (run with --debug for the "
                          "traceback)", highlight=False)
        return 1
    return code if isinstance(code, int) else 0
