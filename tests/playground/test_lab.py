"""One playground session on ravine's engine: training, in-flight changes, reset, points, views,
the race and "save as run"."""

from __future__ import annotations

import base64
import os
import subprocess
import sys

import numpy as np
import pytest

from ravine.playground.lab import Lab
from ravine.playground.protocol import ProtocolError

SPIRALS = {"data": {"dataset": "spirals", "classes": 3, "points": 150},
           "network": {"hidden": [16, 16]}, "training": {"lr": 0.02, "batch_size": 10}}


def weights(lab):
    return [p.data.copy() for p in lab.model.parameters()]


def decode(text, shape):
    return np.frombuffer(base64.b64decode(text), dtype="<f4").reshape(shape)


def test_a_session_learns_spirals_with_three_classes():
    lab = Lab(SPIRALS)
    first = lab.frame()
    lab.run(1500)
    last = lab.frame()
    assert lab.state()["step_kind"] == "compiled"
    assert last["step"] == 1500 and last["epoch"] >= 1
    assert last["train_loss"] < 0.7 * first["train_loss"]
    probs = decode(last["regions"]["probabilities"], (64, 64, 3))
    assert np.allclose(probs.sum(axis=2), 1, atol=1e-4)
    assert not np.allclose(probs, decode(first["regions"]["probabilities"], (64, 64, 3)))
    assert len(last["units"]) == 2 and len(last["units"][0]["units"]) == 16
    assert [w["shape"] for w in last["weights"]] == [[16, 2], [16, 16], [3, 16]]
    assert len(last["grad_norms"]) == 3 and last["curvature"]["bound"] == pytest.approx(100.0)
    assert last["history"][0]["step"] == 1500


def test_step_advances_by_one_and_lr_changes_in_flight():
    lab = Lab(SPIRALS)
    lab.run(1)
    assert lab.step == 1
    lab.run(30)
    before = weights(lab)
    lab.set({"lr": 0.5, "beta1": 0.8})
    assert lab.step == 31 and all(np.array_equal(a, b) for a, b in zip(before, weights(lab)))
    assert lab.lr() == 0.5
    assert lab.trainer.optimizer.param_groups[0]["betas"] == (0.8, 0.999)
    lab.run(1)
    assert lab.step == 32
    step = [a - b for a, b in zip(weights(lab), before)]
    assert max(np.abs(s).max() for s in step) > 0.1  # Adam's step is about lr: the new lr took effect
    lab.set({"optimizer": "momentum", "l2": 0.001, "batch_size": 20, "clip_norm": 1.0, "schedule": "cosine:steps=100"})
    lab.run(5)
    assert lab.step == 37 and lab.trainer.batch_size == 20


def test_reset_restores_the_same_initial_weights():
    lab = Lab(SPIRALS)
    initial = weights(lab)
    lab.run(50)
    lab.reset()
    assert lab.step == 0 and all(np.array_equal(a, b) for a, b in zip(initial, weights(lab)))
    lab.run(50)
    again = weights(lab)
    lab.reset()
    lab.run(50)
    assert all(np.array_equal(a, b) for a, b in zip(again, weights(lab)))  # same run, bit for bit
    lab.reset(new_seed=True)
    assert lab.config["training"]["seed"] == 1
    assert not np.array_equal(initial[0], weights(lab)[0])


def test_points_add_remove_clear_and_csv():
    lab = Lab(SPIRALS)
    n = len(lab.points)
    lab.add_point([5.5, 5.5], 2, "train")
    assert len(lab.points) == n + 1 and lab.points_message()["train"][-1] == [5.5, 5.5, 2]
    with pytest.raises(ProtocolError) as info:
        lab.add_point([0, 0], 3)
    assert info.value.field == "label"
    lab.remove_point([5.4, 5.4])
    assert len(lab.points) == n
    lab.run(5)
    lab.clear()
    assert len(lab.points) == 0 and lab.run(10) == 0
    lab.add_point([1, 1], 0)
    lab.add_point([-1, -1], 1)
    assert lab.run(3) == 3
    with pytest.raises(ProtocolError, match="line 3, column 2"):
        lab.load_csv("x1,x2,label\n0,0,1\n1,abc,0\n")
    lab.load_csv("x1,x2,label\n" + "".join(f"{i % 5},{i % 3},{i % 3}\n" for i in range(30)))
    assert len(lab.points) == 30 and lab.config["data"]["dataset"] == "custom"


