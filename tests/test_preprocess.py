import numpy as np
import pytest
from pydantic import ValidationError

from cellsort.data import PAPER_MEAN, PAPER_STD, Preprocessing
from cellsort.data.intensity import crop_or_pad, to_uint8


def test_paper_normalisation_values():
    p = Preprocessing()
    table = p.pixel_table()
    assert table[0] == pytest.approx(-PAPER_MEAN / PAPER_STD)
    assert table[255] == pytest.approx((1 - PAPER_MEAN) / PAPER_STD)
    x = np.array([[0, 128, 255]], np.uint8)
    assert np.allclose(p.normalize(x), (x / 255.0 - 0.4819) / 0.1484, atol=1e-6)


def test_call_shapes_and_crop_is_centre():
    img = np.zeros((64, 64), np.uint8)
    img[8:56, 8:56] = 200
    out = Preprocessing(input_size=(48, 48))(img[None])
    assert out.shape == (1, 48, 48, 1) and out.dtype == np.float32
    assert np.all(out == Preprocessing().pixel_table()[200].astype(np.float32))


def test_pad_smaller_images_with_edge():
    img = np.arange(16, dtype=np.uint8).reshape(4, 4)
    out = crop_or_pad(img, (6, 6))
    assert out.shape == (6, 6) and out[0, 0] == 0 and out[-1, -1] == 15
    assert np.array_equal(out[1:5, 1:5], img)


def test_crop_around_point_at_border():
    img = np.arange(100, dtype=np.uint8).reshape(10, 10)
    out = crop_or_pad(img, (3, 3), center=(0, 9))
    assert out.shape == (3, 3) and out[1, 1] == 9 and out[0, 1] == 9  # padded above


def test_resize_mode():
    img = np.full((64, 64), 90, np.uint8)
    out = Preprocessing(fit="resize").fit_images(img)
    assert out.shape == (48, 48) and out.dtype == np.uint8 and np.all(out == 90)


def test_rejects_float_pixels_and_bad_config():
    with pytest.raises(TypeError, match="uint8"):
        Preprocessing().fit_images(np.zeros((2, 48, 48), np.float32))
    with pytest.raises(ValidationError):
        Preprocessing(std=0)
    with pytest.raises(ValidationError):
        Preprocessing(input_size=(2, 2))


def test_for_dataset_uses_data_statistics(small_synth):
    p = Preprocessing.for_dataset(small_synth)
    x = p(small_synth.images)
    assert abs(float(x.mean())) < 1e-3 and float(x.std()) == pytest.approx(1.0, abs=1e-3)


def test_to_uint8_one_map_for_stack():
    stack = np.array([[[100, 200]], [[300, 400]]], np.uint16)
    out, mapping = to_uint8(stack, percentiles=(0, 100))
    assert out.tolist() == [[[0, 85]], [[170, 255]]] and mapping["hi"] == 400
    same, m = to_uint8(np.zeros((1, 2, 2), np.uint8))
    assert m == {} and same.dtype == np.uint8
