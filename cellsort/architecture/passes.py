"""Passes over the layers of an :class:`~cellsort.architecture.Architecture`: small registered
``match`` / ``transform`` rules, grouped into the pipelines each consumer runs.

A pass's ``match(layers, i)`` says whether it applies at layer ``i``; ``transform(layers, i)``
returns the new layer list. :func:`run` applies a pipeline's passes in order, each to a fixed
point. The pipelines:

- ``hls4ml`` (the latency model: the stages hls4ml generates): ``drop_inert`` (Flatten,
  Dropout, linear activations without a quantizer: no hardware), ``drop_linear`` (a quantized
  linear activation is folded into the precision of the layer before), ``fold_batchnorm`` (into a
  preceding float convolution or dense layer), ``pad_before_window`` (hls4ml's ZeroPadding2D
  stage before a 'same' convolution or pooling);
- ``integer`` (the integer plan of the emulator, the compiled kernel and the RTL back end):
  ``drop_inert``, ``drop_final_softmax`` (the student outputs logits; the gate thresholds their
  margin), ``fuse_output_quantizer`` (a quantized activation after a convolution or dense layer
  becomes that layer's output format), ``fuse_pool`` (a 2x2/2 max-pool after a convolution is
  taken on its accumulators);
- ``float`` (importing a float model): ``drop_inert``, ``drop_final_softmax``, ``fold_batchnorm``
  with the weights folded in.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from cellsort.architecture.spec import LayerSpec
from cellsort.registry import Registry


@dataclass(frozen=True)
class Pass:
    name: str
    match: Callable[[list[LayerSpec], int], bool]
    transform: Callable[[list[LayerSpec], int], list[LayerSpec]]


PASSES: Registry[Pass] = Registry("architecture pass")

#: Pass names of each pipeline, in the order they run.
PIPELINES = {
    "hls4ml": ("drop_inert", "drop_linear", "fold_batchnorm", "pad_before_window"),
    "integer": ("drop_inert", "drop_final_softmax", "fuse_output_quantizer", "fuse_pool"),
    "float": ("drop_inert", "drop_final_softmax", "fold_batchnorm"),
}


def architecture_pass(name: str):
    """Register a class with static ``match`` and ``transform`` as the pass ``name``."""
    def deco(cls):
        PASSES.add(name, Pass(name, cls.match, cls.transform))
        return cls
    return deco


def run(layers, pipeline: str) -> list[LayerSpec]:
    """Apply the passes of ``pipeline`` in order, each to a fixed point."""
    layers = list(layers)
    for name in PIPELINES[pipeline]:
        p = PASSES.get(name)
        i = 0
        while i < len(layers):
            if p.match(layers, i):
                layers = p.transform(layers, i)
                i = max(i - 1, 0)
            else:
                i += 1
    return layers


def _quantized_activation(layer: LayerSpec) -> bool:
    return layer.kind == "activation" and layer.attrs.get("quantizer") is not None


@architecture_pass("drop_inert")
class _DropInert:
    @staticmethod
    def match(layers, i):
        layer = layers[i]
        return layer.kind in ("flatten", "dropout") or (
            layer.kind == "activation" and layer.attrs.get("activation") == "linear"
            and not _quantized_activation(layer))

    @staticmethod
    def transform(layers, i):
        return layers[:i] + layers[i + 1:]


@architecture_pass("drop_linear")
class _DropLinear:
    @staticmethod
    def match(layers, i):
        return layers[i].kind == "activation" and layers[i].attrs.get("activation") == "linear"

    @staticmethod
    def transform(layers, i):
        return layers[:i] + layers[i + 1:]


@architecture_pass("drop_final_softmax")
class _DropFinalSoftmax:
    @staticmethod
    def match(layers, i):
        return layers[i].kind == "softmax" and i == len(layers) - 1 and i > 0

    @staticmethod
    def transform(layers, i):
        return layers[:i]


@architecture_pass("fold_batchnorm")
class _FoldBatchnorm:
    """A BatchNormalization right after a float convolution or dense layer: folded into its
    weights where they were read (``gamma / sqrt(var + eps)`` scales kernel and shifted bias),
    marked ``fused_batchnorm`` either way. After a quantized layer, whose weights are fixed to
    their quantizer, it stays a stage of its own."""

    @staticmethod
    def match(layers, i):
        prev = layers[i - 1] if i > 0 else None
        return (layers[i].kind == "batchnorm" and prev is not None
                and prev.kind in ("conv2d", "dense") and not prev.attrs.get("quantizers"))

    @staticmethod
    def transform(layers, i):
        prev, bn = layers[i - 1], layers[i]
        weights = prev.weights
        if weights and bn.weights:
            kernel = weights[0]
            bias = weights[1] if len(weights) > 1 else np.zeros(kernel.shape[-1], kernel.dtype)
            gamma, beta, mean, var = _bn_parameters(bn)
            scale = gamma / np.sqrt(var + bn.attrs.get("epsilon", 1e-3))
            weights = (kernel * scale, (bias - mean) * scale + beta)
        fused = replace(prev, attrs={**prev.attrs, "fused_batchnorm": bn.name}, weights=weights)
        return layers[:i - 1] + [fused] + layers[i + 1:]


def _bn_parameters(bn: LayerSpec) -> list[np.ndarray]:
    """gamma, beta, moving mean and variance (gamma 1 / beta 0 where not stored)."""
    w = list(bn.weights)
    n = w[-1].shape[0]
    gamma = w.pop(0) if bn.attrs.get("scale", True) else np.ones(n)
    beta = w.pop(0) if bn.attrs.get("center", True) else np.zeros(n)
    return [gamma, beta, *w]


@architecture_pass("pad_before_window")
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


@architecture_pass("fuse_output_quantizer")
class _FuseOutputQuantizer:
    @staticmethod
    def match(layers, i):
        return (i > 0 and _quantized_activation(layers[i]) and layers[i - 1].kind in ("conv2d", "dense")
                and "output_quantizer" not in layers[i - 1].attrs and "pool_after" not in layers[i - 1].attrs)

    @staticmethod
    def transform(layers, i):
        prev, act = layers[i - 1], layers[i]
        fused = replace(prev, attrs={**prev.attrs, "output_quantizer": act.attrs["quantizer"],
                                     "output_activation": act.attrs["activation"],
                                     "output_name": act.name})
        return layers[:i - 1] + [fused] + layers[i + 1:]


def is_pool2(layer: LayerSpec) -> bool:
    """A 2x2 max-pool with stride 2 and no padding."""
    return (layer.kind == "pool2d" and layer.attrs["op"] == "max" and layer.attrs["pool"] == (2, 2)
            and layer.attrs["strides"] == (2, 2) and not any(layer.attrs["padding"]))


@architecture_pass("fuse_pool")
class _FusePool:
    @staticmethod
    def match(layers, i):
        return i > 0 and is_pool2(layers[i]) and layers[i - 1].kind == "conv2d" \
            and "pool_after" not in layers[i - 1].attrs

    @staticmethod
    def transform(layers, i):
        prev, pool = layers[i - 1], layers[i]
        fused = replace(prev, out_shape=pool.out_shape, attrs={**prev.attrs, "pool_after": pool.name})
        return layers[:i - 1] + [fused] + layers[i + 1:]
