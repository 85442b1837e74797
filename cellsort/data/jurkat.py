"""The real-data check: Jurkat bright-field crops from imaging flow cytometry (Blasi et al. 2016)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from cellsort.data.dataset import Dataset
from cellsort.data.intensity import to_uint8
from cellsort.errors import DataError
from cellsort.files import read_npz

#: Tasks over the cell-cycle labels, as relabel groups over the file's class names.
JURKAT_TASKS = {
    "g1-vs-g2": {"G1": ["G1"], "G2": ["G2"]},
    "interphase-vs-mitotic": {"interphase": ["G1", "S_phase", "G2"],
                              "mitotic": ["Prophase", "Metaphase", "Anaphase", "Telophase"]},
    "all": None,
}
_KEYS = ("brightfield", "darkfield", "label", "class_names", "experiment")


def _check_arrays(path: Path, channel: str, raw, label, names, experiment) -> np.ndarray:
    """Values, not only shapes: integer labels naming a class, one label and one experiment
    per image (the pixels are checked by :func:`to_uint8`). Returns the labels as int64."""
    if raw.ndim != 3 or len(raw) == 0:
        raise DataError(f"{path}: {channel} must be a non-empty stack (N, H, W), got shape {raw.shape}")
    if label.dtype.kind not in "iu":
        raise DataError(f"{path}: label must hold integers, got {label.dtype}")
    if label.shape != (len(raw),) or experiment.shape != (len(raw),):
        raise DataError(f"{path}: label {label.shape} and experiment {experiment.shape} must have "
                        f"one entry per image ({len(raw)})")
    if label.min() < 0 or label.max() >= len(names):
        raise DataError(f"{path}: label values must be in 0..{len(names) - 1} "
                        f"(one per class name), found {int(label.min())}..{int(label.max())}")
    return label.astype(np.int64)


def read_jurkat(path: str | Path, task: str = "g1-vs-g2", channel: str = "brightfield") -> Dataset:
    """Load ``jurkat_ifc_bf_df.npz`` for one task.

    Parameters
    ----------
    path : path-like
        The ``.npz`` file (read with ``allow_pickle=False``).
    task : {"g1-vs-g2", "interphase-vs-mitotic", "all"}
        ``g1-vs-g2`` uses experiment 1 only (900 cells per class, balanced).
    channel : {"brightfield", "darkfield"}

    Notes
    -----
    The 16-bit crops are mapped to 8 bit with one linear map for the whole file
    (:func:`~cellsort.data.intensity.to_uint8`), recorded in ``meta``.
    """
    path = Path(path)
    if task not in JURKAT_TASKS:
        raise DataError(f"unknown Jurkat task {task!r}; choose from {list(JURKAT_TASKS)}")
    if channel not in ("brightfield", "darkfield"):
        raise DataError(f"unknown Jurkat channel {channel!r}; choose brightfield or darkfield")
    npz = read_npz(path, "Jurkat file")
    missing = [k for k in _KEYS if k not in npz]
    if missing:
        raise DataError(f"{path}: missing arrays {missing}")
    raw, label, experiment = npz[channel], npz["label"], npz["experiment"]
    names = tuple(str(c) for c in npz["class_names"])
    labels = _check_arrays(path, channel, raw, label, names, experiment)
    images, mapping = to_uint8(raw, source=f"{path} [{channel}]")
    ds = Dataset(images, labels, names, str(path), {"intensity_map": mapping, "task": task,
                                                     "channel": channel})
    if task == "g1-vs-g2":
        ds = ds.take(np.flatnonzero(experiment == 1))
    groups = JURKAT_TASKS[task]
    return ds if groups is None else ds.relabel(groups)
