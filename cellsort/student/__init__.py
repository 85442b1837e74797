"""Quantized QKeras students and their registry."""
from cellsort.student import models as _models  # noqa: F401  (registers the builders)
from cellsort.student.models import quantized_cnn
from cellsort.student.registry import build_student, list_students, register_student

__all__ = ["build_student", "list_students", "register_student", "quantized_cnn"]
from cellsort.student.artifact import StudentArtifact, load_qkeras_model, load_student, save_student  # noqa: E402

__all__ += ["StudentArtifact", "load_qkeras_model", "load_student", "save_student"]
from cellsort.student.importer import import_float_model  # noqa: E402
from cellsort.student.loader import load_keras_model, load_torch_state  # noqa: E402
from cellsort.student.quantize import QuantConfig  # noqa: E402

__all__ += ["import_float_model", "load_keras_model", "load_torch_state", "QuantConfig"]
