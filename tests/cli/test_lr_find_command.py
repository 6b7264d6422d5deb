"""``ravine lr-find``: the suggestion it prints trains with ``ravine train``; its plot decodes; bad
input is one ``error:`` line and exit status 2. Run in-process through ``ravine.cli.main`` with the
command registered by the test (so it passes before and after ``lr-find`` is in COMMANDS)."""

import math
import re

import pytest

import ravine.cli as cli
from ravine.cli import lr_find_command

SMALL = ["--hidden", "16", "--batch-size", "32"]


@pytest.fixture(autouse=True)
def registered(monkeypatch):
    monkeypatch.setitem(cli.COMMANDS, "lr-find", lr_find_command)


def test_suggestion_trains_and_plot_decodes(tmp_path, capsys):
    from PIL import Image

    plot = tmp_path / "lr.png"
    assert cli.main(["lr-find", *SMALL, "--steps", "50", "--start-lr", "1e-5", "--plot", str(plot)]) == 0
    out = capsys.readouterr().out
    found = re.search(r"suggested learning rate (\S+)", out)
    assert found, out
    suggestion = float(found.group(1))
    assert math.isfinite(suggestion) and 1e-5 <= suggestion <= 10
    assert "2gᵀg/gᵀHg" in out and f"plot written to {plot}" in out
    with Image.open(plot) as image:
        assert image.format == "PNG"
        image.verify()

    run = tmp_path / "run"
    assert cli.main(["train", *SMALL, "--lr", f"{suggestion:g}", "--epochs", "4", "--out", str(run)]) == 0
    out = capsys.readouterr().out
    final = re.search(r"final  train error \S+ \(loss (\S+)\)", out)
    assert final, out
    loss = float(final.group(1))
    assert math.isfinite(loss) and loss < 0.25 * math.log(10)    # from ≈ ln 10 at the start
    assert "diverged" not in out


@pytest.mark.parametrize("args,needle", [
    (["--start-lr", "1", "--end-lr", "0.1"], "--end-lr must be > --start-lr"),
    (["--steps", "2"], "--steps"),
    (["--start-lr", "-1"], "--start-lr"),
    (["--plot", "lr.jpg"], ".png"),
    (["--data", "no-such-file.csv"], "no-such-file.csv"),
    (["--optimizer", "newton"], "Newton"),
])
def test_bad_input(tmp_path, capsys, monkeypatch, args, needle):
    monkeypatch.chdir(tmp_path)
    try:
        status = cli.main(["lr-find", *SMALL, "--steps", "10", *args])
    except SystemExit as stop:              # argparse's own refusals
        status = stop.code
    assert status == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and needle in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []
