"""The ravine command end to end, run for real in subprocesses, on real files."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

ENV = {**os.environ, "PYTHONHASHSEED": "0"}


def ravine(*args, cwd=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "ravine.cli", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, cwd=cwd, env=ENV)


def weights(folder) -> dict:
    with np.load(Path(folder) / "model.npz", allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def same_weights(a, b) -> bool:
    wa, wb = weights(a), weights(b)
    return wa.keys() == wb.keys() and all(np.array_equal(wa[k], wb[k]) for k in wa)


def write_csv(path, rows, header=None):
    lines = ([",".join(header)] if header else []) + [",".join(map(str, r)) for r in rows]
    Path(path).write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "iris-run"
    result = ravine("train", "--data", "iris", "--hidden", "8", "--epochs", "20", "--lr", "0.1", "--out", out)
    assert result.returncode == 0, result.stderr
    return out


def test_train_writes_a_complete_run_folder(trained):
    for name in ("config.toml", "metrics.csv", "summary.json", "curves.png", "model.npz", "model.json",
                 "checkpoint.npz", "checkpoint.json"):
        assert (trained / name).is_file(), name
    summary = json.loads((trained / "summary.json").read_text())
    assert summary["status"] == "finished" and summary["epochs_run"] == 20
    assert {"train_error", "valid_error", "test_error", "best_epoch", "seconds", "ravine_version"} <= set(summary)
    assert (trained / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = (trained / "metrics.csv").read_text().splitlines()
    assert rows[0].startswith("kind,epoch") and len(rows) == 21


def test_evaluate_and_runs_read_the_folder(trained):
    result = ravine("evaluate", trained)
    assert result.returncode == 0, result.stderr
    assert "test" in result.stdout and "%" in result.stdout
    listing = ravine("runs", trained.parent)
    assert listing.returncode == 0 and "iris-run" in listing.stdout and "finished" in listing.stdout


def test_predict_writes_one_row_per_example_with_class_names(trained, tmp_path):
    rows = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]
    new = write_csv(tmp_path / "new.csv", rows, header=["a", "b", "c", "d"])
    out = tmp_path / "pred.csv"
    result = ravine("predict", trained, new, "--output", out)
    assert result.returncode == 0, result.stderr
    lines = out.read_text().splitlines()
    assert lines[0].split(",") == ["prediction", "probability_setosa", "probability_versicolor",
                                   "probability_virginica"]
    assert len(lines) == 3
    assert [line.split(",")[0] for line in lines[1:]] == ["setosa", "virginica"]
    probabilities = np.array([[float(v) for v in line.split(",")[1:]] for line in lines[1:]])
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, atol=1e-5)


def test_train_on_a_user_csv_with_named_classes(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    labels = np.where(X[:, 0] + X[:, 1] > 0, "yes", "no")
    data = write_csv(tmp_path / "mine.csv", [[*map(lambda v: f"{v:.5f}", x), lab] for x, lab in zip(X, labels)],
                     header=["f1", "f2", "f3", "answer"])
    out = tmp_path / "run"
    result = ravine("train", "--data", data, "--label-column", "answer", "--epochs", "30", "--hidden", "6",
                    "--lr", "0.1", "--out", out)
    assert result.returncode == 0, result.stderr
    pred_out = tmp_path / "pred.csv"
    assert ravine("predict", out, data, "--output", pred_out).returncode == 0  # the label column is ignored
    predictions = [line.split(",")[0] for line in pred_out.read_text().splitlines()[1:]]
    assert set(predictions) <= {"yes", "no"} and len(predictions) == 120
    assert np.mean(np.array(predictions) == labels) > 0.8


def test_config_file_repeats_the_run_bit_for_bit(trained, tmp_path):
    again = tmp_path / "again"
    result = ravine("train", "--config", trained / "config.toml", "--out", again)
    assert result.returncode == 0, result.stderr
    assert same_weights(trained, again)
    changed = tmp_path / "changed"
    assert ravine("train", "--config", trained / "config.toml", "--seed", "1", "--out", changed).returncode == 0
    assert not same_weights(trained, changed)


def test_sigkill_mid_run_then_resume_gives_bit_identical_weights(tmp_path):
    args = ["--data", "digits", "--hidden", "32", "--batch-size", "4", "--epochs", "60", "--dropout", "0.1",
            "--optimizer", "adam", "--lr", "0.001"]
    killed = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "ravine.cli", "train", *args, "--out", str(killed)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV)
    deadline = time.monotonic() + 120
    epoch = 0
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            epoch = json.loads((killed / "checkpoint.json").read_text()).get("epoch", 0)
        except (OSError, ValueError):
            epoch = 0
        if epoch >= 3:
            break
        time.sleep(0.005)
    assert proc.poll() is None, "the run finished before it could be killed; make it longer"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (killed / "summary.json").exists()
    resumed = ravine("train", "--resume", killed, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming" in resumed.stdout
    straight = tmp_path / "straight"
    assert ravine("train", *args, "--out", straight, timeout=600).returncode == 0
    assert same_weights(killed, straight)
    assert json.loads((killed / "summary.json").read_text())["epochs_run"] == 60


def test_a_model_file_with_a_pickle_payload_is_refused_and_nothing_runs(trained, tmp_path):
    import pickle
    import shutil

    sentinel = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (open, (str(sentinel), "w"))

    run = tmp_path / "poisoned"
    shutil.copytree(trained, run)
    with open(run / "model.npz", "wb") as f:
        np.save(f, np.array([Payload()], dtype=object), allow_pickle=True)
    raw = run / "raw.pkl"
    raw.write_bytes(pickle.dumps(Payload()))
    assert not sentinel.exists()
    for command in (["evaluate", run], ["predict", run, raw, "--output", tmp_path / "p.csv"]):
        result = ravine(*command)
        assert result.returncode == 2
        assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
        assert "model.npz" in result.stderr
    assert not sentinel.exists()
    assert not (tmp_path / "p.csv").exists()


@pytest.fixture()
def bad_files(tmp_path):
    header = ["a", "b", "label"]
    return {
        "text": write_csv(tmp_path / "text.csv", [[1, 2, 0], [3, "abc", 1], [5, 6, 0]], header),
        "nan": write_csv(tmp_path / "nan.csv", [[1, 2, 0], [3, 4, 1], [5, "nan", 0]], header),
        "ragged": write_csv(tmp_path / "ragged.csv", [[1, 2, 0], [3, 4], [5, 6, 0]], header),
        "plain": write_csv(tmp_path / "plain.csv", [[1, 2, 0], [3, 4, 1], [5, 6, 0], [7, 8, 1]], header),
        "folder": tmp_path,
    }


@pytest.mark.parametrize("case, args, message", [
    ("missing", ["train", "--data", "{tmp}/nope.csv"], "nope.csv: no such file"),
    ("text", ["train", "--data", "{text}"], 'text.csv, line 3, column 2 ("b"): expected a number, got \'abc\''),
    ("nan", ["train", "--data", "{nan}"], 'nan.csv, line 4, column 2 ("b")'),
    ("ragged", ["train", "--data", "{ragged}"], "ragged.csv, line 3 has 2 fields, expected 3"),
    ("label", ["train", "--data", "{plain}", "--label-column", "species"], "label column 'species' not found"),
    ("option", ["train", "--optimizer", "lbfgs"], "--optimizer: invalid choice: 'lbfgs'"),
    ("number", ["train", "--lr", "fast"], "--lr: expected a finite number > 0; got 'fast'"),
    ("schedule", ["train", "--schedule", "cosine:stps=10"], "--schedule: bad schedule spec"),
    ("not-a-run", ["evaluate", "{folder}"], "is not a ravine run folder"),
    ("resume", ["train", "--resume", "{folder}"], "is not a ravine run folder"),
    ("no-run", ["runs", "{tmp}/nowhere"], "nowhere: no such folder"),
])
def test_bad_input_is_one_error_line_exit_2_and_nothing_written(bad_files, tmp_path, case, args, message):
    out = tmp_path / "should-not-exist"
    args = [a.format(tmp=tmp_path, **bad_files) for a in args]
    if args[0] == "train" and "--resume" not in args:
        args += ["--out", str(out)]
    result = ravine(*args)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert message in lines[0]
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_help_documents_every_option_with_its_default():
    result = ravine("train", "--help")
    assert result.returncode == 0
    from ravine.cli.config import TrainConfig

    text = " ".join(result.stdout.split())
    for key in TrainConfig.keys():
        assert f"--{key.replace('_', '-')}" in text, key
    assert text.count("(default:") >= len(TrainConfig.keys())


def test_diagnose_prints_the_verdict_of_the_final_point(trained):
    result = ravine("diagnose", trained, "--rows", "60")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "point:" in out and "gradient norm" in out and "lowest eigenvalues" in out
    assert any(v in out for v in ("minimum", "saddle", "plateau", "not critical", "maximum"))


@pytest.mark.parametrize("kind", ["line", "surface"])
def test_landscape_writes_a_png(trained, tmp_path, kind):
    import matplotlib.image

    out = tmp_path / f"{kind}.png"
    result = ravine("landscape", trained, "--kind", kind, "--rows", "60", "--steps", "9", "--output", out)
    assert result.returncode == 0, result.stderr
    image = matplotlib.image.imread(out)
    assert image.ndim == 3 and image.shape[0] > 100 and len(np.unique(image.reshape(-1, image.shape[2]), axis=0)) > 20


def test_train_with_newtons_method_on_a_full_batch(tmp_path):
    out = tmp_path / "newton"
    result = ravine("train", "--data", "iris", "--hidden", "", "--optimizer", "newton", "--batch-size", "1000",
                    "--epochs", "6", "--l2", "0.001", "--out", out)
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["train_error"] < 0.05          # softmax regression on iris, a few Newton steps


def test_regression_on_a_user_csv(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    target = 2 * X[:, 0] - X[:, 1]
    data = write_csv(tmp_path / "reg.csv", [[f"{v:.5f}" for v in (*x, t)] for x, t in zip(X, target)],
                     header=["a", "b", "c", "target"])
    refused = ravine("train", "--data", data, "--epochs", "1", "--out", tmp_path / "no")
    assert refused.returncode == 2 and "--task regression" in refused.stderr
    out = tmp_path / "reg"
    result = ravine("train", "--data", data, "--task", "regression", "--hidden", "16", "--epochs", "40",
                    "--out", out)
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["test_loss"] < 0.1 * np.var(target)      # far better than predicting the mean
    assert "test_error" not in summary
    pred = tmp_path / "pred.csv"
    assert ravine("predict", out, data, "--output", pred).returncode == 0
    predicted = np.array([float(line) for line in pred.read_text().splitlines()[1:]])
    assert np.corrcoef(predicted, target)[0, 1] > 0.95
