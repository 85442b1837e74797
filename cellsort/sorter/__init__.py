"""Lab integration: classification of crops and sort decisions on streams of frames or events.

Owns: the classifier, the sorter (video and event modes), frame sources, event tables.
Detection (:mod:`cellsort.data.detection`), the flow video (:mod:`cellsort.data.flow`) and the
firmware's streaming detection (:mod:`cellsort.firmware.fpga_detect`) are re-exported here.
May import: the shared base, data, architecture, student, distill, firmware.
"""
from cellsort.data.detection import DetectConfig, Detection, detect, estimate_background
from cellsort.data.flow import FlowConfig, TrueCell, synthetic_flow
from cellsort.firmware.fpga_detect import FpgaDetectConfig, FpgaDetector, stream_objects
from cellsort.sorter.classifier import CellClassifier, Classification
from cellsort.sorter.stream import FrameError, Sorter, SorterConfig, SortEvent

__all__ = ["CellClassifier", "Classification", "DetectConfig", "Detection", "detect",
           "estimate_background", "FpgaDetectConfig", "FpgaDetector", "stream_objects", "FrameError",
           "Sorter", "SorterConfig", "SortEvent", "FlowConfig", "TrueCell", "synthetic_flow"]
