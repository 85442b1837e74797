"""Distillation losses and teacher-target merging against values computed by hand."""
import math

import numpy as np
import pytest

from cellsort.data import DataError
from cellsort.distill.targets import merge_matrix, merged_probs, student_rows
from cellsort.keras_compat import tf_keras

tf_keras()
import tensorflow as tf  # noqa: E402

from cellsort.distill.losses import cross_entropy, kd_kl, margin_mse, teacher_margin  # noqa: E402


def test_cross_entropy_known_value():
    logits = tf.constant([[0.0, math.log(3.0)]])  # softmax = [0.25, 0.75]
    assert float(cross_entropy(tf.constant([[0.0, 1.0]]), logits)) == pytest.approx(-math.log(0.75))
    assert float(cross_entropy(tf.constant([[0.5, 0.5]]), logits)) == pytest.approx(
        -0.5 * math.log(0.25) - 0.5 * math.log(0.75))


def test_kd_kl_known_value_and_zero_at_match():
    t = 2.0
    logits = tf.constant([[0.0, 2.0]])  # at T=2: softmax([0, 1])
    q = np.exp([0, 1]) / np.exp([0, 1]).sum()
    p = np.array([0.5, 0.5])
    expected = t ** 2 * float(np.sum(p * np.log(p / q)))
    assert float(kd_kl(tf.constant([p], tf.float32), logits, t)) == pytest.approx(expected, rel=1e-5)
    assert float(kd_kl(tf.constant([q], tf.float32), logits, t)) == pytest.approx(0.0, abs=1e-6)


def test_margin_loss_known_value():
    probs = tf.constant([[0.2, 0.8]])  # teacher log-odds ln 4
    assert float(teacher_margin(probs)[0]) == pytest.approx(math.log(4.0))
    logits = tf.constant([[1.0, 1.0 + math.log(4.0)]])
    assert float(margin_mse(probs, logits)) == pytest.approx(0.0, abs=1e-6)
    assert float(margin_mse(probs, tf.constant([[0.0, 0.0]]))) == pytest.approx(math.log(4.0) ** 2)
    assert float(teacher_margin(tf.constant([[1.0, 0.0]]))[0]) == pytest.approx(-8.0)  # clipped


def test_three_class_teacher_into_two_class_student():
    logits = np.log(np.array([[0.2, 0.5, 0.3]]))  # B, T4, T8
    b_vs_t = merged_probs(logits, ["B", "T4", "T8"], {"B": ["B"], "T": ["T4", "T8"]})
    assert b_vs_t == pytest.approx(np.array([[0.2, 0.8]]))
    b_vs_t4 = merged_probs(logits, ["B", "T4", "T8"], {"B": ["B"], "T4": ["T4"]})
    assert b_vs_t4 == pytest.approx(np.array([[0.2 / 0.7, 0.5 / 0.7]]))
    hot = merged_probs(logits, ["B", "T4", "T8"], {"B": ["B"], "T": ["T4", "T8"]}, temperature=4)
    assert hot[0, 0] > 0.2  # a higher temperature flattens the teacher
    with pytest.raises(DataError, match="NK"):
        merge_matrix(["B", "T4"], {"NK": ["NK"]})


def test_student_rows_select_and_relabel():
    keep, labels = student_rows(np.array([0, 1, 2, 2, 0]), ["B", "T4", "T8"],
                                {"B": ["B"], "T4": ["T4"]})
    assert keep.tolist() == [0, 1, 4] and labels.tolist() == [0, 1, 0]
