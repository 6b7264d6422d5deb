"""Model selection (issue 10): parallel random search and successive halving against a full grid, on digits.

1. **Parallel speed-up.** A random search (16 trials, a small net, a few epochs, a fixed search seed)
   run with ``jobs=1`` and with ``jobs=2``, each into a fresh folder: the wall time of each, their
   ratio (target ≤ 0.6), and whether both wrote the same ``table.csv`` (they must: a trial is a pure
   function of the search seed, the space and its index).
2. **Successive halving.** A grid of lr × momentum × batch size, E epochs a trial, run without
   pruning and with ``pruning = "halving"`` (eta 3, min_epochs 1, up to E epochs): the trial-epochs
   each spent (Σ of the store's ``epochs`` column: a promoted trial continues, so its count is its
   total), the best validation error of each, and the fraction of the grid's epochs halving spent
   (target ≤ 1/3, counted only if halving's best validation error is at most the grid's; otherwise
   both figures are reported as they are).

Not a test: nothing is asserted, on time or otherwise. The table is printed; everything (times,
epochs, per-trial figures, load average at start and end, machine and versions) is written to
``benchmarks/results/search.json`` (atomically). Run: ``.venv/bin/python benchmarks/bench_search.py``
(``--quick`` for a smoke run; ``--output PATH``; ``--keep DIR`` keeps the search folders there).
"""

from __future__ import annotations

import argparse
import filecmp
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from machine import machine_info, write_json_atomic  # noqa: E402

from ravine.select.search import run_search  # noqa: E402
from ravine.select.store import STORE_NAME, TrialStore  # noqa: E402

SEARCH_SEED = 0
RATIO_TARGET = 0.6
FRACTION_TARGET = 1 / 3


def loadavg() -> list[float] | None:
    try:
        with open("/proc/loadavg") as f:
            return [float(x) for x in f.read().split()[:3]]
    except OSError:
        return None


def random_toml(trials: int, epochs: int) -> str:
    return f"""[search]
kind = "random"
trials = {trials}
seed = {SEARCH_SEED}
epochs = {epochs}
metric = "val_error"
pruning = "none"

[base]
data = "digits"
hidden = [64]

[space]
lr = {{ loguniform = [1e-3, 0.3] }}
momentum = {{ uniform = [0.5, 0.99] }}
batch_size = [16, 32, 64]
"""


def grid_toml(lrs, momenta, batch_sizes, epochs: int, pruning: str) -> str:
    halving = "eta = 3\nmin_epochs = 1\n" if pruning == "halving" else ""
    return f"""[search]
kind = "grid"
seed = {SEARCH_SEED}
epochs = {epochs}
metric = "val_error"
pruning = "{pruning}"
{halving}
[base]
data = "digits"
hidden = [32]

[space]
lr = {list(lrs)}
momentum = {list(momenta)}
batch_size = {list(batch_sizes)}
"""


def timed_search(spec: Path, folder: Path, jobs: int) -> tuple[float, object, list[str]]:
    log: list[str] = []
    started = time.perf_counter()
    result = run_search(spec, folder, jobs=jobs, out=log.append)
    return time.perf_counter() - started, result, log


def store_rows(folder: Path) -> list[dict]:
    store = TrialStore.open_existing(folder / STORE_NAME)
    try:
        return store.rows()
    finally:
        store.close()


def trial_epochs(rows: list[dict]) -> int:
    return sum(int(r["epochs"]) for r in rows)


def best_of(rows: list[dict], metric: str = "val_error") -> tuple[float, int]:
    """The least validation error among the trials that reached the end (finished), and its trial."""
    done = [(float(r["metrics"][metric]), r["index"]) for r in rows
            if r["status"] == "finished" and r["metrics"].get(metric) is not None]
    return min(done) if done else (float("nan"), -1)


