"""The sort decision: the margin of the sorted class over the others, and the gate on it.

A cell is sorted when ``margin > threshold``, where the margin is the logit of the sorted
class minus the largest logit of the other classes (with two classes, ``z[1] - z[0]`` for the
default sorted class 1). The gate is chosen on a labelled set (the validation split) as the
threshold with the highest recovery (the fraction of sorted-class cells that get sorted)
whose purity (the fraction of sorted cells that belong to the class) reaches ``min_purity``;
where no threshold reaches it, the gate stays at margin 0 (the arg-max decision) and says so.
Training, the sorter, ``cellsort score``, the API and the firmware's threshold register all
take the gate from the student artifact (:class:`Gate`).
"""
from __future__ import annotations

import math

import numpy as np
from pydantic import Field, field_validator

from cellsort.config import StrictModel


def sort_margin(logits: np.ndarray, sort_class: int = 1) -> np.ndarray:
    """``z[:, sort_class] - max_{j != sort_class} z[:, j]`` of logits (N, C), C >= 2."""
    z = np.asarray(logits, np.float64)
    if z.ndim != 2 or z.shape[1] < 2 or not 0 <= sort_class < z.shape[1]:
        raise ValueError(f"logits of shape {z.shape} have no class {sort_class} to sort against the rest")
    others = np.delete(z, sort_class, axis=1)
    return z[:, sort_class] - others.max(axis=1)


def purity_recovery(margins: np.ndarray, labels: np.ndarray, sort_class: int = 1) -> dict[str, np.ndarray]:
    """Purity and recovery of "sort if margin > t" for every distinct threshold ``t``."""
    margins, labels = np.asarray(margins, np.float64), np.asarray(labels)
    order = np.argsort(-margins, kind="stable")
    m, y = margins[order], labels[order] == sort_class
    last = np.r_[np.flatnonzero(np.diff(m) != 0), len(m) - 1]  # last index of each distinct value
    sorted_pos, sorted_all = np.cumsum(y)[last], last + 1
    thresholds = np.r_[m[last][1:], -np.inf]  # sorting "margin > t" keeps exactly those above
    return {"threshold": thresholds, "purity": sorted_pos / sorted_all,
            "recovery": sorted_pos / max(1, y.sum())}


def choose_threshold(margins: np.ndarray, labels: np.ndarray, min_purity: float = 0.95,
                     sort_class: int = 1) -> dict:
    """The threshold with the highest recovery whose purity is at least ``min_purity``
    (ValueError where none reaches it)."""
    curve = purity_recovery(margins, labels, sort_class)
    ok = np.flatnonzero(curve["purity"] >= min_purity)
    if len(ok) == 0:
        raise ValueError(f"no threshold reaches purity {min_purity} on this set")
    best = ok[np.argmax(curve["recovery"][ok])]
    return {"threshold": float(curve["threshold"][best]), "purity": float(curve["purity"][best]),
            "recovery": float(curve["recovery"][best]), "min_purity": min_purity}


class Gate(StrictModel):
    """The sort gate of a student, as stored in its artifact.

    ``met`` says whether ``purity`` reached ``min_purity`` on the set it was chosen on
    (``chosen_on``, ``n`` crops); where not, ``threshold`` is 0 (the arg-max decision).
    """

    threshold: float = 0.0
    sort_class: int = Field(1, ge=0)
    min_purity: float = Field(0.95, gt=0, le=1)
    purity: float | None = Field(None, ge=0, le=1)
    recovery: float | None = Field(None, ge=0, le=1)
    met: bool = False
    chosen_on: str = "none"
    n: int = Field(0, ge=0)

    @field_validator("threshold")
    @classmethod
    def _finite(cls, v):
        if not math.isfinite(v):
            raise ValueError(f"threshold must be a finite number, got {v!r}")
        return v


def choose_gate(margins: np.ndarray, labels: np.ndarray, min_purity: float = 0.95,
                sort_class: int = 1, chosen_on: str = "validation") -> Gate:
    """The :class:`Gate` of ``margins`` on a labelled set (see the module doc)."""
    margins, labels = np.asarray(margins, np.float64), np.asarray(labels)
    try:
        best = choose_threshold(margins, labels, min_purity, sort_class)
        if not math.isfinite(best["threshold"]):  # "sort every cell": keep it finite
            best["threshold"] = float(margins.min()) - 1.0
        return Gate(threshold=best["threshold"], sort_class=sort_class, min_purity=min_purity,
                    purity=best["purity"], recovery=best["recovery"], met=True,
                    chosen_on=chosen_on, n=len(margins))
    except ValueError:
        chosen = margins > 0
        positive = labels == sort_class
        purity = float(positive[chosen].mean()) if chosen.any() else None
        recovery = float(chosen[positive].mean()) if positive.any() else None
        return Gate(threshold=0.0, sort_class=sort_class, min_purity=min_purity, purity=purity,
                    recovery=recovery, met=False, chosen_on=chosen_on, n=len(margins))
