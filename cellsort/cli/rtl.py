"""``cellsort rtl``: the pixel-parallel RTL back end (build, Verilator simulation, Yosys resources)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from cellsort.cli.console import console, make_table
from cellsort.errors import ConfigError

app = typer.Typer(help="Pixel-parallel RTL: build Verilog, simulate it cycle by cycle (Verilator), "
                       "count its resources (Yosys).", no_args_is_help=True)


def _early(r: dict) -> str:
    """Why a latency from the crop's last pixel can be negative."""
    return (" (the class is ready before the crop's last rows arrive: the pooling never reads them)"
            if r["cycles_last_pixel_to_class"] < 0 else "")


def _max_frame(text: str) -> tuple[int, int]:
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ConfigError(f"--max-frame {text!r}: expected HEIGHTxWIDTH, e.g. 128x512") from None
    return h, w


@app.command("build")
def build_cmd(model: Path = typer.Option(..., help="Student artifact folder (or a bare QKeras file)."),
              out: Path = typer.Option(..., help="Folder for the Verilog, testbenches and project."),
              pixels_per_clock: Optional[int] = typer.Option(None, help="Mono8 pixels a clock (default: "
                                                             "the board's)."),
              parallelism: Optional[str] = typer.Option(None, help="Output pixels a cycle per layer, e.g. "
                                                        "conv1=8,conv2=2 (default: the fewest that keep up)."),
              clock_mhz: float = typer.Option(250.0, help="Assumed clock, MHz (figures in µs use it)."),
              board: str = typer.Option("coaxlink-ku035", help="Board preset (its part and pixels a clock)."),
              max_frame: str = typer.Option("128x512", help="Largest frame of the instrument top, HxW."),
              force: bool = typer.Option(False, help="Write into a non-empty --out folder."),
              as_json: bool = typer.Option(False, "--json", help="Print rtl.json.")):
    """Write the streaming network and the instrument top as Verilog, with their testbenches and a
    Vivado project; print the parallelism and the cycles the schedule predicts."""
    from cellsort.config import load_config
    from cellsort.firmware.boards import load_board
    from cellsort.firmware.project import open_student
    from cellsort.firmware.rtl.design import RtlConfig, build
    from cellsort.firmware.rtl.layers import parse_parallelism
    from cellsort.outputs import check_output_dir

    preset = load_board(board)
    cfg = load_config(RtlConfig, None, pixels_per_clock=pixels_per_clock or preset.pixels_per_clock,
                      parallelism=parse_parallelism(parallelism), clock_mhz=clock_mhz,
                      max_frame=_max_frame(max_frame))
    check_output_dir(out, force)
    art = open_student(model)
    rec = build(art, out, cfg, preset.part)
    if as_json:
        print(json.dumps(rec, indent=2, default=str))
        return
    table = make_table(f"RTL of {model} at {cfg.pixels_per_clock} px a clock", "layer", "kind", "PE",
                       "ring rows", "tree levels", "depth", right=("PE", "ring rows", "tree levels", "depth"))
    for layer in rec["layers"]:
        table.add_row(layer["name"], layer["kind"], str(layer["pe"] or layer["lanes_in"]),
                      str(layer["ring_rows"] or "-"), str(layer["levels"]), str(layer["depth"]))
    console.print(table)
    pred, mhz = rec["predicted"], cfg.clock_mhz
    console.print(f"predicted by the schedule: {pred['cycles_first_pixel_to_class']} cycles from the crop's "
                  f"first pixel to the class ({pred['cycles_first_pixel_to_class'] / mhz:.2f} µs at {mhz:g} MHz, "
                  f"assumed), {pred['cycles_last_pixel_to_class']} after its last{_early(pred)}; measure it with "
                  f"`cellsort rtl sim --design {out}`")
    console.print(f"wrote {', '.join(rec['files'].values())}"
                  + (", vivado_project.tcl" if rec["top"] else " (no instrument top: the crop is not square "
                     "or the pixels a clock not a power of two)") + f" in {out}")


def _crops(art, data: Path | None, task: str | None, n: int):
    if data is None:
        from cellsort.data.synth import synthesize

        return synthesize(n, seed=0).images, f"{n} synthetic crops"
    from cellsort.data.load import open_dataset

    split = open_dataset(data, task or ",".join(art.class_names))
    images = split.test.images[:n]
    if len(images) == 0:
        raise ConfigError(f"{data}: the test split holds no crops")
    return images, f"{len(images)} test crops of {data}"


def _frames(source: str, n: int):
    if source == "synthetic":
        import numpy as np

        from cellsort.data.detection import estimate_background
        from cellsort.data.flow import synthetic_flow

        frames = np.stack([f for f, _ in synthetic_flow(n, seed=0, classes=("B", "T4"))])
        return frames, estimate_background(frames[: min(100, n)]), f"{n} frames of the synthetic flow video"
    import itertools

    import numpy as np

    from cellsort.sorter.sources import open_source, rtdc_background

    frames = np.stack(list(itertools.islice(open_source(source), n)))
    background = rtdc_background(source)
    if background is None:
        from cellsort.data.detection import estimate_background

        background = estimate_background(frames)
    return frames, background, f"{len(frames)} frames of {source}"


