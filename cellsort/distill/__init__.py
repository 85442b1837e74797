"""Knowledge distillation into quantized QKeras students."""
from cellsort.distill.targets import merge_matrix, merged_probs, student_rows
from cellsort.distill.train import DistillConfig, distill, evaluate_student, load_soft_targets

__all__ = ["DistillConfig", "distill", "evaluate_student", "load_soft_targets", "merge_matrix",
           "merged_probs", "student_rows"]
