"""The import workflow: a float model someone already has → a quantized student artifact.

Method: the float model is read safely and quantized with formats chosen on calibration
crops (:func:`cellsort.student.importer.import_float_model`): the training split of
``data`` where given, else 300 synthetic crops (said so in the artifact). With ``data``, the
quantized student is scored on the test split, optionally fine-tuned quantization-aware on
the training split (:func:`cellsort.distill.train.distill`, labels, learning rate
``ImportConfig.finetune_lr``), and its sort gate is chosen on the validation split; without
data the gate stays at margin 0 (the arg-max decision).
"""
from __future__ import annotations

from pathlib import Path

from pydantic import Field

from cellsort.config import StrictModel
from cellsort.data.preprocess import Preprocessing
from cellsort.distill.train import (
    DistillConfig,
    distill,
    evaluate_student,
    student_logits,
)
from cellsort.errors import ConfigError
from cellsort.gate import Gate, choose_gate, sort_margin
from cellsort.student.artifact import StudentArtifact, save_student
from cellsort.student.quantize import QuantConfig


class ImportConfig(StrictModel):
    """How a float model becomes a student: its classes, architecture name (for a PyTorch
    state_dict), quantization, optional QAT fine-tuning and the gate's purity target."""

    class_names: tuple[str, ...] = ("B", "T4")
    name: str = "paper"
    quant: QuantConfig = QuantConfig()
    finetune_epochs: int = Field(0, ge=0, le=10_000)
    finetune_lr: float = Field(5e-4, gt=0, le=1)
    sort_class: int = Field(1, ge=0)
    min_purity: float = Field(0.95, gt=0, le=1)
    calibration_crops: int = Field(500, ge=10, le=1_000_000)


def import_student(path: str | Path, out: str | Path, prep: Preprocessing, cfg: ImportConfig = ImportConfig(),
                   data=None, log=print) -> dict:
    """Import ``path`` as a student artifact in ``out`` (see the module doc).

    Parameters
    ----------
    data : SplitData, optional
        The lab's crops with the model's classes: calibration (train), score (test), gate
        (validation), fine-tuning (train).

    Returns
    -------
    dict
        What the artifact records: the quantization report, test metrics before and after
        fine-tuning, the gate.
    """
    from cellsort.student.importer import import_float_model

    names = tuple(cfg.class_names)
    if len(names) < 2 or len(set(names)) != len(names) or not all(n.strip() for n in names):
        raise ConfigError(f"class names {list(names)}: need two or more distinct non-empty names")
    if cfg.sort_class >= len(names):
        raise ConfigError(f"sort_class {cfg.sort_class} names no class of {list(names)}")
    if cfg.finetune_epochs and data is None:
        raise ConfigError("fine-tuning needs labelled data (--data)")
    if data is not None:
        data.train.require_two_classes("importing a model")
        calibration, source = data.train.images[:cfg.calibration_crops], "the training split"
    else:
        from cellsort.data.synth import synthesize

        calibration = synthesize(300, seed=0).images
        source = "300 synthetic crops (no data given)"
    result = import_float_model(path, prep, calibration, cfg.quant, cfg.name, len(names))
    info = {"imported_from": str(path), "quantization": "post-training, formats from data",
            "calibration": source, "quantization_report": result.report,
            "import_config": cfg.model_dump(mode="json")}
    if data is None:
        save_student(out, StudentArtifact(result.model, prep, names, Gate(sort_class=cfg.sort_class), info))
        return info
    info["post_training_test"] = evaluate_student(result.model, prep, data.test)
    log(f"quantized accuracy on the test split: {info['post_training_test']['accuracy']:.3f}")
    if cfg.finetune_epochs:
        info["quantization"] += ", then quantization-aware fine-tuning (registered student formats)"
        dcfg = DistillConfig(student=cfg.name, input_size=tuple(prep.input_size), bin=prep.bin,
                             method="labels", epochs=cfg.finetune_epochs, lr=cfg.finetune_lr,
                             sort_class=cfg.sort_class, min_purity=cfg.min_purity)
        summary = distill(data, dcfg, out, preprocessing=prep,
                          initial_weights=result.model.get_weights(), extra_info=info)
        info.update(finetuned_test=summary["test"], gate=summary["gate"])
        log(f"after QAT fine-tuning (test): {summary['test']['accuracy']:.3f}")
        return info
    gate = choose_gate(sort_margin(student_logits(result.model, prep, data.val.images), cfg.sort_class),
                       data.val.labels, cfg.min_purity, cfg.sort_class)
    info["gate"] = gate.model_dump(mode="json")
    save_student(out, StudentArtifact(result.model, prep, names, gate,
                                      {k: v for k, v in info.items() if k != "gate"}))
    return info
