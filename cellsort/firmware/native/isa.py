"""Instruction sets the compiled kernel can use, as registered rules, best first.

A rule names the compiler macros it needs (as ``cc -march=native`` predefines them), the
int32 lanes of its accumulator vector and, where the CPU multiplies pairs of int16 and adds
them in one instruction (``vpmaddwd``, or ``vpdpwssd`` with VNNI), the C expression of that
step. :func:`select` picks the first rule whose macros the compiler defines for this CPU;
``generic`` (plain GCC/Clang vectors, one tap at a time) always matches.
"""
from __future__ import annotations

from dataclasses import dataclass


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


_RULES: list[Isa] = []


def register(isa: Isa) -> Isa:
    _RULES.append(isa)
    return isa


register(Isa("avx512-vnni", ("__AVX512BW__", "__AVX512VNNI__"), 16, "__m512i",
             "_mm512_loadu_si512({ptr})",
             "(vacc)_mm512_dpwssd_epi32((__m512i){acc}, _mm512_set1_epi32({pair}), {w})",
             "#include <immintrin.h>"))
register(Isa("avx512bw", ("__AVX512BW__",), 16, "__m512i", "_mm512_loadu_si512({ptr})",
             "{acc} + (vacc)_mm512_madd_epi16(_mm512_set1_epi32({pair}), {w})",
             "#include <immintrin.h>"))
register(Isa("avx-vnni", ("__AVX2__", "__AVXVNNI__"), 8, "__m256i",
             "_mm256_loadu_si256((const __m256i *)({ptr}))",
             "(vacc)_mm256_dpwssd_avx_epi32((__m256i){acc}, _mm256_set1_epi32({pair}), {w})",
             "#include <immintrin.h>"))
register(Isa("avx2", ("__AVX2__",), 8, "__m256i", "_mm256_loadu_si256((const __m256i *)({ptr}))",
             "{acc} + (vacc)_mm256_madd_epi16(_mm256_set1_epi32({pair}), {w})",
             "#include <immintrin.h>"))
register(Isa("generic", (), 16))


def rules() -> tuple[Isa, ...]:
    """Every registered rule, best first."""
    return tuple(_RULES)


def select(macros: set[str] | frozenset[str]) -> Isa:
    """The best rule whose macros are all defined."""
    return next(isa for isa in _RULES if set(isa.macros) <= set(macros))
