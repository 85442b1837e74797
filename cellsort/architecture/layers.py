"""Registry of the layer classes cellsort accepts, each a small rule with its shape inference.

A rule takes the layer's stored config and input shape and returns the :class:`LayerSpec`
steps it becomes (a ``Conv2D`` with ``activation="relu"`` becomes a convolution and an
activation, as hls4ml splits it). A class without a rule is refused by the reader.
"""
from __future__ import annotations

import math
from typing import Callable

from cellsort.architecture.spec import ArchitectureError, LayerSpec
from cellsort.registry import Registry

Rule = Callable[[str, str, dict, tuple], list]
#: Rules by Keras class name.
LAYER_RULES: Registry[Rule] = Registry("layer class")

#: Element-wise activations hls4ml implements in io_stream (Keras names).
ACTIVATIONS = {"linear", "relu", "relu6", "sigmoid", "tanh", "elu", "selu", "softplus", "softsign",
               "hard_sigmoid", "hard_tanh", "leaky_relu", "binary_tanh", "ternary_tanh"}
#: QKeras quantizers that act as activations (or as a plain requantisation).
QUANTIZER_ACTIVATIONS = {"quantized_relu": "relu", "quantized_bits": "linear",
                         "quantized_tanh": "tanh", "quantized_sigmoid": "sigmoid",
                         "binary": "linear", "ternary": "linear", "quantized_po2": "linear"}


def layer_rule(*class_names: str) -> Callable[[Rule], Rule]:
    """Register a rule for the Keras classes ``class_names``."""
    return LAYER_RULES.register(*class_names)


def known_layer_classes() -> list[str]:
    """Every Keras class name that has a rule."""
    return LAYER_RULES.names()


def rule_for(class_name: str) -> Rule | None:
    return LAYER_RULES.find(class_name)


def _pair(value, what: str, name: str) -> tuple[int, int]:
    if isinstance(value, int):
        value = (value, value)
    if (not isinstance(value, (list, tuple)) or len(value) != 2
            or not all(isinstance(v, int) and v >= 1 for v in value)):
        raise ArchitectureError(f"layer {name!r}: {what} must be two positive integers, got {value!r}")
    return int(value[0]), int(value[1])


def _image(in_shape: tuple, name: str) -> tuple[int, int, int]:
    if len(in_shape) != 3:
        raise ArchitectureError(f"layer {name!r} needs an (H, W, C) input, got shape {in_shape}")
    return in_shape  # type: ignore[return-value]


def _channels_last(cfg: dict, name: str) -> None:
    if cfg.get("data_format", "channels_last") not in ("channels_last", None):
        raise ArchitectureError(f"layer {name!r}: data_format {cfg['data_format']!r} is not "
                                "supported (channels_last only)")


