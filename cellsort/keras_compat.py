"""The one place that reconciles QKeras (tf-keras, Keras 2) with hls4ml 1.3 under TF 2.21.

TensorFlow 2.21 installs Keras 3 as ``keras``; QKeras models are tf-keras (Keras 2) models.
hls4ml picks its parser from ``keras.__version__`` at conversion time, so a QKeras model would
go to the Keras 3 parser and fail. Two measures fix this:

1. ``TF_USE_LEGACY_KERAS=1`` before TensorFlow is imported, so ``tf.keras`` is tf-keras
   (:func:`use_legacy_keras`, called when :mod:`cellsort` is imported).
2. While hls4ml converts a model, ``sys.modules["keras"]`` is tf-keras
   (:func:`keras2_for_hls4ml`), and restored afterwards.

It is also the one place that imports TensorFlow (:func:`import_tensorflow`), quietly unless
:func:`set_verbose` asked otherwise: TensorFlow's native code writes oneDNN, CUDA-stub and
``cuInit`` lines to the process's standard error before its own log settings apply, so the
import and the device probe run with file descriptor 2 pointed at ``/dev/null``, and the
Python loggers and warnings of TensorFlow, tf-keras, QKeras and hls4ml are set to errors only.
"""
from __future__ import annotations

import contextlib
import logging
import os
import sys
import warnings
from typing import Iterator

_STATE = {"verbose": False}

#: Libraries whose Python warnings are hidden unless verbose.
NOISY_MODULES = r"(tensorflow|tf_keras|keras|qkeras|hls4ml|absl)(\.|$)"


def set_verbose(verbose: bool) -> None:
    """Show (True) or hide (False, the default) the TensorFlow/absl/oneDNN/CUDA log lines."""
    _STATE["verbose"] = verbose
    if verbose:
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "0"


@contextlib.contextmanager
def native_stderr_hidden() -> Iterator[None]:
    """Point file descriptor 2 at ``/dev/null`` for the block (nothing happens when verbose)."""
    if _STATE["verbose"]:
        yield
        return
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _hide_python_noise() -> None:
    """Errors only from the libraries' loggers; their warnings hidden."""
    if _STATE["verbose"]:
        return
    for name in ("tensorflow", "absl", "hls4ml", "h5py"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module=NOISY_MODULES)


def use_legacy_keras() -> None:
    """Make ``tf.keras`` resolve to tf-keras; warn if TensorFlow was imported too early."""
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if os.environ["TF_USE_LEGACY_KERAS"] != "1":
        raise RuntimeError("TF_USE_LEGACY_KERAS is set to something other than 1; QKeras needs "
                           "tf-keras: unset it or set it to 1")


def import_tensorflow():
    """Return the ``tensorflow`` module, importing it (and probing devices) quietly once."""
    use_legacy_keras()
    if "tf_keras" not in sys.modules:
        with native_stderr_hidden():
            import tensorflow as tf
            import tf_keras  # noqa: F401  (its import prints the same native lines again)

            tf.config.list_physical_devices()  # the cuInit probe, while still hidden
        _hide_python_noise()
    return sys.modules["tensorflow"]


def tf_keras():
    """Return the tf-keras module (Keras 2), importing TensorFlow quietly."""
    import_tensorflow()
    return sys.modules["tf_keras"]


def keras3():
    """Return Keras 3 (``keras``, for files Keras 3 wrote) without disturbing tf-keras: the
    legacy switch is set first, so QKeras keeps working in the same process."""
    import_tensorflow()
    import keras

    return keras


def import_hls4ml():
    """Return the ``hls4ml`` module, imported after TensorFlow (quietly)."""
    import_tensorflow()
    if "hls4ml" not in sys.modules:
        with native_stderr_hidden():
            import hls4ml  # noqa: F401
        _hide_python_noise()
    return sys.modules["hls4ml"]


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
