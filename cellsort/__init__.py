"""cellsort: real-time, label-free cell classification on FPGAs.

Data → teacher (PyTorch) → distilled quantized student (QKeras) → hls4ml firmware → sorter.
Heavy parts (TensorFlow, PyTorch, hls4ml) load on first use; importing cellsort changes no
process-wide setting (the Keras shim is applied where a model is loaded).
"""
from cellsort.config import load_config
from cellsort.data import (
    Dataset,
    Preprocessing,
    Recording,
    SplitData,
    SplitSpec,
    SynthConfig,
    open_dataset,
    open_recording,
    read_image_folder,
    read_jurkat,
    read_lymphomnist,
    read_rtdc,
    synthesize,
    write_synthetic,
)
from cellsort.errors import ConfigError, DataError, UserError

__version__ = "0.1.0"

_LAZY = {
    "build_student": "cellsort.student", "list_students": "cellsort.student",
    "load_student": "cellsort.student", "import_float_model": "cellsort.student",
    "QuantConfig": "cellsort.student",
    "build_teacher": "cellsort.teacher", "TeacherConfig": "cellsort.teacher",
    "train_teacher": "cellsort.teacher", "DistillConfig": "cellsort.distill",
    "distill": "cellsort.distill", "Emulator": "cellsort.firmware.emulator",
    "convert": "cellsort.firmware.project", "open_student": "cellsort.firmware.project",
    "import_student": "cellsort.distill.imported", "ImportConfig": "cellsort.distill.imported",
    "Gate": "cellsort.gate", "choose_gate": "cellsort.gate", "sort_margin": "cellsort.gate", "estimate_latency": "cellsort.firmware.latency",
    "LatencyOptions": "cellsort.firmware.latency", "read_csynth": "cellsort.firmware.latency",
    "read_architecture": "cellsort.architecture", "Architecture": "cellsort.architecture",
    "load_board": "cellsort.firmware.boards", "CellClassifier": "cellsort.sorter",
    "Sorter": "cellsort.sorter", "SorterConfig": "cellsort.sorter",
    "synthetic_flow": "cellsort.sorter", "score_recording": "cellsort.score",
    "write_synthetic_recording": "cellsort.data.rtdc_synth",
    "FpgaDetector": "cellsort.sorter", "FpgaDetectConfig": "cellsort.sorter",
    "StudentDesign": "cellsort.student.design", "FAMILY": "cellsort.student.design",
    "FrontEnd": "cellsort.firmware.latency", "detection_to_trigger": "cellsort.firmware.latency.top",
    "build_report": "cellsort.report", "explore": "cellsort.explore",
    "ExploreConfig": "cellsort.explore", "SearchSpace": "cellsort.explore",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'cellsort' has no attribute {name!r}")


__all__ = [
    "ConfigError", "UserError", "load_config", "Dataset", "DataError", "Preprocessing", "SplitData",
    "SplitSpec", "SynthConfig", "open_dataset", "read_image_folder", "read_jurkat",
    "read_lymphomnist", "read_rtdc", "Recording", "open_recording", "synthesize",
    "write_synthetic", *_LAZY,
]
