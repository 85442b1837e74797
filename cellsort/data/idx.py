"""IDX files (the MNIST container) and the LymphoMNIST four-file layout, plain or gzip."""
from __future__ import annotations

import gzip
import math
import zlib
from pathlib import Path

import numpy as np

from cellsort.atomic import atomic_open
from cellsort.data.dataset import Dataset
from cellsort.errors import DataError

#: Class names of LymphoMNIST labels 0, 1, 2.
LYMPHO_CLASSES = ("B", "T4", "T8")
#: The four files of the LymphoMNIST layout.
LYMPHO_FILES = ("train_images", "train_labels", "test_images", "test_labels")
_SUFFIXES = ("", ".gz", ".idx", ".idx.gz")

_DTYPES = {0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"),
           0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_CODES = {np.dtype(v).newbyteorder("="): k for k, v in _DTYPES.items()}


def _read_raw(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror})") from exc
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise DataError(f"{path}: corrupt or truncated gzip stream ({exc})") from exc
    return raw


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (optionally gzip-compressed) into a native-endian array.

    Raises
    ------
    DataError
        Wrong magic number, unknown type code, or a data size that does not match the header.
    """
    path = Path(path)
    raw = _read_raw(path)
    if len(raw) < 4:
        raise DataError(f"{path}: too short for an IDX header ({len(raw)} bytes)")
    if raw[0] != 0 or raw[1] != 0 or raw[2] not in _DTYPES:
        raise DataError(f"{path}: wrong magic number {raw[:4].hex()} (expected 0000TTNN with "
                        f"type TT in {sorted(f'{k:02x}' for k in _DTYPES)})")
    dtype, ndim = _DTYPES[raw[2]], raw[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise DataError(f"{path}: truncated IDX header (ndim {ndim}, {len(raw)} bytes)")
    dims = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    expected = math.prod(dims) * dtype.itemsize  # Python integers: no overflow
    found = len(raw) - header
    if found != expected:
        kind = "truncated" if found < expected else "has trailing bytes"
        raise DataError(f"{path}: {kind}: header says {dims} ({expected} bytes of data), "
                        f"file holds {found}")
    return np.frombuffer(raw, dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))


def write_idx(path: str | Path, array: np.ndarray, compress: bool | None = None) -> Path:
    """Write ``array`` as IDX atomically; gzip when ``compress`` (default: path ends in .gz)."""
    path = Path(path)
    array = np.asarray(array)
    code = _CODES.get(array.dtype.newbyteorder("="))
    if code is None:
        raise DataError(f"{path}: IDX cannot store dtype {array.dtype}")
    if array.ndim == 0 or array.ndim > 255:
        raise DataError(f"{path}: IDX needs 1 to 255 dimensions, got {array.ndim}")
    payload = (bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
               + np.ascontiguousarray(array, _DTYPES[code]).tobytes())
    if compress if compress is not None else path.suffix == ".gz":
        payload = gzip.compress(payload, compresslevel=6, mtime=0)
    with atomic_open(path, "wb") as fh:
        fh.write(payload)
    return path


def has_lymphomnist_file(folder: str | Path) -> bool:
    """Whether ``folder`` holds at least one of the LymphoMNIST files (so a missing one is an
    error to name, not a different format)."""
    return any((Path(folder) / f"{stem}{s}").is_file() for stem in LYMPHO_FILES for s in _SUFFIXES)


def find_lymphomnist_files(folder: str | Path) -> dict[str, Path] | None:
    """Return the paths of the four LymphoMNIST files in ``folder``, or None if any is missing."""
    folder = Path(folder)
    found = {}
    for stem in LYMPHO_FILES:
        hits = [folder / f"{stem}{s}" for s in _SUFFIXES if (folder / f"{stem}{s}").is_file()]
        if not hits:
            return None
        found[stem] = hits[0]
    return found


def _pair(images_path: Path, labels_path: Path) -> Dataset:
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise DataError(f"{images_path}: expected uint8 images of shape (N, H, W), "
                        f"got {images.dtype} {images.shape}")
    if labels.ndim != 1 or labels.dtype != np.uint8:
        raise DataError(f"{labels_path}: expected uint8 labels of shape (N,), "
                        f"got {labels.dtype} {labels.shape}")
    if len(images) != len(labels):
        raise DataError(f"{labels_path}: {len(labels)} labels but {images_path.name} holds "
                        f"{len(images)} images")
    if len(labels) and labels.max() >= len(LYMPHO_CLASSES):
        bad = int(np.flatnonzero(labels >= len(LYMPHO_CLASSES))[0])
        raise DataError(f"{labels_path}: label {labels[bad]} at index {bad} is out of range "
                        f"0..{len(LYMPHO_CLASSES) - 1} ({', '.join(LYMPHO_CLASSES)})")
    return Dataset(images, labels, LYMPHO_CLASSES, str(images_path.parent))


def read_lymphomnist(folder: str | Path) -> tuple[Dataset, Dataset]:
    """Read the LymphoMNIST train and test parts from ``folder``.

    Returns
    -------
    train, test : Dataset
        Classes ``B``, ``T4``, ``T8`` (labels 0, 1, 2).
    """
    files = find_lymphomnist_files(folder)
    if files is None:
        raise DataError(f"{folder}: not a LymphoMNIST folder: needs the files "
                        f"{', '.join(LYMPHO_FILES)} (optionally .gz)")
    train = _pair(files["train_images"], files["train_labels"])
    test = _pair(files["test_images"], files["test_labels"])
    if train.image_shape != test.image_shape:
        raise DataError(f"{folder}: train images are {train.image_shape} but test images are "
                        f"{test.image_shape}")
    return train, test


def write_lymphomnist(folder: str | Path, train: Dataset, test: Dataset,
                      compress: bool = False) -> dict[str, Path]:
    """Write ``train`` and ``test`` in the LymphoMNIST layout (labels must fit in uint8)."""
    folder = Path(folder)
    suffix = ".gz" if compress else ""
    out = {}
    for part, ds in (("train", train), ("test", test)):
        out[f"{part}_images"] = write_idx(folder / f"{part}_images{suffix}", ds.images)
        out[f"{part}_labels"] = write_idx(folder / f"{part}_labels{suffix}",
                                          ds.labels.astype(np.uint8))
    return out
