"""The one place that reconciles QKeras (tf-keras, Keras 2) with hls4ml 1.3 under TF 2.21.

TensorFlow 2.21 installs Keras 3 as ``keras``; QKeras models are tf-keras (Keras 2) models.
hls4ml picks its parser from ``keras.__version__`` at conversion time, so a QKeras model would
go to the Keras 3 parser and fail. Two measures fix this:

1. ``TF_USE_LEGACY_KERAS=1`` before TensorFlow is imported, so ``tf.keras`` is tf-keras
   (:func:`use_legacy_keras`, called when :mod:`cellsort` is imported).
2. While hls4ml converts a model, ``sys.modules["keras"]`` is tf-keras
   (:func:`keras2_for_hls4ml`), and restored afterwards.
"""
from __future__ import annotations

import contextlib
import os
import sys
from typing import Iterator


def use_legacy_keras() -> None:
    """Make ``tf.keras`` resolve to tf-keras; warn if TensorFlow was imported too early."""
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if os.environ["TF_USE_LEGACY_KERAS"] != "1":
        raise RuntimeError("TF_USE_LEGACY_KERAS is set to something other than 1; QKeras needs "
                           "tf-keras: unset it or set it to 1")


def tf_keras():
    """Return the tf-keras module (Keras 2), importing TensorFlow quietly."""
    use_legacy_keras()
    import tf_keras as module

    return module


@contextlib.contextmanager
def keras2_for_hls4ml() -> Iterator[None]:
    """Let hls4ml see tf-keras as ``keras`` for the duration of the block."""
    module = tf_keras()
    saved = sys.modules.get("keras")
    sys.modules["keras"] = module
    try:
        yield
    finally:
        if saved is None:
            sys.modules.pop("keras", None)
        else:
            sys.modules["keras"] = saved
