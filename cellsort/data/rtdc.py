"""RT-DC recordings, read through dclab: every ``.rtdc`` HDF5 variant and ``.tdms`` with images.

dclab is the field's own reader: it opens compressed (Zstandard, via hdf5plugin), exported,
basin-linked and legacy tdms recordings alike and reads images lazily, so a recording of any
length is processed in batches. An RT-DC event is one detected cell: its image, optional
mask, position ``pos_x``/``pos_y`` in µm (divided by ``imaging:pixel size`` to get pixels)
and, in newer files, the background ``image_bg`` the instrument subtracted.
"""
from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from cellsort.data.dataset import Dataset
from cellsort.data.intensity import crop_or_pad
from cellsort.errors import DataError

#: File endings dclab reads that can hold event images.
RTDC_SUFFIXES = (".rtdc", ".tdms")


@dataclass
class Recording:
    """An open RT-DC recording (use :func:`open_recording` as a context manager).

    Attributes
    ----------
    path : Path
    n_events : int
    frame_shape : (int, int)
        Height and width of the event images.
    pixel_size : float or None
        µm per pixel.
    centres : ndarray (N, 2) or None
        Cell centre (row, column) in pixels from ``pos_y``/``pos_x``; None without positions
        (then :meth:`centre` finds the cell another way, see :attr:`centre_method`).
    has_background : bool
        Whether the recording stores ``image_bg``.
    """

    path: Path
    dataset: object
    n_events: int
    frame_shape: tuple[int, int]
    pixel_size: float | None
    centres: np.ndarray | None
    has_background: bool

    @property
    def has_mask(self) -> bool:
        return "mask" in self.dataset

    def scalar(self, name: str) -> np.ndarray | None:
        """A scalar feature (``frame``, ``time``, ``pos_x``, ...) as float64 (n,), or None where
        the recording lacks it; DataError where it is unreadable or of another length."""
        if name not in self.dataset:
            return None
        values = _feature(self.path, self.dataset, name, self.n_events, ndim=1)
        try:
            return np.asarray(values[:], np.float64)
        except (TypeError, ValueError) as exc:
            raise DataError(f"{self.path}: feature {name!r} is not numeric") from exc

    def images(self, start: int, stop: int) -> np.ndarray:
        """Event images ``start:stop`` as uint8 (n, H, W)."""
        return _uint8(self.path, np.asarray(self.dataset["image"][start:stop]))

    def background(self, index: int) -> np.ndarray:
        """The background image of event ``index`` (``image_bg``)."""
        if not self.has_background:
            raise DataError(f"{self.path}: the recording has no background images (image_bg)")
        return _uint8(self.path, np.asarray(self.dataset["image_bg"][index]))

    @property
    def centre_method(self) -> str:
        """How :meth:`centre` finds cells in this recording."""
        if self.centres is not None:
            return "pos_x/pos_y"
        if self.has_mask:
            return "mask centroid"
        return "object nearest the image centre against image_bg" if self.has_background else "image centre"

    def centre(self, index: int, image: np.ndarray | None = None) -> tuple[float, float]:
        """Cell centre of event ``index``: its position, else its mask centroid, else the object
        found against its ``image_bg`` (:func:`cellsort.data.detection.detect`) nearest the image
        centre (an instrument stores an event when its cell is in the middle of the region of
        interest), else the image centre. ``image`` saves re-reading the event image."""
        if self.centres is not None:
            return float(self.centres[index, 0]), float(self.centres[index, 1])
        if self.has_mask:
            rows, cols = np.nonzero(np.asarray(self.dataset["mask"][index]))
            if len(rows):
                return float(rows.mean()), float(cols.mean())
        h, w = self.frame_shape
        if self.has_background:
            from cellsort.data.detection import detect

            image = self.images(index, index + 1)[0] if image is None else image
            found = detect(image, self.background(index))
            if found:
                best = min(found, key=lambda d: np.hypot(d.row - (h - 1) / 2, d.col - (w - 1) / 2))
                return best.row, best.col
        return (h - 1) / 2, (w - 1) / 2

    def crop_batch(self, start: int, stop: int, size: tuple[int, int]
                   ) -> tuple[np.ndarray, np.ndarray]:
        """``size`` windows around the cells of events ``start:stop`` and their centres (n, 2)."""
        images = self.images(start, stop)
        centres = np.array([self.centre(start + i, im) for i, im in enumerate(images)], np.float64)
        return np.stack([crop_or_pad(im, size, c) for im, c in zip(images, centres)]), centres

    def crops(self, size: tuple[int, int], batch: int = 1024
              ) -> Iterator[tuple[int, np.ndarray]]:
        """``size`` windows around every event's cell, in batches: (first index, crops)."""
        for start in range(0, self.n_events, batch):
            yield start, self.crop_batch(start, min(start + batch, self.n_events), size)[0]


def _uint8(path: Path, images: np.ndarray) -> np.ndarray:
    if images.dtype == np.uint8:
        return images
    if images.dtype.kind in "iu" and images.size and (images.min() < 0 or images.max() > 255):
        raise DataError(f"{path}: event images hold values outside 0-255 ({images.dtype}); "
                        f"RT-DC images are 8-bit")
    if images.dtype.kind not in "iu":
        raise DataError(f"{path}: event images have dtype {images.dtype}, expected 8-bit integers")
    return images.astype(np.uint8)


