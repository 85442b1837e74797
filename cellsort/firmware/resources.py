"""Per-layer resource estimate of the hls4ml design (method stated, no vendor tools).

Method ("analytic count from the layer shapes"): a layer with reuse factor ``R`` instantiates
``ceil(weights / R)`` multipliers (a convolution's kernel is applied to one pixel at a time in
``io_stream``); each is a ``w x a``-bit product, counted as one DSP when ``max(w, a) > 10`` bits
else ``w·a/2`` LUTs (fabric multiplier). Line buffers hold ``(k-1)`` input rows of all
channels; ``io_stream`` FIFOs are counted at their full map size, as hls4ml sizes them by
default. Memories are reported in bits and 18 Kb BRAM blocks.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from cellsort.firmware.fixed import quantizer_format

METHOD = "analytic count from the layer shapes"
BRAM18_BITS = 18 * 1024


@dataclass
class LayerResources:
    name: str
    multipliers: int
    dsp: int
    lut_mult: int
    buffer_bits: int
    bram18: int


def estimate_resources(model, reuse_factor: int = 1) -> dict:
    """Per-layer multipliers, DSP/LUT estimate and buffer memory; totals under ``total``."""
    rows, act_bits = [], quantizer_format(model.get_layer("pixels_q").quantizer).width
    for layer in model.layers:
        kind = type(layer).__name__
        shape_in = layer.input_shape
        if kind in ("QConv2D", "QDense"):
            w_bits = quantizer_format(layer.kernel_quantizer_internal).width
            kernel = layer.get_weights()[0]
            mults = math.ceil(kernel.size / reuse_factor)
            dsp = mults if max(w_bits, act_bits) > 10 else 0
            luts = 0 if dsp else mults * w_bits * act_bits // 2
            buf = (kernel.shape[0] - 1) * shape_in[2] * shape_in[3] * act_bits if kind == "QConv2D" else 0
            rows.append(LayerResources(layer.name, mults, dsp, luts, buf, math.ceil(buf / BRAM18_BITS)))
        elif kind == "QActivation" and layer.name != "pixels_q":
            act_bits = quantizer_format(layer.quantizer).width
            fifo = int(math.prod(layer.output_shape[1:])) * act_bits
            rows.append(LayerResources(layer.name, 0, 0, 0, fifo, math.ceil(fifo / BRAM18_BITS)))
    total = LayerResources("total", *(sum(getattr(r, f) for r in rows) for f in
                                      ("multipliers", "dsp", "lut_mult", "buffer_bits", "bram18")))
    return {"method": METHOD, "reuse_factor": reuse_factor,
            "per_layer": [asdict(r) for r in rows], "total": asdict(total)}
