"""Search hyper-parameters: ``ravine search SPACE.toml`` runs (or resumes) a search; ``ravine search
status|table|best FOLDER`` reads one.

The search file has tables [search] (kind, trials, seed, epochs, metric, pruning, ...), [base] (fixed
``ravine train`` options) and [space] (the searched ones); see ravine/select/INTERFACES.md. Trials
run in --jobs local processes (default: the core count), or on a Dask cluster (--dask ADDRESS, or
--dask-local N worker processes started here). Running the same search again resumes it; a changed
search in the same folder is refused unless --force. The folder (--out, default
searches/<file name>) holds trials.sqlite, table.csv, PNGs and best/config.toml, which
``ravine train --config`` runs as is.
"""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "search hyper-parameters (grid, random, Sobol; halving), locally or on Dask; resumable"
FORMATTER = argparse.RawDescriptionHelpFormatter
READERS = ("status", "table", "best")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("target", nargs="+", metavar="SPACE.toml | {status,table,best} FOLDER",
                   help="a search file to run, or status/table/best and a search folder to read")
    p.add_argument("--out", metavar="FOLDER", help="the search folder (default: searches/<file name>)")
    p.add_argument("--jobs", type=int, metavar="N", help="local worker processes (default: the core count)")
    p.add_argument("--dask", metavar="ADDRESS", help="run the trials on the Dask scheduler at ADDRESS")
    p.add_argument("--dask-local", type=int, metavar="N", help="start a Dask LocalCluster of N worker processes")
    p.add_argument("--force", action="store_true", help="start a changed search over in its folder")
    p.add_argument("--progress", choices=("auto", "live", "lines", "none"), default="auto",
                   help="a live table (rich), one line per result, or none (default auto: the live "
                        "table when stdout is a terminal, lines otherwise)")


def run(args) -> int:
    target = args.target
    if target[0] in READERS:
        if len(target) != 2:
            raise ValueError(f"ravine search {target[0]} takes one search folder; got {len(target) - 1}")
        return read(target[0], Path(target[1]))
    if len(target) != 1:
        raise ValueError(f"ravine search takes one search file (or status|table|best FOLDER); got {' '.join(target)}")
    path = Path(target[0])
    if not path.is_file():
        raise ValueError(f"{path}: no such search file")
    from ..select.search import run_search

    progress = getattr(args, "progress", "auto")
    run_search(path, args.out, jobs=args.jobs, dask=args.dask, dask_local=args.dask_local, force=args.force,
               progress=False if progress == "none" else progress)
    return 0


def read(what: str, folder: Path) -> int:
    from ..select.report import rerun_summary, table_rows, table_text
    from ..select.search import read_search

    store = read_search(folder)
    try:
        search = store.search()
        settings = search["settings"]
        metric = settings.get("metric", "val_error")
        rows = store.rows()
        if what == "status":
            counts = store.counts()
            print(f"search {folder}: {counts['total']} trials: " + ", ".join(
                f"{counts[k]} {k}" for k in ("finished", "running", "queued", "pruned", "failed")))
            print(f"executions {store.executions()}; test set "
                  + ("not evaluated yet" if store.test() is None else f"evaluated once (trial {store.test()['index']})"))
        elif what == "table":
            names = sorted(settings.get("space", {}).get("dimensions", {}))
            rounds = bool(settings.get("refine_rounds")) or any(r.get("round", 0) for r in rows)
            reruns = None
            if settings.get("rerun_top") or store.reruns():
                reruns = rerun_summary(store.reruns(), metric)
            print(table_text(table_rows(rows, names, metric, rounds=rounds, reruns=reruns)))
        else:
            best_file = folder / "best" / "config.toml"
            test = store.test()
            if test is None or not best_file.is_file():
                raise ValueError(f"{folder}: the search has not finished (no best configuration yet)")
            row = store.row(test["index"])
            print(f"best: trial {row['index']} {row['params']}: {metric} {row['metrics'].get(metric)}")
            print("test set: " + ", ".join(f"{k} {v:.4f}" for k, v in test["metrics"].items()))
            print(f"configuration: {best_file}")
    finally:
        store.close()
    return 0