def test_regression_and_features():
    lab = Lab({"data": {"dataset": "regression", "function": "sine", "points": 200},
               "features": ["x1", "x2", "sin(x1)"], "network": {"hidden": [8]}})
    first = lab.frame()
    lab.run(600)
    last = lab.frame()
    assert last["train_error"] is None and last["train_loss"] < first["train_loss"]
    assert decode(last["regions"]["values"], (64, 64)).shape == (64, 64)


def test_eigen_gives_a_verdict_and_landscape_has_its_shape():
    lab = Lab({**SPIRALS, "network": {"hidden": [4], "batchnorm": True, "dropout": 0.1}})
    lab.run(200)
    before = weights(lab)
    eigen = lab.eigen()
    assert eigen["verdict"] in ("minimum", "saddle", "plateau", "maximum", "not critical")
    assert len(eigen["lowest"]) >= 1 and eigen["gradient_norm"] >= 0
    surface = lab.landscape_view("filter", 7, 1.0)
    assert len(surface["alphas"]) == 7 and np.array(surface["losses"]).shape == (7, 7)
    assert all(np.array_equal(a, b) for a, b in zip(before, weights(lab)))  # nothing moved
    for _ in range(4):
        lab.run(20)
        lab.frame()
    plane = lab.landscape_view("trajectory", 9, 1.0)
    assert np.array(plane["losses"]).shape == (9, 9) and len(plane["path"]) >= 3
    frame = lab.frame()
    assert "path" in frame


def test_newton_on_a_small_net_and_its_limit():
    lab = Lab({**SPIRALS, "network": {"hidden": [4]}, "training": {"optimizer": "newton"}})
    assert lab.state()["step_kind"] == "closure"
    lab.run(3)
    assert lab.step == 3
    with pytest.raises(ProtocolError):
        Lab({**SPIRALS, "network": {"hidden": [16, 16, 16]}, "training": {"optimizer": "newton"}})


def test_warp_maps_the_grid_through_two_units():
    lab = Lab(SPIRALS)
    warp = lab.warp_view(1, [2, 5])
    assert len(warp["lines"]) == 26 and len(warp["lines"][0][0]) == 2
    assert len(warp["points"]) == len(lab.points)
    assert "warp" in lab.frame()
    with pytest.raises(ProtocolError):
        lab.warp_view(2, [0, 1])


def test_race_lanes_start_from_the_same_weights_and_differ():
    lab = Lab(SPIRALS)
    lab.start_race([{"optimizer": "sgd", "lr": 0.1}, {"optimizer": "adam", "lr": 0.01}])
    lanes = lab.race.lanes
    for a, b in zip(lanes[0].model.parameters(), lanes[1].model.parameters()):
        assert np.array_equal(a.data, b.data)
    lab.run(200)
    race = lab.frame()["race"]
    assert [lane["step"] for lane in race] == [200, 200]
    assert race[0]["train_loss"] != race[1]["train_loss"]
    assert race[0]["regions"]["probabilities"] != race[1]["regions"]["probabilities"]
    assert lab.step == 0  # the lab's own network waits while the race runs
    lab.start_race([])
    assert lab.race is None


def test_save_run_is_a_run_that_ravine_evaluates(tmp_path):
    lab = Lab({**SPIRALS, "features": ["x1", "x2", "x1*x2"]})
    lab.run(300)
    path = lab_save(lab, tmp_path)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-m", "ravine.cli", "evaluate", str(path)], capture_output=True,
                          text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "train" in done.stdout and "valid" in done.stdout
    train_line = next(line for line in done.stdout.splitlines() if line.startswith("train"))
    assert float(train_line.split()[2]) == pytest.approx(lab.frame()["train_loss"], rel=1e-4)
    out = tmp_path / "pred.csv"
    done = subprocess.run([sys.executable, "-m", "ravine.cli", "predict", str(path), str(path / "data.csv"),
                           "--output", str(out)], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert out.read_text().splitlines()[0].startswith("prediction")


def lab_save(lab, root):
    from ravine.playground.save import save_run

    path = save_run(lab, root, "spirals-run")
    with pytest.raises(ProtocolError):
        save_run(lab, root, "spirals-run")  # never over an existing run
    return path
