"""Folders of images, one sub-folder per class (PNG, TIFF, JPEG; 8 or 16 bit; any size)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from skimage import io as skio
from skimage.color import rgb2gray, rgba2rgb

from cellsort.data.dataset import Dataset
from cellsort.data.intensity import check_pixels, crop_or_pad, to_uint8
from cellsort.errors import DataError

#: File endings read as images.
IMAGE_SUFFIXES = (".png", ".tif", ".tiff", ".jpg", ".jpeg")


def read_gray(path: Path) -> np.ndarray:
    """Read one image as 2-D grayscale, keeping its bit depth."""
    try:
        image = skio.imread(path)
    except Exception as exc:  # noqa: BLE001 - imageio raises many types (and install advice)
        raise DataError(f"{path}: not a readable image (empty, damaged or not an image "
                        "format)") from exc
    if image.ndim == 3 and image.shape[-1] in (3, 4):
        full_scale = 255 if image.dtype == np.uint8 else 65535
        rgb = rgba2rgb(image) if image.shape[-1] == 4 else image
        image = np.rint(rgb2gray(rgb) * full_scale).astype(np.uint8 if full_scale == 255 else np.uint16)
    if image.ndim != 2:
        raise DataError(f"{path}: expected a 2-D grayscale image, got shape {image.shape}")
    check_pixels(image, str(path))
    return image


def read_image_folder(root: str | Path, size: tuple[int, int] | None = None) -> Dataset:
    """Read ``root/<class>/<image>`` into a :class:`Dataset`.

    Parameters
    ----------
    root : path-like
        Folder whose sub-folders name the classes (sorted alphabetically).
    size : (int, int), optional
        Crop or pad every image to this size around its centre. Required when the
        images differ in size.

    Raises
    ------
    DataError
        No class folders, an empty class, a file that is not an image, or mixed sizes
        without ``size``.
    """
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: not a folder")
    class_dirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not class_dirs:
        raise DataError(f"{root}: no class sub-folders (expected {root}/<class>/<images>)")
    images, labels, paths = [], [], []
    for label, folder in enumerate(class_dirs):
        files = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
        if not files:
            raise DataError(f"{folder}: class folder is empty")
        for path in files:
            if path.is_dir() or path.suffix.lower() not in IMAGE_SUFFIXES:
                raise DataError(f"{path}: not an image file (expected one of "
                                f"{', '.join(IMAGE_SUFFIXES)})")
            images.append(read_gray(path))
            labels.append(label)
            paths.append(path)
    depths = {}
    for path, im in zip(paths, images):
        depths.setdefault(im.dtype.str, path)
    if len(depths) > 1:
        raise DataError(f"{root}: images of mixed bit depth/type ("
                        + ", ".join(f"{np.dtype(d).name} e.g. {p.name}" for d, p in depths.items())
                        + "); convert them to one type so they share one intensity scale")
    shapes = {im.shape for im in images}
    if size is not None:
        images = [crop_or_pad(im, size) for im in images]
    elif len(shapes) > 1:
        raise DataError(f"{root}: images have different sizes {sorted(shapes)[:4]}...; "
                        f"pass a size to crop/pad them to")
    stack, mapping = to_uint8(np.stack(images), source=str(root))
    return Dataset(stack, np.asarray(labels), tuple(p.name for p in class_dirs), str(root),
                   {"intensity_map": mapping} if mapping else {})
