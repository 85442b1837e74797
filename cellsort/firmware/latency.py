"""Analytic cycle model of the hls4ml 1.3 design of a student (no vendor tools needed).

Method ("analytic model of hls4ml io_stream templates"):

- ``io_stream``: layers run concurrently in a DATAFLOW region joined by FIFOs. The input
  stream delivers one pixel (all channels) per clock; a convolution's line buffer accepts one
  pixel every ``II = reuse factor`` cycles; activations and pooling accept one per cycle; the
  dense layer reads the flattened map one pixel-packet per ``II`` cycles. A layer therefore
  finishes ``depth`` cycles after the later of (its last input arriving, its own input rate
  allowing it): ``done = max(done_prev, n_in · II) + depth``. Input streaming dominates: a
  48 x 48 input costs at least 2,304 cycles.
- ``io_parallel``: layers run one after another; a convolution computes one output pixel
  every ``II`` cycles: ``done = done_prev + n_out · II + depth``.

Pipeline depths are not knowable without synthesis; the nominal ones (conv 6, activation 2,
pool 3, dense 8 cycles) give the estimate and three times them an upper bound. The budget
verdict uses the upper bound. A vendor report, when present, replaces the estimate.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from cellsort.firmware.boards import BoardPreset

#: The published inference latency to beat (µs).
BUDGET_US = 14.5
#: Nominal pipeline depth (cycles) per layer kind; the upper bound uses 3x.
DEPTHS = {"conv": 6, "act": 2, "pool": 3, "dense": 8}
UPPER_FACTOR = 3
METHOD = "analytic model of hls4ml io_stream templates"


@dataclass
class LayerTiming:
    """One layer of the breakdown: inputs consumed, initiation interval, finish cycle."""

    name: str
    kind: str
    inputs: int
    ii: int
    depth: int
    done: int
    done_upper: int


@dataclass
class LatencyReport:
    """Latency estimate of one design at one clock, with the budget verdict."""

    method: str
    io_type: str
    reuse_factor: int
    clock_mhz: float
    total_cycles: int
    total_cycles_upper: int
    budget_us: float = BUDGET_US
    per_layer: list[LayerTiming] = field(default_factory=list)

    @property
    def total_us(self) -> float:
        return self.total_cycles / self.clock_mhz

    @property
    def total_us_upper(self) -> float:
        return self.total_cycles_upper / self.clock_mhz

    @property
    def margin_us(self) -> float:
        """Budget minus the upper bound (negative: over budget)."""
        return self.budget_us - self.total_us_upper

    @property
    def passes(self) -> bool:
        return self.margin_us >= 0

    def to_dict(self) -> dict:
        return {**asdict(self), "total_us": self.total_us, "total_us_upper": self.total_us_upper,
                "margin_us": self.margin_us, "passes": self.passes}


def _stages(model):
    """(name, kind, input pixels, output pixels) for each computing layer."""
    for layer in model.layers:
        kind = {"QConv2D": "conv", "QActivation": "act", "MaxPooling2D": "pool",
                "QDense": "dense"}.get(type(layer).__name__)
        if kind is None:
            continue
        shape_in, shape_out = layer.input_shape, layer.output_shape
        pix_in = shape_in[1] * shape_in[2] if len(shape_in) == 4 else shape_in[-1]
        pix_out = shape_out[1] * shape_out[2] if len(shape_out) == 4 else 1
        if kind == "dense":
            prev = model.get_layer("flatten").input_shape
            pix_in = prev[1] * prev[2]  # one packet per pixel of the flattened map
        yield layer.name, kind, pix_in, pix_out


def estimate_latency(model, board: BoardPreset, io_type: str | None = None,
                     reuse_factor: int | None = None, budget_us: float = BUDGET_US) -> LatencyReport:
    """Cycles and µs of ``model`` on ``board`` (see the module docstring for the method)."""
    io_type = io_type or board.io_type
    rf = reuse_factor or board.reuse_factor
    done = upper = 0
    rows = []
    for name, kind, pix_in, pix_out in _stages(model):
        ii = rf if kind in ("conv", "dense") else 1
        depth = DEPTHS[kind]
        if io_type == "io_stream":
            done = max(done, pix_in * ii) + depth
            upper = max(upper, pix_in * ii) + UPPER_FACTOR * depth
        else:
            work = pix_out * ii if kind == "conv" else (ii if kind == "dense" else 1)
            done += work + depth
            upper += work + UPPER_FACTOR * depth
        rows.append(LayerTiming(name, kind, pix_in, ii, depth, done, upper))
    return LatencyReport(METHOD if io_type == "io_stream" else METHOD.replace("io_stream", "io_parallel"),
                         io_type, rf, board.clock_mhz, done, upper, budget_us, rows)


def compare_with_vendor(estimate: LatencyReport, vendor: dict) -> dict:
    """Put the cycle model beside a parsed vendor report (``hls4ml.report.parse_vivado_report``).

    Returns the vendor's worst-case latency (cycles, µs at its estimated clock) and the ratio
    of model to vendor cycles, labelled "vendor report (measured)".
    """
    synth = vendor.get("CSynthesisReport")
    if not synth or "WorstLatency" not in synth:
        raise ValueError("the vendor report has no C-synthesis latency")
    worst = int(synth["WorstLatency"])
    period = float(synth.get("EstimatedClockPeriod") or synth["TargetClockPeriod"])
    return {"method": "vendor report (measured)", "vendor_worst_cycles": worst,
            "vendor_us": worst * period / 1e3, "vendor_interval_max": synth.get("IntervalMax"),
            "model_cycles": estimate.total_cycles, "model_upper_cycles": estimate.total_cycles_upper,
            "model_over_vendor": estimate.total_cycles / worst if worst else None,
            "vendor_passes_budget": worst * period / 1e3 <= estimate.budget_us}
