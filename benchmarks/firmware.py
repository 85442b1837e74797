"""Firmware figures of the paper student: conversion time, C-sim vs emulator throughput, latency.

Run: ``.venv/bin/python benchmarks/firmware.py [--artifact runs/demo/student] [--n 200]``.
Without ``--artifact`` a paper student with seeded random weights is used (throughput and
latency do not depend on the weights). Every latency figure is labelled with its method.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from cellsort.data import Preprocessing, synthesize
from cellsort.firmware.boards import load_board
from cellsort.firmware.convert import csim_logits, to_hls4ml
from cellsort.firmware.emulator import Emulator
from cellsort.firmware.fixed import input_format, pixel_codes
from cellsort.firmware.latency import estimate_latency, options_for_board
from cellsort.student import build_student, load_student


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--artifact", type=Path)
    ap.add_argument("--n", type=int, default=200, help="Crops for the C-sim throughput.")
    ap.add_argument("--board", default="coaxlink-ku035")
    args = ap.parse_args()
    if args.artifact:
        art = load_student(args.artifact)
        model, prep = art.model, art.preprocessing
    else:
        model, prep = build_student("paper"), Preprocessing()
        rng = np.random.default_rng(0)
        model.set_weights([rng.normal(0, 0.2, w.shape) for w in model.get_weights()])
    board = load_board(args.board)
    crops = prep.fit_images(synthesize(max(args.n, 2000), seed=1).images)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        hls_model = to_hls4ml(model, Path(tmp) / "prj", part=board.part,
                            clock_period=board.clock_period_ns)
        t_convert = time.perf_counter() - t0
        t0 = time.perf_counter()
        hls_model.compile()
        t_compile = time.perf_counter() - t0
        sub = crops[: args.n]
        t0 = time.perf_counter()
        csim = csim_logits(hls_model, pixel_codes(model, prep)[sub], input_format(model).frac)
        t_csim = time.perf_counter() - t0
    em = Emulator.from_model(model, prep)
    t0 = time.perf_counter()
    emu = em.logits(crops)
    t_emu = time.perf_counter() - t0
    exact = int(np.all(csim == emu[: len(sub)], axis=1).sum())
    print(f"paper student ({model.count_params()} parameters), {board.part}")
    print(f"  hls4ml conversion           {t_convert:6.1f} s")
    print(f"  g++ compile (C simulation)  {t_compile:6.1f} s")
    print(f"  C-sim throughput            {len(sub) / t_csim:8.0f} images/s ({len(sub)} crops)")
    print(f"  emulator throughput         {len(crops) / t_emu:8.0f} images/s ({len(crops)} crops, one process, "
          f"{em.backend} back end{', ' + em.isa if em.isa else ''})")
    print(f"  emulator == C-sim           {exact}/{len(sub)} bit-exact")
    for tool in ("vitis", "vivado"):
        for mhz in sorted({200.0, 250.0, board.clock_mhz}):
            rep = estimate_latency(model, options_for_board(board, hls_tool=tool, clock_mhz=mhz))
            print(f"  latency, {tool} at {mhz:.0f} MHz: {rep.summary()}")


if __name__ == "__main__":
    main()
