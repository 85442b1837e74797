"""Distillation losses (TensorFlow), all on the student's logits.

- :func:`cross_entropy`: labels (one-hot or mixed soft labels).
- :func:`kd_kl`: Hinton's KD, ``T^2 · KL(p_teacher^T || p_student^T)``.
- :func:`margin_mse`: logit-margin matching. With two classes the whole decision is the
  log-odds ``z1 - z0``; matching the teacher's log-odds (computed from its merged
  probabilities) transfers its confidence without the softmax saturation of KL. It works
  where logit standardisation and DKD degenerate: two z-scored logits are always ±1, and
  DKD's non-target term is empty with one non-target class.

All losses return a per-batch mean.
"""
from __future__ import annotations

from cellsort.keras_compat import import_tensorflow

tf = import_tensorflow()


def cross_entropy(targets: tf.Tensor, logits: tf.Tensor) -> tf.Tensor:
    """Mean cross-entropy of (possibly soft) ``targets`` against ``logits``."""
    return tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(targets, logits))


def kd_kl(teacher_probs_t: tf.Tensor, logits: tf.Tensor, temperature: float) -> tf.Tensor:
    """``T^2 · KL(teacher || student)`` at temperature ``T``; teacher probs already at ``T``."""
    log_q = tf.nn.log_softmax(logits / temperature, axis=1)
    p = tf.clip_by_value(teacher_probs_t, 1e-12, 1.0)
    kl = tf.reduce_sum(p * (tf.math.log(p) - log_q), axis=1)
    return temperature ** 2 * tf.reduce_mean(kl)


def teacher_margin(teacher_probs: tf.Tensor, clip: float = 8.0) -> tf.Tensor:
    """Teacher log-odds of class 1 over class 0 from (merged) probabilities, clipped."""
    p = tf.clip_by_value(teacher_probs, 1e-6, 1.0)
    return tf.clip_by_value(tf.math.log(p[:, 1]) - tf.math.log(p[:, 0]), -clip, clip)


def margin_mse(teacher_probs: tf.Tensor, logits: tf.Tensor) -> tf.Tensor:
    """Mean squared difference of student and teacher log-odds (two-class students)."""
    return tf.reduce_mean(tf.square((logits[:, 1] - logits[:, 0]) - teacher_margin(teacher_probs)))
