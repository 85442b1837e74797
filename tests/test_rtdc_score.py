"""RT-DC through dclab: recordings of every kind, ``cellsort score``, scores read back by dclab."""
import hashlib
import json
import os

import dclab
import h5py
import numpy as np
import pyarrow.parquet as pq
import pytest

from cellsort.cli import main
from cellsort.config import ConfigError
from cellsort.data import DataError, Preprocessing, open_recording
from cellsort.data.rtdc_synth import write_synthetic_recording
from cellsort.score import default_codes, score_features
from cellsort.sorter.classifier import CellClassifier
from cellsort.student import StudentArtifact, build_student, save_student


@pytest.fixture(scope="module")
def artifact(tmp_path_factory):
    model = build_student("tiny", input_size=(32, 32))
    rng = np.random.default_rng(3)
    model.set_weights([rng.normal(0, 0.3, w.shape) for w in model.get_weights()])
    folder = tmp_path_factory.mktemp("art") / "student"
    return save_student(folder, StudentArtifact(model, Preprocessing(input_size=(32, 32)), ("B", "T4")))


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    """Compressed with image_bg, uncompressed without, one event, none (all written by dclab)."""
    d = tmp_path_factory.mktemp("rec")
    made = {"zstd": write_synthetic_recording(d / "zstd.rtdc", 160, seed=1),
            "plain": write_synthetic_recording(d / "plain.rtdc", 120, seed=2, background=False,
                                               compress=False),
            "one": write_synthetic_recording(d / "one.rtdc", 30, seed=2),
            "empty": write_synthetic_recording(d / "empty.rtdc", 5, seed=2)}
    assert len(made["one"]) == 1 and len(made["empty"]) == 0 and len(made["zstd"]) > 5
    return d, made


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_recordings_are_the_variants_we_claim(recordings):
    d, _ = recordings
    with h5py.File(d / "zstd.rtdc") as h5:
        assert h5["events/image"].id.get_create_plist().get_filter(0)[0] == 32015  # Zstandard
        assert "image_bg" in h5["events"]
    with h5py.File(d / "plain.rtdc") as h5:
        plist = h5["events/image"].id.get_create_plist()
        filters = {plist.get_filter(i)[0] for i in range(plist.get_nfilters())}
        assert not filters & {1, 32001, 32004, 32015}  # no gzip, Blosc, LZ4, Zstandard


@pytest.mark.parametrize("name", ["zstd", "plain", "one"])
def test_score_writes_ml_scores_that_dclab_reads(recordings, artifact, tmp_path, name):
    d, made = recordings
    source = d / f"{name}.rtdc"
    before = _digest(source)
    out = tmp_path / "scored.rtdc"
    assert main(["score", str(source), "--model", str(artifact), "--out", str(out), "--json"]) == 0
    assert _digest(source) == before  # the original is untouched
    ds = dclab.new_dataset(out)
    n = len(made[name])
    assert len(ds) == n
    scores = np.stack([ds["ml_score_b00"], ds["ml_score_t40"]], axis=1)
    assert np.all((scores >= 0) & (scores <= 1)) and np.allclose(scores.sum(axis=1), 1)
    assert np.array_equal(ds["ml_class"], scores.argmax(axis=1))
    # the scores are the emulator's, at the recorded positions
    with open_recording(source) as rec:
        crops, _ = rec.crop_batch(0, n, (32, 32))
        src_images = rec.images(0, n)
    result = CellClassifier(artifact).classify(crops)
    assert np.array_equal(ds["userdef0"], result.margins)
    assert np.array_equal(ds["ml_class"], result.labels)
    assert np.array_equal(np.asarray(ds["image"][:]), src_images)  # source features carried over
    assert "cellsort-score" in ds.logs
    table = pq.read_table(tmp_path / "scored.parquet").to_pydict()
    assert table["event"] == list(range(n)) and np.allclose(table["margin"], result.margins)
    assert (tmp_path / "scored.csv").read_text().count("\n") == n + 1


def test_empty_recording_and_existing_output_are_clear_errors(recordings, artifact, tmp_path, capsys):
    d, _ = recordings
    assert main(["score", str(d / "empty.rtdc"), "--model", str(artifact),
                 "--out", str(tmp_path / "s.rtdc")]) == 2
    assert "empty.rtdc: the recording has no events" in capsys.readouterr().err
    assert not (tmp_path / "s.rtdc").exists()
    out = tmp_path / "s.rtdc"
    out.write_bytes(b"keep me")
    assert main(["score", str(d / "one.rtdc"), "--model", str(artifact), "--out", str(out)]) == 2
    assert out.read_bytes() == b"keep me" and "--force" in capsys.readouterr().err
    assert main(["score", str(d / "one.rtdc"), "--model", str(artifact), "--out", str(out), "--force"]) == 0
    assert main(["score", str(d / "one.rtdc"), "--model", str(artifact), "--out", str(d / "one.rtdc")]) == 2
    assert main(["score", str(d / "one.rtdc"), "--model", str(artifact), "--out", str(tmp_path / "x.h5")]) == 2
    assert main(["score", str(d / "one.rtdc"), "--model", str(artifact), "--out", str(tmp_path / "y.rtdc"),
                 "--margin-feature", "deform"]) == 2


