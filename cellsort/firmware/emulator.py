"""A bit-exact software model of the hls4ml firmware: integer codes, compiled kernels.

Every tensor is held as integer codes of its fixed-point format; convolutions and the dense
layer accumulate exactly (the firmware's accumulators are wide enough to be exact too, and
here a static bound proves that no sum leaves the exact integer range of the type used),
quantized ReLUs round half to even and saturate, max-pooling compares codes. The result
equals the C simulation of the generated HLS code bit for bit (checked in
``firmware_tests``) and runs orders of magnitude faster, so it scores whole datasets and is
the software sorting path for labs without an FPGA.
"""
from __future__ import annotations

import functools
import time
import warnings
from dataclasses import dataclass

import numpy as np

from cellsort.architecture.fixed import Fixed
from cellsort.data.preprocess import Preprocessing
from cellsort.errors import ConfigError
from cellsort.firmware.plan import Plan, Step, read_plan

#: Largest integer magnitudes that float32 and float64 hold exactly.
EXACT = {np.float32: 2.0 ** 24, np.float64: 2.0 ** 53}


def _float_type(bound: float, layer: str) -> type:
    """float32 when every sum provably stays exact in it, else float64; else refuse."""
    for dtype, limit in EXACT.items():
        if bound < limit:
            return dtype
    raise OverflowError(f"{layer}: accumulator bound {bound:.3g} exceeds the exact range of float64")


def _requantize(acc: np.ndarray, shift: int, fmt: Fixed) -> np.ndarray:
    """Accumulator codes → ``fmt`` codes: divide by ``2**shift``, round half to even
    (``np.rint``), saturate. Exact for integer codes in the exact range of the dtype."""
    lo, hi = fmt.int_range
    acc = acc if acc.dtype.kind == "f" else acc.astype(np.float64)
    return np.clip(np.rint(acc * acc.dtype.type(2.0 ** -shift)), lo, hi)


