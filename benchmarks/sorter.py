"""Sorter throughput and per-stage latency on one core, and the detection-to-trigger budget.

Run: ``.venv/bin/python benchmarks/sorter.py [--artifact runs/demo/student] [--frames 300]``.
Software figures are measured here (one thread). The FPGA inference figure is the analytic
cycle model of the hls4ml io_stream design; stages with no FPGA implementation yet are
reported as such, not estimated.
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # one core, before numpy loads its BLAS

import argparse  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)  # the int8 GEMMs of the NumPy emulator back end run in torch

from cellsort.cbuild import macros  # noqa: E402
from cellsort.data import Preprocessing  # noqa: E402
from cellsort.data.intensity import crop_or_pad  # noqa: E402
from cellsort.firmware.boards import load_board  # noqa: E402
from cellsort.firmware.fpga_detect import (  # noqa: E402
    FpgaDetectConfig,
    background_codes,
    stream_objects,
)
from cellsort.firmware.latency import FrontEnd, estimate_latency, options_for_board  # noqa: E402
from cellsort.firmware.latency.top import detection_to_trigger  # noqa: E402
from cellsort.firmware.native import compile_plan, isa  # noqa: E402
from cellsort.sorter import CellClassifier, detect, estimate_background, synthetic_flow  # noqa: E402
from cellsort.student import StudentArtifact, build_student  # noqa: E402

PUBLISHED = {"inference": 14.5, "detection to trigger": 24.7}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--artifact", type=Path)
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--board", default="coaxlink-ku035")
    args = ap.parse_args()
    if args.artifact:
        clf = CellClassifier(args.artifact)
    else:
        model = build_student("paper")
        rng = np.random.default_rng(0)
        model.set_weights([rng.normal(0, 0.2, w.shape) for w in model.get_weights()])
        clf = CellClassifier(StudentArtifact(model, Preprocessing(), ("B", "T4")))
    frames = np.stack([f for f, _ in synthetic_flow(args.frames, seed=0, classes=clf.class_names)])
    bg = estimate_background(frames[::3])
    size = clf.preprocessing.input_size
    t_det, t_crop, t_cls, t_trig, cells, fired = [], [], [], [], 0, 0
    t_all = time.perf_counter()
    for f in frames:
        t0 = time.perf_counter_ns()
        dets = detect(f, bg)
        t_det.append(time.perf_counter_ns() - t0)
        for d in dets:
            t0 = time.perf_counter_ns()
            crop = crop_or_pad(f, size, (d.row, d.col))
            x = clf.preprocessing.fit_images(crop[None])
            t1 = time.perf_counter_ns()
            margin = clf.classify(x).margins[0]
            t2 = time.perf_counter_ns()
            fired += bool(margin > clf.threshold)
            t3 = time.perf_counter_ns()
            t_crop.append(t1 - t0), t_cls.append(t2 - t1), t_trig.append(t3 - t2)
            cells += 1
    wall = time.perf_counter() - t_all

    def us(v, q):
        return np.percentile(np.asarray(v) / 1e3, q)

    print(f"software path, one thread: {args.frames} frames of {frames.shape[1]}x{frames.shape[2]}, "
          f"{cells} cell crops ({fired} fired), {cells / wall:.0f} cells/s, {args.frames / wall:.0f} frames/s")
    for name, v in (("detection (per frame)", t_det), ("crop + normalise (per cell)", t_crop),
                    ("inference, emulator (per cell)", t_cls), ("trigger decision (per cell)", t_trig)):
        print(f"  {name:<32} p50 {us(v, 50):9.1f} µs   p99 {us(v, 99):9.1f} µs")
    emulator_throughput(clf, frames, bg)
    board = load_board(args.board)
    art = clf.artifact
    print(f"\nbudget on the FPGA ({board.part}; student {art.model.name}, crop "
          f"{art.preprocessing.input_size[0]}, bin {art.preprocessing.bin}; {board.pixels_per_clock} "
          "pixels a clock):")
    print(f"  {'tool, clock':<14} {'inference (front end incl.)':>32} {'detection to trigger':>32}   published")
    methods = {}
    for tool, mhz in (("vitis", board.clock_mhz), ("vitis", 250.0), ("vivado", 250.0)):
        rep = estimate_latency(art.model, options_for_board(
            board, hls_tool=tool, clock_mhz=mhz,
            frontend=FrontEnd.of(art.preprocessing, board.pixels_per_clock)))
        top = detection_to_trigger(art.model, art.preprocessing, board, hls_tool=tool, clock_mhz=mhz)
        inf = f"{rep.total_us:.2f} µs ({rep.total_us_low:.1f}-{rep.total_us_high:.1f}) {rep.verdict}"
        d2t = f"{top['total_us']:.2f} µs ({top['total_us_low']:.1f}-{top['total_us_high']:.1f}) {top['verdict']}"
        print(f"  {f'{tool} {mhz:g} MHz':<14} {inf:>32} {d2t:>32}   {PUBLISHED['inference']} / "
              f"{PUBLISHED['detection to trigger']} µs")
        methods[tool] = top["method"]
    for tool, method in methods.items():
        print(f"  method ({tool}): {method}")
    print("  detection to trigger runs from the last beat of the cell's last needed row to the "
          "trigger (cellsort.firmware.latency.top)")
    res = top["resources"]
    print(f"  detection stage: {res['bram18']} BRAM18, ~{res['lut']:,} LUTs ({res['method']})")


#: Figures of the previous software path (numpy float64 im2col emulator, whole-frame scikit-image
#: detection), measured with the same script before the change on a 2-core AMD EPYC (Zen 4).
BEFORE = {"crops_per_s": 245, "single_p50_us": 783, "single_p99_us": 902, "detect_ms": 6.46}
TARGET = {"crops_per_s": 20_000, "single_p99_us": 50, "frames_per_s": 1_000}


def inference_figures(classify, crops) -> tuple[float, np.ndarray]:
    """Batch crops/s (best of three) and single-crop latencies (µs) of ``classify``."""
    classify(crops[:16])
    batch = 0.0
    for _ in range(3):
        t0 = time.perf_counter()
        classify(crops)
        batch = max(batch, len(crops) / (time.perf_counter() - t0))
    single = []
    for crop in crops[:2000]:
        t0 = time.perf_counter_ns()
        classify(crop)
        single.append((time.perf_counter_ns() - t0) / 1e3)
    return batch, np.asarray(single)


def emulator_throughput(clf, frames, bg, n: int = 4096):
    """Bit-exact emulator on one thread: batch crops/s and single-crop latency per back end
    (``CellClassifier.classify`` end to end); detection fps."""
    crops = np.random.default_rng(1).integers(0, 256, (n, *clf.preprocessing.input_size), np.uint8)
    numpy_clf = CellClassifier(clf.artifact, emulator_backend="numpy")
    figures = {f"compiled ({clf.emulator.isa})": inference_figures(clf.classify, crops),
               "numpy": inference_figures(numpy_clf.classify, crops)}
    t0 = time.perf_counter()
    for f in frames:
        detect(f, bg)
    fps = len(frames) / (time.perf_counter() - t0)
    codes = background_codes(bg)
    t0 = time.perf_counter()
    for f in frames:
        stream_objects(f, codes, FpgaDetectConfig(), 48, 96)
    fps_fpga = len(frames) / (time.perf_counter() - t0)
    print("\nbit-exact emulator and detection, one thread (measured; before = the first code, a "
          "NumPy float64 im2col emulator, on a 2-core Zen 4 EPYC):")
    names = list(figures)
    print(f"  {'':<30} " + " ".join(f"{n:>22}" for n in names) + f" {'before':>10} {'target':>10}")
    rows = (("batch inference, crops/s", lambda b, s: b, BEFORE["crops_per_s"], TARGET["crops_per_s"]),
            ("single crop p50, µs", lambda b, s: np.percentile(s, 50), BEFORE["single_p50_us"], ""),
            ("single crop p99, µs", lambda b, s: np.percentile(s, 99), BEFORE["single_p99_us"],
             TARGET["single_p99_us"]))
    for label, value, before, target in rows:
        print(f"  {label:<30} " + " ".join(f"{value(*figures[n]):>22.0f}" for n in names)
              + f" {before:>10} {target:>10}")
    print(f"  {'detection, frames/s':<30} {fps:>22.0f} {'':>22} {1000 / BEFORE['detect_ms']:>10.0f} "
          f"{TARGET['frames_per_s']:>10}   (scikit-image rule)")
    print(f"  {'  fpga-equivalent detection':<30} {fps_fpga:>22.0f} {'':>22} {'':>10} "
          f"{TARGET['frames_per_s']:>10}   (the firmware's streaming pass, --detector fpga)")
    print("\ncompiled kernel alone per instruction-set rule this CPU runs (batch, best of three; a "
          "rule below the best shows what CPUs with only those instructions get, roughly):")
    for rule in isa.rules():
        if not set(rule.macros) <= macros():
            continue
        kernel = compile_plan(clf.emulator.plan, rule)
        best = 0.0
        for _ in range(3):
            t0 = time.perf_counter()
            kernel(crops)
            best = max(best, len(crops) / (time.perf_counter() - t0))
        print(f"  {rule.name:<14} {best:>10.0f} crops/s")


if __name__ == "__main__":
    main()
