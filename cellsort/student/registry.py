"""Registry of student architectures: ``build_student(name, n_classes, **options)``."""
from __future__ import annotations

import inspect
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


#: Builder parameters that are set by the caller, not student options.
_NOT_OPTIONS = {"n_classes", "input_size", "name"}


def _builder(name: str, error: type[Exception] = KeyError) -> Callable:
    """The registered builder of ``name``, or ``error`` naming the available students."""
    if name not in _REGISTRY:
        raise error(f"unknown student {name!r}; available: {', '.join(list_students())}")
    return _REGISTRY[name]


def check_student_options(name: str, options: dict) -> None:
    """Refuse an unknown student, an option its builder does not take, or an option whose
    value has another type than the builder's default (ValueError naming it)."""
    from cellsort.student import models  # noqa: F401  (registers the builders)

    params = inspect.signature(_builder(name, ValueError)).parameters
    for key, value in options.items():
        if key in _NOT_OPTIONS or key not in params:
            allowed = sorted(set(params) - _NOT_OPTIONS)
            raise ValueError(f"student {name!r} has no option {key!r} (options: {', '.join(allowed)})")
        default = params[key].default
        if not _same_kind(value, default):
            raise ValueError(f"student option {key!r} must be like {default!r}, got {value!r}")


def _same_kind(value, default) -> bool:
    """Whether ``value`` has the type of ``default`` (ints for floats too; a list for a tuple)."""
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(default, bool)
    if isinstance(default, (tuple, list)):
        return (isinstance(value, (tuple, list)) and len(value) > 0
                and all(_same_kind(v, default[0]) for v in value))
    if isinstance(default, float):
        return isinstance(value, (int, float))
    return isinstance(value, type(default))


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
    return _builder(name)(n_classes=n_classes, **options)
