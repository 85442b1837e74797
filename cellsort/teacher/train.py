"""Train a teacher with exact resume, then cache its soft targets for the student.

Randomness is derived from ``(seed, epoch)`` at the start of every epoch (batch order and
augmentation), so a run resumed from the checkpoint of epoch ``k`` continues exactly as the
uninterrupted run would have.

Run folder::

    checkpoint.pt      last epoch: model, optimizer, scheduler, history (written atomically)
    best.pt            weights of the best validation epoch
    teacher.json       config, class names, metrics, versions
    predictions.npz    test-split labels and logits of the best model (for reports)
    soft_targets.npz   training crops (original + augmented views, uint8) with teacher logits
"""
from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import Field, field_validator

from cellsort.atomic import atomic_open, write_npz
from cellsort.config import StrictModel
from cellsort.data.dataset import Dataset
from cellsort.data.preprocess import PAPER_MEAN, PAPER_STD
from cellsort.data.splits import SplitData
from cellsort.errors import ConfigError, DataError
from cellsort.files import read_torch
from cellsort.metrics import classification_metrics, write_predictions
from cellsort.outputs import check_writable
from cellsort.progress import track
from cellsort.records import TeacherRecord
from cellsort.teacher.augment import AugmentConfig, augment
from cellsort.teacher.nets import build_teacher, teacher_builder


class TeacherConfig(StrictModel):
    """Teacher architecture and training schedule.

    Parameters
    ----------
    arch : str
        A registered teacher (``resnet18``, ``resnet50``, ``resnet10``).
    width : int
        Channels of the first stage (standard ResNets: 64).
    input_size : int
        Crops are resized to this side (paper: 120 from 64); 0 keeps the native size.
    epochs, batch_size, lr, weight_decay : training schedule (AdamW + cosine).
    patience : int
        Early stopping after this many epochs without a better validation accuracy.
    views : int
        Views per training image in the soft-target cache (the original plus ``views-1``
        augmented ones).
    """

    arch: str = "resnet18"
    width: int = Field(64, ge=1, le=1024)
    input_size: int = Field(120, ge=0, le=1024)
    epochs: int = Field(30, ge=1, le=100_000)
    batch_size: int = Field(64, ge=1, le=65_536)
    lr: float = Field(2e-3, gt=0, le=10)
    weight_decay: float = Field(5e-4, ge=0, le=1)
    patience: int = Field(5, ge=1)
    seed: int = Field(0, ge=0)
    views: int = Field(4, ge=1, le=64)
    augment: AugmentConfig = AugmentConfig()

    @field_validator("arch")
    @classmethod
    def _arch(cls, v):
        teacher_builder(v, ValueError)
        return v

    @field_validator("input_size")
    @classmethod
    def _input_size(cls, v):
        if 0 < v < 16:
            raise ValueError(f"input_size must be 0 (native size) or at least 16, got {v}")
        return v


