"""Quantization-aware distillation of a QKeras student from cached teacher soft targets.

Every method trains on the same rows (each training crop and its augmented views, as
cached by the teacher) and the same quantized student; only the loss differs:

=============  =====================================================================
``labels``     cross-entropy on labels
``published``  the released recipe: mixup + cross-entropy, no teacher term
``kd``         ``(1-alpha)·CE + alpha·T²·KL`` against the teacher's soft targets
``kd-margin``  ``kd`` plus ``beta`` times the squared error of the student's logit margin
               against the teacher's log-odds (two-class students)
=============  =====================================================================

Mixup, when on, mixes the inputs, the labels and the teacher targets with one ``lambda`` and
one pairing, so a mixed image is always scored against the mixture of its own targets.
The mixup parameter is its own field (``mixup``), not the KD weight (``alpha``).

Resolution distillation: the teacher's targets belong to the full-resolution crop of each
cached row; the student sees that very crop (and view, and mixup) through its own
:class:`~cellsort.data.Preprocessing`, cropped to ``input_size`` and binned ``bin`` x ``bin``
(``bin=4``: a 48x48 crop seen as 12x12), so a coarse student learns from a teacher that saw
every pixel.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator

from cellsort.config import StrictModel
from cellsort.data.dataset import Dataset
from cellsort.data.preprocess import Preprocessing
from cellsort.data.splits import SplitData
from cellsort.distill.targets import merged_probs, student_rows
from cellsort.errors import ConfigError, DataError
from cellsort.files import read_npz
from cellsort.gate import choose_gate, sort_margin
from cellsort.keras_compat import import_tensorflow, tf_keras
from cellsort.metrics import classification_metrics, write_predictions
from cellsort.progress import track
from cellsort.student.artifact import StudentArtifact, save_student
from cellsort.student.registry import build_student, check_student_options

Method = Literal["labels", "published", "kd", "kd-margin"]


class DistillConfig(StrictModel):
    """Student, loss and schedule of a distillation run.

    ``input_size`` is the crop and ``bin`` its binning; the student is built for the binned
    size (``input_size / bin``). After training, the sort gate for class ``sort_class`` is
    chosen on the validation split for ``min_purity`` (:func:`cellsort.gate.choose_gate`) and
    stored in the artifact.
    """

    student: str = "paper"
    student_options: dict = {}
    input_size: tuple[Annotated[int, Field(ge=8, le=1024)], Annotated[int, Field(ge=8, le=1024)]] = (48, 48)
    bin: int = Field(1, ge=1, le=16)
    method: Method = "kd-margin"
    epochs: int = Field(20, ge=1, le=100_000)
    batch_size: int = Field(128, ge=1, le=65_536)
    lr: float = Field(3e-3, gt=0, le=10)
    temperature: float = Field(4.0, gt=0, le=100)
    alpha: float = Field(0.7, ge=0, le=1)
    beta: float = Field(0.25, ge=0, le=100)
    mixup: float = Field(0.0, ge=0, le=10)
    patience: int = Field(6, ge=1)
    seed: int = Field(0, ge=0)
    sort_class: int = Field(1, ge=0, le=1023)
    min_purity: float = Field(0.95, gt=0, le=1)

    @model_validator(mode="after")
    def _student(self):
        check_student_options(self.student, self.student_options)
        return self

    @classmethod
    def for_design(cls, design, **schedule) -> "DistillConfig":
        """The config training a :class:`~cellsort.student.design.StudentDesign` (``schedule``:
        method, epochs, seed, ...)."""
        return cls(student=design.student, student_options=design.options,
                   input_size=(design.crop, design.crop), bin=design.bin, **schedule)


def load_soft_targets(path: str | Path) -> dict:
    """Read a teacher's ``soft_targets.npz`` (no pickle), checking that its arrays belong
    together: one uint8 crop, one finite logit row and one label per cached view."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no soft-target cache (train a teacher first)")
    cache = read_npz(path, "soft-target cache")
    missing = [k for k in ("images", "logits", "labels", "class_names") if k not in cache]
    if missing:
        raise DataError(f"{path}: soft-target cache lacks {missing}")
    images, logits, labels, names = (cache[k] for k in ("images", "logits", "labels", "class_names"))
    n = len(images)
    if images.dtype != np.uint8 or images.ndim != 3 or logits.shape != (n, len(names)) \
            or labels.shape != (n,):
        raise DataError(f"{path}: soft-target arrays do not fit together (images {images.dtype} "
                        f"{images.shape}, logits {logits.shape}, labels {labels.shape}, "
                        f"{len(names)} classes)")
    if not np.isfinite(logits).all() or labels.dtype.kind not in "iu" or \
            (n and (labels.min() < 0 or labels.max() >= len(names))):
        raise DataError(f"{path}: soft-target logits must be finite and labels in 0..{len(names) - 1}")
    return cache


