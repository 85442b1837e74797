"""Classification metrics shared by the teacher, the student and the reports."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from cellsort.atomic import write_npz
from cellsort.errors import DataError


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Row-wise softmax of ``logits / temperature`` (float64)."""
    z = np.asarray(logits, np.float64) / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def classification_metrics(labels: np.ndarray, logits: np.ndarray) -> dict[str, float]:
    """Accuracy, balanced accuracy and ROC AUC (class 1 vs 0, or macro one-vs-rest)."""
    labels = np.asarray(labels)
    probs = softmax(logits)
    pred = probs.argmax(axis=1)
    recalls = [np.mean(pred[labels == c] == c) for c in np.unique(labels)]
    out = {"accuracy": float(np.mean(pred == labels)), "balanced_accuracy": float(np.mean(recalls)),
           "n": int(len(labels))}
    if len(np.unique(labels)) == probs.shape[1] and probs.shape[1] >= 2:
        out["auc"] = float(roc_auc_score(labels, probs[:, 1]) if probs.shape[1] == 2
                           else roc_auc_score(labels, probs, multi_class="ovr"))
    return out


def write_predictions(path: str | Path, labels: np.ndarray, logits: np.ndarray,
                      class_names) -> Path:
    """Store a split's labels and logits (``.npz``, no pickle) for confusion matrices and ROC."""
    return write_npz(path, labels=np.asarray(labels, np.int64),
                     logits=np.asarray(logits, np.float32), class_names=np.asarray(list(class_names)))


def read_predictions(path: str | Path) -> dict[str, np.ndarray]:
    """Read :func:`write_predictions`' file: ``labels``, ``logits``, ``class_names``."""
    from cellsort.files import read_npz

    arrays = read_npz(path, "predictions file")
    missing = [k for k in ("labels", "logits", "class_names") if k not in arrays]
    if missing:
        raise DataError(f"{path}: predictions file lacks {missing}")
    return {k: arrays[k] for k in ("labels", "logits", "class_names")}
