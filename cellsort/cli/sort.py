"""``cellsort sort``: run the sorter on a recording or on a synthetic flow video."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from cellsort.sorter.classifier import CellClassifier
from cellsort.sorter.run import run_sort
from cellsort.sorter.stream import SorterConfig

console = Console()


def sort_cmd(source: str = typer.Option(..., help='"synthetic", an .rtdc file, an .npy array or an image folder.'),
             model: Path = typer.Option(..., help="Student artifact folder."),
             out: Path = typer.Option(Path("runs/sort"), help="Folder for events.csv and summary.json."),
             frames: int = typer.Option(400, min=10, help="Frames of the synthetic video."),
             seed: int = typer.Option(0, help="Seed of the synthetic video."),
             threshold: Optional[float] = typer.Option(None, help="Gate on the logit margin."),
             trigger_col: int = typer.Option(128, help="Column of the trigger line."),
             backend: str = typer.Option("emulator", help="emulator (bit-exact FPGA model) or qkeras.")):
    """Detect, classify and decide; print cells/s, stage latencies and decisions per class."""
    classifier = CellClassifier(model, backend=backend)
    truths = None
    if source == "synthetic":
        from cellsort.sorter.video import synthetic_flow

        video, truths = zip(*synthetic_flow(frames, seed, classes=classifier.class_names))
        video = np.stack(video)
    else:
        from cellsort.sorter.sources import open_source

        video = np.stack(list(open_source(source)))
    cfg = SorterConfig(threshold=threshold, trigger_col=trigger_col)
    s = run_sort(video, classifier, out, cfg, truths)
    table = Table(title=f"{s['cells']} cells in {s['frames']} frames: {s['cells_per_s']:.0f} cells/s, "
                        f"{s['frames_per_s']:.0f} frames/s (software, {backend})")
    table.add_column("stage")
    table.add_column("p50 µs", justify="right")
    table.add_column("p99 µs", justify="right")
    for stage, v in s["latency_us"].items():
        table.add_row(stage, f"{v['p50']:.0f}", f"{v['p99']:.0f}")
    console.print(table)
    console.print(f"decisions per class: {s['per_class']}; sorted (margin > {s['threshold']:g}): "
                  f"{s['sorted']}; rejected frames: {s['errors']}")
    if truths is not None:
        d = s["detection"]
        console.print(f"detection precision {d['precision']:.3f}, recall {d['recall']:.3f}; "
                      f"decision accuracy {s['decision_accuracy']:.3f} on {s['decisions_matched']} cells")
    console.print(f"events: {out / 'events.csv'}")
