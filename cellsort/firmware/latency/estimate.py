"""The latency estimate of a design: cycles per layer, the band and the budget verdict.

Method ("analytic model of hls4ml io_stream templates, calibrated on N public vendor
reports"): the architecture is lowered to hls4ml's stages (:mod:`.stages`), each stage timed
by its registered rule with the tool's parameters (:mod:`.rules`), and the DATAFLOW region
simulated word by word (:mod:`.dataflow`). The band is the estimate scaled by the smallest
and largest ratio of reported to modelled latency over the calibration reports of the same
tool (:mod:`.calibration`), widened where the design goes beyond what those reports cover.
The verdict uses the band: PASS when its upper end is within budget, FAIL when its lower end
is over, otherwise UNCERTAIN.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from cellsort.architecture import Architecture, read_architecture
from cellsort.firmware.latency.calibration import EXTRAPOLATION, band_for
from cellsort.firmware.latency.cycles import LayerTiming, model_cycles
from cellsort.firmware.latency.options import LatencyOptions
from cellsort.firmware.latency.tools import TOOLS

SETTLE = ("a C-synthesis report of this design: run `cellsort hls build` where Vitis/Vivado "
          "HLS is installed, then `cellsort hls latency --report PRJ/.../csynth.xml`")


@dataclass
class LatencyReport:
    """Latency of one design at one clock with its band, evidence and verdict."""

    method: str
    hls_tool: str
    strategy: str
    io_type: str
    reuse_factor: int
    clock_mhz: float
    budget_us: float
    total_cycles: int
    total_cycles_low: int
    total_cycles_high: int
    evidence: list[str] = field(default_factory=list)
    per_layer: list[LayerTiming] = field(default_factory=list)

    @property
    def total_us(self) -> float:
        return self.total_cycles / self.clock_mhz

    @property
    def total_us_low(self) -> float:
        return self.total_cycles_low / self.clock_mhz

    @property
    def total_us_high(self) -> float:
        return self.total_cycles_high / self.clock_mhz

    @property
    def verdict(self) -> str:
        """PASS (band within budget), FAIL (band over budget) or UNCERTAIN."""
        if self.total_us_high <= self.budget_us:
            return "PASS"
        if self.total_us_low > self.budget_us:
            return "FAIL"
        return "UNCERTAIN"

    @property
    def settle(self) -> str | None:
        """What would settle an UNCERTAIN verdict."""
        return SETTLE if self.verdict == "UNCERTAIN" else None

    def summary(self) -> str:
        """One line: cycles, µs, band, verdict against the budget, and the method."""
        line = (f"{self.total_cycles:,} cycles = {self.total_us:.2f} µs at {self.clock_mhz:g} MHz "
                f"(band {self.total_us_low:.2f}-{self.total_us_high:.2f} µs); budget "
                f"{self.budget_us:g} µs: {self.verdict}; method: {self.method}")
        return line + (f"; to settle it: {self.settle}" if self.settle else "")

    def to_dict(self) -> dict:
        return {**asdict(self), "total_us": self.total_us, "total_us_low": self.total_us_low,
                "total_us_high": self.total_us_high, "verdict": self.verdict,
                "settle": self.settle}


def _architecture(model) -> Architecture:
    return model if isinstance(model, Architecture) else read_architecture(model)


def _frontend_band(arch, options, cycles, low, high, evidence):
    """Widen the band by :data:`~.calibration.EXTRAPOLATION` of the cycles the front end adds
    (no vendor report holds cellsort's front end) and say so."""
    alone, _ = model_cycles(arch, options.model_copy(update={"frontend": None}))
    extra = max(0, cycles - alone)
    widen = int(np.ceil(extra * EXTRAPOLATION))
    fe = options.frontend
    note = (f"front end (crop {fe.crop[0]}x{fe.crop[1]} binned {fe.bin}x{fe.bin}, "
            f"{fe.pixels_per_clock} px a beat, rows of {fe.row_beats} beats) adds {extra:,} cycles "
            f"to the network alone ({alone:,}); modelled from the wrapper's loops (a beat a cycle, "
            f"a binned pixel a cycle), in no vendor report: band widened "
            f"{100 * EXTRAPOLATION:.0f}% of those cycles")
    return max(0, low - widen), high + widen, evidence + [note]


def estimate_latency(model, options: LatencyOptions | None = None) -> LatencyReport:
    """Latency of ``model`` (file, Keras model or :class:`Architecture`) built as ``options``.

    Raises
    ------
    ArchitectureError
        A layer without a rule (named), or a file that cannot be read safely.
    """
    options = options or LatencyOptions()
    arch = _architecture(model)
    cycles, rows = model_cycles(arch, options)
    low, high, evidence = band_for(arch, options, cycles)
    if options.frontend is not None:
        low, high, evidence = _frontend_band(arch, options, cycles, low, high, evidence)
    tool = TOOLS[options.hls_tool]
    method = (f"analytic model of hls4ml {options.io_type} templates for {tool.label}, "
              f"{evidence[0]}")
    return LatencyReport(method, options.hls_tool, options.strategy, options.io_type,
                         options.reuse_factor, options.clock_mhz, options.budget_us, cycles,
                         low, high, evidence, rows)
