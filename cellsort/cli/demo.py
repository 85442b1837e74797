"""``cellsort demo``: the whole flow on the embedded synthetic data."""
from __future__ import annotations

from pathlib import Path

import typer

from cellsort.demo import DemoConfig, run_demo
from cellsort.cli.console import console



def demo(out: Path = typer.Option(Path("runs/demo"), help="Run folder."),
         n_images: int = typer.Option(DemoConfig().n_images, min=30, help="Synthetic images."),
         seed: int = typer.Option(DemoConfig().seed, help="Random seed.")):
    """Run every stage end to end on synthetic data into a run folder."""
    cfg = DemoConfig(n_images=n_images, seed=seed)
    run_demo(out, cfg, log=console.print)
    console.print(f"[bold green]demo finished[/]: see {out}/run.json and {out}/montage.png")
