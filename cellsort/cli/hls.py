"""``cellsort hls``: convert, C-simulate, estimate latency, and build with the vendor tools."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from cellsort.firmware.boards import load_board
from cellsort.student.artifact import load_student

app = typer.Typer(help="FPGA firmware: hls4ml conversion, C simulation, latency, vendor build.",
                  no_args_is_help=True)
console = Console()
MODEL_HELP = ("Student artifact folder (model.h5 + preprocessing.json + artifact.json), or a "
              "saved QKeras model file (.h5) with the paper's normalisation.")


def _load(path: Path):
    """An artifact folder, or a bare QKeras model file wrapped with default preprocessing."""
    from cellsort.data.preprocess import Preprocessing
    from cellsort.student.artifact import StudentArtifact, load_qkeras_model

    if path.is_dir():
        return load_student(path)
    model = load_qkeras_model(path)
    names = tuple(f"class{i}" for i in range(model.output_shape[-1]))
    return StudentArtifact(model, Preprocessing(input_size=tuple(model.input_shape[1:3])), names)
BOARD_HELP = "Board preset name (hls/boards/*.yaml) or a YAML file."


@app.command("csim")
def csim_cmd(model: Path = typer.Option(..., help=MODEL_HELP),
             data: Path = typer.Option(..., help="Dataset whose test crops are simulated."),
             task: Optional[str] = typer.Option(None, help="Classes, as the student was trained."),
             board: str = typer.Option("coaxlink-ku035", help=BOARD_HELP),
             n: int = typer.Option(100, min=1, help="Crops to C-simulate (C-sim is slow)."),
             out: Path = typer.Option(Path("runs/hls"), help="Project folder.")):
    """Convert, compile (g++) and C-simulate; print ``bit-exact: K/N`` against QKeras."""
    from cellsort.data.load import open_dataset
    from cellsort.firmware.flow import run_firmware

    art = _load(model)
    # An artifact knows its classes; for a bare model file, --task (or the dataset's classes).
    test = open_dataset(data, task or (",".join(art.class_names) if model.is_dir() else None)).test
    s = run_firmware(art, load_board(board), out, test.images, n)
    console.print(f"converted and compiled in {s['seconds']['convert_and_compile']:.1f} s; "
                  f"C-sim {s['throughput_images_per_s']['csim']:.0f} images/s, emulator "
                  f"{s['throughput_images_per_s']['emulator']:.0f} images/s")
    for m in s["mismatches"]:
        console.print(f"mismatch at test image {m['index']}: csim {m['csim']} emulator "
                      f"{m['emulator']} qkeras {m['qkeras']}")
    first = s.get("first_differing_layer")
    if first:
        console.print(f"first layer that differs: {first['layer']} ({first['images_differing']} "
                      f"images, max |difference| {first['max_abs_diff']:g})")
    console.print(f"bit-exact: {s['bit_exact']}/{s['n_csim']}")


@app.command("latency")
def latency_cmd(model: Path = typer.Option(..., help=MODEL_HELP),
                board: str = typer.Option("coaxlink-ku035", help=BOARD_HELP),
                reuse_factor: Optional[int] = typer.Option(None, help="Override the preset."),
                io_type: Optional[str] = typer.Option(None, help="io_stream or io_parallel.")):
    """Cycle-model latency per layer and the verdict against the 14.5 µs budget."""
    from cellsort.firmware.latency import estimate_latency

    preset = load_board(board)
    rep = estimate_latency(_load(model).model, preset, io_type, reuse_factor)
    table = Table(title=f"{rep.method}: {preset.part} at {rep.clock_mhz:.0f} MHz, "
                        f"{rep.io_type}, reuse {rep.reuse_factor}")
    for col in ("layer", "inputs", "II", "done (cycles)", "upper bound"):
        table.add_column(col, justify="right")
    for r in rep.per_layer:
        table.add_row(r.name, str(r.inputs), str(r.ii), str(r.done), str(r.done_upper))
    console.print(table)
    verdict = "PASS" if rep.passes else "FAIL"
    console.print(f"total: {rep.total_cycles} cycles = {rep.total_us:.2f} µs (upper bound "
                  f"{rep.total_cycles_upper} cycles = {rep.total_us_upper:.2f} µs); budget "
                  f"{rep.budget_us} µs: {verdict}, margin {rep.margin_us:+.2f} µs")


def _project(model: Path, board: str, out: Path):
    from cellsort.firmware.build import check_project, write_vendor_script
    from cellsort.firmware.convert import convert

    preset = load_board(board)
    convert(_load(model).model, out, backend=preset.backend, io_type=preset.io_type,
            part=preset.part, clock_period=preset.clock_period_ns,
            reuse_factor=preset.reuse_factor).write()
    script = write_vendor_script(out, preset)
    problems = check_project(out, preset)
    for p in problems:
        console.print(f"[red]check failed:[/] {p}")
    if problems:
        raise typer.Exit(1)
    console.print(f"wrote hls4ml project {out} for {preset.part} at {preset.clock_mhz:.0f} MHz "
                  f"(static checks passed) and {script}")
    return script


@app.command("convert")
def convert_cmd(model: Path = typer.Option(..., help=MODEL_HELP),
                board: str = typer.Option("coaxlink-ku035", help=BOARD_HELP),
                out: Path = typer.Option(Path("runs/hls/project"), help="Project folder.")):
    """Write the hls4ml project and its vendor build script; check the generated tcl."""
    _project(model, board, out)


@app.command("build")
def build_cmd(model: Path = typer.Option(..., help=MODEL_HELP),
              board: str = typer.Option("coaxlink-ku035", help=BOARD_HELP),
              out: Path = typer.Option(Path("runs/hls/project"), help="Project folder.")):
    """Run the vendor flow (csim, synth, cosim) if Vivado/Vitis HLS is on PATH, else prepare it."""
    from cellsort.firmware.build import run_vendor
    from cellsort.firmware.flow import vendor_tool

    script = _project(model, board, out)
    if vendor_tool() is None:
        console.print("[yellow]Vivado/Vitis HLS is not on PATH:[/] nothing was synthesised. "
                      f"Run {script} on a machine with the tools.")
        return
    from cellsort.firmware.latency import compare_with_vendor, estimate_latency

    report = run_vendor(out)
    cmp = compare_with_vendor(estimate_latency(_load(model).model, load_board(board)), report)
    console.print(report)
    console.print(f"vendor report (measured): {cmp['vendor_worst_cycles']} cycles = "
                  f"{cmp['vendor_us']:.2f} µs; cycle model {cmp['model_cycles']} cycles "
                  f"(model/vendor {cmp['model_over_vendor']:.2f})")
