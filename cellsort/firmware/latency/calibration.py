"""The calibration set: facts of public vendor reports, and the band they give the model.

``calibration.yaml`` (beside this module) records, for each public C-synthesis report of an
hls4ml CNN, its source (repository, path, commit), the architecture, the tool and version,
strategy, reuse factor, clock, part, and the reported latency and interval (and per-layer
latencies where the report lists them). Facts and figures only, no copies of reports.

A report marked ``excluded`` is kept as a fact but not fitted (its reason is recorded).

Band (method): for the reports of the same tool and io type, the ratio ``reported / model``
of their worst-case latency; the band is ``[estimate * min(1, min ratio) * (1 - MARGIN),
estimate * max(1, max ratio) * (1 + MARGIN)]``. Where the design leaves what the reports
cover (a strategy, reuse factor > 1, an io type, a softmax implementation or a kernel no
report has), the band is widened by ``EXTRAPOLATION`` for each such step and the step is
named in the evidence.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import yaml

from cellsort.architecture import Architecture, architecture_from_layers
from cellsort.firmware.latency.cycles import model_cycles
from cellsort.firmware.latency.options import LatencyOptions
from cellsort.firmware.latency.tools import TOOLS

CALIBRATION_FILE = Path(__file__).with_name("calibration.yaml")
#: Relative widening of the band beyond the calibration spread.
MARGIN = 0.05
#: Further relative widening for each way the design leaves the calibrated ground.
EXTRAPOLATION = 0.25


@dataclass(frozen=True)
class CalibrationReport:
    """One public vendor report, as recorded in ``calibration.yaml``."""

    id: str
    record: dict

    @property
    def options(self) -> LatencyOptions:
        r = self.record
        return LatencyOptions(hls_tool=r["tool"], strategy=r["strategy"], io_type=r["io_type"],
                              reuse_factor=r.get("reuse_factor", 1),
                              layer_reuse=r.get("layer_reuse", {}),
                              clock_mhz=1e3 / r["clock_period_ns"],
                              softmax=r.get("softmax", "stable"), hls4ml_version=r["hls4ml"])

    @property
    def architecture(self) -> Architecture:
        r = self.record
        return architecture_from_layers(r["input_shape"], r["layers"], self.id,
                                        f"calibration report {self.id}")

    @property
    def fitted(self) -> bool:
        """False for a report kept as a fact but outside the model's rules (``excluded``)."""
        return "excluded" not in self.record

    @property
    def reported_cycles(self) -> int:
        return int(self.record["reported"]["latency_max"])

    @property
    def label(self) -> str:
        return f"{TOOLS[self.record['tool']].label} {self.record['tool_version']}"


@functools.lru_cache(maxsize=1)
def load_calibration(path: str | None = None) -> tuple[CalibrationReport, ...]:
    """Every report of the calibration file (validated on load)."""
    data = yaml.safe_load(Path(path or CALIBRATION_FILE).read_text())
    reports = tuple(CalibrationReport(entry["id"], entry) for entry in data["reports"])
    for rep in reports:
        rep.options  # noqa: B018 - validates tool, strategy, clock
        missing = {"source", "input_shape", "layers", "reported", "hls4ml"} - set(rep.record)
        if missing:
            raise ValueError(f"calibration report {rep.id}: missing {sorted(missing)}")
    return reports


@functools.lru_cache(maxsize=None)
def ratios(tool: str, io_type: str) -> tuple[tuple[str, float], ...]:
    """``(report id, reported / model)`` for every report of ``tool`` and ``io_type``."""
    out = []
    for rep in load_calibration():
        opts = rep.options
        if rep.fitted and opts.hls_tool == tool and opts.io_type == io_type:
            cycles, _ = model_cycles(rep.architecture, opts)
            out.append((rep.id, rep.reported_cycles / cycles))
    return tuple(out)


@functools.lru_cache(maxsize=None)
def _coverage(tool: str, io_type: str) -> dict:
    """What the reports of ``tool``/``io_type`` exercise."""
    seen = {"strategy": set(), "rf_above_1": False, "softmax": set(), "kernels": set(),
            "versions": set(), "inlined": set()}
    for rep in load_calibration():
        opts = rep.options
        if not rep.fitted or opts.hls_tool != tool or opts.io_type != io_type:
            continue
        seen["versions"].add(rep.label)
        seen["strategy"].add(opts.strategy)
        seen["inlined"].add(opts.inlined_line_buffer)
        seen["rf_above_1"] |= opts.uses_reuse
        arch = rep.architecture
        if arch.of_kind("softmax"):
            seen["softmax"].add(opts.softmax)
        seen["kernels"] |= {layer.attrs["kernel"] for layer in arch.of_kind("conv2d")}
    return seen


def band_for(arch: Architecture, options: LatencyOptions, cycles: int) -> tuple[int, int, list[str]]:
    """Low and high ends of the band around ``cycles`` and the evidence behind them."""
    found = ratios(options.hls_tool, options.io_type)
    label = TOOLS[options.hls_tool].label
    steps = []
    if found:
        lo_r = min(1.0, *(r for _, r in found))
        hi_r = max(1.0, *(r for _, r in found))
        seen = _coverage(options.hls_tool, options.io_type)
        head = (f"calibrated on {len(found)} public vendor reports "
                f"({', '.join(sorted(seen['versions']))}), band "
                f"-{100 * (1 - lo_r * (1 - MARGIN)):.0f}%/+{100 * (hi_r * (1 + MARGIN) - 1):.0f}%")
        if options.inlined_line_buffer not in seen["inlined"]:
            era = "before 0.8" if options.inlined_line_buffer else "0.8 or later"
            steps.append(f"no report of {label} with hls4ml {era} (the line buffer's "
                         "compute_output_buffer_2d became INLINE OFF in 0.8)")
        if options.strategy not in seen["strategy"]:
            steps.append(f"no {options.strategy}-strategy report of {label}")
        if options.uses_reuse and not seen["rf_above_1"]:
            steps.append(f"no report of {label} with reuse factor > 1")
        if arch.of_kind("softmax") and options.softmax not in seen["softmax"] | {"skip"}:
            steps.append(f"no report of {label} with a {options.softmax} softmax")
        new_kernels = {layer.attrs["kernel"] for layer in arch.of_kind("conv2d")} - seen["kernels"]
        if new_kernels:
            steps.append(f"no report of {label} with {', '.join(f'{a}x{b}' for a, b in sorted(new_kernels))} kernels")
    else:
        lo_r = hi_r = 1.0
        head = f"no public {options.io_type} report of {label} to calibrate on"
        steps.append(f"uncalibrated {options.io_type} on {label}")
    widen = EXTRAPOLATION * len(steps)
    low = int(cycles * lo_r * (1 - MARGIN) / (1 + widen))
    high = int(round(cycles * hi_r * (1 + MARGIN) * (1 + widen) + 0.5))
    evidence = [head] + [f"extrapolated ({s}): band widened {100 * EXTRAPOLATION:.0f}%" for s in steps]
    return low, high, evidence
