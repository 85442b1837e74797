"""Soft targets from a teacher trained on other classes than the student.

A 3-class (B/T4/T8) teacher can teach a 2-class student: its probabilities are summed over
each student class's members and renormalised over the classes the student knows. For
"B vs T" (T = T4 + T8) this sums T4 and T8; for "B vs T4" it drops T8 and renormalises.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from cellsort.errors import DataError
from cellsort.metrics import softmax


def merge_matrix(teacher_classes: Sequence[str], groups: Mapping[str, Sequence[str]]) -> np.ndarray:
    """0/1 matrix (teacher classes x student classes) of which teacher class feeds which."""
    missing = {m for ms in groups.values() for m in ms} - set(teacher_classes)
    if missing:
        raise DataError(f"teacher knows classes {list(teacher_classes)}, not {sorted(missing)}")
    mat = np.zeros((len(teacher_classes), len(groups)))
    for j, members in enumerate(groups.values()):
        for m in members:
            mat[list(teacher_classes).index(m), j] = 1.0
    return mat


def merged_probs(teacher_logits: np.ndarray, teacher_classes: Sequence[str],
                 groups: Mapping[str, Sequence[str]], temperature: float = 1.0) -> np.ndarray:
    """Teacher probabilities at ``temperature`` merged into the student's classes."""
    p = softmax(teacher_logits, temperature) @ merge_matrix(teacher_classes, groups)
    return p / p.sum(axis=1, keepdims=True)


def student_rows(labels: np.ndarray, teacher_classes: Sequence[str],
                 groups: Mapping[str, Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
    """Rows whose teacher-class label belongs to a student class, and their student labels."""
    mat = merge_matrix(teacher_classes, groups)
    member = mat[labels]
    keep = np.flatnonzero(member.sum(axis=1) > 0)
    return keep, member[keep].argmax(axis=1)
