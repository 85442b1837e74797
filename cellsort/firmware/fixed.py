"""Fixed-point formats of a QKeras student, read from its quantizers.

A QKeras ``quantized_bits(bits, integer, keep_negative=1, alpha=1)`` value is a signed
``ap_fixed<bits, integer+1>``; ``quantized_relu(bits, integer)`` is ``ap_ufixed<bits, integer>``.
Both round half to even (``tf.round``) and saturate, i.e. ``AP_RND_CONV, AP_SAT``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cellsort.data.preprocess import Preprocessing


@dataclass(frozen=True)
class Fixed:
    """A fixed-point format: ``width`` bits, ``integer`` of them before the point (sign incl.)."""

    width: int
    integer: int
    signed: bool = True

    @property
    def frac(self) -> int:
        """Fractional bits."""
        return self.width - self.integer

    @property
    def int_range(self) -> tuple[int, int]:
        """Smallest and largest integer code."""
        if self.signed:
            return -(1 << (self.width - 1)), (1 << (self.width - 1)) - 1
        return 0, (1 << self.width) - 1

    def hls(self, quantized: bool = True) -> str:
        """hls4ml precision string, e.g. ``fixed<10,3,RND_CONV,SAT>``."""
        base = f"{'' if self.signed else 'u'}fixed<{self.width},{self.integer}"
        return base + (",RND_CONV,SAT>" if quantized else ">")

    def codes(self, values: np.ndarray) -> np.ndarray:
        """Integer codes of ``values``: round half to even, saturate (int64)."""
        lo, hi = self.int_range
        return np.clip(np.rint(np.asarray(values, np.float64) * 2.0 ** self.frac), lo, hi).astype(np.int64)


def quantizer_format(quantizer) -> Fixed:
    """The :class:`Fixed` format of a QKeras ``quantized_bits`` or ``quantized_relu``."""
    name = type(quantizer).__name__
    if name == "quantized_bits":
        if not quantizer.keep_negative or quantizer.alpha not in (1, 1.0):
            raise ValueError("only signed quantized_bits with alpha=1 map exactly to fixed point")
        return Fixed(int(quantizer.bits), int(quantizer.integer) + 1, True)
    if name == "quantized_relu":
        if quantizer.negative_slope or quantizer.use_sigmoid:
            raise ValueError("only plain quantized_relu maps exactly to fixed point")
        return Fixed(int(quantizer.bits), int(quantizer.integer), False)
    raise ValueError(f"no fixed-point mapping for quantizer {name}")


def input_format(model) -> Fixed:
    """Format of the student's quantized input (its ``pixels_q`` layer)."""
    return quantizer_format(model.get_layer("pixels_q").quantizer)


def pixel_codes(model, prep: Preprocessing) -> np.ndarray:
    """Integer input code of each 8-bit pixel value: the firmware's normalisation ROM.

    This is the training normalisation (:meth:`Preprocessing.pixel_table`) followed by the
    student's input quantizer, so training and firmware share one definition.
    """
    return input_format(model).codes(prep.pixel_table())
