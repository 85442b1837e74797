"""The streaming network's layers: geometry, parallelism and pipeline depth of each, from the
integer plan (:mod:`cellsort.firmware.plan`, the numbers the emulator and the C simulation
agree on).

Method: the crop arrives ``P`` pixels a beat; the front end bins it (``bin`` x ``bin``, exact
integer mean) and maps each binned pixel through the normalisation ROM to its input code. A
convolution (with its fused quantized activation and 2x2 max-pool) keeps the input rows it
needs in a ring of row registers and computes one output row at a time, ``PE`` output pixels
(all channels) a cycle, from a window copied out of the ring; a dense layer accumulates its
input pixels as they are written, ``E`` pixels a cycle, its weights in ROMs indexed by pixel.
Every multiplier has a constant weight, every adder tree is registered level by level, so
the cycle count is exact and known before simulation (:mod:`.schedule`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from cellsort.errors import ConfigError
from cellsort.firmware.plan import Plan, Step


def signed_bits(lo: float, hi: float) -> int:
    """Bits of the narrowest two's-complement type holding every integer in [lo, hi]."""
    bits = 1
    while not (-(1 << (bits - 1)) <= lo and hi <= (1 << (bits - 1)) - 1):
        bits += 1
    return bits


def tree_levels(terms: int) -> int:
    """Registered levels of a pairwise adder tree over ``terms`` inputs."""
    return max(0, math.ceil(math.log2(max(terms, 1))))


class _Accumulating:
    """Widths of a layer that sums ``terms`` products into an accumulator (its plan ``step``)."""

    step: Step

    @property
    def acc_bits(self) -> int:
        return signed_bits(-self.step.bound, self.step.bound)

    @property
    def out_bits(self) -> int:
        return signed_bits(*self.step.out_range)

    @property
    def levels(self) -> int:
        """Registered levels of the adder tree over the layer's ``terms``."""
        return tree_levels(self.terms)


