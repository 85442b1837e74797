"""The one safe reader of each generic binary file kind: NumPy ``.npz``/``.npy`` and PyTorch.

Nothing here runs code from a file: NumPy files load with ``allow_pickle=False`` and PyTorch
files with ``torch.load(..., weights_only=True)``. A refusal or a damaged file is a
:class:`~cellsort.errors.DataError` in cellsort's own words, naming the file; the libraries'
own messages are not passed on (they advise loading the file unsafely).
"""
from __future__ import annotations

import pickle
import zipfile
from pathlib import Path

import numpy as np

from cellsort.errors import DataError

#: The refusal of a file that holds pickled Python objects.
REFUSED_CODE = "refused: contains Python objects that could run code"


def _numpy_problem(path: Path, exc: Exception) -> DataError:
    """Our words for a failed ``np.load``: object arrays or a pickle are refused, anything
    else is damaged or not NumPy (numpy reads any unknown content as a pickle)."""
    if isinstance(exc, ValueError) and "allow_pickle" in str(exc):
        if "Object arrays" in str(exc):
            return DataError(f"{path}: {REFUSED_CODE} (object arrays)")
        with open(path, "rb") as fh:
            if fh.read(1) == b"\x80":  # the pickle protocol's first byte
                return DataError(f"{path}: {REFUSED_CODE} (a pickle)")
    return DataError(f"{path}: not a readable NumPy file (damaged, truncated or another format)")


def read_npz(path: str | Path, what: str = "NumPy archive") -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` file (``what`` names it in messages: "soft-target cache")."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such {what}")
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise _numpy_problem(path, exc) from exc


def read_npy(path: str | Path, mmap: bool = False) -> np.ndarray:
    """The array of an ``.npy`` file, memory-mapped when ``mmap``."""
    path = Path(path)
    try:
        return np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise _numpy_problem(path, exc) from exc


def read_torch(path: str | Path, what: str = "PyTorch file"):
    """The contents of a PyTorch file, tensors and plain containers only."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such {what}")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:  # a pickle (bare, or torch's zip) holding other objects
        with open(path, "rb") as fh:
            head = fh.read(2)
        if head[:1] == b"\x80" or head == b"PK":
            raise DataError(f"{path}: {REFUSED_CODE}") from exc
        raise DataError(f"{path}: not a readable {what} (damaged, truncated or another "
                        "format)") from exc
    except Exception as exc:  # noqa: BLE001 - torch raises many types for a damaged file
        raise DataError(f"{path}: not a readable {what} (damaged, truncated or another "
                        "format)") from exc
