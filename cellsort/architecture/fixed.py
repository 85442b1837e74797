"""Fixed-point formats of quantized layers, read from their QKeras quantizers as data.

A QKeras ``quantized_bits(bits, integer, symmetric=0, keep_negative=1, alpha=1)`` value is a
signed ``ap_fixed<bits, integer+1>``; ``quantized_relu(bits, integer)`` is
``ap_ufixed<bits, integer>``. Both round half to even (``tf.round``) and saturate, i.e.
``AP_RND_CONV, AP_SAT``. :func:`format_of` reads a quantizer in any of the forms a model
holds: a QKeras object, its serialised config (``{"class_name": ..., "config": {...}}``) or
the string form (``"quantized_relu(8,3)"``), the last parsed as literals only (no code runs).
Anything that does not map exactly to fixed point is refused by name.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass

import numpy as np

from cellsort.errors import DataError

#: Positional parameters of the string form, in QKeras' order.
_POSITIONAL = {"quantized_bits": ("bits", "integer", "symmetric", "keep_negative", "alpha"),
               "quantized_relu": ("bits", "integer", "use_sigmoid", "negative_slope")}


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


def _parts(quantizer) -> tuple[str, dict]:
    """(class name, parameters) of a quantizer object, config dict or string."""
    if isinstance(quantizer, dict):
        return str(quantizer.get("class_name", "")), dict(quantizer.get("config") or {})
    if isinstance(quantizer, str):
        try:
            call = ast.parse(quantizer.strip(), mode="eval").body
            name = call.func.id if isinstance(call, ast.Call) else call.id
            args = [ast.literal_eval(a) for a in getattr(call, "args", [])]
            kwargs = {k.arg: ast.literal_eval(k.value) for k in getattr(call, "keywords", [])}
        except (SyntaxError, ValueError, AttributeError) as exc:
            raise DataError(f"quantizer {quantizer!r} is not a literal QKeras quantizer call") from exc
        return name, {**dict(zip(_POSITIONAL.get(name, ()), args)), **kwargs}
    return type(quantizer).__name__, dict(quantizer.get_config())


def format_of(quantizer) -> Fixed:
    """The :class:`Fixed` format of a ``quantized_bits`` or ``quantized_relu`` quantizer."""
    name, p = _parts(quantizer)
    bits, integer = int(p.get("bits", 8)), int(p.get("integer", 0))
    if name == "quantized_bits":
        if not p.get("keep_negative", True) or p.get("alpha", 1) not in (1, 1.0, None) \
                or p.get("symmetric", 0) or p.get("use_stochastic_rounding", False):
            raise DataError(f"{name}({p}): only signed, non-symmetric quantized_bits with alpha=1 "
                            "map exactly to fixed point")
        return Fixed(bits, integer + 1, True)
    if name == "quantized_relu":
        if p.get("negative_slope", 0) or p.get("use_sigmoid", 0) or p.get("relu_upper_bound") \
                or p.get("use_stochastic_rounding", False):
            raise DataError(f"{name}({p}): only plain quantized_relu maps exactly to fixed point")
        return Fixed(bits, integer, False)
    raise DataError(f"quantizer {name or quantizer!r} has no exact fixed-point form "
                    "(quantized_bits and quantized_relu have)")
