"""Import a float student (Keras file or PyTorch state_dict) into a QKeras student.

The weights of the two convolutions and the dense layer are copied, in order, into the
registered QKeras student of the same shape; the quantizers then apply post-training
(optionally followed by quantization-aware fine-tuning, see ``cellsort student import``).
A trailing softmax of the float model is dropped: the QKeras student outputs logits.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from cellsort.data.dataset import DataError
from cellsort.keras_compat import tf_keras
from cellsort.student.registry import build_student


def weights_from_keras(path: str | Path) -> list[np.ndarray]:
    """Kernels and biases of the Conv2D/Dense layers of a Keras model, in layer order."""
    keras = tf_keras()
    try:
        model = keras.models.load_model(str(path), compile=False)
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: cannot load as a Keras model ({exc})") from exc
    return [w for layer in model.layers if layer.get_weights() for w in layer.get_weights()]


def weights_from_torch(path: str | Path, input_size: tuple[int, int], filters: int) -> list[np.ndarray]:
    """Conv and linear weights of a PyTorch state_dict, converted to Keras layout.

    Convolutions go from (out, in, kh, kw) to (kh, kw, in, out); the dense layer's inputs
    are reordered from PyTorch's channel-first flatten to Keras' channel-last flatten.
    """
    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for corrupt or unsafe files
        raise DataError(f"{path}: not a loadable PyTorch state_dict ({exc})") from exc
    if not isinstance(state, dict):
        raise DataError(f"{path}: expected a state_dict (a mapping of tensors)")
    tensors = [(k, v.numpy()) for k, v in state.items() if k.endswith(("weight", "bias"))]
    out = []
    for key, w in tensors:
        if w.ndim == 4:
            w = w.transpose(2, 3, 1, 0)
        elif w.ndim == 2:
            n_out, n_in = w.shape
            side = int(round(np.sqrt(n_in / filters)))
            if side * side * filters != n_in:
                raise DataError(f"{path}: {key} has {n_in} inputs, not a square map of "
                                f"{filters} channels")
            w = w.reshape(n_out, filters, side, side).transpose(2, 3, 1, 0).reshape(n_in, n_out)
        out.append(w)
    return out


def import_float_student(path: str | Path, name: str = "paper", n_classes: int = 2,
                         input_size: tuple[int, int] = (48, 48), **options):
    """Build the QKeras student ``name`` carrying the weights of the float model at ``path``."""
    path = Path(path)
    model = build_student(name, n_classes, input_size=input_size, **options)
    if path.suffix in (".h5", ".keras"):
        weights = weights_from_keras(path)
    elif path.suffix in (".pt", ".pth"):
        last_filters = model.get_layer("flatten").input_shape[-1]
        weights = weights_from_torch(path, input_size, last_filters)
    else:
        raise DataError(f"{path}: unknown float model format (expected .h5, .keras, .pt, .pth)")
    expected = [w.shape for w in model.get_weights()]
    found = [w.shape for w in weights]
    if expected != found:
        raise DataError(f"{path}: weight shapes {found} do not match the {name!r} student "
                        f"{expected}")
    model.set_weights(weights)
    return model
