"""``ravine search``: registered, reads search folders, refuses bad input with ``error:`` and exit 2."""

from ravine.cli import main
from ravine.select.search import run_search
from helpers.search_spaces import TWO_TRIAL_GRID as SPACE


def test_status_table_best(tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text(SPACE)
    run_search(spec, tmp_path / "out", jobs=1, out=lambda *a: None)
    assert main(["search", "status", str(tmp_path / "out")]) == 0
    assert "2 trials: 2 finished" in capsys.readouterr().out
    assert main(["search", "table", str(tmp_path / "out")]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:4] == ["rank", "trial", "status", "lr"] and len(table) == 3
    assert main(["search", "best", str(tmp_path / "out")]) == 0
    assert "config.toml" in capsys.readouterr().out


def test_bad_input(tmp_path, capsys):
    assert main(["search", str(tmp_path / "missing.toml")]) == 2
    assert "no such search file" in capsys.readouterr().err
    assert main(["search", "table", str(tmp_path / "nowhere")]) == 2
    assert "not a search folder" in capsys.readouterr().err
    spec = tmp_path / "s.toml"
    spec.write_text(SPACE)
    assert main(["search", str(spec), "--dask", "tcp://x:1", "--dask-local", "2"]) == 2
    assert "not both" in capsys.readouterr().err


ROUNDS = """
[search]
kind = "random"
trials = 2
seed = 3
epochs = 1
refine_rounds = 1
refine_top = 1
rerun_top = 1
rerun_seeds = 2
[base]
data = "digits"
hidden = [8]
[space]
lr = { loguniform = [0.01, 0.3] }
"""


def test_table_shows_rounds_and_reruns_sorted_by_the_metric(tmp_path, capsys):
    spec = tmp_path / "r.toml"
    spec.write_text(ROUNDS)
    result = run_search(spec, tmp_path / "out", jobs=1, out=lambda *a: None)
    assert main(["search", "table", str(tmp_path / "out")]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = lines[0].split()
    assert header[:5] == ["rank", "trial", "status", "round", "lr"]
    assert header[-2:] == ["rerun_val_error", "reruns"]
    body = [line.split() for line in lines[1:]]
    assert len(body) == 4 and sorted(int(cells[3]) for cells in body) == [0, 0, 1, 1]
    errors = [float(cells[header.index("val_error")]) for cells in body]
    assert errors == sorted(errors)  # sorted by the validation metric
    rerun = [cells for cells in body if "±" in cells]
    assert len(rerun) == 1 and int(rerun[0][1]) in result.reruns and rerun[0][-1] == "2"


def test_table_without_rounds_or_reruns_has_neither_column(tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text(SPACE)
    run_search(spec, tmp_path / "out", jobs=1, out=lambda *a: None)
    assert main(["search", "table", str(tmp_path / "out")]) == 0
    header = capsys.readouterr().out.splitlines()[0].split()
    assert "round" not in header and "reruns" not in header


def test_progress_option(tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text(SPACE)
    assert main(["search", str(spec), "--out", str(tmp_path / "a"), "--jobs", "1", "--progress", "none"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("budget:") and not any(line.startswith("trial ") for line in printed)
    assert main(["search", str(spec), "--out", str(tmp_path / "b"), "--jobs", "1", "--progress", "lines"]) == 0
    assert sum(line.startswith("trial ") for line in capsys.readouterr().out.splitlines()) == 2