@dataclass(frozen=True)
class ConvLayer(_Accumulating):
    """A 'valid' stride-1 convolution, its output format and fused 2x2 max-pool."""

    name: str
    step: Step
    h: int
    w: int
    cin: int
    kh: int
    kw: int
    cout: int
    pe: int
    in_bits: int

    @property
    def ho(self) -> int:
        return self.h - self.kh + 1

    @property
    def wo(self) -> int:
        return self.w - self.kw + 1

    @property
    def rows_computed(self) -> int:
        """Output rows computed (a pool drops an odd last row, so it is not computed)."""
        return self.ho // 2 * 2 if self.step.pool else self.ho

    @property
    def cols_computed(self) -> int:
        return self.wo // 2 * 2 if self.step.pool else self.wo

    @property
    def cycles_per_row(self) -> int:
        return -(-self.cols_computed // self.pe)

    @property
    def out_h(self) -> int:
        return self.ho // 2 if self.step.pool else self.ho

    @property
    def out_w(self) -> int:
        return self.wo // 2 if self.step.pool else self.wo

    @property
    def out_lanes(self) -> int:
        """Output pixels written a cycle at most."""
        return max(1, self.pe // 2) if self.step.pool else self.pe

    @property
    def terms(self) -> int:
        """Nonzero products of the widest output channel (its adder tree's inputs)."""
        return max(1, int((self.step.w != 0).sum(axis=0).max()))

    @property
    def depth(self) -> int:
        """Cycles from a RUN cycle to the write of its outputs (products, the tree's levels,
        the bias, then pooling and requantization into the next layer; see :mod:`.schedule`)."""
        return self.levels + 2


@dataclass(frozen=True)
class DenseLayer(_Accumulating):
    """A dense layer fed pixel by pixel (``C`` channels each, ``N`` pixels a crop)."""

    name: str
    step: Step
    n: int
    w: int
    c: int
    f: int
    lanes: int
    in_bits: int

    @property
    def terms(self) -> int:
        return self.lanes * self.c

    @property
    def depth(self) -> int:
        """Cycles from a written input pixel to the write of the result it completes: weight ROM
        and inputs registered, products, the tree's levels, the accumulator, then the result
        (requantized) into the next layer or the decision stage."""
        return self.levels + 3


@dataclass(frozen=True)
class FrontEnd:
    """Crop (``h`` x ``w`` at ``p`` pixels a beat) → ``bin`` x ``bin`` binning → ROM codes."""

    h: int
    w: int
    p: int
    bin: int
    table: np.ndarray = field(repr=False)

    @property
    def out_h(self) -> int:
        return self.h // self.bin

    @property
    def out_w(self) -> int:
        return self.w // self.bin

    @property
    def beats(self) -> int:
        return -(-self.w // self.p)

    @property
    def out_lanes(self) -> int:
        """Binned pixels written a cycle at most: the groups a beat completes,
        ``floor((beat + 1) p / bin) - floor(beat p / bin) <= ceil(p / bin)``."""
        return -(-self.p // self.bin)

    def groups_of_beat(self, beat: int) -> range:
        """The binned columns whose last crop column arrives in ``beat``."""
        return range(beat * self.p // self.bin, min((beat + 1) * self.p, self.w) // self.bin)

    #: Cycles from a crop beat to the write of the binned codes it completes (see :mod:`.schedule`).
    depth = 2

    @property
    def code_bits(self) -> int:
        return signed_bits(int(self.table.min()), int(self.table.max()))


def parse_parallelism(text: str | None) -> dict[str, int]:
    """``"conv1=8,conv2=2"`` → ``{"conv1": 8, "conv2": 2}`` (None or "auto": {})."""
    if not text or text == "auto":
        return {}
    out = {}
    for item in text.split(","):
        name, _, value = item.partition("=")
        if not value.strip().isdigit() or int(value) < 1:
            raise ConfigError(f"--parallelism {text!r}: expected LAYER=PE[,LAYER=PE], PE a positive integer")
        out[name.strip()] = int(value)
    return out


def network_layers(plan: Plan, crop: tuple[int, int], bin_: int, p: int,
                   parallelism: dict[str, int] | None = None):
    """The front end and the layers of ``plan`` for a crop arriving ``p`` pixels a beat.

    A layer's ``PE`` defaults to the fewest output pixels a cycle that keep up with its
    input rows (so no row waits and every ring stays ``kh + 1`` rows deep); ``parallelism``
    sets it per layer (by Keras name) instead. Refuses, naming the step, what the RTL back end
    cannot stream: a stand-alone activation or pooling, a pool with an odd PE above 1, a first
    step that is not a convolution or dense layer.
    """
    parallelism = dict(parallelism or {})
    names = {s.name for s in plan.steps}
    unknown = sorted(set(parallelism) - names)
    if unknown:
        raise ConfigError(f"--parallelism names no layer {unknown} (layers: {sorted(names)})")
    h, w = crop
    if p < 1 or h % bin_ or w % bin_:
        raise ConfigError(f"the crop {h}x{w} with bin {bin_} at {p} pixels a clock cannot be streamed")
    front = FrontEnd(h, w, p, bin_, plan.table)
    layers: list = []
    shape = (front.out_h, front.out_w, 1)
    bits = front.code_bits
    row_interval = front.beats * bin_  # cycles between the front end's rows, crop beats back to back
    lanes = front.out_lanes
    for step in plan.steps:
        if step.kind == "conv":
            if layers and isinstance(layers[-1], DenseLayer):
                raise ConfigError(f"{step.name}: a convolution after a dense layer is not streamed")
            hh, ww, cin = shape
            kh, kw = step.kernel
            cols = (ww - kw + 1) // 2 * 2 if step.pool else ww - kw + 1
            pe = parallelism.get(step.name) or _auto_pe(cols, row_interval, step.pool)
            if step.pool and pe > 1 and pe % 2:
                raise ConfigError(f"{step.name}: a pooled convolution takes PE 1 or an even PE, got {pe}")
            layer = ConvLayer(step.name, step, hh, ww, cin, kh, kw, step.w.shape[1], pe, bits)
            layers.append(layer)
            shape, bits, lanes = (layer.out_h, layer.out_w, layer.cout), layer.out_bits, layer.out_lanes
            row_interval = max(row_interval, layer.cycles_per_row) * (2 if step.pool else 1)
        elif step.kind == "dense":
            hh, ww, c = shape
            layer = DenseLayer(step.name, step, hh * ww, ww, c, step.w.shape[1], lanes, bits)
            if step.w.shape[0] != hh * ww * c:
                raise ConfigError(f"{step.name}: {step.w.shape[0]} inputs for a {hh}x{ww}x{c} stream")
            layers.append(layer)
            shape, bits, lanes = (1, 1, layer.f), layer.out_bits, 1
        else:
            raise ConfigError(f"{step.name}: a stand-alone {step.kind} step is not streamed by the RTL "
                              "back end (it streams convolutions with their activation and pool, and "
                              "dense layers)")
    if not layers or not isinstance(layers[-1], DenseLayer) or layers[-1].step.fmt is not None:
        raise ConfigError("the RTL back end needs a network ending in a dense layer giving raw logits")
    return front, layers


def _auto_pe(cols: int, row_interval: int, pool: bool) -> int:
    """Fewest output pixels a cycle that finish a row within ``row_interval`` cycles."""
    pe = max(1, -(-cols // max(row_interval, 1)))
    if pool and pe > 1 and pe % 2:
        pe += 1
    return pe
