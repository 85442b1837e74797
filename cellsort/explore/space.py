"""The search space of ``cellsort explore``: which student designs a trial may draw.

Every choice is categorical, so the sampler (NSGA-II) can cross designs over: registered
architecture, binning of the crop, weight and activation bit widths, reuse factor and the
distillation method. A combination that cannot be built (a deep student on a 12-pixel input)
is refused by the design itself and the trial is pruned.
"""
from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, field_validator

from cellsort.config import StrictModel
from cellsort.distill.train import Method
from cellsort.student.design import StudentDesign


class SearchSpace(StrictModel):
    """The values a trial may choose (each list non-empty)."""

    students: list[str] = Field(default_factory=lambda: ["paper", "small", "tiny", "deep"], min_length=1)
    crop: int = Field(48, ge=8, le=1024)
    bins: list[int] = Field(default_factory=lambda: [1, 2, 3, 4], min_length=1)
    weight_bits: list[int] = Field(default_factory=lambda: [4, 5, 6, 7, 8], min_length=1)
    act_bits: list[int] = Field(default_factory=lambda: [4, 5, 6, 7, 8], min_length=1)
    reuse_factors: list[int] = Field(default_factory=lambda: [1, 2, 4], min_length=1)
    methods: list[Method] = Field(default_factory=lambda: ["labels", "kd-margin"], min_length=1)
    parallelisms: list[Literal["auto", "half"]] = Field(default_factory=lambda: ["auto"], min_length=1)

    @field_validator("students")
    @classmethod
    def _registered(cls, v):
        from cellsort.student.registry import list_students

        unknown = sorted(set(v) - set(list_students()))
        if unknown:
            raise ValueError(f"unknown students {unknown}; registered: {', '.join(list_students())}")
        return v

    @field_validator("weight_bits", "act_bits", "bins", "reuse_factors")
    @classmethod
    def _in_range(cls, v, info):
        lo, hi = (2, 16) if info.field_name.endswith("bits") else (1, 4096)
        if not all(lo <= b <= hi for b in v):
            raise ValueError(f"{info.field_name} must be {lo} to {hi}, got {v}")
        return v

    def without_teacher(self) -> "SearchSpace":
        """The space without teacher-based methods (no teacher given)."""
        methods = [m for m in self.methods if not m.startswith("kd")] or ["labels"]
        return self.model_copy(update={"methods": methods})


def choices(space: SearchSpace) -> dict[str, list]:
    """Each parameter a trial draws, with its values (the order :func:`suggest` draws them)."""
    return {"student": space.students, "bin": space.bins, "weight_bits": space.weight_bits,
            "act_bits": space.act_bits, "reuse_factor": space.reuse_factors, "method": space.methods,
            "parallelism": space.parallelisms}


def draw(space: SearchSpace, seed: int, slot: int) -> dict:
    """A design's parameters drawn uniformly from ``space`` by a generator seeded with
    ``(seed, slot)`` alone: the same slot gets the same design on any worker, in any order."""
    rng = np.random.default_rng([seed, slot])
    return {name: values[int(rng.integers(len(values)))] for name, values in choices(space).items()}


def suggest(trial, space: SearchSpace) -> tuple[StudentDesign, str]:
    """Draw a design and a distillation method for an Optuna ``trial``.

    Raises
    ------
    ValueError
        The drawn combination is not a valid design (the caller prunes the trial).
    """
    p = {name: trial.suggest_categorical(name, values) for name, values in choices(space).items()}
    design = StudentDesign(student=p["student"], crop=space.crop, bin=p["bin"],
                           options={"weight_bits": p["weight_bits"], "act_bits": p["act_bits"]},
                           reuse_factor=p["reuse_factor"], parallelism=p["parallelism"])
    design.build(2)  # refuses inputs too small for the architecture (ValueError)
    return design, p["method"]
