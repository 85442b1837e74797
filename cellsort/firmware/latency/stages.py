"""Lower an :class:`~cellsort.architecture.Architecture` to the stages hls4ml generates.

The lowering follows hls4ml 1.x's own passes, each a small registered rule (``match`` /
``transform``) applied in order:

- ``drop_inert``: Flatten (a stream alias in io_stream), Dropout and linear activations
  (folded into the previous layer's precision) generate no hardware;
- ``fuse_batchnorm``: a BatchNormalization right after a float convolution or dense layer
  is folded into its weights; after a quantized (QKeras) layer, whose weights are already
  fixed to their quantizer, or elsewhere, it is a streaming scale-and-shift stage;
- ``pad_before_window``: a convolution or pooling with 'same' padding gets hls4ml's
  ZeroPadding2D stage before it (the line buffer itself never pads).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

from cellsort.architecture import Architecture, ArchitectureError, LayerSpec


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


_PASSES: list[tuple[str, Callable, Callable]] = []


def lowering_pass(name: str):
    """Register a pass ``(match(layers, i) -> bool, transform(layers, i) -> layers)``."""
    def deco(cls):
        _PASSES.append((name, cls.match, cls.transform))
        return cls
    return deco


@lowering_pass("drop_inert")
class _DropInert:
    @staticmethod
    def match(layers, i):
        layer = layers[i]
        return layer.kind in ("flatten", "dropout") or (
            layer.kind == "activation" and layer.attrs.get("activation") == "linear")

    @staticmethod
    def transform(layers, i):
        return layers[:i] + layers[i + 1:]


@lowering_pass("fuse_batchnorm")
class _FuseBatchnorm:
    @staticmethod
    def match(layers, i):
        prev = layers[i - 1] if i > 0 else None
        return (layers[i].kind == "batchnorm" and prev is not None
                and prev.kind in ("conv2d", "dense") and not prev.attrs.get("quantizers"))

    @staticmethod
    def transform(layers, i):
        prev = layers[i - 1]
        fused = replace(prev, attrs={**prev.attrs, "fused_batchnorm": layers[i].name})
        return layers[:i - 1] + [fused] + layers[i + 1:]


@lowering_pass("pad_before_window")
class _PadBeforeWindow:
    @staticmethod
    def match(layers, i):
        return layers[i].kind in ("conv2d", "pool2d") and any(layers[i].attrs["padding"])

    @staticmethod
    def transform(layers, i):
        layer = layers[i]
        top, bottom, left, right = layer.attrs["padding"]
        h, w, c = layer.in_shape
        padded = (h + top + bottom, w + left + right, c)
        pad = LayerSpec(f"{layer.name}_zeropad", "ZeroPadding2D", "zeropad2d", layer.in_shape,
                        padded, {"padding": layer.attrs["padding"]})
        window = replace(layer, in_shape=padded, attrs={**layer.attrs, "padding": (0, 0, 0, 0)})
        return layers[:i] + [pad, window] + layers[i + 1:]


def apply_passes(layers: list[LayerSpec]) -> list[LayerSpec]:
    """Run every registered pass to a fixed point, in registration order."""
    for _, match, transform in _PASSES:
        i = 0
        while i < len(layers):
            if match(layers, i):
                layers = transform(layers, i)
                i = max(i - 1, 0)
            else:
                i += 1
    return layers


def lower(arch: Architecture, reuse: dict[str, int] | int = 1) -> list[Stage]:
    """The hls4ml stages of ``arch``; ``reuse`` is one reuse factor or one per layer name."""
    stages = []
    rows, cols, pack = _tokens(arch.input_shape)
    for layer in apply_passes(list(arch.layers)):
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
