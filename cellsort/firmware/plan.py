"""The firmware's arithmetic as data: a QKeras student read into integer steps.

Every tensor is integer codes of a fixed-point format. A step is a convolution or dense layer
(integer weights and bias on the accumulator grid, the 2x2 max-pool and quantized ReLU that
follow it fused in), a stand-alone quantized activation or a max-pool. The plan is made from
the one model representation (:mod:`cellsort.architecture`: its ``integer`` passes, then a
registered rule per layer kind, refusing by name what has none). The emulator's back ends,
NumPy (:mod:`cellsort.firmware.emulator`) and the compiled kernel (:mod:`cellsort.firmware.native`),
and the RTL back end (:mod:`cellsort.firmware.rtl`) all execute the same plan.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cellsort.architecture import (
    Architecture,
    ArchitectureError,
    LayerSpec,
    model_architecture,
)
from cellsort.architecture.fixed import Fixed, format_of
from cellsort.architecture.passes import is_pool2, run
from cellsort.data.preprocess import Preprocessing
from cellsort.registry import Registry


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
    """The :class:`Plan` of a loaded QKeras student (:func:`plan_of` of its architecture)."""
    return plan_of(model_architecture(model), prep)


def input_quantizer(arch: Architecture) -> Fixed:
    """The format of the student's input: its first layer, a quantizer on the pixels."""
    first = arch.layers[0] if arch.layers else None
    if first is None or first.kind != "activation" or first.attrs.get("quantizer") is None:
        raise ArchitectureError(f"{arch.source or arch.name}: not a quantized student: its first layer "
                                "is not a quantizer on the input pixels (QActivation)")
    return format_of(first.attrs["quantizer"])


def plan_of(arch: Architecture, prep: Preprocessing) -> Plan:
    """The integer plan of an architecture with its weights (:func:`~cellsort.architecture.
    model_architecture`): the ``integer`` passes (:mod:`cellsort.architecture.passes`), then one
    registered rule per remaining layer; a layer no rule takes is refused by name."""
    in_fmt = input_quantizer(arch)
    table = in_fmt.codes(prep.pixel_table())
    frac, in_range = in_fmt.frac, (int(table.min()), int(table.max()))
    steps = []
    for layer in run(arch.layers, "integer")[1:]:
        rule = PLAN_RULES.find(layer.kind)
        if rule is None:
            raise ArchitectureError(f"{arch.source or arch.name}: layer {layer.name!r} ({layer.class_name}, "
                                    f"{layer.kind}) cannot run bit-exactly: no integer rule for it")
        step, frac = rule(layer, frac, in_range)
        steps.append(step)
        in_range = step.out_range
    return Plan(table, tuple(steps), frac, tuple(prep.network_size))


#: Rules ``f(layer, frac, in_range) -> (Step, frac after it)`` by layer kind.
PLAN_RULES: Registry = Registry("integer plan rule")


def _unquantized(layer: LayerSpec, what: str) -> ArchitectureError:
    return ArchitectureError(f"layer {layer.name!r} ({layer.class_name}): {what} cannot run bit-exactly")


@PLAN_RULES.register("conv2d", "dense")
def _weighted(layer: LayerSpec, frac: int, in_range) -> tuple[Step, int]:
    """Weights and bias on the accumulator grid; the fused output quantizer and pool."""
    quantizers = layer.attrs.get("quantizers", {})
    if "kernel_quantizer" not in quantizers or not layer.weights:
        raise _unquantized(layer, f"an unquantized {layer.class_name}")
    if layer.kind == "conv2d" and (layer.attrs["strides"] != (1, 1) or any(layer.attrs["padding"])):
        raise _unquantized(layer, "a convolution other than 'valid' with stride 1")
    w_fmt = format_of(quantizers["kernel_quantizer"])
    w = w_fmt.codes(layer.weights[0])
    if layer.attrs.get("use_bias", True):
        if "bias_quantizer" not in quantizers:
            raise _unquantized(layer, "an unquantized bias")
        b_fmt = format_of(quantizers["bias_quantizer"])
        b = b_fmt.codes(layer.weights[1])
    else:
        b_fmt, b = Fixed(32, 32 - frac - w_fmt.frac), np.zeros(w.shape[-1], np.int64)
    shift = frac + w_fmt.frac - b_fmt.frac
    if shift < 0:  # bias finer than the products: products on the bias's grid
        w, shift = w << -shift, 0
        frac = b_fmt.frac
    else:
        frac += w_fmt.frac
    ksize = tuple(layer.attrs["kernel"]) if layer.kind == "conv2d" else (1, 1)
    w = w.reshape(-1, w.shape[-1])
    b_acc = b << shift
    fmt = format_of(layer.attrs["output_quantizer"]) if "output_quantizer" in layer.attrs else None
    step = Step("conv" if layer.kind == "conv2d" else "dense", layer.name, w, b_acc, ksize, in_range,
                accumulator_bound(w, b_acc, in_range), frac - fmt.frac if fmt else 0, fmt,
                "pool_after" in layer.attrs)
    return step, fmt.frac if fmt else frac


@PLAN_RULES.register("activation")
def _activation(layer: LayerSpec, frac: int, in_range) -> tuple[Step, int]:
    """A stand-alone quantizer: requantization to its format."""
    if layer.attrs.get("quantizer") is None:
        raise _unquantized(layer, f"an unquantized {layer.attrs.get('activation')} activation")
    fmt = format_of(layer.attrs["quantizer"])
    return Step("act", layer.name, in_range=in_range, shift=frac - fmt.frac, fmt=fmt), fmt.frac


@PLAN_RULES.register("pool2d")
def _pool(layer: LayerSpec, frac: int, in_range) -> tuple[Step, int]:
    if not is_pool2(layer):
        raise _unquantized(layer, "pooling other than 2x2 max-pooling with stride 2")
    return Step("pool", layer.name, in_range=in_range), frac


def accumulator_bound(w: np.ndarray, bias: np.ndarray, in_range: tuple[int, int]) -> float:
    """``max_f (max|code| * sum_k |w[k, f]| + |bias[f]|)``: no partial sum of a conv/dense
    step, in any order, exceeds it in magnitude."""
    return float((max(map(abs, in_range)) * np.abs(w).sum(axis=0) + np.abs(bias)).max())


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
