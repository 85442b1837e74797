"""train-teacher → distill → student import through the command line, and the real-data check."""
import json

import numpy as np

from cellsort.cli import main
from cellsort.data import open_dataset
from cellsort.distill import DistillConfig, distill, load_soft_targets
from cellsort.student import load_student
from cellsort.teacher import TeacherConfig, train_teacher


def test_teacher_then_distill_commands(synth_folder, tmp_path):
    tcfg = tmp_path / "teacher.yaml"
    tcfg.write_text("arch: resnet10\nwidth: 4\ninput_size: 0\nepochs: 1\nviews: 2\nbatch_size: 32\n")
    scfg = tmp_path / "student.yaml"
    scfg.write_text("student: tiny\ninput_size: [24, 24]\nepochs: 1\nbatch_size: 32\n")
    assert main(["train-teacher", "--data", str(synth_folder), "--out", str(tmp_path / "t"),
                 "--config", str(tcfg)]) == 0
    meta = json.loads((tmp_path / "t/teacher.json").read_text())
    assert meta["config"]["width"] == 4 and meta["soft_targets"]["rows"] == 2 * 96
    assert main(["distill", "--data", str(synth_folder), "--teacher", str(tmp_path / "t"),
                 "--out", str(tmp_path / "s"), "--config", str(scfg), "--task", "B:B;T:T4+T8"]) == 0
    art = load_student(tmp_path / "s")
    assert art.class_names == ("B", "T") and art.info["distill"]["method"] == "kd-margin"
    assert art.info["distill"]["teacher"] == str(tmp_path / "t")


def test_bad_teacher_config_is_one_line(synth_folder, tmp_path, capsys):
    bad = tmp_path / "t.yaml"
    bad.write_text("arch: resnet10\nepochz: 3\n")
    assert main(["train-teacher", "--data", str(synth_folder), "--out", str(tmp_path / "t"),
                 "--config", str(bad)]) == 2
    assert "t.yaml: invalid TeacherConfig: epochz" in capsys.readouterr().err


def test_teacher_presets(synth_folder, tmp_path, capsys):
    """--preset cpu trains the CPU-sized teacher (no GPU warning); bad presets and epochs are
    one line, exit 2."""
    assert main(["train-teacher", "--data", str(synth_folder), "--out", str(tmp_path / "t"),
                 "--preset", "cpu", "--epochs", "1"]) == 0
    meta = json.loads((tmp_path / "t/teacher.json").read_text())
    assert (meta["config"]["arch"], meta["config"]["width"], meta["config"]["epochs"]) == ("resnet10", 12, 1)
    assert "GPU-sized" not in capsys.readouterr().err
    assert main(["train-teacher", "--data", str(synth_folder), "--out", str(tmp_path / "u"),
                 "--preset", "nope"]) == 2
    assert main(["train-teacher", "--data", str(synth_folder), "--out", str(tmp_path / "u"),
                 "--preset", "cpu", "--epochs", "0"]) == 2
    assert capsys.readouterr().err.count("error:") == 2


def test_student_import_command(tmp_path):
    from cellsort.keras_compat import tf_keras

    keras = tf_keras()
    L = keras.layers
    x = inp = keras.Input((48, 48, 1))
    for _ in range(2):
        x = L.MaxPooling2D(2)(L.Conv2D(16, 3, activation="relu")(x))
    model = keras.Model(inp, L.Dense(2, activation="softmax")(L.Flatten()(x)))
    model.save(tmp_path / "float.h5")
    assert main(["student", "import", str(tmp_path / "float.h5"), "--out", str(tmp_path / "q")]) == 0
    art = load_student(tmp_path / "q")
    assert art.model.count_params() == 5682
    assert art.info["quantization"] == "post-training, formats from data"


def test_student_import_with_qat_finetune(tmp_path, synth_folder):
    import torch

    from tests.test_import import _TorchPaper

    torch.manual_seed(0)
    torch.save(_TorchPaper().state_dict(), tmp_path / "s.pt")
    assert main(["student", "import", str(tmp_path / "s.pt"), "--out", str(tmp_path / "q"),
                 "--data", str(synth_folder), "--finetune-epochs", "1"]) == 0
    art = load_student(tmp_path / "q")
    assert "quantization-aware fine-tuning" in art.info["quantization"]
    assert "accuracy" in art.info["post_training_test"] and len(art.info["distill"]["history"]) == 1


def test_real_jurkat_teacher_and_student_learn(jurkat_path, tmp_path):
    """Real bright-field crops (G1 vs G2): both stages learn well above chance."""
    data = open_dataset(jurkat_path, task="g1-vs-g2")
    tcfg = TeacherConfig(arch="resnet10", width=8, input_size=0, epochs=3, views=2, patience=3)
    teacher = train_teacher(data, tcfg, tmp_path / "t", progress=False)
    assert teacher["test"]["accuracy"] > 0.7
    s = distill(data, DistillConfig(student="paper", input_size=(40, 40), epochs=4),
                tmp_path / "s", cache=load_soft_targets(tmp_path / "t/soft_targets.npz"),
                progress=False)
    assert s["test"]["accuracy"] > 0.7 and s["test"]["auc"] > 0.75
    assert np.isfinite(s["history"][-1]["train_loss"])
