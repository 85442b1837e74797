"""PyTorch teachers: ResNet-style networks, augmentation, training with exact resume.

Owns: teacher networks, their training and soft-target cache.
May import: the shared base and data.
"""
from cellsort.teacher.augment import AugmentConfig, augment
from cellsort.teacher.nets import build_teacher, list_teachers, register_teacher
from cellsort.teacher.train import (
                                    TeacherConfig,
                                    cache_soft_targets,
                                    load_teacher,
                                    predict_logits,
                                    train_teacher,
)

__all__ = ["AugmentConfig", "augment", "build_teacher", "list_teachers", "register_teacher",
           "TeacherConfig", "cache_soft_targets", "load_teacher", "predict_logits", "train_teacher"]