def parallel_part(work: Path, trials: int, epochs: int, rounds: int) -> dict:
    spec = work / "random.toml"
    spec.write_text(random_toml(trials, epochs))
    warm = work / "warm-up.toml"  # untimed: the first search of a process pays imports and data loading
    warm.write_text(random_toml(2, 1))
    run_search(warm, work / "warm-up", jobs=2, out=lambda line: None)
    runs = {1: [], 2: []}
    tables = []
    for r in range(rounds):
        for jobs in ((1, 2) if r % 2 == 0 else (2, 1)):  # alternate the order, round by round
            folder = work / f"random-jobs{jobs}-round{r}"
            seconds, result, log = timed_search(spec, folder, jobs)
            rows = store_rows(folder)
            runs[jobs].append({"seconds": seconds, "round": r, "budget": log[0] if log else "",
                               "counts": result.counts, "best_trial": result.best["index"],
                               "best_val_error": result.best["metrics"].get("val_error"),
                               "trial_seconds": sum(float(r_["duration"] or 0) for r_ in rows),
                               "workers": sorted({str(r_["worker"]) for r_ in rows})})
            tables.append(folder / "table.csv")
            print(f"  random search, round {r}, jobs={jobs}: {seconds:.2f} s ({runs[jobs][-1]['budget']})",
                  flush=True)
    same = all(filecmp.cmp(tables[0], t, shallow=False) for t in tables[1:])
    ratios = [b["seconds"] / a["seconds"] for a, b in zip(runs[1], runs[2])]  # same-round ratios
    ratio = statistics.median(ratios)
    summary = {jobs: {"seconds": statistics.median(x["seconds"] for x in runs[jobs]),
                      "trial_seconds": statistics.median(x["trial_seconds"] for x in runs[jobs]),
                      "best_val_error": runs[jobs][0]["best_val_error"], "best_trial": runs[jobs][0]["best_trial"],
                      "runs": runs[jobs]} for jobs in runs}
    return {"trials": trials, "epochs": epochs, "search_seed": SEARCH_SEED, "rounds": rounds,
            "jobs1": summary[1], "jobs2": summary[2], "ratios": ratios, "ratio": ratio,
            "target": RATIO_TARGET, "met": ratio <= RATIO_TARGET, "same_table": same}


def halving_part(work: Path, lrs, momenta, batch_sizes, epochs: int) -> dict:
    runs = {}
    for pruning in ("none", "halving"):
        spec = work / f"grid-{pruning}.toml"
        spec.write_text(grid_toml(lrs, momenta, batch_sizes, epochs, pruning))
        folder = work / f"grid-{pruning}"
        shutil.rmtree(folder, ignore_errors=True)
        seconds, result, log = timed_search(spec, folder, 2)
        rows = store_rows(folder)
        best, index = best_of(rows)
        runs[pruning] = {"seconds": seconds, "budget": log[0] if log else "",
                         "rungs": [line for line in log if line.startswith("rung ")],
                         "trial_epochs": trial_epochs(rows), "best_val_error": best, "best_trial": index,
                         "selected_trial": result.best["index"], "counts": result.counts,
                         "trials": [{"index": r["index"], "params": r["params"], "status": r["status"],
                                     "epochs": r["epochs"], "val_error": r["metrics"].get("val_error"),
                                     "curve": [c.get("val_error") for c in r["curve"]]} for r in rows]}
        print(f"  grid, pruning={pruning}: {seconds:.2f} s ({runs[pruning]['budget']})", flush=True)
    grid, halving = runs["none"], runs["halving"]
    fraction = halving["trial_epochs"] / grid["trial_epochs"]
    reached = halving["best_val_error"] <= grid["best_val_error"]
    # a promoted trial continues from its saved state: its final figures should be the grid's own
    grid_by_index = {t["index"]: t for t in grid["trials"]}
    finalists = [t for t in halving["trials"] if t["status"] == "finished"]
    continuation_matches = all(grid_by_index[t["index"]]["curve"] == t["curve"] for t in finalists)
    return {"grid": {"lr": list(lrs), "momentum": list(momenta), "batch_size": list(batch_sizes)},
            "configurations": len(grid["trials"]), "epochs": epochs, "eta": 3, "min_epochs": 1,
            "none": grid, "halving": halving, "epoch_fraction": fraction, "target": FRACTION_TARGET,
            "reached_grid_best": reached, "met": reached and fraction <= FRACTION_TARGET,
            "grid_best_among_finalists": grid["best_trial"] in {t["index"] for t in finalists},
            "finalists_match_grid_curves": continuation_matches}


