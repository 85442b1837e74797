"""Faithful post-training quantization of a float CNN into a QKeras student.

Method: the float network is reduced to its computing steps (convolution and dense with any
BatchNormalization folded in, ReLU, 2x2 max-pooling, flatten; a trailing softmax dropped).
Each layer's fixed-point format comes from the data instead of fixed defaults:

- weights and biases: ``quantized_bits(bits, integer, alpha=1)`` with ``integer`` the
  smallest that holds the layer's largest magnitude, so nothing clips;
- activations: ``quantized_relu(bits, integer)`` with ``integer`` from the largest value the
  float network produces on the calibration crops (no saturation on them);
- the input: the range of the normalised pixels.

Bit widths default to 8 (weights, activations), 16 (biases) and 10 (input) and are set
globally or per layer (:class:`QuantConfig`). :func:`quantization_report` compares float and
quantized logits on the calibration crops (argmax agreement, margin correlation) and counts,
per layer, clipped weights and saturated activations.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from pydantic import Field

from cellsort.architecture import Architecture, ArchitectureError
from cellsort.architecture.passes import is_pool2, run
from cellsort.config import StrictModel
from cellsort.registry import Registry

#: The widest fractional part whose products the firmware accumulates exactly (fixed<32,16>).
MAX_PRODUCT_FRAC = 16


class LayerBits(StrictModel):
    weight_bits: int | None = Field(None, ge=2, le=16)
    act_bits: int | None = Field(None, ge=2, le=16)


class QuantConfig(StrictModel):
    """Bit widths of the imported student (``layers`` overrides per float layer name)."""

    weight_bits: int = Field(8, ge=2, le=16)
    bias_bits: int = Field(16, ge=4, le=24)
    act_bits: int = Field(8, ge=2, le=16)
    input_bits: int = Field(10, ge=4, le=16)
    layers: dict[str, LayerBits] = Field(default_factory=dict)


@dataclass
class Step:
    """One computing step of the float network."""

    kind: str                       # conv, dense, relu, pool
    name: str
    weights: list[np.ndarray] = field(default_factory=list)


def integer_bits(max_abs: float, bits: int, signed: bool = True) -> int:
    """Fewest integer bits (sign excluded) of a ``bits``-bit format whose largest value,
    ``2**integer - lsb``, holds ``max_abs`` unclipped."""
    integer = 0
    while 2.0 ** integer - 2.0 ** -(bits - int(signed) - integer) < max_abs and integer < 64:
        integer += 1
    return integer


def float_steps(arch: Architecture) -> list[Step]:
    """The float network of ``arch`` (weights attached) as :class:`Step` s: the ``float``
    passes (:mod:`cellsort.architecture.passes`: Dropout and Flatten-free, final Softmax
    dropped, BatchNormalization folded), then one registered rule per layer kind; refuses by
    name what the bit-exact firmware cannot run."""
    steps: list[Step] = []
    for layer in run(arch.layers, "float"):
        rule = FLOAT_RULES.find(layer.kind)
        if rule is None:
            raise ArchitectureError(f"{arch.source}: layer {layer.name!r}: {layer.class_name} "
                                    f"({layer.attrs.get('activation', layer.kind)}) cannot be imported "
                                    "bit-exactly (supported: Conv2D valid stride 1, ReLU, MaxPooling2D "
                                    "2x2, Flatten, Dense, BatchNormalization after Conv2D/Dense, "
                                    "Dropout, a final Softmax)")
        steps += rule(layer, f"{arch.source}: layer {layer.name!r}")
    if not steps or steps[-1].kind != "dense":
        raise ArchitectureError(f"{arch.source}: the network must end in a Dense layer (logits)")
    for i, step in enumerate(steps[:-1]):
        if step.kind in ("conv", "dense") and steps[i + 1].kind != "relu":
            raise ArchitectureError(f"{arch.source}: layer {step.name!r} needs a ReLU after it "
                                    "(only the last Dense gives raw logits)")
    return steps


#: Rules ``f(layer, where) -> [Step]`` by layer kind (the float network's own arithmetic).
FLOAT_RULES: Registry = Registry("float import rule")


@FLOAT_RULES.register("conv2d", "dense")
def _weighted(layer, where: str) -> list[Step]:
    if layer.kind == "conv2d" and (layer.attrs["strides"] != (1, 1) or any(layer.attrs["padding"])):
        raise ArchitectureError(f"{where}: only stride-1 'valid' convolutions import bit-exactly "
                                "(latency estimates take any)")
    kernel = layer.weights[0]
    bias = layer.weights[1] if len(layer.weights) > 1 else np.zeros(kernel.shape[-1], kernel.dtype)
    return [Step("conv" if layer.kind == "conv2d" else "dense", layer.name, [kernel, bias])]


@FLOAT_RULES.register("activation")
def _activation(layer, where: str) -> list[Step]:
    act = layer.attrs["activation"]
    if act not in ("relu", "linear"):
        raise ArchitectureError(f"{where}: activation {act!r} cannot be imported bit-exactly "
                                "(ReLU only)")
    return [Step("relu", layer.name)] if act == "relu" else []


@FLOAT_RULES.register("pool2d")
def _pool(layer, where: str) -> list[Step]:
    if not is_pool2(layer):
        raise ArchitectureError(f"{where}: only 2x2 max-pooling with stride 2 imports bit-exactly")
    return [Step("pool", layer.name)]


@FLOAT_RULES.register("batchnorm")
def _batchnorm(layer, where: str) -> list[Step]:
    raise ArchitectureError(f"{where}: BatchNormalization folds only into a preceding "
                            "convolution or dense layer")


def float_forward(steps: list[Step], x: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Float logits of normalised inputs ``x`` (N, H, W, 1) and every ReLU's output."""
    relus = {}
    x = x.astype(np.float64)
    for step in steps:
        if step.kind == "conv":
            k, b = step.weights
            kh, kw = k.shape[:2]
            win = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))
            x = np.einsum("nhwcij,ijcf->nhwf", win, k, optimize=True) + b
        elif step.kind == "dense":
            x = x.reshape(len(x), -1) @ step.weights[0] + step.weights[1]
        elif step.kind == "relu":
            x = np.maximum(x, 0.0)
            relus[step.name] = x
        elif step.kind == "pool":
            n, h, w, c = x.shape
            x = x[:, : h // 2 * 2, : w // 2 * 2].reshape(n, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))
    return x, relus


@dataclass
class Formats:
    """Chosen quantizer parameters: (bits, integer) per weight, bias and ReLU, and the input."""

    input: tuple[int, int]
    weights: dict[str, tuple[int, int]]
    biases: dict[str, tuple[int, int]]
    acts: dict[str, tuple[int, int]]
    widened: dict[str, str] = field(default_factory=dict)


def choose_formats(steps: list[Step], input_range: float, relus: dict[str, np.ndarray],
                   cfg: QuantConfig) -> Formats:
    """Formats from the data (see module doc); checks the firmware's exact accumulation."""
    fmt = Formats((cfg.input_bits, integer_bits(input_range, cfg.input_bits)), {}, {}, {})
    act_frac = cfg.input_bits - 1 - fmt.input[1]
    for step in steps:
        over = cfg.layers.get(step.name, LayerBits())
        if step.kind in ("conv", "dense"):
            wb = over.weight_bits or cfg.weight_bits
            w_int = integer_bits(float(np.abs(step.weights[0]).max(initial=0)), wb)
            fmt.weights[step.name] = (wb, w_int)
            w_frac = wb - 1 - w_int
            # the bias is added to exact products: no finer than their resolution
            b_int = max(integer_bits(float(np.abs(step.weights[1]).max(initial=0)), cfg.bias_bits),
                        cfg.bias_bits - 1 - (w_frac + act_frac))
            fmt.biases[step.name] = (cfg.bias_bits, b_int)
            if w_frac + act_frac > MAX_PRODUCT_FRAC:
                raise ArchitectureError(f"layer {step.name!r}: {w_frac} + {act_frac} fractional bits "
                                        f"exceed the firmware's exact {MAX_PRODUCT_FRAC}; use fewer bits")
        elif step.kind == "relu":
            ab = over.act_bits or cfg.act_bits
            peak = float(relus[step.name].max(initial=0.0))
            a_int = integer_bits(peak, ab, signed=False)
            if a_int >= ab:  # widen rather than saturate: one fractional bit at least
                fmt.widened[step.name] = f"{ab} -> {a_int + 1} bits to hold {peak:.4g}"
                ab = a_int + 1
                a_int = integer_bits(peak, ab, signed=False)
            if a_int > 15:
                raise ArchitectureError(f"layer {step.name!r}: activations reach {peak:.3g}, "
                                        "beyond the firmware's 16 integer bits")
            fmt.acts[step.name] = (ab, a_int)
            act_frac = ab - a_int
    return fmt


def build_qkeras(steps: list[Step], input_shape: tuple[int, ...], fmt: Formats, name: str = "imported"):
    """The QKeras student of ``steps`` with formats ``fmt`` and the (folded) float weights."""
    from cellsort.keras_compat import tf_keras

    keras = tf_keras()
    from qkeras import QActivation, QConv2D, QDense, quantized_bits, quantized_relu

    pixels = keras.Input(shape=tuple(input_shape), name="pixels")
    x = QActivation(quantized_bits(*fmt.input, alpha=1), name="pixels_q")(pixels)
    counts: dict[str, int] = {}
    n_dense = sum(s.kind == "dense" for s in steps)
    assign = []
    for step in steps:
        counts[step.kind] = counts.get(step.kind, 0) + 1
        i = counts[step.kind]
        if step.kind in ("conv", "dense"):
            wq = quantized_bits(*fmt.weights[step.name], alpha=1)
            bq = quantized_bits(*fmt.biases[step.name], alpha=1)
            k = step.weights[0]
            if step.kind == "conv":
                layer = QConv2D(k.shape[-1], k.shape[:2], padding="valid", kernel_quantizer=wq,
                                bias_quantizer=bq, name=f"conv{i}")
            else:
                layer = QDense(k.shape[-1], kernel_quantizer=wq, bias_quantizer=bq,
                               name="logits" if i == n_dense else f"dense{i}")
                if len(x.shape) > 2:  # channel-last flatten, as the float pass reshapes
                    x = keras.layers.Flatten(name="flatten" if i == 1 else f"flatten{i}")(x)
            x = layer(x)
            assign.append((layer, step.weights))
        elif step.kind == "relu":
            x = QActivation(quantized_relu(*fmt.acts[step.name]), name=f"relu{i}")(x)
        else:
            x = keras.layers.MaxPooling2D(2, name=f"pool{i}")(x)
    model = keras.Model(pixels, x, name=name)
    for layer, weights in assign:
        layer.set_weights([w.astype(np.float32) for w in weights])
    return model


def quantization_report(steps: list[Step], fmt: Formats, float_logits: np.ndarray,
                        quant_logits: np.ndarray, relus: dict[str, np.ndarray]) -> dict:
    """Agreement of float and quantized logits and, per layer, what clips or saturates."""
    rows = []
    for step in steps:
        if step.name in fmt.weights:
            bits, integer = fmt.weights[step.name]
            lsb = 2.0 ** -(bits - 1 - integer)
            hi, lo = 2.0 ** integer - lsb, -(2.0 ** integer)
            w = step.weights[0]
            rows.append({"layer": step.name, "format": f"weights quantized_bits({bits},{integer})",
                         "clipped": int(((w > hi + lsb / 2) | (w < lo - lsb / 2)).sum()), "of": int(w.size)})
        elif step.name in fmt.acts:
            bits, integer = fmt.acts[step.name]
            top = 2.0 ** integer - 2.0 ** -(bits - integer)
            a = relus[step.name]
            rows.append({"layer": step.name, "format": f"quantized_relu({bits},{integer})",
                         "clipped": int((a > top).sum()), "of": int(a.size)})
    agree = float(np.mean(float_logits.argmax(1) == quant_logits.argmax(1)))
    mf, mq = _margin(float_logits), _margin(quant_logits)
    corr = float(np.corrcoef(mf, mq)[0, 1]) if np.std(mf) > 0 and np.std(mq) > 0 else float("nan")
    return {"n_crops": int(len(float_logits)), "argmax_agreement": agree, "margin_correlation": corr,
            "layers": rows, "anything_clipped": any(r["clipped"] for r in rows),
            "widened": dict(fmt.widened)}


def _margin(z: np.ndarray) -> np.ndarray:
    return z[:, 1] - z[:, 0] if z.shape[1] == 2 else np.sort(z, 1)[:, -1] - np.sort(z, 1)[:, -2]
