"""Run folders: naming, refusing foreign folders, metrics.csv, summary.json, ``ravine runs``."""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import os

import numpy as np
import pytest

import ravine as rv
from ravine.runs import (RunFolder, RunFolderError, build_summary, is_run_folder, list_runs,
                         read_metrics, run_status, save_checkpoint)
from ravine.train import History

NOW = dt.datetime(2024, 5, 1, 14, 22, 33)


# --- creating and opening --------------------------------------------------------------------------

def test_default_names_are_timestamped_and_unique(tmp_path):
    root = tmp_path / "runs"
    runs = [RunFolder.create(data_name="digits", root=root, now=NOW) for _ in range(3)]
    assert [r.path.name for r in runs] == ["20240501-142233-digits", "20240501-142233-digits-2",
                                           "20240501-142233-digits-3"]
    assert all(r.path.is_dir() and not any(r.path.iterdir()) for r in runs)
    named = RunFolder.create(data_name="/home/me/data/My Wine (v2).csv.gz", root=root, now=NOW)
    assert named.path.name == "20240501-142233-My-Wine-v2"
    assert RunFolder.create(data_name="???", root=root, now=NOW).path.name == "20240501-142233-run"
    fresh = RunFolder.create(data_name="iris", root=root)
    assert fresh.path.parent == root and fresh.path.name.endswith("-iris")


def test_out_new_empty_or_old_run(tmp_path):
    new = RunFolder.create(tmp_path / "a" / "b")
    assert new.path == tmp_path / "a" / "b" and new.path.is_dir()
    (tmp_path / "empty").mkdir()
    assert RunFolder.create(tmp_path / "empty").path == tmp_path / "empty"
    old = RunFolder.create(tmp_path / "old")
    old.write_config({"data": "digits"})
    for name in ("model.npz", "model.json", "curves.png", "metrics.csv", ".model.npz.123.abcd.tmp"):
        (old.path / name).write_bytes(b"stale")
    save_checkpoint(old.path, {"w": np.zeros(2)}, {"epoch": 3})
    (old.path / "notes.txt").write_text("mine")
    again = RunFolder.create(old.path)
    assert sorted(os.listdir(again.path)) == ["notes.txt"]  # the old run's files are gone, nothing else


def test_refuses_foreign_folders_and_files(tmp_path):
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "config.toml").write_text("[tool.other]\nx = 1\n")
    with pytest.raises(RunFolderError, match=r"project is a non-empty folder that is not a ravine run"):
        RunFolder.create(tmp_path / "project")
    assert (tmp_path / "project" / "config.toml").read_text() == "[tool.other]\nx = 1\n"
    (tmp_path / "file").write_text("x")
    with pytest.raises(RunFolderError, match="exists and is a file, not a folder"):
        RunFolder.create(tmp_path / "file")
    assert issubclass(RunFolderError, ValueError)


def test_open_and_is_run_folder(tmp_path):
    with pytest.raises(RunFolderError) as info:
        RunFolder.open(tmp_path)
    assert str(info.value) == f"{tmp_path} is not a ravine run folder (no config.toml/summary.json/checkpoint)"
    with pytest.raises(FileNotFoundError, match="no such run folder"):
        RunFolder.open(tmp_path / "missing")
    assert not is_run_folder(tmp_path / "missing") and not is_run_folder(__file__)
    for i, make in enumerate([lambda r: r.write_config({"seed": 1}),
                              lambda r: r.write_summary({"epochs_run": 0}),
                              lambda r: r.save_checkpoint({"w": np.zeros(1)}, {"epoch": 0})]):
        run = RunFolder.create(tmp_path / f"r{i}")
        assert not is_run_folder(run.path)
        make(run)
        assert is_run_folder(run.path) and RunFolder.open(run.path).path == run.path
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "summary.json").write_text('{"format": "something-else"}')
    assert not is_run_folder(tmp_path / "x")


def test_paths(tmp_path):
    run = RunFolder(tmp_path)
    assert [p.name for p in (run.config_path, run.metrics_path, run.summary_path, run.curves_path,
                             run.model_npz_path, run.model_json_path, run.checkpoint_npz_path,
                             run.checkpoint_json_path)] == \
        ["config.toml", "metrics.csv", "summary.json", "curves.png", "model.npz", "model.json",
         "checkpoint.npz", "checkpoint.json"]
    assert os.fspath(run) == str(tmp_path)


def test_config_round_trip(tmp_path):
    run = RunFolder.create(tmp_path / "r")
    config = {"data": "digits", "label_column": None, "seed": 0, "lr": 0.05,
              "model": {"hidden": [100, 100], "activation": "tanh", "batchnorm": False},
              "optimizer": {"name": "adam", "betas": [0.9, 0.999]}}
    run.write_config(config)
    text = run.config_path.read_text()
    assert text.startswith("# ravine run configuration (ravine ")
    assert run.read_config() == {k: v for k, v in config.items() if v is not None}