def _window(in_hw, kernel, strides, padding: str, name: str):
    """Output size and (top, bottom, left, right) zero padding of a Keras window op."""
    out, pads = [], []
    for size, k, s in zip(in_hw, kernel, strides):
        if padding == "valid":
            n = (size - k) // s + 1
            pads += [0, 0]
        elif padding == "same":
            n = math.ceil(size / s)
            total = max((n - 1) * s + k - size, 0)
            pads += [total // 2, total - total // 2]
        else:
            raise ArchitectureError(f"layer {name!r}: padding {padding!r} is not supported")
        if n < 1:
            raise ArchitectureError(f"layer {name!r}: window {kernel} does not fit the input {in_hw}")
        out.append(n)
    return tuple(out), tuple(pads)


def _activation_name(value, name: str) -> str:
    """Keras activation (string, or a QKeras quantizer string/dict) as an hls4ml name."""
    if value is None:
        return "linear"
    if isinstance(value, dict):
        value = value.get("class_name") or value.get("config", {}).get("name") or ""
    text = str(value).strip()
    base = text.split("(", 1)[0].strip()
    if base in QUANTIZER_ACTIVATIONS:
        return QUANTIZER_ACTIVATIONS[base]
    if base == "softmax":
        return "softmax"
    if base in ACTIVATIONS:
        return base
    raise ArchitectureError(f"layer {name!r}: activation {text!r} is not supported "
                            f"(known: {', '.join(sorted(ACTIVATIONS | {'softmax'}))})")


def _activation_step(name: str, class_name: str, activation: str, shape: tuple,
                     quantizer=None) -> LayerSpec:
    kind = "softmax" if activation == "softmax" else "activation"
    attrs = {"activation": activation}
    if quantizer is not None:
        attrs["quantizer"] = quantizer
    return LayerSpec(name, class_name, kind, shape, shape, attrs)


def _with_activation(step: LayerSpec, cfg: dict) -> list[LayerSpec]:
    act = _activation_name(cfg.get("activation"), step.name)
    if act == "linear":
        return [step]
    return [step, _activation_step(f"{step.name}_{act}", step.class_name, act, step.out_shape)]


def _quantizers(cfg: dict) -> dict:
    return {k: cfg[k] for k in ("kernel_quantizer", "bias_quantizer") if cfg.get(k) is not None}


@layer_rule("Conv2D", "QConv2D")
def _conv2d(name, cls, cfg, in_shape):
    h, w, c = _image(in_shape, name)
    _channels_last(cfg, name)
    if _pair(cfg.get("dilation_rate", 1), "dilation_rate", name) != (1, 1):
        raise ArchitectureError(f"layer {name!r}: dilated convolutions are not supported")
    if int(cfg.get("groups", 1) or 1) != 1:
        raise ArchitectureError(f"layer {name!r}: grouped convolutions are not supported")
    kernel = _pair(cfg.get("kernel_size"), "kernel_size", name)
    strides = _pair(cfg.get("strides", 1), "strides", name)
    filters = cfg.get("filters")
    if not isinstance(filters, int) or filters < 1:
        raise ArchitectureError(f"layer {name!r}: filters must be a positive integer, got {filters!r}")
    (oh, ow), pads = _window((h, w), kernel, strides, cfg.get("padding", "valid"), name)
    step = LayerSpec(name, cls, "conv2d", (h, w, c), (oh, ow, filters),
                     {"kernel": kernel, "strides": strides, "padding": pads, "filters": filters,
                      "use_bias": bool(cfg.get("use_bias", True)), "quantizers": _quantizers(cfg),
                      **_result_bits(cfg, name)})
    return _with_activation(step, cfg)


def _result_bits(cfg: dict, name: str) -> dict:
    """Facts a hand-written layer list may state: ``result_bits`` (width of the hls4ml result
    type) and ``sparsity`` (fraction of zero weights, which hls4ml does not multiply)."""
    out = {}
    bits, sparsity = cfg.get("result_bits"), cfg.get("sparsity")
    if bits is not None:
        if not isinstance(bits, int) or not 1 <= bits <= 128:
            raise ArchitectureError(f"layer {name!r}: result_bits must be 1..128, got {bits!r}")
        out["result_bits"] = bits
    if sparsity is not None:
        if not isinstance(sparsity, (int, float)) or not 0 <= sparsity < 1:
            raise ArchitectureError(f"layer {name!r}: sparsity must be in [0, 1), got {sparsity!r}")
        out["sparsity"] = float(sparsity)
    return out


@layer_rule("MaxPooling2D", "AveragePooling2D", "QAveragePooling2D")
def _pool2d(name, cls, cfg, in_shape):
    h, w, c = _image(in_shape, name)
    _channels_last(cfg, name)
    pool = _pair(cfg.get("pool_size", 2), "pool_size", name)
    strides = _pair(cfg.get("strides") or pool, "strides", name)
    (oh, ow), pads = _window((h, w), pool, strides, cfg.get("padding", "valid"), name)
    op = "max" if cls.startswith("Max") else "average"
    return [LayerSpec(name, cls, "pool2d", (h, w, c), (oh, ow, c),
                      {"pool": pool, "strides": strides, "padding": pads, "op": op})]


@layer_rule("GlobalMaxPooling2D", "GlobalAveragePooling2D")
def _global_pool2d(name, cls, cfg, in_shape):
    h, w, c = _image(in_shape, name)
    _channels_last(cfg, name)
    out = (1, 1, c) if cfg.get("keepdims") else (c,)
    op = "max" if "Max" in cls else "average"
    return [LayerSpec(name, cls, "global_pool2d", (h, w, c), out, {"op": op})]


@layer_rule("ZeroPadding2D")
def _zeropad2d(name, cls, cfg, in_shape):
    h, w, c = _image(in_shape, name)
    _channels_last(cfg, name)
    pad = cfg.get("padding", 1)
    if isinstance(pad, int):
        top = bottom = left = right = pad
    elif len(pad) == 2 and all(isinstance(p, int) for p in pad):
        (top, bottom), (left, right) = (pad[0], pad[0]), (pad[1], pad[1])
    else:
        (top, bottom), (left, right) = (tuple(p) for p in pad)
    return [LayerSpec(name, cls, "zeropad2d", (h, w, c), (h + top + bottom, w + left + right, c),
                      {"padding": (top, bottom, left, right)})]


@layer_rule("Dense", "QDense")
def _dense(name, cls, cfg, in_shape):
    if len(in_shape) != 1:
        raise ArchitectureError(f"layer {name!r}: Dense on a {len(in_shape)}-D input is not "
                                "supported; put a Flatten before it")
    units = cfg.get("units")
    if not isinstance(units, int) or units < 1:
        raise ArchitectureError(f"layer {name!r}: units must be a positive integer, got {units!r}")
    step = LayerSpec(name, cls, "dense", tuple(in_shape), (units,),
                     {"units": units, "use_bias": bool(cfg.get("use_bias", True)),
                      "quantizers": _quantizers(cfg)})
    return _with_activation(step, cfg)


@layer_rule("Activation", "QActivation")
def _activation(name, cls, cfg, in_shape):
    act = _activation_name(cfg.get("activation"), name)
    return [_activation_step(name, cls, act, tuple(in_shape),
                             cfg.get("activation") if cls == "QActivation" else None)]


@layer_rule("ReLU", "LeakyReLU", "ELU", "ThresholdedReLU", "PReLU")
def _activation_layer(name, cls, cfg, in_shape):
    act = {"ReLU": "relu", "LeakyReLU": "leaky_relu", "ELU": "elu",
           "ThresholdedReLU": "thresholded_relu", "PReLU": "prelu"}[cls]
    return [_activation_step(name, cls, act, tuple(in_shape))]


@layer_rule("Softmax")
def _softmax(name, cls, cfg, in_shape):
    return [_activation_step(name, cls, "softmax", tuple(in_shape))]


@layer_rule("BatchNormalization", "QBatchNormalization")
def _batchnorm(name, cls, cfg, in_shape):
    axis = cfg.get("axis", -1)
    axis = axis[0] if isinstance(axis, list) and len(axis) == 1 else axis
    if axis not in (-1, len(in_shape)):
        raise ArchitectureError(f"layer {name!r}: batch normalisation over axis {axis!r} is not "
                                "supported (the channel axis only)")
    return [LayerSpec(name, cls, "batchnorm", tuple(in_shape), tuple(in_shape),
                      {"epsilon": float(cfg.get("epsilon", 1e-3)), "center": bool(cfg.get("center", True)),
                       "scale": bool(cfg.get("scale", True))})]


@layer_rule("Flatten")
def _flatten(name, cls, cfg, in_shape):
    _channels_last(cfg, name)
    return [LayerSpec(name, cls, "flatten", tuple(in_shape), (math.prod(in_shape),))]


@layer_rule("Dropout", "SpatialDropout2D", "GaussianNoise", "GaussianDropout", "AlphaDropout")
def _dropout(name, cls, cfg, in_shape):
    return [LayerSpec(name, cls, "dropout", tuple(in_shape), tuple(in_shape))]
