"""Timing rules of hls4ml 1.x io_stream templates, one registered rule per stage kind.

Each rule reads the stage's geometry, the tool's parameters (:class:`ToolParams`) and the
options, and returns a :class:`~cellsort.firmware.latency.dataflow.StageTiming`. The
parameters are few, stated per tool, and every one is checked against the public reports of
``calibration.yaml`` by the test suite:

- line-buffer convolution (``conv_2d_buffer_latency_cl``): the read loop is pipelined at
  ``II = RF``. Before hls4ml 0.8 ``compute_output_buffer_2d`` was inlined and the loop
  reached the requested II (Vivado HLS 2020.1 and Vitis HLS 2022.1 reports). From 0.8 on it
  is ``INLINE OFF`` with static counters and Vitis HLS reaches II 3 with one input channel,
  ``kernel width + 1`` with several, and II 2 at RF 1 when the layer's result type is narrow
  (<= 12 bits, LUT arithmetic; hls4ml's ``auto`` and cellsort's exact 32-bit accumulators
  are wide). With the Latency strategy and ``RF > 1`` the achieved II comes out below RF:
  ``max(base II, ceil(RF * conv_rf_ii_ratio))`` (Vitis keeps its base II at RF 16 and 100).
  Resource strategy (``conv_2d_buffer_resource_cl``, no loop pipeline): the reports' worst
  case charges every word ``min(RF, weights) + resource_pass`` cycles (the reuse loop never
  runs more passes than the layer has weights; Vitis 5, Vivado 10 cycles beyond it);
- pooling (``pooling2d_cl``): the same line buffer, at ``pool_ii`` a word;
- zero padding, element-wise activations, unfused batch normalisation: one word a cycle;
- dense (``dense`` for streams): ``DataPrepare`` reads a word a cycle, then one multiply
  pass of ``ceil(log2(n_in)) + dense_pass`` cycles (Latency strategy, plus
  ``(RF - 1) * dense_rf_ratio``: Vitis does the pass at RF 100 in the time of RF 16) or
  ``RF + resource_pass`` cycles (Resource strategy), then the result word;
- softmax: ``stable``/``latency``/``legacy`` build their exp and inverse tables on every
  call (``softmax_table_init`` cycles before the first word: Vitis 2024.2 and 2025.2 fill
  the 1,024-entry exp table through a floating-point exp core), then a few cycles a word;
  ``argmax`` a cycle a word; ``skip`` generates no stage;
- designs of hls4ml before 0.8 on the tools of their time (Vivado HLS 2020.1, Vitis HLS
  2022.1) are one bundle in the reports: line buffer and pooling at II 1, softmax tables
  folded into ROMs (7-8 cycles).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

from cellsort.architecture import ArchitectureError
from cellsort.firmware.latency.dataflow import StageTiming
from cellsort.firmware.latency.stages import Stage
from cellsort.registry import Registry


@dataclass(frozen=True)
class ToolParams:
    """The per-tool numbers of the rules above (cycles)."""

    conv_ii: int              # achieved line-buffer II, one input channel, Latency strategy
    conv_multi_extra: int | None  # several input channels: II = kernel width + this (None: conv_ii)
    conv_ii_narrow: int       # RF 1 with a narrow result type (<= narrow_bits), any channels
    narrow_bits: int
    conv_rf_ii_a: float       # RF > 1, Latency strategy: II = min(RF, round(a * RF_eff ** b))
    conv_rf_ii_b: float       #   with RF_eff = RF * (1 - sparsity); a = 0 keeps the base II
    conv_depth: int           # cycles from the completing word to the output word
    pool_ii: int
    pool_depth: int
    act_depth: int
    dense_pass: int           # cycles of a Latency-strategy multiply pass beyond log2(n_in)
    dense_rf_ratio: float     # extra pass cycles per unit of RF above 1, Latency strategy
    resource_pass: int        # Resource strategy: cycles beyond min(RF, weights) a word (worst case)
    softmax_table_init: int   # cycles to build the softmax tables per call (0 = static ROMs)
    softmax_word: int         # cycles per softmax word
    overhead: int             # DATAFLOW region start and finish


#: Timing rules ``f(stage, params, options) -> StageTiming`` by stage kind.
TIMING_RULES: Registry[Callable[[Stage, ToolParams, "object"], StageTiming]] = Registry("latency rule")


def timing_rule(*kinds: str):
    """Register the timing rule of the stage ``kinds``."""
    return TIMING_RULES.register(*kinds)


def timing_for(stage: Stage, params: ToolParams, options) -> StageTiming:
    """The registered rule's timing of ``stage``; unknown kinds are refused (never 0 cycles)."""
    rule = TIMING_RULES.find(stage.kind)
    if rule is None:
        raise ArchitectureError(f"layer {stage.name!r}: no latency rule for {stage.kind!r} layers")
    return rule(stage, params, options)


