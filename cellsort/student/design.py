"""A student design: everything that decides a student's accuracy, latency and resources.

A design names a registered architecture and its options (filters, depth, bit widths), the
instrument's crop, the binning that reduces it (so the network sees ``crop / bin`` pixels a
side) and the hls4ml reuse factor. The same object gives the distillation config that trains
it (:meth:`cellsort.distill.DistillConfig.for_design`), the preprocessing that feeds it, and
the latency options (front end included) that time it (:func:`cellsort.firmware.cost.latency_options`),
so a design found by a benchmark or a search is rebuilt exactly from its fields.
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from cellsort.config import StrictModel


class StudentDesign(StrictModel):
    """One point of the student family.

    Parameters
    ----------
    student : str
        A registered student (``paper``, ``small``, ``tiny``, ``deep``, ...).
    options : dict
        Builder options (``filters``, ``weight_bits``, ``act_bits``, ``kernel``, ...).
    crop : int
        Side of the square region of interest cut around the cell (the paper: 48).
    bin : int
        Binning of the crop (1, 2, 3, 4, ...), dividing ``crop``.
    reuse_factor : int
        hls4ml reuse factor of every convolution and dense layer.
    parallelism : {"auto", "half"}
        RTL back end: each convolution's output pixels a cycle, the fewest that keep up with the
        pixel stream (``auto``) or half of those (``half``: fewer multipliers, longer latency).
    """

    student: str = "paper"
    options: dict = Field(default_factory=dict)
    crop: int = Field(48, ge=8, le=1024)
    bin: int = Field(1, ge=1, le=16)
    reuse_factor: int = Field(1, ge=1, le=4096)
    parallelism: Literal["auto", "half"] = "auto"

    @model_validator(mode="after")
    def _consistent(self):
        from cellsort.student.registry import check_student_options

        if self.crop % self.bin:
            raise ValueError(f"bin {self.bin} must divide the crop {self.crop}")
        check_student_options(self.student, self.options)
        return self

    @property
    def input_side(self) -> int:
        """Side of the network input (crop / bin)."""
        return self.crop // self.bin

    @property
    def label(self) -> str:
        """A short name: ``paper@12 (crop 48/bin 4) w4a4 rf1``."""
        return f"{self.student}@{self.input_side} (crop {self.crop}/bin {self.bin}){self._settings}"

    @property
    def short_label(self) -> str:
        """The label without its crop and bin (narrow tables): ``paper@12 w4a4 rf1``."""
        return f"{self.student}@{self.input_side}{self._settings}"

    @property
    def _settings(self) -> str:
        """Bits, other options, reuse factor and RTL parallelism, as the labels show them."""
        bits = ""
        if "weight_bits" in self.options or "act_bits" in self.options:
            bits = f" w{self.options.get('weight_bits', 8)}a{self.options.get('act_bits', 8)}"
        extra = {k: v for k, v in self.options.items() if k not in ("weight_bits", "act_bits")}
        more = "".join(f" {k}={v}" for k, v in extra.items())
        par = "" if self.parallelism == "auto" else " pe/2"
        return f"{bits}{more} rf{self.reuse_factor}{par}"

    def preprocessing(self, mean: float | None = None, std: float | None = None):
        """The :class:`~cellsort.data.Preprocessing` that feeds this design."""
        from cellsort.data.preprocess import Preprocessing

        extra = {k: v for k, v in (("mean", mean), ("std", std)) if v is not None}
        return Preprocessing(input_size=(self.crop, self.crop), bin=self.bin, **extra)

    def build(self, n_classes: int = 2):
        """The QKeras model of this design (untrained)."""
        from cellsort.student.registry import build_student

        return build_student(self.student, n_classes, input_size=(self.input_side,) * 2,
                             **self.options)


#: The student family of the latency-accuracy benchmark: the paper student at every binning
#: of the 48-pixel crop (48, 24, 16 and 12 pixels a side), narrower and deeper variants, and
#: 6- and 4-bit weights and activations.
FAMILY: tuple[StudentDesign, ...] = (
    StudentDesign(student="paper", bin=1),
    StudentDesign(student="paper", bin=2),
    StudentDesign(student="paper", bin=3),
    StudentDesign(student="paper", bin=4),
    StudentDesign(student="small", bin=2),
    StudentDesign(student="small", bin=4),
    StudentDesign(student="deep", bin=2),
    StudentDesign(student="paper", bin=4, options={"weight_bits": 6, "act_bits": 6}),
    StudentDesign(student="paper", bin=4, options={"weight_bits": 4, "act_bits": 4}),
)
