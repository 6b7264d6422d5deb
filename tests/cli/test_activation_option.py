"""``--activation``: the command offers every activation of the registry, trains with it, saves it,
loads it back, and checks its gradients."""

import json
import subprocess
import sys

import numpy as np
import pytest

from ravine.autodiff.activations import ACTIVATIONS
from ravine.runs.model_file import load_model


def ravine(*args, cwd=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "ravine.cli", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, cwd=cwd)


@pytest.mark.parametrize("name", ["softplus", "elu"])
def test_train_with_a_new_activation_saves_a_model_that_loads(name, tmp_path):
    out = tmp_path / "run"
    result = ravine("train", "--data", "iris", "--hidden", "6", "--activation", name, "--epochs", "3",
                    "--lr", "0.1", "--out", out)
    assert result.returncode == 0, result.stderr
    assert f" {name}, " in result.stdout  # "model 4-6-3 softplus, ... parameters"
    assert json.loads((out / "model.json").read_text())["architecture"]["activation"] == name
    loaded = load_model(out)
    assert loaded.model.activation == name
    assert [type(m).__name__ for m in loaded.model] == ["Linear", ACTIVATIONS[name].class_name, "Linear"]
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(loaded.model.dtype)
    assert np.all(np.isfinite(loaded.model(x).data))
    evaluated = ravine("evaluate", out)
    assert evaluated.returncode == 0, evaluated.stderr


@pytest.mark.parametrize("name", ["softplus", "elu"])
def test_gradcheck_passes_with_a_new_activation(name):
    result = ravine("gradcheck", "--activation", name, "--hidden", "5,4", "--l2", "0.01")
    assert result.returncode == 0, result.stderr
    assert "gradient check passed" in result.stdout


@pytest.mark.parametrize("command", ["train", "gradcheck"])
def test_the_choices_are_the_registrys(command):
    result = ravine(command, "--activation", "swish")
    assert result.returncode == 2
    message = result.stderr.strip().splitlines()[-1]
    assert "invalid choice: 'swish'" in message
    for name in ACTIVATIONS:
        assert repr(name) in message or f" {name}" in message, (name, message)
