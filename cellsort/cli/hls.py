"""``cellsort hls``: convert, C-simulate, estimate latency, and build with the vendor tools."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from cellsort.cli.console import console, make_table
from cellsort.firmware.boards import load_board
from cellsort.firmware.project import open_student

app = typer.Typer(help="FPGA firmware: hls4ml conversion, C simulation, latency, vendor build.",
                  no_args_is_help=True)
MODEL_HELP = ("Student artifact folder (model.h5 + preprocessing.json + artifact.json), or a "
              "saved QKeras model file (.h5) with the paper's normalisation.")


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

    art = open_student(model)
    # An artifact knows its classes; for a bare model file, --task (or the dataset's classes).
    split = open_dataset(data, task or (",".join(art.class_names) if model.is_dir() else None))
    split.require_parts("C simulation")
    test = split.test
    s = run_firmware(art, load_board(board), out, test.images, n)
    console.print(f"converted and compiled in {s['seconds']['convert_and_compile']:.1f} s; "
                  f"C-sim {s['throughput_images_per_s']['csim']:.0f} images/s, emulator "
                  f"({s['emulator']['backend']}{', ' + s['emulator']['isa'] if s['emulator']['isa'] else ''}) "
                  f"{s['throughput_images_per_s']['emulator']:.0f} images/s (measured)")
    for m in s["mismatches"]:
        console.print(f"mismatch at test image {m['index']}: csim {m['csim']} emulator "
                      f"{m['emulator']} qkeras {m['qkeras']}")
    first = s.get("first_differing_layer")
    if first:
        console.print(f"first layer that differs: {first['layer']} ({first['images_differing']} "
                      f"images, max |difference| {first['max_abs_diff']:g})")
    console.print(f"bit-exact: {s['bit_exact']}/{s['n_csim']}")
    console.print(f"latency: {s['latency_summary']}", soft_wrap=True)


def _architecture(path: Path):
    """The architecture of an artifact folder (its metadata checked, its model.h5) or of any
    Keras model file, read as data (no code in the file runs)."""
    from cellsort.architecture import read_architecture
    from cellsort.student.artifact import read_artifact

    if path.is_dir():
        read_artifact(path)
        return read_architecture(path / "model.h5")
    return read_architecture(path)


@app.command("latency")
def latency_cmd(model: Path = typer.Option(..., help="Student artifact folder, or any Keras / "
                                           "QKeras model file (.h5, .keras, .json)."),
                board: str = typer.Option("coaxlink-ku035", help=BOARD_HELP),
                hls_tool: Optional[str] = typer.Option(None, help="vitis or vivado (default: "
                                                       "the board's backend)."),
                clock_mhz: Optional[float] = typer.Option(None, help="Clock (default: the board's)."),
                reuse_factor: Optional[int] = typer.Option(None, help="Reuse factor of every "
                                                           "convolution and dense layer."),
                layer_reuse: Optional[str] = typer.Option(None, help="Per-layer reuse factors, "
                                                          "e.g. conv1=4,logits=8."),
                strategy: Optional[str] = typer.Option(None, help="latency or resource."),
                io_type: Optional[str] = typer.Option(None, help="io_stream or io_parallel."),
                softmax: Optional[str] = typer.Option(None, help="Softmax implementation: stable "
                                                      "(hls4ml default), latency, legacy, argmax, skip."),
                budget_us: Optional[float] = typer.Option(None, help="Latency budget (default 14.5 µs)."),
                frontend: bool = typer.Option(True, help="Artifact folders: add the wrapper's "
                                              "crop/binning front end (from the artifact's "
                                              "preprocessing and the board's pixels per clock)."),
                frame_width: Optional[int] = typer.Option(None, min=1, help="Front end: camera "
                                                          "row width in pixels (default: the crop's)."),
                top: bool = typer.Option(False, "--top", help="Artifact folders: detection to "
                                         "trigger through the whole instrument top (detection, "
                                         "line-buffer crop, binning, network, trigger)."),
                report: Optional[Path] = typer.Option(None, help="Your csynth.xml/.rpt: put the "
                                                      "model beside it, layer by layer."),
                as_json: bool = typer.Option(False, "--json", help="Print one JSON object.")):
    """Calibrated cycle model per layer, its band, and the verdict against the budget."""
    import json

    from cellsort.firmware.latency import (
        compare,
        estimate_latency,
        options_for_board,
        read_csynth,
    )

    per_layer = None
    if layer_reuse:
        try:
            per_layer = {k.strip(): int(v) for k, v in (item.split("=") for item in layer_reuse.split(","))}
        except ValueError:
            raise typer.BadParameter(f"--layer-reuse {layer_reuse!r}: expected NAME=R[,NAME=R]") from None
    preset = load_board(board)
    if top:
        return _print_top(model, preset, as_json, hls_tool=hls_tool, clock_mhz=clock_mhz,
                          reuse_factor=reuse_factor, strategy=strategy)
    fe = None
    if frontend and model.is_dir() and report is None:  # a csynth report holds the network alone
        from cellsort.firmware.latency import FrontEnd
        from cellsort.student.artifact import read_artifact

        fe = FrontEnd.of(read_artifact(model)[1], preset.pixels_per_clock, frame_width)
    opts = options_for_board(preset, hls_tool=hls_tool, clock_mhz=clock_mhz,
                             reuse_factor=reuse_factor, layer_reuse=per_layer, strategy=strategy,
                             io_type=io_type, softmax=softmax, budget_us=budget_us, frontend=fe)
    rep = estimate_latency(_architecture(model), opts)
    vendor = compare(rep, read_csynth(report)) if report else None
    if as_json:
        print(json.dumps({**rep.to_dict(), "model": str(model), "board": board,
                          "vendor_report": vendor}, indent=2))
        return
    cols = ("layer", "kind", "words in", "II", "own cycles", "done at") + (
        ("report cycles",) if vendor else ())
    table = make_table(f"{opts.hls_tool} {opts.strategy} {opts.io_type}, reuse "
                       f"{opts.reuse_factor}, {opts.clock_mhz:g} MHz", *cols, right=cols)
    for i, r in enumerate(rep.per_layer):
        cells = [r.name, r.kind, str(r.words_in), r.ii, f"{r.own_cycles:,}", f"{r.done:,}"]
        if vendor:
            got = vendor["per_layer"][i]["report_cycles"]
            cells.append("-" if got is None else f"{got:,}")
        table.add_row(*cells)
    console.print(table)
    console.print(f"total: {rep.summary()}", soft_wrap=True)
    for line in rep.evidence[1:]:
        console.print(f"  {line}", soft_wrap=True)
    if vendor:
        console.print(f"vendor report: {vendor['report_cycles']:,} cycles; model/report "
                      f"{vendor['model_over_report']:.2f}; report inside the band: "
                      f"{'yes' if vendor['report_inside_band'] else 'NO'}", soft_wrap=True)


def _print_top(model: Path, preset, as_json: bool, **overrides) -> None:
    import json

    from cellsort.firmware.latency.top import detection_to_trigger

    if not model.is_dir():
        raise typer.BadParameter("--top needs an artifact folder (its preprocessing sets the crop)")
    art = open_student(model)
    r = detection_to_trigger(art.model, art.preprocessing, preset, **overrides)
    if as_json:
        print(json.dumps({**r, "model": str(model), "board": preset.name}, indent=2))
        return
    table = make_table(f"detection to trigger, {r['hls_tool']} at {r['clock_mhz']:g} MHz "
                       f"({preset.part})", "stage", "cycles", right=("cycles",))
    for stage, cycles in r["stages"].items():
        table.add_row(stage, f"{cycles:,}")
    console.print(table)
    console.print(f"total: {r['total_cycles']:,} cycles = {r['total_us']:.2f} µs (band "
                  f"{r['total_us_low']:.2f}-{r['total_us_high']:.2f} µs); published "
                  f"{r['budget_us']:g} µs: {r['verdict']}; method: {r['method']}")
    res = r["resources"]
    console.print(f"detection stage: {res['bram18']} BRAM18 ({res['line_buffer_bits']:,}-bit line "
                  f"buffer), ~{res['lut']:,} LUTs, background {res['background']}; method: {res['method']}")


def _project(model: Path, board: str, out: Path):
    from cellsort.firmware.project import convert

    art = open_student(model)
    project = convert(art, out, load_board(board))
    for p in project.problems:
        console.print(f"[red]check failed:[/] {p}")
    if project.problems:
        raise typer.Exit(1)
    preset = load_board(board)
    console.print(f"wrote hls4ml project {out} for {preset.part} at {preset.clock_mhz:.0f} MHz "
                  f"(static checks passed) and {project.vendor_script}"
                  + (f"; instrument top (crop {art.preprocessing.input_size[0]}, bin "
                     f"{art.preprocessing.bin}, gate margin > {art.threshold:g}): "
                     f"{out / 'build_wrapper.tcl'}" if project.wrapper_script else ""))
    return project.vendor_script


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
    from cellsort.firmware.build import csynth_report, run_vendor
    from cellsort.firmware.flow import vendor_tool

    script = _project(model, board, out)
    if vendor_tool() is None:
        console.print("[yellow]Vivado/Vitis HLS is not on PATH:[/] nothing was synthesised. "
                      f"Run {script} on a machine with the tools.")
        return
    from cellsort.firmware.latency import (
        compare,
        estimate_latency,
        options_for_board,
        read_csynth,
    )

    console.print(run_vendor(out))
    report_file = csynth_report(out)
    rep = estimate_latency(_architecture(model), options_for_board(load_board(board)))
    cmp = compare(rep, read_csynth(report_file))
    console.print(f"vendor report (C synthesis): {cmp['report_cycles']:,} cycles; cycle model "
                  f"{cmp['model_cycles']:,} (model/report {cmp['model_over_report']:.2f}, "
                  f"inside the band: {cmp['report_inside_band']})")
