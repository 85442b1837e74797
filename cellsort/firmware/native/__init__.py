"""The emulator's compiled back end: a plan as one fused C function, built on first use.

``compile_plan(plan)`` generates C (:mod:`.codegen`), compiles it with the system's C compiler
(:mod:`cellsort.cbuild`, cached per source, compiler and CPU) and returns a :class:`Kernel`, a callable
from uint8 crops to the output codes. It raises :class:`NativeUnavailable` where no compiler
works; :class:`~cellsort.firmware.emulator.Emulator` then falls back to NumPy.

Owns: C generation for plans and the instruction-set rules.
May import: the shared base and the integer plan (:mod:`cellsort.firmware.plan`).
"""
from __future__ import annotations

import ctypes

import numpy as np

from cellsort.cbuild import NativeUnavailable, address, build, macros
from cellsort.firmware.native import isa
from cellsort.firmware.native.codegen import generate, int_type
from cellsort.firmware.plan import Plan

__all__ = ["Kernel", "NativeUnavailable", "compile_plan"]


class Kernel:
    """A compiled plan: ``kernel(images)`` → int64 output codes (N, outputs).

    The call releases the GIL (ctypes) and has its own scratch memory, so threads may call
    one kernel at once.
    """

    def __init__(self, plan: Plan, target: isa.Isa | None = None):
        source = generate(plan, target or isa.select(macros()))
        self.isa = source.isa
        self._fn = build(source.code).cellsort_run
        self._fn.restype = None
        self._fn.argtypes = [ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p, ctypes.c_void_p,
                             ctypes.c_void_p, ctypes.c_void_p]
        self._table = np.ascontiguousarray(plan.table, int_type(plan.table.min(), plan.table.max())[1])
        self._params = source.params  # kept alive: the pointers below point into them
        self._pointers = (ctypes.c_void_p * max(len(self._params), 1))(*map(address, self._params))
        self._fixed = (address(self._table), self._pointers)
        self._scratch_bytes = source.scratch_bytes
        self._size, self._outputs = plan.input_size, source.out_size

    def __call__(self, images: np.ndarray) -> np.ndarray:
        images = np.ascontiguousarray(images, np.uint8)
        if images.ndim != 3 or images.shape[1:] != self._size:
            raise ValueError(f"expected uint8 crops (N, {self._size[0]}, {self._size[1]}), got {images.shape}")
        out = np.empty((len(images), self._outputs), np.int64)
        scratch = np.empty(self._scratch_bytes, np.uint8)  # per call: calls may run in parallel threads
        table, pointers = self._fixed
        self._fn(address(images), len(images), table, pointers, address(scratch), address(out))
        return out


def compile_plan(plan: Plan, target: isa.Isa | None = None) -> Kernel:
    """The compiled :class:`Kernel` of ``plan`` for ``target`` (default: the best instruction
    set this CPU and compiler offer); raises :class:`NativeUnavailable`."""
    return Kernel(plan, target)
