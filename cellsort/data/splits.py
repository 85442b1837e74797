"""Deterministic, stratified train/validation/test splits, recorded beside the data."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import Field
from sklearn.model_selection import train_test_split

from cellsort.atomic import write_json
from cellsort.config import StrictModel
from cellsort.data.dataset import Dataset
from cellsort.errors import DataError

#: File name of a split record stored with a dataset.
SPLITS_FILE = "splits.json"


class SplitSpec(StrictModel):
    """How to split a dataset.

    With a predefined test part (LymphoMNIST's test files) the train part is kept and the
    test part is halved, stratified, into validation and test (the paper's protocol, seed 42).
    Otherwise ``val_fraction`` and ``test_fraction`` of every class are held out.
    """

    seed: int = Field(42, ge=0)
    val_fraction: float = Field(0.1, gt=0, lt=1)
    test_fraction: float = Field(0.1, gt=0, lt=1)


class TooFewToSplit(DataError):
    """A dataset too small for a train/val/test split (inference on it needs none)."""


@dataclass(frozen=True)
class SplitData:
    """A dataset split three ways, with the record of how."""

    train: Dataset
    val: Dataset
    test: Dataset
    record: dict

    def relabel(self, groups) -> "SplitData":
        """Apply :meth:`Dataset.relabel` to every part."""
        return SplitData(self.train.relabel(groups), self.val.relabel(groups),
                         self.test.relabel(groups), {**self.record, "task": dict(groups)})

    def require_parts(self, who: str) -> None:
        """DataError unless train, validation and test each hold images and every class has
        training images (``who`` needs them: "a teacher", "a student", ...)."""
        where = self.train.source or "dataset"
        for name, part in (("training", self.train), ("validation", self.val), ("test", self.test)):
            if len(part) == 0:
                raise DataError(f"{where}: the {name} part of the split is empty; {who} needs "
                                "images in training, validation and test")
        missing = [c for c, n in self.train.counts().items() if n == 0]
        if missing:
            raise DataError(f"{where}: no training images of class {missing}; {who} needs every "
                            "class in the training part")


def labels_digest(labels: np.ndarray) -> str:
    """Short SHA-256 of a label array: ties a split record to the data it indexes."""
    return hashlib.sha256(np.ascontiguousarray(labels, np.int64).tobytes()).hexdigest()[:16]


def _strata(labels: np.ndarray) -> np.ndarray | None:
    """Stratify by label when every class present has two or more members, else split plainly."""
    present = np.bincount(labels)
    present = present[present > 0]
    return labels if len(present) and present.min() >= 2 else None


def make_splits(labels: np.ndarray, spec: SplitSpec = SplitSpec(),
                is_test: np.ndarray | None = None) -> dict:
    """Compute split indices for a pool of ``labels``.

    Parameters
    ----------
    labels : ndarray of int
    spec : SplitSpec
    is_test : ndarray of bool, optional
        Marks a predefined test part (halved into validation and test).

    Returns
    -------
    dict
        ``train``, ``val``, ``test`` index lists plus ``seed``, ``method``, ``n`` and
        ``labels_sha256``.
    """
    labels = np.asarray(labels)
    try:
        return _split(labels, spec, is_test)
    except ValueError as exc:  # scikit-learn: a part would be empty
        raise TooFewToSplit(f"{len(labels)} images are too few for a train/val/test split with "
                        f"val_fraction={spec.val_fraction}, test_fraction={spec.test_fraction} "
                        f"({exc})") from exc


def _split(labels: np.ndarray, spec: SplitSpec, is_test: np.ndarray | None) -> dict:
    idx = np.arange(len(labels))
    if is_test is not None:
        train = idx[~is_test]
        held = idx[is_test]
        val, test = train_test_split(held, test_size=0.5, random_state=spec.seed,
                                     stratify=_strata(labels[held]))
        method = "predefined train part; test part halved into val/test (stratified)"
    else:
        frac = spec.val_fraction + spec.test_fraction
        if not 0 < frac < 1:
            raise DataError(f"val_fraction + test_fraction must be in (0, 1), got {frac}")
        train, held = train_test_split(idx, test_size=frac, random_state=spec.seed,
                                       stratify=_strata(labels))
        val, test = train_test_split(held, test_size=spec.test_fraction / frac,
                                     random_state=spec.seed, stratify=_strata(labels[held]))
        method = f"stratified fractions val={spec.val_fraction} test={spec.test_fraction}"
    return {"seed": spec.seed, "method": method, "n": int(len(labels)),
            "labels_sha256": labels_digest(labels),
            "train": sorted(map(int, train)), "val": sorted(map(int, val)),
            "test": sorted(map(int, test))}


def apply_splits(pool: Dataset, record: dict) -> SplitData:
    """Cut ``pool`` by a split record, checking that the record belongs to this data."""
    if record.get("n") != len(pool) or record.get("labels_sha256") != labels_digest(pool.labels):
        raise DataError(f"{pool.source}: split record does not match the data "
                        f"({record.get('n')} recorded images vs {len(pool)}, or different labels)")
    parts = {k: pool.take(record[k]) for k in ("train", "val", "test")}
    return SplitData(**parts, record={k: v for k, v in record.items()
                                      if k not in ("train", "val", "test")})


def write_splits(folder: str | Path, record: dict) -> Path:
    """Store a split record as ``folder/splits.json``."""
    return write_json(Path(folder) / SPLITS_FILE, record)


def read_splits(folder: str | Path) -> dict | None:
    """Read ``folder/splits.json`` if present."""
    path = Path(folder) / SPLITS_FILE
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(record, dict):
        raise DataError(f"{path}: expected a JSON object, got {type(record).__name__}")
    missing = {"train", "val", "test", "n", "labels_sha256"} - set(record)
    if missing:
        raise DataError(f"{path}: split record lacks {sorted(missing)}")
    n = record["n"]
    if not isinstance(n, int) or n < 0:
        raise DataError(f"{path}: 'n' must be a non-negative integer, got {n!r}")
    seen: set[int] = set()
    for part in ("train", "val", "test"):
        idx = record[part]
        if not isinstance(idx, list) or not all(isinstance(i, int) and not isinstance(i, bool)
                                                for i in idx):
            raise DataError(f"{path}: '{part}' must be a list of integer indices")
        if not idx:
            raise DataError(f"{path}: the '{part}' part is empty")
        bad = [i for i in idx if not 0 <= i < n]
        if bad:
            raise DataError(f"{path}: '{part}' index {bad[0]} is outside 0..{n - 1}")
        if seen.intersection(idx) or len(set(idx)) != len(idx):
            raise DataError(f"{path}: '{part}' repeats an index or shares one with another part")
        seen.update(idx)
    return record
