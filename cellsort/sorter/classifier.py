"""Classify 8-bit crops with a student artifact: class, probabilities, logit margin, timing."""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from cellsort.errors import ConfigError
from cellsort.firmware.project import open_student
from cellsort.gate import sort_margin
from cellsort.metrics import softmax
from cellsort.student.artifact import StudentArtifact


@dataclass(frozen=True)
class Classification:
    """Result for a batch: per crop class index and name, probabilities, the margin of the
    gate's class over the others (:func:`cellsort.gate.sort_margin`); batch time."""

    labels: np.ndarray
    names: tuple[str, ...]
    probabilities: np.ndarray
    margins: np.ndarray
    seconds: float


#: Narrowest crop side accepted; anything thinner is a mistaken layout (e.g. H x W x RGB).
MIN_SIDE = 8


class CellClassifier:
    """Run a student on raw 8-bit crops with its own preprocessing.

    Parameters
    ----------
    artifact : path or StudentArtifact
    backend : {"emulator", "qkeras"}
        ``emulator`` computes exactly what the FPGA computes (bit-exact integer model);
        ``qkeras`` runs the Keras model.
    emulator_backend : {"auto", "native", "numpy"}
        Back end of the emulator (:class:`~cellsort.firmware.emulator.Emulator`); all give the
        same logits.
    """

    def __init__(self, artifact: str | Path | StudentArtifact,
                 backend: Literal["emulator", "qkeras"] = "emulator",
                 emulator_backend: Literal["auto", "native", "numpy"] = "auto"):
        self.artifact = artifact if isinstance(artifact, StudentArtifact) else open_student(artifact)
        self.artifact_path = None if isinstance(artifact, StudentArtifact) else str(artifact)
        self.preprocessing = self.artifact.preprocessing
        self.class_names = self.artifact.class_names
        #: The artifact's sort gate (class and threshold on its margin over the others).
        self.gate = self.artifact.gate
        self.threshold = self.gate.threshold
        self.backend = backend
        self.emulator = None
        if backend == "emulator":
            from cellsort.firmware.emulator import Emulator

            self.emulator = Emulator.from_model(self.artifact.model, self.preprocessing,
                                                backend=emulator_backend)
            self._logits = self.emulator.logits
        elif backend == "qkeras":
            model, prep = self.artifact.model, self.preprocessing
            self._logits = lambda x: model(prep.normalize(x)[..., None], training=False).numpy()
        else:
            raise ConfigError(f"backend {backend!r} is not one of emulator, qkeras")

    def threshold_for(self, override: float | None = None) -> float:
        """The gate a decision uses: ``override`` where given, else the artifact's (the one
        place that resolves the default, for the sorter, ``cellsort score`` and the API)."""
        return self.threshold if override is None else float(override)

    @property
    def engine(self) -> str:
        """What computes the logits, e.g. ``emulator (native, avx512-vnni)`` or ``qkeras``."""
        if self.emulator is None:
            return self.backend
        return f"emulator ({self.emulator.backend}{', ' + self.emulator.isa if self.emulator.isa else ''})"

    def classify(self, crops: np.ndarray) -> Classification:
        """Classify uint8 crops (N, H, W) or one crop (H, W) of any size (fitted here)."""
        crops = np.asarray(crops)
        if crops.dtype != np.uint8:
            raise TypeError(f"crops must be uint8 camera pixels, got {crops.dtype}")
        batch = crops[None] if crops.ndim == 2 else crops
        if batch.ndim != 3 or 0 in batch.shape:
            raise ValueError(f"crops must be (N, H, W) or one (H, W) grayscale crop, got shape {crops.shape}")
        if min(batch.shape[1:]) < MIN_SIDE:
            raise ValueError(f"crops of {batch.shape[1]}x{batch.shape[2]} px are narrower than "
                             f"{MIN_SIDE} px: an RGB image {crops.shape}? pass grayscale crops")
        t0 = time.perf_counter()
        z = np.asarray(self._logits(self.preprocessing.fit_images(batch)), np.float64)
        seconds = time.perf_counter() - t0
        labels = z.argmax(axis=1)
        margins = sort_margin(z, self.gate.sort_class)
        return Classification(labels, tuple(self.class_names[i] for i in labels), softmax(z),
                              margins, seconds)
