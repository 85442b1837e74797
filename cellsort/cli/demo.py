"""``cellsort demo``: the whole flow on the embedded synthetic data."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from cellsort.cli.console import console
from cellsort.config import load_config
from cellsort.demo import DemoConfig, run_demo


def demo(out: Path = typer.Option(Path("runs/demo"), help="Run folder."),
         config: Optional[Path] = typer.Option(None, help="YAML/JSON DemoConfig, e.g. another "
                                               "registered student: distill: {student: small, "
                                               "bin: 4, student_options: {weight_bits: 6}}."),
         n_images: Optional[int] = typer.Option(None, min=30, help=f"Synthetic images (default "
                                                f"{DemoConfig().n_images})."),
         seed: Optional[int] = typer.Option(None, help="Random seed (default 0).")):
    """Run every stage end to end on synthetic data into a run folder."""
    cfg = load_config(DemoConfig, config, n_images=n_images, seed=seed)
    run_demo(out, cfg, log=console.print)
    console.print(f"[bold green]demo finished[/]: open {out}/report.html (the run report); "
                  f"numbers in {out}/run.json")