def training_rows(data: SplitData, cache: dict | None, groups) -> dict:
    """The rows a student trains on: cached views with teacher logits, or plain train crops."""
    if cache is None:
        return {"images": data.train.images, "labels": data.train.labels, "teacher_logits": None}
    teacher_classes = [str(c) for c in cache["class_names"]]
    keep, labels = student_rows(cache["labels"], teacher_classes, groups)
    return {"images": cache["images"][keep], "labels": labels,
            "teacher_logits": cache["logits"][keep], "teacher_classes": teacher_classes}


def _losses(cfg: DistillConfig):
    from cellsort.distill.losses import cross_entropy, kd_kl, margin_mse

    def loss(y, t_hot, t_one, z):
        ce = cross_entropy(y, z)
        if cfg.method in ("labels", "published"):
            return ce
        total = (1 - cfg.alpha) * ce + cfg.alpha * kd_kl(t_hot, z, cfg.temperature)
        if cfg.method == "kd-margin":
            total += cfg.beta * margin_mse(t_one, z)
        return total
    return loss


def student_logits(model, prep: Preprocessing, images: np.ndarray, batch: int = 512) -> np.ndarray:
    """Logits of a student (QKeras, the software path) on uint8 crops, in batches."""
    table = prep.pixel_table().astype(np.float32)
    return np.concatenate([model(table[prep.fit_images(images[i:i + batch])][..., None],
                                 training=False).numpy() for i in range(0, len(images), batch)])


