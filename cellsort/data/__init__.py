"""Data layer: datasets, formats, the synthetic default and flow video, preprocessing, splits,
and cell detection in frames.

Owns: readers of every data format (IDX, image folders, Jurkat .npz, RT-DC via dclab), the
synthetic generators, the one preprocessing definition, splits, software detection.
May import: the shared base only (errors, config, files, atomic, registry, ...).
"""
from cellsort.data.dataset import Dataset, concat, parse_task
from cellsort.data.folders import read_image_folder
from cellsort.data.idx import (
                               LYMPHO_CLASSES,
                               read_idx,
                               read_lymphomnist,
                               write_idx,
                               write_lymphomnist,
)
from cellsort.data.jurkat import JURKAT_TASKS, read_jurkat
from cellsort.data.load import open_dataset, read_pool
from cellsort.data.montage import save_montage
from cellsort.data.preprocess import PAPER_MEAN, PAPER_STD, Preprocessing
from cellsort.data.rtdc import Recording, open_recording, read_rtdc
from cellsort.data.splits import SplitData, SplitSpec, make_splits
from cellsort.data.synth import CellProfile, SynthConfig, synthesize, write_synthetic
from cellsort.errors import DataError

__all__ = [
    "DataError", "Dataset", "concat", "parse_task", "read_image_folder", "LYMPHO_CLASSES",
    "read_idx", "read_lymphomnist", "write_idx", "write_lymphomnist", "JURKAT_TASKS",
    "read_jurkat", "open_dataset", "read_pool", "save_montage", "PAPER_MEAN", "PAPER_STD",
    "Preprocessing", "read_rtdc", "Recording", "open_recording", "SplitData", "SplitSpec", "make_splits",
    "CellProfile", "SynthConfig", "synthesize", "write_synthetic",
]
