"""A design search shared through a real PostgreSQL server by worker processes with no shared
file system: exact trial count, the single worker's front, every artifact found, a worker
killed mid-trial (retried, counted once) and the database server stopped mid-study."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pgcluster
import pytest

SPACE = {"students": ["tiny"], "bins": [2, 4], "weight_bits": [4, 8], "act_bits": [4, 8],
         "reuse_factors": [1], "methods": ["labels"]}


@pytest.fixture(scope="module")
def cluster():
    why = pgcluster.why_unavailable()
    if why:
        pytest.skip(f"PostgreSQL tests skipped: {why}")
    server = pgcluster.Cluster()
    yield server
    server.close()


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    from cellsort.data.synth import write_synthetic

    root = tmp_path_factory.mktemp("cluster-data")
    write_synthetic(root / "data", 300, seed=5)
    (root / "cfg.yaml").write_text(json.dumps({"space": SPACE, "population": 2}))
    return root


def _explore(data: Path, url: str, out: Path, trials: int, epochs: int = 1, **extra) -> list[str]:
    args = [sys.executable, "-m", "cellsort", "explore", "--data", str(data / "data"), "--task", "B,T4",
            "--out", str(out), "--trials", str(trials), "--epochs", str(epochs), "--storage", url,
            "--sampler", "random", "--heartbeat-s", "1", "--config", str(data / "cfg.yaml"), "--json"]
    for k, v in extra.items():
        args += [f"--{k.replace('_', '-')}", str(v)]
    return args


def _start(args, cwd: Path) -> subprocess.Popen:
    cwd.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _study(url: str):
    import optuna

    return optuna.load_study(study_name="cellsort-explore", storage=url)


def _front_key(front: list[dict]) -> list[tuple]:
    return sorted((r["slot"], r["label"], r["method"], round(r["val_accuracy"], 6)) for r in front)


def test_workers_share_one_study_on_postgres(cluster, data, tmp_path):
    """Two processes, each its own folder: exactly N trials, the single worker's front, and
    every front student found by both (fetched from the database)."""
    url = cluster.create("shared")
    workers = [_start(_explore(data, url, tmp_path / f"host{k}" / "out", 4), tmp_path / f"host{k}")
               for k in range(2)]
    results = []
    for w in workers:
        out, err = w.communicate(timeout=900)
        assert w.returncode == 0, err[-3000:]
        results.append(json.loads(out))
    study = _study(url)
    assert len(study.trials) == 4 and all(t.state.is_finished() for t in study.trials)
    assert sorted(t.user_attrs["slot"] for t in study.trials) == [0, 1, 2, 3]
    assert results[0]["state"]["slots"] == 4 and results[0]["state"]["retried"] == 0
    single_url = cluster.create("single")
    alone = subprocess.run(_explore(data, single_url, tmp_path / "alone" / "out", 4), cwd=tmp_path,
                           capture_output=True, text=True, timeout=900)
    assert alone.returncode == 0, alone.stderr[-3000:]
    front_alone = json.loads(alone.stdout)["front"]
    for r in results:  # the same front, whichever worker trained which slot
        assert _front_key(r["front"]) == _front_key(front_alone) and r["front"]
        assert all(row["artifact_here"] for row in r["front"])
    trained_by = {k: {p.name for p in (tmp_path / f"host{k}" / "out" / "trials").iterdir()} for k in range(2)}
    assert trained_by[0] | trained_by[1] >= {f"{r['slot']:04d}" for r in front_alone}


def _wait_for_running_training(url: str, timeout: float = 600):
    """Wait until some trial is past its cost check and training (it has a design)."""
    from optuna.trial import TrialState

    end = time.time() + timeout
    while time.time() < end:
        try:
            running = [t for t in _study(url).get_trials(states=(TrialState.RUNNING,)) if "design" in t.user_attrs]
        except Exception:  # noqa: BLE001 - the study may not exist yet
            running = []
        if running:
            return running[0]
        time.sleep(0.3)
    raise AssertionError("no trial started training")


def test_a_killed_worker_is_retried_and_counted_once(cluster, data, tmp_path):
    import optuna

    url = cluster.create("killed")
    victim = _start(_explore(data, url, tmp_path / "a" / "out", 3, epochs=8), tmp_path / "a")
    stale = _wait_for_running_training(url)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(timeout=60)
    again = subprocess.run(_explore(data, url, tmp_path / "b" / "out", 3, epochs=8), cwd=tmp_path,
                           capture_output=True, text=True, timeout=900)
    assert again.returncode == 0, again.stderr[-3000:]
    study = _study(url)
    failed = study.trials[stale.number]
    assert failed.state == optuna.trial.TrialState.FAIL
    retry = [t for t in study.trials if t.system_attrs.get("failed_trial") == stale.number]
    assert len(retry) == 1 and retry[0].params == failed.params
    assert retry[0].user_attrs["slot"] == failed.user_attrs["slot"]
    state = json.loads(again.stdout)["state"]
    assert state["slots"] == 3 and state["retried"] == 1 and state["trials_in_storage"] == 4
    assert sum(state["by_state"].get(s, 0) for s in ("complete", "pruned")) == 3


def test_a_stopped_database_fails_the_worker_with_one_line_and_the_study_continues(cluster, data, tmp_path):
    url = cluster.create("outage")
    worker = _start(_explore(data, url, tmp_path / "w" / "out", 3, epochs=8), tmp_path / "w")
    _wait_for_running_training(url)
    cluster.stop()
    try:
        _, err = worker.communicate(timeout=600)
    finally:
        cluster.start()
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert worker.returncode == 2, err[-3000:]
    assert "Traceback" not in err and len([ln for ln in lines if ln.startswith("error:")]) == 1, err
    assert "cannot be reached" in err
    resumed = subprocess.run(_explore(data, url, tmp_path / "w2" / "out", 3, epochs=8), cwd=tmp_path,
                             capture_output=True, text=True, timeout=900)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    state = json.loads(resumed.stdout)["state"]
    assert state["slots"] == 3 and sum(state["by_state"].get(s, 0) for s in ("complete", "pruned")) == 3
