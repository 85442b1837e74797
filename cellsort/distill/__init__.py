"""Knowledge distillation into quantized QKeras students, and the import of float models.

Owns: distillation losses and targets, quantization-aware training, the import workflow.
May import: the shared base, data, architecture, teacher and student.
"""
from cellsort.distill.targets import merge_matrix, merged_probs, student_rows
from cellsort.distill.train import (
           DistillConfig,
           distill,
           evaluate_student,
           load_soft_targets,
)

__all__ = ["DistillConfig", "distill", "evaluate_student", "load_soft_targets", "merge_matrix",
           "merged_probs", "student_rows"]