def distill(data: SplitData, cfg: DistillConfig, out: str | Path, cache: dict | None = None,
            groups=None, preprocessing: Preprocessing | None = None, progress: bool = True,
            teacher_ref: str | None = None, initial_weights: list | None = None,
            extra_info: dict | None = None, on_epoch=None, test: bool = True) -> dict:
    """Train a quantized student with ``cfg.method`` and save it as an artifact in ``out``.

    Parameters
    ----------
    data : SplitData
        The student's task (validation and test crops).
    cache : dict, optional
        Teacher soft targets (:func:`load_soft_targets`); required by ``kd`` methods.
    groups : mapping, optional
        Student class → teacher classes (default: the student's class names).
    initial_weights : list of ndarray, optional
        Start from these weights (QAT fine-tuning of an imported student).
    extra_info : dict, optional
        Stored in the artifact beside the distillation summary.
    on_epoch : callable, optional
        Called as ``on_epoch(epoch, val_metrics)`` after each epoch; an exception it raises
        (e.g. a search pruning a hopeless trial) stops the run and propagates.
    test : bool
        Measure the test split (False: a search's trials, where the test split must stay
        unseen until the search has chosen).

    Returns
    -------
    dict
        Validation and test metrics, best epoch, history.
    """
    keras = tf_keras()
    tf = import_tensorflow()

    data.require_parts("a student")
    data.train.require_two_classes("a student")
    if cfg.method.startswith("kd") and cache is None:
        raise DataError(f"method {cfg.method!r} needs a teacher's soft targets")
    if cfg.sort_class >= len(data.train.class_names):
        raise ConfigError(f"sort_class {cfg.sort_class} names no class of {list(data.train.class_names)}")
    if cfg.method == "kd-margin" and len(data.train.class_names) != 2:
        raise DataError("kd-margin matches a two-class logit margin; use kd for more classes")
    keras.utils.set_random_seed(cfg.seed)
    tf.config.experimental.enable_op_determinism()
    names = data.train.class_names
    groups = groups or {c: [c] for c in names}
    try:
        prep = preprocessing or Preprocessing(input_size=cfg.input_size, bin=cfg.bin)
    except ValueError as exc:
        raise ConfigError(f"distillation input_size {cfg.input_size} with bin {cfg.bin}: "
                          f"{' '.join(str(exc).split())}") from exc
    rows = training_rows(data, cache, groups)
    images = prep.fit_images(rows["images"])
    table = prep.pixel_table().astype(np.float32)
    onehot = np.eye(len(names), dtype=np.float32)[rows["labels"]]
    if rows["teacher_logits"] is not None:
        t_hot = merged_probs(rows["teacher_logits"], rows["teacher_classes"], groups,
                             cfg.temperature).astype(np.float32)
        t_one = merged_probs(rows["teacher_logits"], rows["teacher_classes"], groups).astype(np.float32)
    else:
        t_hot = t_one = onehot
    try:
        model = build_student(cfg.student, len(names), input_size=prep.network_size, **cfg.student_options)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"student {cfg.student!r} with options {cfg.student_options}: {exc}") from exc
    if initial_weights is not None:
        model.set_weights(initial_weights)
    steps = -(-len(images) // cfg.batch_size)
    opt = keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(cfg.lr, cfg.epochs * steps))
    loss_fn = _losses(cfg)

    @tf.function(autograph=False)
    def step(x, y, th, t1):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, th, t1, model(x, training=True))
        opt.apply_gradients(zip(tape.gradient(loss, model.trainable_variables),
                                model.trainable_variables))
        return loss

    use_mixup = cfg.mixup > 0 or cfg.method == "published"
    mix_param = cfg.mixup if cfg.mixup > 0 else 0.2
    history, best, best_weights, bad = [], -1.0, None, 0
    for epoch in range(cfg.epochs):
        rng = np.random.default_rng([cfg.seed, epoch])
        order = rng.permutation(len(images))
        total = 0.0
        for b in track(range(steps), f"student ({cfg.method}) epoch {epoch + 1}/{cfg.epochs}",
                       steps, progress):
            idx = order[b * cfg.batch_size:(b + 1) * cfg.batch_size]
            x, y, th, t1 = table[images[idx]][..., None], onehot[idx], t_hot[idx], t_one[idx]
            if use_mixup:
                lam, pair = np.float32(rng.beta(mix_param, mix_param)), rng.permutation(len(idx))
                x, y, th, t1 = (lam * a + (1 - lam) * a[pair] for a in (x, y, th, t1))
            total += float(step(x, y, th, t1)) * len(idx)
        val = classification_metrics(data.val.labels, student_logits(model, prep, data.val.images))
        history.append({"epoch": epoch + 1, "train_loss": total / len(images),
                        **{f"val_{k}": v for k, v in val.items()}})
        if on_epoch is not None:
            on_epoch(epoch + 1, val)
        if val["accuracy"] > best:
            best, best_weights, bad = val["accuracy"], model.get_weights(), 0
        else:
            bad += 1
            if bad >= cfg.patience:
                break
    model.set_weights(best_weights)
    gate = choose_gate(sort_margin(student_logits(model, prep, data.val.images), cfg.sort_class),
                       data.val.labels, cfg.min_purity, cfg.sort_class)
    test_logits = student_logits(model, prep, data.test.images) if test else None
    test_metrics = classification_metrics(data.test.labels, test_logits) if test else None
    summary = {"method": cfg.method, "val_accuracy": best, "test": test_metrics, "history": history,
               "best_epoch": int(np.argmax([h["val_accuracy"] for h in history]) + 1),
               "train_rows": int(len(images)), "teacher": teacher_ref,
               "config": cfg.model_dump(mode="json"), "split": data.record,
               "gate": gate.model_dump(mode="json")}
    save_student(out, StudentArtifact(model, prep, names, gate, {**(extra_info or {}),
                                                                 "distill": summary}))
    if test:
        write_predictions(Path(out) / "predictions.npz", data.test.labels, test_logits, names)
    return summary


def evaluate_student(model, prep: Preprocessing, data: Dataset) -> dict:
    """Metrics of a student on a dataset (software path, QKeras)."""
    return classification_metrics(data.labels, student_logits(model, prep, data.images))
