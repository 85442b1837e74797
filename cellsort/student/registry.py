"""Registry of student architectures: ``build_student(name, n_classes, **options)``.

The builders register themselves in :mod:`cellsort.student.models`, which the package imports
first, so every name is known wherever this module is used.
"""
from __future__ import annotations

import inspect
from typing import Callable

from cellsort.registry import Registry

#: Builders ``f(n_classes, **options) -> keras.Model`` by name.
STUDENTS: Registry[Callable] = Registry("student")


def register_student(name: str) -> Callable[[Callable], Callable]:
    """Decorator: register a builder ``f(n_classes, **options) -> keras.Model`` under ``name``."""
    return STUDENTS.register(name)


def list_students() -> list[str]:
    """Names of the registered students."""
    return STUDENTS.names()


#: Builder parameters that are set by the caller, not student options.
_NOT_OPTIONS = {"n_classes", "input_size", "name"}


def check_student_options(name: str, options: dict) -> None:
    """Refuse an unknown student, an option its builder does not take, or an option whose
    value has another type than the builder's default (ValueError naming it)."""
    params = inspect.signature(STUDENTS.get(name, ValueError)).parameters
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
    return STUDENTS.get(name)(n_classes=n_classes, **options)