# --- metrics.csv ---------------------------------------------------------------------------------

def example_history() -> History:
    h = History(stop_reason=None)
    for e in range(1, 4):
        h.append({"epoch": e, "loss": 1.0 / e, "error": 0.5 / e, "val_loss": 1.1 / e,
                  "val_error": math.nan if e == 2 else 0.6 / e, "lr": 0.1, "seconds": 0.25,
                  "schedule_scale": 1.0})
    for s in (1, 6, 11):
        h.record_step({"step": s, "epoch": 1 + s // 5, "lr": 0.1, "gTg": 2.0 + s, "gTHg": -1.0 * s,
                       "curvature": -s / (2.0 + s), "stable_lr": math.inf, "ill_conditioned": s > 5,
                       "grad_norm[0.weight]": 0.1 * s, "grad_norm[2.weight]": 0.2 * s})
    return h


def test_metrics_csv_with_the_csv_module(tmp_path):
    run = RunFolder.create(tmp_path / "r")
    history = example_history()
    run.write_metrics(history)
    assert sorted(os.listdir(run.path)) == ["metrics.csv"]
    with open(run.metrics_path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    header = list(rows[0])
    assert header[:9] == ["kind", "epoch", "step", "loss", "error", "val_loss", "val_error", "lr", "seconds"]
    assert "schedule_scale" in header and "grad_norm[0.weight]" in header and "gTHg" in header
    assert [r["kind"] for r in rows] == ["epoch"] * 3 + ["step"] * 3
    assert [int(r["epoch"]) for r in rows[:3]] == [1, 2, 3] and rows[0]["step"] == ""
    assert float(rows[2]["loss"]) == 1.0 / 3  # exact
    assert rows[1]["val_error"] == "nan" and rows[3]["stable_lr"] == "inf"
    assert [r["ill_conditioned"] for r in rows[3:]] == ["0", "1", "1"]
    assert rows[3]["step"] == "1" and rows[3]["loss"] == "" and rows[4]["epoch"] == "2"
    assert rows[0]["gTg"] == ""
    back = read_metrics(run.metrics_path)
    assert back.epochs[0] == history.epochs[0]
    assert back["loss"] == history["loss"] and math.isnan(back["val_error"][1])
    assert [r["step"] for r in back.steps] == [1, 6, 11]
    assert back.steps[2]["grad_norm[2.weight]"] == history.steps[2]["grad_norm[2.weight]"]
    assert back.steps[1]["ill_conditioned"] == 1


def test_metrics_csv_with_pandas(tmp_path):
    pd = pytest.importorskip("pandas")
    run = RunFolder.create(tmp_path / "r")
    run.write_metrics(example_history())
    df = pd.read_csv(run.metrics_path)
    epochs, steps = df[df.kind == "epoch"], df[df.kind == "step"]
    assert len(epochs) == 3 and len(steps) == 3
    assert df["epoch"].dtype.kind == "i" and df["loss"].dtype.kind == "f"
    assert np.isinf(steps["stable_lr"]).all() and np.isnan(epochs["val_error"].iloc[1])
    assert steps["step"].tolist() == [1, 6, 11]


def test_metrics_rewritten_each_time_and_empty_history(tmp_path):
    run = RunFolder.create(tmp_path / "r")
    run.write_metrics(History())
    assert run.metrics_path.read_text() == "kind,epoch,step,loss,error,val_loss,val_error,lr,seconds\n"
    history = example_history()
    run.write_metrics(history.to_dict())
    assert len(run.metrics_path.read_text().splitlines()) == 7
    with pytest.raises(TypeError, match=r"history epoch row 0, 'w' is a ndarray"):
        run.write_metrics({"epochs": [{"epoch": 1, "w": np.zeros(2)}]})
    assert len(run.metrics_path.read_text().splitlines()) == 7  # unchanged
    (run.path / "bad.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="not a ravine metrics.csv"):
        read_metrics(run.path / "bad.csv")


# --- summary.json and status ---------------------------------------------------------------------

def test_summary_is_strict_json(tmp_path):
    run = RunFolder.create(tmp_path / "r")
    summary = build_summary(example_history(), data="digits", seconds=1.5,
                            results={"train": {"loss": 0.1, "error": 0.0},
                                     "valid": {"loss": math.nan, "error": 0.05},
                                     "test": {"loss": 0.2, "error": 0.04}})
    assert summary["best_epoch"] == 3 and summary["epochs_run"] == 3 and summary["status"] == "finished"
    run.write_summary(summary)
    back = json.loads(run.summary_path.read_text(), parse_constant=lambda c: pytest.fail(c))
    assert back["format"] == "ravine-run" and back["ravine_version"] == rv.__version__
    assert back["valid_loss"] is None and back["test_error"] == 0.04 and back["data"] == "digits"
    assert run.read_summary() == back
    assert build_summary(History([{"epoch": 1, "loss": 1.0, "seconds": 2.0}]), data="x")["seconds"] == 2.0


def test_status_from_the_trainers_own_stop_reasons():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)

    def fit(lr, callbacks=()):
        model = rv.nn.MLP(3, [4], 2, activation="relu", seed=0)
        trainer = rv.train.Trainer(model, rv.optim.SGD(model, lr=lr), batch_size=16, seed=0,
                                   callbacks=list(callbacks), progress=None)
        return trainer.fit(X, y, epochs=6, validation_data=(X, y))

    assert run_status(fit(0.1).stop_reason) == "finished"
    with np.errstate(all="ignore"):
        assert run_status(fit(1e30).stop_reason) == "diverged"
    stopped = fit(0.0, [rv.train.EarlyStopping(monitor="val_loss", patience=1)])
    assert run_status(stopped.stop_reason) == "early-stopped"
    assert run_status("a callback said so") == "stopped"


# --- ravine runs ---------------------------------------------------------------------------------

def test_list_runs(tmp_path):
    root = tmp_path / "runs"
    finished = RunFolder.create(data_name="digits", root=root, now=NOW)
    finished.write_config({"data": "digits"})
    finished.write_summary(build_summary(example_history(), data="digits", seconds=12.5,
                                         results={"valid": {"error": 0.05}, "test": {"error": 0.04}}))
    early = RunFolder.create(data_name="iris", root=root, now=NOW + dt.timedelta(seconds=1))
    history = example_history()
    history.stop_reason = "early stopping: val_loss did not improve for 5 epochs after epoch 1"
    early.write_summary(build_summary(history, data="iris"))
    diverged = RunFolder.create(data_name="wine", root=root, now=NOW + dt.timedelta(seconds=2))
    history.stop_reason = "training diverged: the loss became nan at epoch 3, step 40"
    diverged.write_summary(build_summary(history, data="wine"))
    running = RunFolder.create(data_name="moons", root=root, now=NOW + dt.timedelta(seconds=3))
    running.write_config({"data": {"name": "moons", "noise": 0.1}})
    running.save_checkpoint({"w": np.zeros(2)}, {"epoch": 7})
    started = RunFolder.create(data_name="circles", root=root, now=NOW + dt.timedelta(seconds=4))
    started.write_config({"data": "circles.csv"})
    started.write_metrics(example_history())
    broken = RunFolder.create(data_name="bad", root=root, now=NOW + dt.timedelta(seconds=5))
    broken.write_config({"data": "bad"})
    broken.summary_path.write_text("{not json")
    (root / "not-a-run").mkdir()
    (root / "not-a-run" / "x.txt").write_text("x")
    (root / "stray-file.txt").write_text("x")

    rows = list_runs(root)
    assert [r["folder"] for r in rows] == [
        "20240501-142233-digits", "20240501-142234-iris", "20240501-142235-wine",
        "20240501-142236-moons", "20240501-142237-circles", "20240501-142238-bad"]
    table = {r["data"]: r for r in rows}
    assert table["digits"] == {
        "folder": "20240501-142233-digits", "path": str(finished.path), "data": "digits",
        "status": "finished", "epochs": 3, "best_epoch": 3, "valid_error": 0.05, "test_error": 0.04,
        "seconds": 12.5}
    assert table["iris"]["status"] == "early-stopped" and table["wine"]["status"] == "diverged"
    assert table["moons"]["status"] == "running-or-interrupted" and table["moons"]["epochs"] == 7
    assert table["circles.csv"]["status"] == "running-or-interrupted" and table["circles.csv"]["epochs"] == 3
    assert table["bad"]["status"] == "unreadable"
    (tmp_path / "empty-root").mkdir()
    assert list_runs(tmp_path / "empty-root") == []
    with pytest.raises(FileNotFoundError, match="no such folder"):
        list_runs(tmp_path / "nowhere")


# --- documentation ---------------------------------------------------------------------------------

def public_callables():
    import inspect

    import ravine.runs as runs

    for name in runs.__all__:
        obj = getattr(runs, name)
        if inspect.isclass(obj) and issubclass(obj, Exception):
            continue
        yield name, obj
        if inspect.isclass(obj):
            for attr, member in vars(obj).items():
                if not attr.startswith("_") and (inspect.isfunction(member) or isinstance(member, classmethod)):
                    yield f"{name}.{attr}", getattr(obj, attr)


@pytest.mark.parametrize("name, obj", list(public_callables()), ids=lambda v: str(v)[:40])
def test_public_names_have_a_docstring_with_an_example(name, obj):
    import inspect

    assert "Example" in (inspect.getdoc(obj) or ""), f"{name} has no example in its docstring"
