"""The sort gate: a threshold on the logit margin, chosen on a labelled set.

Sorting the positive class (index 1) trades purity (the fraction of sorted cells that are
positive) against recovery (the fraction of positive cells that get sorted).
"""
from __future__ import annotations

import numpy as np


def purity_recovery(margins: np.ndarray, labels: np.ndarray) -> dict[str, np.ndarray]:
    """Purity and recovery of "sort if margin > t" for every distinct threshold ``t``."""
    margins, labels = np.asarray(margins, np.float64), np.asarray(labels)
    order = np.argsort(-margins, kind="stable")
    m, y = margins[order], labels[order] == 1
    last = np.r_[np.flatnonzero(np.diff(m) != 0), len(m) - 1]  # last index of each distinct value
    sorted_pos, sorted_all = np.cumsum(y)[last], last + 1
    thresholds = np.r_[m[last][1:], -np.inf]  # sorting "margin > t" keeps exactly those above
    return {"threshold": thresholds, "purity": sorted_pos / sorted_all,
            "recovery": sorted_pos / max(1, y.sum())}


def choose_threshold(margins: np.ndarray, labels: np.ndarray, min_purity: float = 0.95) -> dict:
    """The threshold with the highest recovery whose purity is at least ``min_purity``."""
    curve = purity_recovery(margins, labels)
    ok = np.flatnonzero(curve["purity"] >= min_purity)
    if len(ok) == 0:
        raise ValueError(f"no threshold reaches purity {min_purity} on this set")
    best = ok[np.argmax(curve["recovery"][ok])]
    return {"threshold": float(curve["threshold"][best]), "purity": float(curve["purity"][best]),
            "recovery": float(curve["recovery"][best]), "min_purity": min_purity}
