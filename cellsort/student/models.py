"""QKeras student CNNs: quantized from the input pixels to the logits.

Every layer carries a quantizer, so hls4ml can reproduce the model bit for bit:

- ``pixels_q``: the input quantizer, the fixed-point format of normalised pixels
  (``quantized_bits(input_bits, input_integer)``) that the firmware's look-up table emits;
- ``convN``/``logits``: ``quantized_bits(weight_bits, 0, alpha=1)`` weights and
  ``quantized_bits(bias_bits, bias_integer, alpha=1)`` biases;
- ``reluN``: ``quantized_relu(act_bits, act_integer)``.

The output is the logits (no softmax layer): the sort decision thresholds the logit margin.
"""
from __future__ import annotations

import functools

from cellsort.keras_compat import tf_keras
from cellsort.student.registry import register_student


def quantized_cnn(n_classes: int = 2, *, filters: tuple[int, ...] = (16, 16), kernel: int = 3,
                  input_size: tuple[int, int] = (48, 48), dropout: float = 0.5,
                  input_bits: int = 10, input_integer: int = 2, weight_bits: int = 8,
                  bias_bits: int = 8, bias_integer: int = 2, act_bits: int = 8,
                  act_integer: int = 3, name: str = "student"):
    """Conv(3x3, valid) → quantized ReLU → MaxPool(2), repeated per ``filters``; flatten;
    dropout; dense logits. With the defaults this is the paper's student.
    """
    _check_ranges(n_classes=n_classes, filters=filters, kernel=kernel, input_size=input_size,
                  dropout=dropout, input_bits=input_bits, input_integer=input_integer,
                  weight_bits=weight_bits, bias_bits=bias_bits, bias_integer=bias_integer,
                  act_bits=act_bits, act_integer=act_integer)
    side = min(input_size)
    for _ in filters:
        side = (side - kernel + 1) // 2
    if side < 1:
        raise ValueError(f"input_size {tuple(input_size)} is too small for {len(filters)} "
                         f"conv({kernel}x{kernel})/pool(2) blocks")
    keras = tf_keras()
    from qkeras import QActivation, QConv2D, QDense, quantized_bits, quantized_relu

    def w_q():
        return quantized_bits(weight_bits, 0, alpha=1)

    def b_q():
        return quantized_bits(bias_bits, bias_integer, alpha=1)

    pixels = keras.Input(shape=(*input_size, 1), name="pixels")
    x = QActivation(quantized_bits(input_bits, input_integer, alpha=1), name="pixels_q")(pixels)
    for i, f in enumerate(filters, start=1):
        x = QConv2D(f, kernel, padding="valid", kernel_quantizer=w_q(), bias_quantizer=b_q(),
                    name=f"conv{i}")(x)
        x = QActivation(quantized_relu(act_bits, act_integer), name=f"relu{i}")(x)
        x = keras.layers.MaxPooling2D(2, name=f"pool{i}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="dropout")(x)
    logits = QDense(n_classes, kernel_quantizer=w_q(), bias_quantizer=b_q(), name="logits")(x)
    return keras.Model(pixels, logits, name=name)


def _check_ranges(**v) -> None:
    """ValueError naming the first option outside its range."""
    rules = [("n_classes", v["n_classes"] >= 2, "at least 2"),
             ("filters", len(v["filters"]) >= 1 and all(1 <= f <= 1024 for f in v["filters"]),
              "1 to 1024 per layer, at least one layer"),
             ("kernel", 1 <= v["kernel"] <= 15, "1 to 15"),
             ("input_size", len(v["input_size"]) == 2 and all(1 <= s <= 1024 for s in v["input_size"]),
              "two sides of 1 to 1024"),
             ("dropout", 0 <= v["dropout"] < 1, "in [0, 1)")]
    rules += [(name, 2 <= v[name] <= 32, "2 to 32")
              for name in ("input_bits", "weight_bits", "bias_bits", "act_bits")]
    rules += [(f"{kind}_integer", 0 <= v[f"{kind}_integer"] < v[f"{kind}_bits"],
               f"0 to {v[f'{kind}_bits'] - 1} (below its bit width)")
              for kind in ("input", "bias", "act")]
    for name, ok, what in rules:
        if not ok:
            raise ValueError(f"student option {name} must be {what}, got {v[name]!r}")


def _register(name: str, **fixed):
    register_student(name)(functools.partial(quantized_cnn, name=name, **fixed))


_register("paper", filters=(16, 16))   # the published Student2: 5,682 parameters at 2 classes
_register("small", filters=(8, 8))
_register("tiny", filters=(4, 4))
_register("deep", filters=(8, 16, 16))
