"""Board presets (``hls/boards/*.yaml``): FPGA part, clock and the default HLS options."""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from cellsort.config import StrictModel, load_config
from cellsort.errors import ConfigError

#: Folder of the presets shipped with the repository.
BOARDS_DIR = Path(__file__).with_name("hls") / "boards"  # the repository's hls/, shipped in the package


class Capacity(StrictModel):
    """What the FPGA part offers, from the vendor's product table: LUTs, flip-flops, DSP
    slices and 18 Kb block RAMs."""

    lut: int = Field(gt=0)
    ff: int = Field(gt=0)
    dsp: int = Field(gt=0)
    bram18: int = Field(gt=0)


class BoardPreset(StrictModel):
    """An FPGA target: part number, achievable clock and HLS defaults."""

    name: str
    description: str = ""
    part: str
    clock_mhz: float
    backend: Literal["Vivado", "Vitis"] = "Vitis"
    io_type: Literal["io_stream", "io_parallel"] = "io_stream"
    reuse_factor: int = 1
    pixels_per_clock: int = 1
    capacity: Capacity | None = None

    @property
    def clock_period_ns(self) -> float:
        """Clock period in nanoseconds."""
        return 1e3 / self.clock_mhz


def list_boards() -> list[str]:
    """Names of the shipped presets."""
    return sorted(p.stem for p in BOARDS_DIR.glob("*.yaml"))


def load_board(name_or_path: str | Path) -> BoardPreset:
    """Load a preset by name (``coaxlink-ku035``) or from a YAML file path."""
    path = Path(name_or_path)
    if not path.suffix:
        path = BOARDS_DIR / f"{name_or_path}.yaml"
        if not path.is_file():
            raise ConfigError(f"unknown board {name_or_path!r}; presets: {', '.join(list_boards())}")
    return load_config(BoardPreset, path)
