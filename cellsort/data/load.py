"""Open any supported dataset by path and split it the recorded (or default) way."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from cellsort.data.dataset import Dataset, concat, parse_task
from cellsort.data.folders import read_image_folder
from cellsort.data.idx import has_lymphomnist_file, read_lymphomnist
from cellsort.data.jurkat import JURKAT_TASKS, read_jurkat
from cellsort.data.rtdc import RTDC_SUFFIXES, read_rtdc
from cellsort.data.splits import (
    SplitData,
    SplitSpec,
    apply_splits,
    make_splits,
    read_splits,
)
from cellsort.errors import DataError


def read_pool(path: str | Path, task: str | None = None, size: tuple[int, int] | None = None
              ) -> tuple[Dataset, np.ndarray | None]:
    """Read every image of a dataset, with the predefined test part if the format has one.

    Parameters
    ----------
    path : path-like
        A LymphoMNIST folder (IDX files), a folder of class sub-folders, a folder of RT-DC
        recordings (one a class, named by its file: ``B.rtdc``, ``T.rtdc``), a Jurkat ``.npz``
        or an ``.rtdc`` file.
    task : str, optional
        For a Jurkat file, one of its tasks (default ``g1-vs-g2``); ignored otherwise
        (relabel with :meth:`SplitData.relabel`).
    size : (int, int), optional
        Crop size for image folders of mixed sizes and for ``.rtdc`` events (default 64).

    Returns
    -------
    pool : Dataset
    is_test : ndarray of bool or None
        True for images of the predefined test part (LymphoMNIST's test files).
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    if path.is_dir() and has_lymphomnist_file(path):
        train, test = read_lymphomnist(path)
        pool = concat([train, test], source=str(path))
        return pool, np.arange(len(pool)) >= len(train)
    recordings = sorted(p for p in path.iterdir() if p.suffix.lower() in RTDC_SUFFIXES) if path.is_dir() else []
    if recordings and not any(p.is_dir() and not p.name.startswith(".") for p in path.iterdir()):
        stems = [p.stem for p in recordings]
        if len(set(stems)) < len(stems):
            raise DataError(f"{path}: two recordings name the same class "
                            f"({', '.join(sorted({s for s in stems if stems.count(s) > 1}))})")
        return read_rtdc({p.stem: p for p in recordings}, size or (64, 64)), None  # one recording a class
    if path.is_dir():
        return read_image_folder(path, size), None
    if path.suffix == ".npz":
        return read_jurkat(path, task if task in JURKAT_TASKS else "g1-vs-g2"), None
    if path.suffix.lower() in RTDC_SUFFIXES:
        return read_rtdc(path, size or (64, 64)), None
    raise DataError(f"{path}: unknown dataset format (expected a LymphoMNIST folder, a folder "
                    f"of class sub-folders, a .npz (Jurkat) or an RT-DC .rtdc/.tdms recording)")


def open_dataset(path: str | Path, task: str | None = None, split: SplitSpec = SplitSpec(),
                 size: tuple[int, int] | None = None) -> SplitData:
    """Read a dataset and split it into train / validation / test.

    A ``splits.json`` stored with the data is used when present (and checked against the
    data); otherwise the split is computed deterministically from ``split``.

    Parameters
    ----------
    path : path-like
        See :func:`read_pool`.
    task : str, optional
        Classes to keep or merge, e.g. ``"B,T4"`` or ``"B:B;T:T4+T8"``; for a Jurkat file a
        task name such as ``"g1-vs-g2"``.

    Examples
    --------
    >>> data = open_dataset("runs/demo/data", task="B,T4")   # doctest: +SKIP
    >>> data.train.counts()                                   # doctest: +SKIP
    {'B': 5333, 'T4': 5333}
    """
    pool, is_test = read_pool(path, task, size)
    return split_pool(pool, is_test, path, task, split)


def split_pool(pool: Dataset, is_test: np.ndarray | None, path: str | Path,
               task: str | None = None, split: SplitSpec = SplitSpec()) -> SplitData:
    """Split what :func:`read_pool` read from ``path`` (see :func:`open_dataset`); a task whose
    classes have no images is refused before anything is split."""
    relabel = bool(task) and task not in JURKAT_TASKS
    (pool.relabel(parse_task(task)) if relabel else pool).require_images(f"task {task!r}" if task else "the dataset")
    folder = Path(path) if Path(path).is_dir() else None
    recorded = read_splits(folder) if folder is not None else None
    if recorded is not None and recorded.get("seed") == split.seed:
        data = apply_splits(pool, recorded)
    else:
        data = apply_splits(pool, make_splits(pool.labels, split, is_test))
    return data.relabel(parse_task(task)) if relabel else data