def report(par: dict, halv: dict) -> str:
    mark = lambda ok: "✓" if ok else "✗"  # noqa: E731
    j1, j2, g, h = par["jobs1"], par["jobs2"], halv["none"], halv["halving"]
    lines = [
        f"parallel random search: {par['trials']} trials × {par['epochs']} epochs, digits, hidden [64], seed {SEARCH_SEED}",
        f"  {'run (median of ' + str(par['rounds']) + ')':<22}{'wall s':>9}{'Σ trial s':>11}  best val_error (trial)",
        f"  {'jobs=1':<22}{j1['seconds']:>9.2f}{j1['trial_seconds']:>11.2f}  {j1['best_val_error']:.4f} ({j1['best_trial']})",
        f"  {'jobs=2':<22}{j2['seconds']:>9.2f}{j2['trial_seconds']:>11.2f}  {j2['best_val_error']:.4f} ({j2['best_trial']})",
        f"  jobs=2 / jobs=1 (median same-round ratio; rounds {', '.join(f'{x:.3f}' for x in par['ratios'])}): "
        f"{par['ratio']:.3f} (target ≤ {RATIO_TARGET}) {mark(par['met'])}; "
        f"same table.csv: {'yes' if par['same_table'] else 'NO'}",
        "",
        f"grid vs successive halving: {halv['configurations']} configurations (lr {halv['grid']['lr']} × momentum "
        f"{halv['grid']['momentum']} × batch {halv['grid']['batch_size']}), up to {halv['epochs']} epochs, hidden [32], jobs=2",
        f"  {'run':<22}{'wall s':>9}{'trial-epochs':>14}  best val_error (trial)",
        f"  {'grid (no pruning)':<22}{g['seconds']:>9.2f}{g['trial_epochs']:>14}  {g['best_val_error']:.4f} ({g['best_trial']})",
        f"  {'halving (eta 3)':<22}{h['seconds']:>9.2f}{h['trial_epochs']:>14}  {h['best_val_error']:.4f} ({h['best_trial']})",
    ]
    for rung in h["rungs"]:
        lines.append(f"    {rung}")
    if halv["reached_grid_best"]:
        lines.append(f"  halving reached the grid's best val_error ({g['best_val_error']:.4f}) with "
                     f"{halv['epoch_fraction']:.3f} of its epochs (target ≤ 1/3) {mark(halv['met'])}")
    else:
        lines.append(f"  halving did NOT reach the grid's best val_error: {h['best_val_error']:.4f} vs the grid's "
                     f"{g['best_val_error']:.4f} (trial {g['best_trial']}, pruned: "
                     f"{'no' if halv['grid_best_among_finalists'] else 'yes'}), with {halv['epoch_fraction']:.3f} "
                     f"of the grid's epochs ✗")
    lines.append(f"  finalists' curves equal the grid's for the same trials (continued, not retrained): "
                 f"{'yes' if halv['finalists_match_grid_curves'] else 'NO'}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: fewer trials and epochs")
    parser.add_argument("--output", type=Path, default=HERE / "results" / "search.json")
    parser.add_argument("--rounds", type=int, default=None, help="timed pairs jobs=1/jobs=2 (default 3, quick 1)")
    parser.add_argument("--keep", type=Path, default=None, help="keep the search folders under this folder")
    args = parser.parse_args(argv)

    if args.quick:
        trials, epochs = 4, 2
        lrs, momenta, batch_sizes, grid_epochs = [0.01, 0.1], [0.5, 0.9], [32], 3
    else:
        trials, epochs = 16, 40
        lrs, momenta, batch_sizes, grid_epochs = [0.003, 0.03, 0.3], [0.5, 0.9, 0.97], [16, 32, 64], 9

    load_start = loadavg()
    print(f"load average at start: {load_start}; cpus: {os.cpu_count()}", flush=True)
    started = time.perf_counter()
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix="bench-search-", dir=args.keep))
    else:
        tmp = tempfile.TemporaryDirectory(prefix="bench-search-")
        work = Path(tmp.name)
    par = parallel_part(work, trials, epochs, args.rounds or (1 if args.quick else 3))
    halv = halving_part(work, lrs, momenta, batch_sizes, grid_epochs)
    load_end = loadavg()
    text = report(par, halv)
    print()
    print(text)
    print(f"\nload average at start {load_start}, at end {load_end}; total {time.perf_counter() - started:.1f} s")
    payload = {"benchmark": "search", "quick": args.quick, "machine": machine_info(),
               "loadavg_start": load_start, "loadavg_end": load_end, "parallel": par, "halving": halv,
               "table": text, "search_folders": str(work) if args.keep is not None else None}
    write_json_atomic(args.output, payload)
    print(f"written: {args.output}")
    if args.keep is None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