def device() -> torch.device:
    """CUDA when present, else the CPU with all its threads."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    torch.set_num_threads(os.cpu_count() or 1)
    return torch.device("cpu")


def to_input(views: torch.Tensor, cfg: TeacherConfig) -> torch.Tensor:
    """uint8 views (N, H, W) → normalised float input (N, 1, S, S) of the teacher."""
    x = (views.float().unsqueeze(1) / 255.0 - PAPER_MEAN) / PAPER_STD
    if cfg.input_size and x.shape[-1] != cfg.input_size:
        x = F.interpolate(x, size=(cfg.input_size, cfg.input_size), mode="bilinear",
                          align_corners=False)
    return x


@torch.no_grad()
def predict_logits(model: torch.nn.Module, images: np.ndarray, cfg: TeacherConfig,
                   batch: int = 256) -> np.ndarray:
    """Teacher logits (float32, (N, C)) of uint8 crops."""
    model.eval()
    dev = next(model.parameters()).device
    out = [model(to_input(torch.from_numpy(images[i:i + batch]), cfg).to(dev)).float().cpu()
           for i in range(0, len(images), batch)]
    return torch.cat(out).numpy()


def _save_torch(path: Path, obj) -> None:
    buf = io.BytesIO()
    torch.save(obj, buf)
    with atomic_open(path, "wb") as fh:
        fh.write(buf.getvalue())


def load_torch(path: str | Path) -> dict:
    """Load a checkpoint or weights file safely (``weights_only=True``)."""
    return read_torch(path, "checkpoint")


def _epoch(model, opt, sched, train: Dataset, cfg: TeacherConfig, epoch: int, dev, progress) -> float:
    model.train()
    gen = torch.Generator().manual_seed(cfg.seed * 100_003 + epoch)
    order = torch.randperm(len(train), generator=gen)
    images, labels = torch.from_numpy(train.images), torch.from_numpy(train.labels)
    total, batches = 0.0, order.split(cfg.batch_size)
    for idx in track(batches, f"teacher epoch {epoch + 1}/{cfg.epochs}", len(batches), progress):
        x = to_input(augment(images[idx], cfg.augment, gen), cfg).to(dev)
        loss = F.cross_entropy(model(x), labels[idx].to(dev))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        total += loss.item() * len(idx)
    return total / len(train)


#: Files of a teacher run folder.
RUN_FILES = ("checkpoint.pt", "best.pt", "teacher.json", "soft_targets.npz")


def run_identity(data: SplitData, cfg: TeacherConfig) -> dict:
    """What a checkpoint must match to be resumed: the config and the data (split record,
    class names, and a digest of the training labels)."""
    from cellsort.data.splits import labels_digest

    return {"config": cfg.model_dump(mode="json"), "classes": list(data.train.class_names),
            "split": {k: v for k, v in data.record.items() if k != "method"},
            "train": [len(data.train), labels_digest(data.train.labels)]}


@dataclass(frozen=True)
class TeacherRun:
    """A teacher run whose inputs are all checked (:func:`open_teacher_run`): the folder, the
    checkpoint to resume from, and the files of an earlier run that ``force`` replaces."""

    out: Path
    resume_from: dict | None
    replace: tuple[str, ...]


def open_teacher_run(data: SplitData, cfg: TeacherConfig, out: str | Path, resume: bool = False,
                     force: bool = False) -> TeacherRun:
    """Check everything a teacher run needs before any work: three non-empty parts with two
    classes or more, a writable run folder, no earlier run unless ``resume`` (whose checkpoint
    must load and match the data and config) or ``force``. Nothing is measured or changed."""
    out = Path(out)
    data.require_parts("a teacher")
    data.train.require_two_classes("a teacher")
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{out}: is a file, not a run folder")
    check_writable(out)
    present = tuple(name for name in RUN_FILES if (out / name).exists())
    if present and not resume and not force:
        raise ConfigError(f"{out}: holds a teacher run ({', '.join(present)}); pass --resume to "
                          f"continue it or --force to replace it")
    ckpt = None
    if resume and (out / "checkpoint.pt").is_file():
        ckpt = _resume_state(out / "checkpoint.pt", run_identity(data, cfg))
    return TeacherRun(out, ckpt, () if resume else present)


def _resume_state(path: Path, identity: dict) -> dict:
    """A checkpoint's contents, checked: every part present and made by the same data and config."""
    ckpt = load_torch(path)
    parts = ("model", "opt", "sched", "state", "identity")
    missing = [k for k in parts if k not in ckpt] if isinstance(ckpt, dict) else list(parts)
    if missing:
        raise DataError(f"{path}: incomplete checkpoint (lacks {', '.join(missing)}); "
                        f"start a new run with --force")
    saved = json.loads(ckpt["identity"])
    config = saved.get("config") or {}
    changed = sorted(k for k, v in identity["config"].items() if config.get(k) != v)
    if changed:
        raise DataError(f"{path}: was made with other config (differs in {', '.join(changed)}); "
                        f"resume needs the same data and config, or start a new run with --force")
    if any(saved.get(part) != identity[part] for part in ("classes", "split", "train")):
        raise DataError(f"{path}: was made with other data; resume needs the same data and "
                        f"config, or start a new run with --force")
    return ckpt


