"""Validated options of a latency estimate (tool, strategy, reuse, clock, budget)."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from cellsort.config import StrictModel

#: The published inference latency to beat (µs).
BUDGET_US = 14.5


class FrontEnd(StrictModel):
    """The wrapper's pixel front end (``hls/wrapper``): the camera stream brings
    ``pixels_per_clock`` Mono8 pixels a beat, rows of ``frame_width`` pixels (default: the
    crop's width, a camera region of interest as wide as the crop); the crop is binned
    ``bin`` x ``bin`` before the normalisation ROM."""

    crop: tuple[int, int] = (48, 48)
    bin: int = Field(1, ge=1, le=16)
    pixels_per_clock: int = Field(1, ge=1, le=64)
    frame_width: int | None = Field(None, ge=1, le=65_535)

    @classmethod
    def of(cls, prep, pixels_per_clock: int, frame_width: int | None = None) -> "FrontEnd":
        """The front end that feeds a student with :class:`~cellsort.data.Preprocessing` ``prep``."""
        return cls(crop=tuple(prep.input_size), bin=prep.bin, pixels_per_clock=pixels_per_clock,
                   frame_width=frame_width)

    @property
    def row_beats(self) -> int:
        """Beats of one frame row."""
        return -(-(self.frame_width or self.crop[1]) // self.pixels_per_clock)


class LatencyOptions(StrictModel):
    """How the design is built and judged.

    ``reuse_factor`` applies to every convolution and dense layer unless ``layer_reuse``
    names the layer. ``frontend`` adds the wrapper's crop/binning front end before the
    network (None: the network alone, its input a word a cycle from cycle 0). ``softmax`` is the hls4ml implementation of a softmax layer in the model
    (hls4ml's default is ``stable``).
    """

    hls_tool: Literal["vitis", "vivado"] = "vitis"
    strategy: Literal["latency", "resource"] = "latency"
    io_type: Literal["io_stream", "io_parallel"] = "io_stream"
    reuse_factor: int = Field(1, ge=1, le=4096)
    layer_reuse: dict[str, int] = Field(default_factory=dict)
    clock_mhz: float = Field(200.0, gt=0, le=1000)
    budget_us: float = Field(BUDGET_US, gt=0, le=1e6)
    softmax: Literal["stable", "latency", "legacy", "argmax", "skip"] = "stable"
    hls4ml_version: str = Field("1.3.0", pattern=r"^\d+\.\d+(\.\d+)?")
    frontend: FrontEnd | None = None

    @property
    def inlined_line_buffer(self) -> bool:
        """hls4ml before 0.8 inlined ``compute_output_buffer_2d`` (it became INLINE OFF in 0.8.0)."""
        major, minor = (int(x) for x in self.hls4ml_version.split(".")[:2])
        return (major, minor) < (0, 8)

    @field_validator("layer_reuse")
    @classmethod
    def _positive(cls, value: dict[str, int]) -> dict[str, int]:
        bad = {k: v for k, v in value.items() if not 1 <= v <= 4096}
        if bad:
            raise ValueError(f"reuse factors must be 1..4096, got {bad}")
        return value

    @property
    def uses_reuse(self) -> bool:
        """Whether any layer has a reuse factor above 1."""
        return self.reuse_factor > 1 or any(v > 1 for v in self.layer_reuse.values())

    def reuse(self) -> dict[str, int]:
        """Reuse factor per layer name, ``"*"`` for the rest."""
        return {"*": self.reuse_factor, **self.layer_reuse}


def options_for_board(board, **overrides) -> LatencyOptions:
    """Options of a board preset (tool from its backend, clock, io type, reuse), with
    ``overrides`` (``None`` values ignored) validated on top.

    Raises
    ------
    ConfigError
        An override out of range or of an unknown kind (named).
    """
    from cellsort.config import load_config

    base = {"hls_tool": board.backend.lower(), "clock_mhz": board.clock_mhz,
            "io_type": board.io_type, "reuse_factor": board.reuse_factor}
    base.update({k: v for k, v in overrides.items() if v is not None})
    if isinstance(base.get("frontend"), FrontEnd):
        base["frontend"] = base["frontend"].model_dump()
    return load_config(LatencyOptions, None, **base)
