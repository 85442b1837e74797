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

from cellsort.data import Preprocessing  # noqa: E402
from cellsort.data.intensity import crop_or_pad  # noqa: E402
from cellsort.firmware.boards import load_board  # noqa: E402
from cellsort.firmware.latency import estimate_latency, options_for_board  # noqa: E402
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
    board = load_board(args.board)
    rep = estimate_latency(clf.artifact.model, options_for_board(board))
    print(f"\nbudget, detection to trigger ({board.part} at {board.clock_mhz:.0f} MHz):")
    print(f"  {'stage':<22} {'cellsort':>34} {'published':>10}")
    print(f"  {'inference':<22} {f'{rep.total_us:.2f} µs ({rep.total_us_low:.1f}-{rep.total_us_high:.1f}, {rep.verdict})':>34} "
          f"{PUBLISHED['inference']:>7} µs")
    print(f"  {'detection + crop':<22} {'not on the FPGA yet (software above)':>34} "
          f"{PUBLISHED['detection to trigger'] - PUBLISHED['inference']:>7.1f} µs")
    print(f"  {'detection to trigger':<22} {'not yet comparable':>34} {PUBLISHED['detection to trigger']:>7} µs")
    print(f"  inference method: {rep.method}")


if __name__ == "__main__":
    main()