@app.command("sim")
def sim_cmd(design: Path = typer.Option(..., help="Folder written by `cellsort rtl build`."),
            data: Optional[Path] = typer.Option(None, help="Dataset whose test crops are simulated "
                                                "(default: synthetic crops)."),
            task: Optional[str] = typer.Option(None, help="Classes, as the student was trained."),
            n: int = typer.Option(500, min=1, max=1_000_000, help="Crops to simulate."),
            frames: Optional[str] = typer.Option("synthetic", help="Frames for the instrument top: "
                                                 "'synthetic', an .rtdc recording, or 'none'."),
            n_frames: int = typer.Option(200, min=1, max=1_000_000, help="Frames to stream through the top."),
            as_json: bool = typer.Option(False, "--json", help="Print the results as JSON.")):
    """Simulate cycle by cycle: bit-exact count against the emulator, measured cycles and µs at the
    assumed clock; the instrument top frame by frame against Python, detection to trigger."""
    from cellsort.atomic import write_json
    from cellsort.firmware.fpga_detect import FpgaDetectConfig
    from cellsort.firmware.rtl.design import (
        read_record,
        simulate_crops,
        simulate_frames,
    )
    from cellsort.provenance import record
    from cellsort.student.artifact import load_student

    rec = read_record(design)
    art = load_student(design / "student")
    crops, where = _crops(art, data, task, n)
    result = {"network": {**simulate_crops(design, art, crops), "crops": where}}
    if frames != "none" and rec.get("top"):
        video, background, fwhere = _frames(frames, n_frames)
        result["top"] = {**simulate_frames(design, art, video, background, FpgaDetectConfig()), "source": fwhere}
    write_json(design / "sim.json", record(None, **result))
    if as_json:
        print(json.dumps(result, indent=2, default=str))
        return
    r = result["network"]
    console.print(f"bit-exact: {r['bit_exact']}/{r['n']} ({where}; logits, margin, class and sort bit "
                  f"against the emulator){'; RING OVERFLOW' if r['overflow'] else ''}")
    console.print(f"latency: {r['cycles_first_pixel_to_class']} cycles from the crop's first pixel to the class = "
                  f"{r['us_first_pixel_to_class']:.3f} µs at {r['clock_mhz']:g} MHz; "
                  f"{r['cycles_last_pixel_to_class']} cycles ({r['us_last_pixel_to_class']:.3f} µs) from its last"
                  f"{_early(r)}; "
                  f"a crop every {r['interval_cycles']} cycles ({r['cells_per_s']:,.0f} crops/s); method: {r['method']}")
    if "top" in result:
        t = result["top"]
        tr = "n/a" if t["us_detection_to_trigger"] is None else f"{t['us_detection_to_trigger']:.3f} µs"
        console.print(f"instrument top: {t['frames_matching']}/{t['frames']} frames decided as Python decides "
                      f"({t['cells']} cells; {t['source']}); detection to trigger {t['cycles_detection_to_trigger']} "
                      f"cycles = {tr} (worst frame){'; ERROR FLAG SET' if t['error'] else ''}")


@app.command("resources")
def resources_cmd(design: Path = typer.Option(..., help="Folder written by `cellsort rtl build`."),
                  which: str = typer.Option("network", help="network or top."),
                  board: str = typer.Option("coaxlink-ku035", help="Board preset (its capacity)."),
                  as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON.")):
    """Synthesise with Yosys (UltraScale mapping) and count LUT, FF, DSP, BRAM; the logic depth."""
    from cellsort.firmware.boards import load_board
    from cellsort.firmware.rtl.design import resources

    if which not in ("network", "top"):
        raise ConfigError(f"--which {which!r}: network or top")
    cap = load_board(board).capacity
    res = resources(design, which)
    if cap is not None:
        res["fraction"] = {k: res[k] / getattr(cap, k) for k in ("lut", "ff", "dsp", "bram18")}
    if as_json:
        print(json.dumps(res, indent=2, default=str))
        return
    share = (lambda k: f" ({100 * res['fraction'][k]:.1f}%)") if cap else (lambda k: "")
    console.print(f"{which}: {res['lut']:,} LUT{share('lut')}, {res['ff']:,} FF{share('ff')}, {res['dsp']} DSP"
                  f"{share('dsp')}, {res['bram18']} BRAM18{share('bram18')}; logic depth "
                  f"{res['logic_depth']['cells']} cells ({res['logic_depth']['lut_levels']} LUT, "
                  f"{res['logic_depth']['carry_cells']} carry); method: {res['method']}")