@dataclass(frozen=True)
class _Gemm:
    """A layer's matrix product ``codes (M, K) @ w (K, F) + bias``, exact by construction.

    With ``int8`` the product runs as an int8 x int8 → int32 GEMM (``torch._int_mm``): the
    input codes, shifted by ``offset`` into [-128, 127], and the weight codes fit int8, and
    the bound proves the int32 sums cannot overflow; ``offset * sum(w)`` is added back.
    Otherwise it runs in float32 or float64 BLAS, where the bound proves the sums exact.
    Both are exact, so the choice is only one of speed: ``products="auto"`` takes int8 where
    it fits and a one-off timing on this CPU finds it faster (it is ~10x faster with AVX-512
    VNNI, ~20x slower on CPUs with AVX2 only).
    """

    w: np.ndarray
    bias: np.ndarray
    int8: bool
    offset: int
    dtype: type

    @classmethod
    def build(cls, w: np.ndarray, bias: np.ndarray, in_range: tuple[int, int], bound: float,
              layer: str, products: str = "auto") -> "_Gemm":
        lo, hi = in_range
        offset = 128 if lo >= 0 else 0
        fits = (-128 <= lo - offset and hi - offset <= 127 and w.max(initial=0) <= 127
                and -128 <= w.min(initial=0) and bound + 128 * np.abs(w).sum(axis=0).max() < 2 ** 31)
        k, f = w.shape
        use_int8 = fits and _int_mm() is not None and (
            products == "int8" or (products == "auto" and _int8_faster(-(-k // 8) * 8, -(-f // 8) * 8)))
        if use_int8:
            wp = np.zeros((-(-k // 8) * 8, -(-f // 8) * 8), np.int8)
            wp[:k, :f] = w
            corr = offset * w.sum(axis=0)
            return cls(wp, (bias + corr).astype(np.int64), True, offset, np.int8)
        dtype = _float_type(bound, layer)
        return cls(w.astype(dtype), bias.astype(dtype), False, 0, dtype)

    def prepare(self, codes: np.ndarray) -> np.ndarray:
        """Input codes in the operand type (int8 shifted by ``offset``, or the float type)."""
        if self.int8:
            return (codes - self.offset).astype(np.int8)
        return codes.astype(self.dtype, copy=False)

    def __call__(self, a: np.ndarray) -> np.ndarray:
        """Prepared operand (M, K) → accumulators (M, F), exact."""
        if not self.int8:
            return a @ self.w + self.bias
        import torch

        m, k = a.shape
        if k != self.w.shape[0]:
            a = np.pad(a, ((0, 0), (0, self.w.shape[0] - k)))
        out = _int_mm()(torch.from_numpy(np.ascontiguousarray(a)), torch.from_numpy(self.w)).numpy()
        return out[:, :len(self.bias)] + self.bias


def _int_mm():
    """``torch._int_mm`` on CPU, or None where this torch lacks it."""
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return None
    return getattr(torch, "_int_mm", None)


@functools.lru_cache(maxsize=None)
def _int8_faster(k: int, f: int, rows: int = 2048) -> bool:
    """Whether an int8 GEMM of shape (rows, k) @ (k, f) beats float32 BLAS on this CPU
    (best of three timings each, measured once per shape and process)."""
    import torch

    rng = np.random.default_rng(0)
    a8 = torch.from_numpy(rng.integers(-128, 128, (rows, k), dtype=np.int8))
    w8 = torch.from_numpy(rng.integers(-128, 128, (k, f), dtype=np.int8))
    a32, w32 = a8.numpy().astype(np.float32), w8.numpy().astype(np.float32)

    def best(fn) -> float:
        fn()
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return min(times)

    return best(lambda: _int_mm()(a8, w8)) < best(lambda: a32 @ w32)


@dataclass(frozen=True)
class _Op:
    """A plan step with its product operator for the NumPy back end."""

    step: Step
    gemm: _Gemm | None = None


BACKENDS = ("auto", "native", "numpy")


class Emulator:
    """Integer emulation of a QKeras student as the firmware computes it.

    Build with :meth:`from_model` (or from a :class:`Plan`); call :meth:`logits` on uint8
    crops already fitted to the input size.

    Method: the student is read into integer steps (:func:`cellsort.firmware.plan.read_plan`)
    and run by one of two back ends that give the same, exact, codes:

    - ``native``: the plan compiled to one C function (:mod:`cellsort.firmware.native`),
      every layer fused, integer accumulators whose width the plan's bounds prove enough;
    - ``numpy``: a convolution is an im2col matrix product (:class:`_Gemm`: int8 GEMM where
      the codes fit, float32/float64 BLAS where a static bound proves the sums exact), over
      only the positions its max-pool keeps, the pool taken on the accumulators.

    Requantization rounds half to even and saturates, as ``AP_RND_CONV, AP_SAT``.
    """

    def __init__(self, plan: Plan, class_names=(), backend: str = "auto", products: str = "auto"):
        if backend not in BACKENDS:
            raise ConfigError(f"emulator backend {backend!r} is not one of {', '.join(BACKENDS)}")
        if products not in ("auto", "int8", "float"):
            raise ConfigError(f"emulator products {products!r} is not one of auto, int8, float")
        self.plan = plan
        self.class_names = tuple(class_names)
        self._kernel = None
        if backend != "numpy":
            from cellsort.firmware.native import NativeUnavailable, compile_plan

            try:
                self._kernel = compile_plan(plan)
            except NativeUnavailable as e:
                if backend == "native":
                    raise
                warnings.warn(f"compiled emulator unavailable ({str(e).splitlines()[0]}); the NumPy "
                              "back end runs instead (bit-exact, several times slower)", RuntimeWarning,
                              stacklevel=2)
        self.backend = "native" if self._kernel is not None else "numpy"
        #: Instruction-set rule of the compiled kernel (None for NumPy).
        self.isa = self._kernel.isa if self._kernel is not None else None
        self._ops = [] if self._kernel is not None else [
            _Op(s, _Gemm.build(s.w, s.bias, s.in_range, s.bound, s.name, products)
                if s.kind in ("conv", "dense") else None) for s in plan.steps]

    @classmethod
    def from_model(cls, model, prep: Preprocessing, class_names=(), backend: str = "auto",
                   products: str = "auto") -> "Emulator":
        """Read weights and formats from a QKeras student and compile the plan.

        ``backend``: "auto" (the compiled kernel where a C compiler is found, else NumPy),
        "native" (the compiled kernel or :class:`~cellsort.firmware.native.NativeUnavailable`)
        or "numpy". ``products`` (NumPy back end): "auto" (int8 GEMMs where they fit and are
        faster on this CPU), "int8" (wherever they fit) or "float". Every choice gives the
        same, exact, logits.
        """
        return cls(read_plan(model, prep), class_names, backend, products)

    def logits(self, images: np.ndarray, chunk: int = 16) -> np.ndarray:
        """Logits (float64, exact) of uint8 crops (N, h, w) fitted to the input size."""
        return self.codes(images, chunk).astype(np.float64) / 2.0 ** self.plan.out_frac

    def codes(self, images: np.ndarray, chunk: int = 16) -> np.ndarray:
        """The logits as the firmware's registers hold them: int64 codes on the grid
        ``2**-plan.out_frac``.

        NumPy back end: crops go through in chunks of ``chunk``, which keeps the intermediate
        arrays in cache.
        """
        images = np.asarray(images)
        if images.dtype != np.uint8 or images.ndim != 3:
            raise TypeError(f"expected uint8 crops (N, h, w), got {images.dtype} {images.shape}")
        if images.shape[1:] != self.plan.input_size:
            raise ValueError(f"crops of {images.shape[1]}x{images.shape[2]} px; the network "
                             f"takes {self.plan.input_size[0]}x{self.plan.input_size[1]}")
        if self._kernel is not None:
            codes = self._kernel(images)
        else:
            codes = np.concatenate([self._codes(images[i:i + chunk])
                                    for i in range(0, len(images), chunk)] or
                                   [np.zeros((0, int(np.prod(self.plan.shapes[-1]))))])
        return np.asarray(codes).astype(np.int64)

    def _codes(self, images: np.ndarray) -> np.ndarray:
        """Output codes of a chunk, NumPy back end."""
        x = self.plan.table[images][..., None]
        for op in self._ops:
            step = op.step
            if step.kind == "conv":
                x = _conv(x, op)
            elif step.kind == "dense":
                x = op.gemm(op.gemm.prepare(x.reshape(len(x), -1)))
                x = _requantize(x, step.shift, step.fmt) if step.fmt else x
            elif step.kind == "act":
                x = _requantize(x, step.shift, step.fmt)
            else:
                x = _pool(x)
        return x


def _pool(x: np.ndarray) -> np.ndarray:
    """2x2 max-pool with stride 2 (odd rows/columns dropped, as Keras 'valid')."""
    n, h, w, c = x.shape
    y = x[:, : h // 2 * 2, : w // 2 * 2].reshape(n, h // 2, 2, w // 2, 2 * c)
    rows = np.maximum(y[:, :, 0], y[:, :, 1])
    return np.maximum(rows[..., :c], rows[..., c:])


def _conv(x: np.ndarray, op: _Op) -> np.ndarray:
    """'Valid' convolution (cross-correlation, as Keras) of NHWC codes, then the fused pool
    and requantization; only the output positions the pool keeps are computed."""
    step = op.step
    kh, kw = step.kernel
    n, h, w, c = x.shape
    oh, ow = h - kh + 1, w - kw + 1
    if step.pool:
        oh, ow = oh // 2 * 2, ow // 2 * 2
    x = op.gemm.prepare(x)
    patches = np.empty((n, oh, ow, kh * kw * c), x.dtype)
    for dy in range(kh):
        for dx in range(kw):
            k = (dy * kw + dx) * c
            patches[..., k:k + c] = x[:, dy:dy + oh, dx:dx + ow]
    acc = op.gemm(patches.reshape(n * oh * ow, -1)).reshape(n, oh, ow, -1)
    acc = _pool(acc) if step.pool else acc
    return _requantize(acc, step.shift, step.fmt) if step.fmt else acc
