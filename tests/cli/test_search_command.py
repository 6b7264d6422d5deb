"""``ravine search``: registered, reads search folders, refuses bad input with ``error:`` and exit 2."""

from ravine.cli import main
from ravine.select.search import run_search

SPACE = """
[search]
kind = "grid"
seed = 0
epochs = 2
[base]
data = "digits"
hidden = [8]
[space]
lr = [0.05, 0.1]
"""


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
