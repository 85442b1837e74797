"""The in-memory dataset every stage uses: uint8 grayscale images, integer labels, class names."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from cellsort.errors import DataError


@dataclass(frozen=True)
class Dataset:
    """Grayscale cell images with labels.

    Parameters
    ----------
    images : ndarray of uint8, shape (N, H, W)
        Bright-field crops, 8-bit (the pixel format of the instrument's Mono8 stream).
    labels : ndarray of int, shape (N,)
        Class indices into ``class_names``.
    class_names : tuple of str
        Names of the classes, index ``i`` naming label ``i``.
    source : str
        Where the data came from (a path or a generator description).
    meta : dict
        Free-form provenance (e.g. the intensity mapping applied to 16-bit data).
    """

    images: np.ndarray
    labels: np.ndarray
    class_names: tuple[str, ...]
    source: str = ""
    meta: Mapping = field(default_factory=dict)

    def __post_init__(self):
        images, labels = np.asarray(self.images), np.asarray(self.labels)
        where = self.source or "dataset"
        if images.dtype != np.uint8 or images.ndim != 3:
            raise DataError(f"{where}: images must be uint8 of shape (N, H, W), "
                            f"got {images.dtype} {images.shape}")
        if labels.ndim != 1 or len(labels) != len(images):
            raise DataError(f"{where}: {len(images)} images but labels of shape {labels.shape}")
        if not np.issubdtype(labels.dtype, np.integer):
            raise DataError(f"{where}: labels must be integers, got {labels.dtype}")
        if len(labels) and (labels.min() < 0 or labels.max() >= len(self.class_names)):
            raise DataError(f"{where}: label values {labels.min()}..{labels.max()} outside "
                            f"0..{len(self.class_names) - 1} ({', '.join(self.class_names)})")
        object.__setattr__(self, "images", images)
        object.__setattr__(self, "labels", labels.astype(np.int64, copy=False))
        object.__setattr__(self, "class_names", tuple(self.class_names))

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def image_shape(self) -> tuple[int, int]:
        """Height and width of the images."""
        return self.images.shape[1], self.images.shape[2]

    def counts(self) -> dict[str, int]:
        """Number of images per class name."""
        per = np.bincount(self.labels, minlength=len(self.class_names))
        return {name: int(n) for name, n in zip(self.class_names, per)}

    def require_two_classes(self, who: str) -> None:
        """DataError unless the dataset has at least two classes (``who`` needs them)."""
        if len(self.class_names) < 2:
            raise DataError(f"{self.source}: {who} needs at least two classes, got "
                            f"{list(self.class_names)}")

    def take(self, indices: Sequence[int] | np.ndarray) -> "Dataset":
        """Return the images at ``indices`` (same classes)."""
        idx = np.asarray(indices, dtype=np.int64)
        return Dataset(self.images[idx], self.labels[idx], self.class_names, self.source, self.meta)

    def relabel(self, groups: Mapping[str, Sequence[str]]) -> "Dataset":
        """Merge and select classes: ``{"B": ["B"], "T": ["T4", "T8"]}``.

        Images of classes named in no group are dropped; new labels follow the order of
        ``groups``.
        """
        if not groups:
            raise DataError(f"{self.source or 'dataset'}: the task names no classes")
        unknown = {c for olds in groups.values() for c in olds} - set(self.class_names)
        if unknown:
            raise DataError(f"{self.source or 'dataset'}: no class named {sorted(unknown)}; "
                            f"classes are {list(self.class_names)}")
        lut = np.full(len(self.class_names), -1, dtype=np.int64)
        for new, olds in enumerate(groups.values()):
            for old in olds:
                lut[self.class_names.index(old)] = new
        mapped = lut[self.labels]
        keep = np.flatnonzero(mapped >= 0)
        return Dataset(self.images[keep], mapped[keep], tuple(groups), self.source, self.meta)

    def subset(self, classes: Sequence[str]) -> "Dataset":
        """Keep only ``classes`` (in that order), e.g. ``["B", "T4"]`` for the paper's task."""
        return self.relabel({c: [c] for c in classes})

    def require_images(self, what: str = "the task") -> None:
        """DataError unless every class has at least one image (``what`` chose them)."""
        empty = [c for c, n in self.counts().items() if n == 0]
        if len(self) == 0 or empty:
            raise DataError(f"{self.source or 'dataset'}: no images of class {empty or list(self.class_names)} "
                            f"for {what}")

    def stats(self) -> dict[str, float]:
        """Mean and standard deviation of the pixels scaled to [0, 1]."""
        x = self.images.astype(np.float64) / 255.0
        return {"mean": float(x.mean()), "std": float(x.std())}


def parse_task(spec: str) -> dict[str, list[str]]:
    """Parse a task such as ``"B,T4"`` or ``"B:B;T:T4+T8"`` into relabel groups.

    Examples
    --------
    >>> parse_task("B,T4")
    {'B': ['B'], 'T4': ['T4']}
    >>> parse_task("B:B;T:T4+T8")
    {'B': ['B'], 'T': ['T4', 'T8']}
    """
    text = spec.strip()
    if ":" not in text:
        names = [c.strip() for c in text.split(",")]
        groups = {c: [c] for c in names if c}
        if "" in names or len(groups) != len(names):
            raise DataError(f"task {spec!r}: expected distinct class names separated by commas, "
                            "e.g. B,T4")
        return groups
    groups = {}
    for part in text.split(";"):
        name, _, members = part.partition(":")
        name, members = name.strip(), [m.strip() for m in members.split("+")]
        if not name or name in groups or not all(members):
            raise DataError(f"task {spec!r}: expected NAME:CLASS+CLASS groups separated by "
                            "semicolons, e.g. B:B;T:T4+T8")
        groups[name] = members
    return groups


def task_groups(task: str | None, class_names) -> dict[str, list[str]] | None:
    """The relabel groups a student's ``task`` makes of a teacher's classes, or None where the
    task names no grouping (no task, or a reader's own task name such as Jurkat's
    ``g1-vs-g2``): the student's classes are then the teacher's own."""
    if not task:
        return None
    groups = parse_task(task)
    return groups if list(groups) == list(class_names) else None


def concat(datasets: Sequence[Dataset], source: str = "") -> Dataset:
    """Concatenate datasets that share class names and image shape."""
    first = datasets[0]
    for d in datasets[1:]:
        if d.class_names != first.class_names or d.image_shape != first.image_shape:
            raise DataError(f"cannot concatenate {d.source} with {first.source}: classes or "
                            f"image shapes differ ({d.class_names} {d.image_shape} vs "
                            f"{first.class_names} {first.image_shape})")
    return Dataset(np.concatenate([d.images for d in datasets]),
                   np.concatenate([d.labels for d in datasets]),
                   first.class_names, source or first.source, first.meta)
