"""What an RTL design costs, before any simulation or synthesis: its cycles (the schedule's exact
rules) and an analytic count of its logic, for searches that try many designs.

Method: the cycles are those of :mod:`.schedule` (the rules the generated RTL follows; the test
suite holds them equal to Verilator's measurement). The logic is counted from the structure the
generator writes: every constant product is its canonical-signed-digit adders (one LUT a bit of
each adder on a carry chain), every adder-tree node and bias add its width in LUTs, every window
copy a ``ring``-to-1 multiplexer a bit (a LUT6 takes four inputs), plus the registers; Yosys's
mapping of the same Verilog (``cellsort rtl resources``) settles it.
"""
from __future__ import annotations

import math

from cellsort.firmware.rtl.layers import (
    ConvLayer,
    DenseLayer,
    FrontEnd,
    network_layers,
    signed_bits,
)
from cellsort.firmware.rtl.network import csd
from cellsort.firmware.rtl.schedule import crop_beats, crop_interval, schedule


def verdict(us: float, budget_us: float) -> str:
    """A latency verdict where the cycles are exact and only the clock is assumed (``us`` at the
    assumed clock): PASS when the design meets the budget even at half that clock, UNCERTAIN when
    only at the assumed clock (Vivado's timing report settles it), FAIL otherwise."""
    return "PASS" if 2 * us <= budget_us else "UNCERTAIN" if us <= budget_us else "FAIL"


METHOD = ("analytic count of the generated RTL (constant-product and adder bits, window "
          "multiplexers, registers); `cellsort rtl resources` (Yosys) settles it")


def _tree_bits(bounds: list[int]) -> int:
    """Bits of the adders of a pairwise tree over terms of these magnitude bounds."""
    total = 0
    while len(bounds) > 1:
        pairs = [bounds[i:i + 2] for i in range(0, len(bounds), 2)]
        total += sum(signed_bits(-sum(pr), sum(pr)) for pr in pairs if len(pr) == 2)
        bounds = [sum(pr) for pr in pairs]
    return total


def _conv(layer: ConvLayer, ring: int) -> tuple[int, int]:
    xmax = max(abs(v) for v in layer.step.in_range)
    adders = regs = 0
    for f in range(layer.cout):
        bounds = [xmax * abs(int(wt)) for wt in layer.step.w[:, f] if wt]
        for wt, b in zip((wt for wt in layer.step.w[:, f] if wt), bounds):
            bits = signed_bits(-b, b) + 1
            adders += (len(csd(int(wt))) - 1) * bits
            regs += bits
        tree = _tree_bits(bounds)
        adders += tree + layer.acc_bits
        regs += tree + layer.acc_bits
    row = layer.w * layer.cin * layer.in_bits
    lut = layer.pe * adders + layer.kh * row * math.ceil(ring / 4)
    ff = layer.pe * regs + (ring + layer.kh) * row
    if layer.step.pool:
        lut += 2 * layer.pe * layer.cout * layer.acc_bits
        ff += layer.cycles_per_row * layer.pe * layer.cout * layer.acc_bits
    return lut, ff


def _dense(layer: DenseLayer) -> tuple[int, int]:
    wb = signed_bits(int(layer.step.w.min(initial=0)), int(layer.step.w.max(initial=0)))
    rom = layer.lanes * layer.c * layer.f * math.ceil(layer.n / 64) * wb  # LUT6 ROMs
    terms = layer.lanes * layer.c
    adders = layer.f * (terms * layer.acc_bits + layer.acc_bits)
    return rom + adders, layer.f * (terms + 2) * layer.acc_bits + layer.lanes * layer.c * layer.f * wb


def logic(front: FrontEnd, layers: list, rings: dict[str, int]) -> dict:
    """LUT, FF and DSP estimates of the network (see the module doc); the dense layers'
    variable products are DSPs."""
    lut = ff = dsp = 0
    for layer in layers:
        if isinstance(layer, ConvLayer):
            a, b = _conv(layer, rings[layer.name])
        else:
            a, b = _dense(layer)
            dsp += layer.lanes * layer.c * layer.f
        lut, ff = lut + a, ff + b
    return {"lut": int(lut), "ff": int(ff), "dsp": int(dsp), "bram18": 0}


def rtl_cost(plan, crop: tuple[int, int], bin_: int, pixels_per_clock: int, clock_mhz: float,
             parallelism: dict | None = None) -> dict:
    """Cycles (first and last pixel to class, the crop interval) and the logic estimate."""
    front, layers = network_layers(plan, crop, bin_, pixels_per_clock, parallelism)
    gap = 1
    interval = crop_interval(front, layers, gap)
    sched = schedule(front, layers, crop_beats(front, 3, gap=gap, crop_gap=interval - front.h * (front.beats + gap)))
    cycles = sched.decisions[0] - sched.first_beats[0]
    return {"method": "RTL cycle schedule (exact rules; Verilator measures the same)",
            "cycles": cycles, "us": cycles / clock_mhz, "clock_mhz": clock_mhz,
            "cycles_after_last_pixel": sched.decisions[0] - sched.last_beats[0],
            "interval_cycles": interval, "parallelism": {l.name: l.pe for l in layers if isinstance(l, ConvLayer)},
            "resources": {**logic(front, layers, sched.ring_rows), "method": METHOD}}


def parallelism_of(mode: str, plan, crop, bin_, pixels_per_clock) -> dict[str, int]:
    """PE per convolution for a design's parallelism ``mode``: ``auto`` (empty: the fewest that
    keep up) or ``half`` (:func:`halved`)."""
    return halved(plan, crop, bin_, pixels_per_clock) if mode == "half" else {}


def halved(plan, crop, bin_, pixels_per_clock) -> dict[str, int]:
    """Every convolution at half the parallelism that keeps up (pooled: 1 or even)."""
    _, layers = network_layers(plan, crop, bin_, pixels_per_clock)
    out = {}
    for layer in layers:
        if isinstance(layer, ConvLayer):
            pe = max(1, layer.pe // 2)
            out[layer.name] = pe + 1 if layer.step.pool and pe > 1 and pe % 2 else pe
    return out


