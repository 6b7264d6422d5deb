"""List the run folders under a folder (default: runs/) with their key figures."""

from __future__ import annotations

from pathlib import Path

from ..runs import list_runs

HELP = "a table of run folders and their key figures"


def add_arguments(p) -> None:
    p.add_argument("root", nargs="?", default="runs", metavar="FOLDER", help="where the runs are")


def _cell(value, kind: str) -> str:
    if value is None:
        return "-"
    if kind == "pct":
        return f"{value:.2%}"
    if kind == "sec":
        return f"{value:.1f}s"
    return str(value)


def run(args) -> int:
    root = Path(args.root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such folder")
    rows = list_runs(root)
    if not rows:
        print(f"no runs in {root}")
        return 0
    columns = [("folder", "run", ""), ("data", "data", ""), ("status", "status", ""), ("epochs", "epochs", ""),
               ("best_epoch", "best", ""), ("valid_error", "valid err", "pct"),
               ("test_error", "test err", "pct"), ("seconds", "time", "sec")]
    table = [[_cell(row.get(key), kind) for key, _, kind in columns] for row in rows]
    widths = [max(len(title), *(len(r[i]) for r in table)) for i, (_, title, _) in enumerate(columns)]
    print("  ".join(title.ljust(w) for (_, title, _), w in zip(columns, widths)))
    for r in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths)))
    return 0
