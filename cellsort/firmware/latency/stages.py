"""Lower an :class:`~cellsort.architecture.Architecture` to the stages hls4ml generates.

The lowering follows hls4ml 1.x's own passes: the ``hls4ml`` pipeline of
:mod:`cellsort.architecture.passes` (Flatten, Dropout and linear activations generate no
hardware; a BatchNormalization after a float layer is folded into it, elsewhere it is a
streaming scale-and-shift stage; 'same' padding becomes hls4ml's ZeroPadding2D stage), then
one stage per remaining layer.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from cellsort.architecture import Architecture, ArchitectureError
from cellsort.architecture.passes import run


@dataclass(frozen=True)
class Stage:
    """One hardware process of the dataflow region.

    ``in_tokens`` are the stream words it reads: one word per pixel (all channels) for an
    image, one word per pixel of the map it was flattened from for a dense layer fed by a
    convolutional stack, one word for a vector produced by a dense layer.
    """

    name: str
    kind: str
    in_rows: int
    in_cols: int
    in_pack: int
    out_rows: int
    out_cols: int
    out_pack: int
    attrs: dict = field(default_factory=dict)
    reuse_factor: int = 1

    @property
    def in_tokens(self) -> int:
        return self.in_rows * self.in_cols


def lower(arch: Architecture, reuse: dict[str, int] | int = 1) -> list[Stage]:
    """The hls4ml stages of ``arch``; ``reuse`` is one reuse factor or one per layer name."""
    stages = []
    rows, cols, pack = _tokens(arch.input_shape)
    for layer in run(arch.layers, "hls4ml"):
        rf = reuse.get(layer.name, reuse.get("*", 1)) if isinstance(reuse, dict) else reuse
        if layer.kind == "dense":
            out = (1, 1, layer.out_shape[0])
        elif layer.kind == "global_pool2d":
            out = (1, 1, layer.out_shape[-1])
        elif len(layer.out_shape) == 3:
            out = _tokens(layer.out_shape)
        else:
            out = (rows, cols, pack)  # element-wise on a vector keeps its stream words
        stages.append(Stage(layer.name, layer.kind, rows, cols, pack, *out, dict(layer.attrs), rf))
        rows, cols, pack = out
    if not stages:
        raise ArchitectureError(f"{arch.source or arch.name}: nothing to synthesise (only "
                                "inert layers)")
    return stages


def _tokens(shape) -> tuple[int, int, int]:
    if len(shape) == 3:
        return int(shape[0]), int(shape[1]), int(shape[2])
    if len(shape) == 1:
        return 1, 1, int(shape[0])
    raise ArchitectureError(f"tensor shape {shape} is not an image or a vector")
