"""Classification metrics shared by the teacher, the student and the reports."""
from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score


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
