"""The live table of a running search: its rows and caption rendered on a forced terminal, the
choice between live and lines, and a real search run with the live view."""

import io

import pytest
from rich.console import Console

from ravine.select import live
from ravine.select.live import LiveTable, live_table, resolve_progress
from ravine.select.search import run_search
from helpers.search_spaces import TWO_TRIAL_GRID as SPACE


def console():
    return Console(file=io.StringIO(), force_terminal=True, width=120, color_system=None)


def render(table) -> str:
    c = console()
    c.print(table)
    return c.file.getvalue()


def row(index, status, epochs=0, value=None, round=0, lr=0.1):
    return {"index": index, "status": status, "epochs": epochs, "round": round, "params": {"lr": lr, "act": "relu"},
            "metrics": {} if value is None else {"val_error": value}}


ROWS = [row(0, "finished", 3, 0.25, lr=0.01), row(1, "running", 1, 0.5, lr=0.02), row(2, "pruned", 1, 0.6),
        row(3, "failed"), row(4, "queued", round=1, lr=0.3), row(5, "finished", 3, 0.125, round=1, lr=0.05)]


def lines_of(text):
    return [line for line in text.splitlines() if line.strip()]


def cells(text, index):
    """The cells of trial ``index``'s row in the rendered table."""
    for line in text.splitlines():
        parts = [p.strip() for p in line.replace("│", "|").replace("┃", "|").split("|")]
        parts = [p for p in parts if p]
        if parts and parts[0] == str(index):
            return parts
    raise AssertionError(f"no row for trial {index} in\n{text}")


def test_rows_and_caption():
    text = render(live_table(ROWS, ["act", "lr"], "val_error", total=8))
    header = next(line for line in text.splitlines() if "trial" in line and "status" in line)
    for column in ("trial", "round", "status", "epochs", "val_error", "act", "lr"):
        assert column in header
    assert cells(text, 0) == ["0", "0", "finished", "3", "0.2500", "relu", "0.01"]
    assert cells(text, 1) == ["1", "0", "running", "1", "0.5000", "relu", "0.02"]
    assert cells(text, 2)[:5] == ["2", "0", "pruned", "1", "0.6000"]
    assert cells(text, 3)[:4] == ["3", "0", "failed", "0"]
    assert cells(text, 4)[:4] == ["4", "1", "queued", "0"]
    assert cells(text, 5) == ["5", "1", "finished", "3", "0.1250", "relu", "0.05"]
    assert "search: 4/8 trials done" in text
    assert "1 queued, 1 running, 2 finished, 1 pruned, 1 failed, 2 to come" in text
    assert "best so far: trial 5 lr=0.05 act=relu: val_error 0.1250" in text


def test_no_finished_trial_and_reruns_in_the_caption():
    reruns = [{"index": 0, "rep": 0, "status": "finished"}, {"index": 0, "rep": 1, "status": "running"}]
    text = render(live_table([row(0, "running", 1)], ["lr"], "val_error", reruns=reruns))
    assert "best so far: none finished yet" in text
    assert "re-runs 1/2 done" in text


def test_many_trials_show_the_running_and_best_first():
    rows = [row(i, "finished", 2, 0.5 + i / 100) for i in range(20)] + [row(20, "running", 1)]
    text = render(live_table(rows, ["lr"], "val_error", max_rows=5))
    shown = [int(line.replace("│", " ").split()[0]) for line in text.splitlines()
             if line.startswith("│") and line.replace("│", " ").split()[0].isdigit()]
    assert shown == [0, 1, 2, 3, 20]
    assert "showing 5 of 21 trials" in text


def test_live_table_updates_and_prints_above():
    c = console()
    view = LiveTable(["lr"], "val_error", total=2, console=c, transient=False)
    with view:
        view.update([row(0, "running", 0), row(1, "queued")])
        view.print("rung 0 (1 epochs): 1 of 2 trials continue: [0]")
        view.update([row(0, "finished", 2, 0.2), row(1, "pruned", 1, 0.4)])
    text = c.file.getvalue()
    assert "rung 0 (1 epochs): 1 of 2 trials continue: [0]" in text
    final = text[text.rindex("search:"):]
    assert "search: 2/2 trials done" in final
    assert cells(final, 0)[:5] == ["0", "0", "finished", "2", "0.2000"]
    assert cells(final, 1)[2] == "pruned"


def test_resolve_progress(monkeypatch):
    monkeypatch.setattr(live, "_isatty", lambda: True)
    assert resolve_progress("auto") == "live"
    assert resolve_progress("auto", out=lambda *a: None) == "lines"  # captured output: lines
    monkeypatch.setattr(live, "_isatty", lambda: False)
    assert resolve_progress("auto") == "lines"
    assert resolve_progress("live") == "live" and resolve_progress("lines") == "lines"
    assert resolve_progress(False) is False and resolve_progress(None) is False
    with pytest.raises(ValueError, match="progress must be"):
        resolve_progress("bar")


def test_a_search_with_the_live_view(tmp_path, monkeypatch):
    c = console()

    class Forced(LiveTable):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **{**kwargs, "console": c, "transient": False})

    monkeypatch.setattr(live, "LiveTable", Forced)
    spec = tmp_path / "s.toml"
    spec.write_text(SPACE)
    lines = []
    result = run_search(spec, tmp_path / "out", jobs=1, out=lines.append, progress="live")
    assert result.counts["finished"] == 2
    text = c.file.getvalue()
    final = text[text.rindex("search:"):]
    assert "search: 2/2 trials done" in final
    assert cells(final, 0)[:4] == ["0", "0", "finished", "2"] and cells(final, 1)[:4] == ["1", "0", "finished", "2"]
    assert f"best so far: trial {result.best['index']}" in final
    assert not any(line.startswith("trial ") for line in lines)  # no per-result lines under the live view
    assert lines[0].startswith("budget:") and any(line.startswith("best: trial") for line in lines)


def test_lines_and_none(tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text(SPACE)
    lines = []
    run_search(spec, tmp_path / "a", jobs=1, out=lines.append)  # auto with a captured out: lines
    assert sum(line.startswith("trial ") for line in lines) == 2
    lines = []
    run_search(spec, tmp_path / "b", jobs=1, out=lines.append, progress=False)
    assert not any(line.startswith("trial ") for line in lines) and lines[0].startswith("budget:")
