"""RT-DC (real-time deformability cytometry) ``.rtdc`` HDF5 files, read with h5py."""
from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from cellsort.data.dataset import DataError, Dataset
from cellsort.data.intensity import crop_or_pad


def _open(path: Path) -> h5py.File:
    try:
        return h5py.File(path, "r")
    except OSError as exc:
        raise DataError(f"{path}: not a readable HDF5/.rtdc file ({exc})") from exc


def read_rtdc_events(path: str | Path) -> dict:
    """Read the event images and positions of an ``.rtdc`` file.

    Returns
    -------
    dict
        ``image`` (N, H, W) uint8; ``mask`` (N, H, W) bool or None; ``pos_px`` (N, 2) of
        (row, column) cell centres in pixels, or None when the file has no positions;
        ``pixel_size`` in µm per pixel.
    """
    path = Path(path)
    with _open(path) as h5:
        if "events/image" not in h5:
            raise DataError(f"{path}: no 'events/image' dataset (not an RT-DC image recording)")
        image = h5["events/image"][...]
        if image.ndim != 3 or image.dtype != np.uint8:
            raise DataError(f"{path}: events/image must be uint8 (N, H, W), "
                            f"got {image.dtype} {image.shape}")
        mask = h5["events/mask"][...].astype(bool) if "events/mask" in h5 else None
        if mask is not None and mask.shape != image.shape:
            raise DataError(f"{path}: events/mask shape {mask.shape} differs from events/image "
                            f"{image.shape}")
        pixel_size = h5.attrs.get("imaging:pixel size")
        pos = None
        if "events/pos_x" in h5 and "events/pos_y" in h5:
            if pixel_size is None or float(pixel_size) <= 0:
                raise DataError(f"{path}: has pos_x/pos_y but no valid 'imaging:pixel size' attribute")
            x = h5["events/pos_x"][...] / float(pixel_size)
            y = h5["events/pos_y"][...] / float(pixel_size)
            if len(x) != len(image) or len(y) != len(image):
                raise DataError(f"{path}: {len(image)} images but {len(x)} pos_x / {len(y)} pos_y")
            pos = np.stack([y, x], axis=1)
    return {"image": image, "mask": mask, "pos_px": pos,
            "pixel_size": float(pixel_size) if pixel_size is not None else None}


def _centre(event_mask: np.ndarray | None, pos: np.ndarray | None, shape) -> tuple[float, float]:
    if pos is not None:
        return float(pos[0]), float(pos[1])
    if event_mask is not None and event_mask.any():
        rows, cols = np.nonzero(event_mask)
        return float(rows.mean()), float(cols.mean())
    return (shape[0] - 1) / 2, (shape[1] - 1) / 2


def read_rtdc(paths: dict[str, str | Path] | str | Path, size: tuple[int, int] = (64, 64)) -> Dataset:
    """Crop a ``size`` window around every cell of one or more ``.rtdc`` files.

    Parameters
    ----------
    paths : path or dict of class name to path
        One file (a single class named after the file) or one file per class.
    size : (int, int)
        Crop size; the centre is the event's position (``pos_x``/``pos_y`` in µm divided by
        the pixel size), else the mask centroid, else the image centre.
    """
    if not isinstance(paths, dict):
        paths = {Path(paths).stem: paths}
    crops, labels = [], []
    for label, (name, path) in enumerate(paths.items()):
        ev = read_rtdc_events(path)
        if len(ev["image"]) == 0:
            raise DataError(f"{path}: no events")
        for i, frame in enumerate(ev["image"]):
            mask = None if ev["mask"] is None else ev["mask"][i]
            pos = None if ev["pos_px"] is None else ev["pos_px"][i]
            crops.append(crop_or_pad(frame, size, _centre(mask, pos, frame.shape)))
            labels.append(label)
    return Dataset(np.stack(crops), np.asarray(labels), tuple(paths),
                   ", ".join(str(p) for p in paths.values()))