def _log2(n: int) -> int:
    return max(1, math.ceil(math.log2(max(n, 2))))


@timing_rule("conv2d")
def _conv(stage: Stage, p: ToolParams, options) -> StageTiming:
    rf = stage.reuse_factor
    kh, kw = stage.attrs["kernel"]
    depth = p.conv_depth + _log2(kh * kw * stage.in_pack) // 2
    if options.strategy == "resource":
        passes = min(rf, kh * kw * stage.in_pack * stage.attrs["filters"])
        return StageTiming(passes + p.resource_pass, depth,
                           note=f"resource: {passes}+{p.resource_pass} a word (worst case)")
    if options.inlined_line_buffer:
        base = 1
    elif rf == 1 and stage.attrs.get("result_bits", 64) <= p.narrow_bits:
        base = p.conv_ii_narrow
    elif stage.in_pack == 1:
        base = p.conv_ii
    else:
        base = p.conv_ii if p.conv_multi_extra is None else kw + p.conv_multi_extra
    achieved = base
    if rf > 1 and p.conv_rf_ii_a:
        eff = rf * (1 - stage.attrs.get("sparsity", 0.0))
        achieved = min(rf, max(base, round(p.conv_rf_ii_a * eff ** p.conv_rf_ii_b)))
    return StageTiming(achieved, depth + achieved - 1, note=f"II {achieved} a word")


@timing_rule("pool2d")
def _pool(stage: Stage, p: ToolParams, options) -> StageTiming:
    ii = 1 if options.inlined_line_buffer else p.pool_ii
    return StageTiming(ii, p.pool_depth, note=f"II {ii} a word")


@timing_rule("zeropad2d", "activation", "batchnorm")
def _elementwise(stage: Stage, p: ToolParams, options) -> StageTiming:
    return StageTiming(1, p.act_depth, note="II 1 a word")


@timing_rule("global_pool2d")
def _global_pool(stage: Stage, p: ToolParams, options) -> StageTiming:
    return StageTiming(1, p.pool_depth, compute=_log2(stage.in_pack), note="II 1 a word")


@timing_rule("dense")
def _dense(stage: Stage, p: ToolParams, options) -> StageTiming:
    rf = stage.reuse_factor
    n_in = stage.in_tokens * stage.in_pack
    if options.strategy == "resource":
        compute = rf + p.resource_pass
    else:
        compute = _log2(n_in) + p.dense_pass + math.ceil((rf - 1) * p.dense_rf_ratio)
    return StageTiming(1, 1, compute=compute, note=f"reads a word a cycle, pass {compute}")


@timing_rule("softmax")
def _softmax(stage: Stage, p: ToolParams, options) -> StageTiming:
    impl = options.softmax  # "skip" never reaches a rule: the estimate drops the stage
    if impl == "argmax":
        return StageTiming(1, 2 + _log2(stage.in_pack), note="argmax")
    init = 0 if options.inlined_line_buffer else p.softmax_table_init
    return StageTiming(p.softmax_word, p.softmax_word + _log2(stage.in_pack), startup=init,
                       note=f"{impl}: tables {init} cycles per call")
