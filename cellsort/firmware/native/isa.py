"""Instruction sets the compiled kernel can use, as registered rules, best first.

A rule names the compiler macros it needs (as ``cc -march=native`` predefines them), the
int32 lanes of its accumulator vector and, where the CPU multiplies pairs of int16 and adds
them in one instruction (``vpmaddwd``, or ``vpdpwssd`` with VNNI), the C expression of that
step. :func:`select` picks the first rule whose macros the compiler defines for this CPU;
``generic`` (plain GCC/Clang vectors, one tap at a time) always matches.
"""
from __future__ import annotations

from dataclasses import dataclass

from cellsort.registry import Registry


@dataclass(frozen=True)
class Isa:
    """One instruction-set rule.

    ``load`` formats ``{ptr}`` (pointer to interleaved int16 weight pairs) into a load of a
    ``vector``; ``madd`` formats ``{acc}`` (accumulator), ``{pair}`` (two int16 codes as one
    int32) and ``{w}`` (a loaded weight vector) into ``acc + pairwise products``. Both are
    None where the CPU has no such instruction.
    """

    name: str
    macros: tuple[str, ...]
    lanes: int
    vector: str | None = None
    load: str | None = None
    madd: str | None = None
    header: str = ""


#: The rules by name, best first (registration order).
RULES: Registry[Isa] = Registry("instruction-set rule")


def register(isa: Isa) -> Isa:
    """Add a rule after those registered so far (so register the best first)."""
    return RULES.add(isa.name, isa)


def _x86(name: str, macros: tuple[str, ...], bits: int, fused: bool) -> Isa:
    """An x86 rule: ``bits``-wide vectors, ``vpdpwssd`` (VNNI, ``fused``) or ``vpmaddwd`` + add."""
    vec, mm = (f"__m{bits}i", f"_mm{bits}")
    load = (f"{mm}_loadu_si512({{ptr}})" if bits == 512 else
            f"{mm}_loadu_si256((const __m256i *)({{ptr}}))")
    if fused:
        dpwssd = f"{mm}_dpwssd_epi32" if bits == 512 else f"{mm}_dpwssd_avx_epi32"
        madd = f"(vacc){dpwssd}(({vec}){{acc}}, {mm}_set1_epi32({{pair}}), {{w}})"
    else:
        madd = f"{{acc}} + (vacc){mm}_madd_epi16({mm}_set1_epi32({{pair}}), {{w}})"
    return Isa(name, macros, bits // 32, vec, load, madd, "#include <immintrin.h>")


register(_x86("avx512-vnni", ("__AVX512BW__", "__AVX512VNNI__"), 512, fused=True))
register(_x86("avx512bw", ("__AVX512BW__",), 512, fused=False))
register(_x86("avx-vnni", ("__AVX2__", "__AVXVNNI__"), 256, fused=True))
register(_x86("avx2", ("__AVX2__",), 256, fused=False))
register(Isa("generic", (), 16))


def rules() -> tuple[Isa, ...]:
    """Every registered rule, best first."""
    return tuple(RULES.values())


def select(macros: set[str] | frozenset[str]) -> Isa:
    """The best rule whose macros are all defined."""
    return next(isa for isa in RULES.values() if set(isa.macros) <= set(macros))
