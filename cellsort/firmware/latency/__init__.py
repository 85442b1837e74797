"""Latency of hls4ml designs without vendor tools: an analytic, calibrated cycle model.

See :mod:`cellsort.firmware.latency.estimate` for the method, :mod:`.cycles` for the point
estimate, :mod:`.rules` for the timing rules of each layer kind, :mod:`.calibration` for the
public vendor reports behind the band, and :mod:`.vendor` for reading a user's own
C-synthesis report.

Owns: the cycle model, its calibration, the verdicts against the budgets.
May import: the shared base, data, architecture, student (shapes only) and the rest of firmware.
"""
from cellsort.firmware.latency.calibration import load_calibration
from cellsort.firmware.latency.cycles import LayerTiming
from cellsort.firmware.latency.estimate import LatencyReport, estimate_latency
from cellsort.firmware.latency.options import (
           BUDGET_US,
           FrontEnd,
           LatencyOptions,
           options_for_board,
)
from cellsort.firmware.latency.tools import TOOLS
from cellsort.firmware.latency.vendor import compare, read_csynth

__all__ = ["BUDGET_US", "FrontEnd", "LatencyOptions", "LatencyReport", "LayerTiming", "TOOLS", "compare",
           "estimate_latency", "load_calibration", "options_for_board", "read_csynth"]
