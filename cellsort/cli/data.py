"""``cellsort data``: generate, inspect and picture datasets."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from cellsort.cli.console import console, make_table
from cellsort.config import load_config
from cellsort.data.dataset import parse_task
from cellsort.data.jurkat import JURKAT_TASKS
from cellsort.data.load import read_pool, split_pool
from cellsort.data.montage import save_montage
from cellsort.data.splits import TooFewToSplit
from cellsort.data.synth import SynthConfig, write_synthetic
from cellsort.outputs import check_free_space, check_output_dir, check_output_file

app = typer.Typer(help="Generate, inspect and picture datasets.", no_args_is_help=True)

PATH_HELP = ("A LymphoMNIST folder (IDX files), a folder of class sub-folders, "
             "a Jurkat .npz or an .rtdc file.")


@app.command()
def synth(out: Path = typer.Option(..., help="Folder to write the four IDX files into."),
          n: int = typer.Option(20000, min=3, help="Number of images (train + test)."),
          seed: int = typer.Option(0, help="Random seed; same seed, same images."),
          config: Optional[Path] = typer.Option(None, help="YAML/JSON SynthConfig overrides."),
          image_size: Optional[int] = typer.Option(None, help="Crop size in pixels (default 64)."),
          force: bool = typer.Option(False, help="Write into a non-empty folder.")):
    """Generate synthetic bright-field B/T4/T8 lymphocytes in the LymphoMNIST layout."""
    cfg = load_config(SynthConfig, config, image_size=image_size)
    check_output_dir(out, force)
    check_free_space(out, n * (cfg.image_size ** 2 + 1) * 1.05)
    info = write_synthetic(out, n, seed, cfg, progress=True)
    console.print(f"wrote {n} images to {out} "
                  f"(train/val/test {info['split']['train']}/{info['split']['val']}/"
                  f"{info['split']['test']}; classes {info['counts']})")


def _with_task(pool, task: str | None):
    """``pool`` with ``task``'s classes (no split needed)."""
    pool = pool.relabel(parse_task(task)) if task and task not in JURKAT_TASKS else pool
    pool.require_images(f"task {task!r}" if task else "the dataset")
    return pool


def describe(path: Path, task: str | None) -> dict:
    """Summary of a dataset: source, counts per class (and per split where the dataset is
    large enough to split), shape, pixel mean/std of all images."""
    pool, is_test = read_pool(path, task)
    labelled = _with_task(pool, task)
    stats = labelled.stats()
    info = {"source": str(path), "image_shape": list(labelled.image_shape),
            "class_names": list(labelled.class_names), "counts": {"all": labelled.counts()},
            "mean": stats["mean"], "std": stats["std"], "split": None}
    try:
        data = split_pool(pool, is_test, path, task)
    except TooFewToSplit as exc:
        info["split_note"] = str(exc)
        return info
    info["split"] = dict(data.record)
    info["counts"].update({k: getattr(data, k).counts() for k in ("train", "val", "test")})
    return info


@app.command()
def info(path: Path = typer.Argument(..., help=PATH_HELP),
         task: Optional[str] = typer.Option(None, help='Classes, e.g. "B,T4" or "B:B;T:T4+T8".')):
    """Counts per class and split, image shape, pixel mean/std."""
    d = describe(path, task)
    parts = [p for p in ("all", "train", "val", "test") if p in d["counts"]]
    table = make_table(f"{d['source']}  ({d['image_shape'][0]}x{d['image_shape'][1]} px)",
                       "class", *parts, right=tuple(parts))
    for name in d["class_names"]:
        table.add_row(name, *(str(d["counts"][p].get(name, 0)) for p in parts))
    console.print(table)
    split = (f"split: {d['split'].get('method')}, seed {d['split'].get('seed')}" if d["split"]
             else f"not split: {d['split_note']}")
    console.print(f"pixel mean {d['mean']:.4f}, std {d['std']:.4f} (all images, scaled to "
                  f"[0, 1]); {split}", highlight=False)


@app.command()
def show(path: Path = typer.Argument(..., help=PATH_HELP),
         out: Path = typer.Option(Path("montage.png"), help="PNG file to write."),
         per_class: int = typer.Option(10, min=1, help="Crops per class."),
         task: Optional[str] = typer.Option(None, help="Classes to show (see info)."),
         force: bool = typer.Option(False, help="Replace an existing file.")):
    """Write a PNG montage with one row of example crops per class."""
    check_output_file(out, force)
    save_montage(_with_task(read_pool(path, task)[0], task), out, per_class)
    console.print(f"wrote {out}")
