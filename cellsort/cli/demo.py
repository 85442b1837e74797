"""``cellsort demo``: the whole flow on the embedded synthetic data, ending with its answer."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from cellsort.cli.console import console, err_console, make_table
from cellsort.config import load_config
from cellsort.demo import DemoConfig, run_demo
from cellsort.records import CandidatesRecord, RunRecord
from cellsort.student.design import StudentDesign


def candidates_table(rec: CandidatesRecord):
    """The candidates side by side: accuracy, bit-exact counts, each latency with its verdict."""
    tools = sorted({t for r in rec.rows for t in r.hls.by_tool})
    clock = rec.rows[0].rtl.clock_mhz
    table = make_table(f"candidates on {rec.board}: µs against {rec.budget_us:g} (class) and "
                       f"{rec.trigger_budget_us:g} (trigger)", "design", "params", "test acc", "exact C/RTL",
                       *[f"HLS {t} (band)" for t in tools], f"RTL @{clock:g} MHz", "RTL trigger", "LUT",
                       right=("params", "test acc", "exact C/RTL", "LUT"))
    for r in rec.rows:
        hls = [f"{v.total_us:.2f} ({v.total_us_low:.1f}–{v.total_us_high:.1f}) {v.verdict}"
               if (v := r.hls.by_tool.get(t)) else "" for t in tools]
        d2t = r.rtl.detection_to_trigger_us
        short = StudentDesign.model_validate(r.design).short_label
        table.add_row(("→ " if r.label == rec.recommended.label else "") + short,
                      f"{r.params:,}", f"{r.test_accuracy:.3f}",
                      f"{r.csim.bit_exact}/{r.csim.n} {r.rtl.bit_exact}/{r.rtl.n}", *hls,
                      f"{r.rtl.us:.2f} {r.rtl.verdict}",
                      "" if d2t is None else f"{d2t:.2f} {r.rtl.detection_to_trigger_verdict}",
                      "" if r.rtl.lut_fraction is None else f"{r.rtl.lut_fraction:.0%}")
    return table


def demo(out: Path = typer.Option(Path("runs/demo"), help="Run folder."),
         config: Optional[Path] = typer.Option(None, help="YAML/JSON DemoConfig, e.g. another "
                                               "registered student: distill: {student: small, "
                                               "bin: 4, student_options: {weight_bits: 6}}."),
         n_images: Optional[int] = typer.Option(None, min=30, help=f"Synthetic images (default "
                                                f"{DemoConfig().n_images})."),
         seed: Optional[int] = typer.Option(None, help="Random seed (default 0)."),
         as_json: bool = typer.Option(False, "--json", help="Print run.json's stages on standard output "
                                      "(progress goes to standard error).")):
    """Run every stage end to end on synthetic data into a run folder, then name the design to build."""
    cfg = load_config(DemoConfig, config, n_images=n_images, seed=seed)
    run_demo(out, cfg, log=err_console.print if as_json else console.print)
    if as_json:
        console.print_json(json.dumps(RunRecord.read(out).model_dump(mode="json")["stages"]))
        return
    rec = CandidatesRecord.read(out / "candidates")
    console.print(candidates_table(rec))
    console.print(("[bold green]build[/] " if rec.recommended.beats_paper else "[bold yellow]no design beats "
                   "the paper here[/]: ") + rec.recommended.why)
    console.print(f"(→ the design to build. HLS: the calibrated latency model, band; RTL: Verilator simulation, "
                  f"cycles measured, clock assumed; LUT: share of the part, estimated. Methods: "
                  f"{out}/candidates/candidates.json)")
    console.print(f"[bold green]demo finished[/]: open {out}/report.html (the run report; the verdict is "
                  f"first); numbers in {out}/run.json; the design to build in {out}/recommended")
