"""Read a Vivado/Vitis HLS C-synthesis report (``csynth.xml`` or ``csynth.rpt``) and put the
model beside it, layer by layer.

The XML gives the overall latency, interval and clocks; the text report also lists the
top function's instances (one per hls4ml layer) with their own latencies. Instances are
matched to the model's stages by kind and order (hls4ml names them ``conv_2d_cl_...``,
``pooling2d_cl_...``, ``relu_...``, ``dense_...``, ``softmax_...``).
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from cellsort.errors import DataError

#: hls4ml function-name prefixes of each stage kind.
INSTANCE_KINDS = {"conv2d": ("conv_2d",), "pool2d": ("pooling2d",), "dense": ("dense",),
                  "softmax": ("softmax",), "zeropad2d": ("zeropad2d",),
                  "batchnorm": ("normalize",), "global_pool2d": ("global_pooling2d",),
                  "activation": ("relu", "linear", "sigmoid", "tanh", "elu", "selu", "softplus",
                                 "softsign", "hard_sigmoid", "hard_tanh", "leaky_relu")}
_ROW = re.compile(r"^\s*\|\s*(\S+?)\s*\|\s*(\S+?)\s*\|\s*(\d+)\|\s*(\d+)\|.*?\|\s*(\d+)\|\s*(\d+)\|\s*(\S+)\s*\|\s*$")


def _num(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def _from_xml(path: Path) -> dict:
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise DataError(f"{path}: not a readable csynth XML report ({exc})") from exc
    lat = root.find(".//PerformanceEstimates/SummaryOfOverallLatency")
    if lat is None:
        raise DataError(f"{path}: no SummaryOfOverallLatency (not a C-synthesis report?)")
    return {"latency_min": _num(lat.findtext("Best-caseLatency")),
            "latency_max": _num(lat.findtext("Worst-caseLatency")),
            "interval_min": _num(lat.findtext("Interval-min")),
            "interval_max": _num(lat.findtext("Interval-max")),
            "target_clock_ns": _num(root.findtext(".//UserAssignments/TargetClockPeriod")),
            "estimated_clock_ns": _num(root.findtext(".//SummaryOfTimingAnalysis/EstimatedClockPeriod")),
            "part": root.findtext(".//UserAssignments/Part"), "instances": []}


def _from_rpt(path: Path) -> dict:
    text = path.read_text(errors="replace")
    summary = re.search(r"\+ Latency:.*?\|\s*(\d+)\|\s*(\d+)\|.*?\|\s*(\d+)\|\s*(\d+)\|", text, re.S)
    if summary is None:
        raise DataError(f"{path}: no latency summary (not a C-synthesis report?)")
    target = re.search(r"\|\s*ap_clk\s*\|\s*([\d.]+)\s*ns\s*\|\s*([\d.]+)\s*ns", text)
    instances = []
    block = re.search(r"\+ Latency:.*?\* Instance:(.*?)(\* Loop|\n\n\n|={5})", text, re.S)
    for line in (block.group(1).splitlines() if block else []):
        m = _ROW.match(line)
        if m and m.group(1).lower() != "instance":
            instances.append({"instance": m.group(1), "module": m.group(2),
                              "latency_min": int(m.group(3)), "latency_max": int(m.group(4)),
                              "interval_min": int(m.group(5)), "interval_max": int(m.group(6))})
    return {"latency_min": float(summary.group(1)), "latency_max": float(summary.group(2)),
            "interval_min": float(summary.group(3)), "interval_max": float(summary.group(4)),
            "target_clock_ns": float(target.group(1)) if target else None,
            "estimated_clock_ns": float(target.group(2)) if target else None,
            "part": None, "instances": instances}


def read_csynth(path: str | Path) -> dict:
    """Overall latency/interval (cycles), clocks and instance rows of a csynth report."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such report file")
    reader = {".xml": _from_xml, ".rpt": _from_rpt}.get(path.suffix.lower())
    if reader is None:
        raise DataError(f"{path}: expected a csynth .xml or .rpt report")
    report = reader(path)
    if report["latency_max"] is None:
        raise DataError(f"{path}: the report gives no worst-case latency")
    return report


def _kind_of(module: str) -> str | None:
    name = module.lower()
    for kind, prefixes in INSTANCE_KINDS.items():
        if name.startswith(prefixes):
            return kind
    return None


def _config_index(row: dict) -> int:
    m = re.search(r"config(\d+)", row["module"])
    return int(m.group(1)) if m else 10 ** 6


def compare(estimate, report: dict) -> dict:
    """Model beside report: totals, and per layer the model's own cycles vs the instance's."""
    by_kind: dict[str, list[dict]] = {}
    for row in sorted(report["instances"], key=_config_index):
        kind = _kind_of(row["module"])
        if kind:
            by_kind.setdefault(kind, []).append(row)
    rows = []
    for layer in estimate.per_layer:
        queue = by_kind.get(layer.kind, [])
        inst = queue.pop(0) if queue else None
        rows.append({"layer": layer.name, "kind": layer.kind, "model_cycles": layer.own_cycles,
                     "report_cycles": inst["latency_max"] if inst else None,
                     "instance": inst["instance"] if inst else None})
    worst = int(report["latency_max"])
    inside = estimate.total_cycles_low <= worst <= estimate.total_cycles_high
    return {"method": "vendor report (C synthesis estimate)", "report_cycles": worst,
            "model_cycles": estimate.total_cycles, "model_over_report": estimate.total_cycles / worst,
            "report_inside_band": inside, "report_interval_max": report["interval_max"],
            "per_layer": rows}
