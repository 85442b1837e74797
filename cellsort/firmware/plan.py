"""The firmware's arithmetic as data: a QKeras student read into integer steps.

Every tensor is integer codes of a fixed-point format. A step is a convolution or dense layer
(integer weights and bias on the accumulator grid, the 2x2 max-pool and quantized ReLU that
follow it fused in), a stand-alone quantized activation or a max-pool. Both emulator back
ends, NumPy (:mod:`cellsort.firmware.emulator`) and the compiled kernel
(:mod:`cellsort.firmware.native`), execute the same plan, so they cannot drift apart.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cellsort.data.preprocess import Preprocessing
from cellsort.firmware.fixed import Fixed, input_format, pixel_codes, quantizer_format


@dataclass(frozen=True)
class Step:
    """One step of a :class:`Plan`.

    Attributes
    ----------
    kind : {"conv", "dense", "act", "pool"}
    name : str
        The Keras layer it comes from (for messages).
    w, bias : ndarray of int64
        ``(K, F)`` weight codes (rows in im2col order ``dy, dx, channel``) and ``(F,)`` bias
        codes, both on the accumulator grid (conv and dense only).
    kernel : (int, int)
        Kernel height and width (``(1, 1)`` for dense).
    in_range : (int, int)
        Smallest and largest code entering the step.
    bound : float
        A bound on ``|accumulator|`` (conv and dense), proved from ``in_range`` and the weights.
    shift : int
        Requantization ``codes = round_half_even(acc / 2**shift)`` then saturation to ``fmt``
        (negative: a left shift); unused when ``fmt`` is None.
    fmt : Fixed or None
        Format after the step; None keeps the accumulators (e.g. the logits).
    pool : bool
        Conv only: the 2x2/stride-2 max-pool that follows, taken on the accumulators
        (rounding and saturation are non-decreasing, so pooling commutes with them).
    """

    kind: str
    name: str
    w: np.ndarray | None = None
    bias: np.ndarray | None = None
    kernel: tuple[int, int] = (1, 1)
    in_range: tuple[int, int] = (0, 0)
    bound: float = 0.0
    shift: int = 0
    fmt: Fixed | None = None
    pool: bool = False

    @property
    def out_range(self) -> tuple[int, int]:
        """Smallest and largest code leaving the step."""
        if self.fmt is not None:
            return self.fmt.int_range
        if self.kind == "pool":
            return self.in_range
        return -int(self.bound), int(self.bound)


@dataclass(frozen=True)
class Plan:
    """A student as integer steps: the 8-bit pixel → input code table, steps, output grid."""

    table: np.ndarray
    steps: tuple[Step, ...]
    out_frac: int
    input_size: tuple[int, int]
    #: ``(h, w, c)`` after each step, input first (derived from the steps).
    shapes: tuple[tuple[int, int, int], ...] = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "shapes", tuple(_shapes(self.steps, self.input_size)))


def read_plan(model, prep: Preprocessing) -> Plan:
    """Read weights and formats from a QKeras student into a :class:`Plan`.

    Raises ValueError for layers that cannot run bit-exactly (unquantized ones, pools other
    than 2x2/stride 2).
    """
    table = pixel_codes(model, prep)
    frac = input_format(model).frac
    in_range = (int(table.min()), int(table.max()))
    steps = []
    layers = [layer for layer in model.layers
              if not (type(layer).__name__ == "QActivation" and layer.name == "pixels_q")]
    i = 0
    while i < len(layers):
        layer, kind = layers[i], type(layers[i]).__name__
        i += 1
        if kind in ("QConv2D", "QDense"):
            if kind == "QConv2D" and (layer.padding != "valid" or tuple(layer.strides) != (1, 1)
                                      or tuple(layer.dilation_rate) != (1, 1)):
                raise ValueError(f"{layer.name}: only 'valid' convolutions with stride 1 and no "
                                 "dilation are emulated")
            w_fmt = quantizer_format(layer.kernel_quantizer_internal)
            b_fmt = quantizer_format(layer.bias_quantizer_internal)
            kernel, bias = layer.get_weights()
            w = w_fmt.codes(layer.kernel_quantizer_internal(kernel).numpy())
            b = b_fmt.codes(layer.bias_quantizer_internal(bias).numpy())
            shift = frac + w_fmt.frac - b_fmt.frac
            if shift < 0:  # bias finer than the products: products on the bias's grid
                w, shift = w << -shift, 0
                frac = b_fmt.frac
            else:
                frac += w_fmt.frac
            ksize = tuple(w.shape[:2]) if kind == "QConv2D" else (1, 1)
            w = w.reshape(-1, w.shape[-1])
            b_acc = b << shift
            bound = accumulator_bound(w, b_acc, in_range)
            fmt, pool = None, False
            if i < len(layers) and type(layers[i]).__name__ == "QActivation":
                fmt = quantizer_format(layers[i].quantizer)
                i += 1
            if (kind == "QConv2D" and i < len(layers)
                    and type(layers[i]).__name__ == "MaxPooling2D" and _is_pool2(layers[i])):
                pool = True
                i += 1
            step = Step("conv" if kind == "QConv2D" else "dense", layer.name, w, b_acc, ksize,
                        in_range, bound, frac - fmt.frac if fmt else 0, fmt, pool)
            frac = fmt.frac if fmt else frac
        elif kind == "QActivation":
            fmt = quantizer_format(layer.quantizer)
            step = Step("act", layer.name, in_range=in_range, shift=frac - fmt.frac, fmt=fmt)
            frac = fmt.frac
        elif kind == "MaxPooling2D":
            if not _is_pool2(layer):
                raise ValueError(f"{layer.name}: only 2x2 max-pooling with stride 2 is emulated")
            step = Step("pool", layer.name, in_range=in_range)
        elif kind in ("Conv2D", "Dense", "Activation"):
            raise ValueError(f"{layer.name}: unquantized {kind} cannot run bit-exactly")
        else:
            continue
        steps.append(step)
        in_range = step.out_range
    return Plan(table, tuple(steps), frac, tuple(prep.network_size))


def accumulator_bound(w: np.ndarray, bias: np.ndarray, in_range: tuple[int, int]) -> float:
    """``max_f (max|code| * sum_k |w[k, f]| + |bias[f]|)``: no partial sum of a conv/dense
    step, in any order, exceeds it in magnitude."""
    return float((max(map(abs, in_range)) * np.abs(w).sum(axis=0) + np.abs(bias)).max())


def _is_pool2(layer) -> bool:
    return tuple(layer.pool_size) == (2, 2) and tuple(layer.strides) == (2, 2)


def _shapes(steps, input_size):
    """(h, w, c) after each step, input first."""
    h, w, c = (*input_size, 1)
    yield h, w, c
    for s in steps:
        if s.kind == "conv":
            h, w, c = h - s.kernel[0] + 1, w - s.kernel[1] + 1, s.w.shape[1]
            if s.pool:
                h, w = h // 2, w // 2
        elif s.kind == "dense":
            h, w, c = 1, 1, s.w.shape[1]
        elif s.kind == "pool":
            h, w = h // 2, w // 2
        yield h, w, c