def test_tiny_recordings_work_in_data_commands_and_sort(recordings, artifact, tmp_path, capsys):
    d, _ = recordings
    assert main(["data", "info", str(d / "one.rtdc")]) == 0
    assert "too few" in capsys.readouterr().out
    assert main(["data", "show", str(d / "one.rtdc"), "--out", str(tmp_path / "m.png")]) == 0
    assert main(["sort", "--source", str(d / "one.rtdc"), "--model", str(artifact),
                 "--out", str(tmp_path / "run")]) == 0
    assert json.loads((tmp_path / "run/summary.json").read_text())["cells"] == 1
    assert main(["sort", "--source", str(d / "empty.rtdc"), "--model", str(artifact),
                 "--out", str(tmp_path / "run2")]) == 2


def test_scored_files_respect_the_umask(recordings, artifact, tmp_path):
    d, _ = recordings
    old = os.umask(0o022)
    try:
        assert main(["score", str(d / "one.rtdc"), "--model", str(artifact),
                     "--out", str(tmp_path / "s.rtdc")]) == 0
    finally:
        os.umask(old)
    for name in ("s.rtdc", "s.csv", "s.parquet"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o644


def test_centre_without_positions_comes_from_image_bg(recordings, tmp_path):
    d, _ = recordings
    with open_recording(d / "zstd.rtdc") as rec:
        truth = rec.centres.copy()
        images = rec.images(0, rec.n_events)
        bg = np.stack([rec.background(i) for i in range(rec.n_events)])
    with h5py.File(tmp_path / "nopos.rtdc", "w") as h5:
        h5["events/image"] = images
        h5["events/image_bg"] = bg
    with open_recording(tmp_path / "nopos.rtdc") as rec:
        assert rec.centre_method == "object nearest the image centre against image_bg"
        found = np.array([rec.centre(i) for i in range(rec.n_events)])
    # these event images are whole frames that may hold several cells (some touching); most
    # events still find their own cell
    assert np.mean(np.hypot(*(found - truth).T) < 4) >= 0.6


def test_bad_positions_and_values_are_refused(tmp_path):
    def write(name, **events):
        with h5py.File(tmp_path / name, "w") as h5:
            h5.attrs["imaging:pixel size"] = 0.5
            for k, v in events.items():
                h5[f"events/{k}"] = v
        return tmp_path / name

    img = np.zeros((2, 20, 30), np.uint8)
    for pos_x, why in [([1.0, np.nan], "not finite"), ([1.0, 1e9], "outside")]:
        path = write("p.rtdc", image=img, pos_x=np.array(pos_x), pos_y=np.ones(2))
        with pytest.raises(DataError, match="p.rtdc: 1 event position"):
            with open_recording(path):
                pass
    path = write("f.rtdc", image=np.full((2, 20, 30), 300, np.uint16))
    with pytest.raises(DataError, match="outside 0-255"):
        with open_recording(path):
            pass
    with pytest.raises(DataError, match="not an RT-DC recording"):
        with open_recording(write("x.h5", image=img)):
            pass


def test_score_feature_names():
    assert score_features(("B", "T4")) == ["ml_score_b00", "ml_score_t40"]
    assert default_codes(("T", "B")) == ["0t0", "1b0"]  # sorted in class order for ml_class
    assert default_codes(("G1", "G2", "G3")) == ["g10", "g20", "g30"]
    assert score_features(("x", "y"), "abc,abd") == ["ml_score_abc", "ml_score_abd"]
    for bad in ("ab,abc", "ABC,abd", "abd,abc", "abc"):
        with pytest.raises(ConfigError):
            score_features(("x", "y"), bad)


def test_real_jurkat_crops_as_a_recording_score(jurkat_path, artifact, tmp_path):
    """Real bright-field crops written as an RT-DC recording (no positions: image centres)."""
    from cellsort.data import read_jurkat

    crops = read_jurkat(jurkat_path, "g1-vs-g2").images[:64]
    with dclab.RTDCWriter(tmp_path / "jurkat.rtdc", mode="reset") as writer:
        writer.store_metadata({"experiment": {"sample": "jurkat", "run index": 1, "event count": 64},
                               "imaging": {"pixel size": 0.33}})
        writer.store_feature("image", crops)
    assert main(["score", str(tmp_path / "jurkat.rtdc"), "--model", str(artifact),
                 "--out", str(tmp_path / "scored.rtdc")]) == 0
    ds = dclab.new_dataset(tmp_path / "scored.rtdc")
    expected = CellClassifier(artifact).classify(crops)
    assert np.array_equal(ds["userdef0"], expected.margins)  # centred crop of each event
    assert np.array_equal(ds["ml_class"], expected.labels)
