"""``cellsort report``: one HTML page with the plots of a run folder."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from cellsort.cli.console import console


def report_cmd(run_dir: Path = typer.Argument(..., help="Run folder: a demo run, or a teacher, "
                                              "student, firmware, sort or score output."),
               out: Optional[Path] = typer.Option(None, help="HTML file (default RUN_DIR/report.html); "
                                                  "PNG copies go to <name>_files/ beside it."),
               as_json: bool = typer.Option(False, "--json", help="Print what was written as JSON.")):
    """Write a self-contained HTML report (figures embedded) of everything a run folder holds."""
    from cellsort.report import build_report

    rep = build_report(run_dir, out)
    if as_json:
        print(json.dumps(rep.to_dict(), indent=2, default=str))
        return
    figures = sum(len(s.figures) for s in rep.sections)
    console.print(f"wrote {rep.html} ({len(rep.sections)} sections, {figures} figures; PNGs in "
                  f"{rep.png_dir})")
