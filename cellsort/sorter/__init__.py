"""Lab integration: synthetic flow video, detection, classification and sort decisions."""
from cellsort.sorter.classifier import CellClassifier, Classification
from cellsort.sorter.detect import DetectConfig, Detection, detect, estimate_background
from cellsort.sorter.fpga_detect import FpgaDetectConfig, FpgaDetector, stream_objects
from cellsort.sorter.stream import FrameError, Sorter, SorterConfig, SortEvent
from cellsort.sorter.video import FlowConfig, TrueCell, synthetic_flow

__all__ = ["CellClassifier", "Classification", "DetectConfig", "Detection", "detect",
           "estimate_background", "FpgaDetectConfig", "FpgaDetector", "stream_objects", "FrameError", "Sorter", "SorterConfig", "SortEvent",
           "FlowConfig", "TrueCell", "synthetic_flow"]
