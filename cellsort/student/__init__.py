"""Quantized QKeras students: their registry, designs, artifacts and the float-model importer.

Owns: student builders, the artifact format and its one loader, the safe model loader,
quantization of float networks.
May import: the shared base, data and architecture.
"""
from cellsort.student import models as _models  # noqa: F401  (registers the builders first)
from cellsort.student.artifact import StudentArtifact, load_qkeras_model, load_student, save_student
from cellsort.student.importer import import_float_model
from cellsort.student.loader import load_keras_model, load_torch_state
from cellsort.student.models import quantized_cnn
from cellsort.student.quantize import QuantConfig
from cellsort.student.registry import build_student, list_students, register_student

__all__ = ["build_student", "list_students", "register_student", "quantized_cnn", "StudentArtifact",
           "load_qkeras_model", "load_student", "save_student", "import_float_model",
           "load_keras_model", "load_torch_state", "QuantConfig"]
