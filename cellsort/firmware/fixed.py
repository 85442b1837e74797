"""The firmware's pixel input: the format of a student's input quantizer and the ROM it fills.

Formats themselves are :class:`~cellsort.architecture.fixed.Fixed` (read from the quantizers
by :func:`~cellsort.architecture.fixed.format_of`).
"""
from __future__ import annotations

import numpy as np

from cellsort.architecture import read_architecture
from cellsort.architecture.fixed import Fixed
from cellsort.data.preprocess import Preprocessing
from cellsort.firmware.plan import input_quantizer


def input_format(model) -> Fixed:
    """Format of the student's quantized input (its first layer, the pixel quantizer)."""
    return input_quantizer(read_architecture(model))


def pixel_codes(model, prep: Preprocessing) -> np.ndarray:
    """Integer input code of each 8-bit pixel value: the firmware's normalisation ROM.

    This is the training normalisation (:meth:`Preprocessing.pixel_table`) followed by the
    student's input quantizer, so training and firmware share one definition.
    """
    return input_format(model).codes(prep.pixel_table())
