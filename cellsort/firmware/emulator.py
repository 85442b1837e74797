"""A bit-exact software model of the hls4ml firmware, in integer numpy.

Every tensor is held as integer codes of its fixed-point format; convolutions and the dense
layer accumulate exactly (in float64 BLAS, which is exact for these integers: every sum stays
below 2**53; the firmware's accumulators are wide enough to be exact too),
quantized ReLUs round half to even and saturate, max-pooling compares codes. The result
equals the C simulation of the generated HLS code bit for bit (checked in
``firmware_tests``) and runs orders of magnitude faster, so it scores whole datasets and is
the software sorting path for labs without an FPGA.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from cellsort.data.preprocess import Preprocessing
from cellsort.firmware.fixed import Fixed, input_format, pixel_codes, quantizer_format


def _requantize(acc: np.ndarray, acc_frac: int, fmt: Fixed) -> np.ndarray:
    """Codes with ``acc_frac`` fractional bits → ``fmt`` codes, round half to even, saturate."""
    shift = acc_frac - fmt.frac
    if shift > 0:
        q, r = np.divmod(acc, 1 << shift)
        half = 1 << (shift - 1)
        q = q + ((r > half) | ((r == half) & (q % 2 == 1)))
    else:
        q = acc << (-shift)
    lo, hi = fmt.int_range
    return np.clip(q, lo, hi)


class Emulator:
    """Integer emulation of a QKeras student as the firmware computes it.

    Build with :meth:`from_model` or :meth:`from_artifact`; call :meth:`logits` on uint8
    crops already fitted to the input size.
    """

    def __init__(self, layers: list[tuple], table: np.ndarray, in_frac: int, class_names=()):
        self._layers, self._table, self._in_frac = layers, table, in_frac
        self.class_names = tuple(class_names)

    @classmethod
    def from_model(cls, model, prep: Preprocessing, class_names=()) -> "Emulator":
        """Read weights and formats from a QKeras student."""
        layers = []
        for layer in model.layers:
            kind = type(layer).__name__
            if kind in ("QConv2D", "QDense"):
                w_fmt = quantizer_format(layer.kernel_quantizer_internal)
                b_fmt = quantizer_format(layer.bias_quantizer_internal)
                kernel, bias = layer.get_weights()
                w = w_fmt.codes(layer.kernel_quantizer_internal(kernel).numpy()).astype(np.float64)
                b = b_fmt.codes(layer.bias_quantizer_internal(bias).numpy())
                layers.append(("conv" if kind == "QConv2D" else "dense", w, w_fmt.frac, b, b_fmt.frac))
            elif kind == "QActivation" and layer.name != "pixels_q":
                layers.append(("act", quantizer_format(layer.quantizer)))
            elif kind == "MaxPooling2D":
                if layer.pool_size != (2, 2) or layer.strides != (2, 2):
                    raise ValueError(f"{layer.name}: only 2x2 max-pooling with stride 2 is emulated")
                layers.append(("pool",))
            elif kind in ("Conv2D", "Dense", "Activation"):
                raise ValueError(f"{layer.name}: unquantized {kind} cannot run bit-exactly")
        return cls(layers, pixel_codes(model, prep), input_format(model).frac, class_names)

    @classmethod
    def from_artifact(cls, folder: str | Path) -> "Emulator":
        """Emulate the student of an artifact folder."""
        from cellsort.student.artifact import load_student

        art = load_student(folder)
        return cls.from_model(art.model, art.preprocessing, art.class_names)

    def logits(self, images: np.ndarray) -> np.ndarray:
        """Logits (float64, exact) of uint8 crops (N, h, w) fitted to the input size."""
        images = np.asarray(images)
        if images.dtype != np.uint8 or images.ndim != 3:
            raise TypeError(f"expected uint8 crops (N, h, w), got {images.dtype} {images.shape}")
        x, frac = self._table[images][..., None], self._in_frac
        for spec in self._layers:
            if spec[0] == "conv":
                _, w, wf, b, bf = spec
                x, frac = _exact(_conv_valid(x, w)) + (b << (frac + wf - bf)), frac + wf
            elif spec[0] == "dense":
                _, w, wf, b, bf = spec
                x, frac = _exact(x.reshape(len(x), -1).astype(np.float64) @ w) + (b << (frac + wf - bf)), frac + wf
            elif spec[0] == "act":
                x, frac = _requantize(x, frac, spec[1]), spec[1].frac
            else:
                n, h, wd, c = x.shape
                x = x[:, : h // 2 * 2, : wd // 2 * 2].reshape(n, h // 2, 2, wd // 2, 2, c).max(axis=(2, 4))
        return x.astype(np.float64) / 2.0 ** frac

    def margin(self, images: np.ndarray) -> np.ndarray:
        """Logit margin ``z1 - z0`` (the sort decision variable)."""
        z = self.logits(images)
        return z[:, 1] - z[:, 0]


def _exact(acc: np.ndarray) -> np.ndarray:
    """Integer-valued float64 sums back to int64, checking they stayed exact."""
    if np.abs(acc).max(initial=0) >= 2.0 ** 53:
        raise OverflowError("accumulator exceeds the exact range of float64")
    return acc.astype(np.int64)


def _conv_valid(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """'Valid' convolution (cross-correlation, as Keras) of integer NHWC by HWIO, in float64."""
    kh, kw = w.shape[:2]
    n, h, wd, c = x.shape
    oh, ow = h - kh + 1, wd - kw + 1
    patches = np.lib.stride_tricks.sliding_window_view(x.astype(np.float64), (kh, kw), axis=(1, 2))
    return patches.reshape(n, oh, ow, c * kh * kw) @ w.transpose(2, 0, 1, 3).reshape(c * kh * kw, -1)
