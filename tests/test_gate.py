"""The sort gate: chosen on validation when a student is trained, stored in its artifact and
used alike by the sorter, ``cellsort score``, the API and the firmware's threshold register;
the margin of the sorted class against all the others."""
import json

import numpy as np
import pytest

from cellsort.data import Dataset, synthesize
from cellsort.data.splits import SplitSpec, apply_splits, make_splits
from cellsort.distill import DistillConfig, distill
from cellsort.gate import Gate, choose_gate, purity_recovery, sort_margin
from cellsort.sorter import CellClassifier
from cellsort.student import load_student


def test_margin_is_the_sorted_class_against_the_rest():
    z = np.array([[3.0, 1.0, 2.5], [0.0, 4.0, 1.0], [1.0, 1.0, 1.0]])
    assert sort_margin(z, 1).tolist() == [-2.0, 3.0, 0.0]   # z1 - max(z0, z2)
    assert sort_margin(z, 0).tolist() == [0.5, -4.0, 0.0]
    # not top1 - top2 of whatever class: row 0's top two are classes 0 and 2
    assert sort_margin(z, 2)[0] == -0.5
    assert sort_margin(z[:, :2], 1).tolist() == (z[:, 1] - z[:, 0]).tolist()
    with pytest.raises(ValueError, match="no class 3"):
        sort_margin(z, 3)


def test_gate_is_chosen_for_the_sorted_class():
    margins = np.array([3.0, 2.0, 1.0, 0.0, -1.0])
    labels = np.array([2, 2, 0, 2, 1])
    gate = choose_gate(margins, labels, min_purity=1.0, sort_class=2)
    assert (gate.threshold, gate.purity, gate.recovery, gate.met) == (1.0, 1.0, 2 / 3, True)
    curve = purity_recovery(margins, labels, sort_class=2)
    assert curve["recovery"][-1] == 1.0


def test_unreachable_purity_keeps_the_argmax_gate_and_says_so():
    gate = choose_gate(np.array([1.0, 0.5, -1.0]), np.array([0, 0, 1]), min_purity=0.9)
    assert gate.threshold == 0.0 and not gate.met and gate.purity == 0.0 and gate.recovery == 0.0


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    pool = synthesize(160, seed=4)
    pool = Dataset(pool.images[:, 16:48, 16:48].copy(), pool.labels, pool.class_names, "synth")
    data = apply_splits(pool, make_splits(pool.labels, SplitSpec(val_fraction=0.25, test_fraction=0.2)))
    data = data.relabel({"B": ["B"], "T4": ["T4"]})
    out = tmp_path_factory.mktemp("gate") / "student"
    cfg = DistillConfig(student="tiny", input_size=(24, 24), epochs=3, batch_size=32, method="labels",
                        min_purity=0.6)
    summary = distill(data, cfg, out, progress=False)
    return data, out, summary


def test_training_stores_the_validation_gate_in_the_artifact(trained):
    data, out, summary = trained
    art = load_student(out)
    clf = CellClassifier(out)
    margins = clf.classify(data.val.images).margins
    expected = choose_gate(margins, data.val.labels, 0.6, 1)
    assert art.gate == expected and art.gate.chosen_on == "validation" and art.gate.n == len(data.val)
    assert summary["gate"] == expected.model_dump(mode="json")
    meta = json.loads((out / "artifact.json").read_text())
    assert meta["threshold"] == expected.threshold and meta["gate"]["purity"] == expected.purity
    assert clf.threshold_for() == expected.threshold and clf.threshold_for(1.25) == 1.25


def test_sort_score_and_firmware_use_the_artifact_gate(trained, tmp_path):
    """One gate everywhere: a cell is sorted when its margin exceeds the artifact's threshold."""
    from cellsort.data.rtdc_synth import write_synthetic_recording
    from cellsort.firmware.boards import load_board
    from cellsort.firmware.wrapper import threshold_register, write_wrapper
    from cellsort.score import score_recording
    from cellsort.sorter.run import run_events

    _, out, _ = trained
    art = load_student(out)
    gate = Gate(threshold=0.37, sort_class=1, min_purity=0.6, purity=0.9, recovery=0.5, met=True,
                chosen_on="validation", n=10)
    meta = json.loads((out / "artifact.json").read_text())
    meta.update(threshold=gate.threshold, gate=gate.model_dump(mode="json"))
    (out / "artifact.json").write_text(json.dumps(meta))
    clf = CellClassifier(out)
    write_synthetic_recording(tmp_path / "rec.rtdc", 200, seed=3)
    s = score_recording(tmp_path / "rec.rtdc", clf, tmp_path / "scored.rtdc")
    table = json.loads((tmp_path / "scored.json").read_text())
    assert s["threshold"] == table["threshold"] == 0.37
    events = run_events(tmp_path / "rec.rtdc", clf, tmp_path / "sort", progress=False)
    assert events["threshold"] == 0.37
    import pyarrow.parquet as pq

    rows = pq.read_table(tmp_path / "scored.parquet").to_pydict()
    assert rows["sort"] == [m > 0.37 for m in rows["margin"]]
    override = score_recording(tmp_path / "rec.rtdc", clf, tmp_path / "s2.rtdc", threshold=-100.0)
    assert override["threshold"] == -100.0 and override["sorted"] == override["events"]
    (tmp_path / "hls").mkdir()
    write_wrapper(tmp_path / "hls", art.model, art.preprocessing, load_board("coaxlink-ku035"), clf.gate)
    header = (tmp_path / "hls" / "cellsort_config.h").read_text()
    assert f"#define CS_DEFAULT_THRESHOLD {threshold_register(0.37)!r}" in header
    assert "#define CS_SORT_CLASS 1" in header and "#define CS_N_CLASSES 2" in header


def test_threshold_register_sorts_exactly_the_margins_above_the_gate():
    from cellsort.firmware.wrapper import threshold_register

    rng = np.random.default_rng(0)
    for t in rng.normal(0, 3, 200):
        r = threshold_register(float(t))
        codes = np.arange(-2 ** 12, 2 ** 12) / 2.0 ** 10   # margins on a 2**-10 grid
        assert np.array_equal(codes > r, codes > t)
        assert r * 2 ** 16 == int(r * 2 ** 16)            # on the register's grid
