"""``cellsort data``: generate, inspect and picture datasets."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from cellsort.config import load_config
from cellsort.data.load import open_dataset
from cellsort.data.montage import save_montage
from cellsort.data.synth import SynthConfig, write_synthetic

app = typer.Typer(help="Generate, inspect and picture datasets.", no_args_is_help=True)
console = Console()

PATH_HELP = ("A LymphoMNIST folder (IDX files), a folder of class sub-folders, "
             "a Jurkat .npz or an .rtdc file.")


@app.command()
def synth(out: Path = typer.Option(..., help="Folder to write the four IDX files into."),
          n: int = typer.Option(20000, min=3, help="Number of images (train + test)."),
          seed: int = typer.Option(0, help="Random seed; same seed, same images."),
          config: Optional[Path] = typer.Option(None, help="YAML/JSON SynthConfig overrides."),
          image_size: Optional[int] = typer.Option(None, help="Crop size in pixels (default 64).")):
    """Generate synthetic bright-field B/T4/T8 lymphocytes in the LymphoMNIST layout."""
    cfg = load_config(SynthConfig, config, image_size=image_size)
    info = write_synthetic(out, n, seed, cfg, progress=True)
    console.print(f"wrote {n} images to {out} "
                  f"(train/val/test {info['split']['train']}/{info['split']['val']}/"
                  f"{info['split']['test']}; classes {info['counts']})")


def describe(path: Path, task: str | None) -> dict:
    """Summary of a dataset: source, counts per split and class, shape, pixel mean/std."""
    data = open_dataset(path, task)
    parts = {"train": data.train, "val": data.val, "test": data.test}
    stats = data.train.stats()
    return {"source": str(path), "image_shape": list(data.train.image_shape),
            "class_names": list(data.train.class_names),
            "counts": {k: v.counts() for k, v in parts.items()},
            "train_mean": stats["mean"], "train_std": stats["std"],
            "split": dict(data.record)}


@app.command()
def info(path: Path = typer.Argument(..., help=PATH_HELP),
         task: Optional[str] = typer.Option(None, help='Classes, e.g. "B,T4" or "B:B;T:T4+T8".')):
    """Counts per class and split, image shape, pixel mean/std."""
    d = describe(path, task)
    table = Table(title=f"{d['source']}  ({d['image_shape'][0]}x{d['image_shape'][1]} px)")
    table.add_column("class")
    for part in ("train", "val", "test"):
        table.add_column(part, justify="right")
    for name in d["class_names"]:
        table.add_row(name, *(str(d["counts"][p][name]) for p in ("train", "val", "test")))
    console.print(table)
    console.print(f"pixel mean {d['train_mean']:.4f}, std {d['train_std']:.4f} (train, scaled "
                  f"to [0, 1]); split: {d['split'].get('method')}, seed {d['split'].get('seed')}")


@app.command()
def show(path: Path = typer.Argument(..., help=PATH_HELP),
         out: Path = typer.Option(Path("montage.png"), help="PNG file to write."),
         per_class: int = typer.Option(10, min=1, help="Crops per class."),
         task: Optional[str] = typer.Option(None, help="Classes to show (see info).")):
    """Write a PNG montage with one row of example crops per class."""
    data = open_dataset(path, task)
    save_montage(data.train, out, per_class)
    console.print(f"wrote {out}")
