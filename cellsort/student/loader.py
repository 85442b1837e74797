"""The one safe loader of model files: every command that opens a model goes through it.

Keras files: the architecture is read first as data (:func:`cellsort.architecture.read_architecture`:
Lambda layers, custom objects and unknown layers are refused, naming the layer) and only then
is a model object built, by the Keras that wrote the file: tf-keras for Keras 2 files (with
QKeras' layers), Keras 3 (``keras``) for Keras 3 files. PyTorch files load with
``torch.load(..., weights_only=True)``; a state_dict may sit inside the usual checkpoint
dicts (``state_dict``, ``model_state_dict``, ``model``, ``net``).
"""
from __future__ import annotations

from pathlib import Path

from cellsort.architecture import Architecture, read_architecture
from cellsort.errors import DataError

#: Keys under which training scripts usually keep the state_dict of a checkpoint.
CHECKPOINT_KEYS = ("state_dict", "model_state_dict", "model", "net", "student")


def _keras_major(arch: Architecture) -> int:
    try:
        return int(str(arch.keras_version or "2").split(".")[0])
    except ValueError:
        return 2


def load_keras_model(path: str | Path, *, qkeras: bool = True):
    """Check the architecture of ``path`` as data, then load it with the Keras that wrote it.

    Returns
    -------
    (model, Architecture)
        A tf-keras model (Keras 2 files; QKeras layers allowed when ``qkeras``) or a Keras 3
        model (Keras 3 files), and the checked architecture.

    Raises
    ------
    ArchitectureError / DataError
        Unsafe, unknown or unreadable content, named with the file.
    """
    path = Path(path)
    arch = read_architecture(path)
    from cellsort.keras_compat import keras3, tf_keras

    if _keras_major(arch) >= 3 and path.suffix.lower() != ".json":
        try:
            return keras3().models.load_model(str(path), compile=False, safe_mode=True), arch
        except Exception as exc:  # noqa: BLE001 - Keras 3 raises many types for bad files
            raise DataError(f"{path}: its architecture reads, but its weights do not load as a "
                            f"Keras 3 model ({type(exc).__name__})") from exc

    keras2 = tf_keras()
    try:
        if qkeras:
            from qkeras.utils import load_qmodel

            return load_qmodel(str(path), compile=False), arch
        return keras2.models.load_model(str(path), compile=False), arch
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise DataError(f"{path}: its architecture reads, but its weights do not load as a "
                        f"Keras model ({type(exc).__name__})") from exc


def load_torch_state(path: str | Path) -> dict:
    """The state_dict of a PyTorch file (weights only; checkpoint dicts unwrapped).

    Returns
    -------
    dict of name -> numpy array
    """
    import torch

    from cellsort.files import read_torch

    path = Path(path)
    obj = read_torch(path)
    for _ in range(3):
        if isinstance(obj, dict) and not any(isinstance(v, torch.Tensor) for v in obj.values()):
            inner = next((obj[k] for k in CHECKPOINT_KEYS if isinstance(obj.get(k), dict)), None)
            if inner is None:
                break
            obj = inner
    if not isinstance(obj, dict) or not any(isinstance(v, torch.Tensor) for v in obj.values()):
        keys = sorted(obj)[:8] if isinstance(obj, dict) else type(obj).__name__
        raise DataError(f"{path}: no state_dict of tensors found (top-level keys: {keys}; "
                        f"looked inside {', '.join(CHECKPOINT_KEYS)})")
    return {k: v.detach().cpu().numpy() for k, v in obj.items() if isinstance(v, torch.Tensor)}
