"""``cellsort explore``: a tiny study with two local workers on one storage, its front, resume,
and the exported design C-simulated bit-exactly."""
from __future__ import annotations

import io
import json

import numpy as np
import pytest

from cellsort.config import ConfigError
from cellsort.explore import ExploreConfig, SearchSpace, explore, pareto

SPACE = SearchSpace(students=["tiny", "small"], bins=[2, 4], weight_bits=[4, 6, 8], act_bits=[4, 6, 8],
                    reuse_factors=[1, 2], methods=["labels"])


def test_pareto_keeps_exactly_the_non_dominated_points():
    pts = np.array([[0.9, 10.0], [0.8, 2.0], [0.85, 5.0], [0.8, 6.0], [0.9, 12.0], [0.7, 1.0]])
    assert sorted(pareto(pts).tolist()) == [0, 1, 2, 5]


def _dominates(a, b) -> bool:
    return (a["val_accuracy"] >= b["val_accuracy"] and a["latency_us"] <= b["latency_us"]
            and (a["val_accuracy"] > b["val_accuracy"] or a["latency_us"] < b["latency_us"]))


@pytest.fixture(scope="module")
def study_run(tmp_path_factory):
    from cellsort.data.synth import write_synthetic

    root = tmp_path_factory.mktemp("explore")
    write_synthetic(root / "data", 400, seed=2)
    cfg = ExploreConfig(data=str(root / "data"), task="B,T4", trials=4, workers=2, epochs=1,
                        population=4, space=SPACE, heartbeat_s=2)
    summary = explore(cfg, root / "study", log=lambda msg: None)
    return root, cfg, summary


def test_workers_that_open_the_artifact_table_together_both_get_it(tmp_path):
    """The second to create the table (here: always, the check is not made first) finds it made
    by the first and shares it, as two workers starting at once do."""
    import sqlalchemy

    from cellsort.explore.artifacts import DatabaseArtifactStore

    engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'study.db'}")
    first, second = DatabaseArtifactStore(engine), DatabaseArtifactStore(engine)
    first.write("a1", io.BytesIO(b"student"))
    with second.open_reader("a1") as f:
        assert f.read() == b"student"


def test_two_workers_share_one_study_and_the_front_is_non_dominated(study_run):
    import optuna

    root, cfg, summary = study_run
    study = optuna.load_study(study_name="cellsort-explore", storage=summary["storage"])
    finished = [t for t in study.trials if t.state.is_finished()]
    assert len(study.trials) == len(finished) == 4  # "up to N in all" is exact with two workers
    assert sum(summary["trials"].values()) == 4 and summary["state"]["slots"] == 4
    assert sorted(t.user_attrs["slot"] for t in study.trials) == [0, 1, 2, 3]
    front = json.loads((root / "study" / "front.json").read_text())
    assert front and front == summary["front"]
    for a in front:  # no member of the front dominates another
        assert not any(_dominates(b, a) for b in front if b is not a)
        assert a["test_accuracy"] is not None  # the front, and only the front, is tested
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE
                and all(c <= 0 for c in t.user_attrs["constraints"])]
    on_front = {r["trial"] for r in front}
    for t in complete:  # every feasible trial off the front is dominated by one on it
        if t.number not in on_front:
            row = {"val_accuracy": t.values[0], "latency_us": t.values[1]}
            assert any(_dominates(r, row) for r in front)
    for name in ("front.csv", "front.parquet", "front.png", "explore.json"):
        assert (root / "study" / name).is_file()
    # trials never measured the test split: their artifacts hold no test figures
    one = next(iter((root / "study" / "trials").iterdir()))
    assert json.loads((one / "artifact.json").read_text())["distill"]["test"] is None


def test_a_second_run_resumes_the_same_study(study_run):
    root, cfg, first = study_run
    again = explore(cfg.model_copy(update={"trials": 6, "workers": 1}), root / "study",
                    log=lambda msg: None)
    assert again["trials_before"] == 4 and sum(again["trials"].values()) == 6
    with pytest.raises(ConfigError, match="other settings.*epochs"):
        explore(cfg.model_copy(update={"epochs": 2}), root / "study", log=lambda msg: None)


def test_exported_design_c_simulates_bit_exactly(study_run):
    from cellsort.data.load import open_dataset
    from cellsort.firmware.boards import load_board
    from cellsort.firmware.flow import run_firmware
    from cellsort.student.artifact import load_student

    root, cfg, summary = study_run
    assert summary["best"] is not None and summary["best"]["latency_high_us"] <= cfg.budget_us
    art = load_student(root / "study" / "best")
    assert art.preprocessing.bin == summary["best"]["bin"]
    test = open_dataset(cfg.data, cfg.task).test
    fw = run_firmware(art, load_board(cfg.board), root / "fw", test.images, n_csim=8)
    assert fw["n_csim"] == 8 and fw["bit_exact"] == 8


def test_journal_storage_and_the_command_line(tmp_path, study_run):
    from cellsort.cli import main

    root, cfg, _ = study_run
    (tmp_path / "space.yaml").write_text(json.dumps({"space": SPACE.model_dump(), "population": 2}))
    args = ["explore", "--data", cfg.data, "--task", "B,T4", "--out", str(tmp_path / "j"),
            "--trials", "1", "--epochs", "1", "--config", str(tmp_path / "space.yaml"),
            "--storage", f"journal://{tmp_path / 'shared' / 'study.log'}", "--json"]
    assert main(args) == 0
    assert (tmp_path / "shared" / "study.log").is_file()
    assert main(["explore", "--data", cfg.data, "--out", str(tmp_path / "bad"), "--trials", "1",
                 "--storage", "nosuchdb://x"]) == 2


def test_rtl_backend_searches_the_parallelism(tmp_path, study_run):
    """With the RTL back end the latency is the RTL schedule's (exact cycles; the band is the
    clock's, down to half the assumed one) and the halved parallelism is a design variable."""
    root, cfg, _ = study_run
    space = SearchSpace(students=["tiny"], bins=[2], weight_bits=[8], act_bits=[8], reuse_factors=[1],
                        methods=["labels"], parallelisms=["auto", "half"])
    rcfg = ExploreConfig(data=cfg.data, task="B,T4", trials=3, epochs=1, population=2, space=space,
                         backend="rtl", sampler="random", seed=1)
    s = explore(rcfg, tmp_path / "rtl", log=lambda msg: None)
    assert s["front"] and all(r["latency_low_us"] == r["latency_us"] == r["latency_high_us"] / 2 for r in s["front"])
    import optuna

    study = optuna.load_study(study_name="cellsort-explore", storage=s["storage"])
    methods = {t.user_attrs["latency"]["method"] for t in study.trials if "latency" in t.user_attrs}
    assert methods and all("RTL cycle schedule" in m for m in methods)
    with pytest.raises(ValueError, match="need backend: rtl"):
        ExploreConfig(data=cfg.data, space=space)