def _feature(path: Path, ds, name: str, n: int, ndim: int):
    """Feature ``name`` of ``ds``, checked to be an array of ``ndim`` dimensions with one entry
    per event (dclab reads lazily; a feature stored as something else fails here, named)."""
    try:
        data = ds[name]
        shape = tuple(int(d) for d in data.shape)
    except Exception as exc:  # noqa: BLE001 - h5py/dclab raise many types for a damaged feature
        raise DataError(f"{path}: feature {name!r} is not a readable array of events") from exc
    if name == "image" and shape[:1] == (0,):
        raise DataError(f"{path}: the recording has no events (feature 'image' is empty)")
    if name == "image" and len(shape) != 3:
        raise DataError(f"{path}: event images must be 2-D grayscale, got shape {shape[1:]}")
    if len(shape) != ndim:
        raise DataError(f"{path}: feature {name!r} has shape {shape}; expected {ndim} dimension(s)")
    if shape[0] != n:
        raise DataError(f"{path}: feature {name!r} holds {shape[0]} entries for {n} events")
    return data


def _centres(path: Path, ds, n: int, shape: tuple[int, int]) -> tuple[np.ndarray | None, float | None]:
    """Positions in pixels, checked to be finite and inside the frame."""
    raw = ds.config["imaging"].get("pixel size")
    pixel_size = float(raw) if isinstance(raw, (int, float, np.number)) else None
    if not ("pos_x" in ds and "pos_y" in ds):
        return None, pixel_size
    if pixel_size is None or not np.isfinite(pixel_size) or pixel_size <= 0:
        raise DataError(f"{path}: has pos_x/pos_y but no valid 'imaging:pixel size' ({raw!r})")
    x, y = (np.asarray(_feature(path, ds, k, n, 1)[:], np.float64) / pixel_size for k in ("pos_x", "pos_y"))
    bad = ~(np.isfinite(x) & np.isfinite(y) & (x >= -0.5) & (x <= shape[1] - 0.5)
            & (y >= -0.5) & (y <= shape[0] - 0.5))
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise DataError(f"{path}: {int(bad.sum())} event position(s) are not finite or lie outside "
                        f"the {shape[0]}x{shape[1]} image (first: event {first}, pos_x "
                        f"{ds['pos_x'][first]!r} µm, pos_y {ds['pos_y'][first]!r} µm, pixel size "
                        f"{pixel_size} µm)")
    return np.stack([y, x], axis=1), pixel_size


@contextlib.contextmanager
def open_recording(path: str | Path) -> Iterator[Recording]:
    """Open an RT-DC recording with dclab and check what cellsort needs from it.

    Raises
    ------
    DataError
        Unreadable file, no events, no images, images that are not 8-bit 2-D, positions that
        are not finite or lie outside the image.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    if path.suffix.lower() not in RTDC_SUFFIXES:
        raise DataError(f"{path}: not an RT-DC recording (expected {' or '.join(RTDC_SUFFIXES)})")
    import dclab

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = dclab.new_dataset(path)
    except Exception as exc:  # dclab raises many types for unreadable files
        raise DataError(f"{path}: not a readable RT-DC recording (damaged, or not an HDF5/tdms "
                        "recording)") from exc
    with contextlib.closing(ds) if hasattr(ds, "close") else contextlib.nullcontext(ds):
        n = len(ds)
        if n == 0:
            raise DataError(f"{path}: the recording has no events")
        if "image" not in ds:
            raise DataError(f"{path}: no event images (feature 'image'); cellsort classifies "
                            f"bright-field images")
        first = _uint8(path, np.asarray(_feature(path, ds, "image", n, 3)[0]))
        if min(first.shape) < 1:
            raise DataError(f"{path}: event images must be 2-D grayscale, got shape {first.shape}")
        for name in ("mask", "image_bg"):
            if name in ds and tuple(_feature(path, ds, name, n, 3).shape[1:]) != first.shape:
                raise DataError(f"{path}: feature {name!r} has frames of {tuple(ds[name].shape[1:])} "
                                f"pixels, the images {first.shape}")
        centres, pixel_size = _centres(path, ds, n, first.shape)
        yield Recording(path, ds, n, first.shape, pixel_size, centres, "image_bg" in ds)


def read_rtdc(paths: dict[str, str | Path] | str | Path, size: tuple[int, int] = (64, 64)) -> Dataset:
    """Crop a ``size`` window around every cell of one or more RT-DC recordings.

    Parameters
    ----------
    paths : path or dict of class name to path
        One recording (a single class named after the file) or one recording per class.
    size : (int, int)
        Crop size; the centre is the event's position, else the mask centroid, else the
        image centre (see :meth:`Recording.centre`).
    """
    if not isinstance(paths, dict):
        paths = {Path(paths).stem: paths}
    crops, labels = [], []
    for label, path in enumerate(paths.values()):
        with open_recording(path) as rec:
            for _, batch in rec.crops(size):
                crops.append(batch)
                labels.append(np.full(len(batch), label))
    return Dataset(np.concatenate(crops), np.concatenate(labels), tuple(paths),
                   ", ".join(str(p) for p in paths.values()))
