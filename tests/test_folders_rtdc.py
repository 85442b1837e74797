import h5py
import numpy as np
import pytest
from PIL import Image

from cellsort.data import DataError, open_recording, read_image_folder, read_rtdc


def _write(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def test_folder_png_tiff_jpeg_8bit(tmp_path):
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (20, 20), dtype=np.uint8)
    _write(tmp_path / "B" / "1.png", a)
    _write(tmp_path / "B" / "2.tif", a)
    _write(tmp_path / "T" / "1.jpg", a)
    d = read_image_folder(tmp_path)
    assert d.class_names == ("B", "T") and d.counts() == {"B": 2, "T": 1}
    assert np.array_equal(d.images[0], a) and np.array_equal(d.images[1], a)
    assert d.images.dtype == np.uint8


def test_folder_16bit_mapped_once_for_all(tmp_path):
    lo = np.full((8, 8), 1000, np.uint16)
    hi = np.full((8, 8), 3000, np.uint16)
    _write(tmp_path / "a" / "lo.png", lo)
    _write(tmp_path / "b" / "hi.tif", hi)
    d = read_image_folder(tmp_path)
    assert d.images[0].max() < d.images[1].min()  # relative brightness kept
    assert d.meta["intensity_map"]["lo"] == pytest.approx(1000, abs=3)


def test_folder_rgb_becomes_gray(tmp_path):
    rgb = np.zeros((6, 6, 3), np.uint8)
    rgb[..., 1] = 200
    _write(tmp_path / "a" / "x.png", rgb)
    _write(tmp_path / "b" / "y.png", rgb)
    d = read_image_folder(tmp_path)
    assert d.images.shape == (2, 6, 6) and 100 < d.images[0, 0, 0] < 160


def test_folder_mixed_sizes_need_size(tmp_path):
    _write(tmp_path / "a" / "x.png", np.zeros((10, 10), np.uint8))
    _write(tmp_path / "b" / "y.png", np.zeros((14, 12), np.uint8))
    with pytest.raises(DataError, match="different sizes"):
        read_image_folder(tmp_path)
    assert read_image_folder(tmp_path, size=(12, 12)).images.shape == (2, 12, 12)


def test_folder_non_image_file(tmp_path):
    _write(tmp_path / "a" / "x.png", np.zeros((4, 4), np.uint8))
    (tmp_path / "a" / "notes.txt").write_text("hello")
    with pytest.raises(DataError, match=r"notes.txt: not an image file"):
        read_image_folder(tmp_path)


def test_folder_corrupt_image(tmp_path):
    _write(tmp_path / "a" / "x.png", np.zeros((4, 4), np.uint8))
    (tmp_path / "a" / "broken.png").write_bytes(b"not a png at all")
    with pytest.raises(DataError, match=r"broken.png: not a readable image"):
        read_image_folder(tmp_path)


def test_folder_empty_class(tmp_path):
    _write(tmp_path / "a" / "x.png", np.zeros((4, 4), np.uint8))
    (tmp_path / "b").mkdir()
    with pytest.raises(DataError, match=r"b: class folder is empty"):
        read_image_folder(tmp_path)


def test_folder_without_classes(tmp_path):
    with pytest.raises(DataError, match="no class sub-folders"):
        read_image_folder(tmp_path)


def _rtdc(path, n=3, with_pos=True, pixel_size=0.34):
    frames = np.full((n, 40, 100), 120, np.uint8)
    cols = np.array([20, 50, 95])[:n]
    for i, c in enumerate(cols):
        frames[i, 18:23, c - 2:c + 3] = 10  # a dark 5x5 "cell" at (20, c)
    with h5py.File(path, "w") as h5:
        h5.attrs["imaging:pixel size"] = pixel_size
        h5["events/image"] = frames
        h5["events/mask"] = frames < 50
        if with_pos:
            h5["events/pos_x"] = cols * pixel_size
            h5["events/pos_y"] = np.full(n, 20 * pixel_size)
    return path


def test_rtdc_crops_centre_on_positions(tmp_path):
    d = read_rtdc(_rtdc(tmp_path / "b_cells.rtdc"), size=(9, 9))
    assert d.class_names == ("b_cells",) and d.images.shape == (3, 9, 9)
    for crop in d.images:
        assert crop[4, 4] == 10 and crop[0, 0] == 120  # cell centred, background around it


def test_rtdc_mask_centroid_fallback_and_border(tmp_path):
    path = _rtdc(tmp_path / "x.rtdc", with_pos=False)
    with open_recording(path) as rec:
        assert rec.centres is None and rec.has_mask and rec.centre_method == "mask centroid"
    d = read_rtdc(path, size=(9, 9))
    assert d.images[2, 4, 4] == 10  # cell at the right border, crop padded


def test_rtdc_two_classes(tmp_path):
    d = read_rtdc({"B": _rtdc(tmp_path / "b.rtdc"), "T": _rtdc(tmp_path / "t.rtdc", n=2)}, (9, 9))
    assert d.counts() == {"B": 3, "T": 2}


def test_a_folder_of_recordings_is_one_class_each(tmp_path):
    from cellsort.data.load import read_pool

    _rtdc(tmp_path / "B.rtdc")
    _rtdc(tmp_path / "T.rtdc", n=2)
    pool, is_test = read_pool(tmp_path, size=(9, 9))
    assert pool.class_names == ("B", "T") and pool.counts() == {"B": 3, "T": 2} and is_test is None
    _rtdc(tmp_path / "T.tdms", n=1)  # two files for one class
    with pytest.raises(DataError, match="two recordings name the same class \\(T\\)"):
        read_pool(tmp_path, size=(9, 9))


def test_rtdc_bad_files(tmp_path):
    (tmp_path / "junk.rtdc").write_bytes(b"junk")
    with pytest.raises(DataError, match="junk.rtdc: not a readable RT-DC recording"):
        read_rtdc(tmp_path / "junk.rtdc")
    with h5py.File(tmp_path / "noimg.rtdc", "w") as h5:
        h5["events/deform"] = np.zeros(3)
    with pytest.raises(DataError, match="noimg.rtdc: no event images"):
        read_rtdc(tmp_path / "noimg.rtdc")
    with h5py.File(tmp_path / "nopix.rtdc", "w") as h5:
        h5["events/image"] = np.zeros((2, 8, 8), np.uint8)
        h5["events/pos_x"] = np.zeros(2)
        h5["events/pos_y"] = np.zeros(2)
    with pytest.raises(DataError, match="pixel size"):
        read_rtdc(tmp_path / "nopix.rtdc")
