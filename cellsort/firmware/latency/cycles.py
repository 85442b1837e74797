"""The point estimate of the cycle model: stages, their timing rules, the dataflow simulation.

Method: the architecture is lowered to hls4ml's stages (:mod:`.stages`), each stage timed by
its registered rule with the tool's parameters (:mod:`.rules`), and the DATAFLOW region
simulated word by word (:mod:`.dataflow`), the front end's arrivals first where given.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cellsort.architecture import Architecture, ArchitectureError
from cellsort.firmware.latency.dataflow import (
    frontend_arrivals,
    simulate_parallel,
    simulate_stream,
)
from cellsort.firmware.latency.options import LatencyOptions
from cellsort.firmware.latency.rules import timing_for
from cellsort.firmware.latency.stages import lower
from cellsort.firmware.latency.tools import TOOLS


@dataclass
class LayerTiming:
    """One stage: words in, achieved II, its own latency and when its last word leaves."""

    name: str
    kind: str
    words_in: int
    ii: str
    own_cycles: int
    done: int
    note: str = ""


def model_cycles(arch: Architecture, options: LatencyOptions) -> tuple[int, list[LayerTiming]]:
    """The point estimate (cycles) and the per-layer breakdown; see the module doc."""
    params = TOOLS[options.hls_tool].params
    unknown = set(options.layer_reuse) - {layer.name for layer in arch.layers}
    if unknown:
        raise ArchitectureError(f"{arch.source or arch.name}: no layer named {sorted(unknown)} "
                                f"for a reuse factor (layers: {[l.name for l in arch.layers]})")
    stages = [s for s in lower(arch, options.reuse())
              if not (s.kind == "softmax" and options.softmax == "skip")]
    if not stages:
        raise ArchitectureError(f"{arch.source or arch.name}: nothing to synthesise once the "
                                "softmax is skipped")
    timings = [timing_for(s, params, options) for s in stages]
    simulate = simulate_stream if options.io_type == "io_stream" else simulate_parallel
    fe = options.frontend
    arrivals = None if fe is None else frontend_arrivals(fe, stages[0].in_tokens)
    done = simulate(stages, timings, params.overhead, arrivals)
    rows = []
    if fe is not None:
        beats = fe.crop[0] * fe.row_beats
        rows.append(LayerTiming("frontend", "frontend", beats, "1", int(arrivals[-1]) + 1,
                                int(arrivals[-1]) + 1, f"crop {fe.crop[0]}x{fe.crop[1]}, bin "
                                f"{fe.bin}, {fe.pixels_per_clock} px a beat"))
    for stage, timing, end in zip(stages, timings, done):
        ii = np.broadcast_to(np.asarray(timing.ii), (stage.in_tokens,))
        own = int(timing.startup + ii.sum() + timing.compute + timing.depth)
        shown = str(int(ii[0])) if ii.min() == ii.max() else f"{int(ii.min())}-{int(ii.max())}"
        rows.append(LayerTiming(stage.name, stage.kind, stage.in_tokens, shown, own, end, timing.note))
    return done[-1], rows