def train_teacher(data: SplitData, cfg: TeacherConfig, out: str | Path, resume: bool = False,
                  progress: bool = True, stop_after: int | None = None, force: bool = False,
                  run: TeacherRun | None = None) -> dict:
    """Train (or resume) a teacher into ``out``; returns the run summary.

    Parameters
    ----------
    data : SplitData
        Train / validation / test crops (uint8) with the teacher's classes.
    resume : bool
        Continue from ``out/checkpoint.pt``; it must have been made by the same data and
        config (:func:`run_identity`).
    force : bool
        Replace a run already in ``out`` (refused otherwise).
    stop_after : int, optional
        Stop after this many epochs in this call (simulates a killed run; for tests).
    run : TeacherRun, optional
        What :func:`open_teacher_run` checked for these arguments (checked here otherwise).
    """
    run = run or open_teacher_run(data, cfg, out, resume, force)
    out, ckpt, identity = run.out, run.resume_from, run_identity(data, cfg)
    for name in run.replace:
        (out / name).unlink()
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(cfg.seed)
    dev = device()
    n_classes = len(data.train.class_names)
    model = build_teacher(cfg.arch, n_classes, cfg.width).to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps = cfg.epochs * -(-len(data.train) // cfg.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=steps,
                                                pct_start=0.15, anneal_strategy="cos")
    state = {"epoch": 0, "best_val": -1.0, "best_epoch": -1, "bad_epochs": 0, "history": []}
    if ckpt is not None:
        try:
            model.load_state_dict(ckpt["model"])
            opt.load_state_dict(ckpt["opt"])
            sched.load_state_dict(ckpt["sched"])
            state = json.loads(ckpt["state"])
        except (RuntimeError, ValueError, KeyError, TypeError) as exc:
            raise DataError(f"{out / 'checkpoint.pt'}: does not fit this teacher "
                            f"({' '.join(str(exc).split())[:200]})") from exc
    done_here = 0
    while state["epoch"] < cfg.epochs and state["bad_epochs"] < cfg.patience:
        loss = _epoch(model, opt, sched, data.train, cfg, state["epoch"], dev, progress)
        val = classification_metrics(data.val.labels, predict_logits(model, data.val.images, cfg))
        state["history"].append({"epoch": state["epoch"] + 1, "train_loss": loss, **{
            f"val_{k}": v for k, v in val.items()}})
        if val["accuracy"] > state["best_val"]:
            state.update(best_val=val["accuracy"], best_epoch=state["epoch"] + 1, bad_epochs=0)
            _save_torch(out / "best.pt", model.state_dict())
        else:
            state["bad_epochs"] += 1
        state["epoch"] += 1
        _save_torch(out / "checkpoint.pt", {"model": model.state_dict(), "opt": opt.state_dict(),
                                            "sched": sched.state_dict(), "state": json.dumps(state),
                                            "identity": json.dumps(identity)})
        done_here += 1
        if stop_after is not None and done_here >= stop_after:
            return {"stopped_at_epoch": state["epoch"], "history": state["history"]}
    model.load_state_dict(load_torch(out / "best.pt"))
    test_logits = predict_logits(model, data.test.images, cfg)
    test = classification_metrics(data.test.labels, test_logits)
    write_predictions(out / "predictions.npz", data.test.labels, test_logits, data.train.class_names)
    cache = cache_soft_targets(model, data.train, cfg, out / "soft_targets.npz", progress)
    summary = {"class_names": list(data.train.class_names), "best_epoch": state["best_epoch"],
               "val_accuracy": state["best_val"], "test": test, "history": state["history"],
               "n_params": int(sum(p.numel() for p in model.parameters())),
               "soft_targets": {"rows": cache, "views": cfg.views}, "split": data.record}
    TeacherRecord.make(cfg, **summary).write(out)
    return summary


def cache_soft_targets(model, train: Dataset, cfg: TeacherConfig, path: Path,
                       progress: bool = True) -> int:
    """Write the training crops and ``views-1`` augmented views of each with teacher logits.

    Each row pairs one uint8 crop with the logits the teacher gave that very crop, so the
    student is always distilled on the image its soft target belongs to.
    """
    images, logits, labels, source = [], [], [], []
    base = torch.from_numpy(train.images)
    for v in track(range(cfg.views), "caching teacher soft targets", cfg.views, progress):
        gen = torch.Generator().manual_seed(cfg.seed * 100_003 + 1_000_000 + v)
        view = base if v == 0 else torch.cat([augment(b, cfg.augment, gen) for b in base.split(512)])
        images.append(view.numpy())
        logits.append(predict_logits(model, view.numpy(), cfg))
        labels.append(train.labels)
        source.append(np.arange(len(train)))
    write_npz(path, images=np.concatenate(images), logits=np.concatenate(logits).astype(np.float32),
              labels=np.concatenate(labels), source=np.concatenate(source),
              view=np.repeat(np.arange(cfg.views), len(train)),
              class_names=np.asarray(train.class_names))
    return int(sum(len(i) for i in images))


def load_teacher(folder: str | Path):
    """Rebuild a trained teacher from its run folder: ``(model, config, summary)``."""
    folder = Path(folder)
    meta_path = folder / "teacher.json"
    if not meta_path.is_file():
        raise DataError(f"{folder}: not a teacher run folder (no teacher.json)")
    meta = json.loads(meta_path.read_text())
    cfg = TeacherConfig.model_validate(meta["config"])
    model = build_teacher(cfg.arch, len(meta["class_names"]), cfg.width)
    model.load_state_dict(load_torch(folder / "best.pt"))
    return model.eval(), cfg, meta
