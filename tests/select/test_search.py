"""The coordinator: acceptance on digits (grid and random, 8 trials, 2 processes), resume, halving,
and a search killed with SIGKILL that completes when run again."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ravine.cli import main
from ravine.select.search import run_search
from ravine.select.store import TrialStore

GRID = """
[search]
kind = "grid"
seed = 0
epochs = 3
[base]
data = "digits"
hidden = [16]
[space]
lr = [0.01, 0.1]
momentum = [0.0, 0.9]
batch_size = [32, 64]
"""

RANDOM = """
[search]
kind = "random"
trials = 8
seed = 1
epochs = 3
[base]
data = "digits"
hidden = [16]
[space]
lr = { loguniform = [0.003, 0.3] }
momentum = { uniform = [0.0, 0.95] }
"""


def write(tmp_path, text, name="space.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("text", [GRID, RANDOM], ids=["grid", "random"])
def test_acceptance_eight_trials_two_jobs(tmp_path, text, capsys):
    spec = write(tmp_path, text)
    out = tmp_path / "search"
    assert main(["search", str(spec), "--out", str(out), "--jobs", "2"]) == 0
    printed = capsys.readouterr().out
    assert printed.splitlines()[0] == "budget: 8 trials × 3 epochs = 24 trial-epochs"
    with TrialStore(out / "trials.sqlite") as store:
        rows = store.rows()
        assert [r["status"] for r in rows] == ["finished"] * 8 and store.executions() == 8
        accuracy = {r["index"]: 1 - r["metrics"]["val_error"] for r in rows}
        best = max(accuracy, key=lambda i: (accuracy[i], -i))
        assert store.test_count() == 1 and store.test()["index"] == best
    table = (out / "table.csv").read_text().splitlines()
    assert table[1].split(",")[1] == str(best)
    assert (out / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "metric_vs_params.png").is_file()
    # the same search again resumes: nothing re-run, the test set not evaluated again
    assert main(["search", str(spec), "--out", str(out), "--jobs", "2"]) == 0
    assert "resuming: 8/8 done, 0 interrupted trials re-queued" in capsys.readouterr().out
    with TrialStore(out / "trials.sqlite") as store:
        assert store.executions() == 8 and store.test_count() == 1


def test_best_config_runs_with_ravine_train(tmp_path, capsys):
    spec = write(tmp_path, GRID.replace("lr = [0.01, 0.1]", "lr = [0.1]").replace("batch_size = [32, 64]",
                                                                                    "batch_size = [64]"))
    out = tmp_path / "search"
    run_search(spec, out, jobs=1, out=lambda *a: None)
    assert main(["train", "--config", str(out / "best" / "config.toml"), "--out", str(tmp_path / "run")]) == 0
    assert "test accuracy" in capsys.readouterr().out


def test_halving_promoted_trials_continue(tmp_path):
    text = RANDOM.replace("epochs = 3", "epochs = 4\npruning = \"halving\"\neta = 2\nmin_epochs = 1")
    text = text.replace("trials = 8", "trials = 4")
    lines = []
    result = run_search(write(tmp_path, text), tmp_path / "s", jobs=2, out=lines.append)
    assert lines[0].startswith("budget: 4 trials × 4 epochs = 8 trial-epochs")  # 4·1 + 2·1 + 1·2
    with TrialStore(tmp_path / "s" / "trials.sqlite") as store:
        rows = {r["index"]: r for r in store.rows()}
    epochs = sorted(r["epochs"] for r in rows.values())
    assert epochs == [1, 1, 2, 4]
    assert sum(r["status"] == "pruned" for r in rows.values()) == 3
    final = [r for r in rows.values() if r["epochs"] == 4][0]
    assert result.best["index"] == final["index"]
    # it continued: one curve of 4 epochs, started three times (rungs 1, 2, 4), not retrained
    assert [p["epoch"] for p in final["curve"]] == [1, 2, 3, 4] and final["attempts"] == 3
    # rung decisions by hand from the curves: the best half at epoch 1, then the best at epoch 2
    at1 = sorted(rows, key=lambda i: (rows[i]["curve"][0]["val_error"], i))[:2]
    assert sorted(i for i in rows if rows[i]["epochs"] >= 2) == sorted(at1)
    at2 = min(at1, key=lambda i: (rows[i]["curve"][1]["val_error"], i))
    assert final["index"] == at2


@pytest.mark.parametrize("edit, message", [
    (("hidden = [16]", "hidden = [16]\nlearning_rate = 0.1"), "learning_rate"),
    (("lr = { loguniform = [0.003, 0.3] }", "lr = { loguniform = [0.0, 0.3] }"), "lr"),
    (("lr = { loguniform = [0.003, 0.3] }", "lr = { uniform = [0.3, 0.3] }"), "lr"),
    (("trials = 8", "trials = 0"), "trials"),
])
def test_bad_search_files_exit_2_before_any_trial(tmp_path, capsys, edit, message):
    spec = write(tmp_path, RANDOM.replace(*edit))
    assert main(["search", str(spec), "--out", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err
    assert not (tmp_path / "s").exists()


def test_not_a_search_folder_and_changed_search(tmp_path, capsys):
    assert main(["search", "status", str(tmp_path)]) == 2
    assert "not a search folder" in capsys.readouterr().err
    spec = write(tmp_path, GRID.replace("batch_size = [32, 64]", "batch_size = [64]")
                 .replace("momentum = [0.0, 0.9]", "momentum = [0.9]"))
    assert main(["search", str(spec), "--out", str(tmp_path / "s"), "--jobs", "1"]) == 0
    spec.write_text(spec.read_text().replace("epochs = 3", "epochs = 2"))
    assert main(["search", str(spec), "--out", str(tmp_path / "s"), "--jobs", "1"]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["search", str(spec), "--out", str(tmp_path / "s"), "--jobs", "1", "--force"]) == 0
    assert main(["search", "status", str(tmp_path / "s")]) == 0
    assert "2 trials: 2 finished" in capsys.readouterr().out


def test_sigkill_midway_then_resume_completes(tmp_path):
    text = GRID.replace("epochs = 3", "epochs = 6")
    spec = write(tmp_path, text)
    out = tmp_path / "killed"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2] / "src"))
    command = [sys.executable, "-m", "ravine.cli", "search", str(spec), "--out", str(out), "--jobs", "2"]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 120
    try:
        while time.time() < deadline:
            time.sleep(0.05)
            if (out / "trials.sqlite").is_file():
                try:
                    with sqlite3.connect(out / "trials.sqlite") as c:
                        n = c.execute("SELECT COUNT(*) FROM trials WHERE status = 'finished'").fetchone()[0]
                except sqlite3.Error:
                    continue
                if n >= 3:
                    break
        os.killpg(proc.pid, signal.SIGKILL)  # the coordinator and its workers, as a crash would
    finally:
        proc.wait(timeout=30)
    with TrialStore(out / "trials.sqlite") as store:
        counts = store.counts()
        in_flight = counts["running"]
        assert 3 <= counts["finished"] < 8 and in_flight >= 1
    lines = []
    run_search(spec, out, jobs=2, out=lines.append)
    assert f"interrupted trial{'s' if in_flight != 1 else ''} re-queued" in lines[1]
    assert lines[1].startswith(f"resuming: {counts['finished']}/8 done, {in_flight} ")
    with TrialStore(out / "trials.sqlite") as store:
        assert store.counts()["finished"] == 8 and store.executions() == 8 + in_flight
        assert store.test_count() == 1
    run_search(spec, tmp_path / "whole", jobs=2, out=lambda *a: None)
    assert (out / "table.csv").read_text() == (tmp_path / "whole" / "table.csv").read_text()
