"""Frame sources: RT-DC recordings, image sequences and numpy arrays, as uint8 frames."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import numpy as np

from cellsort.data.folders import IMAGE_SUFFIXES, read_gray
from cellsort.data.intensity import to_uint8
from cellsort.data.rtdc import RTDC_SUFFIXES, open_recording
from cellsort.errors import DataError
from cellsort.files import read_npy


def frames_from_rtdc(path: str | Path, batch: int = 256) -> Iterator[np.ndarray]:
    """The event images of an RT-DC recording, in order, read in batches."""
    with open_recording(path) as rec:
        for start in range(0, rec.n_events, batch):
            yield from rec.images(start, min(start + batch, rec.n_events))


def rtdc_background(path: str | Path, samples: int = 100) -> np.ndarray | None:
    """Median of the ``image_bg`` of up to ``samples`` events spread over a recording (None
    when it stores no background)."""
    with open_recording(path) as rec:
        if not rec.has_background:
            return None
        picks = np.unique(np.linspace(0, rec.n_events - 1, min(samples, rec.n_events)).astype(int))
        return np.median(np.stack([rec.background(i) for i in picks]).astype(np.float64), axis=0)


def frames_from_images(folder: str | Path) -> Iterator[np.ndarray | DataError]:
    """The images of a folder in name order, read one at a time (8-bit; 16-bit mapped by each
    frame's range). An unreadable file is yielded as its :class:`DataError`, so the sorter
    records an error event and goes on."""
    files = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise DataError(f"{folder}: no image files ({', '.join(IMAGE_SUFFIXES)})")
    for path in files:
        try:
            yield to_uint8(read_gray(path)[None], source=str(path))[0][0]
        except DataError as exc:
            yield exc


def frames_from_npy(path: str | Path) -> np.ndarray:
    """A ``.npy`` stack of uint8 frames (N, H, W), memory-mapped (frames are read as sorted)."""
    frames = read_npy(path, mmap=True)
    if frames.dtype != np.uint8 or frames.ndim != 3 or 0 in frames.shape:
        raise DataError(f"{path}: expected a non-empty stack of uint8 (Mono8) frames (N, H, W), "
                        f"got {frames.dtype} {frames.shape}")
    return frames


def open_source(source: str | Path) -> Iterator[np.ndarray]:
    """Frames of an RT-DC recording, an ``.npy`` array or a folder of images."""
    path = Path(source)
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    if path.is_dir():
        return frames_from_images(path)
    if path.suffix.lower() in RTDC_SUFFIXES:
        return frames_from_rtdc(path)
    if path.suffix == ".npy":
        return iter(frames_from_npy(path))
    raise DataError(f"{path}: unknown frame source (expected .rtdc, .tdms, .npy or an image folder)")
