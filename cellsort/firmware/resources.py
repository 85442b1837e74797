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

from cellsort.architecture import Architecture, ArchitectureError, read_architecture
from cellsort.architecture.fixed import format_of
from cellsort.firmware.plan import input_quantizer

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
    """Per-layer multipliers, DSP/LUT estimate and buffer memory; totals under ``total``.

    ``model``: a loaded student or its :class:`~cellsort.architecture.Architecture` (the one
    model representation; only shapes and formats are needed, not weights)."""
    arch = model if isinstance(model, Architecture) else read_architecture(model)
    rows, act_bits = [], input_quantizer(arch).width
    for layer in arch.layers[1:]:
        if layer.kind in ("conv2d", "dense"):
            quantizer = layer.attrs.get("quantizers", {}).get("kernel_quantizer")
            if quantizer is None:
                raise ArchitectureError(f"layer {layer.name!r}: unquantized, no resource count")
            w_bits = format_of(quantizer).width
            in_c = layer.in_shape[-1]
            weights = (math.prod(layer.attrs["kernel"]) * in_c * layer.attrs["filters"]
                       if layer.kind == "conv2d" else layer.in_shape[0] * layer.attrs["units"])
            mults = math.ceil(weights / reuse_factor)
            dsp = mults if max(w_bits, act_bits) > 10 else 0
            luts = 0 if dsp else mults * w_bits * act_bits // 2
            buf = ((layer.attrs["kernel"][0] - 1) * layer.in_shape[1] * in_c * act_bits
                   if layer.kind == "conv2d" else 0)
            rows.append(LayerResources(layer.name, mults, dsp, luts, buf, math.ceil(buf / BRAM18_BITS)))
        elif layer.kind == "activation" and layer.attrs.get("quantizer") is not None:
            act_bits = format_of(layer.attrs["quantizer"]).width
            fifo = int(math.prod(layer.out_shape)) * act_bits
            rows.append(LayerResources(layer.name, 0, 0, 0, fifo, math.ceil(fifo / BRAM18_BITS)))
    total = LayerResources("total", *(sum(getattr(r, f) for r in rows) for f in
                                      ("multipliers", "dsp", "lut_mult", "buffer_bits", "bram18")))
    return {"method": METHOD, "reuse_factor": reuse_factor,
            "per_layer": [asdict(r) for r in rows], "total": asdict(total)}
