"""The ravine command, run for real in subprocesses."""

import subprocess
import sys

import pytest


def ravine(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "ravine.cli", *args], capture_output=True, text=True,
                          timeout=timeout)


def test_train_defaults_reach_95_percent_on_digits(tmp_path):
    result = subprocess.run([sys.executable, "-m", "ravine.cli", "train"], capture_output=True, text=True,
                            timeout=300, cwd=tmp_path)  # the default run folder goes under ./runs
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    epoch_lines = [line for line in lines if line.startswith("epoch")]
    assert len(epoch_lines) == 30
    final = next(line for line in lines if line.startswith("final"))
    assert "train error" in final and "valid error" in final and "test error" in final
    accuracy = float(next(line for line in lines if line.startswith("test accuracy")).split()[-1])
    assert accuracy >= 0.95
    folders = list((tmp_path / "runs").iterdir())
    assert len(folders) == 1 and folders[0].name.endswith("-digits")


def test_gradcheck_command_passes_on_a_correct_model():
    result = ravine("gradcheck", "--activation", "sigmoid", "--l2", "0.01", "--hidden", "5,4")
    assert result.returncode == 0, result.stderr
    assert "gradient check passed" in result.stdout
    assert "0.weight" in result.stdout and "4.bias" in result.stdout


@pytest.mark.parametrize("args, message", [
    (["train", "--lr", "-1"], "--lr: expected a finite number > 0; got '-1'"),
    (["train", "--hidden", "10,x"], "--hidden: expected comma-separated positive integers"),
    (["train", "--activation", "swish"], "--activation: invalid choice: 'swish'"),
    (["train", "--data", "no/such/file.csv"], "no/such/file.csv"),
    (["train", "--data", "mnist"], "mnist"),
    (["train", "--init", "orthogonal", "--epochs", "1"], "--init must be one of glorot_uniform"),
    (["gradcheck", "--eps", "0"], "--eps: expected a finite number > 0"),
])
def test_bad_input_is_one_error_line_and_exit_2(args, message):
    result = ravine(*args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert message in lines[0]
