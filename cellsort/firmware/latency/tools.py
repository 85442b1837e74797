"""The HLS tools the latency model knows, with their timing parameters.

Each number is set from the public reports of ``calibration.yaml`` (see the comments) and
re-checked against all of them by the test suite.
"""
from __future__ import annotations

from dataclasses import dataclass

from cellsort.firmware.latency.rules import ToolParams


@dataclass(frozen=True)
class HlsTool:
    name: str
    label: str
    params: ToolParams


TOOLS: dict[str, HlsTool] = {
    # Vivado HLS 2020.1 (discontinued): line buffer and pooling at II 1 with hls4ml 0.6 (SVHN
    # CNN: conv 1,027 cycles for 1,024 words) and 0.8 (pominiq MNIST CNN at RF 1: 794 cycles for
    # 784 pixels); RF > 1 see rules.py; static softmax tables (stable softmax 7-25 cycles).
    "vivado": HlsTool("vivado", "Vivado HLS", ToolParams(
        conv_ii=1, conv_multi_extra=None, conv_ii_narrow=1, narrow_bits=12, conv_rf_ii_a=2.33, conv_rf_ii_b=0.651, conv_depth=2, pool_ii=1, pool_depth=1, act_depth=1,
        dense_pass=1, dense_rf_ratio=1.0, resource_pass=10, softmax_table_init=0, softmax_word=3,
        overhead=2)),
    # Vitis HLS 2024-2025: compute_output_buffer_2d stays a function: II 3 for one input
    # channel (kojos03 8x8 CNN, lolbraa MNIST baseline), 4 for 16 channels (lolbraa), 2 at RF 1
    # with narrow HGQ result types (lolbraa hgq2 designs); RF 16 and 100 keep II 3-5 (lolbraa
    # MNIST_CNN/1-3). Pooling at II 1 (lolbraa; kojos03 shows II 2 on a 4-channel pool that
    # waits on its conv anyway). The stable softmax rebuilds its 1,024-entry exp table on
    # every call: 1,043 cycles (kojos03), 1,059 (lolbraa baseline).
    "vitis": HlsTool("vitis", "Vitis HLS", ToolParams(
        conv_ii=3, conv_multi_extra=1, conv_ii_narrow=2, narrow_bits=12, conv_rf_ii_a=0.0, conv_rf_ii_b=1.0, conv_depth=2, pool_ii=2, pool_depth=1, act_depth=1,
        dense_pass=1, dense_rf_ratio=0.0, resource_pass=5, softmax_table_init=1045, softmax_word=3,
        overhead=2)),
}
