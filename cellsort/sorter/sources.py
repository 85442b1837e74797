"""Frame sources: RT-DC recordings, image sequences and numpy arrays, as uint8 frames."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import numpy as np

from cellsort.data.dataset import DataError
from cellsort.data.folders import IMAGE_SUFFIXES, read_gray
from cellsort.data.intensity import to_uint8
from cellsort.data.rtdc import read_rtdc_events


def frames_from_rtdc(path: str | Path) -> Iterator[np.ndarray]:
    """The event images of an ``.rtdc`` file, in order."""
    yield from read_rtdc_events(path)["image"]


def frames_from_images(folder: str | Path) -> Iterator[np.ndarray]:
    """The images of a folder in name order (8-bit; 16-bit mapped by each frame's range)."""
    files = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise DataError(f"{folder}: no image files ({', '.join(IMAGE_SUFFIXES)})")
    for path in files:
        yield to_uint8(read_gray(path)[None])[0][0]


def frames_from_array(frames: np.ndarray) -> Iterator[np.ndarray]:
    """The frames of an array (N, H, W)."""
    yield from np.asarray(frames)


def open_source(source: str | Path) -> Iterator[np.ndarray]:
    """Frames of an ``.rtdc`` file, an ``.npy`` array or a folder of images."""
    path = Path(source)
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    if path.is_dir():
        return frames_from_images(path)
    if path.suffix == ".rtdc":
        return frames_from_rtdc(path)
    if path.suffix == ".npy":
        return frames_from_array(np.load(path, allow_pickle=False))
    raise DataError(f"{path}: unknown frame source (expected .rtdc, .npy or an image folder)")
