"""Output paths checked before long work starts: nothing replaced without ``force``, a folder
that can be written, and room on the disk."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from cellsort.errors import ConfigError


class OutputError(ConfigError):
    """An output path that cannot or must not be written; the message names it."""


def _existing_ancestor(path: Path) -> Path:
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_writable(path: str | Path) -> None:
    """Refuse a path that cannot be created or written (its nearest existing folder is a
    file, or not writable)."""
    path = Path(path)
    folder = _existing_ancestor(path)
    if not folder.is_dir():
        raise OutputError(f"{folder}: is a file, so {path} cannot be created under it")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"{folder}: folder is not writable")
    try:  # what the permission bits do not tell: a read-only file system, a full quota
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise OutputError(f"{folder}: folder is not writable ({exc.strerror})") from exc


def check_output_file(path: str | Path, force: bool = False) -> Path:
    """Refuse a folder, an existing file (unless ``force``) or an unwritable location."""
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{path}: is a folder; give a file name")
    if path.exists() and not force:
        raise OutputError(f"{path}: exists (pass --force to replace it)")
    check_writable(path.parent)
    return path


def check_output_dir(path: str | Path, force: bool = False) -> Path:
    """Refuse a file, a non-empty folder (unless ``force``) or an unwritable location."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputError(f"{path}: is a file, not a folder")
    if path.is_dir() and any(path.iterdir()) and not force:
        raise OutputError(f"{path}: exists and is not empty (pass --force to write into it; "
                          f"files of the same names are replaced)")
    check_writable(path)
    return path


def check_free_space(path: str | Path, need_bytes: float) -> None:
    """Refuse to start when the disk holding ``path`` has less than ``need_bytes`` (+10 %)."""
    free = shutil.disk_usage(_existing_ancestor(Path(path))).free
    if free < 1.1 * need_bytes:
        raise OutputError(f"{path}: needs about {need_bytes / 1e6:,.0f} MB but the disk has "
                          f"{free / 1e6:,.0f} MB of free space")
