"""A deployable student on disk: the QKeras model, its preprocessing, its gate, its provenance.

Layout of an artifact folder::

    model.h5            QKeras (tf-keras) model, logits output
    preprocessing.json  the Preprocessing that feeds it (the firmware's look-up table source)
    artifact.json       class names, the sort gate, metrics, config and versions

:func:`read_artifact` is the one reader of an artifact's metadata (``artifact.json`` through
:class:`ArtifactMeta`, ``preprocessing.json`` through :class:`~cellsort.data.Preprocessing`);
:func:`load_student` adds the model. Every command that takes an artifact goes through them.
"""
from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from cellsort.atomic import write_bytes, write_json
from cellsort.config import validation_problems
from cellsort.data.preprocess import Preprocessing
from cellsort.errors import DataError
from cellsort.gate import Gate
from cellsort.provenance import record

FILES = ("model.h5", "preprocessing.json", "artifact.json")


class ArtifactMeta(BaseModel):
    """``artifact.json``: class names and the sort gate, checked; provenance and metrics are
    kept as they are (extra fields)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    class_names: list[str] = Field(min_length=2)
    threshold: float = Field(0.0, strict=True, allow_inf_nan=False)
    sort_class: int = Field(1, strict=True, ge=0)
    gate: Gate | None = None
    model_name: str | None = None
    n_params: int | None = None
    distill: dict | None = None

    @field_validator("class_names")
    @classmethod
    def _distinct(cls, v):
        if len(set(v)) != len(v) or not all(n.strip() for n in v):
            raise ValueError(f"class names must be distinct and non-empty, got {v}")
        return v

    @model_validator(mode="after")
    def _gate_agrees(self):
        if self.sort_class >= len(self.class_names):
            raise ValueError(f"sort_class {self.sort_class} names no class of {self.class_names}")
        gate = self.gate
        if gate is not None and (gate.threshold != self.threshold or gate.sort_class != self.sort_class):
            raise ValueError(f"gate (threshold {gate.threshold}, class {gate.sort_class}) disagrees "
                             f"with threshold {self.threshold} and sort_class {self.sort_class}")
        return self

    @property
    def resolved_gate(self) -> Gate:
        """The gate (an artifact written before gates were stored: its threshold and class)."""
        return self.gate or Gate(threshold=self.threshold, sort_class=self.sort_class)


@dataclass
class StudentArtifact:
    """A student model with everything needed to run it on raw 8-bit crops.

    Attributes
    ----------
    model : tf_keras.Model
        QKeras model, input (h, w, 1) normalised pixels, output logits.
    preprocessing : Preprocessing
    class_names : tuple of str
    gate : Gate
        Sort gate: sort when the margin of ``gate.sort_class`` over the other classes exceeds
        ``gate.threshold`` (:mod:`cellsort.gate`).
    info : dict
        Provenance and metrics.
    """

    model: object
    preprocessing: Preprocessing
    class_names: tuple[str, ...]
    gate: Gate = field(default_factory=Gate)
    info: dict = field(default_factory=dict)

    @property
    def threshold(self) -> float:
        return self.gate.threshold

    @property
    def sort_class(self) -> int:
        return self.gate.sort_class


def load_qkeras_model(path: str | Path):
    """Load a QKeras (tf-keras) model file through the safe loader (architecture checked first)."""
    from cellsort.student.loader import load_keras_model

    return load_keras_model(path)[0]


def save_student(folder: str | Path, artifact: StudentArtifact) -> Path:
    """Write ``artifact`` into ``folder`` (each file atomically)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if artifact.sort_class >= len(artifact.class_names):
        raise DataError(f"{folder}: the gate sorts class {artifact.sort_class} of "
                        f"{list(artifact.class_names)}")
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        tmp_model = Path(tmp) / "model.h5"
        artifact.model.save(tmp_model, include_optimizer=False)
        write_bytes(folder / "model.h5", tmp_model.read_bytes())
    write_json(folder / "preprocessing.json", artifact.preprocessing.model_dump(mode="json"))
    info = {k: v for k, v in artifact.info.items() if k not in ("created", "versions", "config")}
    write_json(folder / "artifact.json", record(None, **{
        **info, "class_names": list(artifact.class_names), "threshold": artifact.threshold,
        "sort_class": artifact.sort_class, "gate": artifact.gate.model_dump(mode="json"),
        "model_name": artifact.model.name, "n_params": int(artifact.model.count_params())}))
    return folder


def load_preprocessing(folder: str | Path) -> Preprocessing:
    """The :class:`Preprocessing` of an artifact folder (``preprocessing.json``), checked."""
    path = Path(folder) / "preprocessing.json"
    if not path.is_file():
        raise DataError(f"{folder}: not a student artifact (missing preprocessing.json)")
    try:
        return Preprocessing.model_validate_json(path.read_text())
    except ValidationError as exc:
        raise DataError(f"{path}: invalid preprocessing ({validation_problems(exc)})") from exc


def read_artifact(folder: str | Path) -> tuple[ArtifactMeta, Preprocessing]:
    """The checked metadata and preprocessing of an artifact folder (no model is loaded)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: no such student artifact folder")
    for name in FILES:
        if not (folder / name).is_file():
            raise DataError(f"{folder}: not a student artifact (missing {name})")
    prep = load_preprocessing(folder)
    path = folder / "artifact.json"
    try:
        raw = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not valid JSON ({' '.join(str(exc).split())[:120]})") from exc
    if not isinstance(raw, dict):
        raise DataError(f"{path}: expected a JSON object, got {type(raw).__name__}")
    try:
        meta = ArtifactMeta.model_validate(raw)
    except ValidationError as exc:
        raise DataError(f"{path}: invalid artifact metadata ({validation_problems(exc)})") from exc
    return meta, prep


def load_student(folder: str | Path) -> StudentArtifact:
    """Read an artifact folder written by :func:`save_student`: :func:`read_artifact`, then the
    model, which must agree with the metadata (input size, one class name per output)."""
    folder = Path(folder)
    meta, prep = read_artifact(folder)
    model = load_qkeras_model(folder / "model.h5")
    outputs, in_shape = int(model.output_shape[-1]), tuple(model.input_shape[1:3])
    if len(meta.class_names) != outputs:
        raise DataError(f"{folder / 'artifact.json'}: {len(meta.class_names)} class names "
                        f"{meta.class_names} for a model with {outputs} outputs")
    if in_shape != prep.network_size:
        raise DataError(f"{folder / 'preprocessing.json'}: input_size {tuple(prep.input_size)} "
                        f"binned {prep.bin}x{prep.bin} gives {prep.network_size}, not the "
                        f"model's input {in_shape}")
    info = {k: v for k, v in meta.model_dump(mode="json").items()
            if k not in ("class_names", "threshold", "sort_class", "gate") and v is not None}
    return StudentArtifact(model, prep, tuple(meta.class_names), meta.resolved_gate, info)
