"""Sort gate, frame sources (.rtdc, images, arrays), events CSV and ``cellsort sort``."""
import csv
import json

import h5py
import numpy as np
import pytest
from PIL import Image

from cellsort.cli import main
from cellsort.data import DataError, Preprocessing
from cellsort.gate import choose_threshold, purity_recovery
from cellsort.sorter.sources import open_source
from cellsort.student import StudentArtifact, build_student, save_student


def test_purity_recovery_known_values():
    margins = np.array([3.0, 2.0, 1.0, 0.0])
    labels = np.array([1, 0, 1, 0])
    c = purity_recovery(margins, labels)
    assert c["threshold"].tolist() == [2.0, 1.0, 0.0, -np.inf]
    assert c["purity"].tolist() == [1.0, 0.5, 2 / 3, 0.5]
    assert c["recovery"].tolist() == [0.5, 0.5, 1.0, 1.0]
    best = choose_threshold(margins, labels, min_purity=0.6)
    assert best == {"threshold": 0.0, "purity": 2 / 3, "recovery": 1.0, "min_purity": 0.6}
    with pytest.raises(ValueError, match="no threshold"):
        choose_threshold(np.array([1.0, 0.0]), np.array([0, 1]), min_purity=0.9)


def test_ties_share_a_threshold():
    c = purity_recovery(np.array([1.0, 1.0, 0.0]), np.array([1, 0, 0]))
    assert c["purity"].tolist() == [0.5, 1 / 3]


def test_frame_sources(tmp_path):
    frames = np.random.default_rng(0).integers(0, 256, (3, 20, 30), dtype=np.uint8)
    with h5py.File(tmp_path / "rec.rtdc", "w") as h5:  # a bare file: images only
        h5["events/image"] = frames
    assert np.array_equal(np.stack(list(open_source(tmp_path / "rec.rtdc"))), frames)
    np.save(tmp_path / "rec.npy", frames)
    assert np.array_equal(np.stack(list(open_source(tmp_path / "rec.npy"))), frames)
    (tmp_path / "seq").mkdir()
    for i, f in enumerate(frames):
        Image.fromarray(f).save(tmp_path / "seq" / f"{i:03d}.png")
    assert np.array_equal(np.stack(list(open_source(tmp_path / "seq"))), frames)
    (tmp_path / "x.txt").write_text("x")
    with pytest.raises(DataError, match="unknown frame source"):
        open_source(tmp_path / "x.txt")
    with pytest.raises(DataError, match="no such file"):
        open_source(tmp_path / "missing.rtdc")


def _artifact(tmp_path):
    model = build_student("tiny", input_size=(32, 32))
    rng = np.random.default_rng(1)
    model.set_weights([rng.normal(0, 0.3, w.shape) for w in model.get_weights()])
    return save_student(tmp_path / "student", StudentArtifact(model, Preprocessing(input_size=(32, 32)),
                                                             ("B", "T4")))


def test_sort_command_synthetic(tmp_path, capsys):
    art = _artifact(tmp_path)
    assert main(["sort", "--source", "synthetic", "--model", str(art), "--out", str(tmp_path / "run"),
                 "--frames", "120", "--threshold", "0.5"]) == 0
    text = capsys.readouterr().out
    assert "cells/s" in text and "detection precision" in text and "p99" in text
    rows = list(csv.DictReader((tmp_path / "run/events.csv").open()))
    assert rows and all(r["class_name"] in ("B", "T4") for r in rows)
    assert all((float(r["margin"]) > 0.5) == (r["sort"] == "true") for r in rows)
    assert (tmp_path / "run/events.parquet").is_file()
    import pyarrow.parquet as pq

    summary = json.loads((tmp_path / "run/summary.json").read_text())
    row = pq.read_table(tmp_path / "run/summary.parquet").to_pylist()
    assert len(row) == 1 and row[0]["cells"] == summary["cells"]
    assert row[0]["latency_us.classify.p99"] == summary["latency_us"]["classify"]["p99"]
    assert next(csv.DictReader((tmp_path / "run/summary.csv").open()))["cells"] == str(summary["cells"])


def test_sort_command_on_rtdc_recording_event_and_video_modes(tmp_path):
    from cellsort.data.rtdc_synth import write_synthetic_recording

    labels = write_synthetic_recording(tmp_path / "rec.rtdc", 200, seed=5)
    art = _artifact(tmp_path)
    assert main(["sort", "--source", str(tmp_path / "rec.rtdc"), "--model", str(art),
                 "--out", str(tmp_path / "run")]) == 0
    summary = json.loads((tmp_path / "run/summary.json").read_text())
    assert summary["mode"] == "events" and summary["cells"] == len(labels)  # every event, once
    rows = list(csv.DictReader((tmp_path / "run/events.csv").open()))
    assert sorted(int(r["track"]) for r in rows) == list(range(len(labels)))
    assert main(["sort", "--source", str(tmp_path / "rec.rtdc"), "--model", str(art), "--mode", "video",
                 "--min-area", "30", "--max-area", "5000", "--out", str(tmp_path / "video")]) == 0
    video = json.loads((tmp_path / "video/summary.json").read_text())
    assert video["mode"] == "video" and video["config"]["detect"]["max_area"] == 5000
    assert main(["sort", "--source", str(tmp_path / "rec.rtdc"), "--model", str(art),
                 "--min-area", "500", "--max-area", "100", "--out", str(tmp_path / "bad")]) == 2
    assert main(["sort", "--source", "synthetic", "--model", str(art), "--mode", "events",
                 "--out", str(tmp_path / "bad")]) == 2
