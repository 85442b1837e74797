"""Synthetic flow video, detection quality, classification and the sorter's decisions."""
import numpy as np
import pytest

from cellsort.data import Preprocessing
from cellsort.sorter import (
    CellClassifier,
    FlowConfig,
    Sorter,
    SorterConfig,
    detect,
    estimate_background,
    synthetic_flow,
)
from cellsort.sorter.evaluate import detection_scores, match_frame
from cellsort.student import StudentArtifact, build_student


@pytest.fixture(scope="module")
def video():
    frames, truths = zip(*synthetic_flow(160, seed=3))
    return np.stack(frames), truths


@pytest.fixture(scope="module")
def classifier():
    model = build_student("tiny", input_size=(32, 32))
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(0, 0.3, w.shape) for w in model.get_weights()])
    return CellClassifier(StudentArtifact(model, Preprocessing(input_size=(32, 32)), ("B", "T4")))


def test_video_is_deterministic_and_cells_move(video):
    frames, truths = video
    again = np.stack([f for f, _ in synthetic_flow(20, seed=3)])
    assert np.array_equal(again, frames[:20]) and frames.dtype == np.uint8
    moving = [(a, b) for t0, t1 in zip(truths, truths[1:]) for a in t0 for b in t1
              if a.cell_id == b.cell_id]
    assert moving and all(b.col - a.col == pytest.approx(FlowConfig().speed) and a.row == b.row
                           for a, b in moving)


def test_detection_recall_and_precision(video):
    frames, truths = video
    bg = estimate_background(frames[:60])
    scores = detection_scores([match_frame(detect(f, bg), t, frames.shape[2])
                               for f, t in zip(frames, truths)])
    assert scores["found"] > 50
    assert scores["recall"] >= 0.95 and scores["precision"] >= 0.95


def test_empty_frame_and_border_cells(video):
    frames, truths = video
    bg = estimate_background(frames[:60])
    assert detect(np.clip(np.rint(bg), 0, 255).astype(np.uint8), bg) == []
    border = [(f, t) for f, t in zip(frames, truths) if any(c.col < 10 for c in t)]
    assert border  # cells entering the field of view
    for f, _ in border:
        for d in detect(f, bg):
            assert 0 <= d.row < f.shape[0] and 0 <= d.col < f.shape[1]


def test_overlapping_cells_do_not_crash_and_give_at_most_one_detection_each():
    flow = FlowConfig(arrival_rate=0.6)  # crowded: cells touch
    frames, truths = zip(*synthetic_flow(60, seed=4, flow=flow))
    bg = estimate_background(np.stack(frames))
    for f, t in zip(frames[30:], truths[30:]):
        assert len(detect(f, bg)) <= len(t) + 1


def test_each_cell_is_decided_once_and_deterministically(video, classifier):
    frames, truths = video
    bg = estimate_background(frames[:60])
    runs = [list(Sorter(classifier, bg, SorterConfig(threshold=0.0)).run(frames)) for _ in range(2)]
    assert [(e.frame, e.track, e.class_name, e.margin) for e in runs[0]] == \
           [(e.frame, e.track, e.class_name, e.margin) for e in runs[1]]
    events = runs[0]
    assert len({e.track for e in events}) == len(events) > 5
    crossing = {c.cell_id for t in truths for c in t if c.col >= 128}
    assert len(events) <= len(crossing)
    for e in events:
        assert e.col >= 128 and e.sort == (e.margin > 0.0) and e.stage_us["total"] > 0
        assert any(abs(c.row - e.row) < 8 and abs(c.col - e.col) < 8 for c in truths[e.frame])


def test_bad_frames_are_reported_and_the_stream_goes_on(video, classifier):
    frames, _ = video
    bg = estimate_background(frames[:60])
    nan = frames[70].astype(np.float32)
    nan[0, 0] = np.nan
    stream = [frames[70], frames[71].astype(np.int16), frames[72][:50], nan, frames[73]]
    events = list(Sorter(classifier, bg).run(stream))
    errors = [e.error for e in events if e.error]
    assert len(errors) == 3
    assert "uint8" in errors[0] and "shape" in errors[1] and "non-finite" in errors[2]


def test_classifier_backends_agree_and_report_timing(classifier, video):
    frames, _ = video
    crops = frames[:6, 40:72, 40:72]
    emu = classifier.classify(crops)
    qk_classifier = CellClassifier(classifier.artifact, backend="qkeras")
    qk = qk_classifier.classify(crops)
    assert np.array_equal(emu.margins, qk.margins)  # the emulator is bit-exact with QKeras
    numpy_emu = CellClassifier(classifier.artifact, emulator_backend="numpy")
    assert np.array_equal(numpy_emu.classify(crops).margins, emu.margins)
    assert classifier.engine.startswith("emulator (native, ") and qk_classifier.engine == "qkeras"
    assert numpy_emu.engine == "emulator (numpy)"
    assert emu.probabilities.shape == (6, 2) and np.allclose(emu.probabilities.sum(1), 1)
    assert emu.seconds > 0 and classifier.classify(crops[0]).labels.shape == (1,)
    with pytest.raises(TypeError, match="uint8"):
        classifier.classify(crops.astype(float))


def test_sorter_in_fpga_detector_mode_decides_each_crossing_cell_once(tmp_path):
    """detector="fpga": the firmware's streaming detection and crossing trigger in the
    software sorter; every decision is a true cell, none decided twice."""
    from cellsort.data.preprocess import Preprocessing
    from cellsort.sorter import (
        CellClassifier,
        Sorter,
        SorterConfig,
        estimate_background,
        synthetic_flow,
    )
    from cellsort.student import StudentArtifact, build_student

    art = StudentArtifact(build_student("tiny", input_size=(24, 24)), Preprocessing(input_size=(48, 48), bin=2),
                          ("B", "T4"))
    video = list(synthetic_flow(150, seed=4))
    frames = np.stack([f for f, _ in video])
    sorter = Sorter(CellClassifier(art), estimate_background(frames), SorterConfig(detector="fpga"))
    events = list(sorter.run(frames))
    assert len(events) >= 4 and not any(e.error for e in events)
    from cellsort.firmware.fpga_detect import FpgaDetectConfig, FpgaDetector

    fpga = FpgaDetector(estimate_background(frames), FpgaDetectConfig(), 48, 96)
    crossings = [(i, obj.row, obj.col) for i, f in enumerate(frames)
                 for obj, crossed in [fpga.frame(f)] if crossed]
    assert [(e.frame, e.row, e.col) for e in events] == crossings  # exactly the firmware's decisions
    assert all(e.col >= 128 for e in events) and len({e.frame for e in events}) == len(events)
    dist = [min(np.hypot(c.row - e.row, c.col - e.col) for c in video[e.frame][1]) for e in events]
    # cells side by side in the window merge into one object (the limit of a row-run pass)
    assert np.mean(np.asarray(dist) <= 6) >= 0.5
