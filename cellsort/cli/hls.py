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
MODEL_HELP = "Student artifact folder (model.h5 + preprocessing.json + artifact.json)."
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

    art = load_student(model)
    test = open_dataset(data, task or ",".join(art.class_names)).test
    s = run_firmware(art, load_board(board), out, test.images, n)
    console.print(f"converted and compiled in {s['seconds']['convert_and_compile']:.1f} s; "
                  f"C-sim {s['throughput_images_per_s']['csim']:.0f} images/s, emulator "
                  f"{s['throughput_images_per_s']['emulator']:.0f} images/s")
    for m in s["mismatches"]:
        console.print(f"mismatch at test image {m['index']}: csim {m['csim']} emulator "
                      f"{m['emulator']} qkeras {m['qkeras']}")
    console.print(f"bit-exact: {s['bit_exact']}/{s['n_csim']}")


@app.command("latency")
def latency_cmd(model: Path = typer.Option(..., help=MODEL_HELP),
                board: str = typer.Option("coaxlink-ku035", help=BOARD_HELP),
                reuse_factor: Optional[int] = typer.Option(None, help="Override the preset."),
                io_type: Optional[str] = typer.Option(None, help="io_stream or io_parallel.")):
    """Cycle-model latency per layer and the verdict against the 14.5 µs budget."""
    from cellsort.firmware.latency import estimate_latency

    preset = load_board(board)
    rep = estimate_latency(load_student(model).model, preset, io_type, reuse_factor)
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
