"""Registry of student architectures: ``build_student(name, n_classes, **options)``."""
from __future__ import annotations

from typing import Callable

_REGISTRY: dict[str, Callable] = {}


def register_student(name: str) -> Callable[[Callable], Callable]:
    """Decorator: register a builder ``f(n_classes, **options) -> keras.Model`` under ``name``."""
    def deco(fn: Callable) -> Callable:
        if name in _REGISTRY:
            raise ValueError(f"student {name!r} is already registered")
        _REGISTRY[name] = fn
        return fn
    return deco


def list_students() -> list[str]:
    """Names of the registered students."""
    return sorted(_REGISTRY)


def build_student(name: str, n_classes: int = 2, **options):
    """Build a registered QKeras student.

    Parameters
    ----------
    name : str
        See :func:`list_students` (``paper`` is the published 5,682-parameter student).
    n_classes : int
    **options
        Builder options (``input_size``, ``filters``, ``weight_bits``, ...).

    Returns
    -------
    tf_keras.Model
        Uncompiled QKeras model whose output is the logits.
    """
    if name not in _REGISTRY:
        raise KeyError(f"unknown student {name!r}; available: {', '.join(list_students())}")
    return _REGISTRY[name](n_classes=n_classes, **options)
