"""``cellsort score``: write class scores into a copy of an RT-DC recording."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from cellsort.cli.console import console


def score_cmd(recording: Path = typer.Argument(..., help="RT-DC recording (.rtdc, or .tdms with images)."),
              model: Path = typer.Option(..., help="Student artifact folder."),
              out: Path = typer.Option(..., help="New .rtdc file; events also go to .csv and .parquet beside it."),
              score_names: Optional[str] = typer.Option(
                  None, help="Comma-separated 3-character codes of the ml_score_??? features, in "
                             "class order (default from the class names, e.g. b00,t40)."),
              margin_feature: str = typer.Option("userdef0", help="userdef0..userdef9 feature for the logit margin."),
              backend: str = typer.Option("emulator", help="emulator (bit-exact FPGA model) or qkeras."),
              threshold: Optional[float] = typer.Option(None, help="Gate on the logit margin for "
                                                        "the sort column (default: the artifact's gate)."),
              batch: int = typer.Option(1024, min=1, max=1_000_000, help="Events classified per batch."),
              force: bool = typer.Option(False, help="Replace an existing output file."),
              as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON.")):
    """Classify every event at its position and write ml_score_??? and the margin for dclab,
    Shape-Out and DCscope (the source recording is never modified)."""
    from cellsort.score import score_recording
    from cellsort.sorter.classifier import CellClassifier

    classifier = CellClassifier(model, backend=backend)
    s = score_recording(recording, classifier, out, score_names, margin_feature, batch, force,
                        progress=not as_json, threshold=threshold)
    if as_json:
        print(json.dumps(s, indent=2))
        return
    console.print(f"{s['events']} events scored ({s['backend']}, "
                  f"{s['classify_us_per_event']:.0f} µs per event, measured); centres from "
                  f"{s['positions']}", highlight=False)
    console.print(f"decisions per class: {s['per_class']}; sorted (margin > {s['threshold']:g}): "
                  f"{s['sorted']}", highlight=False)
    console.print(f"wrote {s['output']} with {', '.join(s['score_features'])} and "
                  f"{s['margin_feature']} (logit margin); tables {s['table_csv']}, "
                  f"{s['table_parquet']}", highlight=False)
