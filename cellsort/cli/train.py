"""``cellsort train-teacher`` and ``cellsort distill``."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from cellsort.cli.console import console, err_console
from cellsort.config import load_config
from cellsort.data.dataset import task_groups
from cellsort.data.load import open_dataset
from cellsort.distill.train import DistillConfig, distill, load_soft_targets
from cellsort.errors import ConfigError
from cellsort.outputs import check_output_dir
from cellsort.teacher.budget import TEACHER_PRESETS, cpu_warning, expected_seconds
from cellsort.teacher.train import TeacherConfig, open_teacher_run, train_teacher

DATA_HELP = "Dataset: LymphoMNIST folder, class-folder tree, Jurkat .npz or .rtdc."


def train_teacher_cmd(
        data: Path = typer.Option(..., help=DATA_HELP),
        out: Path = typer.Option(..., help="Run folder (checkpoints, best model, soft targets)."),
        task: Optional[str] = typer.Option(None, help='Classes, e.g. "B,T4,T8" (default: all).'),
        config: Optional[Path] = typer.Option(None, help="YAML/JSON TeacherConfig."),
        preset: str = typer.Option("paper", help="Starting config: paper (ResNet-18 at 120 px, "
                                   "GPU-sized) or cpu (ResNet-10 width 12 at 48 px, minutes on a "
                                   "CPU); --config replaces it."),
        epochs: Optional[int] = typer.Option(None, help="Override the config's epochs."),
        resume: bool = typer.Option(False, help="Continue from out/checkpoint.pt exactly (same "
                                                "data and config, checked)."),
        force: bool = typer.Option(False, help="Replace a teacher run already in --out.")):
    """Train a ResNet teacher (PyTorch) and cache its soft targets for distillation."""
    if preset not in TEACHER_PRESETS:
        raise ConfigError(f"--preset {preset!r}: choose one of {', '.join(TEACHER_PRESETS)}")
    base = {} if config else TEACHER_PRESETS[preset].model_dump(mode="json")
    cfg = load_config(TeacherConfig, config, **{**base, "epochs": epochs})
    dataset = open_dataset(data, task)
    run = open_teacher_run(dataset, cfg, out, resume=resume, force=force)  # every input checked
    warning = cpu_warning(cfg, expected_seconds(cfg, len(dataset.train), len(dataset.train.class_names),
                                                dataset.train.images.shape[1]))  # then measured
    if warning:
        err_console.print(warning)
    summary = train_teacher(dataset, cfg, out, resume=resume, force=force, run=run)
    console.print(f"teacher {cfg.arch} (width {cfg.width}): val accuracy "
                  f"{summary['val_accuracy']:.3f}, test accuracy {summary['test']['accuracy']:.3f}"
                  f", AUC {summary['test'].get('auc', float('nan')):.3f}; saved to {out}")


def distill_cmd(
        data: Path = typer.Option(..., help=DATA_HELP),
        out: Path = typer.Option(..., help="Student artifact folder."),
        teacher: Optional[Path] = typer.Option(None, help="Teacher run folder (soft targets)."),
        task: str = typer.Option("B,T4", help='Student classes, e.g. "B,T4" or "B:B;T:T4+T8".'),
        config: Optional[Path] = typer.Option(None, help="YAML/JSON DistillConfig."),
        method: Optional[str] = typer.Option(None, help="labels | published | kd | kd-margin."),
        epochs: Optional[int] = typer.Option(None, help="Override the config's epochs."),
        force: bool = typer.Option(False, help="Replace an artifact already in --out.")):
    """Distil a teacher into a quantized QKeras student (quantization-aware training)."""
    cfg = load_config(DistillConfig, config, method=method, epochs=epochs)
    check_output_dir(out, force)
    cache = load_soft_targets(teacher / "soft_targets.npz") if teacher else None
    dataset = open_dataset(data, task)
    summary = distill(dataset, cfg, out, cache=cache, groups=task_groups(task, dataset.train.class_names),
                      teacher_ref=str(teacher) if teacher else None)
    console.print(f"student {cfg.student} ({cfg.method}): val accuracy "
                  f"{summary['val_accuracy']:.3f}, test accuracy {summary['test']['accuracy']:.3f}"
                  f", AUC {summary['test'].get('auc', float('nan')):.3f}; saved to {out}")
