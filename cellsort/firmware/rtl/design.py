"""An RTL design on disk: build it from a student artifact, simulate it, count its resources.

``build`` writes into a folder: ``cellsort_net.v`` (the streaming network), ``cellsort_top.v``
(the instrument top with the network), the Verilator testbenches, ``vivado_project.tcl`` and
``cellsort_rtl.xdc`` (a Vivado project of the top for the board's part at the assumed clock,
ready to drop into a frame grabber's CustomLogic), and ``rtl.json`` (what was built, the
parallelism and ring depths, the cycles the schedule predicts, config and versions). ``simulate``
runs crops and frames through Verilator against the bit-exact emulator and Python's streaming
detection; ``resources`` runs Yosys. Every figure names its method.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from pydantic import Field

from cellsort.atomic import write_json, write_text
from cellsort.config import StrictModel
from cellsort.errors import DataError
from cellsort.firmware.rtl.layers import ConvLayer, network_layers
from cellsort.firmware.rtl.network import network_verilog
from cellsort.firmware.rtl.schedule import crop_beats, crop_interval, schedule
from cellsort.firmware.rtl.top import top_verilog
from cellsort.provenance import record

CLOCK_NOTE = "clock assumed (timing closure is settled only by Vivado)"
SIM_METHOD = "RTL simulation (Verilator), cycles measured"


class RtlConfig(StrictModel):
    """How the RTL is built: pixels a clock, per-layer parallelism (output pixels a cycle; empty:
    the fewest that keep up), the assumed clock, the largest frame of the top."""

    pixels_per_clock: int = Field(8, ge=1, le=64)
    parallelism: dict[str, int] = Field(default_factory=dict)
    clock_mhz: float = Field(250.0, gt=0, le=1000)
    max_frame: tuple[int, int] = (128, 512)


def plan_of_artifact(art):
    from cellsort.firmware.plan import read_plan

    return read_plan(art.model, art.preprocessing)


def build(art, out: str | Path, cfg: RtlConfig = RtlConfig(), part: str = "xcku035-fbva676-2-e") -> dict:
    """Write the RTL of the student artifact ``art`` into ``out``; returns the ``rtl.json`` record."""
    from cellsort.firmware.rtl import simulate as sim
    from cellsort.firmware.wrapper import buffer_rows

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    prep = art.preprocessing
    plan = plan_of_artifact(art)
    h, w = prep.input_size
    front, layers = network_layers(plan, (h, w), prep.bin, cfg.pixels_per_clock, cfg.parallelism)
    gap = 1  # the top reads a crop row in crop / P + 1 cycles
    interval = crop_interval(front, layers, gap)
    crop_gap = interval - front.h * (front.beats + gap)
    sched = schedule(front, layers, crop_beats(front, 4, gap=gap, crop_gap=crop_gap))
    net = network_verilog(front, layers, sched, art.sort_class)
    write_text(out / "cellsort_net.v", net)
    last = layers[-1]
    files = {"network": "cellsort_net.v"}
    top_info = None
    if h == w and not cfg.pixels_per_clock & (cfg.pixels_per_clock - 1):
        buf = buffer_rows(prep)
        write_text(out / "cellsort_top.v", net + "\n" + top_verilog(h, cfg.pixels_per_clock, buf, cfg.max_frame,
                                                                    last.acc_bits))
        files["top"] = "cellsort_top.v"
        top_info = {"buffer_rows": buf, "max_frame": list(cfg.max_frame)}
        maxb = -(-cfg.max_frame[1] // cfg.pixels_per_clock)
        sim.write_top_testbench(out, cfg.pixels_per_clock, maxb, last.acc_bits + 1, 20 * cfg.max_frame[0] * maxb)
        write_text(out / "cellsort_rtl.xdc", f"create_clock -period {1000 / cfg.clock_mhz:.3f} -name clk "
                                             "[get_ports clk]\n")
        write_text(out / "vivado_project.tcl", VIVADO.format(part=part, mhz=cfg.clock_mhz))
    sim.write_testbench(out, "cellsort_net", cfg.pixels_per_clock, last.f, last.acc_bits,
                        drain=max(sched.decisions) + 100 * interval)
    pred = sched.decisions[0] - sched.first_beats[0]
    rec = record(cfg, files=files, part=part, sort_class=art.sort_class, out_frac=plan.out_frac,
                 logit_bits=last.acc_bits, crop=[h, w], bin=prep.bin, class_names=list(art.class_names),
                 gate_threshold=art.threshold,
                 layers=[{"name": l.name, "kind": "conv" if isinstance(l, ConvLayer) else "dense",
                          "pe": getattr(l, "pe", None), "lanes_in": getattr(l, "lanes", None),
                          "ring_rows": sched.ring_rows.get(l.name), "levels": l.levels, "depth": l.depth}
                         for l in layers],
                 predicted={"method": "the schedule of cellsort.firmware.rtl.schedule (crops with one "
                                      "idle cycle between rows, as the top reads them)",
                            "cycles_first_pixel_to_class": pred,
                            "cycles_last_pixel_to_class": sched.decisions[0] - sched.last_beats[0],
                            "interval_cycles": sched.decisions[1] - sched.decisions[0],
                            "crop_gap_cycles": crop_gap},
                 top=top_info)
    save_artifact_copy(art, out / "student")
    write_json(out / "rtl.json", rec)
    return rec


def save_artifact_copy(art, folder: Path) -> None:
    """The student the design was built from, beside it (``rtl sim`` reads it from there)."""
    from cellsort.student.artifact import save_student

    save_student(folder, art)


VIVADO = """# Generated by cellsort: a Vivado project of the instrument top (cellsort_top.v) for {part}
# at {mhz:g} MHz (assumed; this script's timing report settles it).
# Usage: vivado -mode batch -source vivado_project.tcl   (or add cellsort_top.v to a CustomLogic design)
create_project -force cellsort_rtl ./vivado -part {part}
add_files cellsort_top.v
add_files -fileset constrs_1 cellsort_rtl.xdc
set_property top cellsort_top [current_fileset]
synth_design -top cellsort_top -part {part}
opt_design
place_design
route_design
report_utilization -file utilization.rpt
report_timing_summary -file timing.rpt
"""


def read_record(folder: str | Path) -> dict:
    """The ``rtl.json`` of a built folder."""
    import json

    path = Path(folder) / "rtl.json"
    if not path.is_file():
        raise DataError(f"{folder}: not an RTL build (no rtl.json; run `cellsort rtl build` first)")
    return json.loads(path.read_text())


def region_of_interest(images: np.ndarray, prep) -> np.ndarray:
    """The crops the instrument cuts (the preprocessing's crop, no binning: the RTL bins)."""
    from cellsort.data.intensity import crop_or_pad

    images = np.asarray(images, np.uint8)
    size = tuple(prep.input_size)
    if images.shape[1:] == size:
        return images
    if prep.fit != "crop":
        raise DataError(f"the student was trained on resized crops (fit {prep.fit!r}); the firmware "
                        "cuts a region of interest, so it takes crops of its size only")
    return np.stack([crop_or_pad(im, size) for im in images])


def _executable(folder: Path, module: str) -> Path:
    from cellsort.firmware.rtl import simulate as sim

    exe = folder / "obj_dir" / f"V{module}_sim"
    source = folder / ("cellsort_net.v" if module == "cellsort_net" else "cellsort_top.v")
    tb = folder / ("tb_net.cpp" if module == "cellsort_net" else "tb_top.cpp")
    if exe.is_file() and exe.stat().st_mtime >= max(source.stat().st_mtime, tb.stat().st_mtime):
        return exe
    return sim.build(folder, source, tb, module)


def threshold_code(art, plan) -> int:
    """The artifact's gate as the design's threshold register holds it: the largest code on the
    logits' grid not above it (``margin > code`` sorts exactly the margins above the gate)."""
    return int(np.floor(art.threshold * 2 ** plan.out_frac))


def simulate_crops(folder: str | Path, art, crops: np.ndarray, gap: int = 1) -> dict:
    """Crops through the network in Verilator: bit-exact count against the emulator, measured
    cycles from the first and the last pixel to the class, and the interval between crops."""
    from cellsort.firmware.emulator import Emulator
    from cellsort.firmware.rtl import simulate as sim
    from cellsort.gate import sort_margin

    folder = Path(folder)
    rec = read_record(folder)
    plan = plan_of_artifact(art)
    t0 = time.perf_counter()
    exe = _executable(folder, "cellsort_net")
    t_build = time.perf_counter() - t0
    crops = region_of_interest(crops, art.preprocessing)
    threshold = threshold_code(art, plan)
    t0 = time.perf_counter()
    res = sim.run(exe, crops, threshold, gap=gap, crop_gap=rec["predicted"]["crop_gap_cycles"])
    t_sim = time.perf_counter() - t0
    emu = Emulator(plan)
    codes = emu.codes(art.preprocessing.fit_images(crops))
    margins = sort_margin(codes, art.sort_class).astype(np.int64)
    same = (np.all(res.logits == codes, axis=1) & (res.margins == margins)
            & (res.classes == codes.argmax(1)) & (res.sorted == (margins > threshold)))
    first = [d - f for d, f in zip(res.cycles, res.first_beats)]
    last = [d - e for d, e in zip(res.cycles, res.last_beats)]
    interval = int(np.median(np.diff(res.cycles))) if len(res.cycles) > 1 else None
    mhz = rec["config"]["clock_mhz"]
    return {"method": f"{SIM_METHOD}; {CLOCK_NOTE}", "clock_mhz": mhz, "n": int(len(crops)),
            "bit_exact": int(same.sum()), "overflow": res.overflow,
            "cycles_first_pixel_to_class": int(max(first)), "cycles_last_pixel_to_class": int(max(last)),
            "us_first_pixel_to_class": max(first) / mhz, "us_last_pixel_to_class": max(last) / mhz,
            "interval_cycles": interval, "cells_per_s": mhz * 1e6 / interval if interval else None,
            "schedule_agrees": rec["predicted"]["cycles_first_pixel_to_class"] == int(max(first))
                               and rec["predicted"]["interval_cycles"] == interval,
            "seconds": {"build": t_build, "simulate": t_sim}, "gap_cycles_between_rows": gap}


def simulate_frames(folder: str | Path, art, frames: np.ndarray, background: np.ndarray, detect,
                    gap: int = 0) -> dict:
    """Whole frames through the instrument top in Verilator against Python's streaming detection
    and the emulator, frame by frame; detection to trigger measured from the last beat of the
    cell's last needed row."""
    from cellsort.firmware.emulator import Emulator
    from cellsort.firmware.fpga_detect import FpgaDetector, background_codes
    from cellsort.firmware.rtl import simulate as sim
    from cellsort.gate import sort_margin

    folder = Path(folder)
    rec = read_record(folder)
    if rec.get("top") is None:
        raise DataError(f"{folder}: the design has no instrument top (the crop is not square)")
    plan = plan_of_artifact(art)
    prep = art.preprocessing
    frames = np.ascontiguousarray(frames, np.uint8)
    n, h, w = frames.shape
    mh, mw = rec["top"]["max_frame"]
    if h > mh or w > mw:
        raise DataError(f"frames of {h}x{w} exceed the top's largest frame {mh}x{mw} (--max-frame)")
    exe = _executable(folder, "cellsort_top")
    threshold = threshold_code(art, plan)
    regs = [detect.threshold, detect.min_area, detect.max_area, detect.window_left, detect.window_right,
            detect.max_gap, detect.trigger_col, threshold]
    t0 = time.perf_counter()
    res = sim.run_top(exe, frames, background_codes(background), regs, gap=gap)
    t_sim = time.perf_counter() - t0
    det = FpgaDetector(background, detect, prep.input_size[0], rec["top"]["buffer_rows"])
    emu = Emulator(plan)
    p = rec["config"]["pixels_per_clock"]
    beats = -(-w // p)
    matched, latency, found = 0, [], 0
    for i, frame in enumerate(frames):
        obj, crossed = det.frame(frame)
        want = {"found": 0}
        if obj is not None:
            found += 1
            z = emu.codes(prep.fit_images(det.crop_of(frame, obj)[None]))
            m = int(sort_margin(z, art.sort_class)[0])
            want = {"found": 1, "row": obj.row, "col": obj.col, "crop_top": obj.crop_top,
                    "crop_left": obj.crop_left, "crossed": int(crossed), "trigger": int(crossed and m > threshold),
                    "margin": m, "cls": int(z[0].argmax())}
        got = res.records.get(i)
        if got is not None and all(got[k] == v for k, v in want.items()):
            matched += 1
        if obj is not None and got is not None:
            ready_beat = i * (h * beats + gap) + obj.ready_row * beats + beats - 1
            latency.append(got["cycle"] - ready_beat)
    mhz = rec["config"]["clock_mhz"]
    worst = max(latency) if latency else None
    return {"method": f"{SIM_METHOD}; {CLOCK_NOTE}", "clock_mhz": mhz, "frames": int(n), "cells": found,
            "frames_matching": matched, "error": res.error,
            "cycles_detection_to_trigger": worst, "us_detection_to_trigger": worst / mhz if worst else None,
            "cycles_detection_to_trigger_median": int(np.median(latency)) if latency else None,
            "seconds": {"simulate": t_sim}}


def resources(folder: str | Path, which: str = "network") -> dict:
    """Yosys's counts of the network (or the whole top) and their share of the board's part."""
    from cellsort.firmware.rtl.synth import synthesize

    folder = Path(folder)
    rec = read_record(folder)
    name = rec["files"].get(which)
    if name is None:
        raise DataError(f"{folder}: the design has no {which} RTL")
    module = "cellsort_net" if which == "network" else "cellsort_top"
    t0 = time.perf_counter()
    res = synthesize(folder / name, module, folder / f"yosys_{which}")
    res["seconds"] = time.perf_counter() - t0
    res["module"] = module
    write_json(folder / f"resources_{which}.json", record(None, **res))
    return res
