"""The errors cellsort raises for bad input, and the one rule that maps them to exit 2.

Two kinds, both :class:`UserError` (a ValueError): :class:`DataError` for data and model
files (the message names the file and what is wrong), :class:`ConfigError` for options,
config files and output paths (the message names the option or field). The command line
shows a UserError as one line and exits 2 (:mod:`cellsort.cli`); anything else is a bug.
"""
from __future__ import annotations


class UserError(ValueError):
    """Bad input from the user: a file, an option or a path. One line, exit 2."""


class DataError(UserError):
    """Bad input data or model file; the message names the file and what is wrong."""


class ConfigError(UserError):
    """An invalid option, config file or output path; the message names it."""


def one_line(text: str) -> str:
    """``text`` on one line (runs of white space, newlines included, become one space)."""
    return " ".join(str(text).split())
