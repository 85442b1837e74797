"""The ``cellsort`` command line: data commands and error handling."""
import json
import subprocess
import sys

import numpy as np
from PIL import Image

from cellsort.cli import main
from cellsort.data import read_lymphomnist


def test_synth_info_show(tmp_path, capsys):
    out = tmp_path / "data"
    assert main(["data", "synth", "--out", str(out), "--n", "60", "--seed", "2"]) == 0
    train, test = read_lymphomnist(out)
    assert len(train) + len(test) == 60
    capsys.readouterr()
    assert main(["data", "info", str(out), "--task", "B,T4"]) == 0
    text = capsys.readouterr().out
    assert "T4" in text and "T8" not in text.split("pixel mean")[0] and "pixel mean" in text
    png = tmp_path / "m.png"
    assert main(["data", "show", str(out), "--out", str(png), "--per-class", "3"]) == 0
    image = np.asarray(Image.open(png))
    assert image.shape[0] > 100 and image.std() > 5


def test_same_seed_same_files(tmp_path):
    for name in ("a", "b"):
        assert main(["data", "synth", "--out", str(tmp_path / name), "--n", "9", "--seed", "4"]) == 0
    assert (tmp_path / "a/train_images").read_bytes() == (tmp_path / "b/train_images").read_bytes()


def test_errors_are_one_clear_line(tmp_path, capsys):
    assert main(["data", "info", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert "error:" in err and "nowhere: no such file or folder" in err and "Traceback" not in err
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("image_size: 8\n")
    assert main(["data", "synth", "--out", str(tmp_path / "x"), "--n", "5", "--config", str(cfg)]) == 2
    assert "bad.yaml: invalid SynthConfig" in capsys.readouterr().err


def test_console_script_help():
    result = subprocess.run([sys.executable, "-m", "cellsort", "--help"], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0 and "data" in result.stdout and "demo" in result.stdout


def test_demo_data_stage(tmp_path):
    from cellsort.demo import DemoConfig, stage_data

    cfg = DemoConfig(n_images=90)
    first = stage_data(tmp_path, cfg, log=lambda msg: None)
    train = first["counts"]["train"]
    assert set(train) == {"B", "T4"} and 40 <= sum(train.values()) <= 56
    stamp = (tmp_path / "data" / "train_images").stat().st_mtime_ns
    messages = []
    stage_data(tmp_path, cfg, log=messages.append)  # reused, not regenerated
    assert any("reusing" in m for m in messages)
    assert (tmp_path / "data" / "train_images").stat().st_mtime_ns == stamp
    assert json.loads((tmp_path / "data" / "dataset.json").read_text())["n"] == 90
