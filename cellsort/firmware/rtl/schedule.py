"""The cycle schedule of the streaming network, computed from its rules before any simulation.

Timing rules (the generated RTL follows them register for register; the Verilator testbench
measures what they predict, and the tests hold the two equal):

- a layer hands pixels to the next through registered write lanes: the front end sets them
  ``FrontEnd.depth`` cycles after a crop beat, the next layer takes them one cycle later (into
  its ring, and its count of complete rows), and may use a complete row from the cycle after;
- a convolution STARTs an output row (copying its window out of the ring) in the first cycle in
  which the rows it needs are complete and it is idle or in the last RUN cycle of the previous
  row; it then RUNs ``ceil(columns / PE)`` cycles, each setting its write lanes ``depth`` cycles
  later (a pooled layer writes on odd rows only; an odd last row is not computed);
- a dense layer takes each pixel one cycle after its lanes are set; the crop's result (or the
  decision, for the last layer) is registered ``depth`` cycles after that.

A layer's ring holds as many rows as the producer can be ahead of the first row still needed
by an output row not yet STARTed when a row's first pixel reaches the ring.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from cellsort.firmware.rtl.layers import ConvLayer, DenseLayer, FrontEnd


@dataclass
class RowWrites:
    """When each row of a stream is written: first write and completion (last write) cycles."""

    first: list[int] = field(default_factory=list)
    done: list[int] = field(default_factory=list)


@dataclass
class Schedule:
    """The predicted cycles of ``n`` crops: per conv layer its START cycles and ring depth; per
    crop the cycle its decision is registered."""

    ring_rows: dict[str, int]
    starts: dict[str, list[int]]
    decisions: list[int]
    first_beats: list[int]
    last_beats: list[int]


def crop_beats(front: FrontEnd, n: int, gap: int = 0, crop_gap: int = 0, start: int = 0) -> list[list[list[int]]]:
    """Beat cycles of ``n`` crops (``gap`` idle cycles after each row, ``crop_gap`` after each crop)."""
    t, out = start, []
    for _ in range(n):
        crop = []
        for _ in range(front.h):
            crop.append(list(range(t, t + front.beats)))
            t += front.beats + gap
        out.append(crop)
        t += crop_gap
    return out


def crop_interval(front: FrontEnd, layers: list, gap: int = 0) -> int:
    """The fewest cycles between crops that every layer sustains: the input's own time, or the
    busiest convolution's rows times its cycles a row."""
    busy = [layer.rows_computed * layer.cycles_per_row for layer in layers if isinstance(layer, ConvLayer)]
    return max([front.h * (front.beats + gap), *busy])


def _front_rows(front: FrontEnd, beats) -> RowWrites:
    rows = RowWrites()
    for crop in beats:
        for i in range(front.out_h):
            last = crop[i * front.bin + front.bin - 1]
            active = [b for b in range(front.beats) if len(front.groups_of_beat(b))]
            rows.first.append(last[active[0]] + front.depth)
            rows.done.append(last[active[-1]] + front.depth)
    return rows


def _conv(layer: ConvLayer, rows_in: RowWrites, n: int):
    """START cycles, output row writes and ring depth of a convolution."""
    starts, out, needs = [], RowWrites(), []
    prev = None
    for crop in range(n):
        for o in range(layer.rows_computed):
            need = crop * layer.h + o + layer.kh
            if need > len(rows_in.done):
                break
            s = rows_in.done[need - 1] + 2
            if prev is not None:
                s = max(s, prev + layer.cycles_per_row)
            starts.append(s)
            needs.append(crop * layer.h + o)
            prev = s
            if not layer.step.pool:
                out.first.append(s + 1 + layer.depth)
                out.done.append(s + layer.cycles_per_row + layer.depth)
            elif o % 2:
                out.first.append(s + (1 if layer.pe > 1 else 2) + layer.depth)
                out.done.append(s + layer.cycles_per_row + layer.depth)
    depth = layer.kh
    for g, first in enumerate(rows_in.first):
        waiting = [need for s, need in zip(starts, needs) if s >= first + 1]
        if waiting:
            depth = max(depth, g - waiting[0] + 1)
        elif g >= (n - 1) * layer.h:  # the last crop's tail: nothing simulated after it
            break
    return starts, out, depth


def schedule(front: FrontEnd, layers: list, beats) -> Schedule:
    """The schedule of the crops whose beats are ``beats`` (:func:`crop_beats`)."""
    n = len(beats)
    rows = _front_rows(front, beats)
    rings, starts, decisions = {}, {}, []
    for layer in layers:
        if isinstance(layer, ConvLayer):
            starts[layer.name], rows, rings[layer.name] = _conv(layer, rows, n)
        elif isinstance(layer, DenseLayer):
            per = len(rows.done) // n  # rows of one crop
            done = [rows.done[(c + 1) * per - 1] + 1 + layer.depth for c in range(n)]
            rows = RowWrites(done, done)
    decisions = list(rows.done)
    return Schedule(rings, starts, decisions, [c[0][0] for c in beats], [c[-1][-1] for c in beats])
