"""A deployable student on disk: the QKeras model, its preprocessing and its provenance.

Layout of an artifact folder::

    model.h5            QKeras (tf-keras) model, logits output
    preprocessing.json  the Preprocessing that feeds it (the firmware's look-up table source)
    artifact.json       class names, decision threshold, metrics, config and versions
"""
from __future__ import annotations

import json
import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from cellsort.atomic import write_bytes, write_json
from cellsort.data.dataset import DataError
from cellsort.data.preprocess import Preprocessing
from cellsort.provenance import record


@dataclass
class StudentArtifact:
    """A student model with everything needed to run it on raw 8-bit crops.

    Attributes
    ----------
    model : tf_keras.Model
        QKeras model, input (h, w, 1) normalised pixels, output logits.
    preprocessing : Preprocessing
    class_names : tuple of str
    threshold : float
        Sort gate on the logit margin ``logit[1] - logit[0]`` (positive class = index 1).
    info : dict
        Provenance and metrics.
    """

    model: object
    preprocessing: Preprocessing
    class_names: tuple[str, ...]
    threshold: float = 0.0
    info: dict = field(default_factory=dict)


def load_qkeras_model(path: str | Path):
    """Load a QKeras (tf-keras) model file through the safe loader (architecture checked first)."""
    from cellsort.student.loader import load_keras_model

    return load_keras_model(path)[0]


def save_student(folder: str | Path, artifact: StudentArtifact) -> Path:
    """Write ``artifact`` into ``folder`` (each file atomically)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        tmp_model = Path(tmp) / "model.h5"
        artifact.model.save(tmp_model, include_optimizer=False)
        write_bytes(folder / "model.h5", tmp_model.read_bytes())
    write_json(folder / "preprocessing.json", artifact.preprocessing.model_dump(mode="json"))
    write_json(folder / "artifact.json", record(
        None, class_names=list(artifact.class_names), threshold=artifact.threshold,
        model_name=artifact.model.name, n_params=int(artifact.model.count_params()),
        **artifact.info))
    return folder


def load_preprocessing(folder: str | Path) -> Preprocessing:
    """The :class:`Preprocessing` of an artifact folder (``preprocessing.json``), checked."""
    path = Path(folder) / "preprocessing.json"
    if not path.is_file():
        raise DataError(f"{folder}: not a student artifact (missing preprocessing.json)")
    try:
        return Preprocessing.model_validate_json(path.read_text())
    except ValueError as exc:
        raise DataError(f"{path}: invalid preprocessing ({' '.join(str(exc).split())})") from exc


def load_student(folder: str | Path) -> StudentArtifact:
    """Read an artifact folder written by :func:`save_student`, checking that its metadata is
    well-formed and agrees with the model (input size, one class name per output)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: no such student artifact folder")
    for name in ("model.h5", "preprocessing.json", "artifact.json"):
        if not (folder / name).is_file():
            raise DataError(f"{folder}: not a student artifact (missing {name})")
    prep = load_preprocessing(folder)
    meta_path = folder / "artifact.json"
    try:
        meta = json.loads(meta_path.read_text())
    except ValueError as exc:
        raise DataError(f"{meta_path}: not valid JSON ({exc})") from exc
    names, threshold = _check_meta(meta_path, meta)
    model = load_qkeras_model(folder / "model.h5")
    outputs, in_shape = int(model.output_shape[-1]), tuple(model.input_shape[1:3])
    if len(names) != outputs:
        raise DataError(f"{meta_path}: {len(names)} class names {list(names)} for a model with "
                        f"{outputs} outputs")
    if in_shape != prep.network_size:
        raise DataError(f"{folder / 'preprocessing.json'}: input_size {tuple(prep.input_size)} "
                        f"binned {prep.bin}x{prep.bin} gives {prep.network_size}, not the "
                        f"model's input {in_shape}")
    info = {k: v for k, v in meta.items() if k not in ("class_names", "threshold")}
    return StudentArtifact(model, prep, names, threshold, info)


def _check_meta(path: Path, meta) -> tuple[tuple[str, ...], float]:
    """Class names (distinct non-empty strings) and the threshold (a finite number)."""
    if not isinstance(meta, dict):
        raise DataError(f"{path}: expected a JSON object, got {type(meta).__name__}")
    names = meta.get("class_names")
    if (not isinstance(names, list) or len(names) < 2 or len(set(names)) != len(names)
            or not all(isinstance(n, str) and n for n in names)):
        raise DataError(f"{path}: class_names must be a list of at least two distinct names, "
                        f"got {names!r}")
    threshold = meta.get("threshold", 0.0)
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not math.isfinite(threshold):
        raise DataError(f"{path}: threshold must be a finite number, got {threshold!r}")
    return tuple(names), float(threshold)
