"""Teacher networks, augmentation, exact resume after a kill, and the soft-target cache."""
import numpy as np
import pytest
import torch

from cellsort.data import Dataset, synthesize
from cellsort.data.dataset import DataError
from cellsort.data.splits import SplitData, SplitSpec, apply_splits, make_splits
from cellsort.errors import ConfigError
from cellsort.teacher import (
    AugmentConfig,
    TeacherConfig,
    augment,
    build_teacher,
    list_teachers,
    load_teacher,
    train_teacher,
)
from cellsort.teacher.train import load_torch


@pytest.mark.parametrize("name,blocks", [("resnet18", 8), ("resnet50", 16), ("resnet10", 4)])
def test_resnet_variants(name, blocks):
    model = build_teacher(name, n_classes=3, width=4)
    assert len(model.stages) == blocks
    for size in (24, 40):
        assert model(torch.zeros(2, 1, size, size)).shape == (2, 3)


def test_registry_rejects_unknown():
    assert {"resnet18", "resnet50"} <= set(list_teachers())
    with pytest.raises(KeyError, match="available"):
        build_teacher("vgg")


def test_augment_is_uint8_deterministic_and_changes_images(small_synth):
    x = torch.from_numpy(small_synth.images[:8])
    a = augment(x, AugmentConfig(), torch.Generator().manual_seed(1))
    b = augment(x, AugmentConfig(), torch.Generator().manual_seed(1))
    assert a.dtype == torch.uint8 and a.shape == x.shape and torch.equal(a, b)
    assert (a.float() - x.float()).abs().mean() > 1
    off = AugmentConfig(flips=False, rot90=False, shift_px=0, scale=0, rotate_deg=0, contrast=0,
                        brightness=0, blur_sigma=0)
    same = augment(x, off, torch.Generator().manual_seed(1))
    assert (same.int() - x.int()).abs().max() <= 1  # identity up to resampling rounding


def _tiny_split() -> SplitData:
    pool = synthesize(60, seed=11)
    pool = Dataset(pool.images[:, 20:44, 20:44].copy(), pool.labels, pool.class_names)
    return apply_splits(pool, make_splits(pool.labels, SplitSpec(val_fraction=0.2, test_fraction=0.2)))


CFG = TeacherConfig(arch="resnet10", width=4, input_size=0, epochs=3, batch_size=16, views=2,
                    patience=10)


def test_resume_after_kill_is_exact(tmp_path):
    data = _tiny_split()
    full = train_teacher(data, CFG, tmp_path / "full", progress=False)
    partial = train_teacher(data, CFG, tmp_path / "killed", progress=False, stop_after=1)
    assert partial["stopped_at_epoch"] == 1
    resumed = train_teacher(data, CFG, tmp_path / "killed", resume=True, progress=False)
    assert [h["train_loss"] for h in resumed["history"]] == [h["train_loss"] for h in full["history"]]
    a, b = load_torch(tmp_path / "full/best.pt"), load_torch(tmp_path / "killed/best.pt")
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_run_folder_is_protected_and_resume_checks_identity(tmp_path):
    """A finished run is not replaced without force; resume refuses other data or config."""
    data, run = _tiny_split(), tmp_path / "run"
    train_teacher(data, CFG, run, progress=False, stop_after=1)
    before = (run / "checkpoint.pt").read_bytes()
    with pytest.raises(ConfigError, match="--resume to continue it or --force"):
        train_teacher(data, CFG, run, progress=False)
    with pytest.raises(DataError, match="differs in epochs"):
        train_teacher(data, CFG.model_copy(update={"epochs": 5}), run, resume=True, progress=False)
    other = apply_splits(data.train, make_splits(data.train.labels, SplitSpec(val_fraction=0.2, test_fraction=0.2)))
    with pytest.raises(DataError, match="other data"):
        train_teacher(other, CFG, run, resume=True, progress=False)
    assert (run / "checkpoint.pt").read_bytes() == before
    assert train_teacher(data, CFG, run, progress=False, force=True, stop_after=1)["stopped_at_epoch"] == 1


def test_run_folder_and_soft_target_pairing(tmp_path):
    data = _tiny_split()
    train_teacher(data, CFG, tmp_path, progress=False)
    model, cfg, meta = load_teacher(tmp_path)
    assert meta["class_names"] == ["B", "T4", "T8"] and "torch" in meta["versions"]
    with np.load(tmp_path / "soft_targets.npz", allow_pickle=False) as npz:
        images, logits, source, view = npz["images"], npz["logits"], npz["source"], npz["view"]
    assert len(images) == 2 * len(data.train) and set(view.tolist()) == {0, 1}
    assert np.array_equal(images[view == 0], data.train.images)
    # Each cached row carries the logits the teacher gives that very crop.
    from cellsort.teacher import predict_logits

    rows = np.flatnonzero(view == 1)[:5]
    assert np.allclose(predict_logits(model, images[rows], cfg), logits[rows], atol=1e-4)
    assert not np.array_equal(images[view == 1][0], data.train.images[source[view == 1][0]])


def test_unsafe_or_corrupt_checkpoint_rejected(tmp_path):
    from cellsort.data import DataError

    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(DataError, match="bad.pt: not a readable checkpoint"):
        load_torch(tmp_path / "bad.pt")
